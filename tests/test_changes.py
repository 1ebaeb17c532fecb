"""What changed just before: server starts, module installs and upgrades, monitoring settings and rules are
recorded with their time, an incident shows those of the hour before its trigger, and /metrics exposes them."""

import json
import re

from odoo.tests import new_test_user, tagged

from ..core import exposition
from ..core.times import to_datetime
from ..models.api_monitor_change import VERSIONS_PARAM
from ..storage import store
from .test_alerting import AlertingCase
from .test_silences import FIRED_AT


@tagged("post_install", "-at_install")
class TestChanges(AlertingCase):
    def changes(self, kind):
        return self.env["api.monitor.change"].search([("kind", "=", kind)], order="id desc")

    def test_an_upgrade_and_an_install_are_marked_once_and_a_start_once_for_all_workers(self):
        Change = self.env["api.monitor.change"]
        params = self.env["ir.config_parameter"].sudo()
        versions = json.loads(params.get_param(VERSIONS_PARAM))
        self.assertEqual(versions["api_monitor"], self.env.ref("base.module_api_monitor").latest_version)
        seen = dict(versions, api_monitor="18.0.0.9.0")
        del seen["mail"]
        params.set_param(VERSIONS_PARAM, json.dumps(seen))
        before = Change.search([]).ids
        Change._note_start_and_modules()
        new = Change.search([("id", "not in", before)], order="id")
        self.assertEqual(sorted(new.mapped("summary")), sorted([
            f"api_monitor upgraded from 18.0.0.9.0 to {versions['api_monitor']}",
            f"mail installed ({versions['mail']})"]))  # the start was recorded when the registry loaded
        self.assertEqual(json.loads(params.get_param(VERSIONS_PARAM)), versions)
        Change._note_start_and_modules()  # another worker loading the same registry
        self.assertEqual(Change.search_count([("id", "not in", before)]), 2)

    def test_rule_and_settings_changes_are_marked_without_values(self):
        manager = new_test_user(self.env, "changer", name="changer", groups="base.group_user,api_monitor.group_api_monitor_manager,"
                                                        "base.group_system")
        self.rule.with_user(manager).write({"threshold": 0.1, "runbook_url": "https://wiki.example.com/r"})
        marked = self.changes("rule")
        self.assertEqual(marked[0].summary, "Rule High API error rate changed by changer: Threshold")
        self.rule.with_user(manager).write({"runbook_url": "https://wiki.example.com/other"})
        self.assertEqual(self.changes("rule"), marked)  # a runbook link decides nothing
        settings = self.env["res.config.settings"].with_user(manager).create({"api_monitor_flush_interval": 9,
                                                                              "api_monitor_metrics_token": "t0ken-x"})
        settings.execute()
        self.assertEqual(self.changes("settings")[0].summary,
                         "Monitoring settings changed by changer: Metrics token, Flush interval (seconds)")
        self.assertNotIn("t0ken-x", self.changes("settings")[0].summary)

    def test_an_incident_shows_the_changes_of_the_hour_before_it_on_its_form_and_chart(self):
        Change = self.env["api.monitor.change"]
        old = Change._record("rule", "Rule High API error rate changed by x: Threshold", FIRED_AT - 3 * 3600)
        upgrade = Change._record("module", "sale upgraded from 18.0.1.0 to 18.0.1.1", FIRED_AT - 20 * 60)
        incident = self.fire()
        self.assertEqual(incident.change_ids & (old | upgrade), upgrade)
        self.assertIn("sale upgraded from 18.0.1.0 to 18.0.1.1</title></line>", incident.chart)
        snapshot = store.read_snapshot(self.env.cr)
        self.assertEqual(snapshot.changes["module"], FIRED_AT - 20 * 60)
        exposed = re.search(r'^api_monitor_last_change_timestamp_seconds\{kind="module"\} (\S+)$',
                            exposition.render(snapshot).decode(), re.MULTILINE)
        self.assertEqual(float(exposed.group(1)), FIRED_AT - 20 * 60)
        self.assertEqual(upgrade.at, to_datetime(FIRED_AT - 20 * 60))
