import datetime
import time

from odoo import api, fields, models

from ..core import alerting
from ..instrumentation import wake
from .api_monitor_receiver import SEVERITY_SELECTION


def to_datetime(epoch):
    return None if epoch is None else datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).replace(tzinfo=None)


def to_epoch(value):
    return None if not value else value.replace(tzinfo=datetime.timezone.utc).timestamp()


class ApiMonitorAlert(models.Model):
    """The state of one rule for one group (an endpoint, or the rule's whole selection).

    Kept in the database so that a restart neither loses nor repeats an alert; the transitions are
    ``core.alerting.step``.
    """

    _name = "api.monitor.alert"
    _description = "API Monitoring alert state"
    _order = "rule_id, group_key"
    _rec_name = "group_key"

    rule_id = fields.Many2one("api.monitor.rule", required=True, ondelete="cascade", index=True)
    group_key = fields.Char(required=True, help="The endpoint, or * when the rule groups its whole selection.")
    state = fields.Selection([(s, s.capitalize()) for s in alerting.STATES], default=alerting.INACTIVE, required=True)
    severity = fields.Selection(SEVERITY_SELECTION)
    active_since = fields.Datetime()
    fired_at = fields.Datetime()
    last_breach_at = fields.Datetime()
    resolved_at = fields.Datetime()
    incident_id = fields.Many2one("api.monitor.incident", ondelete="set null")

    _sql_constraints = [("rule_group_uniq", "unique(rule_id, group_key)", "One alert state per rule and group.")]

    def _core_state(self):
        self.ensure_one()
        return alerting.AlertState(
            self.state, to_epoch(self.active_since), to_epoch(self.fired_at), to_epoch(self.last_breach_at),
            to_epoch(self.resolved_at), self.severity or None,
        )

    def _store(self, state):
        values = {
            "state": state.state, "severity": state.severity, "active_since": to_datetime(state.active_since),
            "fired_at": to_datetime(state.fired_at), "last_breach_at": to_datetime(state.last_breach_at),
            "resolved_at": to_datetime(state.resolved_at),
        }
        if any(self[key] != value for key, value in values.items()):
            self.write(values)

    def _advance(self, verdict, members, now, timing):
        """Apply one evaluation's verdict; returns when the state would change by itself (epoch) or None."""
        self.ensure_one()
        state, events = alerting.step(self._core_state(), verdict.breach, verdict.severity, now, timing)
        self._store(state)
        Incident = self.env["api.monitor.incident"]
        for event in events:
            if event == alerting.FIRE:
                self.incident_id = Incident._open(self, verdict, members, now)
            elif event == alerting.ESCALATE and self.incident_id:
                self.incident_id._escalate(state.severity, verdict)
            elif event == alerting.RESOLVE and self.incident_id:
                self.incident_id._observe(verdict)
                self.incident_id._resolve("recovered", now=now)
        if state.state == alerting.FIRING and self.incident_id and self.incident_id.state != "resolved":
            self.incident_id._observe(verdict)
        return alerting.next_evaluation(state, timing)

    @api.model
    def _wake_evaluator_at(self, at):
        """Make sure the evaluator runs at epoch ``at``: a trigger row, and a precise timer when it is near."""
        cron = self.env.ref("api_monitor.ir_cron_evaluate", raise_if_not_found=False)
        if cron is None:
            return
        cron.sudo()._trigger(at=to_datetime(max(at, time.time())))
        dbname = self.env.cr.dbname
        self.env.cr.postcommit.add(lambda: wake.wake_at(dbname, "evaluate", at))
