import uuid

from core.endpoints import (
    OTHER,
    UNKNOWN,
    UNMATCHED,
    EndpointCap,
    call_kw_endpoint,
    rpc_endpoint,
)

MODELS = {"res.partner": {"read", "write", "search_count"}, "sale.order": {"action_confirm"}}
SERVICES = {"common.login", "common.authenticate", "common.version", "db.list"}


def known(model, method):
    if model is None:
        return method in SERVICES
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


def test_jsonrpc_and_xmlrpc_model_calls_are_named_by_model_and_method():
    params = ("db", 2, "pw", "res.partner", "read", [[1]], {"fields": ["name"]})
    assert rpc_endpoint("/jsonrpc", "object", "execute_kw", params, known) == "/jsonrpc/object/res.partner/read"
    assert rpc_endpoint("/xmlrpc/2", "object", "execute", params[:6], known) == "/xmlrpc/2/object/res.partner/read"
    assert rpc_endpoint("/xmlrpc/2", "object", "execute_kw", ("db",), known) == f"/xmlrpc/2/object/{UNKNOWN}"
    assert rpc_endpoint("/jsonrpc", "object", "execute_kw", ("db", 2, "pw", "x.y", "read"), known) == (
        f"/jsonrpc/object/{UNKNOWN}/{UNKNOWN}"
    )


def test_other_rpc_services_are_named_by_service_and_known_method():
    assert rpc_endpoint("/xmlrpc/2", "common", "authenticate", (), known) == "/xmlrpc/2/common/authenticate"
    assert rpc_endpoint("/jsonrpc", "db", "list", (), known) == "/jsonrpc/db/list"
    assert rpc_endpoint("/jsonrpc", "db", "drop_everything", (), known) == f"/jsonrpc/db/{UNKNOWN}"
    assert rpc_endpoint("/jsonrpc", "evil", "x", (), known) == f"/jsonrpc/{UNKNOWN}"


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


def test_name_cache_remembers_known_names_only_and_up_to_its_limit():
    from core.endpoints import NameCache

    names = {("r", "res.partner", "read"): "/r/res.partner/read", ("r", "x", "y"): f"/r/{UNKNOWN}/{UNKNOWN}",
             ("r", "a", "b"): "/r/a/b", ("r", "c", "d"): "/r/c/d"}
    asked = []

    def name(key):
        asked.append(key)
        return names[key]

    cache = NameCache(name, limit=2)
    assert cache["r", "res.partner", "read"] == "/r/res.partner/read"
    names["r", "res.partner", "read"] = "changed"
    assert cache["r", "res.partner", "read"] == "/r/res.partner/read"  # remembered
    assert cache["r", "x", "y"] == f"/r/{UNKNOWN}/{UNKNOWN}"
    names["r", "x", "y"] = "/r/x/y"  # the model was created meanwhile: seen at once
    assert cache["r", "x", "y"] == "/r/x/y"
    assert cache["r", "a", "b"] == "/r/a/b"  # the limit (2) is reached: named each time, not kept
    assert cache["r", "c", "d"] == "/r/c/d"
    assert cache["r", "c", "d"] == "/r/c/d"
    assert dict(cache) == {("r", "res.partner", "read"): "/r/res.partner/read", ("r", "x", "y"): "/r/x/y"}
    assert asked == [("r", "res.partner", "read"), ("r", "x", "y"), ("r", "x", "y"), ("r", "a", "b"),
                     ("r", "c", "d"), ("r", "c", "d")]
