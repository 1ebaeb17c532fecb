import base64
import io
import re
import time
import zipfile

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..core import alerting
from ..core.export import RuleExport, alertmanager_config, prometheus_rules
from ..core.rules import (
    SELECT_PATTERN,
    BurnRateRule,
    ThresholdRule,
    Window,
    HOURLY_FROM_MINUTES,
    select_endpoints,
    split_window,
    window_cutoff,
    workbook_tiers,
)
from ..instrumentation import store
from .api_monitor_alert import EvaluationUpdates
from .api_monitor_receiver import SEVERITY_SELECTION


#: pg_try_advisory_xact_lock key: one evaluation at a time across workers and hosts
EVALUATION_LOCK = 0x6170695F6576616C  # "api_eval"
_ZERO = Window()
_NO_SUMS: dict = {}


class ApiMonitorRule(models.Model):
    """An alert rule: which endpoints, what counts as a breach, who is told.

    The evaluator (:meth:`_evaluate`) applies every active rule to the one-minute buckets, through the
    decisions of ``core.rules`` and the state machine of ``core.alerting``.
    """

    _name = "api.monitor.rule"
    _description = "API Monitoring alert rule"
    _order = "sequence, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    kind = fields.Selection(
        [("threshold", "Error ratio above a threshold"), ("burn_rate", "SLO burn rate (multiwindow)")],
        required=True, default="threshold",
    )
    endpoint_selection = fields.Selection(
        [("critical", "Critical endpoints"), ("all", "All endpoints"), ("list", "Chosen endpoints"),
         ("pattern", "Endpoints matching a pattern")],
        string="Endpoints", required=True, default="critical",
    )
    endpoint_ids = fields.Many2many("api.monitor.endpoint", string="Chosen endpoints")
    endpoint_pattern = fields.Char(help="A regular expression searched in endpoint names, e.g. ^/web/dataset/call_kw/sale\\.")
    group_by = fields.Selection(
        [("endpoint", "One incident per endpoint"), ("rule", "One incident for the whole selection")],
        required=True, default="endpoint",
    )
    threshold = fields.Float(default=0.05, digits=(16, 4), help="Server-error ratio that breaches: 0.05 is 5%.")
    window_minutes = fields.Integer(string="Window (minutes)", default=5)
    min_requests = fields.Integer(default=20, help="Breaches need at least this many requests in the window.")
    pending_minutes = fields.Float(string="Pending (minutes)", default=1.0,
                                   help="How long a breach must last before the rule fires.")
    keep_firing_minutes = fields.Float(string="Keep firing (minutes)", default=5.0,
                                       help="How long a firing rule waits without a breach before it resolves.")
    objective = fields.Float(default=0.999, digits=(16, 5), help="The SLO: share of requests without server error.")
    page_severity = fields.Selection(SEVERITY_SELECTION, default="P1", required=True,
                                     help="Severity of the fast-burn (page) tiers: 14.4x over 1h and 5m, 6x over 6h and 30m.")
    ticket_severity = fields.Selection(SEVERITY_SELECTION, default="P3", required=True,
                                       help="Severity of the slow-burn (ticket) tiers: 3x over 1d and 2h, 1x over 3d and 6h.")
    severity = fields.Selection(SEVERITY_SELECTION, default="P1", required=True)
    receiver_ids = fields.Many2many("api.monitor.receiver", string="Receivers")
    runbook_url = fields.Char(string="Runbook URL")
    dashboard_url_template = fields.Char(
        string="Dashboard link", help="May use {endpoint}, {start} and {end} (ISO 8601, URL-encoded).")
    logs_url_template = fields.Char(
        string="Logs link", help="May use {endpoint}, {request_id}, {start} and {end}.")
    alert_ids = fields.One2many("api.monitor.alert", "rule_id", readonly=True)
    incident_ids = fields.One2many("api.monitor.incident", "rule_id", readonly=True)
    incident_count = fields.Integer(compute="_compute_incident_count")

    @api.depends("incident_ids")
    def _compute_incident_count(self):
        counts = dict(self.env["api.monitor.incident"]._read_group(
            [("rule_id", "in", self.ids)], ["rule_id"], ["__count"]))
        for rule in self:
            rule.incident_count = counts.get(rule, 0)

    # -- validation -------------------------------------------------------------------------------
    @api.constrains("threshold", "window_minutes", "min_requests", "pending_minutes", "keep_firing_minutes",
                    "objective", "endpoint_selection", "endpoint_pattern", "kind")
    def _check_rule(self):
        retention = store.load_settings(self.env.cr).retention_days
        for rule in self:
            if rule.kind == "threshold":
                if not 0 < rule.threshold < 1:
                    raise ValidationError(_("The threshold is a ratio between 0 and 1 (0.05 means 5%%); %(value)s is "
                                            "not.", value=rule.threshold))
                if not 1 <= rule.window_minutes <= retention * 1440:
                    raise ValidationError(_("The window must be between 1 minute (the bucket width) and %(max)s "
                                            "minutes (the %(days)s days of bucket retention); %(value)s is not.",
                                            max=retention * 1440, days=retention, value=rule.window_minutes))
            else:
                if not 0 < rule.objective < 1:
                    raise ValidationError(_("The objective is a ratio between 0 and 1 (0.999 means 99.9%%); "
                                            "%(value)s is not.", value=rule.objective))
                longest = max(t.long for t in workbook_tiers())
                if longest > retention * 1440:
                    raise ValidationError(_("Burn-rate rules look back 3 days: raise the bucket retention to at least "
                                            "3 days (it is %(days)s).", days=retention))
            if rule.min_requests < 1:
                raise ValidationError(_("The minimum number of requests must be at least 1; %(value)s is not.",
                                        value=rule.min_requests))
            if rule.pending_minutes < 0 or rule.keep_firing_minutes < 0:
                raise ValidationError(_("Pending and keep-firing times cannot be negative."))
            if rule.endpoint_selection == SELECT_PATTERN:
                try:
                    re.compile(rule.endpoint_pattern or "")
                except re.error as exc:
                    raise ValidationError(_("The endpoint pattern %(pattern)r is not a valid regular expression: "
                                            "%(error)s.", pattern=rule.endpoint_pattern, error=exc)) from None
                if not rule.endpoint_pattern:
                    raise ValidationError(_("Give the endpoint pattern, e.g. ^/web/dataset/call_kw/sale\\."))

    # -- the rule as core sees it -----------------------------------------------------------------
    def _spec(self):
        self.ensure_one()
        if self.kind == "threshold":
            return ThresholdRule(self.threshold, self.window_minutes, self.min_requests, self.severity)
        return BurnRateRule(self.objective, workbook_tiers(self.page_severity, self.ticket_severity), self.min_requests)

    def _timing(self):
        self.ensure_one()
        return alerting.Timing(pending=self.pending_minutes * 60, keep_firing=self.keep_firing_minutes * 60)

    def _window_label(self):
        self.ensure_one()
        return f"{self.window_minutes}m" if self.kind == "threshold" else "1h"

    def _threshold_label(self):
        self.ensure_one()
        if self.kind == "threshold":
            return f"{100 * self.threshold:.1f}%"
        return f"{100 * self.objective:g}% objective"

    def _groups(self, endpoints):
        """{group key: [endpoint names]} of this rule over the known endpoints (name -> critical)."""
        self.ensure_one()
        names = select_endpoints(self.endpoint_selection, endpoints,
                                 tuple(self.endpoint_ids.mapped("name")), self.endpoint_pattern)
        if self.group_by == "endpoint":
            return {name: [name] for name in names}
        return {"*": names} if names else {}

    # -- evaluation -------------------------------------------------------------------------------
    @api.model
    def _cron_evaluate(self):
        self._evaluate()

    @api.model
    def _evaluate(self, now=None):
        """Evaluate every active rule at ``now`` (epoch seconds); returns how many rule groups were looked at.

        Holds a transaction-scoped advisory lock: a second evaluation started meanwhile (another worker or
        host) returns at once instead of doubling alerts.
        """
        now = time.time() if now is None else now
        self.env.cr.execute("SELECT pg_try_advisory_xact_lock(%s)", [EVALUATION_LOCK])
        if not self.env.cr.fetchone()[0]:
            return 0
        rules = self.search([])
        if not rules:
            return 0
        endpoints = {e["name"]: e["critical"] for e in self.env["api.monitor.endpoint"].search_read([], ["name", "critical"])}
        windows = sorted({w for rule in rules for w in rule._spec().windows})
        sums = self._window_sums(now, windows)
        alerts = {(a.rule_id.id, a.group_key): a for a in self.env["api.monitor.alert"].search([("rule_id", "in", rules.ids)])}
        keys_with_state = {}
        for rule_id, key in alerts:
            keys_with_state.setdefault(rule_id, set()).add(key)
        selections = {}  # rules with the same endpoint selection share one look-up
        wake, looked = [], 0
        updates = EvaluationUpdates()
        for rule in rules:
            spec, timing = rule._spec(), rule._timing()
            selection = (rule.endpoint_selection, rule.group_by, tuple(rule.endpoint_ids.ids), rule.endpoint_pattern)
            if selection not in selections:
                selections[selection] = rule._groups(endpoints)
            groups = selections[selection]
            keys = set(groups) | keys_with_state.get(rule.id, set())
            for key in sorted(keys):
                members = groups.get(key, [])
                if len(members) == 1:
                    group_sums = sums.get(members[0], _NO_SUMS)
                else:
                    group_sums = {w: sum((sums.get(name, _NO_SUMS).get(w, _ZERO) for name in members), start=_ZERO)
                                  for w in spec.windows}
                alert = alerts.get((rule.id, key))
                if alert is None and not spec.may_breach(group_sums):
                    continue  # no state, and no server error that could start one
                verdict = spec.evaluate(group_sums)
                if alert is None and not verdict.breach:
                    continue
                if alert is None:
                    alert = self.env["api.monitor.alert"].create({"rule_id": rule.id, "group_key": key})
                looked += 1
                next_at = alert._advance(verdict, members, now, timing, updates)
                if next_at is not None:
                    wake.append(next_at)
        updates.apply(self.env)
        if wake:
            self.env["api.monitor.alert"]._wake_evaluator_at(min(wake))
        return looked

    @api.model
    def _window_sums(self, now, windows):
        """{endpoint: {minutes: Window}} for every window, as ``core.rules.window_sums_hourly`` defines them.

        Short windows sum minute buckets; long ones sum hourly buckets plus the minute buckets of their two
        ends, so a 3-day window reads about 190 rows per endpoint instead of 4,320.
        """
        short = [w for w in windows if w < HOURLY_FROM_MINUTES]
        long = {w: split_window(now, w) for w in windows if w >= HOURLY_FROM_MINUTES}
        utc = store._utc
        minute_columns, minute_params, ranges, range_params = [], [], [], []
        for w in short:
            minute_columns.append("start > %s")
            minute_params.append(utc(window_cutoff(now, w)))
        for part in long.values():
            minute_columns.append("((start > %s AND start < %s) OR start >= %s)")
            minute_params += [utc(part.cutoff), utc(part.first_hour), utc(part.last_hour)]
            ranges.append("(start > %s AND start < %s)")
            range_params += [utc(part.cutoff), utc(part.first_hour)]
        if short:
            ranges.append("start > %s")
            range_params.append(utc(window_cutoff(now, max(short))))
        if long:
            ranges.append("start >= %s")
            range_params.append(utc(min(part.last_hour for part in long.values())))
        result = {}
        self._sum_by_endpoint(
            "api_monitor_bucket", minute_columns, minute_params,
            f"({' OR '.join(ranges)}) AND start <= %s", [*range_params, utc(now)], [*short, *long], result)
        if long:
            self._sum_by_endpoint(
                "api_monitor_bucket_hour", ["start >= %s AND start < %s"] * len(long),
                [p for part in long.values() for p in (utc(part.first_hour), utc(part.last_hour))],
                "start >= %s AND start < %s",
                [utc(min(part.first_hour for part in long.values())), utc(max(part.last_hour for part in long.values()))],
                list(long), result)
        for sums in result.values():  # an endpoint found for some windows has every window, empty ones at zero
            for w in windows:
                sums.setdefault(w, _ZERO)
        return result

    @api.model
    def _sum_by_endpoint(self, table, conditions, params, where, where_params, windows, result):
        columns = ", ".join(
            f"COALESCE(SUM(requests) FILTER (WHERE {c}), 0), COALESCE(SUM(server_errors) FILTER (WHERE {c}), 0)"
            for c in conditions)
        doubled = [p for i in range(len(conditions)) for p in _params_of(conditions, params, i) * 2]
        self.env.cr.execute(
            f"SELECT endpoint, {columns} FROM {table} WHERE {where} GROUP BY endpoint",  # noqa: S608 - fixed names
            [*doubled, *where_params])
        for row in self.env.cr.fetchall():
            sums = result.setdefault(row[0], {})
            for i, w in enumerate(windows):
                sums[w] = sums.get(w, _ZERO) + Window(int(row[1 + 2 * i]), int(row[2 + 2 * i]))

    # -- export to Prometheus and Alertmanager ---------------------------------------------------
    def _export_spec(self, endpoints):
        self.ensure_one()
        names = select_endpoints(self.endpoint_selection, endpoints, tuple(self.endpoint_ids.mapped("name")),
                                 self.endpoint_pattern) if self.endpoint_selection in ("critical", "list") else ()
        return RuleExport(
            name=self.name, kind=self.kind, selection=self.endpoint_selection, endpoints=tuple(names),
            pattern=self.endpoint_pattern or "", group_by=self.group_by, threshold=self.threshold,
            window_minutes=self.window_minutes, min_requests=self.min_requests, pending_minutes=self.pending_minutes,
            keep_firing_minutes=self.keep_firing_minutes, severity=self.severity, objective=self.objective,
            page_severity=self.page_severity, ticket_severity=self.ticket_severity, runbook_url=self.runbook_url or "",
        )

    @api.model
    def export_files(self):
        """The Prometheus rule file and the Alertmanager configuration of every active rule, by file name.

        Callable over XML-RPC by managers (``tools/export.py``), so the export works without the web client.
        """
        self.check_access("write")
        endpoints = {e["name"]: e["critical"] for e in self.env["api.monitor.endpoint"].search_read([], ["name", "critical"])}
        specs = [rule._export_spec(endpoints) for rule in self.search([])]
        return {"api_monitor_rules.yml": prometheus_rules(specs), "alertmanager.yml": alertmanager_config()}

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
            "target": "new", "name": _("Backtest: %(rule)s", rule=self.name),
            "context": {"default_rule_id": self.id},
        }

    def action_view_incidents(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("api_monitor.action_api_monitor_incident")
        action["domain"] = [("rule_id", "=", self.id)]
        action["context"] = {}
        return action


def _params_of(conditions, params, index):
    """The parameters of the ``index``-th condition (conditions hold a varying number of placeholders)."""
    offset = sum(c.count("%s") for c in conditions[:index])
    return params[offset:offset + conditions[index].count("%s")]
