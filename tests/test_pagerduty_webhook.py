"""PagerDuty v3 webhooks over real HTTP: signed acknowledgements and resolutions reach the incident."""

import json
import uuid

from odoo.tests import tagged

from ..core.incident import Step
from ..core.signature import sign
from .common import WEBHOOK_SECRET as SECRET
from .common import QuietHttpCase, start_sandbox_receivers
from .test_alerting import ENDPOINT


@tagged("post_install", "-at_install")
class TestPagerDutyWebhook(QuietHttpCase):
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
        cls.incident._notify(Step("triggered", "trigger", (cls.pagerduty.id, cls.slack.id)))
        cls.env["api.monitor.notification"]._cron_deliver()

    def post(self, event_type, signature=None, key=None, receiver=None, event_id=None, body=None, secret=SECRET):
        if body is None:
            body = json.dumps({"event": {"id": event_id or uuid.uuid4().hex, "event_type": event_type,
                                         "resource_type": "incident",
                                         "agent": {"summary": "Ann Oncall", "type": "user_reference"},
                                         "data": {"id": "Q1", "type": "incident",
                                                  "incident_key": key or self.incident.dedup_key}}}).encode()
        headers = {"Content-Type": "application/json"}
        if signature is not False:
            headers["X-PagerDuty-Signature"] = signature or sign(secret, body)
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
                         {"status": "ignored", "reason": "no incident with this key was paged through this receiver"})
        self.assertEqual(self.post("incident.annotated").json(),
                         {"status": "ignored", "reason": "incident.annotated is not handled"})
        self.assertEqual(self.incident.state, "triggered")

    def test_a_receiver_without_secret_accepts_no_webhook(self):
        slack = self.env.ref("api_monitor.receiver_slack")
        self.assertEqual(self.post("incident.acknowledged", receiver=slack).status_code, 401)

    def test_a_replayed_event_changes_nothing(self):
        self.assertEqual(self.post("incident.acknowledged", event_id="evt-1").json()["status"], "applied")
        self.incident.sudo().write({"state": "triggered"})  # as if someone took it back
        self.assertEqual(self.post("incident.acknowledged", event_id="evt-1").json(),
                         {"status": "ignored", "reason": "this event was applied before"})
        self.assertEqual(self.incident.state, "triggered")

    def test_another_receivers_secret_acts_only_on_its_own_incidents(self):
        other = self.pagerduty.copy({"name": "PagerDuty (other team)", "webhook_secret": "other-team-secret",
                                     "routing_key": "0THERTEAMKEY0123456789abcdefABCD"})
        response = self.post("incident.resolved", receiver=other, secret="other-team-secret")
        self.assertEqual(response.json(),
                         {"status": "ignored", "reason": "no incident with this key was paged through this receiver"})
        self.assertEqual(self.incident.state, "triggered")

    def test_a_body_over_one_megabyte_gets_413_unread(self):
        body = b'{"event": {"id": "x", "event_type": "incident.resolved", "pad": "' + b"x" * (1024 * 1024) + b'"}}'
        response = self.post("incident.resolved", body=body)
        self.assertEqual((response.status_code, response.json()), (413, {"error": "the body is over 1048576 bytes"}))
        self.assertEqual(self.incident.state, "triggered")

    def test_a_signed_body_that_is_not_an_event_gets_400_with_the_reason(self):
        cases = {
            b"not json": "the body is not JSON",
            b"[1, 2]": "the body has no 'event' object",
            b'{"event": "x"}': "the body has no 'event' object",
            b'{"event": {"event_type": "incident.resolved"}}': "'event.id' must be a string of 1 to 255 characters",
            b'{"event": {"id": "a", "event_type": 7}}': "'event.event_type' must be a string of 1 to 100 characters",
            b'{"event": {"id": "a", "event_type": "incident.resolved", "data": [1]}}': "'event.data' must be an object",
            b'{"event": {"id": "a", "event_type": "incident.resolved", "data": {"incident_key": 5}}}':
                "the incident key must be a string",
            b"\xff\xfe": "the body is not JSON",
        }
        for body, reason in cases.items():
            with self.subTest(body=body):
                response = self.post("incident.resolved", body=body)
                self.assertEqual((response.status_code, response.json()),
                                 (400, {"error": f"not a PagerDuty v3 webhook event: {reason}"}))
        self.assertEqual(self.incident.state, "triggered")
