"""One evaluation of every rule: ``evaluate(rules, endpoints, sums, states, now) -> outcomes``.

Pure: the Odoo layer reads the endpoints, the window sums and the stored alert states, calls
:func:`evaluate`, and stores what it returns (new states, incidents to open, escalate, update or resolve).
A rule that cannot be evaluated (a value forced into the database past the form's checks) is skipped with
its reason; every other rule is evaluated as usual.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import alerting
from .rules import Rule, RuleError, RuleFields, Verdict, Window, check_rule, select_endpoints

_ZERO = Window()
_NO_SUMS: dict = {}


@dataclass(frozen=True, slots=True)
class RuleInput:
    """One active rule as the evaluator needs it."""

    id: int
    spec: Rule
    timing: alerting.Timing
    fields: RuleFields
    listed: tuple[str, ...] = ()
    group_by: str = "endpoint"  # endpoint: one alert per endpoint; rule: one for the whole selection


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one evaluation says of one rule and group (an endpoint, or ``*`` for the whole selection)."""

    rule_id: int
    key: str
    members: tuple[str, ...]
    verdict: Verdict
    previous: alerting.AlertState | None  # None: no state was stored yet
    state: alerting.AlertState
    events: tuple[str, ...]
    next_at: float | None  # when the state would change by itself (end of pending or keep-firing)


def groups(rule: RuleInput, endpoints: dict[str, bool]) -> dict[str, list[str]]:
    """``{group key: endpoint names}`` of a rule over the known endpoints (name -> critical)."""
    names = select_endpoints(rule.fields.selection, endpoints, rule.listed, rule.fields.pattern)
    if rule.group_by == "endpoint":
        return {name: [name] for name in names}
    return {"*": names} if names else {}


def evaluate(
    rules: list[RuleInput],
    endpoints: dict[str, bool],
    sums: dict[str, dict[int, Window]],
    states: dict[tuple[int, str], alerting.AlertState],
    now: float,
    retention_days: int,
) -> tuple[list[Outcome], dict[int, str]]:
    """Evaluate every rule at ``now``; returns the outcomes of the groups that have, or start, an alert
    state, and the rules skipped with why."""
    outcomes: list[Outcome] = []
    skipped: dict[int, str] = {}
    keys_with_state: dict[int, set[str]] = {}
    for rule_id, key in states:
        keys_with_state.setdefault(rule_id, set()).add(key)
    selections: dict[tuple, dict[str, list[str]]] = {}  # rules with the same selection share one look-up
    for rule in rules:
        try:
            check_rule(rule.fields, retention_days)
            selection = (rule.fields.selection, rule.group_by, rule.listed, rule.fields.pattern)
            if selection not in selections:
                selections[selection] = groups(rule, endpoints)
            outcomes.extend(_evaluate_rule(rule, selections[selection], sums, states,
                                           keys_with_state.get(rule.id, set()), now))
        except (RuleError, ValueError, TypeError, KeyError, ArithmeticError) as exc:
            skipped[rule.id] = str(exc) or type(exc).__name__
    return outcomes, skipped


def _evaluate_rule(rule: RuleInput, groups_: dict[str, list[str]], sums: dict, states: dict,
                   keys_with_state: set[str], now: float) -> list[Outcome]:
    out = []
    spec = rule.spec
    for key in sorted(set(groups_) | keys_with_state):
        members = groups_.get(key, [])
        if len(members) == 1:
            group_sums = sums.get(members[0], _NO_SUMS)
        else:
            group_sums = {w: sum((sums.get(name, _NO_SUMS).get(w, _ZERO) for name in members), start=_ZERO)
                          for w in spec.windows}
        previous = states.get((rule.id, key))
        if previous is None and not spec.may_breach(group_sums):
            continue  # no state, and no server error that could start one
        verdict = spec.evaluate(group_sums)
        if previous is None and not verdict.breach:
            continue
        state, events = alerting.step(previous or alerting.AlertState(), verdict.breach, verdict.severity, now,
                                      rule.timing)
        out.append(Outcome(rule.id, key, tuple(members), verdict, previous, state, tuple(events),
                           alerting.next_evaluation(state, rule.timing)))
    return out
