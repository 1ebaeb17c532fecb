"""The on-call engineer's and the operator's paths in a real browser (headless Chromium): Odoo tours."""

import datetime

from odoo.tests import HttpCase, new_test_user, tagged

from .test_alerting import ENDPOINT, AlertingCase


@tagged("post_install", "-at_install")
class TestTours(AlertingCase, HttpCase):
    def test_oncall_acknowledges_notes_silences_and_resolves_from_the_link(self):
        incident = self.fire()
        self.deliver()
        oncall = new_test_user(self.env, "oncall_tour", password="oncall_tour_pw",  # noqa: S106 - a test user
                               groups="base.group_user,api_monitor.group_api_monitor_user")
        self.start_tour(f"/api_monitor/incident/{incident.id}", "api_monitor_oncall", login="oncall_tour")
        self.assertRecordValues(incident, [{"state": "resolved", "resolution": "manual",
                                            "acknowledged_by_id": oncall.id, "resolved_by_id": oncall.id}])
        note = incident.message_ids.filtered(lambda m: "Rolled back release 42" in (m.body or ""))
        self.assertEqual((len(note), note.author_id, note.subtype_id),
                         (1, oncall.partner_id, self.env.ref("mail.mt_note")))
        silence = incident.silence_id
        self.assertRecordValues(silence, [{"name": "Rollback in progress", "kind": "once", "endpoint_pattern": ENDPOINT,
                                           "rule_ids": [self.rule.id]}])
        self.assertEqual(silence.create_uid, oncall)
        self.assertEqual(silence.ends_at - silence.starts_at, datetime.timedelta(hours=1))
        self.deliver()
        self.assertEqual([a for a, _ in self.pd_events()], ["trigger", "acknowledge", "resolve"])

    def test_a_new_rule_says_how_many_endpoints_its_pattern_selects(self):
        Endpoint = self.env["api.monitor.endpoint"]
        Endpoint.create([{"name": "/web/dataset/call_kw/sale.order/create"},
                         {"name": "/web/dataset/call_kw/sale.order/write"},
                         {"name": "/web/dataset/call_kw/stock.picking/write"}])
        new_test_user(self.env, "rules_tour", password="rules_tour_pw",  # noqa: S106 - a test user
                      groups="base.group_user,api_monitor.group_api_monitor_manager")
        self.start_tour("/odoo/action-api_monitor.api_monitor_rule_action/new", "api_monitor_new_rule",
                        login="rules_tour")
        rule = self.env["api.monitor.rule"].search([("name", "=", "Sales API errors")])
        self.assertRecordValues(rule, [{"endpoint_selection": "pattern", "endpoint_pattern": "/web/dataset/call_kw/sale.*",
                                        "selected_count": 2}])
