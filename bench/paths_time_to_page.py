"""Time to page of drill (a), side by side in one run: the addon's own evaluator, Prometheus and
Alertmanager with Debian's default intervals, and with tightened intervals.

One stack (:mod:`tools.stack`): Odoo with the addon behind nginx and mtail, and two Prometheus +
Alertmanager pairs scraping the same targets with the same exported rule (the shipped rule: more than 5%
server errors over 5 minutes, at least 20 requests, 1 minute pending). Each round breaks the ``create`` of
another model (RPC errors answered with HTTP 200) and times the PagerDuty event of each path from the
first failing request. Without an Odoo the addon's path is left out (the stand-in has no evaluator).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.table import table
from core.rules import ThresholdRule
from tools.drill import ROUTING_KEY, TARGETS, Traffic, detection_floor, endpoint_of
from tools.stack import DEFAULT, TIGHT, GatewayStack, PROGRAMS, need

ROUNDS = int(os.environ.get("BENCH_ROUNDS", 3))
SHIPPED = {"window_minutes": 5, "pending_minutes": 1, "keep_firing_minutes": 5}


def main() -> int:
    missing = need(*PROGRAMS)
    if missing:
        print(f"missing {', '.join(missing)}: benchmark not run")
        return 0
    targets = list(dict.fromkeys(TARGETS))[:ROUNDS]
    workdir = Path(tempfile.mkdtemp(prefix="api_monitor_paths_"))
    times: dict[str, list[float]] = {}
    floors: list[float] = []  # the rule's own detection time of each round (exact request times, no delays)
    with GatewayStack(workdir, intervals=TIGHT, more_intervals=(DEFAULT,), critical=tuple(map(endpoint_of, targets)),
                      rule=SHIPPED, say=lambda text: print(text, flush=True)) as stack:
        paths = {f"Prometheus + Alertmanager, {p.intervals.name} (scrape {p.intervals.scrape}, evaluation "
                 f"{p.intervals.evaluation}, group_wait {p.intervals.group_wait})": p.routing_key for p in stack.pipelines}
        if stack.odoo is not None:
            paths = {"addon's own evaluator (cron, woken by the flush)": ROUTING_KEY, **paths}
        traffic = Traffic(stack.gateway_url, stack.session_id, targets).start()
        try:
            time.sleep(30)
            for target in targets:
                endpoint = endpoint_of(target)
                t0 = time.time()
                stack.break_model(target)
                pages: dict[str, float] = {}
                deadline = time.time() + 400
                while len(pages) < len(paths) and time.time() < deadline:
                    for event in stack.sandbox.state.snapshot()["events"]:
                        for name, key in paths.items():
                            if (name not in pages and event["routing_key"] == key and event["action"] == "trigger"
                                    and event["at"] >= t0 and f" on {endpoint} " in (event.get("summary") or "")):
                                pages[name] = event["at"]
                    time.sleep(0.2)
                stack.heal_model(target)
                requests = traffic.requests_of(endpoint)
                first_fail = min(r.sent for r in requests if r.error and r.sent >= t0)
                floors.append(detection_floor(requests, t0, ThresholdRule(0.05, 5, 20), 60.0))
                for name in paths:
                    times.setdefault(name, []).append(pages[name] - first_fail if name in pages else float("nan"))
                print(f"{target}: " + ", ".join(f"{times[n][-1]:.1f} s" for n in paths), flush=True)
        finally:
            traffic.stop()
    rows = []
    for name, values in times.items():
        ok = [v for v in values if v == v]
        above = [v - f for v, f in zip(values, floors) if v == v]
        rows.append([name, f"{statistics.median(ok):.1f}" if ok else "-", f"{min(ok):.1f}" if ok else "-",
                     f"{max(ok):.1f}" if ok else "-", f"{len(ok)}/{len(values)}",
                     f"{statistics.median(above):+.1f}" if above else "-"])
    print(f"Time to page, drill (a), {ROUNDS} rounds, seconds from the first failing request; the rule's own "
          f"detection time (window breached with exact request times, plus 1 minute pending): "
          + ", ".join(f"{f:.1f} s" for f in floors))
    print(table(["path", "median s", "min s", "max s", "paged", "median above the rule's own detection"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
