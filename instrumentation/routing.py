"""Which route served the request, and for which database: two wrappers around Odoo's ``Request``.

``Request._set_request_dispatcher`` receives the werkzeug rule that matched, right after the database's
registry was opened; ``Request._serve_ir_http_fallback`` runs when no rule matched. Both are wrapped once
per process: no override in the registry's ``ir.http`` and no ``super()`` chain through its classes. A
request counts only when the registry that serves it has the addon installed, so databases without the
addon are never counted.
"""

from __future__ import annotations

import odoo.http

from ..core import request_id
from ..core.endpoints import UNMATCHED
from .context import RequestContext, current, set_current

_MARK = "_api_monitor_original"
MODULE = "api_monitor"
#: Odoo's own methods, set by :func:`install`
_set_dispatcher = _serve_fallback = None


def _late_context(request) -> RequestContext:
    """A context for a request that started before the WSGI wrapper was installed: the first request of a
    worker whose registry loads the addon during that very request. It is counted when it is answered
    (``models.ir_http``)."""
    ctx = RequestContext(request_id.resolve(request.httprequest.headers.get(request_id.HEADER)), late=True)
    set_current(ctx)
    return ctx


def _mark(request, route: str) -> None:
    registry = request.registry
    if registry is not None and MODULE in registry._init_modules:
        ctx = current() or _late_context(request)
        if ctx.route is None:  # the first route matched for the request
            ctx.monitored = True
            ctx.db = registry.db_name
            ctx.route = ctx.endpoint = route


def _set_request_dispatcher(self, rule):
    _mark(self, rule.rule)
    return _set_dispatcher(self, rule)


def _serve_ir_http_fallback(self, not_found):
    _mark(self, UNMATCHED)
    return _serve_fallback(self, not_found)


#: the ``Request`` methods wrapped, by name
WRAPPERS = {"_set_request_dispatcher": _set_request_dispatcher, "_serve_ir_http_fallback": _serve_ir_http_fallback}


def install() -> None:
    global _set_dispatcher, _serve_fallback
    request_cls = odoo.http.Request
    for name, wrapper in WRAPPERS.items():
        if getattr(request_cls.__dict__[name], _MARK, None) is None:
            setattr(wrapper, _MARK, request_cls.__dict__[name])
            setattr(request_cls, name, wrapper)
    _set_dispatcher = request_cls._set_request_dispatcher._api_monitor_original
    _serve_fallback = request_cls._serve_ir_http_fallback._api_monitor_original
