"""Storm control on the real Odoo: many endpoints of one rule failing at once make one incident and one page."""

import time

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..core.times import to_datetime, to_epoch
from .test_alerting import T0, AlertingCase

NAMES = [f"/web/dataset/call_kw/storm.model{i:02d}/read" for i in range(30)]


@tagged("post_install", "-at_install")
class TestStorm(AlertingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["api.monitor.endpoint"].create([{"name": name, "critical": True} for name in NAMES])
        cls.rule.storm_limit = 10

    def failing(self, names, minutes, requests=100, errors=50):
        for name in names:
            for minute in minutes:
                self.traffic(minute, requests, errors, endpoint=name)

    def test_thirty_endpoints_failing_at_once_open_one_incident_and_page_once(self):
        self.failing(NAMES, range(0, 3))
        self.evaluate(60)  # pending
        self.evaluate(2 * 60 + 10)  # thirty fire in one evaluation, more than the limit of ten
        incident = self.incidents()
        self.assertEqual(len(incident), 1)
        self.assertRecordValues(incident, [{
            "storm": True, "state": "triggered", "severity": "P1",
            "endpoint": "Storm: 30 endpoints of High API error rate", "endpoint_names": "\n".join(NAMES),
            "trigger_requests": 30 * 300, "trigger_errors": 30 * 150, "window_requests": 30 * 300,
            "window_errors": 30 * 150,
            "detail": "30 endpoints failing at once: 50.0% server errors over all of them (4500/9000)"}])
        self.assertEqual(self.pd_events(), [("trigger", incident.dedup_key)])
        self.assertEqual(len(self.sandbox.state.snapshot()["slack"]), 1)
        self.assertEqual(set(self.rule.alert_ids.filtered(lambda a: a.group_key in NAMES).mapped("incident_id")),
                         {incident})
        self.assertIn("Storm: 30 endpoints fired at once, more than the rule's storm limit of 10",
                      incident.message_ids.mapped("body")[-2])
        # still failing: nothing more is sent
        self.failing(NAMES, range(3, 5))
        self.evaluate(4 * 60 + 10)
        self.assertEqual(len(self.pd_events()), 1)

    def test_endpoints_that_fire_later_join_the_storm_without_a_page_of_their_own(self):
        self.failing(NAMES[:20], range(0, 3))
        self.evaluate(60)
        self.evaluate(2 * 60 + 10)
        storm = self.incidents()
        self.assertEqual(len(storm.endpoint_names.splitlines()), 20)
        self.failing(NAMES[:20], range(3, 6))
        self.failing(NAMES[20:], range(3, 6))
        self.evaluate(3 * 60 + 10)  # the other ten start pending
        self.evaluate(4 * 60 + 20)  # ...and fire: fewer than the limit, but a storm is open
        self.assertEqual(self.incidents(), storm)
        self.assertRecordValues(storm, [{"endpoint": "Storm: 30 endpoints of High API error rate",
                                         "endpoint_names": "\n".join(NAMES)}])
        self.assertEqual(storm.message_ids[0].body,
                         f"<p>10 more endpoints fired and joined this storm: {', '.join(NAMES[20:25])} and 5 more.</p>")
        self.assertEqual(self.pd_events(), [("trigger", storm.dedup_key)])

    def test_the_storm_follows_the_endpoints_still_failing_and_resolves_when_none_does(self):
        self.failing(NAMES, range(0, 3))
        self.evaluate(60)
        self.evaluate(2 * 60 + 10)
        storm = self.incidents()
        # twenty-nine recover; one goes on failing
        self.failing(NAMES[:1], range(3, 20))
        self.failing(NAMES[1:], range(3, 40), errors=0)
        for minute in range(3, 20):
            self.evaluate(minute * 60 + 10)
        self.assertEqual(storm.state, "triggered")
        self.assertEqual(storm.detail, "1 endpoint still failing: 50.0% server errors (250/500)")
        self.assertEqual(self.pd_events(), [("trigger", storm.dedup_key)])
        # the last one recovers: keep-firing later, the storm resolves and says so once
        self.failing(NAMES[:1], range(20, 40), errors=0)
        for minute in range(20, 35):
            self.evaluate(minute * 60 + 10)
        self.assertRecordValues(storm, [{"state": "resolved", "resolution": "recovered"}])
        self.assertEqual(self.pd_events(), [("trigger", storm.dedup_key), ("resolve", storm.dedup_key)])

    def test_up_to_the_limit_each_endpoint_has_an_incident_of_its_own(self):
        self.failing(NAMES[:10], range(0, 3))
        self.evaluate(60)
        self.evaluate(2 * 60 + 10)
        incidents = self.incidents()
        self.assertEqual(sorted(incidents.mapped("endpoint")), NAMES[:10])
        self.assertEqual(set(incidents.mapped("storm")), {False})
        self.assertEqual(len(self.pd_events()), 10)

    def test_a_limit_of_zero_turns_storm_control_off(self):
        self.rule.storm_limit = 0
        self.failing(NAMES, range(0, 3))
        self.evaluate(60)
        self.evaluate(2 * 60 + 10)
        self.assertEqual(len(self.incidents()), 30)

    def test_resolving_the_storm_by_hand_ends_the_episode_of_every_endpoint_in_it(self):
        self.failing(NAMES, range(0, 3))
        self.evaluate(60)
        self.evaluate(2 * 60 + 10)
        storm = self.incidents()
        storm.action_resolve()
        self.deliver()
        self.assertEqual(set(self.rule.alert_ids.filtered(lambda a: a.group_key in NAMES).mapped("state")),
                         {"resolved"})
        self.assertEqual(self.pd_events(), [("trigger", storm.dedup_key), ("resolve", storm.dedup_key)])

    def test_a_negative_limit_is_refused_with_what_to_fix(self):
        with self.assertRaisesRegex(ValidationError, "must be 0 \\(no storm control\\) or a number of endpoints, not -1"):
            self.rule.storm_limit = -1


@tagged("post_install", "-at_install")
class TestRateLimit(AlertingCase):
    def test_pagerduty_gets_no_more_than_its_limit_a_minute_and_the_rest_goes_when_there_is_room(self):
        self.rule.storm_limit = 0
        for minute in range(0, 3):
            self.traffic(minute, 100, 50)
        self.env["api.monitor.rule"]._evaluate(now=T0 + 60)
        self.env["api.monitor.rule"]._evaluate(now=T0 + 2 * 60 + 10)
        incident = self.incidents()
        trigger = incident.notification_ids.filtered(lambda n: n.receiver_id.kind == "pagerduty")
        # a hundred attempts to the same receiver in the last minute: PagerDuty's limit is reached
        now = time.time()
        Notification = self.env["api.monitor.notification"]
        Notification.create([{"incident_id": incident.id, "receiver_id": trigger.receiver_id.id, "action": "resolve",
                              "payload": trigger.payload, "state": "sent",
                              "last_attempt_at": to_datetime(now - 50 + i * 0.1)}
                             for i in range(100)])
        self.deliver()
        self.assertEqual(trigger.state, "pending")
        self.assertEqual(self.pd_events(), [])
        self.assertEqual(len(self.sandbox.state.snapshot()["slack"]), 1)  # other receivers are not held back
        cron = self.env.ref("api_monitor.ir_cron_deliver")
        wake = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)], order="call_at desc", limit=1)
        self.assertAlmostEqual(to_epoch(wake.call_at), now + 10, delta=2)  # when the oldest leaves the window
        # a minute later the window has room: the trigger goes
        Notification.search([("id", "!=", trigger.id), ("receiver_id", "=", trigger.receiver_id.id)]).write(
            {"last_attempt_at": to_datetime(now - 61)})
        self.deliver()
        self.assertEqual(trigger.state, "sent")
        self.assertEqual(self.pd_events(), [("trigger", incident.dedup_key)])
