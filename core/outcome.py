"""Classify a served request as success, client error or server error.

Odoo answers JSON-RPC and XML-RPC failures with HTTP 200 and an error object, so the HTTP status alone
misses most API failures. The outcome is therefore decided from the exception raised while serving the
request, when there is one, and from the status code otherwise.

A caller's own mistake is never a server error, whoever sends it: an exception raised while Odoo was still
reading and checking the request (its body, its route's checks, its authentication) is the caller's, unless
it says the server itself is failing (the database, the connection pool, memory). So an anonymous caller
cannot page anyone by sending garbage.
"""

from __future__ import annotations

from collections.abc import Iterable

SUCCESS = "success"
CLIENT_ERROR = "client_error"
SERVER_ERROR = "server_error"
#: the response header that carries the outcome to the gateway's access log (Nginx strips it from the answer)
OUTCOME_HEADER = "X-Api-Monitor-Outcome"
OUTCOMES = (SUCCESS, CLIENT_ERROR, SERVER_ERROR)

#: How far a request got when it failed: Odoo was reading and checking it (body, route, authentication);
#: the caller was authenticated (or the route needs none); the controller (or the RPC call) was running.
READING = 0
AUTHENTICATED = 1
DISPATCHED = 2

#: Exceptions that mean "the caller asked for something wrong", named by module and class so that this
#: module needs no Odoo import. A subclass of any of them is a client error too.
CLIENT_ERROR_EXCEPTIONS = frozenset(
    {
        "odoo.exceptions.UserError",
        "odoo.exceptions.AccessError",
        "odoo.exceptions.AccessDenied",
        "odoo.exceptions.ValidationError",
        "odoo.exceptions.MissingError",
        "odoo.exceptions.RedirectWarning",
        "odoo.http.SessionExpiredException",
    }
)

#: Exceptions that say the server itself is failing, at whatever stage they are raised.
SERVER_FAILURE_EXCEPTIONS = frozenset({"psycopg2.Error", "odoo.sql_db.PoolError", "builtins.MemoryError"})


def qualified_names(exc_type: type) -> tuple[str, ...]:
    """Return ``module.Class`` for every class in the exception's method resolution order."""
    return tuple(f"{cls.__module__}.{cls.__qualname__}" for cls in exc_type.__mro__)


def classify(
    status: int,
    exception_names: Iterable[str] = (),
    exception_status: int | None = None,
    stage: int = DISPATCHED,
    caller_mistake: bool = False,
) -> str:
    """Decide the outcome of one request.

    ``status`` is the HTTP status sent to the client. ``exception_names`` are the qualified class names
    (see :func:`qualified_names`) of the exception raised while serving it, if any, and
    ``exception_status`` the status that exception carries (werkzeug's ``NotFound`` carries 404).
    ``stage`` says how far the request got (:data:`READING`, :data:`AUTHENTICATED`, :data:`DISPATCHED`);
    ``caller_mistake`` that the request did not fit what it called (``core.rpc``), whatever it raised.

    >>> classify(200, ("builtins.KeyError", "builtins.LookupError", "builtins.Exception"))
    'server_error'
    >>> classify(200, ("odoo.exceptions.MissingError", "odoo.exceptions.UserError"))
    'client_error'
    >>> classify(200, ("builtins.KeyError",), stage=READING)
    'client_error'
    """
    if not exception_names and status < 400:
        return SUCCESS  # most requests: decided without building anything
    names = frozenset(exception_names)
    if names:
        if caller_mistake:
            return CLIENT_ERROR
        if SERVER_FAILURE_EXCEPTIONS & names:
            return SERVER_ERROR
        if exception_status is not None:
            return SERVER_ERROR if exception_status >= 500 else CLIENT_ERROR
        if CLIENT_ERROR_EXCEPTIONS & names or stage == READING:
            return CLIENT_ERROR
        return SERVER_ERROR
    if status >= 500:
        return SERVER_ERROR
    return CLIENT_ERROR
