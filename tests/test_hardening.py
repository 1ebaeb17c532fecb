"""As an anonymous caller on the internet would try it: no request can blind, flood or fake the monitoring."""

import json
import logging
import random
import string
import xmlrpc.client

from odoo.tests import tagged

from ..storage import store
from .common import FailingRoutes, MonitorHttpCase, committed_counts  # noqa: F401 - FailingRoutes registers the test routes

METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PROPFIND", "FOO", "get", "X" * 40]
REAL_MODELS = ["res.partner", "res.users", "ir.config_parameter", "api.monitor.incident", "ir.model", "mail.message"]
_logger = logging.getLogger(__name__)
REAL_METHODS = ["read", "search_read", "write", "unlink", "create", "_compute_display_name", "sudo", "check_access"]


@tagged("post_install", "-at_install")
class TestAnonymousAbuse(MonitorHttpCase):
    """Ten thousand anonymous requests varying every attribute a caller controls: the method (any word), the
    path (random, traversal, the login page, the webhook, other databases), the headers (request id, session
    cookie, forwarded address, content type), and through the RPC entry points every service, function,
    model, method and argument shape, with wrong credentials. Each public route reached adds a few series
    of its own (its methods and status codes); the test reaches the ones an attacker aims at."""

    def series(self):
        """(every http_requests_total series, every endpoint row), as committed."""
        counts = committed_counts(self.env.cr.dbname)
        with store.connect(self.env.cr.dbname) as cr:
            cr.execute("SELECT name FROM api_monitor_endpoint")
            return set(counts), {row[0] for row in cr.fetchall()}

    def word(self, rng, length=8):
        return "".join(rng.choice(string.ascii_lowercase + "._") for _ in range(length))

    def rpc_call(self, rng):
        service = rng.choice(["object", "common", "db", "report", self.word(rng), ""])
        method = rng.choice(["execute_kw", "execute", "login", "authenticate", "version", "list", "drop",
                             "server_version", self.word(rng)])
        model = rng.choice(REAL_MODELS + [self.word(rng)])
        args = rng.choice([
            [self.env.cr.dbname, 2, "wrong password", model, rng.choice(REAL_METHODS), [[1]], {}],
            [self.word(rng), 1, "admin", model, "read", [[1]]],
            [self.env.cr.dbname, rng.choice(["x", None, 2.5, [1]]), "admin", model, "read"],
            [self.env.cr.dbname, "admin", "wrong"],
            [rng.randint(0, 9)] * rng.randint(0, 9),
            [{"a": 1}, None, [], "x"],
            "not a list",
        ])
        return service, method, args

    def test_ten_thousand_anonymous_requests_add_a_bounded_handful_of_series_and_no_server_error(self):
        rng = random.Random(20)
        before_series, before_endpoints = self.series()
        sent = 0
        for n in range(3000):  # any method, any path, any header
            path = rng.choice([f"/{self.word(rng)}/{n}", f"/web/{self.word(rng)}", f"/web/login?db={self.word(rng)}",
                               "/web/login", f"/api_monitor/pagerduty/webhook/{n}", f"/{self.word(rng)}?db=x",
                               f"/{'../' * rng.randint(1, 9)}etc/passwd", f"/web/dataset/{self.word(rng)}"])
            headers = [f"X-Request-ID: {self.word(rng, 200)}", f"Cookie: session_id={self.word(rng, 40)}",
                       f"X-Forwarded-For: {rng.randint(1, 254)}.0.0.1", f"Content-Type: {self.word(rng)}/x"]
            self.raw(rng.choice(METHODS), path, rng.sample(headers, rng.randint(0, 4)))
            sent += 1
        for _ in range(2500):  # the web client's RPC without a session, naming real and invented models
            route = rng.choice(["/web/dataset/call_kw", "/web/dataset/call_button"])
            model = rng.choice(REAL_MODELS + [self.word(rng)])
            method = rng.choice(REAL_METHODS + [self.word(rng)])
            body = rng.choice([
                json.dumps({"jsonrpc": "2.0", "params": {"model": model, "method": method, "args": [[1]], "kwargs": {}}}),
                json.dumps({"jsonrpc": "2.0", "params": [model, method]}), "{not json", json.dumps([1, 2]),
            ])
            self.opener.post(f"{self.base_url()}{route}/{model}/{method}", data=body,
                             headers={"Content-Type": "application/json"}, timeout=10)
            sent += 1
        for _ in range(2500):  # /jsonrpc with every service, function and argument shape
            service, method, args = self.rpc_call(rng)
            body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": {"service": service, "method": method,
                                                                              "args": args}})
            self.opener.post(f"{self.base_url()}/jsonrpc", data=body, headers={"Content-Type": "application/json"},
                             timeout=10)
            sent += 1
        for _ in range(2000):  # XML-RPC, the same, and bodies that are not XML-RPC
            service, method, args = self.rpc_call(rng)
            try:
                body = xmlrpc.client.dumps(tuple(args) if isinstance(args, list) else (args,), method,
                                           allow_none=True)
            except TypeError:
                body = "<methodCall>"
            if rng.random() < 0.1:
                body = "<" + self.word(rng, 30)
            self.opener.post(f"{self.base_url()}/xmlrpc/2/{service or 'x'}", data=body,
                             headers={"Content-Type": "text/xml"}, timeout=10)
            sent += 1
        after_series, after_endpoints = self.series()
        new_series = after_series - before_series
        new_endpoints = after_endpoints - before_endpoints
        counts = committed_counts(self.env.cr.dbname)
        served = sum(counts[key] for key in after_series) - sum(self.before.get(key, 0) for key in after_series)
        self.assertEqual(sent, 10000)
        self.assertEqual(served, 10000)
        self.assertLessEqual(len(new_endpoints), 20, sorted(new_endpoints))
        self.assertLessEqual(len(new_series), 20, sorted(new_series))
        self.assertEqual({key: n for key, n in self.counted().items() if key[3] == "server_error"}, {})
        for name in new_endpoints:
            self.assertNotIn(name.split("/")[-1], REAL_METHODS, name)  # no model or method an anonymous caller named
        self.assertLessEqual(new_endpoints, {
            "unmatched", "/web/login", "/api_monitor/pagerduty/webhook/<int:receiver_id>", "/jsonrpc",
            "/xmlrpc/2/<service>", "/web/dataset/call_kw", "/web/dataset/call_button"})
        _logger.info("anonymous abuse: %d requests, %d new series, %d new endpoints: %s",
                     sent, len(new_series), len(new_endpoints), sorted(new_endpoints))


@tagged("post_install", "-at_install")
class TestAnonymousRpcIsNeverAServerError(MonitorHttpCase):
    def jsonrpc_call(self, service, method, args):
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": {"service": service, "method": method,
                                                                          "args": args}})
        return self.url_open("/jsonrpc", data=body, headers={"Content-Type": "application/json"}).json()

    def test_calls_that_do_not_fit_their_service_are_client_errors_under_the_route(self):
        db = self.env.cr.dbname
        calls = [
            ("common", "login", [1]),  # arguments the function does not take
            ("common", "login", [42, "admin", "admin"]),  # a database that is not a name
            ("common", "login", ["no_such_database", "admin", "admin"]),  # a database that does not serve it
            ("common", "no_such_function", []),
            ("no_such_service", "x", []),
            ("object", "execute_kw", [db, "x", "admin", "res.partner", "read", [[1]]]),
            ("object", "execute_kw", [db, 2, "wrong password", "res.partner", "read", [[1]]]),
            ("object", "execute_kw", [db, 2, "admin", "res.partner", "read", "not a list"]),
            ("db", "list", [1, 2, 3]),
        ]
        for service, method, args in calls:
            with self.subTest(service=service, method=method, args=args):
                self.assertIn("error", self.jsonrpc_call(service, method, args))
        self.assertEqual(self.counted(), {("/jsonrpc", "POST", 200, "client_error"): 9})

    def test_a_call_with_valid_credentials_is_still_named_by_model_and_method(self):
        db = self.env.cr.dbname
        answer = self.jsonrpc_call("object", "execute_kw", [db, 2, "admin", "res.partner", "search_count", [[]]])
        self.assertEqual(answer["result"], self.env["res.partner"].search_count([]))
        self.assertEqual(self.counted(), {("/jsonrpc/object/res.partner/search_count", "POST", 200, "success"): 1})


@tagged("post_install", "-at_install")
class TestBadValuesThroughRpc(MonitorHttpCase):
    def test_a_rule_or_receiver_that_cannot_work_is_refused_when_saved_through_xmlrpc(self):
        models = self.xmlrpc_object  # Odoo's own proxy, with the test's cookies
        db, rule = self.env.cr.dbname, self.env.ref("api_monitor.rule_high_error_rate")
        cases = [
            ("api.monitor.rule", rule.id, {"endpoint_selection": "pattern", "endpoint_pattern": "(a|aa)+$"},
             "'(a|aa)+$' looks like a regular expression"),
            ("api.monitor.rule", rule.id, {"dashboard_url_template": "https://g/d?x={endpint}"},
             "The dashboard link uses {endpint}, which is not a placeholder"),
            ("api.monitor.receiver", self.env.ref("api_monitor.receiver_slack").id,
             {"slack_webhook_url": "file:///etc/passwd"}, "The Slack webhook URL of Slack #ops must be a full"),
            ("api.monitor.receiver", self.env.ref("api_monitor.receiver_slack").id, {"timeout": 100000},
             "The timeout of Slack #ops must be between 1 and 30 seconds"),
        ]
        for model, record_id, values, message in cases:
            with self.subTest(values=values), self.assertRaises(xmlrpc.client.Fault) as raised:
                models.execute_kw(db, 2, "admin", model, "write", [[record_id], values])
            self.assertIn(message, raised.exception.faultString)
        self.assertEqual(rule.endpoint_selection, "all")  # as shipped: the refused writes changed nothing
