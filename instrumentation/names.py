"""Name a call_kw or call_button request by the model and method it called.

The route (``/web/dataset/call_kw/<path:path>``) says nothing reliable: the model and method are in the
JSON-RPC params. The routing hook keeps Odoo's request on the context of such a request only
(``instrumentation.routing``), and the request is named when it is counted, once the dispatcher has read
its params, whether it succeeded or failed.
"""

from __future__ import annotations

from functools import partial

from ..core.endpoints import NameCache, call_kw_endpoint

#: the attribute of a registry that holds its :class:`NameCache`
_NAMES = "_api_monitor_call_kw_names"


def model_method_known(registry, model: str, method: str) -> bool:
    """Whether ``registry`` has ``model`` and, when ``method`` is given, a public callable of that name."""
    if registry is None or model not in registry:
        return False
    return not method or (not method.startswith("__") and callable(getattr(registry[model], method, None)))


def name_call_kw(ctx, request) -> None:
    """Refine a call_kw/call_button endpoint with the model and method of its JSON-RPC params.

    Called once, for a request the routing hook kept (its route is one of ``CALL_KW_ROUTES``). ``request``
    is Odoo's request object itself (not the ``odoo.http.request`` proxy). Names are remembered per
    registry: a registry is replaced whenever modules change, and its models and methods with it.
    """
    registry = getattr(request, "registry", None)
    params = getattr(request, "params", None)  # set by the dispatcher; not when it failed before
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
