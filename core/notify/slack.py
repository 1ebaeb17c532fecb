"""Slack incoming webhooks: a message readable in the channel and in the notification preview.

Every text that comes from outside the addon (rule and endpoint names, who acknowledged) is escaped as
Slack's mrkdwn wants (``&``, ``<``, ``>``), so that nobody can ping ``<!channel>`` or forge a link.
"""

from __future__ import annotations

from urllib.parse import quote

from .. import notify
from . import ratelimit
from .event import ACKNOWLEDGE, RESOLVE, TRIGGER, IncidentEvent, percent

TEXT_LIMIT = 3000


def escape(text: str) -> str:
    """``text`` as plain text in Slack's mrkdwn."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str) -> str:
    """``text`` as inline code (a backtick inside would end it early)."""
    return "`" + escape(text).replace("`", "'") + "`"


def link(url: str, text: str) -> str:
    """A Slack link; characters that end one (``|``, ``>``) are percent-encoded in the URL."""
    return f"<{quote(url, safe=':/?#[]@!$&()*+,;=%~-._')}|{escape(text)}>"


def body(event: IncidentEvent) -> dict:
    by = f" by {escape(event.actor)}" if event.actor else ""
    ref, endpoint = escape(event.reference), code(event.endpoint)
    heading = {
        TRIGGER: f":rotating_light: {escape(event.severity)} {ref}: {percent(event.ratio)} server errors on {endpoint}",
        ACKNOWLEDGE: f":eyes: {ref} acknowledged{by}: {endpoint}",
        RESOLVE: f":white_check_mark: {ref} resolved{by}: {endpoint} is back to {percent(event.ratio)} server errors",
    }[event.action]
    facts = (f"*Rule:* {escape(event.rule)}  *Severity:* {escape(event.severity)}  *Window:* {escape(event.window)}  "
             f"*Requests:* {event.requests}  *Server errors:* {event.errors}  *Threshold:* {escape(event.threshold)}")
    links = " | ".join(link(href, text) for href, text in event.links())
    lines = [heading, facts, links]
    if event.action == TRIGGER and event.sample_request_ids:
        lines.append("*Request ids:* " + ", ".join(code(rid) for rid in event.sample_request_ids[:5]))
    text = "\n".join(lines)
    return {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text[:TEXT_LIMIT]}}]}


NOTIFIER = notify.Notifier(
    kind="slack",
    label="Slack incoming webhook",
    build=lambda event, config: body(event),
    destination=lambda config: config.slack_webhook_url,
    required=(("slack_webhook_url", "{name} has no Slack webhook URL: set it in Monitoring > Receivers."),),
    rate_limit=ratelimit.SLACK,
)
