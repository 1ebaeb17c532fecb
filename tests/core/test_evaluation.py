"""One evaluation of every rule, as the Odoo layer calls it: outcomes from sums and stored states."""

from core.alerting import FIRE, FIRING, PENDING, RESOLVE, AlertState, Timing
from core.evaluation import RuleInput, evaluate
from core.rules import RuleFields, ThresholdRule, Window

ENDPOINTS = {"/a": True, "/b": True, "/c": False}
RULE = RuleInput(1, ThresholdRule(0.05, 5, 20), Timing(pending=60, keep_firing=300), RuleFields(selection="critical"))


def sums(**errors_by_endpoint):
    return {f"/{name}": {5: Window(100, errors)} for name, errors in errors_by_endpoint.items()}


def test_a_breach_starts_pending_and_only_groups_with_something_to_say_have_an_outcome():
    outcomes, skipped = evaluate([RULE], ENDPOINTS, sums(a=10, b=0, c=50), {}, now=1000.0, retention_days=8)
    assert skipped == {}
    assert [(o.key, o.state.state, o.events, o.next_at) for o in outcomes] == [("/a", PENDING, (), 1060.0)]
    assert outcomes[0].previous is None


def test_a_stored_pending_state_fires_once_the_pending_time_has_passed():
    states = {(1, "/a"): AlertState(PENDING, active_since=1000.0, last_breach_at=1000.0, severity="P1")}
    [outcome], _ = evaluate([RULE], ENDPOINTS, sums(a=10), states, now=1060.0, retention_days=8)
    assert (outcome.state.state, outcome.events, outcome.verdict.ratio) == (FIRING, (FIRE,), 0.1)


def test_a_firing_group_without_traffic_resolves_after_keep_firing():
    states = {(1, "/a"): AlertState(FIRING, active_since=0.0, fired_at=60.0, last_breach_at=600.0, severity="P1",
                                    clear_since=700.0)}
    [outcome], _ = evaluate([RULE], ENDPOINTS, {}, states, now=1000.0, retention_days=8)
    assert (outcome.state.state, outcome.events) == ("resolved", (RESOLVE,))


def test_one_rule_grouping_its_whole_selection_sums_its_endpoints():
    rule = RuleInput(2, ThresholdRule(0.05, 5, 20), Timing(pending=0), RuleFields(selection="all"), group_by="rule")
    [outcome], _ = evaluate([rule], ENDPOINTS, sums(a=10, b=0, c=6), {}, now=1000.0, retention_days=8)
    assert (outcome.key, outcome.members, outcome.verdict.window) == ("*", ("/a", "/b", "/c"), Window(300, 16))
    assert outcome.events == (FIRE,)


def test_a_rule_with_values_forced_past_the_checks_is_skipped_and_the_others_are_evaluated():
    broken = RuleInput(9, ThresholdRule(0.05, 5, 20), Timing(), RuleFields(selection="pattern", pattern="^(a+)+$"))
    outcomes, skipped = evaluate([broken, RULE], ENDPOINTS, sums(a=10), {}, now=1000.0, retention_days=8)
    assert [o.rule_id for o in outcomes] == [1]
    assert skipped == {9: "'^(a+)+$' looks like a regular expression ($ ( ) + ^): endpoint patterns are globs, "
                          "where * stands for any characters, e.g. /web/dataset/call_kw/sale.*"}
