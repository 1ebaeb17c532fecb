"""Endpoint names: one bounded label per route, never a raw URL, never a name a caller made up.

Notation (used by the addon's metrics, its rules and the gateway's mtail program alike):

* an HTTP route is named by its route template, e.g. ``/web/image/<string:model>/<int:id>``;
* a model method called by an authenticated user through an RPC entry point is named by the entry point
  followed by ``/<model>/<method>``, e.g. ``/web/dataset/call_kw/res.partner/read``,
  ``/jsonrpc/object/res.partner/read`` and ``/xmlrpc/2/object/res.partner/read``. The web client already
  puts ``<model>/<method>`` in the call_kw URL, so a gateway that only sees URLs derives the same name;
* every other call through an RPC entry point (the ``common`` and ``db`` services, calls whose credentials
  were refused) is named by its route alone (``/jsonrpc``, ``/xmlrpc/2/<service>``): nobody can mint names
  by sending model and method names without logging in;
* a model or method that does not exist, or a private method (``_name``), is named ``<unknown>``;
* Odoo 19's JSON-2 API, ``/json/2/<model>/<method>``, is named so when the bearer key was accepted, and
  ``/json/2`` otherwise;
* a path that matches no route is ``unmatched``; a newcomer beyond the cap on distinct names is ``other``.

The HTTP method label is ``GET``, ``POST`` or ``OTHER``: a caller chooses the method, so it cannot be a label
as sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

UNMATCHED = "unmatched"
OTHER = "other"
UNKNOWN = "<unknown>"
DEFAULT_CAP = 2000
#: Names admitted by requests without an authenticated user, at most (part of the cap, see ``storage``).
DEFAULT_ANONYMOUS_CAP = 20

#: The HTTP method label: Odoo's routes and APIs use GET and POST; any other method is ``OTHER``.
HTTP_METHODS = frozenset({"GET", "POST"})

#: Route templates whose calls are named by the model and method they call: the name's prefix, and the
#: request params that hold the model and the method.
MODEL_METHOD_ROUTES = {
    "/web/dataset/call_kw": ("/web/dataset/call_kw", "model", "method"),
    "/web/dataset/call_kw/<path:path>": ("/web/dataset/call_kw", "model", "method"),
    "/web/dataset/call_button": ("/web/dataset/call_button", "model", "method"),
    "/web/dataset/call_button/<path:path>": ("/web/dataset/call_button", "model", "method"),
    # Odoo 19's JSON-2 API, POST /json/2/<model>/<method> with a bearer API key
    "/json/2/<__model__>/<__method__>": ("/json/2", "__model__", "__method__"),
}

#: Odoo's websocket, longpolling and asset bundles: high volume and not API traffic.
DEFAULT_EXCLUSIONS = ("/web/assets/", "/websocket", "/longpolling/", "/bus/")

_MODEL = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")
#: public method names only: a leading underscore is a private method, which RPC refuses anyway
_METHOD = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,127}")

#: ``is_known(model, method)`` answers whether the model exists and has that method; ``model`` is None
#: for the ``common`` and ``db`` services, where ``method`` is the service's function.
Known = Callable[[str | None, str], bool]


def http_method(method: str) -> str:
    """The method label: ``GET`` or ``POST`` as sent, anything else ``OTHER`` (the request line is the
    caller's to write)."""
    return method if method in HTTP_METHODS else "OTHER"


def model_method(model: object, method: object, is_known: Known) -> tuple[str, str]:
    """``(model, method)`` as they may appear in a name: each one that is not a public, existing name is
    ``<unknown>``."""
    if not isinstance(model, str) or not _MODEL.fullmatch(model):
        return UNKNOWN, UNKNOWN
    if not isinstance(method, str) or not _METHOD.fullmatch(method):
        return model if is_known(model, "") else UNKNOWN, UNKNOWN
    if is_known(model, method):
        return model, method
    return (model, UNKNOWN) if is_known(model, "") else (UNKNOWN, UNKNOWN)


def route_prefix(route: str) -> str:
    """What a request matching ``route`` is named before (or without) its model and method: the prefix of a
    :data:`MODEL_METHOD_ROUTES` route, any other route as it is."""
    return MODEL_METHOD_ROUTES[route][0] if route in MODEL_METHOD_ROUTES else route


def model_method_endpoint(route: str, params: dict, is_known: Known) -> str:
    """``/web/dataset/call_kw/<model>/<method>`` or ``/json/2/<model>/<method>``: the name of a call an
    authenticated user made through one of :data:`MODEL_METHOD_ROUTES`, from its request params."""
    prefix, model_param, method_param = MODEL_METHOD_ROUTES[route]
    model_name, method_name = model_method(params.get(model_param), params.get(method_param), is_known)
    return f"{prefix}/{model_name}/{method_name}"


def call_kw_endpoint(route: str, model: object, method: object, is_known: Known) -> str:
    """``/web/dataset/call_kw/<model>/<method>`` from the route template and the JSON-RPC params of a call
    made by an authenticated user (the route requires one)."""
    return model_method_endpoint(route, {"model": model, "method": method}, is_known)


class EndpointCap:
    """Admit at most ``limit`` distinct endpoint names; later newcomers are folded into ``other``.

    ``unmatched`` and ``other`` are always admitted and do not count toward the limit. This is one
    process's first line; the database holds the cluster-wide cap (``storage.store.admit_endpoints``).
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
