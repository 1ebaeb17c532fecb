"""``make stack``: the gateway path of the flow on one machine, every part the real program.

Started on 127.0.0.1, free ports, in this order:

* the upstream: Odoo 18 with the addon (``--workers 2``, a cron worker) when ``ODOO_PATH`` holds an Odoo,
  else the stand-in of :mod:`tools.standin` (CI), which counts and fails the way the addon does;
* the sandbox receivers (PagerDuty Events API v2, Slack, dead man's switch webhook);
* nginx with ``deploy/nginx/api_monitor_gateway.conf`` in front of the upstream, its JSON access log;
* mtail with ``deploy/mtail/api_monitor_gateway.mtail`` on that log;
* two Alertmanager replicas gossiping in one cluster, configured by the addon's export;
* Prometheus scraping the addon's ``/metrics`` (job ``odoo``) and mtail (job ``gateway``), with the
  addon's exported rules, sending to both Alertmanagers.

``python -m tools.stack`` keeps it running until Ctrl-C and prints every address; the drills
(:mod:`tools.gateway_drill`) and their tests start it the same way.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from core.export import RuleExport, alertmanager_config, prometheus_rules
from tools.drill import DB, TOKEN, endpoint_of
from tools.sandbox import Sandbox
from tools.services import ADDON_DIR, Odoo, free_port, wait_for_port
from tools.standin import StandIn

DEPLOY = ADDON_DIR / "deploy"
#: Alertmanager's PagerDuty integration key: a different service from the addon's own receiver, so the
#: sandbox keeps the two paths' alerts apart
AM_ROUTING_KEY = "ALERTMANAGERROUTINGKEY0000000000"
#: the shipped rule, shortened for drills that must page and resolve within minutes. Two minutes of window,
#: not one: the addon's windows are whole one-minute buckets, and a 1-minute window would hold only the
#: first seconds of each new minute (too few requests to breach), restarting the pending time every minute
DRILL_RULE = {"window_minutes": 2, "pending_minutes": 0.5, "keep_firing_minutes": 0.5}


@dataclass(frozen=True)
class Intervals:
    """How often Prometheus scrapes and evaluates, and how long Alertmanager waits before notifying."""

    name: str
    scrape: str
    evaluation: str
    group_wait: str
    group_interval: str
    peer_timeout: str


#: Debian's packaged defaults (prometheus.yml: 15 s; Alertmanager: group_wait 30 s, group_interval 5 m)
DEFAULT = Intervals("Debian defaults", "15s", "15s", "30s", "5m", "15s")
#: what a site that wants pages within seconds of the rule's own detection sets
TIGHT = Intervals("tightened", "1s", "1s", "1s", "5s", "2s")


class Service:
    """One program started in its own process group, its output in a log file."""

    def __init__(self, name: str, cmd: list[str], log: Path, port: int | None = None) -> None:
        self.name, self.cmd, self.log, self.port = name, cmd, log, port
        self.proc: subprocess.Popen | None = None

    def start(self) -> Service:
        out = open(self.log, "a")
        self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        out.close()
        if self.port:
            wait_for_port(self.port, timeout=60, proc=self.proc)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


def need(*programs: str) -> list[str]:
    """The programs of the stack that are missing on this machine."""
    return [p for p in programs if not shutil.which(p)]


PROGRAMS = ("nginx", "mtail", "prometheus", "prometheus-alertmanager")


@dataclass
class Pipeline:
    """A Prometheus with its Alertmanager pair, as started; its pages carry ``routing_key``."""

    intervals: Intervals
    routing_key: str
    prometheus_url: str
    alertmanagers: list[str]


def nginx_command(folder: Path, upstream: str, port: int, access_log: Path, extra: str = "") -> list[str]:
    """Write an nginx.conf that includes ``deploy/nginx`` pointed at ``upstream`` and listening on ``port``
    (``extra``: more ``http`` directives), and return the command that runs it in the foreground."""
    access_log.touch()
    site = (DEPLOY / "nginx" / "api_monitor_gateway.conf").read_text()
    site = (site.replace("server 127.0.0.1:8069;", f"server {upstream};")
            .replace("server 127.0.0.1:8072;", f"server {upstream};")
            .replace("listen 80;", f"listen 127.0.0.1:{port};")
            .replace("/var/log/nginx/api_monitor_access.json", str(access_log)))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "site.conf").write_text(site)
    (folder / "nginx.conf").write_text(
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\nworker_processes 1;\n"
        "events { worker_connections 4096; }\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {folder}/body;\n"
        f"  proxy_temp_path {folder}/proxy;\n  include {folder}/site.conf;\n{extra}}}\n")
    return ["nginx", "-c", str(folder / "nginx.conf"), "-p", str(folder), "-g", "daemon off;"]


def mtail_command(access_log: Path, port: int) -> list[str]:
    return ["mtail", "--progs", str(DEPLOY / "mtail"), "--logs", str(access_log), "--address", "127.0.0.1",
            "--port", str(port), "--emit_prog_label=false", "--logtostderr"]


class GatewayStack:
    """Everything of the module docstring; ``with GatewayStack(workdir) as stack:``."""

    def __init__(self, workdir: Path, intervals: Intervals = TIGHT, use_odoo: bool | None = None,
                 critical: tuple[str, ...] = (), rule: dict | None = None, say=print,
                 more_intervals: tuple[Intervals, ...] = ()) -> None:
        """``more_intervals`` starts one more Prometheus and Alertmanager pair per entry, on the same
        targets and rules: the pipelines run side by side (the benchmarks compare them)."""
        self.workdir = workdir
        self.intervals = intervals
        self.all_intervals = (intervals, *more_intervals)
        self.use_odoo = Odoo().available if use_odoo is None else use_odoo
        self.critical = critical
        self.rule_values = dict(DRILL_RULE if rule is None else rule)
        self.say = say
        self._exit = contextlib.ExitStack()
        self.services: dict[str, Service] = {}

    # -- start ------------------------------------------------------------------------------------
    def __enter__(self) -> GatewayStack:
        missing = need(*PROGRAMS)
        if missing:
            raise RuntimeError(f"missing programs: {', '.join(missing)} (Debian packages nginx, mtail, "
                               "prometheus, prometheus-alertmanager)")
        try:
            self._start_upstream()
            self._start_gateway()
            self._start_alerting()
        except BaseException:
            self._exit.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._exit.close()

    def _start_upstream(self) -> None:
        if self.use_odoo:
            from tools.drill import Stack

            self.odoo = self._exit.enter_context(Stack(self.workdir, say=self.say))
            self.sandbox = self.odoo.sandbox
            self.odoo.mark_critical(list(self.critical))
            self.odoo.set_rule(**self.rule_values)
            self.upstream_url, self.session_id = self.odoo.url, self.odoo.session_id
        else:
            self.odoo = None
            self.standin = self._exit.enter_context(StandIn())
            self.sandbox = self._exit.enter_context(Sandbox())
            self.upstream_url, self.session_id = self.standin.url, "stand-in"
            self.say(f"Stand-in upstream (no Odoo at ODOO_PATH) at {self.upstream_url}; sandbox at {self.sandbox.url}")

    def _start_gateway(self) -> None:
        self.access_log = self.workdir / "access.json"
        self.gateway_port = free_port()
        self._service("nginx", nginx_command(self.workdir / "nginx", self.upstream_url.removeprefix("http://"),
                                             self.gateway_port, self.access_log), self.gateway_port)
        self.gateway_url = f"http://127.0.0.1:{self.gateway_port}"
        self.mtail_port = free_port()
        self._service("mtail", mtail_command(self.access_log, self.mtail_port), self.mtail_port)
        self.say(f"Gateway: nginx at {self.gateway_url} -> {self.upstream_url}; mtail at "
                 f"http://127.0.0.1:{self.mtail_port}/metrics reading {self.access_log}")

    def _start_alerting(self) -> None:
        (self.workdir / "api_monitor_rules.yml").write_text(self.exported_rules())
        self.pipelines = [self._start_pipeline(i, intervals) for i, intervals in enumerate(self.all_intervals)]
        first = self.pipelines[0]
        self.prometheus_url, self.alertmanagers = first.prometheus_url, first.alertmanagers

    def _start_pipeline(self, index: int, intervals: Intervals) -> Pipeline:
        """One Prometheus and its two Alertmanager replicas, paging PagerDuty with their own routing key."""
        suffix = "" if index == 0 else str(index + 1)
        routing_key = AM_ROUTING_KEY if index == 0 else f"ALERTMANAGER{index + 1}".ljust(32, "0")
        folder = self.workdir / f"alerting{suffix}"
        secrets = folder / "secrets"
        secrets.mkdir(parents=True, exist_ok=True)
        (secrets / "pagerduty_routing_key").write_text(routing_key)
        (secrets / "slack_webhook_url").write_text(f"{self.sandbox.url}/slack/ops")
        (folder / "alertmanager.yml").write_text(alertmanager_config(
            pagerduty_key_file=str(secrets / "pagerduty_routing_key"),
            slack_url_file=str(secrets / "slack_webhook_url"),
            deadmansswitch_url=f"{self.sandbox.url}/webhook/watchdog",
            pagerduty_url=f"{self.sandbox.url}/v2/enqueue",
            group_wait=intervals.group_wait, group_interval=intervals.group_interval))
        web = [free_port(), free_port()]
        gossip = [free_port(), free_port()]
        alertmanagers = []
        for i in (0, 1):
            name = f"alertmanager{i + 1}{'-' + suffix if suffix else ''}"
            (folder / name).mkdir(exist_ok=True)
            self._service(name, [
                "prometheus-alertmanager", f"--config.file={folder / 'alertmanager.yml'}",
                f"--storage.path={folder / name}", f"--web.listen-address=127.0.0.1:{web[i]}",
                f"--cluster.listen-address=127.0.0.1:{gossip[i]}",
                f"--cluster.advertise-address=127.0.0.1:{gossip[i]}",
                f"--cluster.peer=127.0.0.1:{gossip[1 - i]}",
                f"--cluster.peer-timeout={intervals.peer_timeout}", "--cluster.settle-timeout=10s",
                "--log.level=info"], web[i])
            alertmanagers.append(f"http://127.0.0.1:{web[i]}")
        port = free_port()
        config = {
            "global": {"scrape_interval": intervals.scrape, "evaluation_interval": intervals.evaluation},
            "rule_files": [str(self.workdir / "api_monitor_rules.yml")],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [a.removeprefix("http://") for a in alertmanagers]}]}]},
            "scrape_configs": [
                {"job_name": "odoo", "metrics_path": "/metrics", "params": {"db": [DB]},
                 "authorization": {"credentials": TOKEN},
                 "static_configs": [{"targets": [self.upstream_url.removeprefix("http://")]}]},
                {"job_name": "gateway", "static_configs": [{"targets": [f"127.0.0.1:{self.mtail_port}"]}]},
            ],
        }
        # JSON is YAML: Prometheus reads it as its configuration file
        (folder / "prometheus.yml").write_text(json.dumps(config, indent=2))
        (folder / "prometheus").mkdir(exist_ok=True)
        self._service(f"prometheus{suffix}", [
            "prometheus", f"--config.file={folder / 'prometheus.yml'}", f"--storage.tsdb.path={folder / 'prometheus'}",
            f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"], port)
        url = f"http://127.0.0.1:{port}"
        self._wait_ready(url + "/-/ready")
        self.say(f"Prometheus at {url} ({intervals.name}: scrape {intervals.scrape}, evaluation "
                 f"{intervals.evaluation}); Alertmanager replicas at {', '.join(alertmanagers)} "
                 f"(group_wait {intervals.group_wait}, group_interval {intervals.group_interval})")
        return Pipeline(intervals, routing_key, url, alertmanagers)

    def exported_rules(self) -> str:
        """The addon's rules for Prometheus: exported by Odoo itself, or for the stand-in the same rule
        built from the same values."""
        if self.odoo is not None:
            return self.odoo.call("api.monitor.rule", "export_files")["api_monitor_rules.yml"]
        rule = RuleExport(name="High API error rate", kind="threshold", selection="critical",
                          endpoints=tuple(self.critical), **self.rule_values)
        return prometheus_rules([rule])

    def _service(self, name: str, cmd: list[str], port: int | None) -> Service:
        service = Service(name, cmd, self.workdir / f"{name}.log", port).start()
        self.services[name] = service
        self._exit.callback(lambda: self.services[name].stop())
        return service

    @staticmethod
    def _wait_ready(url: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        return
            time.sleep(0.2)
        raise TimeoutError(f"{url} not ready after {timeout}s")

    # -- steering, for the drills -------------------------------------------------------------------
    def break_model(self, model: str) -> None:
        self.odoo.break_model(model) if self.odoo is not None else self.standin.fail(model)

    def heal_model(self, model: str) -> None:
        self.odoo.heal_model(model) if self.odoo is not None else self.standin.heal(model)

    def stop_upstream(self) -> None:
        self.odoo.stop_server() if self.odoo is not None else self.standin.stop()

    def start_upstream(self) -> None:
        self.odoo.start_server() if self.odoo is not None else self.standin.start()

    def kill(self, name: str) -> None:
        self.services[name].stop(signal.SIGKILL)

    def restart(self, name: str) -> None:
        self.services[name].start()

    def cluster_peers(self, replica: int) -> int:
        """How many peers one Alertmanager replica sees in its gossip cluster (itself included)."""
        try:
            with urllib.request.urlopen(f"{self.alertmanagers[replica]}/api/v2/status", timeout=5) as response:
                cluster = json.load(response).get("cluster") or {}
        except OSError:
            return 0
        return len(cluster.get("peers") or []) if cluster.get("status") == "ready" else 0

    def wait_for_cluster(self, timeout: float = 60.0) -> bool:
        """Until both replicas see each other again (after one was restarted): notifications are deduplicated
        between replicas only through their gossip."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if all(self.cluster_peers(i) == 2 for i in (0, 1)):
                return True
            time.sleep(0.5)
        return False

    def query(self, expr: str) -> list[dict]:
        """An instant PromQL query against the stack's Prometheus."""
        url = f"{self.prometheus_url}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
        with urllib.request.urlopen(url, timeout=30) as response:
            body = json.load(response)
        if body.get("status") != "success":
            raise RuntimeError(f"query {expr!r} failed: {body}")
        return body["data"]["result"]

    def notifications_sent(self, replica: int) -> float:
        """How many PagerDuty notifications one Alertmanager replica has sent (its own counter)."""
        with urllib.request.urlopen(f"{self.alertmanagers[replica]}/metrics", timeout=10) as response:
            for line in response.read().decode().splitlines():
                if line.startswith('alertmanager_notifications_total{integration="pagerduty"}'):
                    return float(line.rsplit(" ", 1)[1])
        return 0.0


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="api_monitor_stack_"))
    critical = (endpoint_of("res.partner.category"),)
    with GatewayStack(workdir, critical=critical) as stack:
        print(f"\nThe stack is up (files and logs in {workdir}). Try:\n"
              f"  curl -si {stack.gateway_url}/web/health\n"
              f"  curl -s http://127.0.0.1:{stack.mtail_port}/metrics | grep gateway_http_requests_total\n"
              f"  open {stack.prometheus_url}/alerts and {stack.alertmanagers[0]}\n"
              f"  curl -s {stack.sandbox.url}/_state   (what PagerDuty and Slack received)\n"
              "Ctrl-C stops everything.", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
