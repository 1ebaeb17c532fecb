"""The operator's day: what the addon does for someone who installed it and configured nothing."""

import json
import time

from odoo.tests import tagged
from odoo.tools import SQL

from ..core.rules import Window
from ..storage import store
from ..storage.runtime import RUNTIME
from .common import QuietHttpCase, expected_logs

MODEL = "res.partner.category"
ENDPOINT = f"/web/dataset/call_kw/{MODEL}/create"


@tagged("post_install", "-at_install")
class TestWatchingFromTheFirstMinute(QuietHttpCase):
    def create_category(self, name):
        """One ``create`` through the web client's JSON-RPC route; returns the answer's ``error`` (or None)."""
        body = {"jsonrpc": "2.0", "method": "call", "id": 1,
                "params": {"model": MODEL, "method": "create", "args": [{"name": name}], "kwargs": {}}}
        response = self.url_open(ENDPOINT, data=json.dumps(body), headers={"Content-Type": "application/json"})
        self.assertEqual(response.status_code, 200)
        return response.json().get("error")

    def test_an_outage_of_a_busy_endpoint_opens_an_incident_with_nothing_configured(self):
        rule = self.env.ref("api_monitor.rule_high_error_rate")
        Endpoint = self.env["api.monitor.endpoint"]
        self.assertFalse(Endpoint.search([("critical", "=", True)]))  # nobody tagged anything
        self.authenticate("admin", "admin")
        RUNTIME.recorder.take()  # what earlier tests left unflushed is theirs
        earlier = store.window_sums(self.env.cr, time.time() + 61, [5]).get(ENDPOINT, {}).get(5, Window())
        self.assertIsNone(self.create_category("works"))
        # the backend fails: every insert into the model's table raises, as a broken database would (and Odoo
        # logs each failed query)
        self.enterContext(expected_logs("odoo.sql_db"))
        self.env.cr.execute(SQL(
            "CREATE FUNCTION api_monitor_test_fail() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'injected failure'; END $$; "
            "CREATE TRIGGER api_monitor_test_fail BEFORE INSERT ON res_partner_category "
            "FOR EACH ROW EXECUTE FUNCTION api_monitor_test_fail()"))
        for n in range(30):
            self.assertIn("injected failure", self.create_category(f"fails {n}")["data"]["message"])
        # the flush's own code, on the test's transaction
        batch = RUNTIME.recorder.take()[self.env.cr.dbname]
        store.write_batch(self.env.cr, store.admit_endpoints(self.env.cr, batch, 2000, 20))
        self.assertEqual(rule.selected_count, Endpoint.search_count([]))
        now = time.time()
        self.env["api.monitor.rule"]._evaluate(now=now)  # the breach starts: pending for a minute
        self.assertFalse(self.env["api.monitor.incident"].search([("endpoint", "=", ENDPOINT)]))
        self.env["api.monitor.rule"]._evaluate(now=now + 61)
        incident = self.env["api.monitor.incident"].search([("endpoint", "=", ENDPOINT)])
        self.assertRecordValues(incident, [{"rule_id": rule.id, "state": "triggered", "severity": "P1",
                                            "trigger_errors": earlier.errors + 30,
                                            "trigger_requests": earlier.requests + 31}])
