"""The alert state machine: inactive, pending, firing, resolved; the same semantics as Prometheus.

One :class:`AlertState` per rule and group is kept in the database, so a restart neither loses nor
repeats an alert. :func:`step` takes the previous state and this evaluation's verdict and returns the new
state and what happened (fire, escalate, resolve), from which the Odoo layer opens, updates and resolves
incidents.

* a breach starts *pending*; it *fires* once it has lasted ``pending`` seconds (at once when 0);
* a firing alert that stops breaching stays firing for ``keep_firing`` seconds, counted from the first
  evaluation without a breach (Prometheus's ``keep_firing_for``: the step-by-step agreement check holds
  the two to the same evaluation), then *resolves*;
* a breach after resolution starts a new episode (and a new incident);
* a firing alert whose severity rises *escalates* (one more trigger, same incident);
* a firing alert whose breach goes on only at a lower severity (a burn-rate page whose ticket tiers still
  burn) is clearing: it resolves after ``keep_firing``, and the lower severity then starts an episode of
  its own, as Prometheus's separate alert per tier would (the page ends, a ticket opens).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .rules import severity_rank

INACTIVE = "inactive"
PENDING = "pending"
FIRING = "firing"
RESOLVED = "resolved"
STATES = (INACTIVE, PENDING, FIRING, RESOLVED)

FIRE = "fire"
ESCALATE = "escalate"
RESOLVE = "resolve"


@dataclass(frozen=True, slots=True)
class Timing:
    """Seconds a breach must last before firing, and a firing alert keeps firing after the last breach."""

    pending: float = 60.0
    keep_firing: float = 300.0


@dataclass(frozen=True, slots=True)
class AlertState:
    state: str = INACTIVE
    active_since: float | None = None  # first breach of the current episode
    fired_at: float | None = None
    last_breach_at: float | None = None
    resolved_at: float | None = None
    severity: str | None = None
    clear_since: float | None = None  # first evaluation without a breach while firing (keep-firing runs from it)


def step(prev: AlertState, breach: bool, severity: str | None, now: float, timing: Timing) -> tuple[AlertState, list[str]]:
    """Advance one alert by one evaluation at ``now``; returns the new state and its events."""
    if breach and prev.state == FIRING and severity_rank(severity) > severity_rank(prev.severity):
        breach = False  # only a lower severity breaches: this episode is clearing (see the module docstring)
    if breach:
        if prev.state in (INACTIVE, RESOLVED):
            pending = AlertState(PENDING, active_since=now, last_breach_at=now, severity=severity)
            return _maybe_fire(pending, now, timing)
        if prev.state == PENDING:
            return _maybe_fire(replace(prev, last_breach_at=now, severity=_worst(prev.severity, severity)), now, timing)
        # firing
        state = replace(prev, last_breach_at=now, clear_since=None)
        if severity_rank(severity) < severity_rank(prev.severity):
            return replace(state, severity=severity), [ESCALATE]
        return state, []
    if prev.state == PENDING:
        return AlertState(INACTIVE), []
    if prev.state == FIRING:
        clear_since = now if prev.clear_since is None else prev.clear_since
        if now - clear_since >= timing.keep_firing:
            return replace(prev, state=RESOLVED, resolved_at=now, clear_since=clear_since), [RESOLVE]
        return replace(prev, clear_since=clear_since), []
    return prev, []


def resolve_manually(prev: AlertState, now: float) -> AlertState:
    """Someone resolved the incident by hand: the episode ends; a breach that goes on starts a new one."""
    return replace(prev, state=RESOLVED, resolved_at=now)


def next_evaluation(state: AlertState, timing: Timing) -> float | None:
    """When the state changes by itself if nothing else happens: the end of pending or of keep-firing."""
    if state.state == PENDING and state.active_since is not None:
        return state.active_since + timing.pending
    if state.state == FIRING and state.clear_since is not None:
        return state.clear_since + timing.keep_firing
    return None


def _maybe_fire(state: AlertState, now: float, timing: Timing) -> tuple[AlertState, list[str]]:
    if now - (state.active_since or now) >= timing.pending:
        return replace(state, state=FIRING, fired_at=now), [FIRE]
    return state, []


def _worst(a: str | None, b: str | None) -> str | None:
    return a if severity_rank(a) <= severity_rank(b) else b
