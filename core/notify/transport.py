"""Sending one request to a receiver, whatever the other side does.

:func:`send` never raises and never follows a redirect; it waits at most ``timeout`` (capped at
:data:`TIMEOUT_CAP`) and reads at most :data:`ANSWER_LIMIT` bytes of the answer. What it keeps of the
answer and of any error is scrubbed of the receiver's secrets and of URLs (:func:`scrub`), so it can be
stored and shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import requests

#: the longest a receiver may take, whatever its configuration says
TIMEOUT_CAP = 30.0
#: the most of an answer that is read and kept
ANSWER_LIMIT = 2000
_URL = re.compile(r"(?i)\b(https?)://([^/\s'\"<>]+)[^\s'\"<>]*")


@dataclass(frozen=True, slots=True)
class Outbound:
    """One HTTP POST: where, what, which headers."""

    url: str
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Answer:
    """What came back: the HTTP status and a bounded, scrubbed text; or no status and why (``error``)."""

    status: int | None
    text: str = ""
    retry_after: str | None = None
    error: str | None = None


def scrub(text: str, secrets: tuple[str, ...] = ()) -> str:
    """``text`` with every secret replaced and every URL cut to its scheme and host.

    >>> scrub("POST https://hooks.slack.com/services/T0/B0/XyZ failed", ("XyZ",))
    'POST https://hooks.slack.com/... failed'
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _URL.sub(lambda m: f"{m.group(1)}://{m.group(2).rpartition('@')[2]}/...", text)


def send(outbound: Outbound, timeout: float, secrets: tuple[str, ...] = (), session=None) -> Answer:
    """POST ``outbound``; an :class:`Answer` whatever happens (``session`` is injected by tests)."""
    timeout = min(max(float(timeout), 0.1), TIMEOUT_CAP)
    poster = session or requests
    try:
        response = poster.post(outbound.url, data=outbound.body, headers=dict(outbound.headers), timeout=timeout,
                               allow_redirects=False, stream=True)
        try:
            raw = response.raw.read(ANSWER_LIMIT, decode_content=True) or b""
            status = response.status_code
            retry_after = response.headers.get("Retry-After")
        finally:
            response.close()
    except requests.Timeout:
        return Answer(None, error=f"no answer within {timeout:g}s")
    except requests.ConnectionError as exc:
        return Answer(None, error=scrub(f"connection failed: {_reason(exc)}", secrets))
    except Exception as exc:  # noqa: BLE001 - whatever the other side does, the delivery decides on its own
        return Answer(None, error=scrub(f"{type(exc).__name__}: {exc}"[:300], secrets))
    text = scrub(raw.decode("utf-8", "replace"), secrets)
    if not isinstance(status, int) or not 100 <= status <= 599:
        return Answer(None, text, error=f"not an HTTP status: {status!r}"[:100])
    return Answer(status, text, retry_after[:100] if isinstance(retry_after, str) else None)


def _reason(exc: Exception) -> str:
    """The innermost cause of a connection failure, without the URL requests puts in its message."""
    inner = exc
    while inner.__cause__ is not None or inner.__context__ is not None:
        inner = inner.__cause__ or inner.__context__
    if isinstance(inner, OSError) and inner.strerror:
        return inner.strerror
    return type(inner).__name__
