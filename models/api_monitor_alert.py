import time

from odoo import api, fields, models

from ..core import alerting, storm
from ..core.rules import SEVERITY_LABELS, Window
from ..core.times import to_datetime, to_epoch
from ..storage import store, wake


class ApiMonitorAlert(models.Model):
    """The state of one rule for one group (an endpoint, or the rule's whole selection).

    Kept in the database so that a restart neither loses nor repeats an alert; the transitions are
    ``core.alerting.step``, decided by ``core.evaluation``.
    """

    _name = "api.monitor.alert"
    _description = "API Monitoring alert state"
    _order = "rule_id, group_key"
    _rec_name = "group_key"

    rule_id = fields.Many2one("api.monitor.rule", required=True, ondelete="cascade", index=True)
    group_key = fields.Char(required=True, help="The endpoint, or * when the rule groups its whole selection.")
    state = fields.Selection([(s, s.capitalize()) for s in alerting.STATES], default=alerting.INACTIVE, required=True)
    severity = fields.Selection(list(SEVERITY_LABELS))
    active_since = fields.Datetime()
    fired_at = fields.Datetime()
    last_breach_at = fields.Datetime()
    clear_since = fields.Datetime(help="First evaluation without a breach while firing: keep-firing runs from it.")
    resolved_at = fields.Datetime()
    incident_id = fields.Many2one("api.monitor.incident", ondelete="set null")

    def init(self):
        # one alert state per rule and group
        store.ensure_unique(self.env.cr, self._table, "api_monitor_alert_rule_group_uniq", ("rule_id", "group_key"))

    def _core_state(self):
        self.ensure_one()
        return alerting.AlertState(
            self.state, to_epoch(self.active_since), to_epoch(self.fired_at), to_epoch(self.last_breach_at),
            to_epoch(self.resolved_at), self.severity or None, to_epoch(self.clear_since),
        )

    def _store(self, state):
        values = {
            "state": state.state, "severity": state.severity, "active_since": to_datetime(state.active_since),
            "fired_at": to_datetime(state.fired_at), "last_breach_at": to_datetime(state.last_breach_at),
            "resolved_at": to_datetime(state.resolved_at), "clear_since": to_datetime(state.clear_since),
        }
        if any(self[key] != value for key, value in values.items()):
            self.write(values)

    def _apply(self, outcome, now, updates):
        """Store one evaluation's outcome (``core.evaluation.Outcome``) and act on its events.

        A firing alert that keeps breaching only moves its ``last_breach_at`` and its incident's figures:
        those go into ``updates`` and are written in bulk at the end of the evaluation. Transitions are
        written at once.
        """
        self.ensure_one()
        previous, state, verdict = outcome.previous or alerting.AlertState(), outcome.state, outcome.verdict
        steady = (not outcome.events and previous.state == state.state == alerting.FIRING
                  and previous.severity == state.severity and previous.clear_since == state.clear_since)
        if steady:
            if state.last_breach_at != previous.last_breach_at:
                updates.alerts.append((self.id, to_datetime(state.last_breach_at)))
        else:
            self._store(state)
        Incident = self.env["api.monitor.incident"]
        incident = self.incident_id
        in_storm = incident.storm and incident.state != "resolved"
        for event in outcome.events:
            if event == alerting.FIRE and not in_storm:  # an endpoint in a storm joined its incident already
                self.incident_id = incident = Incident._open(self, verdict, list(outcome.members), now)
            elif event == alerting.ESCALATE and incident:
                if not in_storm:
                    incident._escalate(state.severity, verdict, now)
                elif storm.more_severe(state.severity, incident.severity):
                    incident._escalate(state.severity, verdict, now, endpoint=self.group_key)
            elif event == alerting.RESOLVE and incident and not in_storm:  # a storm resolves with its last one
                incident._observe(verdict)
                incident._resolve("recovered", now=now)
        if state.state == alerting.FIRING and incident and incident.state != "resolved":
            if in_storm:
                updates.storm_member(incident, verdict)
            elif outcome.events:
                incident._observe(verdict)
            else:
                updates.observe(incident, verdict)

    @api.model
    def _updates(self):
        return EvaluationUpdates()

    @api.model
    def _wake_evaluator_at(self, at):
        """Make sure the evaluator runs at epoch ``at``: a trigger row, and a precise timer when it is near."""
        cron = self.env.ref("api_monitor.ir_cron_evaluate", raise_if_not_found=False)
        if cron is None:
            return
        cron.sudo()._trigger(at=to_datetime(max(at, time.time())))
        dbname = self.env.cr.dbname
        self.env.cr.postcommit.add(lambda: wake.wake_at(dbname, "evaluate", at))


class EvaluationUpdates:
    """The steady-state writes of one evaluation, applied in two SQL statements instead of one ORM write
    per firing group (100 rules over 2,000 endpoints can keep thousands of groups firing)."""

    def __init__(self):
        self.alerts = []  # (alert id, last_breach_at)
        self.incidents = []  # (incident id, current ratio, peak ratio, requests, errors, detail)
        self.storms = {}  # storm incident id: [firing endpoints, Window over them]

    def storm_member(self, incident, verdict):
        """One firing endpoint of a storm: its window counts toward the storm incident's figures."""
        members = self.storms.setdefault(incident.id, [0, Window()])
        members[0] += 1
        members[1] += verdict.window

    def observe(self, incident, verdict):
        ratio = round(verdict.ratio or 0.0, 4)  # as the ORM rounds the incident's ratios (4 digits)
        values = (ratio, max(ratio, incident.peak_ratio), verdict.window.requests, verdict.window.errors,
                  verdict.detail or incident.detail or "")
        if values != (incident.current_ratio, incident.peak_ratio, incident.window_requests,
                      incident.window_errors, incident.detail or ""):
            self.incidents.append((incident.id, *values))

    def apply(self, env):
        store.update_firing(env.cr, self.alerts, self.incidents)
        if self.alerts:
            env["api.monitor.alert"].invalidate_model(["last_breach_at"])
        if self.incidents:
            env["api.monitor.incident"].invalidate_model(
                ["current_ratio", "peak_ratio", "window_requests", "window_errors", "detail"])
