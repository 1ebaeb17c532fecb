"""Backtest a rule: replay the stored buckets of a past period through the evaluator, notify nobody."""

import datetime

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..core.backtest import replay
from ..core.chart import backtest_svg
from .api_monitor_alert import to_datetime, to_epoch

#: the longest period one backtest replays
MAX_DAYS = 31


class ApiMonitorBacktest(models.TransientModel):
    _name = "api.monitor.backtest"
    _description = "API Monitoring rule backtest"

    rule_id = fields.Many2one("api.monitor.rule", required=True, ondelete="cascade")
    date_from = fields.Datetime(required=True, default=lambda self: fields.Datetime.now() - datetime.timedelta(days=1))
    date_to = fields.Datetime(required=True, default=fields.Datetime.now)
    done = fields.Boolean(readonly=True)
    summary = fields.Text(readonly=True)
    chart = fields.Html(sanitize=False, readonly=True)
    line_ids = fields.One2many("api.monitor.backtest.line", "backtest_id", readonly=True)

    @api.constrains("date_from", "date_to")
    def _check_period(self):
        for backtest in self:
            if backtest.date_from >= backtest.date_to:
                raise ValidationError(_("The period must end after it starts: set 'To' after 'From'."))
            if backtest.date_to - backtest.date_from > datetime.timedelta(days=MAX_DAYS):
                raise ValidationError(_("A backtest replays at most %(days)s days: shorten the period.", days=MAX_DAYS))

    def action_run(self):
        """Replay the period and show what the rule would have done; nothing is notified or stored as an
        incident."""
        self.ensure_one()
        rule = self.rule_id
        spec, timing = rule._spec(), rule._timing()
        start, end = to_epoch(self.date_from), to_epoch(self.date_to)
        history = start - max(spec.windows) * 60
        endpoints = {e["name"]: e["critical"] for e in self.env["api.monitor.endpoint"].search_read([], ["name", "critical"])}
        groups = rule._groups(endpoints)
        members = {name: key for key, names in groups.items() for name in names}
        buckets = {key: [] for key in groups}
        per_minute = {}
        if members:
            self.env.cr.execute(
                "SELECT endpoint, start, requests, server_errors FROM api_monitor_bucket "
                "WHERE start >= %s AND start <= %s AND endpoint IN %s ORDER BY start",
                [to_datetime(history), to_datetime(end), tuple(members)])
            for endpoint, bucket_start, requests, errors in self.env.cr.fetchall():
                at = to_epoch(bucket_start)
                buckets[members[endpoint]].append((at, requests, errors))
                if at >= start:
                    n, e = per_minute.get(at, (0, 0))
                    per_minute[at] = (n + requests, e + errors)
        result = replay(spec, timing, buckets, start, end, history=history)
        self.line_ids.unlink()
        self.line_ids = [fields.Command.create({
            "group_key": incident.group,
            "first_breach": to_datetime(incident.first_breach),
            "fired_at": to_datetime(incident.fired_at),
            "resolved_at": to_datetime(incident.resolved_at),
            "duration_minutes": ((incident.resolved_at or end) - incident.fired_at) / 60,
            "peak_ratio": incident.peak_ratio,
            "severity": incident.severity,
            "pages": incident.pages,
        }) for incident in result.incidents]
        pages = sum(1 for i in result.incidents if i.pages)
        steps = sum(len(s) for s in result.steps.values())
        self.summary = _(
            "%(incidents)s incident(s) would have been opened, %(pages)s of them paging, over %(groups)s group(s) "
            "and %(steps)s evaluations (one a minute). Nothing was notified and no incident was created.",
            incidents=len(result.incidents), pages=pages, groups=len(groups), steps=steps)
        if not groups:
            self.summary = _("The rule selects no endpoint: nothing to replay. Check its endpoint selection.")
        threshold = rule.threshold if rule.kind == "threshold" else None
        self.chart = Markup(backtest_svg(
            sorted((t, n, e) for t, (n, e) in per_minute.items()),
            [(i.fired_at, i.resolved_at, i.pages) for i in result.incidents], threshold, start, end))
        self.done = True
        return {
            "type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id, "view_mode": "form",
            "target": "new", "name": _("Backtest: %(rule)s", rule=rule.name),
        }


class ApiMonitorBacktestLine(models.TransientModel):
    _name = "api.monitor.backtest.line"
    _description = "API Monitoring would-be incident"
    _order = "fired_at"

    backtest_id = fields.Many2one("api.monitor.backtest", required=True, ondelete="cascade")
    group_key = fields.Char(string="Endpoint or group", readonly=True)
    first_breach = fields.Datetime(readonly=True)
    fired_at = fields.Datetime(string="Would have fired", readonly=True)
    resolved_at = fields.Datetime(string="Would have resolved", readonly=True)
    duration_minutes = fields.Float(string="Minutes", readonly=True, digits=(16, 0))
    peak_ratio = fields.Float(string="Peak error ratio", readonly=True)
    severity = fields.Char(readonly=True)
    pages = fields.Boolean(string="Would page", readonly=True)
