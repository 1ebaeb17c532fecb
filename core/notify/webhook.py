"""A generic JSON webhook: the whole event, flat."""

from __future__ import annotations

from .. import notify
from .event import IncidentEvent


def body(event: IncidentEvent) -> dict:
    out = {key: getattr(event, key) for key in IncidentEvent.__slots__}
    out["summary"] = event.summary
    out["sample_request_ids"] = list(event.sample_request_ids)
    return out


NOTIFIER = notify.Notifier(
    kind="webhook",
    label="JSON webhook",
    build=lambda event, config: body(event),
    destination=lambda config: config.url,
    required=(("url", "{name} needs the URL to POST to."),),
)
