"""The backtest on the real Odoo: it replays stored buckets through the evaluator, shows what would have
paged, notifies nobody, and decides exactly as the live evaluator did on the same buckets."""

import datetime

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from ..storage import store
from .test_alerting import ENDPOINT, T0, AlertingCase


def at(minute, second=0):
    return datetime.datetime.fromtimestamp(T0 + minute * 60 + second, datetime.timezone.utc).replace(tzinfo=None)


@tagged("post_install", "-at_install")
class TestBacktest(AlertingCase):
    def setUp(self):
        super().setUp()
        # an hour of 100 requests a minute; minutes 20 to 29 have 20% server errors
        for minute in range(60):
            self.traffic(minute, 100, 20 if 20 <= minute < 30 else 0)

    def backtest(self, **values):
        wizard = self.env["api.monitor.backtest"].create(
            {"rule_id": self.rule.id, "date_from": at(10), "date_to": at(60), **values})
        wizard.action_run()
        return wizard

    def test_backtest_shows_the_incident_the_rule_would_have_opened_and_notifies_nobody(self):
        incidents, notifications = self.Incident.search_count([]), self.env["api.monitor.notification"].search_count([])
        wizard = self.backtest()
        # 5-minute windows: the first over 5% ends with minute 21 (seen at 22:00), 1 minute pending -> fires at
        # minute 23; the last over 5% ends with minute 32 (seen at 33:00), the first clear evaluation is at
        # 34:00, keep firing 5 minutes -> resolves at 39:00; the peak is 100 errors in 500 requests
        self.assertEqual(
            [(line.group_key, line.first_breach, line.fired_at, line.resolved_at, round(line.peak_ratio, 4),
              line.severity, line.pages) for line in wizard.line_ids],
            [(ENDPOINT, at(22), at(23), at(39), 0.2, "P1", True)])
        self.assertEqual(wizard.line_ids.duration_minutes, 16.0)
        self.assertEqual(wizard.summary.split(",")[0], "1 incident(s) would have been opened")
        self.assertIn("1 of them paging", wizard.summary)
        self.assertIn("<svg", wizard.chart)
        self.assertEqual(self.Incident.search_count([]), incidents)
        self.assertEqual(self.env["api.monitor.notification"].search_count([]), notifications)
        self.assertEqual(self.sandbox.state.snapshot()["events"], [])

    def test_the_live_evaluator_decided_exactly_as_the_backtest_says(self):
        wizard = self.backtest()
        # the live evaluator, one evaluation a minute over the same buckets: at T - 1 s it sees the minutes
        # before T, as the backtest's evaluation "at T" does
        for minute in range(11, 61):
            self.env["api.monitor.rule"]._evaluate(now=T0 + minute * 60 - 1)
        live = self.Incident.search([("rule_id", "=", self.rule.id), ("endpoint", "=", ENDPOINT)])
        self.assertEqual(len(live), 1)
        line = wizard.line_ids
        self.assertEqual((live.triggered_at, live.resolved_at), (line.fired_at - datetime.timedelta(seconds=1),
                                                                 line.resolved_at - datetime.timedelta(seconds=1)))
        self.assertEqual(round(live.peak_ratio, 4), round(line.peak_ratio, 4))

    def test_a_quiet_period_would_have_opened_nothing(self):
        wizard = self.backtest(date_from=at(40), date_to=at(60))
        self.assertFalse(wizard.line_ids)
        self.assertTrue(wizard.summary.startswith("0 incident(s) would have been opened, 0 of them paging"))

    def test_a_period_that_ends_before_it_starts_says_what_to_fix(self):
        with self.assertRaisesRegex(ValidationError, "set 'To' after 'From'"):
            self.env["api.monitor.backtest"].create({"rule_id": self.rule.id, "date_from": at(60), "date_to": at(10)})
        with self.assertRaisesRegex(ValidationError, "at most 31 days"):
            self.env["api.monitor.backtest"].create(
                {"rule_id": self.rule.id, "date_from": at(0) - datetime.timedelta(days=40), "date_to": at(0)})

    def test_a_monitoring_user_can_backtest_from_the_rule(self):
        user = new_test_user(self.env, "backtester", groups="api_monitor.group_api_monitor_user")
        action = self.rule.with_user(user).action_backtest()
        self.assertEqual((action["res_model"], action["context"]), ("api.monitor.backtest", {"default_rule_id": self.rule.id}))
        wizard = self.env["api.monitor.backtest"].with_user(user).with_context(**action["context"]).create(
            {"date_from": at(10), "date_to": at(60)})
        wizard.action_run()
        self.assertEqual(len(wizard.line_ids), 1)

    def test_a_backtest_larger_than_it_can_finish_is_refused_with_what_to_change(self):
        self.rule.endpoint_selection = "all"
        endpoints = self.env["api.monitor.endpoint"].create([{"name": f"/t/bt/{n}"} for n in range(40)])
        groups = len(self.rule._groups(store.endpoints(self.env.cr)))
        self.assertGreaterEqual(groups, len(endpoints))
        wizard = self.env["api.monitor.backtest"].create({
            "rule_id": self.rule.id, "date_from": at(0) - datetime.timedelta(days=30), "date_to": at(0)})
        minutes = 30 * 1440 + 1
        with self.assertRaises(ValidationError) as raised:
            wizard.action_run()
        self.assertEqual(str(raised.exception), (
            f"This backtest would replay {groups * minutes:,} evaluations ({groups} endpoint groups, one a minute); "
            "one backtest replays at most 1,500,000. Shorten the period or narrow the rule's endpoints."))
        self.assertFalse(wizard.done)

    def test_a_backtest_is_its_creators_alone(self):
        owner = new_test_user(self.env, "bt-owner", groups="api_monitor.group_api_monitor_user")
        other = new_test_user(self.env, "bt-other", groups="api_monitor.group_api_monitor_manager")
        wizard = self.env["api.monitor.backtest"].with_user(owner).create(
            {"rule_id": self.rule.id, "date_from": at(10), "date_to": at(60)})
        wizard.action_run()
        Backtest = self.env["api.monitor.backtest"].with_user(other)
        self.assertFalse(Backtest.search([("id", "=", wizard.id)]))
        with self.assertRaises(AccessError):
            Backtest.browse(wizard.id).read(["summary"])
        self.assertFalse(self.env["api.monitor.backtest.line"].with_user(other).search([("backtest_id", "=", wizard.id)]))

    def test_the_chart_is_drawn_from_the_data_and_nothing_written_on_the_backtest(self):
        wizard = self.backtest()
        wizard.write({"summary": "<img src=x onerror=alert(1)>"})
        self.assertNotIn("onerror", wizard.chart)
        self.assertTrue(wizard.chart.startswith("<svg"))
        self.assertFalse(self.env["api.monitor.backtest"]._fields["chart"].store)  # nobody can write it
