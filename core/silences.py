"""Silences and maintenance windows: when an incident opens and nobody is told.

A silence holds back the notifications of the incidents it matches while it is in force, as Alertmanager's
silences and mute time intervals do. It is in force

* once, between two instants (``starts`` to ``ends``, the end excluded), or
* every week, in a window of wall-clock time on chosen weekdays in a chosen time zone (``22:00`` to
  ``02:00`` on Saturdays is Saturday 22:00 to Sunday 02:00: a window whose end is not after its start
  crosses midnight). Wall-clock time is read in the zone at each instant, so a window keeps its local hours
  across a daylight-saving change (01:00 to 03:00 lasts one hour the night the clocks go forward, three
  the night they go back).

It matches an incident by rule, endpoint (a name or a glob pattern, see :mod:`.patterns`) and severity; a
matcher left empty matches anything. An incident grouped over several endpoints is matched by an endpoint
pattern only when every one of its endpoints is: a silence for the maintenance of one model never hides
another one failing.

The incident itself always opens and is marked silenced; what a silence holds back is sent once no silence
matches it any more while it is still triggered (Alertmanager's semantics): a silence that ends while the
API still fails pages then.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import patterns
from .rules import SEVERITIES

#: weekdays as Python numbers them (Monday 0) and as Alertmanager's time intervals name them
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_MINUTES = 24 * 60


class SilenceError(ValueError):
    """A silence that cannot work; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class Weekly:
    """Every week on ``weekdays`` (Monday 0), from ``start`` to ``end`` minutes after local midnight in ``tz``;
    ``end <= start`` crosses midnight into the next day."""

    weekdays: frozenset[int]
    start: int
    end: int
    tz: str = "UTC"

    def covers(self, moment: float) -> bool:
        local = datetime.datetime.fromtimestamp(moment, ZoneInfo(self.tz))
        minute = local.hour * 60 + local.minute
        day = local.weekday()
        if self.start < self.end:
            return day in self.weekdays and self.start <= minute < self.end
        # across midnight: the evening of a chosen day, or the early hours of the day after one
        return (day in self.weekdays and minute >= self.start) or \
            ((day - 1) % 7 in self.weekdays and minute < self.end)


@dataclass(frozen=True, slots=True)
class Silence:
    id: int
    starts: float | None = None  # once: epoch seconds
    ends: float | None = None
    weekly: Weekly | None = None
    rule_ids: frozenset[int] = field(default_factory=frozenset)
    globs: tuple[str, ...] = ()
    severities: frozenset[str] = field(default_factory=frozenset)

    def in_force(self, moment: float) -> bool:
        if self.weekly is not None:
            return self.weekly.covers(moment)
        return self.starts is not None and self.ends is not None and self.starts <= moment < self.ends

    def matches(self, rule_id: int, endpoints: list[str] | tuple[str, ...], severity: str) -> bool:
        if self.rule_ids and rule_id not in self.rule_ids:
            return False
        if self.severities and severity not in self.severities:
            return False
        return not self.globs or bool(endpoints) and all(patterns.matches(self.globs, e) for e in endpoints)


def silencing(silences: list[Silence], rule_id: int, endpoints: list[str] | tuple[str, ...], severity: str,
              moment: float) -> Silence | None:
    """The first of ``silences`` in force at ``moment`` that matches the incident; None when it may be sent."""
    for silence in silences:
        if silence.in_force(moment) and silence.matches(rule_id, endpoints, severity):
            return silence
    return None


# -- what a person writes ------------------------------------------------------------------------------------
def time_of_day(hours: float, what: str) -> int:
    """Minutes after midnight from Odoo's float time field (``22.5`` is 22:30); raises with what to fix."""
    if hours is None or not 0 <= hours <= 24:
        raise SilenceError(f"The {what} must be a time of day between 00:00 and 24:00.".capitalize())
    return int(round(hours * 60))


def weekly(weekdays: set[int], start_hours: float, end_hours: float, tz: str) -> Weekly:
    """A weekly window from the form's values; raises :class:`SilenceError` with what to fix."""
    if not weekdays:
        raise SilenceError("Choose at least one weekday for a weekly window.")
    try:
        ZoneInfo(tz or "")
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise SilenceError(f"'{tz}' is not a time zone; choose one such as Europe/Brussels.") from error
    start = time_of_day(start_hours, "start") % DAY_MINUTES  # 24:00 as a start is midnight
    end = time_of_day(end_hours, "end")  # 24:00 as an end is the end of the day
    if start == end:
        raise SilenceError("The window starts and ends at the same time: give it a length.")
    return Weekly(frozenset(weekdays), start, end, tz)


def once(starts: float | None, ends: float | None) -> tuple[float, float]:
    if starts is None or ends is None:
        raise SilenceError("Give the silence a start and an end.")
    if ends <= starts:
        raise SilenceError("The silence ends before it starts: the end must be after the start.")
    return starts, ends


def severities(values: list[str]) -> frozenset[str]:
    unknown = sorted(set(values) - set(SEVERITIES))
    if unknown:
        raise SilenceError(f"Unknown severity {', '.join(unknown)}: use {', '.join(SEVERITIES)}.")
    return frozenset(values)


def endpoint_globs(text: str | None) -> tuple[str, ...]:
    """The globs of an endpoint matcher; empty when none was given (any endpoint)."""
    if not (text or "").strip():
        return ()
    try:
        return patterns.parse(text)
    except patterns.PatternError as error:
        raise SilenceError(str(error)) from error


# -- Alertmanager --------------------------------------------------------------------------------------------
def matchers(rule_names: list[str], globs: tuple[str, ...], severity_set: frozenset[str]) -> list[dict]:
    """The silence's matchers as Alertmanager's API takes them (labels of the exported alerting rules)."""
    found = []
    if rule_names:
        found.append({"name": "rule", "value": "|".join(_escape(n) for n in sorted(rule_names)),
                      "isRegex": True, "isEqual": True})
    if globs:
        found.append({"name": "endpoint", "value": patterns.to_regex(globs), "isRegex": True, "isEqual": True})
    if severity_set:
        found.append({"name": "severity", "value": "|".join(sorted(severity_set)), "isRegex": True,
                      "isEqual": True})
    return found or [{"name": "severity", "value": ".+", "isRegex": True, "isEqual": True}]


def time_intervals(window: Weekly) -> list[dict]:
    """A weekly window as Alertmanager's ``time_intervals`` entries (a window across midnight is two)."""
    def entry(days, start, end):
        return {"weekdays": [WEEKDAYS[d] for d in sorted(days)],
                "times": [{"start_time": _clock(start), "end_time": _clock(end)}], "location": window.tz}

    if window.start < window.end:
        return [entry(window.weekdays, window.start, window.end)]
    intervals = [entry(window.weekdays, window.start, DAY_MINUTES)]
    if window.end:
        intervals.append(entry({(d + 1) % 7 for d in window.weekdays}, 0, window.end))
    return intervals


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _escape(text: str) -> str:
    """``text`` as a regular expression matching itself, with only the metacharacters escaped: silences stay
    readable in Alertmanager's web page (``re.escape`` would write ``High\\ API\\ error\\ rate``)."""
    return "".join("\\" + c if c in ".^$*+?()[]{}|\\" else c for c in text)


def route_matchers(found: list[dict]) -> list[str]:
    """API matchers (:func:`matchers`) as a route's ``matchers`` strings (``rule=~"High API error rate"``)."""
    return [f"{m['name']}{'=~' if m['isRegex'] else '='}{json.dumps(m['value'], ensure_ascii=False)}" for m in found]


@dataclass(frozen=True, slots=True)
class MuteWindow:
    """A weekly window as Alertmanager's configuration holds it: named time intervals and the matchers of the
    alerts they mute."""

    name: str
    matchers: tuple[str, ...]
    intervals: tuple[dict, ...]


def silence_json(found: list[dict], starts: float, ends: float, created_by: str, comment: str) -> dict:
    """A one-off silence as ``amtool silence import`` and Alertmanager's API (``POST /api/v2/silences``) take it."""
    def instant(moment):
        return datetime.datetime.fromtimestamp(moment, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")

    return {"matchers": found, "startsAt": instant(starts), "endsAt": instant(ends), "createdBy": created_by,
            "comment": comment}
