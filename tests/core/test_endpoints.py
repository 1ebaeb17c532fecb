"""Endpoint names: bounded, never a raw URL, never a name an anonymous caller made up."""

import uuid

import pytest

from core.endpoints import (
    OTHER,
    UNKNOWN,
    UNMATCHED,
    EndpointCap,
    call_kw_endpoint,
    http_method,
    model_method,
)

MODELS = {"res.partner": {"read", "write", "search_count"}, "sale.order": {"action_confirm"}}


def known(model, method):
    return model in MODELS and (not method or method in MODELS[model])


def test_call_kw_is_named_by_route_model_and_method():
    assert call_kw_endpoint("/web/dataset/call_kw/<path:path>", "res.partner", "read", known) == (
        "/web/dataset/call_kw/res.partner/read"
    )
    assert call_kw_endpoint("/web/dataset/call_kw", "sale.order", "action_confirm", known) == (
        "/web/dataset/call_kw/sale.order/action_confirm"
    )
    assert call_kw_endpoint("/web/dataset/call_button/<path:path>", "sale.order", "action_confirm", known) == (
        "/web/dataset/call_button/sale.order/action_confirm"
    )


def test_unknown_models_and_methods_cannot_mint_new_names():
    route = "/web/dataset/call_kw/<path:path>"
    assert call_kw_endpoint(route, "res.partner", "no_such_method", known) == "/web/dataset/call_kw/res.partner/<unknown>"
    assert call_kw_endpoint(route, "x.random", "read", known) == "/web/dataset/call_kw/<unknown>/<unknown>"
    assert call_kw_endpoint(route, None, None, known) == "/web/dataset/call_kw/<unknown>/<unknown>"
    assert call_kw_endpoint(route, "res.partner", "read; drop", known) == "/web/dataset/call_kw/res.partner/<unknown>"
    assert call_kw_endpoint(route, ["res.partner"], "read", known) == "/web/dataset/call_kw/<unknown>/<unknown>"


def test_private_methods_are_never_names_even_when_they_exist():
    def everything_exists(model, method):
        return True

    assert model_method("res.partner", "_compute_display_name", everything_exists) == ("res.partner", UNKNOWN)
    assert model_method("res.partner", "__init__", everything_exists) == ("res.partner", UNKNOWN)
    assert model_method("res.partner", "read", everything_exists) == ("res.partner", "read")


@pytest.mark.parametrize(("sent", "label"), [
    ("GET", "GET"), ("POST", "POST"), ("HEAD", "OTHER"), ("PUT", "OTHER"), ("DELETE", "OTHER"),
    ("OPTIONS", "OTHER"), ("get", "OTHER"), ("PROPFIND", "OTHER"), ("X" * 5000, "OTHER"), ("", "OTHER"),
])
def test_the_method_label_is_get_post_or_other(sent, label):
    assert http_method(sent) == label


def test_a_thousand_invented_methods_make_one_label():
    assert {http_method(uuid.uuid4().hex.upper()) for _ in range(1000)} == {"OTHER"}


def test_cap_admits_up_to_the_limit_then_folds_newcomers_into_other():
    cap = EndpointCap(limit=3)
    assert [cap.admit(name) for name in ("/a", "/b", "/a", "/c", "/d", "/e", "/b")] == [
        "/a", "/b", "/a", "/c", OTHER, OTHER, "/b",
    ]
    assert cap.admit(UNMATCHED) == UNMATCHED
    assert cap.admit(OTHER) == OTHER
    assert cap.known == {"/a", "/b", "/c"}


def test_ten_thousand_random_names_make_at_most_cap_plus_one_series():
    cap = EndpointCap(limit=2000)
    admitted = [cap.admit(f"/r/{uuid.uuid4().hex}") for _ in range(10000)]
    assert len(set(admitted)) == 2001
    assert admitted.count(OTHER) == 8000


def test_a_json2_call_is_named_by_the_model_and_method_of_its_path():
    from core.endpoints import model_method_endpoint, route_prefix

    route = "/json/2/<__model__>/<__method__>"
    assert model_method_endpoint(route, {"__model__": "res.partner", "__method__": "read", "ids": [1]}, known) == (
        "/json/2/res.partner/read")
    assert model_method_endpoint(route, {"__model__": "x.y", "__method__": "read"}, known) == (
        "/json/2/<unknown>/<unknown>")
    assert route_prefix(route) == "/json/2"
    assert route_prefix("/web/dataset/call_kw/<path:path>") == "/web/dataset/call_kw"
    assert route_prefix("/web/login") == "/web/login"
