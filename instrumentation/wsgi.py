"""The WSGI entry: every request gets a request id, a context, and is counted once it is answered.

``odoo.http.Application.__call__`` is wrapped once per process. The wrapper measures the duration, reads
the status actually sent, adds ``X-Request-ID`` to every response (errors included) and hands the request
to the recorder when the ``ir.http`` of a database with the addon served it.
"""

from __future__ import annotations

from time import perf_counter

import odoo.http

from ..core.request_id import HEADER, WSGI_KEY, resolve
from . import logs
from .context import RequestContext, set_current
from .runtime import RUNTIME

_MARK = "_api_monitor_original"


def _instrumented_call(self, environ, start_response):
    started = perf_counter()
    rid = resolve(environ.get(WSGI_KEY))
    ctx = RequestContext(rid)
    set_current(ctx)
    logs.set_request_id(rid)  # stays for the log lines written after the response (werkzeug's access line)

    def start(status, headers, exc_info=None):
        try:
            ctx.status = int(status[:3])
        except ValueError:
            ctx.status = 500
        for name, _ in headers:
            if len(name) == 12 and name.lower() == "x-request-id":  # a controller set its own: ours wins
                headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
                break
        headers.append((HEADER, rid))
        return start_response(status, headers, exc_info)

    try:
        return getattr(type(self), _MARK)(self, environ, start)
    finally:
        set_current(None)
        if ctx.monitored and not ctx.late:
            RUNTIME.observe(ctx, environ.get("REQUEST_METHOD", "GET"), ctx.status, perf_counter() - started)


def install() -> None:
    app = odoo.http.Application
    if getattr(app, _MARK, None) is None:
        setattr(app, _MARK, app.__call__)
        app.__call__ = _instrumented_call
