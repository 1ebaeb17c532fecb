"""What each receiver is sent, and what to do with its answer.

Every integration turns one :class:`IncidentEvent` into an HTTP request body; one retry rule
(:func:`decide`) reads every answer. Secrets (PagerDuty routing keys, Slack webhook URLs) are not part of
:class:`IncidentEvent`: the delivery adds them at send time, so they are never stored in the outbox.
"""

from __future__ import annotations

import datetime
import json
import random
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

TRIGGER = "trigger"
ACKNOWLEDGE = "acknowledge"
RESOLVE = "resolve"
EVENTS = (TRIGGER, ACKNOWLEDGE, RESOLVE)

PAGERDUTY_SEVERITY = {"P1": "critical", "P2": "error", "P3": "warning", "P4": "info"}
SUMMARY_LIMIT = 1024
DEDUP_KEY_LIMIT = 255
BODY_LIMIT = 512 * 1024
SAMPLE_IDS_LIMIT = 10


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    """An incident at the moment of one notification, as every receiver sees it."""

    action: str  # trigger, acknowledge or resolve
    reference: str  # e.g. INC-0042
    dedup_key: str  # stable for the incident's whole life
    rule: str
    severity: str  # P1..P4
    endpoint: str
    ratio: float | None
    requests: int
    errors: int
    window: str  # e.g. "5m"
    threshold: str  # e.g. "5.0%" or "99.9% objective"
    detail: str
    started_at: str  # ISO 8601 UTC
    source: str  # the Odoo host name
    incident_url: str
    runbook_url: str = ""
    dashboard_url: str = ""
    logs_url: str = ""
    sample_request_ids: tuple[str, ...] = ()
    actor: str = ""  # who acknowledged or resolved, when a person did

    @property
    def summary(self) -> str:
        ratio = "n/a" if self.ratio is None else f"{100 * self.ratio:.1f}%"
        text = f"[{self.severity}] {ratio} server errors on {self.endpoint} ({self.window})"
        return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "\u2026"

    def links(self) -> list[tuple[str, str]]:
        links = [(self.incident_url, f"Incident {self.reference} in Odoo")]
        for url, text in ((self.runbook_url, "Runbook"), (self.dashboard_url, "Dashboard"), (self.logs_url, "Logs")):
            if url:
                links.append((url, text))
        return links


def pagerduty_body(event: IncidentEvent, routing_key: str) -> dict:
    """An Events API v2 event (``POST /v2/enqueue``)."""
    body: dict = {
        "routing_key": routing_key,
        "event_action": event.action,
        "dedup_key": event.dedup_key[:DEDUP_KEY_LIMIT],
    }
    if event.action != TRIGGER:
        return body
    body.update(
        payload={
            "summary": event.summary,
            "source": event.source,
            "severity": PAGERDUTY_SEVERITY[event.severity],
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
    return body


def slack_body(event: IncidentEvent) -> dict:
    """A Slack incoming-webhook message: readable in the channel and in the notification preview."""
    ratio = "n/a" if event.ratio is None else f"{100 * event.ratio:.1f}%"
    heading = {
        TRIGGER: f":rotating_light: {event.severity} {event.reference}: {ratio} server errors on `{event.endpoint}`",
        ACKNOWLEDGE: f":eyes: {event.reference} acknowledged{f' by {event.actor}' if event.actor else ''}: `{event.endpoint}`",
        RESOLVE: f":white_check_mark: {event.reference} resolved{f' by {event.actor}' if event.actor else ''}: `{event.endpoint}` is back to {ratio} server errors",
    }[event.action]
    facts = (f"*Rule:* {event.rule}  *Severity:* {event.severity}  *Window:* {event.window}  "
             f"*Requests:* {event.requests}  *Server errors:* {event.errors}  *Threshold:* {event.threshold}")
    links = " | ".join(f"<{href}|{text}>" for href, text in event.links())
    lines = [heading, facts, links]
    if event.action == TRIGGER and event.sample_request_ids:
        lines.append("*Request ids:* " + ", ".join(f"`{rid}`" for rid in event.sample_request_ids[:5]))
    text = "\n".join(lines)
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}]}


def alertmanager_body(event: IncidentEvent) -> list[dict]:
    """``POST /api/v2/alerts``: one alert, firing until resolved (``endsAt`` set on resolve)."""
    alert = {
        "labels": {"alertname": "ApiErrorRate", "rule": event.rule, "endpoint": event.endpoint,
                   "severity": event.severity, "incident": event.reference},
        "annotations": {"summary": event.summary, "description": event.detail, "runbook_url": event.runbook_url,
                        "dashboard_url": event.dashboard_url},
        "startsAt": event.started_at,
        "generatorURL": event.incident_url,
    }
    if event.action == RESOLVE:
        alert["endsAt"] = _now_iso()
    return [alert]


def webhook_body(event: IncidentEvent) -> dict:
    """A generic JSON webhook: the whole event, flat."""
    body = {key: getattr(event, key) for key in IncidentEvent.__slots__}
    body["summary"] = event.summary
    body["sample_request_ids"] = list(event.sample_request_ids)
    return body


def encode(body: dict | list) -> bytes:
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    if len(data) > BODY_LIMIT:
        raise ValueError(f"notification body of {len(data)} bytes exceeds {BODY_LIMIT}")
    return data


def _now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# -- the one retry rule ------------------------------------------------------------------------------
SENT = "sent"
RETRY = "retry"
FAILED = "failed"  # the receiver refused it: retrying cannot help
GAVE_UP = "gave_up"  # retryable, but retried for longer than the give-up age


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: str
    retry_at: float | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, honouring ``Retry-After``, until ``give_up_after`` seconds."""

    base: float = 2.0
    cap: float = 300.0
    give_up_after: float = 3600.0
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th failure (1-based): random in [half, full] of base*2^(n-1)."""
        ceiling = min(self.cap, self.base * 2 ** (attempt - 1))
        return ceiling / 2 + self.rng.random() * ceiling / 2


def decide(
    status: int | None,
    error: str | None,
    attempt: int,
    now: float,
    first_attempt_at: float,
    policy: RetryPolicy,
    retry_after: str | None = None,
) -> Decision:
    """Read one delivery attempt: ``status`` is the HTTP status (None when no answer came, with
    ``error`` saying why: timeout, connection refused...)."""
    if status is not None and 200 <= status < 300:
        return Decision(SENT)
    if status is not None and 400 <= status < 500 and status not in (408, 429):
        return Decision(FAILED, reason=f"HTTP {status}: the receiver refused the event")
    reason = error or f"HTTP {status}"
    wait = policy.backoff(attempt)
    hinted = parse_retry_after(retry_after, now)
    if hinted is not None:
        wait = max(wait, min(hinted, policy.cap))
    if now + wait - first_attempt_at > policy.give_up_after:
        return Decision(GAVE_UP, reason=f"{reason}; still failing after {attempt} attempts")
    return Decision(RETRY, retry_at=now + wait, reason=reason)


def parse_retry_after(value: str | None, now: float) -> float | None:
    """``Retry-After`` in seconds from now: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
