import pytest

from core.outcome import CLIENT_ERROR, SERVER_ERROR, SUCCESS, classify, qualified_names


class UserError(Exception):
    pass


UserError.__module__ = "odoo.exceptions"


class ValidationError(UserError):
    pass


ValidationError.__module__ = "odoo.exceptions"


class CustomerSpecificError(ValidationError):
    """A subclass defined by some other addon is still a client error."""


@pytest.mark.parametrize(
    ("status", "names", "exception_status", "dispatched", "expected"),
    [
        (200, (), None, True, SUCCESS),
        (302, (), None, True, SUCCESS),
        (404, (), None, True, CLIENT_ERROR),
        (400, (), None, True, CLIENT_ERROR),
        (499, (), None, True, CLIENT_ERROR),
        (500, (), None, True, SERVER_ERROR),
        (502, (), None, True, SERVER_ERROR),
        # JSON-RPC answers every error with HTTP 200: the exception decides
        (200, ("builtins.KeyError", "builtins.LookupError", "builtins.Exception"), None, True, SERVER_ERROR),
        (200, ("builtins.AttributeError",), None, True, SERVER_ERROR),
        (200, ("odoo.exceptions.UserError",), None, True, CLIENT_ERROR),
        (200, ("odoo.exceptions.AccessError", "odoo.exceptions.UserError"), None, True, CLIENT_ERROR),
        (200, ("odoo.exceptions.AccessDenied", "odoo.exceptions.UserError"), None, True, CLIENT_ERROR),
        (200, ("odoo.exceptions.ValidationError", "odoo.exceptions.UserError"), None, True, CLIENT_ERROR),
        (200, ("odoo.exceptions.MissingError", "odoo.exceptions.UserError"), None, True, CLIENT_ERROR),
        (200, ("odoo.exceptions.RedirectWarning",), None, True, CLIENT_ERROR),
        (303, ("odoo.http.SessionExpiredException",), None, True, CLIENT_ERROR),
        # werkzeug HTTP exceptions carry their own status
        (200, ("werkzeug.exceptions.NotFound", "werkzeug.exceptions.HTTPException"), 404, True, CLIENT_ERROR),
        (500, ("werkzeug.exceptions.InternalServerError",), 500, True, SERVER_ERROR),
        # a body that does not parse is the caller's fault only before the controller runs
        (200, ("json.decoder.JSONDecodeError", "builtins.ValueError"), None, False, CLIENT_ERROR),
        (200, ("json.decoder.JSONDecodeError", "builtins.ValueError"), None, True, SERVER_ERROR),
    ],
)
def test_classification_table(status, names, exception_status, dispatched, expected):
    assert classify(status, names, exception_status, dispatched) == expected


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
