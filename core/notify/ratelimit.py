"""Rate limits of the receivers' services: what the outbox may send now without being refused for it.

PagerDuty's Events API v2 takes about 120 calls a minute per integration key, counted over the 60 seconds
looking back from each call, and refuses the rest with 429 (the event is then not ingested). The outbox
keeps each receiver under its limit: what does not fit waits, in order, until the window has room again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RateLimit:
    """At most ``events`` attempts in any ``seconds``."""

    events: int
    seconds: float

    def room(self, attempts: list[float], now: float) -> tuple[int, float | None]:
        """How many more attempts may go at ``now`` after those made at ``attempts`` (epochs); when none may,
        also when the window has room again.

        >>> RateLimit(2, 60).room([10.0, 30.0], now=50.0)
        (0, 70.0)
        >>> RateLimit(2, 60).room([10.0, 30.0], now=75.0)
        (1, None)
        """
        recent = sorted(t for t in attempts if t > now - self.seconds)  # one from a host whose clock runs ahead counts
        room = self.events - len(recent)
        if room > 0:
            return room, None
        return 0, recent[-self.events] + self.seconds


#: PagerDuty documents about 120 a minute per integration key; 100 leaves room for another sender's retries
PAGERDUTY = RateLimit(100, 60.0)
#: Slack's incoming webhooks take about one message a second, short bursts allowed
SLACK = RateLimit(60, 60.0)
