import pytest

from core.outcome import (
    AUTHENTICATED,
    CLIENT_ERROR,
    DISPATCHED,
    READING,
    SERVER_ERROR,
    SUCCESS,
    classify,
    qualified_names,
)


class UserError(Exception):
    pass


UserError.__module__ = "odoo.exceptions"


class ValidationError(UserError):
    pass


ValidationError.__module__ = "odoo.exceptions"


class CustomerSpecificError(ValidationError):
    """A subclass defined by some other addon is still a client error."""


KEY_ERROR = ("builtins.KeyError", "builtins.LookupError", "builtins.Exception")
DB_DOWN = ("psycopg2.OperationalError", "psycopg2.DatabaseError", "psycopg2.Error", "builtins.Exception")
POOL_FULL = ("odoo.sql_db.PoolError", "builtins.Exception")


@pytest.mark.parametrize(
    ("status", "names", "exception_status", "stage", "mistake", "expected"),
    [
        (200, (), None, DISPATCHED, False, SUCCESS),
        (302, (), None, DISPATCHED, False, SUCCESS),
        (404, (), None, DISPATCHED, False, CLIENT_ERROR),
        (400, (), None, READING, False, CLIENT_ERROR),
        (499, (), None, DISPATCHED, False, CLIENT_ERROR),
        (500, (), None, DISPATCHED, False, SERVER_ERROR),
        (502, (), None, READING, False, SERVER_ERROR),
        # JSON-RPC answers every error with HTTP 200: the exception decides
        (200, KEY_ERROR, None, DISPATCHED, False, SERVER_ERROR),
        (200, ("builtins.AttributeError",), None, DISPATCHED, False, SERVER_ERROR),
        (200, ("odoo.exceptions.UserError",), None, DISPATCHED, False, CLIENT_ERROR),
        (200, ("odoo.exceptions.AccessError", "odoo.exceptions.UserError"), None, DISPATCHED, False, CLIENT_ERROR),
        (200, ("odoo.exceptions.AccessDenied", "odoo.exceptions.UserError"), None, DISPATCHED, False, CLIENT_ERROR),
        (200, ("odoo.exceptions.MissingError", "odoo.exceptions.UserError"), None, DISPATCHED, False, CLIENT_ERROR),
        (200, ("odoo.exceptions.RedirectWarning",), None, DISPATCHED, False, CLIENT_ERROR),
        (303, ("odoo.http.SessionExpiredException",), None, AUTHENTICATED, False, CLIENT_ERROR),
        # werkzeug HTTP exceptions carry their own status
        (200, ("werkzeug.exceptions.NotFound", "werkzeug.exceptions.HTTPException"), 404, DISPATCHED, False,
         CLIENT_ERROR),
        (500, ("werkzeug.exceptions.InternalServerError",), 500, DISPATCHED, False, SERVER_ERROR),
        # raised while Odoo read the request (its body, its route's checks): the caller's
        (200, ("json.decoder.JSONDecodeError", "builtins.ValueError"), None, READING, False, CLIENT_ERROR),
        (200, KEY_ERROR, None, READING, False, CLIENT_ERROR),
        # ... raised by the controller, the server's
        (200, ("json.decoder.JSONDecodeError", "builtins.ValueError"), None, DISPATCHED, False, SERVER_ERROR),
        (200, KEY_ERROR, None, AUTHENTICATED, False, SERVER_ERROR),
        # the server failing is a server error at any stage
        (200, DB_DOWN, None, READING, False, SERVER_ERROR),
        (200, POOL_FULL, None, READING, False, SERVER_ERROR),
        (200, ("builtins.MemoryError", "builtins.Exception"), None, READING, False, SERVER_ERROR),
        # a call that does not fit what it called is the caller's, whatever it raised
        (200, KEY_ERROR, None, DISPATCHED, True, CLIENT_ERROR),
        (200, DB_DOWN, None, DISPATCHED, True, CLIENT_ERROR),
        (200, (), None, DISPATCHED, True, SUCCESS),
    ],
)
def test_classification_table(status, names, exception_status, stage, mistake, expected):
    assert classify(status, names, exception_status, stage, mistake) == expected


def test_subclass_of_a_client_error_defined_elsewhere_counts_as_client_error():
    assert qualified_names(CustomerSpecificError)[:3] == (
        "test_outcome.CustomerSpecificError",
        "odoo.exceptions.ValidationError",
        "odoo.exceptions.UserError",
    )
    assert classify(200, qualified_names(CustomerSpecificError)) == CLIENT_ERROR


def test_builtin_exception_names_are_qualified():
    assert qualified_names(ZeroDivisionError) == (
        "builtins.ZeroDivisionError",
        "builtins.ArithmeticError",
        "builtins.Exception",
        "builtins.BaseException",
        "builtins.object",
    )
