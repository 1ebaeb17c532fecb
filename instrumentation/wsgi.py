"""The WSGI entry: every request gets a request id, a context, and is counted once it is answered.

``odoo.http.Application.__call__`` is wrapped once per process. The wrapper measures the duration, reads
the status actually sent, adds ``X-Request-ID`` to every response (errors included) and hands the request
to the recorder when the registry of a database with the addon served it (``instrumentation.routing``).
"""

from __future__ import annotations

from time import perf_counter

import odoo.http
from werkzeug.http import HTTP_STATUS_CODES

from ..core.request_id import HEADER, WSGI_KEY, resolve
from .context import RequestContext, set_current
from .runtime import RUNTIME

_MARK = "_api_monitor_original"
#: werkzeug's status lines ("404 NOT FOUND") -> their code, so that the common ones are not parsed
_STATUS_CODES = {f"{code} {reason.upper()}": code for code, reason in HTTP_STATUS_CODES.items()}
_HEADER_KEY = HEADER.lower()
#: Odoo's own ``Application.__call__``, set by :func:`install`
_original = None


def _status_code(status: str) -> int:
    try:
        return int(status[:3])
    except ValueError:
        return 500


def _instrumented_call(self, environ, start_response):
    started = perf_counter()
    rid = resolve(environ.get(WSGI_KEY))
    ctx = RequestContext(rid)
    set_current(ctx)  # replaces the previous request's; this one stays until the next (see context.current)

    def start(status, headers, exc_info=None):
        ctx.status = _STATUS_CODES.get(status) or _status_code(status)
        for name, _ in headers:
            if len(name) == 12 and name.lower() == _HEADER_KEY:  # a controller set its own: ours wins
                headers = [(k, v) for k, v in headers if k.lower() != _HEADER_KEY]
                break
        headers.append((HEADER, rid))
        return start_response(status, headers, exc_info)

    try:
        return _original(self, environ, start)
    finally:
        if ctx.monitored and not ctx.late:
            RUNTIME.observe(ctx, environ.get("REQUEST_METHOD", "GET"), ctx.status, perf_counter() - started)


def install() -> None:
    global _original
    app = odoo.http.Application
    if getattr(app, _MARK, None) is None:
        setattr(app, _MARK, app.__call__)
        app.__call__ = _instrumented_call
    _original = getattr(app, _MARK)
