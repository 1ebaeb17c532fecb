"""Calls through Odoo's RPC entry points (``/jsonrpc``, ``/xmlrpc/2/<service>``): their endpoint names, and
when a call is the caller's own mistake.

Both entry points call one function, ``dispatch_rpc(service, method, params)``, for three services:
``common`` (``login``, ``authenticate``, ``version``...), ``db`` (the database manager) and ``object``
(``execute_kw(db, uid, password, model, method, args, kwargs)``, which authenticates the caller itself).

Names (see ``core.endpoints``): an ``object`` call whose caller authenticated is named by model and method,
``/jsonrpc/object/res.partner/read``; every other call by its route, ``/jsonrpc`` or
``/xmlrpc/2/<service>``. So a caller without valid credentials reaches one name per entry point.

A call that does not fit its service is the caller's mistake, whatever it raises (:func:`mistake`): an
unknown service or function, arguments of the wrong number or type, or a database other than the one that
serves the request.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

from .endpoints import Known, model_method

SERVICES = ("common", "db", "object")
OBJECT_METHODS = ("execute", "execute_kw")
#: route template -> the entry prefix of the endpoint name
ENTRIES = {"/jsonrpc": "/jsonrpc", "/xmlrpc/2/<service>": "/xmlrpc/2", "/xmlrpc/<service>": "/xmlrpc"}
#: ``common`` functions whose first argument names a database; their next two are a login and a password
_COMMON_WITH_DATABASE = ("login", "authenticate")


def endpoint(route: str, service: object, method: object, params: object, authenticated: bool,
             is_known: Known) -> str:
    """The endpoint name of one call through ``route`` (a key of :data:`ENTRIES`).

    ``authenticated`` tells whether an ``object`` call's credentials were accepted.

    >>> endpoint("/xmlrpc/2/<service>", "object", "execute_kw", ("db", 2, "pw", "res.partner", "read"), True,
    ...          lambda model, method: True)
    '/xmlrpc/2/object/res.partner/read'
    >>> endpoint("/xmlrpc/2/<service>", "object", "execute_kw", ("db", 2, "wrong", "res.partner", "read"), False,
    ...          lambda model, method: True)
    '/xmlrpc/2/<service>'
    """
    if service == "object" and authenticated and isinstance(params, (list, tuple)) and len(params) >= 5:
        model_name, method_name = model_method(params[3], params[4], is_known)
        return f"{ENTRIES[route]}/object/{model_name}/{method_name}"
    return route


def mistake(service: object, method: object, params: object, request_db: str | None,
            function: Callable | None) -> str:
    """Why this call is the caller's own mistake before it runs, or ``""`` when it fits its service.

    ``function`` is what the ``common`` or ``db`` service would call for ``method`` (``exp_<method>``), None
    when it has none; ``request_db`` the database that serves the request.

    >>> mistake("object", "execute_kw", ["prod", 2, "pw", "res.partner", "read", [[1]]], "prod", None)
    ''
    >>> mistake("object", "execute_kw", ["other", 2, "pw", "res.partner", "read", [[1]]], "prod", None)
    'the call names another database than the one serving it'
    """
    if service not in SERVICES:
        return "no such service"
    if not isinstance(params, (list, tuple)):
        return "the params are not a list"
    if service == "object":
        return _object_mistake(method, params, request_db)
    if function is None:
        return "no such function in the service"
    try:
        inspect.signature(function).bind(*params)
    except TypeError:
        return "the function does not take these arguments"
    if service == "common" and method in _COMMON_WITH_DATABASE:
        if not all(isinstance(value, str) for value in params[:3]):
            return "the database, login and password must be strings"
        if params[0] != request_db:
            return "the call names another database than the one serving it"
    return ""


def _object_mistake(method: object, params: list | tuple, request_db: str | None) -> str:
    if method not in OBJECT_METHODS:
        return "no such function in the service"
    if len(params) < 5 or (method == "execute_kw" and len(params) > 7):
        return "the function does not take these arguments"
    db, uid, password, model, name = params[:5]
    if not (isinstance(uid, int) or (isinstance(uid, str) and uid.isdigit())) or isinstance(uid, bool):
        return "the user id must be a number"
    if not all(isinstance(value, str) for value in (db, password, model, name)):
        return "the database, password, model and method must be strings"
    if db != request_db:
        return "the call names another database than the one serving it"
    if method == "execute_kw":
        if len(params) > 5 and not isinstance(params[5], (list, tuple)):
            return "execute_kw takes its arguments as a list"
        if len(params) > 6 and params[6] is not None and not isinstance(params[6], dict):
            return "execute_kw takes its keyword arguments as a dictionary"
    return ""
