"""The event every receiver is told about: an incident at the moment of one notification."""

from __future__ import annotations

import json
from dataclasses import dataclass

TRIGGER = "trigger"
ACKNOWLEDGE = "acknowledge"
RESOLVE = "resolve"
EVENTS = (TRIGGER, ACKNOWLEDGE, RESOLVE)

SUMMARY_LIMIT = 1024
BODY_LIMIT = 512 * 1024
SAMPLE_IDS_LIMIT = 10


@dataclass(frozen=True, slots=True)
class IncidentEvent:
    """An incident at the moment of one notification, as every receiver sees it. No secret in it."""

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
        text = f"[{self.severity}] {percent(self.ratio)} server errors on {self.endpoint} ({self.window})"
        return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "\u2026"

    def links(self) -> list[tuple[str, str]]:
        links = [(self.incident_url, f"Incident {self.reference} in Odoo")]
        for url, text in ((self.runbook_url, "Runbook"), (self.dashboard_url, "Dashboard"), (self.logs_url, "Logs")):
            if url:
                links.append((url, text))
        return links

    def to_json(self) -> str:
        """The event as stored in the outbox."""
        return json.dumps({key: getattr(self, key) for key in self.__slots__})

    @classmethod
    def from_json(cls, text: str) -> IncidentEvent:
        values = json.loads(text)
        values["sample_request_ids"] = tuple(values.get("sample_request_ids") or ())
        return cls(**values)


def percent(ratio: float | None) -> str:
    return "n/a" if ratio is None else f"{100 * ratio:.1f}%"


def encode(body: dict | list) -> bytes:
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    if len(data) > BODY_LIMIT:
        raise ValueError(f"notification body of {len(data)} bytes exceeds {BODY_LIMIT}")
    return data
