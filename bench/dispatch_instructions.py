"""The addon's cost per request inside a real Odoo 18, counted in CPU instructions rather than timed.

Timings of a 2 ms request on a shared machine wobble by more than the 1% this benchmark has to resolve.
Instruction counts do not: one ``odoo-bin shell`` runs under ``valgrind --tool=callgrind`` and serves the
same requests in phases, each phase counted on its own (``callgrind_control`` zeroes and dumps the counters
around it):

* ``not installed``: a database without the addon (base, web, mail), through Odoo's own entry point;
* ``installed, hooks off``: the database with the addon, through Odoo's own entry point, the addon's
  ir.http methods replaced by pass-throughs;
* ``installed``: the same database through the addon's WSGI wrapper and hooks, plus one flush of the
  recorded counts to PostgreSQL at the end of the phase (so the flush is charged to these requests, far
  more often than the default flush interval would).

Only the Odoo process is counted: PostgreSQL's work and the HTTP server's are left out of the denominator,
so the share is an upper bound of the throughput a CPU-bound Odoo loses. Target: at most 1%.
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
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 2))

SHELL = r"""
import gc, json, os, subprocess
from odoo.addons.api_monitor.bench import inprocess as ip
from odoo.addons.api_monitor.instrumentation.runtime import RUNTIME

RUNTIME.autostart = False  # no flusher thread: the flush is made explicitly, inside the counted phase

def ctl(*args):
    subprocess.run(["callgrind_control", *args, str(os.getpid())], check=True, stdout=subprocess.DEVNULL)

sids = {db: ip.session_for(db) for db in ("bench_plain", "bench_monitored")}
phases = []
ctl("-i", "on")
for case, (path, body) in ip.CASES.items():
    setups = {
        "not installed": ("bench_plain", False),
        "installed, hooks off": ("bench_monitored", False),
        "installed": ("bench_monitored", True),
    }
    envs = {label: ip.environ(sids[db], path, body) for label, (db, _) in setups.items()}
    for label, (db, on) in setups.items():
        entry = ip.hooks(on)
        for _ in range(30):  # warm-up
            assert ip.serve(entry, envs[label]).startswith("200"), (label, case)
        assert b'"result"' in ip.answer(entry, envs[label]), (label, case)  # a real answer, not an error
        RUNTIME.flush()
    for rnd in range(__ROUNDS__):
        order = list(setups) if rnd % 2 == 0 else list(reversed(setups))
        for label in order:
            db, on = setups[label]
            entry = ip.hooks(on)
            gc.collect()
            ctl("-z")
            for _ in range(__PER_PHASE__):
                ip.serve(entry, envs[label])
            if on:
                RUNTIME.flush()
            name = f"phase{len(phases)}"
            ctl("-d", name)
            phases.append({"name": name, "case": case, "setup": label})
ip.hooks(True)
print("RESULT " + json.dumps(phases))
"""


def dumped_totals(folder: Path) -> dict[str, int]:
    """Instruction count of each dump, by the name it was dumped under."""
    totals = {}
    for path in folder.iterdir():
        text = path.read_text(errors="replace")
        name = re.search(r"^desc: Trigger: .*?dump (\S+)", text, re.M)
        total = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if name and total:
            totals[name.group(1)] = int(total.group(1))
    return totals


def main() -> int:
    odoo = Odoo()
    if not odoo.available:
        print(f"no Odoo at {odoo.path}: benchmark not run")
        return 0
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        print("valgrind is not installed (Debian package 'valgrind'): benchmark not run")
        return 0
    work = Path(tempfile.mkdtemp(prefix="api_monitor_instructions_"))
    dumps = work / "callgrind"
    dumps.mkdir()
    try:
        with Postgres() as pg:
            for db, modules in (("bench_plain", "base,web,mail"), ("bench_monitored", "api_monitor")):
                odoo.install(pg, db, modules, work)
            cmd = [a if not a.startswith("--db-filter") else "--db-filter=^bench_(plain|monitored)$"
                   for a in odoo.command(pg, "bench_monitored")]
            cmd = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={dumps}/cg.%p",
                   cmd[0], cmd[1], "shell", *cmd[2:], "--no-http", "--log-level=warn"]
            script = SHELL.replace("__PER_PHASE__", str(PER_PHASE)).replace("__ROUNDS__", str(ROUNDS))
            out = subprocess.run(cmd, input=script, capture_output=True, text=True, timeout=7200)
            found = [line[7:] for line in out.stdout.splitlines() if line.startswith("RESULT ")]
            if not found:
                print(out.stdout[-3000:], out.stderr[-5000:])
                return 1
            phases = json.loads(found[0])
            totals = dumped_totals(dumps)
    finally:
        odoo.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    per_request: dict[tuple[str, str], list[float]] = {}
    for phase in phases:
        per_request.setdefault((phase["case"], phase["setup"]), []).append(totals[phase["name"]] / PER_PHASE)
    rows = []
    for case in dict.fromkeys(p["case"] for p in phases):
        runs = {setup: per_request[(case, setup)] for setup in ("not installed", "installed, hooks off", "installed")}
        base = min(runs["not installed"])
        for setup, counts in runs.items():
            spread = 100 * (max(counts) - min(counts)) / min(counts)
            added = min(counts) - base
            rows.append([case, setup, " / ".join(f"{c / 1000:.1f}k" for c in counts), f"{spread:.2f}%",
                         f"{added / 1000:+.1f}k", f"{100 * added / base:+.2f}%",
                         "" if setup == "not installed" else ("met" if added / base <= 0.01 else "MISSED")])
    print(f"CPU instructions per request in one Odoo 18 process (callgrind), {ROUNDS} rounds of {PER_PHASE} "
          "requests per phase, phases alternating in order; 'installed' includes one flush per phase")
    print(table(["request", "setup", "instructions per request (each round)", "round-to-round",
                 "added vs not installed (lowest round)", "= throughput loss bound", "target (<= 1%)"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
