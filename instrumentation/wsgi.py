"""The WSGI entry: every request gets a request id, a context, and is counted once it is answered.

``odoo.http.Application.__call__`` is wrapped once per process. The wrapper measures the duration, reads
the status actually sent, adds ``X-Request-ID`` to every response (errors included) and hands the request
to the recorder when the registry of a database with the addon served it (``instrumentation.routing``).
"""

from __future__ import annotations

from time import perf_counter

import odoo.http
from werkzeug.http import HTTP_STATUS_CODES

from ..core.context import RequestContext, set_current
from ..core.request_id import HEADER, IDS, WSGI_KEY, valid_match
from . import patching
from .runtime import RUNTIME

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


class _WsgiContext(RequestContext):
    """The context of a request that entered through the wrapper: its :meth:`start_response` is the one
    Odoo answers through (a bound method costs less to make than a closure)."""

    __slots__ = ("server_start_response",)

    def start_response(self, status, headers, exc_info=None):
        self.status = _STATUS_CODES.get(status) or _status_code(status)
        for name, _ in headers:
            if len(name) == 12 and name.lower() == _HEADER_KEY:  # a controller set its own: ours wins
                headers = [(k, v) for k, v in headers if k.lower() != _HEADER_KEY]
                break
        headers.append((HEADER, self.request_id))
        return self.server_start_response(status, headers, exc_info)


def _instrumented_call(self, environ, start_response):
    started = perf_counter()
    rid = environ.get(WSGI_KEY)
    if rid is None or valid_match(rid) is None:  # request_id.resolve, written out: no call on the hot path
        rid = IDS.next()
    ctx = _WsgiContext(rid)
    ctx.server_start_response = start_response
    set_current(ctx)  # replaces the previous request's; this one stays until the next (see context.current)
    try:
        return _original(self, environ, ctx.start_response)
    finally:
        if ctx.monitored:  # never late: a late request has no wrapper context (instrumentation.routing)
            RUNTIME.observe(ctx, environ.get("REQUEST_METHOD", "GET"), ctx.status, perf_counter() - started)


def install() -> None:
    global _original
    _original = patching.wrap(odoo.http.Application, "__call__", _instrumented_call)
