import doctest

from core import storm
from core.notify import pagerduty, ratelimit, slack, webhook
from core.notify.ratelimit import RateLimit
from core.rules import Window


def test_more_endpoints_than_the_limit_firing_at_once_make_a_storm():
    assert storm.joins_storm(new_firing=11, limit=10, storm_open=False)
    assert not storm.joins_storm(new_firing=10, limit=10, storm_open=False)


def test_while_a_storm_is_open_every_new_firing_endpoint_joins_it():
    assert storm.joins_storm(new_firing=1, limit=10, storm_open=True)
    assert not storm.joins_storm(new_firing=0, limit=10, storm_open=True)


def test_a_limit_of_zero_never_makes_a_storm():
    assert not storm.joins_storm(new_firing=2000, limit=0, storm_open=False)


def test_the_storm_pages_with_the_worst_severity_and_its_summary_adds_up_every_endpoint():
    assert storm.worst(["P3", "P1", "P2"]) == "P1"
    assert storm.more_severe("P1", than="P2") and not storm.more_severe("P2", than="P2")
    assert storm.summary(3, Window(300, 30)) == "3 endpoints failing at once: 10.0% server errors over all of them (30/300)"
    assert storm.summary(1, Window(100, 50)) == "1 endpoint still failing: 50.0% server errors (50/100)"
    assert storm.names(["/a", "/b"]) == "/a, /b"
    assert storm.names([f"/e{i}" for i in range(7)]) == "/e0, /e1, /e2, /e3, /e4 and 2 more"


def test_a_rate_limit_counts_the_attempts_of_the_window_looking_back():
    limit = RateLimit(3, 60.0)
    assert limit.room([], now=100.0) == (3, None)
    assert limit.room([50.0, 90.0], now=100.0) == (1, None)
    # the attempt at 30 left the window at 90: it no longer counts
    assert limit.room([30.0, 50.0, 90.0], now=100.0) == (1, None)
    # full: room again when the oldest of the window leaves it
    assert limit.room([45.0, 50.0, 90.0], now=100.0) == (0, 105.0)
    # over the limit: room again when enough of them left the window
    assert limit.room([45.0, 50.0, 90.0, 99.0], now=100.0) == (0, 110.0)
    # an attempt stamped after now (a host whose clock runs ahead) counts as in the window
    assert limit.room([50.0, 90.0, 101.0], now=100.0) == (0, 110.0)


def test_pagerduty_and_slack_are_kept_under_their_documented_limits_and_webhooks_have_none():
    assert pagerduty.NOTIFIER.rate_limit == RateLimit(100, 60.0)  # PagerDuty: about 120 a minute per key
    assert slack.NOTIFIER.rate_limit == RateLimit(60, 60.0)
    assert webhook.NOTIFIER.rate_limit is None


def test_the_examples_in_the_docstrings_hold():
    assert doctest.testmod(storm).failed == 0
    assert doctest.testmod(ratelimit).failed == 0
