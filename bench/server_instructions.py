"""The addon's cost on the real Odoo 18 HTTP server, in CPU instructions: the issue's wrk comparison
without wrk's noise.

Two Odoo servers (``--workers 0``, Odoo's default threaded server, access log at Odoo's default level)
run under ``valgrind --tool=callgrind``: one on a database without the addon, one on a database with it,
started through ``bench.hooks_switch`` so that the addon's hooks can be switched off and on in the running
process. This process sends the same sequential HTTP requests (Odoo closes the connection after each, so
each is served by a new thread) in alternating phases: not installed, installed, installed with the hooks
off; ``callgrind_control`` counts each phase.

Everything the Odoo process does is counted: the HTTP server (its accept loop and a thread per connection),
Odoo, the access log line, the addon's wrapper, hooks and recorder, and the threads that wake on a clock
(Odoo's main loop, the addon's flusher, which folds what was recorded every second and flushes every minute
here). PostgreSQL and the client are other processes, not counted.

valgrind slows the server about a hundredfold, so a phase lasts a hundred times longer than it would, and
the work done per second of clock would be charged a hundred times its share. The threads are therefore
told apart by what they do while the server is idle (``IDLE_SECONDS``, three dumps):

- request threads do nothing while idle: everything they do in a phase is charged to its requests;
- Odoo's own clock threads (the main loop, the HTTP accept loop, thread numbers the server without the
  addon has too) are charged what they do in a phase beyond their idle rate (the accept loop's work per
  connection), plus their idle rate at ``REQUESTS_PER_SECOND`` requests per second, a modest load;
- the addon's flusher (the one clock thread only the server with the addon has) works per second of clock:
  its idle rate and what it does beyond it in a phase (folding the few requests of each slowed second, a
  flush when one lands in the phase) are both charged per second at ``REQUESTS_PER_SECOND``. At that
  pace each fold takes a second's requests at once; ``bench.dispatch_instructions`` counts that fold and
  the flush's writes per request in process.

Two processes count the same request differently even with the same hash seed: where classes and names land in
memory, and so which attribute lookups miss CPython's method cache, depend on everything loaded before (the
code of every module included), and move a request by up to about 1% either way (see ``bench.layout``). So the
pair of servers runs once per seed (``BENCH_SEEDS``): the seed is the hash seed (``PYTHONHASHSEED``) and draws
the memory layout (``bench.layout`` starts both servers), and the table gives means over the seeds with the
standard error of their spread; and the addon's own work is also measured within one process, hooks on against
hooks off ("added in the same process"), free of that spread. The flusher's idle wake-ups are in both of those
phases; its folds only in the first. ``BENCH_KEEP=1`` keeps the dumps.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.cases import CASES
from bench import callgrind
from bench.callgrind import estimated_cycles
from bench.table import table
from tools.services import Odoo, Postgres, free_port, wait_for_port

PER_PHASE = int(os.environ.get("BENCH_PER_PHASE", 100))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 2))
SEEDS = [int(seed) for seed in os.environ.get("BENCH_SEEDS", "1,2,3,4,5,6").split(",")]
IDLE_SECONDS = 30
REQUESTS_PER_SECOND = 100
SERVERS = {"not installed": ("bench_plain", "base,web,mail"), "installed": ("bench_monitored", "api_monitor")}
#: what each phase measures: the server without the addon, the one with it, and that one with its hooks off
SETUPS = ("not installed", "installed", "installed, hooks off")
SWITCH = Path(__file__).with_name("hooks_switch.py")
LAYOUT = Path(__file__).with_name("layout.py")

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
    for name, thread, totals in callgrind.dumps(folder):
        if thread is not None:
            out.setdefault(name, {})[thread] = totals
    return out


def ctl(pid: int, *args: str) -> None:
    subprocess.run(["callgrind_control", *args, str(pid)], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=600)


def switch_hooks(proc: subprocess.Popen, state: Path, on: bool) -> None:
    """Have ``bench.hooks_switch`` in the server switch the addon's hooks on or off, and wait until it did."""
    wanted = "on" if on else "off"
    if (state.read_text() if state.exists() else "on") == wanted:
        return
    os.kill(proc.pid, signal.SIGUSR2)
    deadline = time.monotonic() + 300
    while not (state.exists() and state.read_text() == wanted):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the server did not switch its hooks {wanted}")
        time.sleep(0.2)


def measure(odoo: Odoo, pg: Postgres, seed: int, work: Path) -> tuple[list[dict], dict]:
    """Run the two servers with ``seed``, send the phases, return them with their per-thread totals."""
    servers, phases = {}, []
    state = work / f"hooks-{seed}"
    try:
        for label, (db, _) in SERVERS.items():
            port = free_port()
            dumps = work / f"{db}-{seed}"
            dumps.mkdir()
            cmd = odoo.command(pg, db, f"--http-port={port}", "--workers=0", "--max-cron-threads=0")
            cmd[1:1] = [str(LAYOUT), str(seed), *([str(SWITCH), str(state)] if label == "installed" else [])]
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
                phases.append({"name": name, "case": "", "setup": label, "server": label, "idle": True,
                               "seconds": time.monotonic() - started})
        for case, (path, body) in CASES.items():
            for rnd in range(ROUNDS):
                for setup in (SETUPS if rnd % 2 == 0 else SETUPS[::-1]):
                    label = "not installed" if setup == "not installed" else "installed"
                    proc = servers[label][0]
                    if label == "installed":
                        switch_hooks(proc, state, setup == "installed")
                        for _ in range(5):  # the first requests after a switch specialise the code anew
                            clients[label].post(path, body)
                    ctl(proc.pid, "-z")
                    started = time.monotonic()
                    for _ in range(PER_PHASE):
                        clients[label].post(path, body)
                    seconds = time.monotonic() - started
                    name = f"p{len(phases)}"
                    ctl(proc.pid, "-d", name)
                    phases.append({"name": name, "case": case, "setup": setup, "server": label, "seconds": seconds})
        for proc, *_ in servers.values():
            os.killpg(proc.pid, 15)
            proc.wait(timeout=600)
        totals = {}
        for proc, _, _, dumps in servers.values():
            totals.update(thread_totals(dumps))
        (work / f"phases-{seed}.json").write_text(json.dumps(phases))
        return phases, totals
    finally:
        for proc, *_ in servers.values():
            if proc.poll() is None:
                os.killpg(proc.pid, 9)


def _sum(totals: dict, phase: dict, of, threads) -> float:
    return sum(of(events) for thread, events in totals[phase["name"]].items() if threads(thread))


def roles(phases: list[dict], totals: dict) -> dict[str, tuple[set[int], set[int]]]:
    """{server: (clock threads, the addon's flusher)} as told by the idle phases (see the module's text)."""
    clock = {server: {1} | {thread for p in phases if p.get("idle") and p["server"] == server
                            for thread, events in totals[p["name"]].items() if events["Ir"] > 0}
             for server in SERVERS}
    flusher = clock["installed"] - clock["not installed"]
    if len(flusher) != 1:
        raise RuntimeError(f"expected one clock thread more with the addon, found {sorted(flusher)} "
                           f"(clock threads: {clock})")
    return {"not installed": (clock["not installed"], set()), "installed": (clock["installed"], flusher)}


def idle_rate(phases: list[dict], totals: dict, of, server: str, threads) -> float:
    """What ``threads`` of one server do per second with no request."""
    return min(_sum(totals, p, of, threads) / p["seconds"] for p in phases if p.get("idle") and p["server"] == server)


def per_request(phases: list[dict], totals: dict, of, case: str, setup: str) -> dict[str, float]:
    """The lowest round's count per request, by role: {"request": request threads and Odoo's clock threads
    beyond their idle rate, "clock": the clock threads' idle work, "flusher": the flusher beyond its idle
    rate}, the last two charged per second at ``REQUESTS_PER_SECOND``."""
    mine = [p for p in phases if p["case"] == case and p["setup"] == setup and not p.get("idle")]
    server = mine[0]["server"]
    clock, flusher = roles(phases, totals)[server]
    odoo_rate = idle_rate(phases, totals, of, server, (clock - flusher).__contains__)
    flusher_rate = idle_rate(phases, totals, of, server, flusher.__contains__)
    rounds = []
    for p in mine:
        request = _sum(totals, p, of, lambda thread: thread not in flusher) - odoo_rate * p["seconds"]
        extra = _sum(totals, p, of, flusher.__contains__) - flusher_rate * p["seconds"]
        rounds.append({"request": request / PER_PHASE, "clock": (odoo_rate + flusher_rate) / REQUESTS_PER_SECOND,
                       "flusher": extra / p["seconds"] / REQUESTS_PER_SECOND})
    return min(rounds, key=lambda parts: sum(parts.values()))


def row(case: str, what: str, values: list[float], base: float, minus: list[float] | None = None) -> list:
    """A result row: the mean of ``values`` (less the mean of ``minus``), with the standard error of the seeds."""
    added = statistics.mean(values) - (statistics.mean(minus) if minus else 0.0)
    error = (sum(statistics.stdev(v) ** 2 / len(v) for v in ([values, minus] if minus else [values]))
             ** 0.5 if len(values) > 1 else 0.0)
    return [case, what, "", "", f"{added / 1000:+.1f}k +/- {error / 1000:.1f}k",
            f"{100 * added / base:+.2f}% +/- {100 * error / base:.2f}", "met" if added / base <= 0.01 else "MISSED"]


def report(runs: dict[int, tuple[list[dict], dict]]) -> str:
    """The tables, in instructions and in estimated cycles, of ``{seed: (phases, per-thread totals)}``."""
    out = []
    for unit, of in (("instructions", lambda e: e["Ir"]), ("estimated cycles", estimated_cycles)):
        rows = []
        for case in CASES:
            parts = {setup: [per_request(phases, totals, of, case, setup) for phases, totals in runs.values()]
                     for setup in SETUPS}
            counts = {setup: [sum(p.values()) for p in values] for setup, values in parts.items()}
            base = statistics.mean(counts["not installed"])
            for setup, values in counts.items():
                rows.append([case, setup, " / ".join(f"{v / 1000:.1f}k" for v in values),
                             f"{statistics.mean(values) / 1000:.1f}k", "", "", ""])
            flusher = [p["flusher"] + p["clock"] for p in parts["installed"]]
            flusher_idle = [p["clock"] for p in parts["not installed"]]
            rows.append([case, "  of which clock-driven (at 100 requests/s)",
                         " / ".join(f"{v / 1000:.1f}k" for v in flusher),
                         f"{statistics.mean(flusher) / 1000:.1f}k (not installed "
                         f"{statistics.mean(flusher_idle) / 1000:.1f}k)", "", "", ""])
            same = [on - off for on, off in zip(counts["installed"], counts["installed, hooks off"])]
            rows.append(row(case, "added in the same process (installed - hooks off)", same, base))
            rows.append(row(case, "installed vs not installed", counts["installed"], base, counts["not installed"]))
        out.append(f"{unit.capitalize()} per request on the Odoo HTTP server (callgrind), seeds {list(runs)} (hash seed "
                   f"and memory layout, bench.layout), {ROUNDS} rounds of {PER_PHASE} sequential requests per phase, "
                   "the two servers (and the addon's hooks) alternating; "
                   f"clock-driven work charged at {REQUESTS_PER_SECOND} requests/s")
        out.append(table(["request", "setup", f"{unit} per request (each seed)", "mean", "added (mean)",
                          "= throughput loss", "target (<= 1%)"], rows))
    return "\n".join(out)


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
            for db, modules in SERVERS.values():
                odoo.install(pg, db, modules, work)
            pg.psql("INSERT INTO ir_config_parameter (key, value, create_date, write_date) "
                    "VALUES ('api_monitor.flush_interval', '60', now(), now())", "bench_monitored")
            for seed in SEEDS:
                runs[seed] = measure(odoo, pg, seed, work)
    finally:
        odoo.cleanup()
        if os.environ.get("BENCH_KEEP"):
            print(f"callgrind dumps kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(report(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
