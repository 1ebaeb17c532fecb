"""Silences and maintenance windows: in force at their edges, across midnight and daylight-saving changes,
matching by rule, endpoint and severity, and as Alertmanager takes them."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from core import silences
from core.silences import Silence, SilenceError, Weekly, silencing


def at(text, tz="UTC"):
    return datetime.datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp()


def test_a_one_off_silence_is_in_force_from_its_start_up_to_its_end():
    silence = Silence(1, starts=at("2026-12-03 10:00"), ends=at("2026-12-03 11:00"))
    assert [silence.in_force(at(t)) for t in ("2026-12-03 09:59:59", "2026-12-03 10:00", "2026-12-03 10:59:59",
                                               "2026-12-03 11:00")] == [False, True, True, False]


def test_a_weekly_window_across_midnight_runs_into_the_next_day():
    window = silences.weekly({5}, 22.0, 2.0, "Europe/Brussels")  # Saturdays 22:00 to Sunday 02:00
    assert (window.start, window.end) == (22 * 60, 2 * 60)
    times = ("2026-12-05 21:59", "2026-12-05 22:00", "2026-12-06 01:59", "2026-12-06 02:00", "2026-12-06 22:30",
             "2026-12-04 23:00")
    assert [window.covers(at(t, "Europe/Brussels")) for t in times] == [False, True, True, False, False, False]


def test_a_weekly_window_keeps_its_local_hours_across_daylight_saving_changes():
    window = silences.weekly({6}, 1.0, 3.0, "Europe/Brussels")  # Sundays 01:00 to 03:00, Brussels time
    spring = at("2026-03-29 00:00", "UTC")  # 01:00 in Brussels; at 01:00 UTC the clocks jump to 03:00 CEST
    assert [window.covers(spring + h * 1800) for h in range(4)] == [True, True, False, False]
    autumn = at("2026-10-25 00:00", "UTC")  # 02:00 CEST; at 01:00 UTC the clocks go back to 02:00 CET
    # 01:00 CEST to 03:00 CET: the hour from 02:00 to 03:00 happens twice, so the window lasts three hours
    assert [window.covers(autumn - 3600 + h * 1800) for h in range(7)] == [True] * 6 + [False]


def test_matchers_left_empty_match_anything_and_a_grouped_incident_needs_every_endpoint():
    sale = Silence(1, starts=0, ends=10, rule_ids=frozenset({7}), globs=("/web/dataset/call_kw/sale.*",),
                   severities=frozenset({"P3", "P4"}))
    assert sale.matches(7, ["/web/dataset/call_kw/sale.order/create"], "P3")
    assert not sale.matches(8, ["/web/dataset/call_kw/sale.order/create"], "P3")
    assert not sale.matches(7, ["/web/dataset/call_kw/sale.order/create"], "P1")
    assert not sale.matches(7, ["/web/dataset/call_kw/sale.order/create", "/web/dataset/call_kw/res.partner/read"], "P3")
    assert Silence(2, starts=0, ends=10).matches(99, [], "P1")
    assert silencing([sale, Silence(2, starts=0, ends=10)], 8, ["/x"], "P1", 5).id == 2
    assert silencing([sale, Silence(2, starts=0, ends=10)], 8, ["/x"], "P1", 10) is None


@pytest.mark.parametrize(("args", "message"), [
    ((set(), 22.0, 2.0, "UTC"), "Choose at least one weekday"),
    (({1}, 22.0, 22.0, "UTC"), "starts and ends at the same time"),
    (({1}, 22.0, 25.0, "UTC"), "The end must be a time of day"),
    (({1}, 22.0, 2.0, "Mars/Olympus"), "'Mars/Olympus' is not a time zone"),
])
def test_a_weekly_window_that_cannot_work_says_what_to_fix(args, message):
    with pytest.raises(SilenceError, match=message):
        silences.weekly(*args)


def test_a_one_off_silence_must_end_after_it_starts():
    with pytest.raises(SilenceError, match="ends before it starts"):
        silences.once(10.0, 10.0)
    assert silences.once(10.0, 11.0) == (10.0, 11.0)


def test_alertmanager_gets_matchers_on_the_exported_labels_and_intervals_split_at_midnight():
    assert silences.matchers(["High API error rate"], ("/web/*",), frozenset({"P2", "P1"})) == [
        {"name": "rule", "value": "High API error rate", "isRegex": True, "isEqual": True},
        {"name": "endpoint", "value": "/web/.*", "isRegex": True, "isEqual": True},
        {"name": "severity", "value": "P1|P2", "isRegex": True, "isEqual": True}]
    assert silences.time_intervals(Weekly(frozenset({6}), 22 * 60, 2 * 60, "Europe/Brussels")) == [
        {"weekdays": ["sunday"], "times": [{"start_time": "22:00", "end_time": "24:00"}], "location": "Europe/Brussels"},
        {"weekdays": ["monday"], "times": [{"start_time": "00:00", "end_time": "02:00"}], "location": "Europe/Brussels"}]
