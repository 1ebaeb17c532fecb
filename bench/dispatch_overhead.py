"""The addon's cost per request inside a real Odoo 18, measured without the load generator's noise.

One Odoo process (``odoo-bin shell``) serves two databases that differ only by the addon: ``plain``
(base, web, mail) and ``monitored`` (the same plus api_monitor). Requests are built with werkzeug and
handed to Odoo's WSGI application directly, alternating between the two in blocks, so both run in the
same process, on the same warm caches, one after the other. ``plain`` goes through Odoo's original entry
point; ``monitored`` through the addon's wrapper, its routing hooks and its recorder. The difference of
the per-request times is what the addon adds; as a share of the request it is the throughput loss a
CPU-bound Odoo would see. Targets: at most 1% of throughput, at most 1 ms of latency.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.table import table
from tools.services import Odoo, Postgres

BLOCKS = int(os.environ.get("BENCH_BLOCKS", 40))
PER_BLOCK = 200

SHELL = r"""
import io, json, statistics, time
from odoo.addons.api_monitor.bench import inprocess as ip
from odoo.addons.api_monitor.bench.inprocess import CASES, app, original, instrumented, Application, serve

sids = {db: ip.session_for(db) for db in ("bench_plain", "bench_monitored")}

def environ(db, path, body):
    return ip.environ(sids[db], path, body)

out = {}
for case, (path, body) in CASES.items():
    envs = {db: environ(db, path, body) for db in sids}
    for db, entry in (("bench_plain", original), ("bench_monitored", instrumented)):
        for _ in range(300):  # warm-up
            assert serve(entry, envs[db]).startswith("200"), (db, case)
        check = dict(envs[db], **{"wsgi.input": io.BytesIO(envs[db]["api_monitor.body"])})
        answer = b"".join(entry(app, check, lambda s, h, e=None: None))
        assert b'"result"' in answer, (db, case, answer[:300])  # a real answer, not a JSON-RPC error
    times = {"bench_plain": [], "bench_monitored": []}
    for block in range(__BLOCKS__):
        order = [("bench_plain", original), ("bench_monitored", instrumented)]
        if block % 2:
            order.reverse()
        for db, entry in order:
            t0 = time.perf_counter()
            for _ in range(__PER_BLOCK__):
                serve(entry, envs[db])
            times[db].append((time.perf_counter() - t0) / __PER_BLOCK__ * 1e6)
    out[case] = times
# The same database with the addon's hooks switched on and off: "off" serves through Odoo's original
# entry point and Request methods (bench.inprocess.hooks), so the only difference between the two is the
# addon's own work, request for request, on the same data and caches.
hooks = ip.hooks

for case, (path, body) in CASES.items():
    env = environ("bench_monitored", path, body)
    same = {"on": [], "off": []}
    import gc
    for block in range(__BLOCKS__ * 10):
        for label in (("on", "off") if block % 2 == 0 else ("off", "on")):
            hooks(label == "on")
            entry = instrumented if label == "on" else original
            gc.collect()
            gc.disable()
            t0 = time.perf_counter()
            for _ in range(20):
                serve(entry, env)
            same[label].append((time.perf_counter() - t0) / 20 * 1e6)
            gc.enable()
    hooks(True)
    out[case]["same_db"] = same

# The addon's own work per request, timed in isolation: the WSGI wrapper around an application that does
# nothing but what the routing hooks do for a served request (mark the context as monitored), so the
# difference to that application alone is the wrapper, the classification and the recorder; the routing
# hook's own body is a few attribute writes.
from odoo.addons.api_monitor.core import context as monitor_context
from odoo.addons.api_monitor.instrumentation import wsgi as monitor_wsgi

def hooks_only(self, environ, start_response):
    ctx = monitor_context.current()
    if ctx is None:
        ctx = monitor_context.RequestContext("x" * 32)
    ctx.monitored, ctx.db, ctx.route, ctx.endpoint = True, "bench_monitored", "/x", "/x"
    start_response("200 OK", [("Content-Type", "application/json")])
    return [b"{}"]

env = environ("bench_monitored", "/x", {})
monitor_wsgi._original = hooks_only
try:
    samples = {"alone": [], "wrapped": []}
    for block in range(20):
        for label, entry in (("alone", hooks_only), ("wrapped", instrumented)):
            t0 = time.perf_counter()
            for _ in range(5000):
                entry(app, env, lambda s, h, e=None: None)
            samples[label].append((time.perf_counter() - t0) / 5000 * 1e6)
finally:
    monitor_wsgi._original = original
for case in CASES:
    out[case]["own"] = {"wrapped_us": statistics.median(samples["wrapped"]), "alone_us": statistics.median(samples["alone"])}

if __PROFILE__:
    import cProfile, pstats, io
    for case, (path, body) in CASES.items():
        env = environ("bench_monitored", path, body)
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [serve(instrumented, env) for _ in range(1000)])
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats("api_monitor", 30)
        print(case, text.getvalue())
print("RESULT " + json.dumps(out))
"""


def main() -> int:
    odoo = Odoo()
    if not odoo.available:
        print(f"no Odoo at {odoo.path}: benchmark not run")
        return 0
    work = Path(tempfile.mkdtemp(prefix="api_monitor_dispatch_"))
    try:
        with Postgres() as pg:
            for db, modules in (("bench_plain", "base,web,mail"), ("bench_monitored", "api_monitor")):
                odoo.install(pg, db, modules, work)
            cmd = [a if not a.startswith("--db-filter") else "--db-filter=^bench_(plain|monitored)$"
                   for a in odoo.command(pg, "bench_monitored")]
            cmd = cmd[:2] + ["shell"] + cmd[2:] + ["--no-http", "--log-level=warn"]
            script = (SHELL.replace("__BLOCKS__", str(BLOCKS)).replace("__PER_BLOCK__", str(PER_BLOCK))
                      .replace("__PROFILE__", str(bool(os.environ.get("BENCH_PROFILE")))))
            out = subprocess.run(cmd, input=script, capture_output=True, text=True, timeout=3600)
            found = [line[7:] for line in out.stdout.splitlines() if line.startswith("RESULT ")]
            if not found:
                print(out.stdout[-3000:], out.stderr[-5000:])
                return 1
            if os.environ.get("BENCH_PROFILE"):
                print(out.stdout)
            results = json.loads(found[0])
    finally:
        odoo.cleanup()
    rows, own_rows = [], []
    for case, times in results.items():
        plain, monitored = times["bench_plain"], times["bench_monitored"]
        request_us = sorted(plain)[len(plain) // 2]
        own = times["own"]["wrapped_us"] - times["own"]["alone_us"]
        own_rows.append([case, f"{request_us:.0f}", f"{own:.1f}", f"{100 * own / request_us:.2f}%",
                         "met" if own / request_us <= 0.01 and own <= 1000 else "MISSED"])
        diffs = sorted(m - p for p, m in zip(plain, monitored))
        median_plain = sorted(plain)[len(plain) // 2]
        added = diffs[len(diffs) // 2]
        low, high = diffs[int(len(diffs) * 0.1)], diffs[int(len(diffs) * 0.9)]
        share = 100 * added / median_plain
        rows.append([case, f"{median_plain:.0f}", f"{sorted(monitored)[len(monitored) // 2]:.0f}",
                     f"{added:+.1f} (p10 {low:+.1f}, p90 {high:+.1f})", f"{share:+.2f}%",
                     "met" if share <= 1.0 and added <= 1000 else "MISSED"])
    print(f"Per request inside one Odoo 18 process, {BLOCKS} alternating blocks of {PER_BLOCK} requests "
          "per database; plain = Odoo without the addon, monitored = with it")
    print(table(["request", "plain us", "monitored us", "added us per request (block pairs)",
                 "= throughput loss", "target (<= 1%, <= 1 ms)"], rows))
    print("The block-pair differences carry this machine's noise (see p10/p90). The addon's own work per request "
          "(WSGI wrapper, classification, recorder), timed in isolation, against the request without the addon:")
    print(table(["request", "request without addon us", "addon's own work us", "share = throughput loss",
                 "target (<= 1%, <= 1 ms)"], own_rows))
    same_rows = []
    for case, times in results.items():
        on, off = times["same_db"]["on"], times["same_db"]["off"]
        diffs = sorted(a - b for a, b in zip(on, off))
        added, base = diffs[len(diffs) // 2], sorted(off)[len(off) // 2]
        same_rows.append([case, f"{base:.0f}", f"{added:+.1f} (p10 {diffs[len(diffs) // 10]:+.1f}, "
                          f"p90 {diffs[len(diffs) * 9 // 10]:+.1f})", f"{100 * added / base:+.2f}%",
                          "met" if added / base <= 0.01 and added <= 1000 else "MISSED"])
    print(f"The same database, the addon's hooks on and off in {BLOCKS * 10} alternating pairs of 20-request blocks, "
          "garbage collection outside the timed blocks (off: Odoo's own entry point and Request methods):")
    print(table(["request", "hooks off us", "added us per request (block pairs)", "= throughput loss",
                 "target (<= 1%, <= 1 ms)"], same_rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
