import pytest

from core.rules import BurnRateRule, ThresholdRule, Window, window_sums, workbook_tiers

NOW = 1_795_000_000.0 + 30  # 30 s into a minute


def minutes_of(traffic):
    """Buckets for the last len(traffic) minutes, oldest first: [(requests, errors), ...]."""
    current = NOW // 60 * 60
    n = len(traffic)
    return [(current - (n - 1 - i) * 60, req, err) for i, (req, err) in enumerate(traffic)]


def test_window_holds_the_buckets_starting_after_now_minus_its_length():
    buckets = minutes_of([(100, 100), (10, 1), (10, 1), (10, 1), (10, 1), (10, 1)])
    # 30 s into the current minute, the 5-minute window holds the current bucket and the 4 before it; the
    # bucket that started 5 min 30 s ago is out of it, and in the 6-minute window.
    assert window_sums(buckets, NOW, (5, 6, 1)) == {5: Window(50, 5), 6: Window(150, 105), 1: Window(10, 1)}


def test_threshold_breaches_strictly_above_the_ratio():
    rule = ThresholdRule(threshold=0.05, window=5, min_requests=20)
    assert rule.evaluate({5: Window(100, 5)}).breach is False  # exactly 5%
    verdict = rule.evaluate({5: Window(100, 6)})
    assert (verdict.breach, verdict.severity, verdict.ratio) == (True, "P1", 0.06)
    assert verdict.detail == "6.0% server errors over 5m (6/100)"


def test_threshold_needs_min_requests_in_the_window():
    rule = ThresholdRule(threshold=0.05, window=5, min_requests=20)
    assert rule.evaluate({5: Window(19, 19)}).breach is False
    assert rule.evaluate({5: Window(20, 2)}).breach is True
    assert rule.evaluate({}).breach is False
    assert rule.evaluate({5: Window(0, 0)}).ratio is None


# The workbook's table for a 99.9% objective: each tier's burn factor times a 0.1% budget.
@pytest.mark.parametrize(
    ("long", "short", "expected_tier", "severity"),
    [
        (Window(1000, 15), Window(100, 2), "page 14.4x", "P1"),  # 1.5% > 1.44% on both
        (Window(1000, 14), Window(100, 2), None, None),  # 1.4% long: below 1.44%
        (Window(1000, 15), Window(100, 1), None, None),  # short window recovered (1.0%)
    ],
)
def test_fast_burn_tier_needs_both_windows_above_14_4_times_the_budget(long, short, expected_tier, severity):
    rule = BurnRateRule(objective=0.999, tiers=workbook_tiers()[:1])
    verdict = rule.evaluate({60: long, 5: short})
    assert verdict.breach is (expected_tier is not None)
    assert verdict.severity == severity
    if expected_tier:
        assert verdict.detail == ("burning the 99.90% objective 14.4x too fast: 1.5% over 1h and 2.0% over 5m "
                                  "(page 14.4x)")


def test_each_burn_tier_uses_its_own_windows_factor_and_severity():
    rule = BurnRateRule(objective=0.999, tiers=workbook_tiers(page="P1", ticket="P3"))
    assert rule.windows == (5, 30, 60, 120, 360, 1440, 4320)
    quiet = Window(100000, 0)
    base = dict.fromkeys(rule.windows, quiet)
    # 6x tier: 0.7% over 6h and 30m (> 0.6%), fast tier quiet
    six = {**base, 360: Window(10000, 70), 30: Window(1000, 7)}
    assert (rule.evaluate(six).severity, rule.evaluate(six).breach) == ("P1", True)
    # 3x tier: 0.35% over 1d and 2h (> 0.3%): a ticket
    three = {**base, 1440: Window(100000, 350), 120: Window(10000, 35)}
    assert rule.evaluate(three).severity == "P3"
    # 1x tier: 0.15% over 3d and 6h (> 0.1%)
    one = {**base, 4320: Window(100000, 150), 360: Window(10000, 15)}
    assert rule.evaluate(one).severity == "P3"
    assert rule.evaluate(one).detail.endswith("(ticket 1x)")
    # below every tier
    assert rule.evaluate({**base, 4320: Window(100000, 90)}).breach is False


def test_page_wins_over_ticket_when_both_breach():
    rule = BurnRateRule(objective=0.999)
    hot = {w: Window(10000, 200) for w in rule.windows}  # 2% everywhere: every tier breaches
    verdict = rule.evaluate(hot)
    assert (verdict.severity, verdict.detail.endswith("(page 14.4x)")) == ("P1", True)


def test_burn_rate_ignores_low_traffic_below_min_requests():
    rule = BurnRateRule(objective=0.999, min_requests=20)
    one_of_three = {w: Window(3, 1) for w in rule.windows}
    assert rule.evaluate(one_of_three).breach is False


def test_endpoint_selection():
    from core.rules import select_endpoints

    known = {"/a/create": True, "/a/read": False, "/b/write": True, "unmatched": False}
    assert select_endpoints("all", known) == ["/a/create", "/a/read", "/b/write", "unmatched"]
    assert select_endpoints("critical", known) == ["/a/create", "/b/write"]
    assert select_endpoints("list", known, listed=("/a/read", "/gone")) == ["/a/read"]
    assert select_endpoints("pattern", known, pattern="/a/*") == ["/a/create", "/a/read"]
    assert select_endpoints("pattern", known, pattern="*/create, /b/*") == ["/a/create", "/b/write"]
    assert select_endpoints("pattern", known, pattern=r"^/a/") == []  # a regex is no glob: it selects nothing


def test_long_windows_from_hourly_buckets_equal_the_minute_sums():
    import random

    from core.rules import HOUR, window_sums_hourly

    rng = random.Random(11)
    end = 1_795_000_000 // 60 * 60
    minutes = [(end - m * 60, rng.randrange(50), rng.randrange(3)) for m in range(4 * 1440)]
    hours = {}
    for start, n, e in minutes:
        hour = start // HOUR * HOUR
        total = hours.get(hour, (0, 0))
        hours[hour] = (total[0] + n, total[1] + e)
    hourly = [(start, n, e) for start, (n, e) in hours.items()]
    windows = (5, 60, 120, 360, 1440, 4320)
    for offset in (0, 1, 59, 60, 61, 1799, 3599, 3600):  # instants around minute and hour boundaries
        now = end + offset
        assert window_sums_hourly(minutes, hourly, now, windows) == window_sums(minutes, now, windows), offset


def test_every_rule_value_that_cannot_be_evaluated_is_refused_with_what_to_change():
    import pytest

    from core.rules import RuleError, RuleFields, check_rule

    cases = {
        RuleFields(threshold=0): "The threshold is a ratio between 0 and 1 (0.05 means 5%); 0 is not.",
        RuleFields(window_minutes=0): "The window must be between 1 minute (the bucket width) and 11520 minutes "
                                      "(the 8 days of history kept); 0 is not.",
        RuleFields(kind="burn_rate", objective=1): "The objective is a ratio between 0 and 1 (0.999 means 99.9%); "
                                                   "1 is not.",
        RuleFields(min_requests=0): "The minimum number of requests must be at least 1; 0 is not.",
        RuleFields(keep_firing_minutes=5000): "The keep-firing time must be between 0 and 1440 minutes; 5000 is not.",
        RuleFields(severity="P9"): "The severity must be one of P1, P2, P3, P4; 'P9' is not.",
        RuleFields(selection="some"): "The endpoint selection must be one of all, critical, list, pattern; 'some' "
                                      "is not.",
        RuleFields(kind="ratio"): "The kind must be threshold or burn_rate; 'ratio' is not.",
        RuleFields(runbook_url="wiki/page"): "The runbook URL must start with http:// or https:// (2,000 characters "
                                             "at most).",
    }
    for fields, message in cases.items():
        with pytest.raises(RuleError) as raised:
            check_rule(fields, retention_days=8)
        assert str(raised.value) == message
    with pytest.raises(RuleError, match="Burn-rate rules look back 3 days"):
        check_rule(RuleFields(kind="burn_rate"), retention_days=2)
    check_rule(RuleFields(), retention_days=8)
