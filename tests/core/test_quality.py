"""The backtest replay, the scenario library's verdicts, the SRE workbook's detection times, and the
step-by-step agreement of the addon's decisions with Prometheus's (promtool)."""

import random
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from core.alerting import Timing
from core.backtest import Minutes, replay
from core.rules import BurnRateRule, ThresholdRule, Window, window_sums, workbook_tiers
from core.scenarios import DAY_RATE, HISTORY, MINUTE, NOTHING, PAGE, failure, library
from tools import quality


def test_prefix_sums_equal_the_evaluators_window_sums():
    rng = random.Random(3)
    buckets = [(m * MINUTE, rng.randint(0, 50), 0) for m in range(600)]
    buckets = [(t, n, rng.randint(0, n)) for t, n, _ in buckets if rng.random() < 0.8]  # gaps too
    minutes = Minutes(buckets, 0, 601)
    for end in (1, 5, 59, 60, 61, 300, 599, 600):
        # the replay's evaluation "at T" sees the buckets before T, as the live one does at T - 1 s
        expected = window_sums(buckets, end * MINUTE - 1, (1, 5, 60, 360))
        assert {w: minutes.window(end, w) for w in (1, 5, 60, 360)} == expected


def test_replay_reports_the_incident_with_its_times_and_peak():
    buckets = [(m * MINUTE, 100, 20 if 20 <= m < 30 else 0) for m in range(60)]
    result = replay(ThresholdRule(0.05, 5, 20), Timing(60, 300), {"/x": buckets}, 10 * MINUTE, 60 * MINUTE, history=0)
    [incident] = result.incidents
    assert (incident.first_breach, incident.fired_at, incident.resolved_at, incident.peak_ratio, incident.severity,
            incident.paged_at) == (22 * MINUTE, 23 * MINUTE, 39 * MINUTE, 0.2, "P1", 23 * MINUTE)
    assert len(result.steps["/x"]) == 51


def assessed():
    return {(q.scenario, q.family.split(":")[0]): q for q in (quality.assess(s, f) for s in library()
                                                             for f in quality.families())}


def test_the_shipped_rule_never_pages_falsely_and_catches_every_fast_failure():
    rows = assessed()
    for scenario in ("low traffic", "brief 100% spikes", "long quiet nights", "worker restart", "traffic falls to zero"):
        assert (rows[(scenario, "shipped")].pages, rows[(scenario, "shipped")].false_pages) == (0, 0), scenario
    assert (rows[("full outage", "shipped")].detection, rows[("full outage", "shipped")].pages) == (120, 1)
    assert (rows[("10% failure", "shipped")].detection, rows[("10% failure", "shipped")].pages) == (240, 1)
    # flapping pages once, where the naive rule (no pending, no keep-firing) pages 12 times
    assert (rows[("flapping", "shipped")].pages, rows[("flapping", "naive")].pages) == (1, 12)
    # the naive rule pages on one failed request in the night; a 2% slow burn is below any 5% threshold
    assert rows[("low traffic", "naive")].false_pages == 24
    assert rows[("2% slow burn", "shipped")].missed and not rows[("2% slow burn", "burn rate 99.9% (workbook tiers), 5m keep firing")].missed


def shipped(xmlid: str) -> dict[str, str]:
    """The fields of a rule shipped in data/api_monitor_rules.xml, as written there."""
    data = ET.parse(Path(__file__).resolve().parents[2] / "data" / "api_monitor_rules.xml")
    record = data.find(f".//record[@id='{xmlid}']")
    return {field.get("name"): field.text for field in record.findall("field") if field.text}


def test_the_rule_installed_with_the_addon_is_the_one_the_scenarios_judge():
    family = next(f for f in quality.families() if f.name.startswith("shipped"))
    rule = shipped("rule_high_error_rate")
    assert {k: rule[k] for k in ("kind", "endpoint_selection", "group_by")} == {
        "kind": family.export.kind, "endpoint_selection": family.export.selection, "group_by": "endpoint"}
    assert (float(rule["threshold"]), int(rule["window_minutes"]), int(rule["min_requests"])) == (
        family.rule.threshold, family.rule.window, family.rule.min_requests)
    assert (int(rule["pending_minutes"]) * 60, int(rule["keep_firing_minutes"]) * 60) == (
        family.timing.pending, family.timing.keep_firing)
    assert rule["severity"] == family.rule.severity == "P1"
    # watching every endpoint from the first minute: no endpoint needs tagging before anything pages
    assert shipped("rule_slo_burn_rate")["endpoint_selection"] == "all"


def test_every_scenario_states_what_should_happen():
    scenarios = library()
    assert len(scenarios) == 9
    assert {s.expect for s in scenarios} == {PAGE, NOTHING}
    for s in scenarios:
        assert (s.failure is not None) == (s.expect == PAGE), s.name
        assert s.buckets[0][0] == 0 and all(e == 0 for _, _, e in s.buckets[:HISTORY])


@pytest.mark.parametrize("tier_index, error_rate", [(0, 0.10), (0, 0.02), (1, 0.01), (2, 0.005), (3, 0.002)])
def test_burn_rate_tiers_detect_within_10_percent_of_the_workbook(tier_index, error_rate):
    """The workbook's detection time for a tier: (1 - objective) x factor x long window / error rate."""
    tier = workbook_tiers()[tier_index]
    expected = 0.001 * tier.factor * tier.long / error_rate  # minutes
    scenario = failure(error_rate, minutes=int(expected * 1.2) + tier.short, total=60 + int(expected * 1.2) + tier.short + 10)
    result = replay(BurnRateRule(0.999, (tier,), 20), Timing(0, 300), {"/x": list(scenario.buckets)},
                    scenario.start, scenario.end, history=0)
    detected = (result.incidents[0].fired_at - scenario.failure[0]) / 60
    assert abs(detected - expected) / expected <= 0.10, (tier.name, detected, expected)
    # never before the figure: whole minutes, and whole errors (one every 1 / (rate x 100 requests) minutes),
    # can only round it up
    assert expected <= detected <= expected + 1 + 1 / (error_rate * DAY_RATE)


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool not installed (Debian package prometheus)")
@pytest.mark.slow
def test_the_addon_decides_as_prometheus_at_every_evaluation_step(tmp_path):
    steps, mismatches = quality.agreement(workdir=tmp_path)
    assert steps == 37440
    assert mismatches == []


@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool not installed (Debian package prometheus)")
def test_a_disagreement_is_reported_with_its_step(tmp_path):
    # a family whose addon rule differs from its export (threshold 4% against the exported 5%) must be caught
    scenario = failure(0.045, minutes=30, total=120)
    original = quality.families

    def skewed():
        families = original()
        shipped = families[1]
        return [quality.Family(shipped.name, ThresholdRule(0.04, 5, 20), shipped.timing, shipped.export)]

    quality.families = skewed
    try:
        steps, mismatches = quality.agreement([scenario], workdir=tmp_path)
    finally:
        quality.families = original
    assert steps == 120 * 1
    assert mismatches and {(m.alert, m.addon, m.prometheus) for m in mismatches} == {("Shipped", "firing", "not firing")}
    assert min(m.minute for m in mismatches) == HISTORY + 60 + 6  # breach seen at 65, 1 minute pending


def test_window_type_is_the_evaluators():
    assert Minutes([(0, 3, 1)], 0, 2).window(1, 5) == Window(3, 1)
