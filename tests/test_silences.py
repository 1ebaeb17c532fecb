"""Silences and maintenance windows on the real Odoo: incidents they match open silenced and nobody is told;
what they held back pages when they end while the rule still fires; every other incident pages as before."""

import json

from odoo.exceptions import ValidationError
from odoo.tests import new_test_user, tagged

from ..core.times import to_datetime
from .test_alerting import ENDPOINT, T0, AlertingCase

FIRED_AT = T0 + 2 * 60 + 10  # when fire() makes the shipped rule fire


@tagged("post_install", "-at_install")
class TestSilences(AlertingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Silence = cls.env["api.monitor.silence"]
        cls.responder = new_test_user(cls.env, "silencer", groups="base.group_user,api_monitor.group_api_monitor_user")

    def silence(self, starts, ends, **values):
        return self.Silence.create({"name": "Database upgrade", "kind": "once", "starts_at": to_datetime(starts),
                                    "ends_at": to_datetime(ends), "rule_ids": [self.rule.id], **values})

    def keep_failing(self, until_minute):
        for minute in range(3, until_minute):
            self.traffic(minute, 100, 50)

    def test_a_silence_in_force_opens_the_incident_silenced_and_tells_nobody(self):
        silence = self.silence(T0, T0 + 3600, endpoint_pattern=ENDPOINT)
        incident = self.fire()
        self.deliver()
        self.assertRecordValues(incident, [{"state": "triggered", "held": True, "silence_id": silence.id}])
        self.assertFalse(incident.notification_ids)
        self.assertEqual(self.sandbox.state.snapshot()["events"], [])
        self.assertEqual(self.sandbox.state.snapshot()["slack"], [])
        self.assertFalse(incident.delivery_problem)  # silenced is not "nobody could be told"
        self.assertEqual(silence.incident_ids, incident)
        self.assertIn("Silenced by", incident.message_ids[0].body)

    def test_a_silence_starts_and_ends_where_it_says(self):
        # it starts one second after the rule fires: the page goes out
        self.silence(FIRED_AT + 1, FIRED_AT + 3600)
        incident = self.fire()
        self.deliver()
        self.assertFalse(incident.held)
        self.assertEqual(self.pd_events(), [("trigger", incident.dedup_key)])

    def test_a_silence_that_starts_at_the_trigger_holds_it_and_its_end_pages_if_the_rule_still_fires(self):
        self.silence(FIRED_AT, FIRED_AT + 5 * 60)
        incident = self.fire()
        self.keep_failing(12)
        for seconds in (FIRED_AT + 60, FIRED_AT + 4 * 60, FIRED_AT + 5 * 60 - 1):
            self.evaluate(seconds - T0)
        self.assertTrue(incident.held)
        self.assertEqual(self.pd_events(), [])
        self.evaluate(FIRED_AT + 5 * 60 - T0)  # its end is excluded: the silence is over
        self.assertRecordValues(incident, [{"state": "triggered", "held": False}])
        self.assertEqual(self.pd_events(), [("trigger", incident.dedup_key)])
        self.assertEqual(len(self.sandbox.state.snapshot()["slack"]), 1)
        self.evaluate(FIRED_AT + 6 * 60 - T0)
        self.assertEqual(self.pd_events(), [("trigger", incident.dedup_key)])  # once
        self.assertIn("paging now", incident.message_ids[0].body)

    def test_what_it_does_not_match_pages_as_before(self):
        other_rule = self.rule.copy({"name": "Another rule"})
        self.Silence.create([
            {"name": "Sales deployment", "starts_at": to_datetime(T0), "ends_at": to_datetime(T0 + 3600),
             "endpoint_pattern": "/web/dataset/call_kw/sale.*"},
            {"name": "Tickets only", "starts_at": to_datetime(T0), "ends_at": to_datetime(T0 + 3600),
             "severity_p3": True, "severity_p4": True},
            {"name": "Other rule", "starts_at": to_datetime(T0), "ends_at": to_datetime(T0 + 3600),
             "rule_ids": [other_rule.id]},
            {"name": "Yesterday", "starts_at": to_datetime(T0 - 86400), "ends_at": to_datetime(T0 - 82800),
             "rule_ids": [self.rule.id]},
        ])
        other_rule.active = False
        incident = self.fire()
        self.deliver()
        self.assertRecordValues(incident, [{"held": False, "silence_id": False}])
        self.assertEqual(self.pd_events(), [("trigger", incident.dedup_key)])

    def test_a_weekly_window_across_midnight_holds_every_day(self):
        days = dict.fromkeys(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"), True)
        hour = (FIRED_AT // 3600) % 24
        window = self.Silence.create({"name": "Nightly batch", "kind": "weekly", "tz": "UTC", **days,
                                      "time_from": (hour - 1) % 24, "time_to": (hour + 1) % 24})
        incident = self.fire()
        self.deliver()
        self.assertRecordValues(incident, [{"held": True, "silence_id": window.id}])
        self.assertEqual(self.pd_events(), [])
        # the window is shifted away: the next evaluation pages
        window.write({"time_from": (hour + 2) % 24, "time_to": (hour + 3) % 24})
        self.keep_failing(5)
        self.evaluate(FIRED_AT + 60 - T0)
        self.assertEqual(self.pd_events(), [("trigger", incident.dedup_key)])

    def test_acknowledged_or_recovered_while_silenced_tells_nobody_later(self):
        self.silence(T0, FIRED_AT + 3 * 60)
        incident = self.fire()
        incident.with_user(self.responder).action_acknowledge()
        self.assertFalse(incident.held)
        self.keep_failing(8)
        self.evaluate(FIRED_AT + 4 * 60 - T0)  # after the silence: acknowledged, so nothing goes out
        self.assertEqual(self.pd_events(), [])
        incident.with_user(self.responder).action_resolve()
        self.deliver()
        self.assertEqual(self.pd_events(), [])
        self.assertFalse(incident.notification_ids)

    def test_silence_for_an_hour_from_the_incident(self):
        incident = self.fire()
        self.deliver()
        action = incident.with_user(self.responder).action_silence()
        self.assertEqual((action["res_model"], action["target"]), ("api.monitor.silence", "new"))
        context = action["context"]
        silence = self.Silence.with_user(self.responder).with_context(**context).create(
            {"name": "Rolling back the release"})
        self.assertRecordValues(silence, [{"kind": "once", "rule_ids": [self.rule.id], "endpoint_pattern": ENDPOINT,
                                           "status": "active"}])
        self.assertEqual((silence.ends_at - silence.starts_at).total_seconds(), 3600)
        self.assertEqual(incident.silence_id, silence)
        self.assertFalse(incident.held)  # its page went out before: it stays sent
        self.assertIn("silenced its alerts until", incident.message_ids[0].body)
        self.assertEqual(silence.create_uid, self.responder)
        silence.with_user(self.responder).action_expire()
        self.assertRecordValues(silence, [{"active": False, "status": "expired"}])

    def test_what_a_monitoring_user_may_not_silence_and_what_cannot_work(self):
        mine = self.Silence.with_user(self.responder)
        cases = [
            ({"kind": "weekly", "monday": True, "rule_ids": [self.rule.id]},
             "Weekly maintenance windows are set by API Monitoring managers: ask one, or silence once."),
            ({"starts_at": to_datetime(T0), "ends_at": to_datetime(T0 + 25 * 3600), "rule_ids": [self.rule.id]},
             "A silence longer than 24 hours is set by API Monitoring managers: shorten it, or ask one."),
            ({"starts_at": to_datetime(T0), "ends_at": to_datetime(T0 + 3600)},
             "This silence would hold back every page: choose a rule, endpoints or severities (silencing everything "
             "is set by API Monitoring managers)."),
            ({"starts_at": to_datetime(T0), "ends_at": to_datetime(T0 - 60), "rule_ids": [self.rule.id]},
             "The silence ends before it starts: the end must be after the start."),
            ({"endpoint_pattern": "^/web/.*$"}, "'^/web/.*$' looks like a regular expression ($ ^): endpoint patterns "
                                                "are globs, where * stands for any characters, e.g. "
                                                "/web/dataset/call_kw/sale.*"),
        ]
        for values, message in cases:
            with self.subTest(message=message), self.assertRaises(ValidationError) as caught:
                mine.create({"name": "x", **values})
            self.assertEqual(str(caught.exception), message)
        with self.assertRaises(ValidationError) as caught:
            self.Silence.create({"name": "x", "kind": "weekly", "time_from": 1.0, "time_to": 2.0})
        self.assertEqual(str(caught.exception), "Choose at least one weekday for a weekly window.")
        self.assertEqual(self.Silence.search_count([("name", "=", "x")]), 0)
        # a manager sets a window of everything for the weekend
        manager = new_test_user(self.env, "silence_manager",
                                groups="base.group_user,api_monitor.group_api_monitor_manager")
        window = self.Silence.with_user(manager).create({"name": "Weekend upgrade", "kind": "weekly", "saturday": True,
                                                          "time_from": 22.0, "time_to": 6.0, "tz": "Europe/Brussels"})
        self.assertEqual(window.when_label, "Sat 22:00-06:00 (Europe/Brussels)")
        self.assertEqual(window.matches_label, "Every incident")

    def test_a_silence_forced_into_the_database_with_bad_values_is_left_out_and_the_page_goes_out(self):
        silence = self.silence(T0, T0 + 3600)
        self.env.cr.execute("UPDATE api_monitor_silence SET endpoint_pattern = %s WHERE id = %s",
                            ["^(a+)+$", silence.id])
        silence.invalidate_recordset()
        with self.assertLogs("odoo.addons.api_monitor.models.api_monitor_silence", level="ERROR") as logs:
            incident = self.fire()
        self.deliver()
        self.assertTrue(logs.output[0].endswith(f"api_monitor: silence {silence.id} is left out: '^(a+)+$' looks like "
                                                f"a regular expression ($ ( ) + ^): endpoint patterns are globs, where "
                                                f"* stands for any characters, e.g. /web/dataset/call_kw/sale.*"))
        self.assertEqual(self.pd_events(), [("trigger", incident.dedup_key)])

    def test_silences_go_to_alertmanager(self):
        self.silence(T0, T0 + 10 ** 6, endpoint_pattern="/web/dataset/call_kw/sale.*", severity_p3=True)
        self.Silence.create({"name": "Nightly batch", "kind": "weekly", "saturday": True, "time_from": 22.0,
                             "time_to": 2.0, "tz": "Europe/Brussels", "rule_ids": [self.rule.id]})
        files = self.env["api.monitor.rule"].export_files()
        silences = json.loads(files["alertmanager_silences.json"])
        self.assertEqual([(s["comment"], s["matchers"]) for s in silences], [("Database upgrade", [
            {"name": "rule", "value": "High API error rate", "isRegex": True, "isEqual": True},
            {"name": "endpoint", "value": "/web/dataset/call_kw/sale\\..*", "isRegex": True, "isEqual": True},
            {"name": "severity", "value": "P3", "isRegex": True, "isEqual": True}])])
        config = files["alertmanager.yml"]
        self.assertIn('- weekdays:\n          - "saturday"\n', config)
        self.assertIn('start_time: "22:00"', config)
        self.assertIn('- weekdays:\n          - "sunday"\n', config)

    def test_a_silence_of_a_rule_that_is_archived_or_deleted_never_silences_the_others(self):
        other_rule = self.rule.copy({"name": "Another rule"})
        silence = self.silence(T0, T0 + 3600, rule_ids=[other_rule.id])
        other_rule.active = False
        incident = self.fire()
        self.assertFalse(incident.held)
        other_rule.unlink()
        self.assertFalse(silence.active)
        self.assertIn("the rules it silenced were deleted", silence.message_ids[0].body)
