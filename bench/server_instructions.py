"""The addon's cost on the real Odoo 18 HTTP server, module installed against not installed, in CPU
instructions: the issue's wrk comparison without wrk's noise.

Two Odoo servers (``--workers 0``, Odoo's default threaded server, access log at Odoo's default level)
run under ``valgrind --tool=callgrind``: one on a database without the addon, one on a database with it.
This process sends them the same sequential HTTP requests over a keep-alive connection, in alternating
phases, and ``callgrind_control`` counts each phase.

Everything the Odoo process does is counted: the HTTP server (a thread per connection), Odoo, the access
log line, the addon's wrapper, hooks and recorder, and the threads that wake on a clock (Odoo's main loop,
the addon's flusher, which folds what was recorded every second and flushes every 5 s). valgrind slows the
server about a hundredfold, so a phase lasts a hundred times longer than it would, and those clock-driven
threads would be charged a hundred times their share. Each server is therefore also counted idle for
``IDLE_SECONDS``: what it does per second with no request is taken off each phase for the phase's
duration, and charged back at ``REQUESTS_PER_SECOND`` requests per second per process, a modest load (a
flush's writes, which only happen when there is something to flush, are not part of it: the flush
interval is set to 60 s here and the writes are counted by ``bench.dispatch_instructions``). PostgreSQL and
the client are other processes, not counted.

Two processes count the same request differently even with the same hash seed: where objects land in
memory and how dictionaries collide depend on everything loaded before, and move a request by up to about
1% either way (see ``bench.dispatch_instructions``). So the pair of servers runs once per hash seed
(``BENCH_SEEDS``, ``PYTHONHASHSEED``), and the table compares the means over the seeds, with the standard
error their spread gives.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.cases import CASES
from bench.dispatch_instructions import estimated_cycles
from bench.table import table
from tools.services import Odoo, Postgres, free_port, wait_for_port

PER_PHASE = int(os.environ.get("BENCH_PER_PHASE", 100))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 2))
SEEDS = [int(seed) for seed in os.environ.get("BENCH_SEEDS", "1,2,3").split(",")]
IDLE_SECONDS = 30
REQUESTS_PER_SECOND = 100
SETUPS = {"not installed": ("bench_plain", "base,web,mail"), "installed": ("bench_monitored", "api_monitor")}

class Client:
    """One client connection (reopened whenever Odoo closes it), logged in, sending JSON-RPC posts."""

    def __init__(self, port: int, db: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        self.cookie = ""
        body = {"jsonrpc": "2.0", "params": {"db": db, "login": "admin", "password": "admin"}}
        headers = self.post("/web/session/authenticate", body)
        self.cookie = re.search(r"session_id=([^;]+)", headers["Set-Cookie"]).group(1)

    def post(self, path: str, body: dict) -> dict:
        data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.cookie:
            headers["Cookie"] = f"session_id={self.cookie}"
        self.conn.request("POST", path, data, headers)
        response = self.conn.getresponse()
        answer = response.read()
        if response.status != 200 or b'"result"' not in answer:
            raise RuntimeError(f"{path}: {response.status} {answer[:300]!r}")
        return dict(response.getheaders())


def thread_totals(folder: Path) -> dict[str, dict[int, dict[str, int]]]:
    """{dump name: {thread number: event totals}} of the per-thread dumps in ``folder`` (summed per phase)."""
    out: dict[str, dict[int, dict[str, int]]] = {}
    for path in folder.iterdir():
        text = path.read_text(errors="replace")
        name = re.search(r"^desc: Trigger: .*?dump (\S+)", text, re.M)
        thread = re.search(r"^thread: (\d+)", text, re.M)
        events = re.search(r"^events: (.+)$", text, re.M)
        total = re.search(r"^(?:summary|totals): ([\d ]+)$", text, re.M)
        if name and thread and events and total:
            out.setdefault(name.group(1), {})[int(thread.group(1))] = dict(
                zip(events.group(1).split(), map(int, total.group(1).split())))
    return out


def ctl(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=600)


def measure(odoo: Odoo, pg: Postgres, seed: int, work: Path) -> tuple[list[dict], dict]:
    """Run the two servers with ``seed``, send the phases, return them with their per-thread totals."""
    servers, phases = {}, []
    try:
        for label, (db, _) in SETUPS.items():
            port = free_port()
            dumps = work / f"{db}-{seed}"
            dumps.mkdir()
            cmd = odoo.command(pg, db, f"--http-port={port}", "--workers=0", "--max-cron-threads=0")
            log = open(work / f"{db}-{seed}.log", "w")
            proc = subprocess.Popen(
                ["env", f"PYTHONHASHSEED={seed}", "valgrind", "--tool=callgrind", "--instr-atstart=no", "--cache-sim=yes",
                 "--branch-sim=yes", "--separate-threads=yes", f"--callgrind-out-file={dumps}/cg.%p", *cmd],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
            servers[label] = (proc, port, db, dumps)
        clients = {}
        for label, (proc, port, db, _) in servers.items():
            wait_for_port(port, timeout=900, proc=proc)
            clients[label] = Client(port, db)
            for path, body in CASES.values():
                for _ in range(20):  # warm-up
                    clients[label].post(path, body)
            ctl(proc.pid, "-i", "on")
        for label, (proc, *_) in servers.items():
            for _ in range(3):  # the lowest of three: a flush of the warm-up's counts may land in one
                ctl(proc.pid, "-z")
                started = time.monotonic()
                time.sleep(IDLE_SECONDS / 3)
                name = f"p{len(phases)}"
                ctl(proc.pid, "-d", name)
                phases.append({"name": name, "case": "", "setup": label, "idle": True,
                               "seconds": time.monotonic() - started})
        for case, (path, body) in CASES.items():
            for rnd in range(ROUNDS):
                order = list(servers) if rnd % 2 == 0 else list(reversed(servers))
                for label in order:
                    proc = servers[label][0]
                    ctl(proc.pid, "-z")
                    started = time.monotonic()
                    for _ in range(PER_PHASE):
                        clients[label].post(path, body)
                    seconds = time.monotonic() - started
                    name = f"p{len(phases)}"
                    ctl(proc.pid, "-d", name)
                    phases.append({"name": name, "case": case, "setup": label, "seconds": seconds})
        for proc, *_ in servers.values():
            os.killpg(proc.pid, 15)
            proc.wait(timeout=600)
        totals = {}
        for proc, _, _, dumps in servers.values():
            totals.update(thread_totals(dumps))
        return phases, totals
    finally:
        for proc, *_ in servers.values():
            if proc.poll() is None:
                os.killpg(proc.pid, 9)


def _phase_total(totals: dict, phase: dict, of) -> float:
    return sum(of(e) for e in totals[phase["name"]].values())


def idle_rate(phases: list[dict], totals: dict, of, setup: str) -> float:
    """What one server does per second with no request (its clock-driven threads)."""
    return min(_phase_total(totals, p, of) / p["seconds"] for p in phases if p.get("idle") and p["setup"] == setup)


def per_request(phases: list[dict], totals: dict, of, case: str, setup: str) -> float:
    """The lowest round's count per request: its idle work over the phase's (slowed) duration taken off,
    and charged back at ``REQUESTS_PER_SECOND``."""
    rate = idle_rate(phases, totals, of, setup)
    return min((_phase_total(totals, p, of) - rate * p["seconds"]) / PER_PHASE + rate / REQUESTS_PER_SECOND
               for p in phases if p["case"] == case and p["setup"] == setup and not p.get("idle"))


def main() -> int:
    odoo = Odoo()
    if not odoo.available:
        print(f"no Odoo at {odoo.path}: benchmark not run")
        return 0
    if not shutil.which("valgrind"):
        print("valgrind is not installed (Debian package 'valgrind'): benchmark not run")
        return 0
    work = Path(tempfile.mkdtemp(prefix="api_monitor_server_instructions_"))
    runs = {}
    try:
        with Postgres() as pg:
            for db, modules in SETUPS.values():
                odoo.install(pg, db, modules, work)
            pg.psql("INSERT INTO ir_config_parameter (key, value, create_date, write_date) "
                    "VALUES ('api_monitor.flush_interval', '60', now(), now())", "bench_monitored")
            for seed in SEEDS:
                runs[seed] = measure(odoo, pg, seed, work)
    finally:
        odoo.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    for unit, of in (("instructions", lambda e: e["Ir"]), ("estimated cycles", estimated_cycles)):
        rows = []
        for case in CASES:
            counts = {setup: [per_request(phases, totals, of, case, setup) for phases, totals in runs.values()]
                      for setup in SETUPS}
            base = statistics.mean(counts["not installed"])
            for setup, values in counts.items():
                rows.append([case, setup, " / ".join(f"{v / 1000:.1f}k" for v in values),
                             f"{statistics.mean(values) / 1000:.1f}k", "", "", ""])
            added = statistics.mean(counts["installed"]) - base
            error = (sum(statistics.stdev(v) ** 2 / len(v) for v in counts.values()) ** 0.5
                     if len(SEEDS) > 1 else 0.0)
            rows.append([case, "installed vs not installed", "", "", f"{added / 1000:+.1f}k +/- {error / 1000:.1f}k",
                         f"{100 * added / base:+.2f}% +/- {100 * error / base:.2f}",
                         "met" if added / base <= 0.01 else "MISSED"])
        idle = {setup: [statistics.mean(idle_rate(phases, totals, of, setup) for phases, totals in runs.values())]
                for setup in SETUPS}
        print(f"{unit.capitalize()} per request on the Odoo HTTP server (callgrind), hash seeds {SEEDS}, {ROUNDS} "
              f"rounds of {PER_PHASE} sequential requests per phase, the two servers alternating; idle work "
              f"charged at {REQUESTS_PER_SECOND} requests/s (idle: "
              + ", ".join(f"{setup} {v[0] / 1000:.0f}k/s" for setup, v in idle.items()) + ")")
        print(table(["request", "setup", f"{unit} per request (each seed)", "mean", "added (mean)",
                     "= throughput loss", "target (<= 1%)"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
