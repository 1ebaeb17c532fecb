"""The incident chart: a scale, the reader's time zone, bursts that show, and an open incident up to now."""

import datetime
import re

from core.chart import error_ratio_svg

NOON = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.timezone.utc).timestamp()


def bars(svg):
    """(height, title) of every minute bar."""
    return [(float(h), title) for h, title in re.findall(r'height="([\d.]+)" fill="#[0-9a-f]+"><title>([^<]+)</title>', svg)]


def test_a_single_minute_at_100_percent_draws_a_full_bar_and_the_axis_says_what_it_is():
    points = [(NOON - 600, 100, 0), (NOON, 7, 7), (NOON + 600, 100, 0)]  # no traffic around the burst minute
    svg = error_ratio_svg(points, NOON, NOON + 900, 0.05, now=NOON + 3600, tz="UTC")
    drawn = bars(svg)
    assert [title for _, title in drawn] == ["11:50: 0 of 100 (0%)", "12:00: 7 of 7 (100%)", "12:10: 0 of 100 (0%)"]
    assert drawn[1][0] == 180 - 2 * 32  # the whole plot's height
    assert re.findall(r'text-anchor="end">([\d.]+%)</text>', svg) == ["0%", "50%", "100%"]


def test_times_are_in_the_readers_time_zone_and_an_open_incident_runs_to_now():
    points = [(NOON - 60 * m, 100, 30) for m in range(10, 0, -1)]
    svg = error_ratio_svg(points, NOON - 300, None, 0.05, now=NOON + 1200, tz="Europe/Brussels")
    assert ">triggered 12:55</text>" in svg  # 11:55 UTC is 12:55 in Brussels in December
    assert ">now 13:20</text>" in svg
    assert ">CET</text>" in svg
    assert re.findall(r'text-anchor="end">([\d.]+%)</text>', svg) == ["0%", "25%", "50%"]
    resolved = error_ratio_svg(points, NOON - 300, NOON - 60, 0.05, now=NOON + 1200, tz="UTC")
    assert ">resolved 11:59</text>" in resolved
    assert ">12:00</text>" in resolved  # a resolved incident's chart ends after its last minute, not now


def test_an_unknown_time_zone_falls_back_to_utc():
    svg = error_ratio_svg([(NOON, 10, 1)], NOON, None, None, now=NOON + 60, tz="Mars/Olympus")
    assert ">UTC</text>" in svg


def test_changes_before_the_trigger_are_marked_and_the_chart_reaches_back_to_them():
    points = [(NOON + 60 * m, 100, 30) for m in range(5)]
    svg = error_ratio_svg(points, NOON + 120, None, 0.05, now=NOON + 600, tz="UTC",
                          markers=[(NOON - 1200, "sale upgraded from 18.0.1.0 to 18.0.1.1"),
                                   (NOON - 7200, "too early to matter")])
    assert ">11:40: sale upgraded from 18.0.1.0 to 18.0.1.1</title></line>" in svg
    assert "too early to matter" not in svg
    assert ">11:39</text>" in svg  # the chart starts a minute before the change
