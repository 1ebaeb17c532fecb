"""Replay stored one-minute buckets through a rule and the alert state machine: what would have paged.

The same code as the live evaluator decides (``Rule.evaluate`` and :func:`.alerting.step`); only the
clock is simulated. The replay evaluates at the end of every minute, when that minute's bucket is
complete: the evaluation "at" minute boundary T sees the buckets that start before T, the same requests a
Prometheus sample taken at T holds (its counter is the sum of the completed minutes), so the two can be
compared step for step.

Window sums come from prefix sums over the minutes, equal to :func:`.rules.window_sums` at each step (a
test holds them equal) and fast enough to replay days of buckets for the longest burn-rate windows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import accumulate

from .alerting import FIRE, FIRING, RESOLVE, AlertState, Timing, step
from .rules import Rule, ThresholdRule, Window

MINUTE = 60
#: page severities; P3 and P4 open tickets
PAGE_SEVERITIES = ("P1", "P2")


@dataclass(frozen=True, slots=True)
class StepResult:
    at: float  # the minute boundary T: the evaluation sees the buckets starting before T
    ratio: float | None
    breach: bool
    state: str
    severity: str | None


@dataclass(slots=True)
class WouldBeIncident:
    """An incident the rule would have opened: fired at ``fired_at``, resolved at ``resolved_at``."""

    group: str
    first_breach: float
    fired_at: float
    resolved_at: float | None
    severity: str
    peak_ratio: float = 0.0
    #: when it first had a page severity (it may open as a ticket and escalate); None if it never paged
    paged_at: float | None = None

    @property
    def pages(self) -> bool:
        return self.paged_at is not None


@dataclass(slots=True)
class Backtest:
    steps: dict[str, list[StepResult]] = field(default_factory=dict)
    incidents: list[WouldBeIncident] = field(default_factory=list)


class Minutes:
    """One group's requests and errors per minute from ``origin``, with prefix sums for any window."""

    def __init__(self, buckets: list[tuple[float, int, int]], origin: float, minutes: int) -> None:
        requests, errors = [0] * minutes, [0] * minutes
        for start, n, e in buckets:
            index = int((start - origin) // MINUTE)
            if 0 <= index < minutes:
                requests[index] += n
                errors[index] += e
        self.requests = [0, *accumulate(requests)]
        self.errors = [0, *accumulate(errors)]

    def window(self, end: int, minutes: int) -> Window:
        """The ``minutes`` complete minutes before minute index ``end`` (exclusive)."""
        start = max(0, end - minutes)
        end = min(end, len(self.requests) - 1)
        if end <= start:
            return Window()
        return Window(self.requests[end] - self.requests[start], self.errors[end] - self.errors[start])


def align(t: float) -> float:
    return t - t % MINUTE


#: the most work one backtest may do: evaluations, a burn-rate rule's counting :data:`BURN_RATE_WEIGHT` each
#: (on a 2-core machine this is about 20 s, and the memory of one group's minutes at a time)
WORK_LIMIT = 1_500_000
BURN_RATE_WEIGHT = 4


def evaluations(groups: int, start: float, end: float) -> int:
    """How many evaluations replaying ``groups`` over ``[start, end]`` makes (one a minute per group)."""
    return groups * (int((align(end) - align(start)) // MINUTE) + 1)


def work(rule: Rule, groups: int, start: float, end: float) -> int:
    """The work of a backtest, to hold against :data:`WORK_LIMIT`."""
    weight = 1 if isinstance(rule, ThresholdRule) else BURN_RATE_WEIGHT
    return evaluations(groups, start, end) * weight


def replay(rule: Rule, timing: Timing, groups: dict[str, list[tuple[float, int, int]]], start: float, end: float,
           history: float | None = None, keep_steps: bool = True) -> Backtest:
    """Evaluate ``rule`` at every minute boundary in ``[start, end]`` for each group of buckets.

    ``groups`` maps a group (an endpoint, or the rule as a whole) to its ``(bucket_start, requests, errors)``;
    buckets from ``history`` on (default: the longest window before ``start``) fill the first windows.
    ``keep_steps=False`` keeps only the incidents (a long replay's steps take memory).
    """
    start, end = align(start), align(end)
    longest = max(rule.windows)
    origin = align(history if history is not None else start - longest * MINUTE)
    total = int((end - origin) // MINUTE) + 1
    result = Backtest()
    for group, buckets in groups.items():
        minutes = Minutes(buckets, origin, total)
        state, steps, open_incident = AlertState(), [], None
        t = start
        while t <= end:
            index = int((t - origin) // MINUTE)
            sums = {w: minutes.window(index, w) for w in rule.windows}
            verdict = rule.evaluate(sums)
            state, events = step(state, verdict.breach, verdict.severity, t, timing)
            if keep_steps:
                steps.append(StepResult(t, verdict.ratio, verdict.breach, state.state, state.severity))
            if FIRE in events:
                open_incident = WouldBeIncident(group, state.active_since, t, None, state.severity)
                result.incidents.append(open_incident)
            if open_incident is not None:
                if state.state == FIRING:
                    open_incident.severity = state.severity
                    if open_incident.paged_at is None and state.severity in PAGE_SEVERITIES:
                        open_incident.paged_at = t
                    if verdict.breach and verdict.ratio is not None:
                        open_incident.peak_ratio = max(open_incident.peak_ratio, verdict.ratio)
                if RESOLVE in events:
                    open_incident.resolved_at = t
                    open_incident = None
            t += MINUTE
        result.steps[group] = steps
    return result
