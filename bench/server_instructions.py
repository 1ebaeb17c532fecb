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
here). So is what PostgreSQL does for the same requests: the cluster runs under callgrind too
(``bench.pg_callgrind``), and each phase counts the backends of its server's database. The throughput of a
machine that runs both, as the wrk comparison's does, follows the two together; a PostgreSQL on a host of its
own leaves Odoo's share alone on the Odoo host, so both ratios are printed. The kernel's work (the TCP
connection of each request, the thread Odoo starts for it) is counted in neither: each ratio is an upper bound.

A flush is counted on its own, once per seed: the flusher's work beyond its idle rate and the database's,
charged per ``REQUESTS_PER_FLUSH`` requests (the default flush interval at ``REQUESTS_PER_SECOND``). A phase
of the installed server in which a flush landed (flushes come every ``FLUSH_INTERVAL`` seconds here), or
in which the server opened a database connection, is sent again.

valgrind slows the server about a hundredfold, so a phase lasts a hundred times longer than it would, and
the work done per second of clock would be charged a hundred times its share. The threads are therefore
told apart by what they do while the server is idle (``IDLE_SECONDS``, three dumps):

- request threads do nothing while idle: everything they do in a phase is charged to its requests;
- Odoo's own clock threads (the main loop, the HTTP accept loop, thread numbers the server without the
  addon has too) are charged what they do in a phase beyond their idle rate (the accept loop's work per
  connection), plus their idle rate at ``REQUESTS_PER_SECOND`` requests per second, a modest load;
- the addon's flusher (the one clock thread only the server with the addon has) works per second of clock:
  its idle rate and what it does beyond it in a phase (folding the few requests of each slowed second)
  are both charged per second at ``REQUESTS_PER_SECOND``. At that pace each fold takes a second's
  requests at once; ``bench.dispatch_instructions`` counts that fold per request in process.

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

import contextlib
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
from collections.abc import Iterator
from pathlib import Path

from bench import callgrind
from bench.cases import CASES
from bench.pg_callgrind import CountedPostgres
from bench.table import table
from core.settings import FLUSH_INTERVAL_RANGE, Settings
from tools.services import Odoo, Postgres, free_port, wait_for_port

#: requests per phase: a call_kw phase of 50 lasts about half the flush interval under valgrind
PER_PHASE = int(os.environ.get("BENCH_PER_PHASE", 50))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 2))
SEEDS = [int(seed) for seed in os.environ.get("BENCH_SEEDS", "1,2,3,4,5,6").split(",")]
IDLE_SECONDS = 30
REQUESTS_PER_SECOND = 100
#: requests one flush covers at the default flush interval and ``REQUESTS_PER_SECOND``
REQUESTS_PER_FLUSH = REQUESTS_PER_SECOND * Settings().flush_interval
#: the servers' flush interval here, the longest the settings take, so that flushes mostly stay out of the phases
#: (one is counted on its own)
FLUSH_INTERVAL = FLUSH_INTERVAL_RANGE[1]
#: how often a phase is sent before the benchmark gives up on it (see ``measure`` and ``measure_flush``)
PHASE_TRIES = 6
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


def flushes(pg: Postgres, db: str) -> int:
    """How many flushes ``db`` has recorded (every process's)."""
    return int(float(pg.psql("SELECT coalesce(max(value), 0) FROM api_monitor_stat WHERE name = 'flushes'", db)))


@contextlib.contextmanager
def counted_phase(proc: subprocess.Popen, counted: CountedPostgres, db: str, name: str) -> Iterator[dict]:
    """Count what the block has the server ``proc`` and its database ``db`` do, as the dump ``name``; the dict
    it yields is filled at the end with the phase's ``name``, ``seconds``, the database's event totals
    (``postgres``) and whether the same backends served it throughout (``stable``)."""
    phase: dict = {"name": name}
    with counted.phase(db) as database:
        ctl(proc.pid, "-z")
        started = time.monotonic()
        yield phase
        phase["seconds"] = time.monotonic() - started
        ctl(proc.pid, "-d", name)
    phase.update(postgres=database["totals"], stable=database["stable"])


def measure(odoo: Odoo, pg: Postgres, counted: CountedPostgres, seed: int, work: Path) -> tuple[list[dict], dict]:
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
                    proc, _, db, _ = servers[label]
                    if label == "installed":
                        switch_hooks(proc, state, setup == "installed")
                        for _ in range(5):  # the first requests after a switch specialise the code anew
                            clients[label].post(path, body)
                    for _ in range(PHASE_TRIES):
                        flushed = flushes(pg, db) if label == "installed" else 0
                        with counted_phase(proc, counted, db, f"p{len(phases)}") as phase:
                            for _ in range(PER_PHASE):
                                clients[label].post(path, body)
                        stable = phase.pop("stable")
                        phases.append({"case": case, "setup": setup, "server": label, **phase})
                        # a flush is counted on its own (measure_flush), and a backend that started in the phase
                        # would be counted from its start or not at all: such a phase is sent again
                        if stable and (label != "installed" or flushes(pg, db) == flushed):
                            break
                        phases[-1]["setup"] = "disturbed"
                    else:
                        raise RuntimeError(f"{case}, {setup}: a flush or a new connection in each of {PHASE_TRIES} tries")
        phases.append(measure_flush(servers["installed"], clients["installed"], pg, counted, state, len(phases),
                                    work / f"{SERVERS['installed'][0]}-{seed}.log"))
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


def measure_flush(server: tuple, client: Client, pg: Postgres, counted: CountedPostgres, state: Path,
                  number: int, log: Path) -> dict:
    """One flush of the installed server, counted on its own in both processes: the flusher's work and the
    database's. The requests it writes are one of each case's, sent before it; if the flush lands before the
    counting starts, they are sent again."""
    proc, _, db, _ = server
    switch_hooks(proc, state, True)
    for attempt in range(PHASE_TRIES):
        before = flushes(pg, db)
        for path, body in CASES.values():
            client.post(path, body)
        started = time.monotonic()
        with counted_phase(proc, counted, db, f"p{number}f{attempt}") as phase:
            early = flushes(pg, db) != before
            while not early and flushes(pg, db) == before:
                if time.monotonic() - started > 20 * FLUSH_INTERVAL:
                    warnings = [line for line in log.read_text(errors="replace").splitlines()
                                if " WARNING " in line or " ERROR " in line]
                    raise TimeoutError(f"no flush within {20 * FLUSH_INTERVAL}s; the server's last warnings: "
                                       + "\n".join(warnings[-5:]))
                time.sleep(2)
        if early:
            continue
        if not phase.pop("stable"):
            raise RuntimeError("the flush was written on a connection opened meanwhile: its database work is unknown")
        return {"case": "", "setup": "flush", "server": "installed", **phase}
    raise RuntimeError(f"the flush landed before its counting began in each of {PHASE_TRIES} tries")


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
    rate}, the last two charged per second at ``REQUESTS_PER_SECOND``; "postgres": the database's work for
    the same requests."""
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
                       "flusher": extra / p["seconds"] / REQUESTS_PER_SECOND, "postgres": of(p["postgres"]) / PER_PHASE})
    return min(rounds, key=lambda parts: sum(parts.values()))


def flush_share(phases: list[dict], totals: dict, of) -> dict[str, float]:
    """One flush (the flusher's work beyond its idle rate, and the database's), per request it covers at the
    default flush interval and ``REQUESTS_PER_SECOND``."""
    p = next(p for p in phases if p["setup"] == "flush")
    _, flusher = roles(phases, totals)["installed"]
    flusher_rate = idle_rate(phases, totals, of, "installed", flusher.__contains__)
    odoo = _sum(totals, p, of, flusher.__contains__) - flusher_rate * p["seconds"]
    return {"odoo": odoo / REQUESTS_PER_FLUSH, "postgres": of(p["postgres"]) / REQUESTS_PER_FLUSH}


def row(case: str, what: str, values: list[float], base: float, minus: list[float] | None = None) -> list:
    """A result row: the mean of ``values`` (less the mean of ``minus``), with the standard error of the seeds."""
    added = statistics.mean(values) - (statistics.mean(minus) if minus else 0.0)
    error = (sum(statistics.stdev(v) ** 2 / len(v) for v in ([values, minus] if minus else [values]))
             ** 0.5 if len(values) > 1 else 0.0)
    return [case, what, "", "", f"{added / 1000:+.1f}k +/- {error / 1000:.1f}k",
            f"{100 * added / base:+.2f}% +/- {100 * error / base:.2f}", "met" if added / base <= 0.01 else "MISSED"]


def _each(values: list[float]) -> str:
    return " / ".join(f"{v / 1000:.1f}k" for v in values)


def report(runs: dict[int, tuple[list[dict], dict]]) -> str:
    """The tables, in instructions and in estimated cycles, of ``{seed: (phases, per-thread totals)}``."""
    out = []
    for unit, of in (("instructions", lambda e: e["Ir"]), ("estimated cycles", callgrind.estimated_cycles)):
        rows = []
        flush = [flush_share(phases, totals, of) for phases, totals in runs.values()]
        for case in CASES:
            parts = {setup: [per_request(phases, totals, of, case, setup) for phases, totals in runs.values()]
                     for setup in SETUPS}
            odoo = {setup: [p["request"] + p["clock"] + p["flusher"] for p in values] for setup, values in parts.items()}
            odoo["installed"] = [n + f["odoo"] for n, f in zip(odoo["installed"], flush)]
            database = {setup: [p["postgres"] for p in values] for setup, values in parts.items()}
            database["installed"] = [n + f["postgres"] for n, f in zip(database["installed"], flush)]
            both = {setup: [a + b for a, b in zip(odoo[setup], database[setup])] for setup in SETUPS}
            base, base_both = statistics.mean(odoo["not installed"]), statistics.mean(both["not installed"])
            for setup in SETUPS:
                rows.append([case, f"{setup}: Odoo / PostgreSQL", f"{_each(odoo[setup])} / {_each(database[setup])}",
                             f"{statistics.mean(odoo[setup]) / 1000:.1f}k / {statistics.mean(database[setup]) / 1000:.1f}k",
                             "", "", ""])
            clock = [p["flusher"] + p["clock"] for p in parts["installed"]]
            rows.append([case, "  installed: of which clock-driven (at 100 requests/s)", _each(clock),
                         f"{statistics.mean(clock) / 1000:.1f}k (not installed "
                         f"{statistics.mean(p['clock'] for p in parts['not installed']) / 1000:.1f}k)", "", "", ""])
            rows.append([case, f"  installed: of which a flush, per {REQUESTS_PER_FLUSH} requests: Odoo / PostgreSQL",
                         f"{_each([f['odoo'] for f in flush])} / {_each([f['postgres'] for f in flush])}", "", "", "",
                         ""])
            same = [on - off for on, off in zip(odoo["installed"], odoo["installed, hooks off"])]
            rows.append(row(case, "Odoo: added in the same process (installed - hooks off)", same, base))
            rows.append(row(case, "Odoo: installed vs not installed", odoo["installed"], base, odoo["not installed"]))
            rows.append(row(case, "Odoo + PostgreSQL: installed vs not installed", both["installed"], base_both,
                            both["not installed"]))
        out.append(f"{unit.capitalize()} per request on the Odoo HTTP server and its PostgreSQL (callgrind), seeds "
                   f"{list(runs)} (hash seed and memory layout, bench.layout), {ROUNDS} rounds of {PER_PHASE} sequential "
                   "requests per phase, the two servers (and the addon's hooks) alternating; clock-driven work charged "
                   f"at {REQUESTS_PER_SECOND} requests/s, a flush per {REQUESTS_PER_FLUSH} requests")
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
                    f"VALUES ('api_monitor.flush_interval', '{FLUSH_INTERVAL}', now(), now())", "bench_monitored")
            with CountedPostgres(pg, pg.root / "callgrind", "--cache-sim=yes", "--branch-sim=yes") as counted:
                for seed in SEEDS:
                    runs[seed] = measure(odoo, pg, counted, seed, work)
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
