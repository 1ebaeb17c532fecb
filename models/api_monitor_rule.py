import base64
import io
import logging
import time
import zipfile

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..core import alerting, evaluation, storm
from ..core.export import RuleExport, alertmanager_config, prometheus_rules
from ..core.rules import (
    SELECT_PATTERN,
    SEVERITY_LABELS,
    BurnRateRule,
    RuleError,
    RuleFields,
    ThresholdRule,
    check_rule,
    workbook_tiers,
)
from ..storage import store

_logger = logging.getLogger(__name__)
#: the rule fields whose change is marked on the incidents opened after it (what decides or routes a page)
_MARKED = ("active", "kind", "endpoint_selection", "endpoint_ids", "endpoint_pattern", "group_by", "threshold",
           "window_minutes", "min_requests", "pending_minutes", "keep_firing_minutes", "objective", "page_severity",
           "ticket_severity", "severity", "receiver_ids", "storm_limit")


class ApiMonitorRule(models.Model):
    """An alert rule: which endpoints, what counts as a breach, who is told.

    The evaluator (:meth:`_evaluate`) reads the window sums, lets ``core.evaluation`` decide, and stores
    what it decided; every check of a rule's values is ``core.rules.check_rule``.
    """

    _name = "api.monitor.rule"
    _description = "API Monitoring alert rule"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    sequence = fields.Integer(default=10)
    kind = fields.Selection(
        [("threshold", "Error ratio above a threshold"), ("burn_rate", "SLO burn rate (multiwindow)")],
        required=True, default="threshold", tracking=True,
    )
    endpoint_selection = fields.Selection(
        [("critical", "Critical endpoints"), ("all", "All endpoints"), ("list", "Chosen endpoints"),
         ("pattern", "Endpoints matching a pattern")],
        string="Endpoints", required=True, default="critical", tracking=True,
    )
    endpoint_ids = fields.Many2many("api.monitor.endpoint", string="Chosen endpoints", tracking=True)
    endpoint_pattern = fields.Char(
        tracking=True, help="Globs separated by spaces; * stands for any characters, e.g. /web/dataset/call_kw/sale.*")
    group_by = fields.Selection(
        [("endpoint", "One incident per endpoint"), ("rule", "One incident for the whole selection")],
        required=True, default="endpoint", tracking=True,
    )
    threshold = fields.Float(default=0.05, tracking=True, digits=(16, 4), help="Server-error ratio that breaches: 0.05 is 5%.")
    window_minutes = fields.Integer(string="Window (minutes)", default=5, tracking=True)
    min_requests = fields.Integer(default=20, tracking=True, help="Breaches need at least this many requests in the window.")
    pending_minutes = fields.Float(string="Pending (minutes)", default=1.0, tracking=True,
                                   help="How long a breach must last before the rule fires.")
    keep_firing_minutes = fields.Float(string="Keep firing (minutes)", default=5.0, tracking=True,
                                       help="How long a firing rule waits without a breach before it resolves.")
    objective = fields.Float(default=0.999, tracking=True, digits=(16, 5), help="The SLO: share of requests without server error.")
    page_severity = fields.Selection(list(SEVERITY_LABELS), default="P1", required=True, tracking=True,
                                     help="Severity of the fast-burn (page) tiers: 14.4x over 1h and 5m, 6x over 6h and 30m.")
    ticket_severity = fields.Selection(list(SEVERITY_LABELS), default="P3", required=True, tracking=True,
                                       help="Severity of the slow-burn (ticket) tiers: 3x over 1d and 2h, 1x over 3d and 6h.")
    severity = fields.Selection(list(SEVERITY_LABELS), default="P1", required=True, tracking=True)
    storm_limit = fields.Integer(
        string="Storm above (endpoints)", default=storm.DEFAULT_LIMIT, tracking=True,
        help="When more endpoints than this fire in one evaluation, they make one incident for the rule and one "
             "page, and endpoints that fire while it is open join it. 0: one incident per endpoint, always.")
    receiver_ids = fields.Many2many("api.monitor.receiver", string="Receivers", tracking=True)
    runbook_url = fields.Char(string="Runbook URL", tracking=True)
    dashboard_url_template = fields.Char(
        string="Dashboard link", help="May use {endpoint}, {start} and {end} (ISO 8601, URL-encoded); other "
                                      "braces are kept as written.")
    logs_url_template = fields.Char(
        string="Logs link", help="May use {endpoint}, {request_id}, {start} and {end}; other braces (a Loki "
                                 "query's {job=\"odoo\"}) are kept as written.")
    alert_ids = fields.One2many("api.monitor.alert", "rule_id", readonly=True)
    incident_ids = fields.One2many("api.monitor.incident", "rule_id", readonly=True)
    incident_count = fields.Integer(compute="_compute_incident_count")
    selected_count = fields.Integer(
        string="Endpoints watched", compute="_compute_selected_count",
        help="How many known endpoints the rule's selection takes in now. A rule that takes in none watches nothing.")

    @api.depends("endpoint_selection", "endpoint_ids", "endpoint_pattern", "group_by")
    def _compute_selected_count(self):
        self.env["api.monitor.endpoint"].flush_model(["name", "critical"])  # the SQL below reads them
        known = store.endpoints(self.env.cr)
        for rule in self:
            try:
                rule.selected_count = len({name for names in rule._groups(known).values() for name in names})
            except Exception:  # noqa: BLE001 - values the form is about to refuse: nothing is selected yet
                rule.selected_count = 0

    @api.depends("incident_ids")
    def _compute_incident_count(self):
        counts = dict(self.env["api.monitor.incident"]._read_group(
            [("rule_id", "in", self.ids)], ["rule_id"], ["__count"]))
        for rule in self:
            rule.incident_count = counts.get(rule, 0)

    def write(self, vals):
        result = super().write(vals)
        changed = [self._fields[name].string for name in vals if name in _MARKED]
        if changed:
            Change = self.env["api.monitor.change"]
            for rule in self:
                Change._record("rule", self.env._("Rule %(rule)s changed by %(user)s: %(fields)s", rule=rule.name,
                                                  user=self.env.user.name, fields=", ".join(changed)))
        return result

    def unlink(self):
        Silence = self.env["api.monitor.silence"].sudo().with_context(active_test=False)
        silenced = Silence.search([("rule_ids", "in", self.ids)])
        result = super().unlink()
        Silence._rules_deleted(silenced)
        return result

    # -- the rule as core sees it -----------------------------------------------------------------
    def _rule_fields(self):
        self.ensure_one()
        return RuleFields(
            kind=self.kind, selection=self.endpoint_selection, pattern=self.endpoint_pattern or "",
            threshold=self.threshold, window_minutes=self.window_minutes, min_requests=self.min_requests,
            pending_minutes=self.pending_minutes, keep_firing_minutes=self.keep_firing_minutes,
            objective=self.objective, severity=self.severity, page_severity=self.page_severity,
            ticket_severity=self.ticket_severity, runbook_url=self.runbook_url or "",
            dashboard_url_template=self.dashboard_url_template or "", logs_url_template=self.logs_url_template or "",
        )

    @api.constrains("storm_limit")
    def _check_storm_limit(self):
        for rule in self:
            if rule.storm_limit < 0:
                raise ValidationError(self.env._(
                    "The storm limit of %(rule)s must be 0 (no storm control) or a number of endpoints, not "
                    "%(limit)s.", rule=rule.name, limit=rule.storm_limit))

    @api.constrains("kind", "threshold", "window_minutes", "min_requests", "pending_minutes", "keep_firing_minutes",
                    "objective", "endpoint_selection", "endpoint_pattern", "severity", "page_severity",
                    "ticket_severity", "runbook_url", "dashboard_url_template", "logs_url_template")
    def _check_rule(self):
        retention = store.load_settings(self.env.cr).history_days
        for rule in self:
            try:
                check_rule(rule._rule_fields(), retention)
            except RuleError as exc:
                raise ValidationError(str(exc)) from None

    def _spec(self):
        self.ensure_one()
        if self.kind == "threshold":
            return ThresholdRule(self.threshold, self.window_minutes, self.min_requests, self.severity)
        return BurnRateRule(self.objective, workbook_tiers(self.page_severity, self.ticket_severity), self.min_requests)

    def _timing(self):
        self.ensure_one()
        return alerting.Timing(pending=self.pending_minutes * 60, keep_firing=self.keep_firing_minutes * 60)

    def _input(self):
        self.ensure_one()
        return evaluation.RuleInput(self.id, self._spec(), self._timing(), self._rule_fields(),
                                    tuple(self.endpoint_ids.mapped("name")), self.group_by)

    def _groups(self, endpoints):
        """{group key: [endpoint names]} of this rule over the known endpoints (name -> critical)."""
        return evaluation.groups(self._input(), endpoints)

    def _window_label(self):
        self.ensure_one()
        return f"{self.window_minutes}m" if self.kind == "threshold" else "1h"

    def _threshold_label(self):
        self.ensure_one()
        if self.kind == "threshold":
            return f"{100 * self.threshold:.1f}%"
        return f"{100 * self.objective:g}% objective"

    # -- evaluation -------------------------------------------------------------------------------
    @api.model
    def _cron_evaluate(self):
        self._evaluate()

    @api.model
    def _evaluate(self, now=None):
        """Evaluate every active rule at ``now`` (epoch seconds); returns how many rule groups were looked at.

        Holds a transaction-scoped advisory lock: a second evaluation started meanwhile (another worker or
        host) returns at once instead of doubling alerts. Each rule's outcomes are stored in a savepoint of
        their own: a rule that cannot be evaluated or stored is logged and skipped, and every other rule
        still pages.
        """
        now = time.time() if now is None else now
        cr = self.env.cr
        self.env.flush_all()  # the SQL below reads endpoints and rules as this transaction changed them
        if not store.try_evaluation_lock(cr):
            return 0
        rules, inputs = self.search([]), []
        for rule in rules:
            try:
                inputs.append(rule._input())
            except Exception as exc:  # noqa: BLE001 - a value forced into the database past the form's checks
                _logger.error("api_monitor: rule %s (id %s) is skipped: %s", rule.name, rule.id, exc)
        if not inputs:
            self.env["api.monitor.incident"]._release_held(now)
            return 0
        retention = store.load_settings(cr).history_days
        windows = sorted({w for rule in inputs for w in rule.spec.windows})
        Alert = self.env["api.monitor.alert"]
        alerts = {(a.rule_id.id, a.group_key): a for a in Alert.search([("rule_id", "in", rules.ids)])}
        outcomes, skipped = evaluation.evaluate(
            inputs, store.endpoints(cr), store.window_sums(cr, now, windows),
            {key: alert._core_state() for key, alert in alerts.items()}, now, retention)
        for rule_id, reason in skipped.items():
            _logger.error("api_monitor: rule %s (id %s) is skipped: %s", rules.browse(rule_id).name, rule_id, reason)
        by_rule = {}
        for outcome in outcomes:
            by_rule.setdefault(outcome.rule_id, []).append(outcome)
        wake, updates = [], Alert._updates()
        storms = self.env["api.monitor.incident"]._open_storms()
        for rule_id, rule_outcomes in by_rule.items():
            try:
                with cr.savepoint():
                    rules.browse(rule_id)._apply_outcomes(rule_outcomes, alerts, storms, now, updates)
                    wake.extend(outcome.next_at for outcome in rule_outcomes if outcome.next_at is not None)
            except Exception:  # noqa: BLE001 - one rule never stops the others
                _logger.exception("api_monitor: the outcome of rule id %s could not be stored; other rules go on",
                                  rule_id)
        updates.apply(self.env)
        self.env["api.monitor.incident"]._release_held(now)
        if wake:
            Alert._wake_evaluator_at(min(wake))
        return len(outcomes)

    def _apply_outcomes(self, outcomes, alerts, storms, now, updates):
        """Store one evaluation's outcomes of this rule: its alert states, and the incidents they open, update
        and resolve. Endpoints that fire in a storm (``core.storm``) share one incident; ``storms`` are the
        open storm incidents by rule id."""
        self.ensure_one()
        Alert = self.env["api.monitor.alert"]
        new = [outcome.key for outcome in outcomes if (self.id, outcome.key) not in alerts]
        if new:
            for alert in Alert.create([{"rule_id": self.id, "group_key": key} for key in new]):
                alerts[(self.id, alert.group_key)] = alert
        Incident = self.env["api.monitor.incident"]
        firing = [outcome for outcome in outcomes if alerting.FIRE in outcome.events]
        storm_incident = storms.get(self.id, Incident)
        if self.group_by == "endpoint" and storm.joins_storm(len(firing), self.storm_limit, bool(storm_incident)):
            if not storm_incident:
                storm_incident = Incident._open_storm(self, firing, now)
            storm_incident._join(Alert.union(*(alerts[(self.id, outcome.key)] for outcome in firing)))
        for outcome in outcomes:
            alerts[(self.id, outcome.key)]._apply(outcome, now, updates)
        if storm_incident:
            storm_incident._storm_evaluated(now, updates)

    # -- export to Prometheus and Alertmanager ---------------------------------------------------
    def _export_spec(self, endpoints):
        self.ensure_one()
        names = self._groups(endpoints) if self.endpoint_selection in ("critical", "list") else {}
        return RuleExport(
            name=self.name, kind=self.kind, selection=self.endpoint_selection,
            endpoints=tuple(sorted({n for members in names.values() for n in members})),
            pattern=self.endpoint_pattern or "", group_by=self.group_by, threshold=self.threshold,
            window_minutes=self.window_minutes, min_requests=self.min_requests, pending_minutes=self.pending_minutes,
            keep_firing_minutes=self.keep_firing_minutes, severity=self.severity, objective=self.objective,
            page_severity=self.page_severity, ticket_severity=self.ticket_severity, runbook_url=self.runbook_url or "",
        )

    @api.model
    def export_files(self):
        """The Prometheus rule file and the Alertmanager configuration of every active rule, by file name, with
        the silences: weekly windows in the configuration, one-off silences to import (``amtool silence import
        alertmanager_silences.json``).

        Callable over XML-RPC by managers (``tools/export.py``), so the export works without the web client.
        """
        self.check_access("write")
        self.env.flush_all()
        endpoints = store.endpoints(self.env.cr)
        specs = [rule._export_spec(endpoints) for rule in self.search([])
                 if rule.endpoint_selection != SELECT_PATTERN or rule._pattern_usable()]
        one_off, windows = self.env["api.monitor.silence"]._alertmanager()
        return {"api_monitor_rules.yml": prometheus_rules(specs), "alertmanager.yml": alertmanager_config(
            mute_windows=windows), "alertmanager_silences.json": one_off}

    def _pattern_usable(self):
        try:
            check_rule(self._rule_fields(), store.load_settings(self.env.cr).history_days)
        except RuleError:
            return False
        return True

    def action_export_prometheus(self):
        """Download both files as a zip (the button on the rules list)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in self.export_files().items():
                archive.writestr(name, text)
        attachment = self.env["ir.attachment"].create({
            "name": "api_monitor_prometheus.zip", "datas": base64.b64encode(buffer.getvalue()),
            "mimetype": "application/zip", "res_model": self._name,
        })
        return {"type": "ir.actions.act_url", "url": f"/web/content/{attachment.id}?download=true", "target": "self"}

    def action_backtest(self):
        """Open the backtest of this rule (the last day by default)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window", "res_model": "api.monitor.backtest", "view_mode": "form",
            "target": "new", "name": self.env._("Backtest: %(rule)s", rule=self.name),
            "context": {"default_rule_id": self.id},
        }

    def action_view_incidents(self):
        self.ensure_one()
        return self.env["api.monitor.incident"]._action_for([("rule_id", "=", self.id)])
