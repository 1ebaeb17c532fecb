"""``make demo``: the whole flow on one machine, narrated.

Odoo 18.0 or 19.0 (whichever ``ODOO_PATH`` holds) with the addon (``--workers 2``, a cron worker), the PagerDuty-compatible sandbox and the Slack
sink, traffic on a few endpoints, then a failure injected on one of them (the shipped rule watches every
endpoint, nothing tagged beforehand): the page arrives at
the sandbox, the on-call engineer acknowledges, the failure ends, the incident resolves.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from core.rules import ThresholdRule
from tools.drill import Stack, Traffic, detection_floor, endpoint_of

TARGET = "res.partner.category"
#: The demo shortens the shipped rule's window and keep-firing time so that the recovery shows within
#: minutes; paging uses the same pending time (1 minute) and threshold (5%) as the shipped rule.
DEMO_RULE = {"window_minutes": 2, "keep_firing_minutes": 1}


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="api_monitor_demo_"))
    started = time.time()

    def say(text: str) -> None:
        print(f"[{time.time() - started:6.1f}s] {text}", flush=True)

    with Stack(workdir, say=say) as stack:
        endpoint = endpoint_of(TARGET)
        stack.set_rule(**DEMO_RULE)
        rule = stack.rule()
        say(f"Rule 'High API error rate': more than {100 * rule['threshold']:g}% server errors over "
            f"{rule['window_minutes']} min (at least {rule['min_requests']} requests), pending "
            f"{rule['pending_minutes']:g} min, keep firing {rule['keep_firing_minutes']:g} min; "
            "every endpoint watched, as installed")
        traffic = Traffic(stack.url, stack.session_id, [TARGET]).start()
        try:
            say("Traffic: ~40 requests/s over 3 endpoints (call_kw create, search_read, search_count)")
            time.sleep(20)
            metrics = _metrics(stack)
            say(f"/metrics after 20 s: {metrics}")
            failure_start = time.time()
            stack.break_model(TARGET)
            say(f"FAILURE injected: every create on {TARGET} now fails (JSON-RPC error, HTTP 200)")
            page = stack.wait_for(lambda: stack.page_for(endpoint), timeout=300)
            if page is None:
                say("No page within 5 minutes: see the Odoo log in " + str(workdir))
                return 1
            reqs = traffic.requests_of(endpoint)
            first_fail = min(r.sent for r in reqs if r.error and r.sent >= failure_start)
            spec = ThresholdRule(rule["threshold"], rule["window_minutes"], rule["min_requests"])
            floor = detection_floor(reqs, failure_start, spec, rule["pending_minutes"] * 60)
            say(f"PAGE at the PagerDuty sandbox: {page['summary']!r} ({page['severity']})")
            say(f"time to page: {page['at'] - first_fail:.1f} s after the first failing request "
                f"(the rule's own detection time is {floor:.1f} s: pending time included)")
            dedup = page["dedup_key"]
            say(f"Incident {stack.incident(dedup).get('name')}: {stack.incident_url(dedup)}  (login admin/admin)")
            slack = stack.sandbox.state.snapshot()["slack"]
            say(f"Slack #ops got: {slack[0]['text'].splitlines()[0] if slack else '(nothing yet)'}")
            incident_id = stack.call("api.monitor.incident", "search", [("dedup_key", "=", dedup)])
            stack.call("api.monitor.incident", "action_acknowledge", incident_id)
            stack.wait_for(lambda: "acknowledge" in stack.events_for(dedup), timeout=60)
            say(f"On-call acknowledged in Odoo: PagerDuty sandbox alert is now "
                f"{stack.sandbox.state.snapshot()['alerts'][-1]['status']}")
            stack.heal_model(TARGET)
            healed = time.time()
            say(f"Failure ended: creates on {TARGET} succeed again; waiting for the rule to resolve ...")
            resolved = stack.wait_for(lambda: "resolve" in stack.events_for(dedup), timeout=900, every=1)
            incident = stack.incident(dedup)
            if not resolved:
                say("Not resolved within 15 minutes: see " + str(workdir))
                return 1
            say(f"RESOLVED {time.time() - healed:.0f} s after the failure ended: incident {incident['name']} is "
                f"{incident['state']} ({incident['resolution']}), peak {100 * incident['peak_ratio']:.1f}% server "
                f"errors; PagerDuty events for it: {stack.events_for(dedup)}; sandbox holds "
                f"{sum(1 for a in stack.sandbox.state.snapshot()['alerts'] if a['dedup_key'] == dedup)} alert")
            slack = stack.sandbox.state.snapshot()["slack"]
            say(f"Slack #ops got {len(slack)} messages; the last: {slack[-1]['text'].splitlines()[0]}")
        finally:
            traffic.stop()
    say(f"Demo done; logs in {workdir}")
    return 0


def _metrics(stack) -> str:
    import requests

    text = requests.get(f"{stack.url}/metrics", headers={"Authorization": "Bearer demo-metrics-token"}, timeout=30).text
    lines = [line for line in text.splitlines() if line.startswith("http_requests_total{")]
    return f"{len(lines)} request series, e.g. " + (lines[0] if lines else "(none yet)")


if __name__ == "__main__":
    sys.exit(main())
