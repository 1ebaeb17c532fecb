from core.alerting import (
    ESCALATE,
    FIRE,
    FIRING,
    INACTIVE,
    PENDING,
    RESOLVE,
    RESOLVED,
    AlertState,
    Timing,
    next_evaluation,
    resolve_manually,
    step,
)

T = 1_000_000.0
TIMING = Timing(pending=60, keep_firing=120)


def run(breaches, timing=TIMING, start=None, every=15.0, severity="P1"):
    """Feed one breach flag per evaluation, ``every`` seconds apart; return (states, events per step)."""
    state, states, events = start or AlertState(), [], []
    for i, breach in enumerate(breaches):
        state, happened = step(state, breach, severity if breach else None, T + i * every, timing)
        states.append(state.state)
        events.append(happened)
    return states, events


def test_a_breach_fires_once_it_has_lasted_the_pending_time():
    states, events = run([True, True, True, True, True, True])
    assert states == [PENDING, PENDING, PENDING, PENDING, FIRING, FIRING]
    assert events == [[], [], [], [], [FIRE], []]


def test_a_breach_shorter_than_the_pending_time_never_fires():
    states, events = run([True, True, False, True, False])
    assert states == [PENDING, PENDING, INACTIVE, PENDING, INACTIVE]
    assert all(e == [] for e in events)


def test_zero_pending_fires_at_the_first_breach():
    states, events = run([True], timing=Timing(pending=0, keep_firing=0))
    assert (states, events) == ([FIRING], [[FIRE]])


def test_keep_firing_holds_through_a_dip_and_resolves_after_it():
    firing = AlertState(FIRING, active_since=T - 100, fired_at=T - 40, last_breach_at=T, severity="P1")
    states, events = run([False] * 10, start=firing)
    # the first evaluation without a breach is at T; keep_firing 120 s: resolves at the evaluation at T + 120
    assert states == [FIRING] * 8 + [RESOLVED, RESOLVED]
    assert events[8] == [RESOLVE]
    assert sum(e == [RESOLVE] for e in events) == 1


def test_keep_firing_counts_from_the_first_evaluation_without_a_breach_as_prometheus_does():
    # breaches at T and T + 60, evaluations every minute: the first clear one is at T + 120, so a
    # 5 minute keep-firing resolves at T + 420 (not at the last breach + 300)
    states, events = run([True, True, False, False, False, False, False, False, False], every=60.0,
                         timing=Timing(pending=0, keep_firing=300))
    assert states == [FIRING, FIRING, FIRING, FIRING, FIRING, FIRING, FIRING, RESOLVED, RESOLVED]
    assert events[7] == [RESOLVE]


def test_a_breach_during_keep_firing_continues_the_same_episode():
    firing = AlertState(FIRING, active_since=T - 100, fired_at=T - 40, last_breach_at=T - 15, severity="P1")
    states, events = run([False, False, True, False], start=firing)
    assert states == [FIRING] * 4
    assert events == [[], [], [], []]


def test_a_breach_after_resolution_starts_a_new_episode():
    resolved = AlertState(RESOLVED, active_since=T - 500, fired_at=T - 400, last_breach_at=T - 300,
                          resolved_at=T - 100, severity="P1")
    state, events = step(resolved, True, "P1", T, TIMING)
    assert (state.state, state.active_since, state.fired_at, events) == (PENDING, T, None, [])


def test_a_long_breach_fires_exactly_once():
    states, events = run([True] * 500)
    assert sum(e == [FIRE] for e in events) == 1
    assert states[-1] == FIRING


def test_rising_severity_escalates_once_within_the_episode():
    firing = AlertState(FIRING, active_since=T - 100, fired_at=T - 40, last_breach_at=T, severity="P3")
    state, events = step(firing, True, "P1", T + 15, TIMING)
    assert (state.severity, events) == ("P1", [ESCALATE])
    state, events = step(state, True, "P3", T + 30, TIMING)
    assert (state.severity, events) == ("P1", [])


def test_manual_resolve_ends_the_episode():
    firing = AlertState(FIRING, active_since=T - 100, fired_at=T - 40, last_breach_at=T, severity="P1")
    state = resolve_manually(firing, T + 5)
    assert (state.state, state.resolved_at) == (RESOLVED, T + 5)
    assert step(state, True, "P1", T + 10, TIMING)[0].state == PENDING


def test_next_evaluation_is_when_pending_or_keep_firing_ends():
    assert next_evaluation(AlertState(PENDING, active_since=T), TIMING) == T + 60
    assert next_evaluation(AlertState(FIRING, last_breach_at=T - 15, clear_since=T), TIMING) == T + 120
    assert next_evaluation(AlertState(FIRING, last_breach_at=T), TIMING) is None  # still breaching
    assert next_evaluation(AlertState(INACTIVE), TIMING) is None
    assert next_evaluation(AlertState(RESOLVED), TIMING) is None


def test_restart_resumes_from_stored_timestamps_without_refiring():
    # the evaluator was down for 10 minutes while the breach went on: one FIRE on its return, no more
    pending = AlertState(PENDING, active_since=T, last_breach_at=T, severity="P1")
    state, events = step(pending, True, "P1", T + 600, TIMING)
    assert (state.state, events) == (FIRING, [FIRE])
    state, events = step(state, True, "P1", T + 660, TIMING)
    assert events == []


def test_a_page_whose_breach_goes_on_only_at_ticket_severity_resolves_and_a_ticket_follows():
    firing = AlertState(FIRING, active_since=T - 100, fired_at=T - 40, last_breach_at=T - 15, severity="P1")
    timing = Timing(pending=0, keep_firing=60)
    state, events = step(firing, True, "P3", T, timing)  # the page tiers stopped, a ticket tier still burns
    assert (state.state, state.severity, state.clear_since, events) == (FIRING, "P1", T, [])
    state, events = step(state, True, "P3", T + 60, timing)
    assert (state.state, events) == (RESOLVED, [RESOLVE])
    state, events = step(state, True, "P3", T + 120, timing)
    assert (state.state, state.severity, events) == (FIRING, "P3", [FIRE])
