"""See every exception Odoo turns into a response, wherever it was raised.

``ir.http._handle_error`` sees exceptions raised inside the request's transaction, but some are raised
before it: a call_kw on an unknown model (``NotFound`` from the route's ``readonly`` check) or a body that
is not JSON fail while the route is prepared, and ``Application.__call__`` hands them straight to the
dispatcher. Every path ends in a dispatcher's ``handle_error``, so that is where exceptions are noted, and
where a late request that failed is counted (``instrumentation.routing``).
"""

from __future__ import annotations

from functools import partial

import odoo.http

from ..core.endpoints import CALL_KW_ROUTES, NameCache, call_kw_endpoint
from .context import current
from .routing import observe_late

_MARK = "_api_monitor_original"
#: the attribute of a registry that holds its :class:`NameCache`
_NAMES = "_api_monitor_call_kw_names"


def model_method_known(registry, model: str, method: str) -> bool:
    """Whether ``registry`` has ``model`` and, when ``method`` is given, a public callable of that name."""
    if registry is None or model not in registry:
        return False
    return not method or (not method.startswith("__") and callable(getattr(registry[model], method, None)))


def name_call_kw(ctx, request, registry) -> None:
    """Refine a call_kw/call_button endpoint with the model and method of its JSON-RPC params.

    ``request`` is Odoo's request object itself (not the ``odoo.http.request`` proxy) and ``registry`` the
    database's registry, or None when it was not opened. Names are remembered per registry: a registry is
    replaced whenever modules change, and its models and methods with it.
    """
    if ctx.route not in CALL_KW_ROUTES or ctx.endpoint != ctx.route:
        return
    params = getattr(request, "params", None)
    if not params:
        try:
            params = request.get_json_data().get("params") or {}
        except Exception:  # noqa: BLE001 - a body that is not JSON-RPC names nothing
            params = {}
    if not isinstance(params, dict):
        params = {}
    route, model, method = ctx.route, params.get("model"), params.get("method")
    if registry is None or type(model) is not str or type(method) is not str:
        ctx.endpoint = _name(registry, (route, model, method))
        return
    names = registry.__dict__.get(_NAMES)
    if names is None:
        names = registry.__dict__.setdefault(_NAMES, NameCache(partial(_name, registry)))
    ctx.endpoint = names[route, model, method]


def _name(registry, key: tuple[str, object, object]) -> str:
    route, model, method = key
    return call_kw_endpoint(route, model, method, lambda m, f: model_method_known(registry, m, f))


def _wrap(original):
    def handle_error(self, exc):
        ctx = current()
        if ctx is None or not ctx.monitored:
            return original(self, exc)
        ctx.set_exception(exc)
        name_call_kw(ctx, self.request, getattr(self.request, "registry", None))
        response = original(self, exc)
        if ctx.late:  # no WSGI wrapper sees its status (instrumentation.routing)
            observe_late(self.request, getattr(response, "code", None) or getattr(response, "status_code", 500))
        return response

    setattr(handle_error, _MARK, original)
    return handle_error


def install() -> None:
    for cls in set(odoo.http._dispatchers.values()):
        method = cls.__dict__.get("handle_error")
        if method is not None and getattr(method, _MARK, None) is None:
            cls.handle_error = _wrap(method)


