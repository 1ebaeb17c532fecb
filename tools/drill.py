"""A fire drill on one machine: Odoo with the addon, the sandbox receivers, traffic, an injected failure.

Used by ``make demo`` (one drill, narrated) and by ``bench/time_to_page.py`` (several, measured).
Everything listens on 127.0.0.1 and stops at the end. The failure is real: a PostgreSQL trigger makes
every ``create`` of one model fail, so its call_kw endpoint answers JSON-RPC errors with HTTP 200.
"""

from __future__ import annotations

import contextlib
import threading
import time
import xmlrpc.client
from dataclasses import dataclass, field
from pathlib import Path

import requests

from core.rules import ThresholdRule, Window
from tools.sandbox import Sandbox
from tools.services import Odoo, Postgres, free_port

DB = "api_monitor_demo"
ROUTING_KEY = "DEMOROUTINGKEY000000000000000000"
TOKEN = "demo-metrics-token"
#: models whose ``create`` a drill can break, one per drill so drills do not see each other's errors
TARGETS = ["res.partner.category", "res.partner.industry", "res.bank", "res.partner.title", "res.country.group",
           "res.partner.category", "res.partner.industry", "res.bank"]
BACKGROUND = [("res.partner", "search_read", [[]], {"fields": ["name"], "limit": 5}),
              ("res.users", "search_count", [[]], {})]


def endpoint_of(model: str, method: str = "create") -> str:
    return f"/web/dataset/call_kw/{model}/{method}"


@dataclass
class Request:
    sent: float
    done: float
    endpoint: str
    error: bool


@dataclass
class Traffic:
    """Threads calling a few endpoints round-robin, every call logged with its time and outcome."""

    url: str
    session_id: str
    targets: list[str]
    rate: float = 40.0  # requests per second, all threads together
    threads: int = 4
    log: list[Request] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Traffic:
        self._workers = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(self.threads)]
        for worker in self._workers:
            worker.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=30)

    def _calls(self):
        calls = [(m, "create", [{"name": f"drill {time.time():.6f}"}], {}) for m in self.targets] + BACKGROUND
        while True:
            yield from calls

    def _run(self, index: int) -> None:
        session = requests.Session()
        session.cookies.set("session_id", self.session_id)
        interval = self.threads / self.rate
        calls = self._calls()
        for _ in range(index):
            next(calls)
        next_at = time.time()
        deadline = time.time() + 3600  # bounded, whatever happens
        while not self._stop.is_set() and time.time() < deadline:
            model, method, args, kwargs = next(calls)
            if method == "create":
                args = [{"name": f"drill {index} {time.time():.6f}"}]
            body = {"jsonrpc": "2.0", "method": "call", "id": 1,
                    "params": {"model": model, "method": method, "args": args, "kwargs": kwargs}}
            sent = time.time()
            try:
                response = session.post(f"{self.url}{endpoint_of(model, method)}", json=body, timeout=30)
                error = "error" in response.json()
            except (requests.RequestException, ValueError):
                error = True
            done = time.time()
            with self._lock:
                self.log.append(Request(sent, done, endpoint_of(model, method), error))
            next_at += interval
            self._stop.wait(max(0.0, next_at - time.time()))

    def requests_of(self, endpoint: str) -> list[Request]:
        with self._lock:
            return [r for r in self.log if r.endpoint == endpoint]


def wait_for(predicate, timeout: float, every: float = 0.05):
    """The first true value of ``predicate()``, polled every ``every`` seconds; None after ``timeout``."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    return None


def detection_floor(requests_: list[Request], failure_start: float, rule: ThresholdRule, pending: float) -> float | None:
    """The rule's own mathematical detection time, in seconds after the first failing request.

    The earliest instant at which the requests completed in the preceding window (exact times, no buckets)
    breach the rule, plus the pending time: what a perfect evaluator with no delay at all would achieve.
    """
    first_fail = min((r.sent for r in requests_ if r.error and r.sent >= failure_start), default=None)
    if first_fail is None:
        return None
    done = sorted((r.done, r.error) for r in requests_)
    for t, _ in done:
        if t < first_fail:
            continue
        window = [(d, e) for d, e in done if t - rule.window * 60 < d <= t]
        verdict = rule.evaluate({rule.window: Window(len(window), sum(1 for _, e in window if e))})
        if verdict.breach:
            return t + pending - first_fail
    return None


class Stack:
    """PostgreSQL, the sandbox and Odoo (``--workers 2`` and a cron worker) with the addon installed."""

    def __init__(self, workdir: Path, say=print) -> None:
        self.workdir = workdir
        self.say = say
        self.odoo = Odoo()
        if not self.odoo.available:
            raise SystemExit(f"No Odoo at {self.odoo.path}: set ODOO_PATH to an Odoo 18.0 or 19.0 source tree "
                             "(see README).")
        self._exit = contextlib.ExitStack()

    def __enter__(self) -> Stack:
        self.pg = self._exit.enter_context(Postgres())
        self.say(f"PostgreSQL on 127.0.0.1:{self.pg.port}; installing the addon into database {DB} ...")
        self.odoo.install(self.pg, DB, "api_monitor", self.workdir)
        self.sandbox = self._exit.enter_context(Sandbox())
        self._server = contextlib.ExitStack()
        self._exit.callback(self._server.close)
        self.port = free_port()
        self.start_server()
        self._exit.callback(self.odoo.cleanup)
        self.say(f"Odoo {self.odoo.version} with the addon at {self.url} (--workers 2, one cron worker); "
                 f"PagerDuty-compatible sandbox and Slack sink at {self.sandbox.url}")
        self.rpc = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/object", allow_none=True)
        common = xmlrpc.client.ServerProxy(f"{self.url}/xmlrpc/2/common")
        self.uid = common.authenticate(DB, "admin", "admin", {})
        self.session_id = self._login()
        self._configure()
        return self

    def __exit__(self, *exc) -> None:
        self._exit.close()

    def start_server(self) -> None:
        """Start Odoo (again, after :meth:`stop_server`) on the same port."""
        self.url = self._server.enter_context(self.odoo.server(
            self.pg, DB, "--workers=2", "--max-cron-threads=1", "--load=base,web,api_monitor",
            log=self.workdir / "odoo.log", port=self.port))

    def stop_server(self) -> None:
        """Stop Odoo, as a crash or an operator would: every process of it goes away."""
        self._server.close()

    def call(self, model, method, *args, **kwargs):
        return self.rpc.execute_kw(DB, self.uid, "admin", model, method, list(args), kwargs)

    def ref(self, xmlid: str) -> int:
        module, name = xmlid.split(".")
        return self.call("ir.model.data", "search_read", [("module", "=", module), ("name", "=", name)],
                         fields=["res_id"])[0]["res_id"]

    def _login(self) -> str:
        response = requests.post(f"{self.url}/web/session/authenticate", timeout=30,
                                 json={"jsonrpc": "2.0", "params": {"db": DB, "login": "admin", "password": "admin"}})
        return response.cookies["session_id"]

    def _configure(self) -> None:
        """What an operator does once in Settings and Monitoring > Receivers."""
        self.call("api.monitor.receiver", "write", [self.ref("api_monitor.receiver_pagerduty")],
                  {"url": f"{self.sandbox.url}/v2/enqueue", "routing_key": ROUTING_KEY})
        self.call("api.monitor.receiver", "write", [self.ref("api_monitor.receiver_slack")],
                  {"slack_webhook_url": f"{self.sandbox.url}/slack/ops"})
        self.call("ir.config_parameter", "set_param", "api_monitor.metrics_token", TOKEN)

    def mark_critical(self, endpoints: list[str]) -> None:
        """Tag endpoints critical (Monitoring > Endpoints) so that the shipped rule watches them."""
        values = ", ".join(f"('{e}', true, now() AT TIME ZONE 'UTC')" for e in endpoints)
        self.pg.psql(f"INSERT INTO api_monitor_endpoint (name, critical, first_seen) VALUES {values} "
                     "ON CONFLICT (name) DO UPDATE SET critical = true", DB)

    def rule(self) -> dict:
        return self.call("api.monitor.rule", "read", [self.ref("api_monitor.rule_high_error_rate")],
                         ["threshold", "window_minutes", "min_requests", "pending_minutes", "keep_firing_minutes"])[0]

    def set_rule(self, **values) -> None:
        self.call("api.monitor.rule", "write", [self.ref("api_monitor.rule_high_error_rate")], values)

    def break_model(self, model: str) -> None:
        table = model.replace(".", "_")
        self.pg.psql(
            "CREATE OR REPLACE FUNCTION api_monitor_drill_fail() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'injected failure: % is unavailable', TG_TABLE_NAME; END $$; "
            f"CREATE TRIGGER api_monitor_drill_fail BEFORE INSERT ON {table} FOR EACH ROW "
            "EXECUTE FUNCTION api_monitor_drill_fail();", DB)

    def heal_model(self, model: str) -> None:
        self.pg.psql(f"DROP TRIGGER IF EXISTS api_monitor_drill_fail ON {model.replace('.', '_')}", DB)

    @staticmethod
    def wait_for(predicate, timeout: float, every: float = 0.05):
        return wait_for(predicate, timeout, every)

    def page_for(self, endpoint: str, action: str = "trigger") -> dict | None:
        """The first PagerDuty event of ``action`` whose summary names ``endpoint``, from the sandbox."""
        for event in self.sandbox.state.snapshot()["events"]:
            if event["action"] == action and event.get("summary") and f" on {endpoint} " in event["summary"]:
                return event
        return None

    def events_for(self, dedup_key: str) -> list[str]:
        return [e["action"] for e in self.sandbox.state.snapshot()["events"] if e["dedup_key"] == dedup_key]

    def incident(self, dedup_key: str) -> dict:
        found = self.call("api.monitor.incident", "search_read", [("dedup_key", "=", dedup_key)],
                          fields=["name", "state", "peak_ratio", "resolution"])
        return found[0] if found else {}

    def incident_url(self, dedup_key: str) -> str:
        found = self.call("api.monitor.incident", "search", [("dedup_key", "=", dedup_key)])
        return f"{self.url}/odoo/api-incidents/{found[0]}" if found else ""

