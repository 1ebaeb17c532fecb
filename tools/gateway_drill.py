"""``make drill``: four fire drills on the stack of :mod:`tools.stack`, each a timeline with tolerances.

(a) RPC server errors on one critical endpoint, answered with HTTP 200: only the addon's counts see them.
(b) Odoo stopped: only the gateway sees it (502 from nginx); OdooDown pages, the per-endpoint gateway
    alerts it causes stay silent.
(c) The Alertmanager replica that sent the page is killed during the incident: the other one resolves it.
(d) The PagerDuty sandbox answers 429 for a minute when the page is due: it arrives once, after.

Each drill reports, per path (the addon's own evaluator when Odoo runs, and Prometheus with Alertmanager),
the time to page, the time to resolve, and how many PagerDuty alerts the sandbox holds for the incident
(exactly one). A time outside its tolerance, or another count of alerts, fails the drill.

    python -m tools.gateway_drill            # all four
    python -m tools.gateway_drill a c        # some
    python -m tools.gateway_drill --standin  # in front of the stand-in even where Odoo exists
"""

from __future__ import annotations

import datetime
import json
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tools.drill import ROUTING_KEY, Traffic, endpoint_of, wait_for
from tools.stack import AM_ROUTING_KEY, PROGRAMS, TIGHT, GatewayStack, Intervals, need
from tools.table import table

DASHBOARD = Path(__file__).resolve().parent.parent / "deploy" / "grafana" / "api_monitor.json"
#: one model per drill, so that no drill sees another's incident
TARGETS = {"a": "res.partner.category", "c": "res.partner.industry", "d": "res.bank"}
PATHS = {"addon": ROUTING_KEY, "prometheus": AM_ROUTING_KEY}


@dataclass
class Span:
    """A measured time and the tolerance it must fall in (seconds)."""

    seconds: float | None
    low: float
    high: float

    @property
    def ok(self) -> bool:
        return self.seconds is not None and self.low <= self.seconds <= self.high

    def __str__(self) -> str:
        got = "none" if self.seconds is None else f"{self.seconds:.1f} s"
        return f"{got} [{self.low:g}-{self.high:g}]"


@dataclass
class Result:
    drill: str
    path: str
    page: Span
    resolve: Span
    alerts: int
    notes: list[str] = field(default_factory=list)
    #: False where the path cannot see the failure: then it must not page at all
    expect_page: bool = True

    @property
    def ok(self) -> bool:
        if not self.expect_page:
            return self.alerts == 0 and self.page.seconds is None
        return self.page.ok and self.resolve.ok and self.alerts == 1

    def row(self) -> list[str]:
        return [self.drill, self.path, str(self.page), str(self.resolve), str(self.alerts),
                "ok" if self.ok else "FAILED", "; ".join(self.notes)]


def tolerances(intervals: Intervals, rule: dict) -> dict[str, tuple[float, float]]:
    """Expected times from the rule and the intervals: the rule's own detection plus every delay on the path.

    The ``addon_*`` entries are the addon's own path: a flush within a second of the first server errors,
    the evaluator woken by it, the outbox delivered at once; its windows are whole one-minute buckets, so a
    1-minute window holds from 0 to 60 seconds of requests and can clear as soon as a new minute starts.
    """
    def seconds(text: str) -> float:
        return float(text[:-1]) * {"s": 1, "m": 60}[text[-1]]

    pending, window, keep = (rule["pending_minutes"] * 60, rule["window_minutes"] * 60, rule["keep_firing_minutes"] * 60)
    path_delay = seconds(intervals.scrape) + seconds(intervals.evaluation) + seconds(intervals.group_wait) + 10
    resolve_delay = seconds(intervals.scrape) + seconds(intervals.evaluation) + seconds(intervals.group_interval) + 20
    return {
        "page": (pending, pending + path_delay),
        # the failing requests leave the window, then the alert keeps firing, then the path's delays
        "resolve": (keep + 0.5 * window, window + keep + resolve_delay),
        "addon_page": (pending, pending + 20),
        "addon_resolve": (keep, window + keep + 30),
        "down": (60.0, 60.0 + path_delay),
        "up": (0.0, resolve_delay),
        "throttled": (60.0, 60.0 + 60.0),
    }


class Drills:
    def __init__(self, stack: GatewayStack, say=print) -> None:
        self.stack = stack
        self.say = say
        self.tol = tolerances(stack.intervals, stack.rule_values)
        self.paths = ["addon", "prometheus"] if stack.odoo is not None else ["prometheus"]
        self.panels: tuple[int, int] | None = None

    # -- what the sandbox received ----------------------------------------------------------------
    def _events(self, path: str, since: float, matches: str, action: str) -> list[dict]:
        return [e for e in self.stack.sandbox.state.snapshot()["events"]
                if e["routing_key"] == PATHS[path] and e["at"] >= since and e["action"] == action
                and matches in (e.get("summary") or "")]

    def _first(self, path: str, since: float, matches: str, action: str = "trigger") -> dict | None:
        found = self._events(path, since, matches, action)
        return found[0] if found else None

    def _resolved(self, path: str, since: float, dedup_key: str) -> dict | None:
        return next((e for e in self.stack.sandbox.state.snapshot()["events"]
                     if e["routing_key"] == PATHS[path] and e["dedup_key"] == dedup_key and e["action"] == "resolve"
                     and e["at"] >= since), None)

    def _alerts(self, path: str, since: float, matches: str | None) -> int:
        return sum(1 for a in self.stack.sandbox.state.snapshot()["alerts"]
                   if a["routing_key"] == PATHS[path] and a["opened_at"] >= since
                   and (matches is None or matches in (a["summary"] or "")))

    # -- the drills ---------------------------------------------------------------------------------
    def rpc_errors(self, drill: str, kill_sender: bool = False, throttle: float = 0.0) -> list[Result]:
        target = TARGETS[drill]
        endpoint = endpoint_of(target)
        marker = f" on {endpoint} "
        t0 = time.time()
        if throttle:
            self.stack.sandbox.behave("pagerduty", "429", seconds=throttle)
            self.say(f"({drill}) the PagerDuty sandbox answers 429 for {throttle:g} s")
        self.stack.break_model(target)
        self.say(f"({drill}) failure injected: every create on {target} answers a JSON-RPC error with HTTP 200")
        pages = {p: wait_for(lambda p=p: self._first(p, t0, marker), 400, 0.2) for p in self.paths}
        for path, page in pages.items():
            self.say(f"({drill}) {path}: " + (f"paged after {page['at'] - t0:.1f} s" if page else "no page"))
        notes = []
        if drill == "a" and DASHBOARD.exists():
            with_data, total = self.check_panels()
            self.panels = (with_data, total)
            notes.append(f"dashboard panels with data: {with_data}/{total}")
        killed = None
        if kill_sender and pages.get("prometheus"):
            sent = [self.stack.notifications_sent(i) for i in (0, 1)]
            killed = f"alertmanager{sent.index(max(sent)) + 1}"
            self.stack.kill(killed)
            notes.append(f"killed {killed}, the replica that sent the page")
            self.say(f"({drill}) {killed} (it sent the page) killed with SIGKILL")
        gateway = self._gateway_firing(endpoint, 200) if drill == "a" else None
        self.stack.heal_model(target)
        healed = time.time()
        self.say(f"({drill}) failure ended; waiting for the resolve ...")
        resolves = {p: wait_for(lambda p=p: pages[p] and self._resolved(p, healed, pages[p]["dedup_key"]), 400, 0.5)
                    for p in self.paths}
        if killed:
            self.stack.restart(killed)
            rejoined = self.stack.wait_for_cluster()
            notes.append(f"{killed} restarted, {'back in' if rejoined else 'NOT back in'} the cluster")
        if throttle:
            attempts = self.stack.sandbox.state.snapshot()["attempts"]["pagerduty"]
            notes.append(f"PagerDuty attempts so far: {attempts}")
        slack = [m for m in self.stack.sandbox.state.snapshot()["slack"] if m["at"] >= t0 and endpoint in m["text"]]
        notes.append(f"Slack messages: {len(slack)}")
        results = []
        for path in self.paths:
            prefix = "addon_" if path == "addon" else ""
            page_tol = self.tol["throttled"] if throttle else self.tol[prefix + "page"]
            alerts = self._alerts(path, t0, marker)
            path_notes = list(notes)
            if alerts != 1:  # say what the sandbox received, to see where a second alert came from
                path_notes.append("events: " + ", ".join(
                    f"{e['action']} {e['dedup_key'][:8]} at {e['at'] - t0:.1f} s"
                    for e in self._events(path, t0, marker, "trigger") + self._events(path, t0, marker, "resolve")))
            results.append(Result(drill, path, Span(pages[path] and pages[path]["at"] - t0, *page_tol),
                                  Span(resolves[path] and resolves[path]["at"] - healed, *self.tol[prefix + "resolve"]),
                                  alerts, path_notes))
        if gateway is not None:
            # Nginx + mtail alone: the rule's gateway twin fires on the HTTP 200 RPC errors, from the outcome
            # header in the access log; Alertmanager inhibits it while the addon's own alert fires (one page)
            fired = gateway and gateway - t0
            gone = wait_for(lambda: not self._gateway_alerts(endpoint) and time.time(), 400, 0.5)
            results.append(Result(
                drill, "gateway", Span(fired, *self.tol["page"]), Span(gone and gone - healed, *self.tol["resolve"]),
                1 if gateway else 0, ["HighApiErrorRateGateway in Prometheus, from Nginx + mtail only; inhibited "
                                      "in Alertmanager by the addon's own alert"]))
        return results

    def _gateway_alerts(self, endpoint: str) -> list[dict]:
        """The rule's gateway twins firing in Prometheus for ``endpoint``."""
        with urllib.request.urlopen(f"{self.stack.prometheus_url}/api/v1/alerts", timeout=30) as response:
            alerts = json.load(response)["data"]["alerts"]
        return [a for a in alerts if a["labels"].get("source") == "gateway" and a["state"] == "firing"
                and a["labels"].get("endpoint") == endpoint]

    def _gateway_firing(self, endpoint: str, timeout: float) -> float | None:
        """When the gateway twin started firing (its ``activeAt`` plus the rule's pending time), or None."""
        found = wait_for(lambda: self._gateway_alerts(endpoint), timeout, 0.5)
        if not found:
            return None
        active = min(datetime.datetime.fromisoformat(a["activeAt"].replace("Z", "+00:00")).timestamp() for a in found)
        return active + self.stack.rule_values["pending_minutes"] * 60

    def odoo_stopped(self) -> list[Result]:
        t0 = time.time()
        self.stack.stop_upstream()
        self.say("(b) Odoo stopped: the gateway answers 502 alone")
        page = wait_for(lambda: self._first("prometheus", t0, "cannot scrape Odoo"), 300, 0.2)
        self.say("(b) prometheus: " + (f"OdooDown paged after {page['at'] - t0:.1f} s" if page else "no page"))
        time.sleep(5)  # a few more 502s while the page is out
        self.stack.start_upstream()
        back = time.time()
        self.say("(b) Odoo started again")
        resolve = wait_for(lambda: page and self._resolved("prometheus", back, page["dedup_key"]), 300, 0.5)
        gateway_5xx = self.stack.query('sum(increase(gateway_http_requests_total{code="502",origin="gateway"}[5m]))')
        errors = float(gateway_5xx[0]["value"][1]) if gateway_5xx else 0.0
        # every alert opened for Prometheus's PagerDuty service since Odoo stopped: OdooDown only
        alerts = self._alerts("prometheus", t0, None)
        results = [Result("b", "prometheus", Span(page and page["at"] - t0, *self.tol["down"]),
                          Span(resolve and resolve["at"] - back, *self.tol["up"]), alerts,
                          [f"gateway 502s in the window: {errors:.0f}, paged as OdooDown only"])]
        if self.stack.odoo is not None:
            # the addon cannot page while Odoo is down: that is what the gateway path is for
            addon = self._alerts("addon", t0, None)
            results.append(Result("b", "addon", Span(None, 0, 0), Span(None, 0, 0), addon,
                                  ["Odoo is down: no page expected from inside it"], expect_page=False))
        return results

    def check_panels(self) -> tuple[int, int]:
        """Run every panel query of the Grafana dashboard against the stack's Prometheus."""
        queries = dashboard_queries(json.loads(DASHBOARD.read_text()))
        with_data = sum(1 for _, expr in queries if self.stack.query(expr))
        return with_data, len(queries)

    def run(self, which: list[str]) -> list[Result]:
        results: list[Result] = []
        for drill in which:
            if drill == "a":
                results += self.rpc_errors("a")
            elif drill == "b":
                results += self.odoo_stopped()
            elif drill == "c":
                results += self.rpc_errors("c", kill_sender=True)
            elif drill == "d":
                results += self.rpc_errors("d", throttle=60.0)
        return results


def dashboard_queries(dashboard: dict) -> list[tuple[str, str]]:
    """(panel title, PromQL) of every Prometheus target of the dashboard, its variables set to match all."""
    values = {"$endpoint": ".*", "${endpoint}": ".*", "$__rate_interval": "1m", "$__range": "5m"}
    out = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target.get("expr")
            if expr:
                for name, value in values.items():
                    expr = expr.replace(name, value)
                out.append((panel["title"], expr))
    return out


def run(which: list[str], workdir: Path, intervals: Intervals = TIGHT, use_odoo: bool | None = None,
        say=print) -> list[Result]:
    critical = tuple(endpoint_of(TARGETS[d]) for d in ("a", "c", "d"))
    with GatewayStack(workdir, intervals=intervals, use_odoo=use_odoo, critical=critical, say=say) as stack:
        traffic = Traffic(stack.gateway_url, stack.session_id, list(TARGETS.values())).start()
        try:
            say(f"traffic through the gateway: ~{traffic.rate:g} requests/s; warming up 15 s")
            time.sleep(15)
            return Drills(stack, say).run(which)
        finally:
            traffic.stop()


def main(argv: list[str]) -> int:
    use_odoo = False if "--standin" in argv else None
    which = [d for d in argv if d != "--standin"] or ["a", "b", "c", "d"]
    if any(d not in "abcd" for d in which):
        print("drills are a, b, c, d")
        return 2
    missing = need(*PROGRAMS)
    if missing:
        print(f"missing programs: {', '.join(missing)}; install the Debian packages nginx mtail prometheus "
              "prometheus-alertmanager")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="api_monitor_drill_"))
    started = time.time()

    def say(text: str) -> None:
        print(f"[{time.time() - started:6.1f}s] {text}", flush=True)

    results = run(which, workdir, use_odoo=use_odoo, say=say)
    print(table(["drill", "path", "time to page [tolerance]", "time to resolve [tolerance]",
                 "PagerDuty alerts", "verdict", "notes"], [r.row() for r in results]))
    print(f"logs and configuration in {workdir}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
