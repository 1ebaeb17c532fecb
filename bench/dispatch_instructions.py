"""The addon's cost per request inside a real Odoo 18, counted in CPU instructions rather than timed.

Timings of a 2 ms request on a shared machine wobble by more than the 1% this benchmark has to resolve.
Instruction counts do not: ``odoo-bin shell`` runs under ``valgrind --tool=callgrind`` and serves the same
requests in phases, each counted on its own (``callgrind_control`` zeroes and dumps the counters around it).
Two processes, one database each, as a real server has: a database without the addon (base, web, mail)
and one with it. In the second, phases alternate between

* ``installed, hooks off``: Odoo's own entry point, the addon's ir.http methods replaced by pass-throughs;
* ``installed``: the addon's WSGI wrapper and hooks (the recorder counts every request);

and the flush of what an ``installed`` phase recorded is counted as a phase of its own, then charged to the
requests one flush covers at the default flush interval (5 s) and a modest 100 requests per second per
process (500 requests): busier servers spread it thinner.

Instructions weigh every instruction alike, while Odoo's request code misses the caches far more than the
addon's few dictionary updates; so the table is printed twice: in instructions, and in callgrind's cycle
estimate from its cache and branch simulation (10 cycles an L1 or branch miss, 100 a last-level miss).

Only the Odoo process is counted: PostgreSQL's work and the HTTP server's are left out of the denominator,
so the share is an upper bound of the throughput a CPU-bound Odoo loses. Target: at most 1%.

Both processes run with ``PYTHONHASHSEED=0``: with random string hashing, the layout of dicts and sets
differs from process to process, and so do the instruction counts of the same requests, by up to about
half a percent; with the same seed they repeat.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.table import table
from tools.services import Odoo, Postgres

PER_PHASE = int(os.environ.get("BENCH_PER_PHASE", 100))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 3))
REQUESTS_PER_FLUSH = 500

SHELL = r"""
import gc, json, os, subprocess
from odoo.addons.api_monitor.bench import inprocess as ip
from odoo.addons.api_monitor.instrumentation.runtime import RUNTIME

RUNTIME.autostart = False  # no flusher thread: flushes are made explicitly and counted as their own phase
DB = "__DB__"

def ctl(*args):
    subprocess.run(["callgrind_control", *args, str(os.getpid())], check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)

sid = ip.session_for(DB)
setups = {"not installed": False} if DB == "bench_plain" else {"installed, hooks off": False, "installed": True}
phases = []

def phase(name, **info):
    ctl("-d", name)
    phases.append(dict(info, name=name))

ctl("-i", "on")
for case, (path, body) in ip.CASES.items():
    env = ip.environ(sid, path, body)
    for label, on in setups.items():
        entry = ip.hooks(on)
        for _ in range(30):  # warm-up
            assert ip.serve(entry, env).startswith("200"), (label, case)
        assert b'"result"' in ip.answer(entry, env), (label, case)  # a real answer, not an error
    RUNTIME.flush()
    for rnd in range(__ROUNDS__):
        for label in (list(setups) if rnd % 2 == 0 else list(reversed(setups))):
            entry = ip.hooks(setups[label])
            gc.collect()
            ctl("-z")
            for _ in range(__PER_PHASE__):
                ip.serve(entry, env)
            phase(f"p{len(phases)}", case=case, setup=label)
            if setups[label]:
                ctl("-z")
                RUNTIME.flush()
                phase(f"p{len(phases)}", case=case, setup="flush")
ip.hooks(True)
print("RESULT " + json.dumps(phases))
"""


def dumped_totals(folder: Path) -> dict[str, dict[str, int]]:
    """The event totals (Ir, cache and branch misses) of each dump, by the name it was dumped under."""
    totals = {}
    for path in folder.iterdir():
        text = path.read_text(errors="replace")
        name = re.search(r"^desc: Trigger: .*?dump (\S+)", text, re.M)
        events = re.search(r"^events: (.+)$", text, re.M)
        total = re.search(r"^(?:summary|totals): ([\d ]+)$", text, re.M)
        if name and events and total:
            totals[name.group(1)] = dict(zip(events.group(1).split(), map(int, total.group(1).split())))
    return totals


def estimated_cycles(e: dict[str, int]) -> float:
    """Callgrind's cycle estimate (as KCachegrind computes it): instructions, plus 10 per L1 or branch miss
    and 100 per last-level miss, so that code that misses the caches weighs what it costs."""
    get = e.get
    return (get("Ir", 0) + 10 * (get("I1mr", 0) + get("D1mr", 0) + get("D1mw", 0) + get("Bcm", 0) + get("Bim", 0))
            + 100 * (get("ILmr", 0) + get("DLmr", 0) + get("DLmw", 0)))


def _rows(phases: list[dict], totals: dict[str, float]) -> list[list[str]]:
    counts: dict[tuple[str, str], list[float]] = {}
    for phase in phases:
        per = PER_PHASE if phase["setup"] != "flush" else 1
        counts.setdefault((phase["case"], phase["setup"]), []).append(totals[phase["name"]] / per)
    rows = []
    for case in dict.fromkeys(p["case"] for p in phases):
        base = min(counts[(case, "not installed")])
        flush = min(counts[(case, "flush")])
        lines = [("not installed", counts[(case, "not installed")], 0.0),
                 ("installed, hooks off", counts[(case, "installed, hooks off")], 0.0),
                 ("installed", counts[(case, "installed")], 0.0),
                 (f"installed + flush per {REQUESTS_PER_FLUSH} requests", counts[(case, "installed")],
                  flush / REQUESTS_PER_FLUSH)]
        for setup, values, extra in lines:
            spread = 100 * (max(values) - min(values)) / min(values)
            added = min(values) + extra - base
            rows.append([case, setup, " / ".join(f"{(v + extra) / 1000:.1f}k" for v in values), f"{spread:.2f}%",
                         f"{added / 1000:+.1f}k", f"{100 * added / base:+.2f}%",
                         "" if setup == "not installed" else ("met" if added / base <= 0.01 else "MISSED")])
        rows.append([case, f"(one flush of {PER_PHASE} requests' counts)", f"{flush / 1000:.0f}k", "", "", "", ""])
    return rows


def main() -> int:
    odoo = Odoo()
    if not odoo.available:
        print(f"no Odoo at {odoo.path}: benchmark not run")
        return 0
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        print("valgrind is not installed (Debian package 'valgrind'): benchmark not run")
        return 0
    work = Path(tempfile.mkdtemp(prefix="api_monitor_instructions_"))
    phases, totals = [], {}
    try:
        with Postgres() as pg:
            for db, modules in (("bench_plain", "base,web,mail"), ("bench_monitored", "api_monitor")):
                odoo.install(pg, db, modules, work)
            for db in ("bench_plain", "bench_monitored"):
                dumps = work / db
                dumps.mkdir()
                cmd = odoo.command(pg, db)
                cmd = ["env", "PYTHONHASHSEED=0", "valgrind", "--tool=callgrind", "--instr-atstart=no", "--cache-sim=yes", "--branch-sim=yes",
                       f"--callgrind-out-file={dumps}/cg.%p",
                       cmd[0], cmd[1], "shell", *cmd[2:], "--no-http", "--log-level=warn"]
                script = (SHELL.replace("__DB__", db).replace("__PER_PHASE__", str(PER_PHASE))
                          .replace("__ROUNDS__", str(ROUNDS)))
                out = subprocess.run(cmd, input=script, capture_output=True, text=True, timeout=7200)
                found = [line[7:] for line in out.stdout.splitlines() if line.startswith("RESULT ")]
                if not found:
                    print(out.stdout[-3000:], out.stderr[-5000:])
                    return 1
                for item in json.loads(found[0]):
                    item["name"] = f"{db}/{item['name']}"
                    phases.append(item)
                totals.update({f"{db}/{name}": n for name, n in dumped_totals(dumps).items()})
    finally:
        odoo.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    for measure, unit, of in (("instructions", "instructions", lambda e: e["Ir"]),
                              ("estimated cycles", "cycles", estimated_cycles)):
        print(f"CPU {measure} per request in Odoo 18 (callgrind{', cache and branch simulation' if unit == 'cycles' else ''}), "
              f"one process per database, {ROUNDS} rounds of {PER_PHASE} requests per phase")
        print(table(["request", "setup", f"{unit} per request (each round)", "round-to-round",
                     "added vs not installed (lowest round)", "= throughput loss bound", "target (<= 1%)"],
                    _rows(phases, {name: of(e) for name, e in totals.items()})))
    return 0


if __name__ == "__main__":
    sys.exit(main())
