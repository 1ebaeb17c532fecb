"""Which route served the request, and for which database: two wrappers around Odoo's ``Request``.

``Request._set_request_dispatcher`` receives the werkzeug rule that matched, right after the database's
registry was opened; ``Request._serve_ir_http_fallback`` runs when no rule matched. Both are wrapped once
per process: no override in the registry's ``ir.http``, so no ``super()`` chain through its classes. A
request counts only when the registry that serves it has the addon installed, so databases without the
addon are never counted.

A *late* request is a worker's first one, whose registry loads the addon while it is served: it entered
Odoo before the WSGI wrapper existed, so it is counted here once its response is known, from the
``post_dispatch`` of its own dispatcher or from the dispatcher's ``handle_error`` (``instrumentation.dispatch``).
"""

from __future__ import annotations

import threading
import time

import odoo.http

from ..core import request_id
from ..core.context import RequestContext, current, set_current
from ..core.endpoints import CALL_KW_ROUTES, UNMATCHED
from . import patching
from .runtime import RUNTIME

MODULE = "api_monitor"
#: Odoo's own methods, set by :func:`install`
_set_dispatcher = _serve_fallback = None


def _late_context(request) -> RequestContext:
    """A context for a late request (see the module's docstring)."""
    ctx = RequestContext(request_id.resolve(request.httprequest.headers.get(request_id.HEADER)), late=True)
    set_current(ctx)
    return ctx


def observe_late(request, status: int) -> None:
    """Count the late request being served, once: its context is dropped once it is counted (not before, so
    that a line logged while it is counted carries its request id)."""
    ctx = current()
    if ctx is not None and ctx.late and ctx.monitored:
        started = getattr(threading.current_thread(), "perf_t0", None) or time.time()  # set by Odoo's entry
        try:
            RUNTIME.observe(ctx, request.httprequest.method, status, time.time() - started)
        finally:
            set_current(None)


def _watch_late(request) -> None:
    """Have the dispatcher of this one request count it after its ``post_dispatch`` (an attribute of that
    dispatcher only: no other request pays for it)."""
    dispatcher = request.dispatcher
    post_dispatch = dispatcher.post_dispatch

    def counted_post_dispatch(response):
        post_dispatch(response)
        observe_late(request, response.status_code)

    dispatcher.post_dispatch = counted_post_dispatch


def _mark(request, route: str) -> RequestContext | None:
    """Note the route of a request served by a registry with the addon; returns its context when it is a
    late request seen for the first time."""
    registry = request.registry
    if registry is not None and MODULE in registry._init_modules:
        ctx = current() or _late_context(request)
        if ctx.route is None:  # the first route matched for the request
            ctx.monitored = True
            ctx.db = registry.db_name
            ctx.route = ctx.endpoint = route
            if route in CALL_KW_ROUTES:  # named by its params once they were read (instrumentation.names)
                ctx.request = request
            if ctx.late:
                return ctx
    return None


def _set_request_dispatcher(self, rule):
    late = _mark(self, rule.rule)
    result = _set_dispatcher(self, rule)  # makes the request's dispatcher
    if late is not None:
        _watch_late(self)
    return result


def _serve_ir_http_fallback(self, not_found):
    if _mark(self, UNMATCHED) is not None:
        _watch_late(self)  # the default dispatcher, made with the request
    return _serve_fallback(self, not_found)


#: the ``Request`` methods wrapped, by name
WRAPPERS = {"_set_request_dispatcher": _set_request_dispatcher, "_serve_ir_http_fallback": _serve_ir_http_fallback}


def install() -> None:
    global _set_dispatcher, _serve_fallback
    request_cls = odoo.http.Request
    _set_dispatcher = patching.wrap(request_cls, "_set_request_dispatcher", _set_request_dispatcher)
    _serve_fallback = patching.wrap(request_cls, "_serve_ir_http_fallback", _serve_ir_http_fallback)
