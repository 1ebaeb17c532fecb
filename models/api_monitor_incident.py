import dataclasses
import json
import time
import urllib.parse

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..core import alerting, notify
from ..core.chart import error_ratio_svg
from .api_monitor_alert import to_datetime, to_epoch
from .api_monitor_receiver import SEVERITY_SELECTION

MANAGER = "api_monitor.group_api_monitor_manager"
STATES = [("triggered", "Triggered"), ("acknowledged", "Acknowledged"), ("resolved", "Resolved")]


class ApiMonitorIncident(models.Model):
    """A firing alert the on-call engineer deals with: triggered, acknowledged, resolved.

    One open incident per rule and group; every notification about it shares one ``dedup_key``.
    """

    _name = "api.monitor.incident"
    _description = "API incident"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "triggered_at desc, id desc"

    name = fields.Char(string="Reference", readonly=True, copy=False, default="/")
    rule_id = fields.Many2one("api.monitor.rule", required=True, readonly=True, ondelete="restrict", index=True)
    alert_id = fields.Many2one("api.monitor.alert", readonly=True, ondelete="set null")
    endpoint = fields.Char(readonly=True, required=True)
    endpoint_names = fields.Text(string="Endpoints", readonly=True)
    severity = fields.Selection(SEVERITY_SELECTION, required=True, readonly=True, tracking=True)
    state = fields.Selection(STATES, default="triggered", required=True, readonly=True, tracking=True, index=True)
    triggered_at = fields.Datetime(readonly=True, required=True)
    acknowledged_at = fields.Datetime(readonly=True)
    acknowledged_by_id = fields.Many2one("res.users", string="Acknowledged by", readonly=True)
    acknowledged_by_name = fields.Char(string="Acknowledged in PagerDuty by", readonly=True)
    resolved_at = fields.Datetime(readonly=True)
    resolved_by_id = fields.Many2one("res.users", string="Resolved by", readonly=True)
    resolution = fields.Selection(
        [("recovered", "The API recovered"), ("manual", "Resolved by hand"), ("pagerduty", "Resolved in PagerDuty")],
        readonly=True,
    )
    current_ratio = fields.Float(string="Error ratio now", digits=(16, 4), readonly=True)
    peak_ratio = fields.Float(string="Peak error ratio", digits=(16, 4), readonly=True)
    window_requests = fields.Integer(string="Requests in window", readonly=True)
    window_errors = fields.Integer(string="Server errors in window", readonly=True)
    detail = fields.Char(readonly=True)
    dedup_key = fields.Char(readonly=True, copy=False, index=True)
    delivery_problem = fields.Char(readonly=True, help="The last notification that could not be delivered, and why.")
    notification_ids = fields.One2many("api.monitor.notification", "incident_id", readonly=True)
    failure_ids = fields.Many2many("api.monitor.failure", compute="_compute_failures", string="Server errors")
    runbook_url = fields.Char(related="rule_id.runbook_url")
    dashboard_url = fields.Char(compute="_compute_links")
    logs_url = fields.Char(compute="_compute_links")
    chart = fields.Html(compute="_compute_chart", sanitize=False)
    ratio_label = fields.Char(compute="_compute_ratio_label", string="Error ratio")

    @api.depends("current_ratio", "peak_ratio")
    def _compute_ratio_label(self):
        for incident in self:
            incident.ratio_label = _("%(now).1f%% now, peak %(peak).1f%%",
                                     now=100 * incident.current_ratio, peak=100 * incident.peak_ratio)

    # -- display ----------------------------------------------------------------------------------
    def _members(self):
        self.ensure_one()
        return (self.endpoint_names or self.endpoint).splitlines()

    def _span(self):
        """(start, end) epochs the incident covers, its rule's window before it included."""
        self.ensure_one()
        window = self.rule_id.window_minutes if self.rule_id.kind == "threshold" else 60
        start = to_epoch(self.triggered_at) - window * 60
        end = to_epoch(self.resolved_at) if self.resolved_at else time.time()
        return start, end

    @api.depends("endpoint", "endpoint_names", "triggered_at", "resolved_at")
    def _compute_failures(self):
        Failure = self.env["api.monitor.failure"]
        for incident in self:
            if not incident.triggered_at:
                incident.failure_ids = Failure
                continue
            start, end = incident._span()
            incident.failure_ids = Failure.search([
                ("endpoint", "in", incident._members()), ("occurred_at", ">=", to_datetime(start)),
                ("occurred_at", "<=", to_datetime(end + 60)),
            ], limit=50)

    @api.depends("endpoint", "triggered_at", "resolved_at", "rule_id.dashboard_url_template", "rule_id.logs_url_template")
    def _compute_links(self):
        for incident in self:
            incident.dashboard_url = incident._link(incident.rule_id.dashboard_url_template)
            incident.logs_url = incident._link(incident.rule_id.logs_url_template)

    def _link(self, template):
        if not template or not self.triggered_at:
            return False
        start, end = self._span()
        sample = self.failure_ids[:1].request_id or ""
        values = {
            "endpoint": self.endpoint, "request_id": sample,
            "start": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start)),
            "end": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(end)),
        }
        return template.format_map({k: urllib.parse.quote(v, safe="") for k, v in values.items()})

    @api.depends("endpoint", "endpoint_names", "triggered_at", "resolved_at")
    def _compute_chart(self):
        for incident in self:
            if not incident.triggered_at:
                incident.chart = False
                continue
            start, end = incident._span()
            before = 30 * 60
            self.env.cr.execute(
                """SELECT extract(epoch FROM start), SUM(requests), SUM(server_errors) FROM api_monitor_bucket
                   WHERE endpoint = ANY(%s) AND start >= %s AND start <= %s GROUP BY start ORDER BY start""",
                [incident._members(), to_datetime(start - before), to_datetime(end + before)],
            )
            points = [(float(t), int(n), int(e)) for t, n, e in self.env.cr.fetchall()]
            threshold = incident.rule_id.threshold if incident.rule_id.kind == "threshold" else None
            incident.chart = Markup(error_ratio_svg(
                points, to_epoch(incident.triggered_at), to_epoch(incident.resolved_at), threshold))

    # -- lifecycle --------------------------------------------------------------------------------
    @api.model
    def _open(self, alert, verdict, members, now):
        """A rule fired: open the incident and page its receivers."""
        rule = alert.rule_id
        endpoint = alert.group_key if alert.group_key != "*" else _("%(n)s endpoints of %(rule)s", n=len(members), rule=rule.name)
        incident = self.create({
            "rule_id": rule.id, "alert_id": alert.id, "endpoint": endpoint,
            "endpoint_names": "\n".join(members) if alert.group_key == "*" else False,
            "severity": verdict.severity, "triggered_at": to_datetime(now),
            "current_ratio": verdict.ratio or 0.0, "peak_ratio": verdict.ratio or 0.0,
            "window_requests": verdict.window.requests, "window_errors": verdict.window.errors, "detail": verdict.detail,
        })
        incident.message_post(body=_("Triggered: %(detail)s.", detail=verdict.detail))
        receivers = rule.receiver_ids.filtered(lambda r: r.accepts(incident.severity))
        incident._notify(notify.TRIGGER, receivers)
        return incident

    @api.model_create_multi
    def create(self, vals_list):
        incidents = super().create(vals_list)
        uuid = (self.env["ir.config_parameter"].sudo().get_param("database.uuid") or "")[:8]
        for incident in incidents:
            incident.name = self.env["ir.sequence"].next_by_code("api.monitor.incident") or f"INC-{incident.id}"
            incident.dedup_key = f"odoo-{uuid}-api_monitor-{incident.id}"
        return incidents

    def _observe(self, verdict):
        """Keep the current and peak ratios and the window counts up to date while the incident is open."""
        ratio = verdict.ratio or 0.0
        values = {"current_ratio": ratio, "window_requests": verdict.window.requests,
                  "window_errors": verdict.window.errors}
        if ratio > self.peak_ratio:
            values["peak_ratio"] = ratio
        if verdict.detail:
            values["detail"] = verdict.detail
        if any(self[key] != value for key, value in values.items()):
            self.write(values)

    def _escalate(self, severity, verdict):
        """A more severe tier breaches: raise the severity and, unless someone already acknowledged, page."""
        self.severity = severity
        self.message_post(body=_("Escalated to %(severity)s: %(detail)s.", severity=severity, detail=verdict.detail))
        if self.state == "triggered":
            receivers = self.rule_id.receiver_ids.filtered(lambda r: r.accepts(severity))
            self._notify(notify.TRIGGER, receivers)

    def _resolve(self, resolution, by=None, actor="", now=None):
        for incident in self.filtered(lambda i: i.state != "resolved"):
            incident.write({"state": "resolved", "resolution": resolution, "resolved_at": to_datetime(now or time.time()),
                            "resolved_by_id": by.id if by else False})
            if incident.alert_id and incident.alert_id.incident_id == incident and incident.alert_id.state != alerting.RESOLVED:
                incident.alert_id._store(alerting.resolve_manually(incident.alert_id._core_state(), now or time.time()))
            labels = dict(self._fields["resolution"].selection)
            incident.message_post(body=_("Resolved: %(how)s%(who)s.", how=labels[resolution],
                                         who=f" ({actor or (by.name if by else '')})" if (actor or by) else ""))
            skip = "pagerduty" if resolution == "pagerduty" else None
            incident._notify(notify.RESOLVE, incident._paged_receivers(skip), actor=actor or (by.name if by else ""))

    def _acknowledge(self, by=None, actor=""):
        for incident in self.filtered(lambda i: i.state == "triggered"):
            incident.write({"state": "acknowledged", "acknowledged_at": fields.Datetime.now(),
                            "acknowledged_by_id": by.id if by else False, "acknowledged_by_name": actor or False})
            incident.message_post(body=_("Acknowledged by %(who)s.", who=actor or (by.name if by else "?")))
            skip = "pagerduty" if actor else None
            receivers = incident._paged_receivers(skip).filtered(lambda r: r.kind != "alertmanager")
            incident._notify(notify.ACKNOWLEDGE, receivers, actor=actor or (by.name if by else ""))

    def _paged_receivers(self, skip_kind=None):
        """The receivers that were sent this incident's trigger (only they get its acknowledge and resolve)."""
        receivers = self.notification_ids.filtered(lambda n: n.action == notify.TRIGGER).receiver_id
        return receivers.filtered(lambda r: r.kind != skip_kind) if skip_kind else receivers

    def action_acknowledge(self):
        """The Acknowledge button: any API Monitoring user; PagerDuty gets an ``acknowledge`` event."""
        self._check_responder()
        if any(incident.state != "triggered" for incident in self):
            raise UserError(_("Only triggered incidents can be acknowledged."))
        self.sudo()._acknowledge(by=self.env.user)
        return True

    def action_resolve(self):
        """The Resolve button: any API Monitoring user; PagerDuty gets a ``resolve`` event."""
        self._check_responder()
        if any(incident.state == "resolved" for incident in self):
            raise UserError(_("This incident is already resolved."))
        self.sudo()._resolve("manual", by=self.env.user)
        return True

    def _check_responder(self):
        # users read incidents but may not write them directly: the buttons are their only way in
        self.check_access("read")
        if not self.env.user.has_group("api_monitor.group_api_monitor_user"):
            raise UserError(_("Only API Monitoring users can acknowledge or resolve incidents."))

    def _apply_pagerduty(self, event_type, actor):
        """An acknowledgement or resolution made in PagerDuty (signed webhook): mirror it, tell the others."""
        if event_type == "incident.acknowledged":
            self._acknowledge(actor=f"PagerDuty: {actor}" if actor else "PagerDuty")
        elif event_type == "incident.resolved":
            self._resolve("pagerduty", actor=f"PagerDuty: {actor}" if actor else "PagerDuty")

    # -- notifications ----------------------------------------------------------------------------
    def _event(self, action, actor=""):
        """The :class:`~..core.notify.IncidentEvent` of this incident now (no secret in it)."""
        self.ensure_one()
        base_url = self.get_base_url()
        params = self.env["ir.config_parameter"].sudo()
        return notify.IncidentEvent(
            action=action, reference=self.name, dedup_key=self.dedup_key, rule=self.rule_id.name,
            severity=self.severity, endpoint=self.endpoint, ratio=self.current_ratio,
            requests=self.window_requests, errors=self.window_errors, window=self.rule_id._window_label(),
            threshold=self.rule_id._threshold_label(), detail=self.detail or "",
            started_at=self.triggered_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            source=urllib.parse.urlsplit(params.get_param("web.base.url", base_url)).hostname or "odoo",
            incident_url=f"{base_url}/odoo/action-api_monitor.action_api_monitor_incident/{self.id}",
            runbook_url=self.runbook_url or "", dashboard_url=self.dashboard_url or "", logs_url=self.logs_url or "",
            sample_request_ids=tuple(self.failure_ids[: notify.SAMPLE_IDS_LIMIT].mapped("request_id")), actor=actor,
        )

    def _notify(self, action, receivers, actor=""):
        """Queue one notification per receiver in the outbox, and wake the delivery."""
        self.ensure_one()
        if not receivers:
            return
        payload = json.dumps(dataclasses.asdict(self._event(action, actor)))
        self.env["api.monitor.notification"].sudo().create([
            {"incident_id": self.id, "receiver_id": receiver.id, "action": action, "payload": payload}
            for receiver in receivers
        ])
        self.env["api.monitor.notification"]._wake_delivery()
