import re
import time

import requests

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..core import notify
from ..core.rules import SEVERITIES

MANAGER = "api_monitor.group_api_monitor_manager"
PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITY_SELECTION = [("P1", "P1 - critical"), ("P2", "P2 - high"), ("P3", "P3 - moderate"), ("P4", "P4 - low")]


class ApiMonitorReceiver(models.Model):
    """Where incidents are sent: PagerDuty, a Slack channel, an Alertmanager, or any JSON webhook.

    The secrets (routing key, Slack webhook URL, PagerDuty webhook signing secret) are readable by API
    Monitoring managers only, and are added to a request only when it is sent: the outbox never holds them.
    """

    _name = "api.monitor.receiver"
    _description = "API Monitoring receiver"
    _order = "sequence, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    kind = fields.Selection(
        [("pagerduty", "PagerDuty (Events API v2)"), ("slack", "Slack incoming webhook"),
         ("alertmanager", "Alertmanager (API v2)"), ("webhook", "JSON webhook")],
        required=True, default="pagerduty",
    )
    url = fields.Char(
        string="Endpoint URL",
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
        SEVERITY_SELECTION, string="Notify from severity", required=True, default="P4",
        help="Incidents of this severity or more severe are sent here (P2: P1 and P2).",
    )
    timeout = fields.Integer(string="Timeout (seconds)", default=10, required=True)
    last_test_result = fields.Text(readonly=True)

    _sql_constraints = [("timeout_positive", "CHECK(timeout > 0)", "The timeout must be at least one second.")]

    @api.constrains("kind", "url", "routing_key", "slack_webhook_url")
    def _check_configuration(self):
        for rec in self.sudo():
            if rec.url and not re.match(r"^https?://[^\s/]+", rec.url):
                raise ValidationError(_("The endpoint URL of %(name)s must start with http:// or https://.", name=rec.name))
            if rec.kind == "pagerduty" and rec.routing_key and not re.fullmatch(r"[A-Za-z0-9]{32}", rec.routing_key):
                raise ValidationError(_("A PagerDuty routing key is 32 letters and digits; the one given for "
                                        "%(name)s has %(n)s characters.", name=rec.name, n=len(rec.routing_key)))
            if rec.slack_webhook_url and not re.match(r"^https?://[^\s/]+/\S+$", rec.slack_webhook_url):
                raise ValidationError(_("The Slack webhook URL of %(name)s must be a full http(s) URL, such as "
                                        "https://hooks.slack.com/services/...", name=rec.name))
            if rec.kind in ("alertmanager", "webhook") and not rec.url:
                raise ValidationError(_("%(name)s needs an endpoint URL.", name=rec.name))

    def accepts(self, severity):
        """Whether an incident of ``severity`` goes to this receiver."""
        self.ensure_one()
        return SEVERITIES.index(severity) <= SEVERITIES.index(self.min_severity)

    # -- sending ----------------------------------------------------------------------------------
    def _request(self, event):
        """(url, body bytes) for one :class:`~..core.notify.IncidentEvent`, secrets included."""
        self.ensure_one()
        me = self.sudo()
        if self.kind == "pagerduty":
            if not me.routing_key:
                raise UserError(_("%(name)s has no routing key: set it in Monitoring > Receivers.", name=self.name))
            return me.url or PAGERDUTY_URL, notify.encode(notify.pagerduty_body(event, me.routing_key))
        if self.kind == "slack":
            if not me.slack_webhook_url:
                raise UserError(_("%(name)s has no Slack webhook URL: set it in Monitoring > Receivers.", name=self.name))
            return me.slack_webhook_url, notify.encode(notify.slack_body(event))
        if self.kind == "alertmanager":
            return me.url, notify.encode(notify.alertmanager_body(event))
        return me.url, notify.encode(notify.webhook_body(event))

    def _post(self, event):
        """Send one event now; returns (status or None, response text, Retry-After, error)."""
        url, body = self._request(event)
        try:
            response = requests.post(url, data=body, timeout=self.timeout,
                                     headers={"Content-Type": "application/json", "User-Agent": "odoo-api-monitor"})
        except requests.Timeout:
            return None, "", None, f"no answer within {self.timeout}s"
        except requests.ConnectionError as exc:
            return None, "", None, f"connection failed: {type(exc).__name__}"
        return response.status_code, response.text[:2000], response.headers.get("Retry-After"), None

    def action_send_test_event(self):
        """Send a test event (and, to PagerDuty, its resolve at once) and show the remote answer."""
        self.ensure_one()
        if not self.env.user.has_group(MANAGER):
            raise UserError(_("Only API Monitoring managers can send test events."))
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        base = dict(reference="TEST", dedup_key=f"api_monitor-test-{self.id}-{int(time.time())}",
                    rule="Test event", severity="P4", endpoint="/api_monitor/test", ratio=0.0, requests=0,
                    errors=0, window="-", threshold="-", detail="A test event sent from Odoo API Monitoring.",
                    started_at=stamp, source=self.env["ir.config_parameter"].sudo().get_param("web.base.url", ""),
                    incident_url=self.env["ir.config_parameter"].sudo().get_param("web.base.url", ""))
        lines, ok = [], True
        actions = ["trigger", "resolve"] if self.kind in ("pagerduty", "alertmanager") else ["trigger"]
        for action in actions:
            status, text, _retry, error = self._post(notify.IncidentEvent(action=action, **base))
            lines.append(f"{action}: " + (f"HTTP {status} {text}" if status is not None else error))
            ok = ok and status is not None and 200 <= status < 300
        self.last_test_result = "\n".join(lines)
        kind = "success" if ok else "warning"
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": _("Answer of %s", self.name), "message": self.last_test_result, "type": kind,
                       "sticky": kind != "success", "next": {"type": "ir.actions.act_window_close"}},
        }
