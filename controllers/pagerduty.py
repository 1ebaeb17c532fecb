import json

from werkzeug.exceptions import RequestEntityTooLarge

from odoo import SUPERUSER_ID, http
from odoo.http import Response, request

from ..core.notify import pagerduty
from ..core.signature import verify
from ..storage import store


def _json(status, body):
    return Response(json.dumps(body), status=status, content_type="application/json")


class PagerDutyWebhook(http.Controller):
    @http.route("/api_monitor/pagerduty/webhook/<int:receiver_id>", type="http", auth="none", methods=["POST"],
                csrf=False, save_session=False, readonly=False)
    def webhook(self, receiver_id, **_kwargs):
        """PagerDuty v3 webhook: an acknowledgement or resolution made in PagerDuty reaches the incident.

        The body must carry a valid ``X-PagerDuty-Signature`` for the receiver's webhook secret, else 401 and
        nothing changes; a body over 1 MB gets 413 unread, a signed body that is not an event 400. A
        receiver's secret acts only on incidents that were paged through that receiver, found by the
        ``dedup_key`` PagerDuty reports as the incident key; an event id seen before changes nothing.
        """
        httprequest = request.httprequest
        length = httprequest.content_length
        if length is not None and length > pagerduty.WEBHOOK_BODY_LIMIT:
            return _json(413, {"error": f"the body is over {pagerduty.WEBHOOK_BODY_LIMIT} bytes"})
        httprequest.max_content_length = pagerduty.WEBHOOK_BODY_LIMIT  # a body sent in chunks stops there too
        try:
            body = httprequest.get_data()
        except RequestEntityTooLarge:
            return _json(413, {"error": f"the body is over {pagerduty.WEBHOOK_BODY_LIMIT} bytes"})
        env = request.env(user=SUPERUSER_ID)  # auth="none": the signature, not a session, authenticates
        receiver = env["api.monitor.receiver"].browse(receiver_id).exists()
        if not receiver or receiver.kind != "pagerduty" or not verify(
            receiver.webhook_secret, body, httprequest.headers.get("X-PagerDuty-Signature")
        ):
            return _json(401, {"error": "invalid signature"})
        try:
            event = pagerduty.parse_webhook(body)
        except pagerduty.WebhookError as exc:
            return _json(400, {"error": f"not a PagerDuty v3 webhook event: {exc}"})
        if event.type not in pagerduty.WEBHOOK_EVENTS:
            return _json(200, {"status": "ignored", "reason": f"{event.type} is not handled"})
        incident = env["api.monitor.incident"].search([
            ("dedup_key", "=", event.incident_key), ("notification_ids.receiver_id", "=", receiver.id),
            ("notification_ids.action", "=", "trigger")], limit=1) if event.incident_key else None
        if not incident:
            return _json(200, {"status": "ignored", "reason": "no incident with this key was paged through this receiver"})
        if not store.note_webhook_event(env.cr, receiver.id, event.id):
            return _json(200, {"status": "ignored", "reason": "this event was applied before"})
        incident._apply_pagerduty(event.type, event.actor)
        return _json(200, {"status": "applied", "incident": incident.name, "state": incident.state})
