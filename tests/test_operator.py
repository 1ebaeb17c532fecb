"""The operator's day: what the addon does for someone who installed it and configured nothing."""

import json
import time

from odoo.tests import TransactionCase, new_test_user, tagged
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


@tagged("post_install", "-at_install")
class TestHistory(TransactionCase):
    def test_rules_and_receivers_say_who_changed_what_and_never_a_secret(self):
        manager = new_test_user(self.env, "history", groups="base.group_user,api_monitor.group_api_monitor_manager")
        rule = self.env.ref("api_monitor.rule_high_error_rate").with_user(manager)
        rule.write({"threshold": 0.1, "pending_minutes": 3.0})
        self.env.flush_all()
        self.env.cr.precommit.run()  # tracking is written when the transaction commits
        change = rule.sudo().message_ids.filtered("tracking_value_ids")
        self.assertEqual(len(change), 1)
        self.assertEqual(change.author_id, manager.partner_id)
        self.assertEqual(sorted((v.field_id.name, v.old_value_float, v.new_value_float)
                                for v in change.sudo().tracking_value_ids),
                         [("pending_minutes", 1.0, 3.0), ("threshold", 0.05, 0.1)])
        secret = "R0UT1NGKEY0123456789abcdefABCDEF"
        receiver = self.env.ref("api_monitor.receiver_pagerduty").with_user(manager)
        receiver.write({"routing_key": secret, "min_severity": "P3"})
        self.env.flush_all()
        self.env.cr.precommit.run()
        notes = receiver.message_ids.filtered(lambda m: "Changed:" in (m.body or ""))
        self.assertEqual(len(notes), 1)
        self.assertIn("Changed: Routing Key.", notes.body)
        tracked = receiver.message_ids.sudo().tracking_value_ids
        self.assertEqual(tracked.field_id.mapped("name"), ["min_severity"])
        everything = " ".join(receiver.message_ids.mapped("body")) + " ".join(
            f"{v.old_value_char} {v.new_value_char}" for v in tracked)
        self.assertNotIn(secret, everything)


@tagged("post_install", "-at_install")
class TestTheIncidentLink(QuietHttpCase):
    def test_the_person_paged_lands_on_the_incident_or_on_what_to_ask_for(self):
        incident = self.env["api.monitor.incident"].create({
            "rule_id": self.env.ref("api_monitor.rule_high_error_rate").id, "endpoint": ENDPOINT, "severity": "P1",
            "triggered_at": "2026-12-04 03:00:00"})
        link = incident._event("trigger").incident_url
        self.assertEqual(link, f"{incident.get_base_url()}/api_monitor/incident/{incident.id}")
        path = f"/api_monitor/incident/{incident.id}"
        anonymous = self.url_open(path, allow_redirects=False)
        self.assertEqual(anonymous.status_code, 303)
        self.assertIn("/web/login?redirect=", anonymous.headers["Location"])

        new_test_user(self.env, "oncall_link", password="oncall_link_pw",  # noqa: S106 - a test user
                      groups="base.group_user,api_monitor.group_api_monitor_user")
        self.authenticate("oncall_link", "oncall_link_pw")
        member = self.url_open(path, allow_redirects=False)
        self.assertEqual(member.status_code, 303)
        self.assertTrue(member.headers["Location"].endswith(f"/odoo/api-incidents/{incident.id}"))

        new_test_user(self.env, "sales_link", name="Sam Sales", password="sales_link_pw",  # noqa: S106
                      groups="base.group_user")
        new_test_user(self.env, "boss_link", name="Mona Manager",
                      groups="base.group_user,api_monitor.group_api_monitor_manager")
        self.authenticate("sales_link", "sales_link_pw")
        outsider = self.url_open(path, allow_redirects=False)
        self.assertEqual(outsider.status_code, 403)
        text = outsider.text
        self.assertIn("Your user, <strong>Sam Sales</strong>, is not in the group", text)
        self.assertIn(self.env.ref("api_monitor.group_api_monitor_user").full_name, text)
        self.assertIn("Mona Manager", text)
        self.assertNotIn(ENDPOINT, text)  # nothing of the incident itself
