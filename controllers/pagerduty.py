import json

from odoo import SUPERUSER_ID, http
from odoo.http import Response, request

from ..core.signature import verify

HANDLED = ("incident.acknowledged", "incident.resolved")


def _json(status, body):
    return Response(json.dumps(body), status=status, content_type="application/json")


class PagerDutyWebhook(http.Controller):
    @http.route("/api_monitor/pagerduty/webhook/<int:receiver_id>", type="http", auth="none", methods=["POST"],
                csrf=False, save_session=False, readonly=False)
    def webhook(self, receiver_id, **_kwargs):
        """PagerDuty v3 webhook: an acknowledgement or resolution made in PagerDuty reaches the incident.

        The body must carry a valid ``X-PagerDuty-Signature`` for the receiver's webhook secret, else 401
        and nothing changes. The incident is found by its ``dedup_key``, which PagerDuty reports as the
        incident key of incidents opened through the Events API.
        """
        body = request.httprequest.get_data()
        env = request.env(user=SUPERUSER_ID)  # auth="none": the signature, not a session, authenticates
        receiver = env["api.monitor.receiver"].browse(receiver_id).exists()
        if not receiver or receiver.kind != "pagerduty" or not verify(
            receiver.webhook_secret, body, request.httprequest.headers.get("X-PagerDuty-Signature")
        ):
            return _json(401, {"error": "invalid signature"})
        try:
            event = json.loads(body)["event"]
            event_type = event["event_type"]
            data = event.get("data") or {}
        except (ValueError, KeyError, TypeError):
            return _json(400, {"error": "not a PagerDuty v3 webhook event"})
        if event_type not in HANDLED:
            return _json(200, {"status": "ignored", "reason": f"{event_type} is not handled"})
        key = data.get("incident_key") or (data.get("incident") or {}).get("incident_key")
        incident = env["api.monitor.incident"].search([("dedup_key", "=", key)], limit=1) if key else None
        if not incident:
            return _json(200, {"status": "ignored", "reason": "no incident with this key"})
        actor = ((event.get("agent") or {}).get("summary")) or ""
        incident._apply_pagerduty(event_type, actor)
        return _json(200, {"status": "applied", "incident": incident.name, "state": incident.state})
