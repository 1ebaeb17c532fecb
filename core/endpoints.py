"""Endpoint names: one bounded label per route, never a raw URL.

Notation (used by the addon's metrics, its rules and the gateway's mtail program alike):

* an HTTP route is named by its route template, e.g. ``/web/image/<string:model>/<int:id>``;
* an RPC entry point is named by its route followed by ``/<model>/<method>`` for model calls, e.g.
  ``/web/dataset/call_kw/res.partner/read``, ``/jsonrpc/object/res.partner/read`` and
  ``/xmlrpc/2/object/res.partner/read``, or by ``/<service>/<method>`` for the other RPC services, e.g.
  ``/xmlrpc/2/common/authenticate``. The web client already puts ``<model>/<method>`` in the call_kw URL, so
  a gateway that only sees URLs derives the same name;
* a model or method that does not exist is named ``<unknown>``, so callers cannot mint new series;
* a path that matches no route is ``unmatched``; a newcomer beyond the cap on distinct names is ``other``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

UNMATCHED = "unmatched"
OTHER = "other"
UNKNOWN = "<unknown>"
DEFAULT_CAP = 2000

#: Route templates whose endpoint name carries the model and method from the JSON-RPC params.
CALL_KW_ROUTES = {
    "/web/dataset/call_kw": "/web/dataset/call_kw",
    "/web/dataset/call_kw/<path:path>": "/web/dataset/call_kw",
    "/web/dataset/call_button": "/web/dataset/call_button",
    "/web/dataset/call_button/<path:path>": "/web/dataset/call_button",
}

#: Odoo's websocket, longpolling and asset bundles: high volume and not API traffic.
DEFAULT_EXCLUSIONS = ("/web/assets/", "/websocket", "/longpolling/", "/bus/")

_MODEL = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")
_METHOD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_RPC_SERVICES = ("common", "db", "object")

#: ``is_known(model, method)`` answers whether the model exists and has that method; ``model`` is None
#: for the ``common`` and ``db`` services, where ``method`` is the service's function.
Known = Callable[[str | None, str], bool]


def _model_method(model: object, method: object, is_known: Known) -> tuple[str, str]:
    if not isinstance(model, str) or not _MODEL.fullmatch(model):
        return UNKNOWN, UNKNOWN
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        return model if is_known(model, "") else UNKNOWN, UNKNOWN
    if is_known(model, method):
        return model, method
    return (model, UNKNOWN) if is_known(model, "") else (UNKNOWN, UNKNOWN)


def call_kw_endpoint(route: str, model: object, method: object, is_known: Known) -> str:
    """``/web/dataset/call_kw/<model>/<method>`` from the route template and the JSON-RPC params."""
    model_name, method_name = _model_method(model, method, is_known)
    return f"{CALL_KW_ROUTES[route]}/{model_name}/{method_name}"


class NameCache(dict):
    """Endpoint names already worked out, by what they were worked out from, up to ``limit`` of them.

    Naming a call_kw means two pattern matches and a look into the registry; the same model and method come
    back on almost every request, so the name is remembered, and found again by a plain dictionary lookup.
    ``name(key)`` works a name out for a key it does not hold. A name with ``<unknown>`` in it is not
    remembered: the model may exist a moment later (a custom model added from the user interface extends
    the registry in place), and callers inventing names must not grow the cache. Beyond the limit names are
    worked out afresh each time.

    >>> cache = NameCache(lambda key: "/" + "/".join(key), limit=1)
    >>> cache["a", "b"], cache["c", "d"], len(cache)
    ('/a/b', '/c/d', 1)
    """

    def __init__(self, name: Callable[[tuple], str], limit: int = 4096) -> None:
        super().__init__()
        self.name = name
        self.limit = limit

    def __missing__(self, key: tuple) -> str:
        name = self.name(key)
        if len(self) < self.limit and UNKNOWN not in name:
            self[key] = name
        return name


def rpc_endpoint(entry: str, service: object, method: object, params: object, is_known: Known) -> str:
    """Name an ``/jsonrpc`` or ``/xmlrpc[/2]`` call from its service, method and positional params.

    ``entry`` is the route without the service (``/jsonrpc``, ``/xmlrpc/2`` or ``/xmlrpc``). Model calls
    (``execute``, ``execute_kw``) carry ``(db, uid, password, model, method, ...)``.
    """
    if service not in _RPC_SERVICES:
        return f"{entry}/{UNKNOWN}"
    if service == "object":
        args = params if isinstance(params, (list, tuple)) else ()
        if method in ("execute", "execute_kw") and len(args) >= 5:
            model_name, method_name = _model_method(args[3], args[4], is_known)
            return f"{entry}/object/{model_name}/{method_name}"
        return f"{entry}/object/{UNKNOWN}"
    known = isinstance(method, str) and _METHOD.fullmatch(method) and is_known(None, f"{service}.{method}")
    return f"{entry}/{service}/{method if known else UNKNOWN}"


class EndpointCap:
    """Admit at most ``limit`` distinct endpoint names; later newcomers are folded into ``other``.

    ``unmatched`` and ``other`` are always admitted and do not count toward the limit.
    """

    def __init__(self, limit: int = DEFAULT_CAP, known: Iterable[str] = ()) -> None:
        self.limit = limit
        self.known: set[str] = set()
        for name in known:
            self.admit(name)

    def admit(self, name: str) -> str:
        """Return ``name`` if it is, or may become, a known endpoint, else ``other``."""
        if name in self.known or name in (UNMATCHED, OTHER):
            return name
        if len(self.known) < self.limit:
            self.known.add(name)
            return name
        return OTHER
