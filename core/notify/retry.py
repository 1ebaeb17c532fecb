"""The one retry rule: what to do with any answer a receiver gives.

2xx: sent. A redirect: refused (the URL is not the receiver's; following it could send the event, and
its secret, elsewhere). 400 and other 4xx: refused for good. 408, 429, 5xx, no answer, an answer that is
not HTTP: retried with exponential backoff and full jitter, honouring a sane ``Retry-After``, until the
give-up age.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

SENT = "sent"
RETRY = "retry"
FAILED = "failed"  # the receiver refused it: retrying cannot help
GAVE_UP = "gave_up"  # retryable, but retried for longer than the give-up age

_DELTA_SECONDS = re.compile(r"[0-9]{1,10}")


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
        ceiling = min(self.cap, self.base * 2 ** min(max(attempt, 1) - 1, 30))
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
    """Read one delivery attempt: ``status`` is the HTTP status (None when no answer came, with ``error``
    saying why: timeout, connection refused, not HTTP...)."""
    if status is not None and 200 <= status < 300:
        return Decision(SENT)
    if status is not None and 300 <= status < 400:
        return Decision(FAILED, reason=f"HTTP {status}: the receiver redirects; set the URL it redirects to")
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


def parse_retry_after(value: object, now: float) -> float | None:
    """``Retry-After`` in seconds from now: delta-seconds or an HTTP date; None when absent or unreadable.

    >>> parse_retry_after("120", 0.0), parse_retry_after("\\u00b2", 0.0), parse_retry_after("-5", 0.0)
    (120.0, None, None)
    """
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(value)
    if len(value) > 64:
        return None
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, IndexError, OverflowError, OSError):
        return None
