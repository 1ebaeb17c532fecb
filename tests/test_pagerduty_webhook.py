"""PagerDuty v3 webhooks over real HTTP: signed acknowledgements and resolutions reach the incident."""

import json

from odoo.tests import HttpCase, tagged

from ..core.signature import sign
from .common import WEBHOOK_SECRET as SECRET
from .common import start_sandbox_receivers
from .test_alerting import ENDPOINT


@tagged("post_install", "-at_install")
class TestPagerDutyWebhook(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        start_sandbox_receivers(cls)
        alert = cls.env["api.monitor.alert"].create({"rule_id": cls.env.ref("api_monitor.rule_high_error_rate").id,
                                                     "group_key": ENDPOINT, "state": "firing"})
        cls.incident = cls.env["api.monitor.incident"].create({
            "rule_id": alert.rule_id.id, "alert_id": alert.id, "endpoint": ENDPOINT, "severity": "P1",
            "triggered_at": "2026-11-23 10:00:00"})
        alert.incident_id = cls.incident
        cls.incident._notify("trigger", cls.pagerduty | cls.slack)
        cls.env["api.monitor.notification"]._cron_deliver()

    def post(self, event_type, signature=None, key=None, receiver=None):
        body = json.dumps({"event": {"id": "01ABC", "event_type": event_type, "resource_type": "incident",
                                     "agent": {"summary": "Ann Oncall", "type": "user_reference"},
                                     "data": {"id": "Q1", "type": "incident",
                                              "incident_key": key or self.incident.dedup_key}}}).encode()
        headers = {"Content-Type": "application/json"}
        if signature is not False:
            headers["X-PagerDuty-Signature"] = signature or sign(SECRET, body)
        return self.url_open(f"/api_monitor/pagerduty/webhook/{(receiver or self.pagerduty).id}", data=body,
                             headers=headers)

    def test_a_bad_or_missing_signature_gets_401_and_changes_nothing(self):
        for signature in ("v1=" + "0" * 64, False, sign("another secret", b"{}")):
            with self.subTest(signature=signature):
                response = self.post("incident.acknowledged", signature=signature)
                self.assertEqual((response.status_code, response.json()), (401, {"error": "invalid signature"}))
        self.assertEqual(self.incident.state, "triggered")

    def test_signed_acknowledgement_then_resolution_reach_the_incident(self):
        events_before = len(self.sandbox.state.snapshot()["events"])
        response = self.post("incident.acknowledged")
        self.assertEqual(response.json(), {"status": "applied", "incident": self.incident.name, "state": "acknowledged"})
        self.assertRecordValues(self.incident, [{"state": "acknowledged", "acknowledged_by_name": "PagerDuty: Ann Oncall"}])
        response = self.post("incident.resolved")
        self.assertEqual(response.json()["state"], "resolved")
        self.assertEqual(self.incident.resolution, "pagerduty")
        self.assertEqual(self.incident.alert_id.state, "resolved")
        self.env["api.monitor.notification"]._cron_deliver()
        # PagerDuty already knows: nothing is echoed back to it; Slack hears about both
        self.assertEqual(len(self.sandbox.state.snapshot()["events"]), events_before)
        slack = [m["text"].splitlines()[0] for m in self.sandbox.state.snapshot()["slack"]]
        self.assertEqual(slack[-2:], [
            f":eyes: {self.incident.name} acknowledged by PagerDuty: Ann Oncall: `{ENDPOINT}`",
            f":white_check_mark: {self.incident.name} resolved by PagerDuty: Ann Oncall: `{ENDPOINT}` is back to "
            "0.0% server errors",
        ])

    def test_events_for_unknown_incidents_or_other_types_are_ignored(self):
        self.assertEqual(self.post("incident.acknowledged", key="someone-elses-key").json(),
                         {"status": "ignored", "reason": "no incident with this key"})
        self.assertEqual(self.post("incident.annotated").json(),
                         {"status": "ignored", "reason": "incident.annotated is not handled"})
        self.assertEqual(self.incident.state, "triggered")

    def test_a_receiver_without_secret_accepts_no_webhook(self):
        slack = self.env.ref("api_monitor.receiver_slack")
        self.assertEqual(self.post("incident.acknowledged", receiver=slack).status_code, 401)
