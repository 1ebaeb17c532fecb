"""The addon's cost per request inside a real Odoo 18, counted in CPU instructions rather than timed.

Timings of a 2 ms request on a shared machine wobble by more than the 1% this benchmark has to resolve.
Instruction counts do not: ``odoo-bin shell`` runs under ``valgrind --tool=callgrind`` and serves the same
requests in phases, each counted on its own (``callgrind_control`` zeroes and dumps the counters around it;
what that costs the process itself is measured by empty phases and subtracted). Two processes, one
database each, as a real server has: a database without the addon (base, web, mail) and one with it. In
the second, phases alternate between

* ``installed, hooks off``: Odoo's own entry point and ``Request`` methods (``bench.inprocess.hooks``);
* ``installed``: the addon's WSGI wrapper and hooks (the recorder counts every request);

and what the counted requests leave for the flusher thread is counted too: folding their tallies into a
batch (charged to the requests it folded) and writing the batch (charged to the requests one flush covers at
the default flush interval, 5 s, and a modest 100 requests per second per process: 500 requests).

One process repeats its counts exactly, but two processes do not: where classes and names land in memory,
and so which attribute lookups miss CPython's method cache, differ with everything loaded before, and move
the same request by up to about 1% from process to process, in either direction (two databases that
differ by one module differ by that much even with the addon's hooks off; see ``bench.layout``). So the
pair of processes runs once per seed (``BENCH_SEEDS``): the seed is the hash seed (``PYTHONHASHSEED``) and
draws the memory layout (``bench.layout`` starts both processes), and the table gives each setup's mean
over the seeds with the seed-to-seed range:

* ``added in the same process``: installed minus hooks off, plus the fold and the flush share: what the
  addon's code costs a request, free of the process-to-process noise;
* ``installed vs not installed``: the mean over the seeds of the installed database's requests (fold and
  flush included) against the mean without the addon: the comparison the target is stated in, with its
  standard error from the seed-to-seed spread.

Instructions weigh every instruction alike, while Odoo's request code misses the caches far more than the
addon's few dictionary updates; so the table is printed twice: in instructions, and in callgrind's cycle
estimate from its cache and branch simulation (10 cycles an L1 or branch miss, 100 a last-level miss).

Only the Odoo process is counted: PostgreSQL's work and the HTTP server's are left out of the denominator,
so the share is an upper bound of the throughput a CPU-bound Odoo loses. Target: at most 1%.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench import callgrind
from bench.table import table
from tools.services import Odoo, Postgres

PER_PHASE = int(os.environ.get("BENCH_PER_PHASE", 100))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", 1))
SEEDS = [int(seed) for seed in os.environ.get("BENCH_SEEDS", "1,2,3,4,5,6").split(",")]
REQUESTS_PER_FLUSH = 500
LAYOUT = Path(__file__).with_name("layout.py")
DATABASES = {"bench_plain": "base,web,mail", "bench_monitored": "api_monitor"}

SHELL = r"""
import gc, json, os, subprocess
from odoo.addons.api_monitor.bench import inprocess as ip
from odoo.addons.api_monitor.instrumentation.runtime import RUNTIME

RUNTIME.autostart = False  # no flusher thread: folds and flushes are made explicitly, each counted on its own
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
for _ in range(3):  # what zeroing and dumping cost the process itself
    ctl("-z")
    phase(f"p{len(phases)}", case="", setup="empty")
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
                assert RUNTIME.recorder.drain() == __PER_PHASE__
                phase(f"p{len(phases)}", case=case, setup="fold")
                ctl("-z")
                RUNTIME.flush()
                phase(f"p{len(phases)}", case=case, setup="flush")
ip.hooks(True)
print("RESULT " + json.dumps(phases))
"""


def dumped_totals(folder: Path) -> dict[str, dict[str, int]]:
    """The event totals (Ir, cache and branch misses) of each dump, by the name it was dumped under."""
    return {name: totals for name, _, totals in callgrind.dumps(folder)}


def per_request(phases: list[dict], totals: dict[str, float]) -> dict[tuple[str, str], float]:
    """(case, setup) -> the lowest round's count per request, the empty phases' cost taken off; a fold is
    per request folded, a flush per flush."""
    empty = min(totals[p["name"]] for p in phases if p["setup"] == "empty")
    out: dict[tuple[str, str], float] = {}
    for p in phases:
        if p["setup"] == "empty":
            continue
        per = 1 if p["setup"] == "flush" else PER_PHASE
        value = (totals[p["name"]] - empty) / per
        key = (p["case"], p["setup"])
        out[key] = min(out.get(key, value), value)
    return out


def _mean_range(values: list[float], scale: float = 1000, unit: str = "k") -> str:
    return f"{statistics.mean(values) / scale:.1f}{unit} ({min(values) / scale:.1f}-{max(values) / scale:.1f})"


def _rows(by_seed: dict[int, dict[tuple[str, str], float]]) -> list[list[str]]:
    seeds = sorted(by_seed)
    cases = list(dict.fromkeys(case for counts in by_seed.values() for case, _ in counts))
    rows = []
    for case in cases:
        def values(setup: str) -> list[float]:
            return [by_seed[seed][(case, setup)] for seed in seeds]

        plain, off, on = values("not installed"), values("installed, hooks off"), values("installed")
        fold, flush = values("fold"), values("flush")
        installed = [n + f + w / REQUESTS_PER_FLUSH for n, f, w in zip(on, fold, flush)]
        base = statistics.mean(plain)
        same = [i - o for i, o in zip(installed, off)]
        vs = statistics.mean(installed) - base
        error = (statistics.stdev(installed) ** 2 / len(seeds) + statistics.stdev(plain) ** 2 / len(seeds)) ** 0.5 \
            if len(seeds) > 1 else 0.0
        rows += [
            [case, "not installed", _mean_range(plain), "", ""],
            [case, "installed, hooks off", _mean_range(off), f"{100 * (statistics.mean(off) - base) / base:+.2f}%", ""],
            [case, "installed (fold and flush included)", _mean_range(installed), "", ""],
            [case, "  of which the fold", _mean_range(fold, 1000), "", ""],
            [case, f"  of which the flush ({_mean_range(flush, 1e6, 'M')} per {REQUESTS_PER_FLUSH} requests)",
             _mean_range([w / REQUESTS_PER_FLUSH for w in flush]), "", ""],
            [case, "added in the same process (installed - hooks off)", _mean_range(same),
             f"{100 * statistics.mean(same) / base:+.2f}%", "met" if statistics.mean(same) <= 0.01 * base else "MISSED"],
            [case, "installed vs not installed", f"{vs / 1000:+.1f}k +/- {error / 1000:.1f}k",
             f"{100 * vs / base:+.2f}% +/- {100 * error / base:.2f}", "met" if vs <= 0.01 * base else "MISSED"],
        ]
    return rows


def _run(odoo: Odoo, pg: Postgres, db: str, seed: int, work: Path) -> tuple[list[dict], dict[str, dict[str, int]]]:
    dumps = work / f"{db}-{seed}"
    dumps.mkdir()
    cmd = odoo.command(pg, db)
    cmd = ["env", f"PYTHONHASHSEED={seed}", "valgrind", "--tool=callgrind", "--instr-atstart=no", "--cache-sim=yes",
           "--branch-sim=yes", f"--callgrind-out-file={dumps}/cg.%p",
           cmd[0], str(LAYOUT), str(seed), cmd[1], "shell", *cmd[2:], "--no-http", "--log-level=warn"]
    script = SHELL.replace("__DB__", db).replace("__PER_PHASE__", str(PER_PHASE)).replace("__ROUNDS__", str(ROUNDS))
    out = subprocess.run(cmd, input=script, capture_output=True, text=True, timeout=7200)
    found = [line[7:] for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if not found:
        raise RuntimeError(f"{db} (seed {seed}) gave no result:\n{out.stdout[-3000:]}\n{out.stderr[-5000:]}")
    return json.loads(found[0]), dumped_totals(dumps)


def main() -> int:
    odoo = Odoo()
    if not odoo.available:
        print(f"no Odoo at {odoo.path}: benchmark not run")
        return 0
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        print("valgrind is not installed (Debian package 'valgrind'): benchmark not run")
        return 0
    work = Path(tempfile.mkdtemp(prefix="api_monitor_instructions_"))
    runs: dict[tuple[str, int], tuple[list[dict], dict]] = {}
    try:
        with Postgres() as pg:
            for db, modules in DATABASES.items():
                odoo.install(pg, db, modules, work)
            # one process per database at a time, side by side: instruction counts do not depend on the load
            with ThreadPoolExecutor(max_workers=2) as pool:
                futures = {(db, seed): pool.submit(_run, odoo, pg, db, seed, work) for seed in SEEDS for db in DATABASES}
                runs = {key: future.result() for key, future in futures.items()}
    finally:
        odoo.cleanup()
        shutil.rmtree(work, ignore_errors=True)
    for measure, unit, of in (("instructions", "instructions", lambda e: e["Ir"]),
                              ("estimated cycles", "cycles", callgrind.estimated_cycles)):
        by_seed: dict[int, dict[tuple[str, str], float]] = {}
        for (db, seed), (phases, totals) in runs.items():
            by_seed.setdefault(seed, {}).update(per_request(phases, {n: of(e) for n, e in totals.items()}))
        print(f"CPU {measure} per request in Odoo 18 (callgrind{', cache and branch simulation' if unit == 'cycles' else ''}): "
              f"mean over {len(SEEDS)} seeds (hash seed and memory layout; lowest to highest seed), one process per "
              f"database and seed, {ROUNDS} rounds of {PER_PHASE} requests per phase")
        print(table(["request", "setup", f"{unit} per request", "of not installed", "target (<= 1%)"],
                    _rows(by_seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
