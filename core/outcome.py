"""Classify a served request as success, client error or server error.

Odoo answers JSON-RPC and XML-RPC failures with HTTP 200 and an error object, so the HTTP status alone
misses most API failures. The outcome is therefore decided from the exception raised while serving the
request, when there is one, and from the status code otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable

SUCCESS = "success"
CLIENT_ERROR = "client_error"
SERVER_ERROR = "server_error"
OUTCOMES = (SUCCESS, CLIENT_ERROR, SERVER_ERROR)

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

#: Exceptions raised while Odoo reads the request, before the controller runs: the caller sent a body that
#: does not parse. Raised later, inside the controller, the same exception is a server error.
REQUEST_PARSING_EXCEPTIONS = frozenset({"json.decoder.JSONDecodeError"})


def qualified_names(exc_type: type) -> tuple[str, ...]:
    """Return ``module.Class`` for every class in the exception's method resolution order."""
    return tuple(f"{cls.__module__}.{cls.__qualname__}" for cls in exc_type.__mro__)


def classify(
    status: int,
    exception_names: Iterable[str] = (),
    exception_status: int | None = None,
    dispatched: bool = True,
) -> str:
    """Decide the outcome of one request.

    ``status`` is the HTTP status sent to the client. ``exception_names`` are the qualified class names
    (see :func:`qualified_names`) of the exception raised while serving it, if any, and
    ``exception_status`` the ``code`` of that exception when it is an HTTP exception (werkzeug's
    ``NotFound`` carries 404). ``dispatched`` tells whether the controller had been called when the
    exception was raised.

    >>> classify(200, ("builtins.KeyError", "builtins.LookupError", "builtins.Exception"))
    'server_error'
    >>> classify(200, ("odoo.exceptions.MissingError", "odoo.exceptions.UserError"))
    'client_error'
    """
    if not exception_names and status < 400:
        return SUCCESS  # most requests: decided without building anything
    names = tuple(exception_names)
    if names:
        if exception_status is not None:
            return SERVER_ERROR if exception_status >= 500 else CLIENT_ERROR
        if CLIENT_ERROR_EXCEPTIONS.intersection(names):
            return CLIENT_ERROR
        if not dispatched and REQUEST_PARSING_EXCEPTIONS.intersection(names):
            return CLIENT_ERROR
        return SERVER_ERROR
    if status >= 500:
        return SERVER_ERROR
    if status >= 400:
        return CLIENT_ERROR
    return SUCCESS
