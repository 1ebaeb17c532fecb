"""Link templates: the dashboard and logs links of an incident.

A template is a URL with placeholders, ``{endpoint}``, ``{request_id}``, ``{start}`` and ``{end}``, each
replaced by its URL-encoded value. Every other brace is left as written: Grafana and Loki URLs are full of
them (``{job="odoo"}``), so a template is never read as a Python format string.
"""

from __future__ import annotations

import re
from urllib.parse import quote

PLACEHOLDERS = ("endpoint", "request_id", "start", "end")
TEMPLATE_LIMIT = 2000
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class TemplateError(ValueError):
    """A template that cannot be used; the message says what to fix."""


def check(template: str | None, label: str = "The link") -> None:
    """Raise :class:`TemplateError` when ``template`` is not a usable link template (empty is fine)."""
    if not template:
        return
    if len(template) > TEMPLATE_LIMIT:
        raise TemplateError(f"{label} is {len(template)} characters long; keep it to {TEMPLATE_LIMIT}.")
    if not re.match(r"https?://[^\s/]+", template):
        raise TemplateError(f"{label} must start with http:// or https://, e.g. https://grafana.example.com/d/api")
    if any(character.isspace() for character in template):
        raise TemplateError(f"{label} cannot contain spaces: write them as %20.")
    unknown = sorted({name for name in _PLACEHOLDER.findall(template) if name not in PLACEHOLDERS})
    if unknown:
        allowed = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
        raise TemplateError(f"{label} uses {', '.join('{' + n + '}' for n in unknown)}, which is not a placeholder: "
                            f"use {allowed}.")


def render(template: str | None, values: dict[str, str]) -> str:
    """``template`` with each known placeholder replaced by its URL-encoded value; never raises.

    >>> render('https://g/explore?q={job="odoo"} |= "{request_id}"', {"request_id": "ab12"})
    'https://g/explore?q={job="odoo"} |= "ab12"'
    """
    if not template:
        return ""
    return _PLACEHOLDER.sub(
        lambda m: quote(str(values.get(m.group(1), "")), safe="") if m.group(1) in PLACEHOLDERS else m.group(0),
        template)
