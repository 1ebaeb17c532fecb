"""Instants as the addon computes them (epoch seconds) and as Odoo stores them (naive UTC datetimes)."""

from __future__ import annotations

import datetime


def to_datetime(epoch: float | None) -> datetime.datetime | None:
    """The naive UTC datetime Odoo stores for ``epoch``; None stays None.

    >>> to_datetime(0)
    datetime.datetime(1970, 1, 1, 0, 0)
    """
    if epoch is None:
        return None
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).replace(tzinfo=None)


def to_epoch(value: datetime.datetime | None) -> float | None:
    """The epoch of a naive UTC datetime as Odoo stores it; None (or False) stays None."""
    return None if not value else value.replace(tzinfo=datetime.timezone.utc).timestamp()


def iso(epoch: float) -> str:
    """ISO 8601 in UTC to the second, ``2026-12-03T08:05:54Z``."""
    return to_datetime(epoch).strftime("%Y-%m-%dT%H:%M:%SZ")
