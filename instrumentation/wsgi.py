"""The WSGI entry: every request gets a request id, a context, and is counted once it is answered.

A wrapper of ``odoo.http.Application.__call__``, because no extension point sees the status actually sent,
the whole duration, or a response that failed before Odoo reached its routing; and only there can the
``X-Request-ID`` header go on every response, errors included, with the request's outcome as the addon
counts it (``X-Api-Monitor-Outcome``: an RPC error answered with HTTP 200 is a ``server_error``), which the
Nginx gateway logs for mtail and strips. The request is handed to the recorder when
the registry of a database with the addon served it (``instrumentation.ir_http``).
"""

from __future__ import annotations

from time import perf_counter

import odoo.http

from ..core.context import RequestContext, set_current
from ..core.outcome import OUTCOME_HEADER, classify
from ..core.request_id import HEADER, WSGI_KEY, resolve
from ..storage.runtime import RUNTIME
from . import patching

_OWN_HEADERS = (HEADER.lower(), OUTCOME_HEADER.lower())
#: Odoo's own ``Application.__call__``, set by :func:`install`
_original = None


class _WsgiContext(RequestContext):
    """The context of a request that entered through the wrapper, with the ``start_response`` that Odoo
    answers through."""

    __slots__ = ("server_start_response",)

    def start_response(self, status, headers, exc_info=None):
        try:
            self.status = int(status[:3])
        except ValueError:
            self.status = 500
        # a controller that set its own X-Request-ID or outcome is overruled: the id on the log lines wins
        headers = [(name, value) for name, value in headers if name.lower() not in _OWN_HEADERS]
        headers.append((HEADER, self.request_id))
        if self.monitored:  # the outcome as the addon counts it, for the gateway's log (which strips it)
            headers.append((OUTCOME_HEADER, classify(self.status, self.exception_names, self.exception_status,
                                                     self.stage, bool(self.caller_mistake))))
        return self.server_start_response(status, headers, exc_info)


def _instrumented_call(self, environ, start_response):
    started = perf_counter()
    ctx = _WsgiContext(resolve(environ.get(WSGI_KEY)))
    ctx.server_start_response = start_response
    set_current(ctx)  # replaces the previous request's; this one stays until the next (see context.current)
    try:
        return _original(self, environ, ctx.start_response)
    finally:
        if ctx.monitored:
            RUNTIME.observe(ctx, environ.get("REQUEST_METHOD", "GET"), ctx.status, perf_counter() - started)


def install() -> None:
    global _original
    _original = patching.wrap(odoo.http.Application, "__call__", _instrumented_call)
