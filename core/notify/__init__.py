"""Notifying receivers: one contract, one notifier per kind, one retry rule.

As Alertmanager's ``notify/`` does: every integration turns one :class:`IncidentEvent` into an
:class:`Outbound` request (:class:`Notifier`), :func:`~.transport.send` sends any of them the same way
(no redirects, a capped timeout, a bounded answer, every failure caught), and :func:`~.retry.decide` reads
every answer. The contract tests (``tests/core/test_notify_contract.py``) hold each notifier to the same
rules: retryable codes, refusals, secrets never in a reason or a stored answer.

Secrets (PagerDuty routing keys, Slack webhook URLs) are not part of :class:`IncidentEvent`: the delivery
adds them at send time from the :class:`ReceiverConfig`, so they are never stored in the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .event import ACKNOWLEDGE, EVENTS, RESOLVE, TRIGGER, IncidentEvent, encode  # noqa: F401
from .ratelimit import RateLimit
from .retry import FAILED, GAVE_UP, RETRY, SENT, Decision, RetryPolicy, decide, parse_retry_after  # noqa: F401
from .transport import Answer, Outbound, scrub, send  # noqa: F401


class NotConfigured(ValueError):
    """The receiver lacks what it needs to send (a routing key, a URL); the message says what to set."""


@dataclass(frozen=True, slots=True)
class ReceiverConfig:
    """What a notifier needs of a receiver, secrets included (never stored with a notification)."""

    kind: str
    name: str = ""
    url: str = ""
    routing_key: str = ""
    slack_webhook_url: str = ""
    timeout: float = 10.0

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values that must never appear in a log, a stored answer or a reason: the routing key, the Slack
        webhook URL and its path (Slack's token), and whatever a URL carries after its host (a token in the
        path or query, a password)."""
        from urllib.parse import urlsplit

        found = [self.routing_key, self.slack_webhook_url]
        for url in (self.slack_webhook_url, self.url):
            try:
                parts = urlsplit(url)
            except ValueError:
                continue
            found += [parts.password or "", parts.query, parts.path if url == self.slack_webhook_url else ""]
        return tuple(sorted({s for s in found if s and len(s) >= 6}, key=len, reverse=True))


@dataclass(frozen=True)
class Notifier:
    """How one kind of receiver is notified.

    ``build(event, config) -> body`` makes the JSON body; ``destination(config)`` the URL to POST to;
    ``actions`` the events the kind takes (Alertmanager has no acknowledge); ``required`` the config fields
    it cannot send without, with what to tell the user; ``rate_limit`` what its service accepts (None: no
    documented limit).
    """

    kind: str
    label: str
    build: object
    destination: object
    actions: tuple[str, ...] = EVENTS
    required: tuple[tuple[str, str], ...] = field(default=())
    rate_limit: RateLimit | None = None

    def request(self, event: IncidentEvent, config: ReceiverConfig) -> Outbound:
        """The HTTP request for ``event``; raises :class:`NotConfigured` or ``ValueError`` (body too big)."""
        for attribute, missing in self.required:
            if not getattr(config, attribute):
                raise NotConfigured(missing.format(name=config.name))
        return Outbound(self.destination(config), encode(self.build(event, config)),
                        (("Content-Type", "application/json"), ("User-Agent", "odoo-api-monitor")))

    def configured(self, config: ReceiverConfig) -> bool:
        return all(getattr(config, attribute) for attribute, _ in self.required)


def notifier(kind: str) -> Notifier:
    """The notifier of a receiver kind (``pagerduty``, ``slack``, ``alertmanager``, ``webhook``)."""
    from . import alertmanager, pagerduty, slack, webhook

    notifiers = {n.NOTIFIER.kind: n.NOTIFIER for n in (pagerduty, slack, alertmanager, webhook)}
    try:
        return notifiers[kind]
    except KeyError:
        raise ValueError(f"no notifier for receivers of kind {kind!r}") from None


KINDS = ("pagerduty", "slack", "alertmanager", "webhook")

#: the shortest and longest time a receiver may be given to answer (seconds)
TIMEOUT_RANGE = (1, 30)
_URL_LIMIT = 2000


class ReceiverError(ValueError):
    """A receiver setting that cannot be used; the message says what to change."""


def check_receiver(config: ReceiverConfig) -> None:
    """Raise :class:`ReceiverError` saying what to change when ``config`` cannot be used as written. A
    missing destination is allowed: the receiver is then *not configured* and sends nothing."""
    if config.kind not in KINDS:
        raise ReceiverError(f"The kind must be one of {', '.join(KINDS)}; {config.kind!r} is not.")
    for label, url in (("endpoint URL", config.url), ("Slack webhook URL", config.slack_webhook_url)):
        if url and not _is_url(url):
            raise ReceiverError(f"The {label} of {config.name} must be a full http:// or https:// URL without "
                                f"spaces ({_URL_LIMIT} characters at most), such as https://events.pagerduty.com/v2/enqueue.")
    if config.kind == "pagerduty" and config.routing_key and not (
            len(config.routing_key) == 32 and config.routing_key.isascii() and config.routing_key.isalnum()):
        raise ReceiverError(f"A PagerDuty routing key is 32 letters and digits; the one given for {config.name} "
                            f"has {len(config.routing_key)} characters.")
    low, high = TIMEOUT_RANGE
    if not low <= config.timeout <= high:
        raise ReceiverError(f"The timeout of {config.name} must be between {low} and {high} seconds; "
                            f"{config.timeout:g} is not.")


def _is_url(url: str) -> bool:
    from urllib.parse import urlsplit

    if len(url) > _URL_LIMIT or any(c.isspace() for c in url) or not url.isprintable():
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)
