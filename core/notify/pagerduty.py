"""PagerDuty Events API v2: ``POST /v2/enqueue``; every event of an incident shares its ``dedup_key``."""

from __future__ import annotations

import json
from dataclasses import dataclass

from .. import notify
from . import ratelimit
from .event import SAMPLE_IDS_LIMIT, TRIGGER, IncidentEvent

URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITY = {"P1": "critical", "P2": "error", "P3": "warning", "P4": "info"}
DEDUP_KEY_LIMIT = 255


def body(event: IncidentEvent, routing_key: str) -> dict:
    """An Events API v2 event."""
    out: dict = {"routing_key": routing_key, "event_action": event.action, "dedup_key": event.dedup_key[:DEDUP_KEY_LIMIT]}
    if event.action != TRIGGER:
        return out
    out.update(
        payload={
            "summary": event.summary,
            "source": event.source,
            "severity": SEVERITY[event.severity],
            "timestamp": event.started_at,
            "component": event.endpoint,
            "group": event.rule,
            "class": "api_error_rate",
            "custom_details": {
                "incident": event.reference,
                "endpoint": event.endpoint,
                "error_ratio": None if event.ratio is None else round(event.ratio, 6),
                "requests": event.requests,
                "server_errors": event.errors,
                "window": event.window,
                "threshold": event.threshold,
                "detail": event.detail,
                "sample_request_ids": list(event.sample_request_ids[:SAMPLE_IDS_LIMIT]),
            },
        },
        links=[{"href": href, "text": text} for href, text in event.links()],
        client="Odoo API Monitoring",
        client_url=event.incident_url,
    )
    return out


NOTIFIER = notify.Notifier(
    kind="pagerduty",
    label="PagerDuty (Events API v2)",
    build=lambda event, config: body(event, config.routing_key),
    destination=lambda config: config.url or URL,
    required=(("routing_key", "{name} has no routing key: set it in Monitoring > Receivers."),),
    rate_limit=ratelimit.PAGERDUTY,
)


# -- PagerDuty's v3 webhooks: acknowledgements and resolutions made in PagerDuty ------------------------
#: the only webhook events that change an incident
WEBHOOK_EVENTS = ("incident.acknowledged", "incident.resolved")
#: the largest webhook body read (PagerDuty's are a few kilobytes)
WEBHOOK_BODY_LIMIT = 1024 * 1024


class WebhookError(ValueError):
    """A signed body that is not a PagerDuty v3 webhook event; the message says why (HTTP 400)."""


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    id: str
    type: str
    incident_key: str  # the dedup_key of the events that opened PagerDuty's incident; "" when none
    actor: str  # who acted in PagerDuty, "" when unknown


def parse_webhook(body: bytes) -> WebhookEvent:
    """Read a v3 webhook body (``{"event": {"id", "event_type", "agent", "data": {...}}}``); raises
    :class:`WebhookError` with the reason when it is not one."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookError("the body is not JSON") from None
    event = document.get("event") if isinstance(document, dict) else None
    if not isinstance(event, dict):
        raise WebhookError("the body has no 'event' object")
    event_id, event_type = event.get("id"), event.get("event_type")
    if not isinstance(event_id, str) or not 0 < len(event_id) <= 255:
        raise WebhookError("'event.id' must be a string of 1 to 255 characters")
    if not isinstance(event_type, str) or not 0 < len(event_type) <= 100:
        raise WebhookError("'event.event_type' must be a string of 1 to 100 characters")
    data = event.get("data") or {}
    if not isinstance(data, dict):
        raise WebhookError("'event.data' must be an object")
    key = data.get("incident_key")
    if key is None and isinstance(data.get("incident"), dict):
        key = data["incident"].get("incident_key")
    if key is not None and not isinstance(key, str):
        raise WebhookError("the incident key must be a string")
    agent = event.get("agent")
    actor = agent.get("summary") if isinstance(agent, dict) else None
    return WebhookEvent(event_id, event_type, (key or "")[:DEDUP_KEY_LIMIT],
                        actor[:200] if isinstance(actor, str) else "")
