import time

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..core import incident as lifecycle
from ..core import notify
from ..core.rules import SEVERITY_LABELS
from ..core.times import iso, to_datetime, to_epoch

MANAGER = "api_monitor.group_api_monitor_manager"
SECRET_FIELDS = ("url", "routing_key", "slack_webhook_url", "webhook_secret")


class ApiMonitorReceiver(models.Model):
    """Where incidents are sent: PagerDuty, a Slack channel, an Alertmanager, or any JSON webhook.

    How each kind is sent is ``core.notify``'s. The destination and the secrets (URL, routing key, Slack
    webhook URL, PagerDuty webhook signing secret) are readable by API Monitoring managers only, and are
    added to a request only when it is sent: the outbox never holds them.
    """

    _name = "api.monitor.receiver"
    _description = "API Monitoring receiver"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    sequence = fields.Integer(default=10)
    kind = fields.Selection([(kind, notify.notifier(kind).label) for kind in notify.KINDS],
                            required=True, default="pagerduty", tracking=True)
    url = fields.Char(
        string="Endpoint URL", groups=MANAGER,
        help="PagerDuty: the Events API v2 URL (change it for a sandbox). Alertmanager: its /api/v2/alerts "
             "URL. JSON webhook: the URL to POST to. Slack: leave empty and set the webhook URL below.",
    )
    routing_key = fields.Char(groups=MANAGER, help="The 32-character integration key of a PagerDuty service.")
    slack_webhook_url = fields.Char(string="Slack webhook URL", groups=MANAGER)
    webhook_secret = fields.Char(
        string="PagerDuty webhook secret", groups=MANAGER,
        help="The signing secret of a PagerDuty v3 webhook subscription pointing at "
             "/api_monitor/pagerduty/webhook/<this receiver's id>: acknowledgements and resolutions made in "
             "PagerDuty then reach the incident.",
    )
    min_severity = fields.Selection(
        list(SEVERITY_LABELS), string="Notify from severity", required=True, default="P4", tracking=True,
        help="Incidents of this severity or more severe are sent here (P2: P1 and P2).",
    )
    timeout = fields.Integer(string="Timeout (seconds)", default=10, required=True,
                             help="How long the receiver may take to answer: 1 to 30 seconds.")
    last_test_result = fields.Text(readonly=True, groups=MANAGER)
    configured = fields.Boolean(
        compute="_compute_configured", compute_sudo=True,
        help="It has what it needs to send (a routing key, a webhook URL). One that is not is left out of every "
             "incident until it is.")

    @api.depends("kind", "url", "routing_key", "slack_webhook_url")
    def _compute_configured(self):
        for receiver in self:
            receiver.configured = notify.notifier(receiver.kind).configured(receiver._config())

    def write(self, vals):
        # the destination and the secrets are never tracked (tracking values are read by every follower): a note
        # says which of them changed, and who changed them, without their values
        changed = [self._fields[name].string for name in SECRET_FIELDS if name in vals]
        result = super().write(vals)
        if changed:
            for receiver in self:
                receiver.message_post(body=self.env._("Changed: %(fields)s.", fields=", ".join(changed)))
        return result

    @api.constrains("kind", "url", "routing_key", "slack_webhook_url", "timeout", "name")
    def _check_configuration(self):
        for receiver in self.sudo():
            try:
                notify.check_receiver(receiver._config())
            except notify.ReceiverError as exc:
                raise ValidationError(str(exc)) from None

    def _config(self):
        """What ``core.notify`` needs to send to this receiver, secrets included (never stored elsewhere)."""
        self.ensure_one()
        me = self.sudo()
        return notify.ReceiverConfig(kind=me.kind, name=me.name, url=me.url or "", routing_key=me.routing_key or "",
                                     slack_webhook_url=me.slack_webhook_url or "", timeout=me.timeout)

    def _lifecycle(self):
        """These receivers as ``core.incident`` weighs them: the active ones that are configured."""
        return [lifecycle.Receiver(r.id, r.kind, r.min_severity) for r in self.filtered(lambda r: r.active and r.configured)]

    def _outbound(self, event):
        """The request for ``event`` (raises ``NotConfigured`` or ``ValueError``)."""
        config = self._config()
        return notify.notifier(config.kind).request(event, config), config

    def _rate_room(self, now):
        """(how many more notifications may go now, when the limit has room again if none may) under the rate
        limit of this receiver's service (``core.notify.ratelimit``)."""
        self.ensure_one()
        limit = notify.notifier(self.kind).rate_limit
        if limit is None:
            return float("inf"), None
        attempts = self.env["api.monitor.notification"].sudo().search_read(
            [("receiver_id", "=", self.id), ("last_attempt_at", ">", to_datetime(now - limit.seconds))],
            ["last_attempt_at"])
        return limit.room([to_epoch(a["last_attempt_at"]) for a in attempts], now)

    def _rate_limit_seconds(self):
        limit = notify.notifier(self.kind).rate_limit
        return limit.seconds if limit else 0.0

    def _send(self, event):
        """Send one event now: an :class:`~..core.notify.Answer`, whatever the other side does."""
        try:
            outbound, config = self._outbound(event)
        except ValueError as exc:  # NotConfigured, or a body over PagerDuty's limit
            return notify.Answer(None, error=str(exc))
        return notify.send(outbound, config.timeout, config.secrets)

    def action_send_test_event(self):
        """Send a test event (and, where the kind takes it, its resolve at once) and show the answer."""
        self.ensure_one()
        if not self.env.user.has_group(MANAGER):
            raise UserError(self.env._("Only API Monitoring managers can send test events."))
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "")
        base = dict(reference="TEST", dedup_key=f"api_monitor-test-{self.id}-{int(time.time())}",
                    rule="Test event", severity="P4", endpoint="/api_monitor/test", ratio=0.0, requests=0,
                    errors=0, window="-", threshold="-", detail="A test event sent from Odoo API Monitoring.",
                    started_at=iso(time.time()), source=base_url, incident_url=base_url)
        lines, ok = [], True
        actions = [a for a in (notify.TRIGGER, notify.RESOLVE) if a in notify.notifier(self.kind).actions]
        if self.kind == "slack":
            actions = [notify.TRIGGER]
        for action in actions:
            answer = self._send(notify.IncidentEvent(action=action, **base))
            lines.append(f"{action}: " + (f"HTTP {answer.status} {answer.text}" if answer.status is not None
                                          else answer.error))
            ok = ok and answer.status is not None and 200 <= answer.status < 300
        self.sudo().last_test_result = "\n".join(lines)
        kind = "success" if ok else "warning"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": self.env._("Answer of %s", self.name), "message": "\n".join(lines), "type": kind,
                       "sticky": kind != "success", "next": {"type": "ir.actions.act_window_close"}},
        }
