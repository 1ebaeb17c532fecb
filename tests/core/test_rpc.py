"""RPC calls: named by service until the caller authenticated, and the caller's own mistakes."""

import pytest

from core.rpc import endpoint, mistake

MODELS = {"res.partner": {"read", "write", "search_count"}}


def known(model, method):
    return model in MODELS and (not method or method in MODELS[model])


def exp_login(db, login, password):
    """The shape of ``odoo.service.common.exp_login``."""


def exp_version():
    """The shape of ``odoo.service.common.exp_version``."""


CALL = ("prod", 2, "secret", "res.partner", "read", [[1]], {"fields": ["name"]})


XMLRPC = "/xmlrpc/2/<service>"


def test_an_authenticated_object_call_is_named_by_model_and_method():
    assert endpoint("/jsonrpc", "object", "execute_kw", CALL, True, known) == "/jsonrpc/object/res.partner/read"
    assert endpoint(XMLRPC, "object", "execute", CALL[:6], True, known) == "/xmlrpc/2/object/res.partner/read"
    assert endpoint("/xmlrpc/<service>", "object", "execute", CALL[:6], True, known) == (
        "/xmlrpc/object/res.partner/read")
    assert endpoint("/jsonrpc", "object", "execute_kw", ("prod", 2, "pw", "x.y", "read"), True, known) == (
        "/jsonrpc/object/<unknown>/<unknown>")
    assert endpoint("/jsonrpc", "object", "execute_kw", ("prod", 2, "pw", "res.partner", "_private"), True,
                    known) == "/jsonrpc/object/res.partner/<unknown>"


def test_every_other_call_is_named_by_its_route():
    assert endpoint("/jsonrpc", "object", "execute_kw", CALL, False, known) == "/jsonrpc"
    assert endpoint(XMLRPC, "common", "login", ("prod", "a", "b"), False, known) == XMLRPC
    assert endpoint(XMLRPC, "common", "version", (), True, known) == XMLRPC
    assert endpoint("/jsonrpc", "evil", "x", (), False, known) == "/jsonrpc"
    assert endpoint("/jsonrpc", ["object"], "x", CALL, True, known) == "/jsonrpc"


def test_an_anonymous_caller_reaches_one_name_per_entry_point():
    services = ["object", "common", "db", "other", "", None, 42]
    names = {endpoint(route, service, method, params, False, known)
             for route in ("/jsonrpc", XMLRPC) for service in services for method in ("execute_kw", "login", "x", None)
             for params in (CALL, (), None, "x")}
    assert names == {"/jsonrpc", XMLRPC}


@pytest.mark.parametrize(("service", "method", "params", "function", "why"), [
    ("object", "execute_kw", list(CALL), None, ""),
    ("object", "execute", list(CALL[:6]), None, ""),
    ("object", "execute_kw", ["prod", "2", "pw", "res.partner", "read", [], {}], None, ""),
    ("common", "login", ["prod", "admin", "pw"], exp_login, ""),
    ("common", "version", [], exp_version, ""),
    ("nope", "x", [], None, "no such service"),
    ("object", "execute_kw", "prod", None, "the params are not a list"),
    ("object", "drop", list(CALL), None, "no such function in the service"),
    ("object", "execute_kw", ["prod", 2, "pw"], None, "the function does not take these arguments"),
    ("object", "execute_kw", ["prod", "two", "pw", "res.partner", "read"], None, "the user id must be a number"),
    ("object", "execute_kw", ["prod", True, "pw", "res.partner", "read"], None, "the user id must be a number"),
    ("object", "execute_kw", ["prod", 2, {"a": 1}, "res.partner", "read"], None,
     "the database, password, model and method must be strings"),
    ("object", "execute_kw", ["other", 2, "pw", "res.partner", "read"], None,
     "the call names another database than the one serving it"),
    ("object", "execute_kw", ["prod", 2, "pw", "res.partner", "read", "x"], None,
     "execute_kw takes its arguments as a list"),
    ("object", "execute_kw", ["prod", 2, "pw", "res.partner", "read", [], []], None,
     "execute_kw takes its keyword arguments as a dictionary"),
    ("common", "nope", [], None, "no such function in the service"),
    ("common", "login", ["prod"], exp_login, "the function does not take these arguments"),
    ("common", "version", [1, 2, 3], exp_version, "the function does not take these arguments"),
    ("common", "login", [42, "admin", "pw"], exp_login, "the database, login and password must be strings"),
    ("common", "login", ["another_db", "admin", "pw"], exp_login,
     "the call names another database than the one serving it"),
])
def test_a_call_that_does_not_fit_its_service_is_the_callers_mistake(service, method, params, function, why):
    assert mistake(service, method, params, "prod", function) == why
