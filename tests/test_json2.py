"""Odoo 19's JSON-2 API (``POST /json/2/<model>/<method>`` with a bearer API key): counted, classified by its
real HTTP statuses, and paging through the shipped rule as JSON-RPC errors do. Skipped on Odoo 18, which
has no JSON-2 API."""

import datetime
import time

from odoo.tests import new_test_user, tagged

from .. import compat
from ..core.rules import Window
from ..storage import store
from ..storage.runtime import RUNTIME
from .common import MonitorHttpCase, QuietHttpCase, start_sandbox_receivers

JSON2 = "/json/2"


def json2_client(env):
    """(the headers of an API client with a bearer key, a partner to read)."""
    user = new_test_user(env, "json2 client", groups="base.group_system")
    key = user.with_user(user).env["res.users.apikeys"]._generate(
        scope="rpc", name="api_monitor tests", expiration_date=datetime.datetime.now() + datetime.timedelta(days=1))
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    return headers, env["res.partner"].create({"name": "JSON-2 target"})


@tagged("post_install", "-at_install")
class TestJson2(MonitorHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if compat.VERSION < 19:
            cls.skipTest(cls, "Odoo 18 has no JSON-2 API")
        cls.headers, cls.partner = json2_client(cls.env)

    def call(self, model, method, body, headers=None):
        return self.url_open(f"{JSON2}/{model}/{method}", json=body, headers=headers or self.headers)

    def test_each_answer_is_named_and_classified_by_its_status(self):
        answers = [
            self.call("res.partner", "search_count", {"domain": []}),  # 200
            self.call("res.partner", "search_count", {"domain": []}, {"Authorization": "Bearer wrong",
                                                                      "Content-Type": "application/json"}),  # 401
            self.call("res.partner", "no_such_method", {"ids": []}),  # 404
            self.call("res.partner", "read", {"ids": [self.partner.id], "no_such_argument": 1}),  # 422
            self.call("res.partner", "read", {"ids": [self.partner.id], "fields": 42}),  # 500
        ]
        self.assertEqual([a.status_code for a in answers], [200, 401, 404, 422, 500])
        self.assertEqual(self.counted(), {
            (f"{JSON2}/res.partner/search_count", "POST", 200, "success"): 1,
            (JSON2, "POST", 401, "client_error"): 1,
            (f"{JSON2}/res.partner/<unknown>", "POST", 404, "client_error"): 1,
            (f"{JSON2}/res.partner/read", "POST", 422, "client_error"): 1,
            (f"{JSON2}/res.partner/read", "POST", 500, "server_error"): 1,
        })


@tagged("post_install", "-at_install")
class TestJson2Pages(QuietHttpCase):
    """The whole path in the test's own transaction: requests, the flush's code, the evaluator, the outbox.
    Nothing here commits (a flush on its own connection would commit rows this transaction cannot update)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if compat.VERSION < 19:
            cls.skipTest(cls, "Odoo 18 has no JSON-2 API")
        start_sandbox_receivers(cls)
        cls.headers, cls.partner = json2_client(cls.env)
        cls.env.registry.clear_cache("routing")

    def call(self, model, method, body):
        return self.url_open(f"{JSON2}/{model}/{method}", json=body, headers=self.headers)

    def test_json2_server_errors_page_through_the_shipped_rule(self):
        endpoint = f"{JSON2}/res.partner/read"
        RUNTIME.recorder.take()  # what earlier tests left unflushed is theirs
        earlier = store.window_sums(self.env.cr, time.time() + 61, [5]).get(endpoint, {}).get(5, Window())
        for _ in range(30):
            self.assertEqual(self.call("res.partner", "read", {"ids": [self.partner.id], "fields": 42}).status_code, 500)
        # the flush's own code, on the test's transaction (which does not see what other connections commit)
        batch = RUNTIME.recorder.take()[self.env.cr.dbname]
        store.write_batch(self.env.cr, store.admit_endpoints(self.env.cr, batch, 2000, 20))
        self.env["api.monitor.endpoint"].search([("name", "=", endpoint)]).critical = True
        # the shipped rule watches every endpoint: this test watches the one it breaks, whatever else failed
        self.env.ref("api_monitor.rule_high_error_rate").endpoint_selection = "critical"
        now = time.time()
        Rule = self.env["api.monitor.rule"]
        Rule._evaluate(now=now)  # the breach starts: pending for a minute
        Rule._evaluate(now=now + 61)
        incident = self.env["api.monitor.incident"].search([("endpoint", "=", endpoint)])
        self.assertRecordValues(incident, [{"state": "triggered", "severity": "P1",
                                            "window_errors": earlier.errors + 30,
                                            "window_requests": earlier.requests + 30}])
        self.env["api.monitor.notification"]._cron_deliver()
        self.assertEqual([(e["action"], e["dedup_key"]) for e in self.sandbox.state.snapshot()["events"]],
                         [("trigger", incident.dedup_key)])
