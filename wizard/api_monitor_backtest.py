"""Backtest a rule: replay the stored buckets of a past period through the evaluator, notify nobody."""

import datetime

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..core import backtest
from ..core.chart import backtest_svg
from ..core.times import to_datetime, to_epoch
from ..storage import store

#: the longest period one backtest replays
MAX_DAYS = 31


class ApiMonitorBacktest(models.TransientModel):
    """One backtest of one rule; each user sees only their own (a record rule)."""

    _name = "api.monitor.backtest"
    _description = "API Monitoring rule backtest"

    rule_id = fields.Many2one("api.monitor.rule", required=True, ondelete="cascade")
    date_from = fields.Datetime(required=True, default=lambda self: fields.Datetime.now() - datetime.timedelta(days=1))
    date_to = fields.Datetime(required=True, default=fields.Datetime.now)
    done = fields.Boolean(readonly=True)
    summary = fields.Text(readonly=True)
    line_ids = fields.One2many("api.monitor.backtest.line", "backtest_id", readonly=True)
    chart = fields.Html(compute="_compute_chart", sanitize=False)

    @api.constrains("date_from", "date_to")
    def _check_period(self):
        for wizard in self:
            if wizard.date_from >= wizard.date_to:
                raise ValidationError(self.env._("The period must end after it starts: set 'To' after 'From'."))
            if wizard.date_to - wizard.date_from > datetime.timedelta(days=MAX_DAYS):
                raise ValidationError(self.env._("A backtest replays at most %(days)s days: shorten the period.",
                                                 days=MAX_DAYS))

    def _period(self):
        return to_epoch(self.date_from), to_epoch(self.date_to)

    def _groups(self):
        self.env.flush_all()
        return self.rule_id._groups(store.endpoints(self.env.cr))

    def action_run(self):
        """Replay the period and show what the rule would have done; nothing is notified or stored as an
        incident. Groups are replayed one at a time, so memory holds one group's minutes."""
        self.ensure_one()
        rule = self.rule_id
        spec, timing = rule._spec(), rule._timing()
        start, end = self._period()
        groups = self._groups()
        cost = backtest.work(spec, len(groups), start, end)
        if cost > backtest.WORK_LIMIT:
            raise ValidationError(self.env._(
                "This backtest would replay %(evaluations)s evaluations (%(groups)s endpoint groups, one a minute); "
                "one backtest replays at most %(limit)s%(weight)s. Shorten the period or narrow the rule's "
                "endpoints.", evaluations=f"{backtest.evaluations(len(groups), start, end):,}", groups=len(groups),
                limit=f"{backtest.WORK_LIMIT:,}",
                weight=self.env._(" (a burn-rate rule's count %(n)s each)", n=backtest.BURN_RATE_WEIGHT)
                if cost != backtest.evaluations(len(groups), start, end) else ""))
        history = start - max(spec.windows) * 60
        incidents = []
        if rule.group_by == "endpoint":  # one endpoint's minutes at a time
            for key, minutes in store.endpoint_minutes(self.env.cr, list(groups), history, end):
                incidents += backtest.replay(spec, timing, {key: minutes}, start, end, history=history,
                                             keep_steps=False).incidents
        else:
            for key, members in groups.items():
                minutes = store.minute_series(self.env.cr, members, history, end)
                incidents += backtest.replay(spec, timing, {key: minutes}, start, end, history=history,
                                             keep_steps=False).incidents
        evaluations = backtest.evaluations(len(groups), start, end)
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
        }) for incident in sorted(incidents, key=lambda i: (i.fired_at, i.group))]
        pages = sum(1 for i in incidents if i.pages)
        self.summary = self.env._(
            "%(incidents)s incident(s) would have been opened, %(pages)s of them paging, over %(groups)s group(s) "
            "and %(steps)s evaluations (one a minute). Nothing was notified and no incident was created.",
            incidents=len(incidents), pages=pages, groups=len(groups), steps=evaluations)
        if not groups:
            self.summary = self.env._("The rule selects no endpoint: nothing to replay. Check its endpoint selection.")
        self.done = True
        return {
            "type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id, "view_mode": "form",
            "target": "new", "name": self.env._("Backtest: %(rule)s", rule=rule.name),
        }

    @api.depends("done", "line_ids", "rule_id", "date_from", "date_to")
    def _compute_chart(self):
        """Drawn from the replayed period each time it is shown: nothing a user writes is rendered as HTML."""
        for wizard in self:
            if not wizard.done or not wizard.rule_id:
                wizard.chart = False
                continue
            start, end = wizard._period()
            members = sorted({name for names in wizard._groups().values() for name in names})
            points = store.minute_series(self.env.cr, members, start, end) if members else []
            threshold = wizard.rule_id.threshold if wizard.rule_id.kind == "threshold" else None
            spans = [(to_epoch(line.fired_at), to_epoch(line.resolved_at), line.pages) for line in wizard.line_ids]
            wizard.chart = Markup(backtest_svg(points, spans, threshold, start, end))


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
