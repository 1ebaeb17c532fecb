"""Alertmanager API v2: ``POST /api/v2/alerts``, one alert firing until resolved. Alertmanager has no
acknowledgement, so an acknowledge is not sent there."""

from __future__ import annotations

import time

from .. import notify
from ..times import iso
from .event import RESOLVE, TRIGGER, IncidentEvent


def body(event: IncidentEvent, now: float | None = None) -> list[dict]:
    alert = {
        "labels": {"alertname": "ApiErrorRate", "rule": event.rule, "endpoint": event.endpoint,
                   "severity": event.severity, "incident": event.reference},
        "annotations": {"summary": event.summary, "description": event.detail, "runbook_url": event.runbook_url,
                        "dashboard_url": event.dashboard_url},
        "startsAt": event.started_at,
        "generatorURL": event.incident_url,
    }
    if event.action == RESOLVE:
        alert["endsAt"] = iso(time.time() if now is None else now)
    return [alert]


NOTIFIER = notify.Notifier(
    kind="alertmanager",
    label="Alertmanager (API v2)",
    build=lambda event, config: body(event),
    destination=lambda config: config.url,
    actions=(TRIGGER, RESOLVE),
    required=(("url", "{name} needs the URL of its Alertmanager's /api/v2/alerts."),),
)
