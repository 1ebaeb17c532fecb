"""The alerting flow on the real Odoo: rules over buckets, incidents, the outbox, and the sandbox receivers
over real HTTP. Time is the evaluator's ``now`` argument: buckets are written for minutes in the past."""

import datetime
import time
import zoneinfo

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

from .. import compat
from ..core.recorder import Batch, TimeBucket
from ..core.times import to_datetime, to_epoch
from ..storage import store
from .common import ROUTING_KEY, start_sandbox_receivers

ENDPOINT = "/web/dataset/call_kw/res.partner/create"
T0 = (int(time.time()) // 60 - 180) * 60  # three hours ago, on a minute


class AlertingCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        start_sandbox_receivers(cls)
        cls.rule = cls.env.ref("api_monitor.rule_high_error_rate")
        cls.rule.endpoint_selection = "critical"  # these tests watch one endpoint, tagged critical below
        cls.env["api.monitor.endpoint"].search([("critical", "=", True)]).critical = False
        cls.endpoint = cls.env["api.monitor.endpoint"].create({"name": ENDPOINT, "critical": True})
        cls.Incident = cls.env["api.monitor.incident"]

    def setUp(self):
        super().setUp()
        self.sandbox.state.reset()

    def traffic(self, minute, requests, errors, endpoint=ENDPOINT):
        """Add one minute of traffic, ``minute`` minutes after T0, as a flush would write it."""
        bucket = TimeBucket(requests=requests, server_errors=errors)
        store.write_batch(self.env.cr, Batch(buckets={(T0 + minute * 60, endpoint): bucket}))

    def evaluate(self, seconds):
        """Evaluate every rule ``seconds`` after T0, then deliver what is due."""
        self.env["api.monitor.rule"]._evaluate(now=T0 + seconds)
        self.deliver()

    def deliver(self):
        self.env["api.monitor.notification"]._cron_deliver()

    def incidents(self):
        return self.Incident.search([("rule_id", "=", self.rule.id)], order="id")

    def pd_events(self):
        return [(e["action"], e["dedup_key"]) for e in self.sandbox.state.snapshot()["events"]]

    def healthy(self, minutes):
        for minute in minutes:
            self.traffic(minute, 100, 0)

    def fire(self):
        """Three minutes at 50% server errors, evaluated until the shipped rule fires; its incidents."""
        for minute in range(0, 3):
            self.traffic(minute, 100, 50)
        self.env["api.monitor.rule"]._evaluate(now=T0 + 60)
        self.env["api.monitor.rule"]._evaluate(now=T0 + 2 * 60 + 10)
        return self.incidents()


@tagged("post_install", "-at_install")
class TestLifecycle(AlertingCase):
    def test_trigger_acknowledge_and_recovery_reach_pagerduty_and_slack(self):
        self.healthy(range(0, 10))
        self.evaluate(10 * 60)
        self.assertFalse(self.incidents())
        # the endpoint fails: 30% server errors from minute 10 on
        for minute in range(10, 13):
            self.traffic(minute, 100, 30)
        self.evaluate(10 * 60 + 20)  # breach starts: pending for one minute
        self.assertFalse(self.incidents())
        self.assertEqual(self.rule.alert_ids.filtered(lambda a: a.group_key == ENDPOINT).state, "pending")
        self.evaluate(11 * 60 + 20)  # the breach has lasted the pending time: fire
        incident = self.incidents()
        self.assertEqual(len(incident), 1)
        self.assertRecordValues(incident, [{"state": "triggered", "severity": "P1", "endpoint": ENDPOINT,
                                            "window_requests": 500, "window_errors": 60}])
        self.assertAlmostEqual(incident.current_ratio, 0.12)
        self.assertEqual(self.pd_events(), [("trigger", incident.dedup_key)])
        alert = self.sandbox.state.snapshot()["alerts"]
        self.assertEqual([(a["status"], a["summary"], a["severity"]) for a in alert],
                         [("triggered", f"[P1] 12.0% server errors on {ENDPOINT} (5m)", "critical")])
        self.assertEqual(len(self.sandbox.state.snapshot()["slack"]), 1)
        self.assertTrue(self.sandbox.state.snapshot()["slack"][0]["text"].startswith(f":rotating_light: P1 {incident.name}"))

        responder = new_test_user(self.env, "oncall", groups="base.group_user,api_monitor.group_api_monitor_user")
        incident.with_user(responder).action_acknowledge()
        self.deliver()
        self.assertRecordValues(incident, [{"state": "acknowledged", "acknowledged_by_id": responder.id}])
        self.assertEqual(self.pd_events()[-1], ("acknowledge", incident.dedup_key))
        self.assertEqual(self.sandbox.state.snapshot()["alerts"][0]["status"], "acknowledged")

        # still breaching while acknowledged: nobody is paged again
        self.evaluate(12 * 60 + 20)
        self.assertEqual(len(self.pd_events()), 2)
        # recovery: healthy minutes push the errors out of the 5-minute window; resolve after keep-firing 5 min
        self.healthy(range(13, 30))
        for minute in range(13, 25):
            self.evaluate(minute * 60 + 20)
        self.assertRecordValues(incident, [{"state": "resolved", "resolution": "recovered"}])
        self.assertEqual(self.pd_events(), [("trigger", incident.dedup_key), ("acknowledge", incident.dedup_key),
                                            ("resolve", incident.dedup_key)])
        self.assertEqual(self.sandbox.state.snapshot()["alerts"][0]["status"], "resolved")
        slack = [m["text"].splitlines()[0] for m in self.sandbox.state.snapshot()["slack"]]
        self.assertEqual(len(slack), 3)
        self.assertTrue(slack[1].startswith(f":eyes: {incident.name} acknowledged by"))
        self.assertTrue(slack[2].startswith(f":white_check_mark: {incident.name} resolved"))
        self.assertEqual(set(incident.notification_ids.mapped("state")), {"sent"})

    def test_a_long_breach_opens_one_incident_and_pages_once(self):
        for minute in range(0, 40):
            self.traffic(minute, 50, 25)
        for step in range(0, 80):
            self.evaluate(2 * 60 + step * 30)
        self.assertEqual(len(self.incidents()), 1)
        self.assertEqual([a for a, _ in self.pd_events()], ["trigger"])
        self.assertEqual(len(self.sandbox.state.snapshot()["alerts"]), 1)

    def test_a_breach_after_resolution_opens_a_new_incident(self):
        for minute in range(0, 3):
            self.traffic(minute, 100, 50)
        self.evaluate(2 * 60)
        self.evaluate(3 * 60 + 10)
        first = self.incidents()
        self.assertEqual(len(first), 1)
        self.assertTrue(first.breaching)  # the form warns before a manual resolve
        first.action_resolve()
        self.deliver()
        self.assertEqual(first.resolution, "manual")
        self.assertFalse(first.breaching)
        self.evaluate(3 * 60 + 30)  # still breaching: a new episode starts pending, and pages nobody yet
        self.assertEqual(len(self.incidents()), 1)
        self.assertEqual([a for a, _ in self.pd_events()], ["trigger", "resolve"])
        self.evaluate(4 * 60 + 40)  # the rule's pending time has passed
        incidents = self.incidents()
        self.assertEqual(len(incidents), 2)
        self.assertNotEqual(incidents[0].dedup_key, incidents[1].dedup_key)
        self.assertEqual(incidents[1].previous_incident_id, first)
        self.assertEqual([a for a, _ in self.pd_events()], ["trigger", "resolve", "trigger"])

    def test_low_traffic_below_min_requests_never_fires(self):
        for minute in range(0, 30, 10):
            self.traffic(minute, 1, 1)
        for minute in range(0, 30):
            self.evaluate(minute * 60 + 30)
        self.assertFalse(self.incidents())

    def test_evaluating_twice_at_the_same_instant_repeats_nothing(self):
        for minute in range(0, 3):
            self.traffic(minute, 100, 50)
        self.evaluate(60)
        self.evaluate(2 * 60 + 10)
        self.evaluate(2 * 60 + 10)
        self.env.invalidate_all()
        self.evaluate(2 * 60 + 10)
        self.assertEqual(len(self.incidents()), 1)
        self.assertEqual(len(self.pd_events()), 1)


@tagged("post_install", "-at_install")
class TestIncidentStory(AlertingCase):
    """What the on-call engineer reads on an incident: the figures that paged, the current ones, whether the
    page went out, when it resolves by itself, how long each step took."""

    def test_trigger_figures_stay_current_ones_move_and_recovery_says_when_it_resolves(self):
        self.env.user.tz = "Asia/Kolkata"  # UTC+05:30: the times shown are the user's
        for minute in range(10, 13):
            self.traffic(minute, 100, 30)
        self.env["api.monitor.rule"]._evaluate(now=T0 + 10 * 60 + 20)
        self.env["api.monitor.rule"]._evaluate(now=T0 + 11 * 60 + 20)
        incident = self.incidents()
        self.assertFalse(incident.paged)  # queued, not yet delivered
        self.deliver()
        incident.invalidate_recordset(["paged"])
        self.assertTrue(incident.paged)
        self.assertRecordValues(incident, [{"trigger_requests": 200, "trigger_errors": 60, "window_requests": 200}])
        self.assertAlmostEqual(incident.trigger_ratio, 0.30)
        # worse: the current figures move, the trigger's stay
        for minute in range(13, 15):
            self.traffic(minute, 100, 80)
        self.evaluate(14 * 60 + 20)
        self.assertRecordValues(incident, [{"trigger_requests": 200, "trigger_errors": 60, "window_requests": 500,
                                            "window_errors": 250, "breaching": True, "recovering_note": False}])
        self.assertEqual(incident.ratio_label, "50.0% now, peak 50.0%")
        # recovery: the last failing minute leaves the window at 19:20; keep-firing (5 min) resolves at 24:20
        self.healthy(range(15, 40))
        for minute in range(15, 21):
            self.evaluate(minute * 60 + 20)
        cleared = incident.alert_id.clear_since
        self.assertTrue(cleared)

        def local(at):
            return datetime.datetime.fromtimestamp(at, zoneinfo.ZoneInfo("Asia/Kolkata")).strftime("%H:%M")

        self.assertFalse(incident.breaching)
        self.assertEqual(incident.recovering_note,
                         f"Recovering: no breach since {local(to_epoch(cleared))}; resolves by itself at "
                         f"{local(to_epoch(cleared) + 5 * 60)} unless it breaches again.")
        for minute in range(21, 27):
            self.evaluate(minute * 60 + 20)
        self.assertRecordValues(incident, [{"state": "resolved", "recovering_note": False, "trigger_errors": 60}])
        self.assertEqual(incident.ratio_label, "30.0% at trigger, peak 50.0%")

    def test_mtta_and_mttr_average_only_the_incidents_that_got_there(self):
        other = "/web/dataset/call_kw/sale.order/create"
        self.env["api.monitor.endpoint"].create({"name": other, "critical": True})
        for minute in range(0, 3):
            self.traffic(minute, 100, 50, endpoint=other)
        acknowledged, waiting = self.fire()
        self.assertEqual((acknowledged.endpoint, waiting.endpoint), (ENDPOINT, other))
        acknowledged.sudo().triggered_at = fields.Datetime.now() - datetime.timedelta(minutes=4, seconds=30)
        acknowledged.action_acknowledge()
        took = (acknowledged.acknowledged_at - acknowledged.triggered_at).total_seconds() / 60
        self.assertGreaterEqual(took, 4.5)
        self.assertEqual(acknowledged.time_to_acknowledge, round(took, 1))
        both = [("id", "in", (acknowledged + waiting).ids)]
        [(mtta,)] = self.Incident._read_group(both, [], ["time_to_acknowledge:avg"])
        self.assertEqual(mtta, acknowledged.time_to_acknowledge)  # the unacknowledged one counts for nothing
        acknowledged.action_resolve()
        lasted = (acknowledged.resolved_at - acknowledged.triggered_at).total_seconds() / 60
        self.assertEqual(acknowledged.time_to_resolve, round(lasted, 1))
        [(mttr,)] = self.Incident._read_group(both, [], ["time_to_resolve:avg"])
        self.assertEqual(mttr, acknowledged.time_to_resolve)
        self.assertEqual(acknowledged.age_label, f"lasted {int(lasted)} min")

    def test_kanban_columns_follow_the_lifecycle(self):
        self.assertEqual(self.Incident._expand_states(["resolved", "acknowledged"], []),
                         ["triggered", "acknowledged", "resolved"])
        self.assertEqual(self.Incident._expand_states([], []), ["triggered", "acknowledged"])

    def test_a_monitoring_user_logs_a_note_and_sends_a_message(self):
        incident = self.fire()
        responder = new_test_user(self.env, "notes", groups="base.group_user,api_monitor.group_api_monitor_user")
        mine = incident.with_user(responder)
        note = mine.message_post(body="Looking at the database locks", subtype_xmlid="mail.mt_note",
                                 message_type="comment")
        message = mine.message_post(body="Rolled back the release", subtype_xmlid="mail.mt_comment",
                                    message_type="comment")
        self.assertEqual((note.author_id, message.author_id), (responder.partner_id, responder.partner_id))
        self.assertEqual(set(incident.message_ids.mapped("body")) & {note.body, message.body}, {note.body, message.body})
        with self.assertRaises(AccessError):  # still no direct write
            mine.write({"detail": "changed by hand"})


@tagged("post_install", "-at_install")
class TestRuleSelection(AlertingCase):
    def test_a_rule_says_how_many_endpoints_it_watches(self):
        self.assertEqual(self.rule.selected_count, 1)  # the one endpoint tagged critical in setUpClass
        self.endpoint.critical = False
        self.rule.invalidate_recordset(["selected_count"])
        self.assertEqual(self.rule.selected_count, 0)  # the form and the list say it watches nothing
        other = self.env["api.monitor.endpoint"].create({"name": "/web/dataset/call_kw/sale.order/create"})
        self.rule.write({"endpoint_selection": "pattern", "endpoint_pattern": "/web/dataset/call_kw/sale.*"})
        self.assertEqual(self.rule.selected_count, 1)
        self.rule.write({"endpoint_selection": "list", "endpoint_ids": [(6, 0, (self.endpoint + other).ids)]})
        self.assertEqual(self.rule.selected_count, 2)
        self.rule.endpoint_selection = "all"
        self.assertEqual(self.rule.selected_count, self.env["api.monitor.endpoint"].search_count([]))


@tagged("post_install", "-at_install")
class TestDelivery(AlertingCase):
    def test_429_then_202_ends_with_exactly_one_pagerduty_alert_and_nothing_lost(self):
        self.sandbox.behave("pagerduty", "429", count=1, retry_after="1")
        incident = self.fire()
        self.deliver()
        trigger = incident.notification_ids.filtered(lambda n: n.receiver_id == self.pagerduty)
        self.assertRecordValues(trigger, [{"state": "pending", "attempts": 1, "last_status": 429}])
        self.assertGreater(trigger.next_attempt_at.timestamp(), 0)
        trigger.next_attempt_at = "2000-01-01 00:00:00"  # the retry time has come
        self.deliver()
        self.assertRecordValues(trigger, [{"state": "sent", "attempts": 2, "last_status": 202}])
        state = self.sandbox.state.snapshot()
        self.assertEqual(state["attempts"]["pagerduty"], 2)
        self.assertEqual([(a["dedup_key"], a["status"]) for a in state["alerts"]], [(incident.dedup_key, "triggered")])
        self.assertEqual(set(incident.notification_ids.mapped("state")), {"sent"})

    def test_a_resolve_never_overtakes_its_trigger(self):
        self.sandbox.behave("pagerduty", "500", count=1)
        incident = self.fire()
        self.deliver()
        incident.action_resolve()
        self.deliver()  # the trigger waits for its retry; the resolve must wait behind it
        pd = incident.notification_ids.filtered(lambda n: n.receiver_id == self.pagerduty).sorted("id")
        self.assertEqual(pd.mapped("state"), ["pending", "pending"])
        self.assertEqual(self.pd_events(), [])
        pd[0].next_attempt_at = "2000-01-01 00:00:00"
        self.deliver()
        self.assertEqual(self.pd_events(), [("trigger", incident.dedup_key), ("resolve", incident.dedup_key)])

    def test_a_400_is_final_and_shown_on_the_incident(self):
        self.sandbox.behave("pagerduty", "400", count=1)
        incident = self.fire()
        self.deliver()
        trigger = incident.notification_ids.filtered(lambda n: n.receiver_id == self.pagerduty)
        self.assertRecordValues(trigger, [{"state": "failed", "attempts": 1, "last_status": 400}])
        self.assertEqual(incident.delivery_problem, "trigger to PagerDuty (on-call) not delivered: HTTP 400: the "
                                                    "receiver refused the event")
        self.assertIn("refused on request of the test", trigger.response)
        self.assertIn("not delivered", incident.message_ids[0].body)

    def test_giving_up_tells_the_managers(self):
        self.env["ir.config_parameter"].set_param("api_monitor.delivery_give_up_minutes", "0")
        self.sandbox.behave("pagerduty", "500")
        incident = self.fire()
        self.deliver()
        trigger = incident.notification_ids.filtered(lambda n: n.receiver_id == self.pagerduty)
        self.assertEqual(trigger.state, "gave_up")
        managers = compat.group_users(self.env.ref("api_monitor.group_api_monitor_manager")).filtered(lambda u: not u.share)
        self.assertEqual(incident.activity_ids.user_id, managers)
        self.assertEqual(set(incident.activity_ids.mapped("summary")), {"Page not delivered to PagerDuty (on-call)"})

    def test_a_receiver_not_configured_is_left_out_and_the_others_are_told(self):
        self.pagerduty.routing_key = False
        self.assertEqual((self.pagerduty.configured, self.slack.configured), (False, True))
        incident = self.fire()
        self.deliver()
        self.assertEqual(incident.notification_ids.receiver_id, self.slack)
        self.assertEqual(incident.notification_ids.state, "sent")
        self.assertFalse(incident.delivery_problem)
        self.assertEqual(self.pd_events(), [])

    def test_when_no_receiver_is_configured_the_incident_says_nobody_was_told(self):
        self.pagerduty.routing_key = False
        self.slack.slack_webhook_url = False
        incident = self.fire()
        self.assertFalse(incident.notification_ids)
        self.assertEqual(incident.delivery_problem,
                         "Nobody was told: none of the receivers of High API error rate is configured for P1 "
                         "(set a routing key or a webhook URL in Monitoring > Receivers).")

    def test_outbox_never_stores_a_secret(self):
        incident = self.fire()
        for payload in incident.notification_ids.mapped("payload"):
            self.assertNotIn(ROUTING_KEY, payload)
            self.assertNotIn("/slack/ops", payload)

    def test_routing_by_severity(self):
        self.rule.severity = "P3"  # below the PagerDuty receiver's P2: Slack only
        incident = self.fire()
        self.assertEqual(incident.notification_ids.receiver_id, self.slack)

    def webhook(self, name, path="/webhook/ops"):
        receiver = self.env["api.monitor.receiver"].create({
            "name": name, "kind": "webhook", "url": f"{self.sandbox.url}{path}", "timeout": 2})
        self.rule.receiver_ids |= receiver
        return receiver

    def test_receivers_that_hang_answer_garbage_redirect_or_fail_never_delay_the_page(self):
        hanging = self.webhook("Hangs")
        wait = 10.0 if compat.VERSION >= 19 else 2.0  # Odoo 19's tests raise request timeouts under 10 s to 10 s
        self.sandbox.behave("webhook", "slow", count=1, delay=wait + 2)
        self.sandbox.behave("slack", "garbage", count=1)
        incident = self.fire()
        started = time.time()
        self.deliver()
        took = time.time() - started
        [page] = [e for e in self.sandbox.state.snapshot()["events"] if e["action"] == "trigger"]
        self.assertLess(page["at"] - started, 1.0)  # sent at once, beside the receiver that hangs
        self.assertLess(took, wait + 1.5)  # one timeout, not one per receiver
        by_receiver = {n.receiver_id.name: n for n in incident.notification_ids}
        self.assertRecordValues(by_receiver["PagerDuty (on-call)"], [{"state": "sent", "last_status": 202}])
        self.assertRecordValues(by_receiver["Hangs"], [{"state": "pending", "attempts": 1, "last_status": 0}])
        self.assertEqual(by_receiver["Hangs"].last_error, "no answer within 2s")
        self.assertRecordValues(by_receiver["Slack #ops"], [{"state": "pending", "attempts": 1, "last_status": 0}])
        self.assertTrue(by_receiver["Slack #ops"].last_error.startswith("connection failed"))
        self.assertNotIn("/slack/ops", by_receiver["Slack #ops"].last_error)
        self.assertEqual(hanging.sudo().url, f"{self.sandbox.url}/webhook/ops")

    def test_a_receiver_that_redirects_is_refused_and_the_page_goes_out(self):
        self.webhook("Moved")
        self.sandbox.behave("webhook", "redirect", count=1)
        incident = self.fire()
        self.deliver()
        by_receiver = {n.receiver_id.name: n for n in incident.notification_ids}
        self.assertRecordValues(by_receiver["Moved"], [{"state": "failed", "last_status": 302}])
        self.assertEqual(by_receiver["Moved"].last_error,
                         "HTTP 302: the receiver redirects; set the URL it redirects to")
        self.assertEqual(by_receiver["PagerDuty (on-call)"].state, "sent")
        self.assertEqual(self.sandbox.state.snapshot()["attempts"]["webhook"], 1)  # the redirect was not followed

    def test_a_notification_that_cannot_be_recorded_is_marked_failed_and_the_others_go_on(self):
        self.webhook("Breaks")
        original = type(self.env["api.monitor.notification"])._report_failure
        self.sandbox.behave("webhook", "400", count=1)

        def report_failure(notification, decision):
            if notification.receiver_id.name == "Breaks":
                raise RuntimeError("cannot report this one")
            return original(notification, decision)

        self.patch(type(self.env["api.monitor.notification"]), "_report_failure", report_failure)
        incident = self.fire()
        with self.assertLogs("odoo.addons.api_monitor.models.api_monitor_notification", level="ERROR"):
            self.deliver()
        by_receiver = {n.receiver_id.name: n for n in incident.notification_ids}
        self.assertRecordValues(by_receiver["Breaks"], [{"state": "failed", "attempts": 1}])
        self.assertEqual(by_receiver["Breaks"].last_error, "could not be recorded: RuntimeError")
        self.assertEqual(by_receiver["PagerDuty (on-call)"].state, "sent")
        self.assertEqual(by_receiver["Slack #ops"].state, "sent")

    def test_a_stored_event_that_cannot_be_read_is_refused_on_its_own(self):
        incident = self.fire()
        slack = incident.notification_ids.filtered(lambda n: n.receiver_id == self.slack)
        slack.sudo().payload = '{"action": "trigger"}'  # damaged
        self.deliver()
        self.assertEqual(slack.state, "failed")
        self.assertIn("IncidentEvent.__init__() missing", slack.last_error)
        self.assertEqual(incident.notification_ids.filtered(lambda n: n.receiver_id == self.pagerduty).state, "sent")

    def test_monitoring_users_see_neither_remote_answers_nor_delivery_errors(self):
        self.sandbox.behave("pagerduty", "400", count=1)
        incident = self.fire()
        self.deliver()
        user = new_test_user(self.env, "watcher", groups="base.group_user,api_monitor.group_api_monitor_user")
        notification = incident.notification_ids[:1].with_user(user)
        self.assertEqual(notification.read(["state"])[0]["state"] in ("sent", "failed"), True)
        for field in ("response", "last_error"):
            with self.subTest(field=field), self.assertRaises(AccessError):
                notification.read([field])


@tagged("post_install", "-at_install")
class TestBadRulesAreSkipped(AlertingCase):
    def test_a_rule_forced_into_the_database_with_bad_values_is_skipped_and_the_others_page(self):
        broken = self.rule.copy({"name": "Broken"})
        self.env.cr.execute("UPDATE api_monitor_rule SET endpoint_selection = 'pattern', endpoint_pattern = %s, "
                            "logs_url_template = %s WHERE id = %s",
                            ["^(a+)+$", "https://loki/explore?left={\"expr\":\"{job=odoo}\"}&x={nope}", broken.id])
        broken.invalidate_recordset()
        for minute in range(0, 3):
            self.traffic(minute, 100, 50)
        with self.assertLogs("odoo.addons.api_monitor.models.api_monitor_rule", level="ERROR") as logs:
            self.env["api.monitor.rule"]._evaluate(now=T0 + 60)
            self.env["api.monitor.rule"]._evaluate(now=T0 + 2 * 60 + 10)
        self.assertEqual(logs.output[0], f"ERROR:odoo.addons.api_monitor.models.api_monitor_rule:api_monitor: rule "
                                         f"Broken (id {broken.id}) is skipped: '^(a+)+$' looks like a regular "
                                         f"expression ($ ( ) + ^): endpoint patterns are globs, where * stands for any "
                                         f"characters, e.g. /web/dataset/call_kw/sale.*")
        self.assertEqual(len(self.incidents()), 1)
        self.deliver()
        self.assertEqual([a for a, _ in self.pd_events()], ["trigger"])

    def test_a_link_template_with_foreign_braces_pages_with_its_link(self):
        template = 'https://grafana.example.com/explore?left={"expr":"{job=`odoo`}|=`{request_id}`"}'
        self.rule.logs_url_template = template
        incident = self.fire()
        self.assertEqual(incident.logs_url, template.replace("{request_id}", incident.failure_ids[:1].request_id or ""))
        self.deliver()
        [page] = self.sandbox.state.events
        self.assertEqual([link["text"] for link in page["body"]["links"]], [f"Incident {incident.name} in Odoo", "Logs"])
        self.assertEqual(page["body"]["links"][1]["href"], incident.logs_url)


@tagged("post_install", "-at_install")
class TestRulesAndRights(AlertingCase):
    def test_validation_messages_say_what_to_fix(self):
        cases = [
            ({"threshold": 5.0}, "The threshold is a ratio between 0 and 1 (0.05 means 5%); 5 is not."),
            ({"window_minutes": 0}, "The window must be between 1 minute (the bucket width) and 524160 minutes "
                                    "(the 364 days of history kept); 0 is not."),
            ({"min_requests": 0}, "The minimum number of requests must be at least 1; 0 is not."),
            ({"kind": "burn_rate", "objective": 1.5}, "The objective is a ratio between 0 and 1 (0.999 means 99.9%); "
                                                      "1.5 is not."),
            ({"endpoint_selection": "pattern", "endpoint_pattern": "^(a+)+$"},
             "'^(a+)+$' looks like a regular expression ($ ( ) + ^): endpoint patterns are globs, where * stands for "
             "any characters, e.g. /web/dataset/call_kw/sale.*"),
            ({"endpoint_selection": "pattern", "endpoint_pattern": ""},
             "Give the endpoint pattern, e.g. /web/dataset/call_kw/sale.*"),
            ({"pending_minutes": -1}, "The pending time must be between 0 and 1440 minutes; -1 is not."),
            ({"logs_url_template": "https://grafana/explore?left={\"expr\":\"{job=odoo}\"}&rid={reqest_id}"},
             "The logs link uses {reqest_id}, which is not a placeholder: use {endpoint}, {request_id}, {start}, {end}."),
            ({"dashboard_url_template": "javascript:alert(1)"},
             "The dashboard link must start with http:// or https://, e.g. https://grafana.example.com/d/api"),
            ({"runbook_url": "javascript:alert(1)"},
             "The runbook URL must start with http:// or https:// (2,000 characters at most)."),
        ]
        for values, message in cases:
            with self.subTest(values=values), self.assertRaises(ValidationError) as raised:
                self.rule.copy(values)
            self.assertEqual(str(raised.exception), message)

    def test_plain_user_reads_no_secret_and_edits_no_rule(self):
        user = new_test_user(self.env, "viewer", groups="base.group_user,api_monitor.group_api_monitor_user")
        receiver = self.pagerduty.with_user(user)
        self.assertEqual(receiver.read(["name", "kind"])[0]["name"], "PagerDuty (on-call)")
        for secret in ("url", "routing_key", "slack_webhook_url", "webhook_secret", "last_test_result"):
            with self.subTest(secret=secret), self.assertRaises(AccessError):
                receiver.read([secret])
        with self.assertRaises(AccessError):
            self.rule.with_user(user).write({"threshold": 0.5})
        with self.assertRaises(AccessError):
            self.env["api.monitor.rule"].with_user(user).create({"name": "mine"})
        with self.assertRaises(AccessError):
            self.pagerduty.with_user(user).write({"url": "http://127.0.0.1:1/"})

    def test_routing_key_must_be_32_characters(self):
        with self.assertRaises(ValidationError) as raised:
            self.pagerduty.routing_key = "short"
        self.assertEqual(str(raised.exception), "A PagerDuty routing key is 32 letters and digits; the one given for "
                                                "PagerDuty (on-call) has 5 characters.")

    def test_send_test_event_shows_the_remote_answer(self):
        action = self.pagerduty.action_send_test_event()
        self.assertEqual(action["params"]["type"], "success")
        lines = self.pagerduty.last_test_result.splitlines()
        self.assertEqual([line.split(" ", 2)[:2] for line in lines], [["trigger:", "HTTP"], ["resolve:", "HTTP"]])
        self.assertIn('HTTP 202 {"status": "success", "message": "Event processed"', lines[0])
        self.assertEqual([a["status"] for a in self.sandbox.state.snapshot()["alerts"]], ["resolved"])

    def test_flush_with_server_errors_wakes_the_evaluator(self):
        from ..core.recorder import Recorder
        from ..storage.runtime import RUNTIME

        recorder = Recorder()
        recorder.record("x", ENDPOINT, "POST", 200, "server_error", 0.1, now=time.time())
        batch = recorder.take()["x"]
        cron = self.env.ref("api_monitor.ir_cron_evaluate")
        with store.connect(self.env.cr.dbname) as cr:
            cr.execute("SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s", [cron.id])
            before = cr.fetchone()[0]
        RUNTIME._evaluator_woken.clear()
        RUNTIME._wake_evaluator(self.env.cr.dbname, batch)
        RUNTIME._wake_evaluator(self.env.cr.dbname, batch)  # within the same second: no second wake-up
        with store.connect(self.env.cr.dbname) as cr:
            cr.execute("SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s", [cron.id])
            self.assertEqual(cr.fetchone()[0], before + 1)
            cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s", [cron.id])


@tagged("post_install", "-at_install")
class TestWindowSums(AlertingCase):
    def test_sql_window_sums_equal_the_core_definition_for_short_and_long_windows(self):
        import random

        from ..core.rules import window_sums

        rng = random.Random(5)
        # the newest bucket at T0 (any minute of the hour), at the top of an hour and a minute before it: where
        # the window ends against the hourly rows decides in which tables an endpoint is found
        top = T0 // 3600 * 3600
        ends = {"/t/sum/a": T0, "/t/sum/b": T0, "/t/sum/top": top, "/t/sum/59": top - 60}
        minutes = {e: [(end - m * 60, rng.randrange(40), rng.randrange(3)) for m in range(3 * 1440 + 90)]
                   for e, end in ends.items()}
        buckets = {(start, e): TimeBucket(requests=n, server_errors=err)
                   for e, rows in minutes.items() for start, n, err in rows}
        store.write_batch(self.env.cr, Batch(buckets=buckets))
        windows = (5, 60, 120, 360, 1440, 4320)
        for end in sorted(set(ends.values())):
            for offset in (0, 59, 61, 1799, 3599, 3600):
                now = end + offset
                sums = store.window_sums(self.env.cr, now, windows)
                for endpoint in (e for e, e_end in ends.items() if e_end == end):
                    expected = window_sums(minutes[endpoint], now, windows)
                    self.assertEqual(sums[endpoint], expected, (endpoint, offset))

    def test_compaction_keeps_every_window_sum_chart_minute_and_backtest_minute_exactly(self):
        import random

        from ..core.rules import window_sums

        rng = random.Random(8)
        names = ["/t/compact/a", "/t/compact/b"]
        # four days of random traffic ending at T0; an endpoint is idle in about a third of its minutes
        minutes = {e: [(T0 - m * 60, rng.randrange(1, 40), rng.randrange(3)) for m in range(4 * 1440)
                       if rng.random() < 0.65] for e in names}
        store.write_batch(self.env.cr, Batch(buckets={(start, e): TimeBucket(requests=n, server_errors=err)
                                                      for e, rows in minutes.items() for start, n, err in rows}))
        windows = (5, 60, 120, 360, 1440, 2880, 4320)
        instants = [T0 + offset for offset in (0, 59, 61, 1799, 3599, 3600)]
        span = (T0 - 5 * 86400, T0 + 3600)

        def read():
            sums = {now: {e: store.window_sums(self.env.cr, now, windows)[e] for e in names} for now in instants}
            return (sums, store.minute_series(self.env.cr, names, *span),
                    list(store.endpoint_minutes(self.env.cr, names, *span)))

        before = read()
        moved = store.compact(self.env.cr, 1, now=T0)  # every hour that ended a day before T0
        cutoff = store._utc((T0 - 86400) // 3600 * 3600)
        self.assertEqual(moved, sum(1 for rows in minutes.values() for start, *_ in rows
                                    if store._utc(start) < cutoff))
        self.env.cr.execute("SELECT count(*) FROM api_monitor_bucket WHERE endpoint = ANY(%s) AND start < %s",
                            [names, cutoff])
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.env.cr.execute("SELECT count(*) FROM api_monitor_bucket_hour WHERE endpoint = ANY(%s) "
                            "AND minute_requests IS NOT NULL", [names])
        self.assertEqual(self.env.cr.fetchone()[0], 2 * 72)  # three days of hours, two endpoints
        self.assertEqual(read(), before)
        for now in instants:
            for e in names:
                self.assertEqual(before[0][now][e], window_sums(minutes[e], now, windows), (e, now))
        # compacting again moves nothing; a minute that arrives late for a compacted hour counts at once, and
        # is merged into that hour's arrays by the next compaction
        self.assertEqual(store.compact(self.env.cr, 1, now=T0), 0)
        late = T0 - 3 * 86400 + 120
        store.write_batch(self.env.cr, Batch(buckets={(late, names[0]): TimeBucket(requests=7, server_errors=7)}))
        with_late = read()
        self.assertEqual(with_late[0][T0][names[0]][4320].errors, before[0][T0][names[0]][4320].errors + 7)
        self.assertEqual(store.compact(self.env.cr, 1, now=T0), 1)
        self.assertEqual(read(), with_late)

    def test_burn_rate_rule_pages_on_the_fast_tier(self):
        burn = self.env.ref("api_monitor.rule_slo_burn_rate")
        burn.active = True
        self.rule.active = False
        for minute in range(-120, 1):
            self.traffic(minute, 100, 2)  # 2% errors: above 14.4 x 0.1% over 1 h and 5 min
        self.env["api.monitor.rule"]._evaluate(now=T0 + 30)
        incident = self.Incident.search([("rule_id", "=", burn.id)])
        self.assertRecordValues(incident, [{"severity": "P1", "state": "triggered"}])
        self.assertEqual(incident.detail, "burning the 99.90% objective 14.4x too fast: 2.0% over 1h and 2.0% over 5m "
                                          "(page 14.4x)")


@tagged("post_install", "-at_install")
class TestExport(AlertingCase):
    def test_export_files_describe_the_active_rules_with_their_critical_endpoints(self):
        files = self.env["api.monitor.rule"].export_files()
        self.assertEqual(sorted(files), ["alertmanager.yml", "alertmanager_silences.json", "api_monitor_rules.yml"])
        rules = files["api_monitor_rules.yml"]
        self.assertTrue(rules.startswith("# Generated by the Odoo addon api_monitor"))
        self.assertIn('alert: "HighApiErrorRate"', rules)
        self.assertIn('endpoint=~"/web/dataset/call_kw/res\\\\.partner/create"', rules)
        self.assertNotIn("ApiAvailability", rules)  # the burn-rate example is inactive
        self.assertNotIn(self.pagerduty.routing_key, files["alertmanager.yml"])

    def test_the_export_is_for_managers(self):
        user = new_test_user(self.env, "exporter", groups="base.group_user,api_monitor.group_api_monitor_user")
        with self.assertRaises(AccessError):
            self.env["api.monitor.rule"].with_user(user).export_files()

    def test_the_button_downloads_a_zip_of_both_files(self):
        import base64
        import io
        import zipfile

        action = self.rule.action_export_prometheus()
        attachment = self.env["ir.attachment"].browse(int(action["url"].split("/")[3].split("?")[0]))
        names = zipfile.ZipFile(io.BytesIO(base64.b64decode(attachment.datas))).namelist()
        self.assertEqual(sorted(names), ["alertmanager.yml", "alertmanager_silences.json", "api_monitor_rules.yml"])


@tagged("post_install", "-at_install")
class TestEndpointOverview(AlertingCase):
    def test_traffic_shows_the_hours_of_an_endpoint_after_its_minutes_were_compacted(self):
        day = (T0 - 5 * 86400) // 86400 * 86400  # a whole day, five days ago
        minutes = {(day + 3600 * h + 60 * m, "/t/traffic"): TimeBucket(requests=10, server_errors=1 if m == 0 else 0)
                   for h in (9, 10, 17) for m in range(0, 60, 2)}
        store.write_batch(self.env.cr, Batch(buckets=minutes))
        store.compact(self.env.cr, 2, now=T0)
        self.env.cr.execute("SELECT count(*) FROM api_monitor_bucket WHERE endpoint = '/t/traffic'")
        self.assertEqual(self.env.cr.fetchone()[0], 0)  # the minute rows are gone, the hours stay
        Traffic = self.env["api.monitor.traffic"]
        self.assertEqual(
            Traffic.search_read([("endpoint", "=", "/t/traffic")], ["start", "requests", "server_errors"],
                                order="start"),
            [{"id": row.id, "start": to_datetime(day + 3600 * h), "requests": 300, "server_errors": 1}
             for row, h in zip(Traffic.search([("endpoint", "=", "/t/traffic")], order="start"), (9, 10, 17))])
        self.assertEqual(Traffic._read_group([("endpoint", "=", "/t/traffic")], ["start:day"], ["requests:sum"]),
                         [(to_datetime(day), 900)])

    def test_endpoints_show_their_traffic_over_the_chosen_period_and_their_alert_state(self):
        incident = self.fire()  # three minutes at 50% three hours ago; the shipped rule fires
        endpoint = self.endpoint.with_context(api_monitor_period=240)
        self.assertRecordValues(endpoint, [{"period_requests": 300, "period_errors": 150, "period_ratio": 0.5,
                                            "alert_state": "firing", "open_incident_count": 1}])
        last_hour = self.endpoint.with_context(api_monitor_period=60)
        self.assertRecordValues(last_hour, [{"period_requests": 0, "period_errors": 0, "period_ratio": 0.0}])
        self.assertEqual(self.endpoint.action_view_incidents()["domain"], [("endpoint", "=", ENDPOINT)])
        incident._resolve("manual")
        self.endpoint.invalidate_recordset(["alert_state", "open_incident_count"])
        self.assertRecordValues(self.endpoint, [{"alert_state": "ok", "open_incident_count": 0}])

    def test_the_count_follows_the_form_before_saving(self):
        from odoo.tests import Form

        self.env["api.monitor.endpoint"].create([{"name": "/web/dataset/call_kw/sale.order/create"},
                                                 {"name": "/web/dataset/call_kw/sale.order/write"}])
        form = Form(self.env["api.monitor.rule"])
        form.name = "Sales API errors"
        form.endpoint_selection = "pattern"
        form.endpoint_pattern = "/web/dataset/call_kw/sale.*"
        self.assertEqual(form.selected_count, 2)
