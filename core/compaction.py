"""Compaction: minute buckets older than the minute retention move into their hourly row, as arrays.

A minute bucket is a row of its own (about 215 bytes with its index); an hour of one endpoint compacted is
one row holding the sixty minute counts in two arrays (requests and server errors, the second left out when
the hour had none). Every minute stays readable: a window, a chart or a backtest reads the minute buckets
and the compacted minutes together, so every sum is exactly what it was before compaction.

>>> arrays = fold([(7200.0, "/a", 5, 1), (7260.0, "/a", 3, 0), (7200.0, "/b", 2, 0)])
>>> arrays[(7200.0, "/a")][0][:3], arrays[(7200.0, "/a")][1][:3], arrays[(7200.0, "/b")][1]
([5, 3, 0], [1, 0, 0], None)
"""

from __future__ import annotations

from .rules import HOUR

MINUTES = 60


def cutoff(now: float, minute_days: int) -> float:
    """Minute buckets of the hours that ended before this instant are compacted: whole hours only, the
    minute retention counted back from ``now``."""
    return (now - minute_days * 86400) // HOUR * HOUR


def fold(rows) -> dict[tuple[float, str], tuple[list[int], list[int] | None]]:
    """``{(hour start, endpoint): (requests per minute, server errors per minute or None)}`` of minute buckets
    ``(start epoch, endpoint, requests, server errors)``; None when the hour had no server error."""
    hours: dict[tuple[float, str], tuple[list[int], list[int]]] = {}
    for start, endpoint, requests, errors in rows:
        hour = start // HOUR * HOUR
        minute = int(start - hour) // 60
        counts, failures = hours.setdefault((hour, endpoint), ([0] * MINUTES, [0] * MINUTES))
        counts[minute] += requests
        failures[minute] += errors
    return {key: (counts, failures if any(failures) else None) for key, (counts, failures) in hours.items()}


def unfold(hour: float, requests: list[int], errors: list[int] | None) -> list[tuple[float, int, int]]:
    """The minutes with traffic of one compacted hour: ``(minute start, requests, server errors)``."""
    errors = errors or [0] * MINUTES
    return [(hour + 60 * i, n, errors[i]) for i, n in enumerate(requests) if n or errors[i]]
