"""``make quality``: how each family of rules would have done on the scenario library, and whether the
addon decides exactly as Prometheus does.

For every scenario of :mod:`core.scenarios` and every rule family (the naive "5% over 5 minutes", the
shipped threshold rule with a minimum of requests and a pending time, the SRE workbook's multiwindow burn
rate for a 99.9% objective) the backtest replays the buckets through the addon's evaluator: detection
time, reset time, pages, tickets, false and missed pages. The table is printed and drawn as a PNG chart
(with matplotlib, when installed).

Agreement: the same scenarios go through ``promtool test rules`` with the rules the addon exports, the
expected alerts at every one-minute evaluation step being the addon's own decisions; every step where
Prometheus decides otherwise is a mismatch, reported with the scenario, rule, time and what each said.

    python -m tools.quality [--png quality.png]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from core.alerting import FIRING, Timing
from core.backtest import Backtest, replay
from core.export import RuleExport, alerting_rules, dump
from core.rules import BurnRateRule, Rule, ThresholdRule, workbook_tiers
from core.scenarios import HISTORY, MINUTE, PAGE, Scenario, library
from tools.table import table

ENDPOINT = "/web/dataset/call_kw/sale.order/action_confirm"


@dataclass(frozen=True)
class Family:
    name: str
    rule: Rule
    timing: Timing
    export: RuleExport


def families() -> list[Family]:
    naive = ThresholdRule(0.05, 5, min_requests=1)
    shipped = ThresholdRule(0.05, 5, min_requests=20)
    burn = BurnRateRule(0.999)
    return [
        Family("naive: >5% over 5m", naive, Timing(0, 0),
               RuleExport("Naive", "threshold", "all", (), min_requests=1, pending_minutes=0, keep_firing_minutes=0)),
        Family("shipped: >5% over 5m, >=20 requests, 1m pending, 5m keep firing", shipped, Timing(60, 300),
               RuleExport("Shipped", "threshold", "all", ())),
        Family("burn rate 99.9% (workbook tiers), 5m keep firing", burn, Timing(0, 300),
               RuleExport("Burn", "burn_rate", "all", (), group_by="rule", pending_minutes=0)),
    ]


def backtest(scenario: Scenario, rule: Rule, timing: Timing) -> Backtest:
    return replay(rule, timing, {ENDPOINT: list(scenario.buckets)}, scenario.start, scenario.end, history=0)


@dataclass
class Quality:
    scenario: str
    family: str
    expect: str
    detection: float | None  # seconds from the failure's start to the first page
    reset: float | None  # seconds from the failure's end to the last page's resolution (inf: still open)
    pages: int
    tickets: int
    false_pages: int
    missed: bool


def assess(scenario: Scenario, family: Family) -> Quality:
    result = backtest(scenario, family.rule, family.timing)
    pages = [i for i in result.incidents if i.pages]
    tickets = [i for i in result.incidents if not i.pages]
    detection = reset = None
    if scenario.failure and pages:
        start, end = scenario.failure
        detection = pages[0].paged_at - start
        resolved = pages[-1].resolved_at
        reset = float("inf") if resolved is None else resolved - end
    false_pages = len(pages) if scenario.expect != PAGE else 0
    return Quality(scenario.name, family.name, scenario.expect, detection, reset, len(pages), len(tickets),
                   false_pages, scenario.expect == PAGE and not pages)


def _minutes(seconds: float | None) -> str:
    if seconds == float("inf"):
        return "still open at the end"
    return "-" if seconds is None else f"{seconds / 60:.0f} min"


def report(rows: list[Quality]) -> str:
    return table(["scenario", "expected", "rule family", "detection", "reset", "pages", "tickets", "false pages",
                  "missed"],
                 [[q.scenario, q.expect, q.family, _minutes(q.detection), _minutes(q.reset), q.pages, q.tickets,
                   q.false_pages, "MISSED" if q.missed else ""] for q in rows])


# -- agreement with Prometheus ------------------------------------------------------------------------
@dataclass(frozen=True)
class Mismatch:
    scenario: str
    alert: str
    minute: int
    addon: str
    prometheus: str
    cause: str


def _alert_plans(family: Family) -> list[tuple[dict, Rule]]:
    """Each exported alert of the family's Odoo side, with the addon rule that decides the same thing."""
    alerts = [a for a in alerting_rules(family.export) if a["labels"]["source"] == "odoo"]
    if isinstance(family.rule, ThresholdRule):
        return [(alerts[0], family.rule)]
    tiers = workbook_tiers()
    return [(alert, BurnRateRule(family.rule.objective, (tier,), family.rule.min_requests))
            for alert, tier in zip(alerts, tiers)]


def _values(counts: list[int]) -> str:
    total, out = 0, ["0"]
    for n in counts:
        total += n
        out.append(str(total))
    return " ".join(out)


def agreement(scenarios: list[Scenario] | None = None, workdir: Path | None = None) -> tuple[int, list[Mismatch]]:
    """(evaluation steps compared, mismatches) over every scenario and family, through ``promtool``."""
    scenarios = scenarios or library()
    workdir = workdir or Path(tempfile.mkdtemp(prefix="api_monitor_agreement_"))
    steps, mismatches = 0, []
    plans = [(family, alert, rule) for family in families() for alert, rule in _alert_plans(family)]
    # annotations left out: promtool would compare their text too, and the decisions are what is compared
    rules = [{k: v for k, v in alert.items() if k != "annotations"} for _, alert, _ in plans]
    (workdir / "rules.yml").write_text(dump({"groups": [{"name": "agreement", "rules": rules}]}))
    for index, scenario in enumerate(scenarios):
        success = _values([n - e for _, n, e in scenario.buckets])
        errors = _values([e for _, _, e in scenario.buckets])
        tests, expected = [], {}
        for family, alert, rule in plans:
            result = backtest(scenario, rule, family.timing).steps[ENDPOINT]
            for step in result:
                minute = int(step.at // MINUTE)
                labels = dict(alert["labels"])
                if family.export.group_by == "endpoint":
                    labels["endpoint"] = ENDPOINT
                firing = step.state == FIRING
                expected[(alert["alert"], minute)] = "firing" if firing else "not firing"
                tests.append({"eval_time": f"{minute}m", "alertname": alert["alert"],
                              "exp_alerts": [{"exp_labels": labels}] if firing else []})
        steps += len(tests)
        spec = {"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": [{
            "interval": "1m",
            "input_series": [
                {"series": f'http_requests_total{{endpoint="{ENDPOINT}",method="POST",code="200",outcome="success"}}',
                 "values": success},
                {"series": f'http_requests_total{{endpoint="{ENDPOINT}",method="POST",code="200",outcome="server_error"}}',
                 "values": errors},
            ],
            "alert_rule_test": tests,
        }]}
        path = workdir / f"scenario{index}.yml"
        path.write_text(dump(spec))
        out = subprocess.run(["promtool", "test", "rules", str(path)], capture_output=True, text=True, timeout=900)
        text = out.stdout + out.stderr
        if out.returncode != 0 and "alertname:" not in text:
            raise RuntimeError(f"promtool failed on {scenario.name}: {text[-2000:]}")
        for name, when in re.findall(r"alertname: (\S+?), time: (\S+?),", text):
            minute = int(_duration_seconds(when) // MINUTE)
            addon = expected.get((name, minute), "?")
            prometheus = "not firing" if addon == "firing" else "firing"
            mismatches.append(Mismatch(scenario.name, name, minute, addon, prometheus, _cause(name, minute, addon)))
    return steps, mismatches


def _duration_seconds(text: str) -> float:
    total = 0.0
    # Prometheus prints durations as 3d1h39m (model.Duration) or Go's 73h39m0s
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|y|w|d|h|m|s)", text):
        total += float(number) * {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1,
                                  "ms": 0.001}[unit]
    return total


def _cause(alert: str, minute: int, addon: str) -> str:
    return (f"the addon says {addon} at minute {minute}: compare the window sums at this step "
            "(one-minute buckets against Prometheus's samples)")


def draw(rows: list[Quality], scenarios: list[Scenario], path: Path) -> bool:
    """The report as a PNG: each scenario's error ratio over 5 minutes, and when each family was paging."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fams = families()
    fig, axes = plt.subplots(len(scenarios), 1, figsize=(11, 2.1 * len(scenarios)), constrained_layout=True)
    colours = ["tab:red", "tab:orange", "tab:blue"]
    for ax, scenario in zip(axes, scenarios):
        origin = HISTORY * MINUTE  # the chart shows the scenario proper, in hours from its start
        hours, ratio = [], []
        for i, (start, _, _) in enumerate(scenario.buckets):
            if start < origin:
                continue
            window = scenario.buckets[max(0, i - 4): i + 1]
            n = sum(b[1] for b in window)
            hours.append((start - origin) / 3600)
            ratio.append(100 * sum(b[2] for b in window) / n if n else 0)
        ax.plot(hours, ratio, color="black", linewidth=0.8, label="server errors over 5m (%)")
        for k, (family, colour) in enumerate(zip(fams, colours)):
            for incident in backtest(scenario, family.rule, family.timing).incidents:
                end = incident.resolved_at if incident.resolved_at is not None else scenario.end
                ax.axvspan((incident.fired_at - origin) / 3600, (end - origin) / 3600, ymin=0.9 - 0.12 * k,
                           ymax=1.0 - 0.12 * k, color=colour, alpha=0.8 if incident.pages else 0.3)
        ax.set_title(f"{scenario.name} (expected: {scenario.expect})", fontsize=9, loc="left")
        ax.set_ylabel("%", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[-1].set_xlabel("hours from the start of the scenario (after three days of clean history)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colours]
    fig.legend(handles, [f.name for f in fams], loc="lower center", fontsize=8, ncol=1,
               bbox_to_anchor=(0.5, -0.04))
    fig.savefig(path, dpi=90, bbox_inches="tight")
    plt.close(fig)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Alert quality of the rule families on the scenario library.")
    parser.add_argument("--png", default="quality.png", help="where to write the chart")
    args = parser.parse_args(argv)
    scenarios = library()
    rows = [assess(s, f) for s in scenarios for f in families()]
    print("Alert quality on the scenario library (backtest through the addon's evaluator)")
    print(report(rows))
    if draw(rows, scenarios, Path(args.png)):
        print(f"chart: {args.png}")
    else:
        print("chart not drawn: matplotlib is not installed (pip install matplotlib)")
    if not shutil.which("promtool"):
        print("agreement with Prometheus not checked: promtool is not installed (Debian package prometheus)")
        return 0
    steps, mismatches = agreement(scenarios)
    share = 100 * (steps - len(mismatches)) / steps
    print(f"Agreement with Prometheus (promtool test rules on the exported rules): {steps - len(mismatches)} of "
          f"{steps} evaluation steps ({share:.2f}%)")
    for m in mismatches[:20]:
        print(f"  {m.scenario}: {m.alert} at minute {m.minute}: addon {m.addon}, Prometheus {m.prometheus}; {m.cause}")
    return 0 if share >= 99.0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
