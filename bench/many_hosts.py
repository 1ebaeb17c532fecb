"""Many hosts on one database: 16 hosts x 8 workers = 128 flushers writing to one real PostgreSQL.

Each flusher is what an Odoo worker runs: the addon's own ``Recorder`` counting requests as they are served,
and its ``Flusher`` writing them with ``store.write`` (every 5 s, within a second after a server error) on a
connection of its own. A host is one process holding 8 of them (each on a thread and a connection of its
own), so the database sees 128 independent writers on their own schedules. Traffic spreads over 500 endpoints
with a long tail; 2% of the requests of one endpoint in ten fail. Two total rates are run, one after the other.

Reported: PostgreSQL's CPU (every server process of the cluster, from /proc) per 1,000 requests/s, flush
latency p50/p99 while the site runs (each flusher's first flush, which opens its connection, and the last
one, when all 128 stop in the same instant, apart), lock waits (sampled every 0.2 s from pg_locks), flush
errors, and that every request was counted exactly once. Targets: 0 flush errors, p99 under 1 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench
from tools.services import Odoo, Postgres
from tools.table import table

DB = "bench_many_hosts"
HOSTS = 16
WORKERS = 8
RATES = tuple(int(r) for r in os.environ.get("BENCH_RATES", "1000,4000").split(","))  # requests/s, all hosts
SECONDS = 60

HOST = r'''
import json, random, sys, threading, time
sys.path.insert(0, ODOO_SRC)
import odoo
from odoo.tools import config
config["db_host"], config["db_port"], config["db_user"], config["db_password"] = "127.0.0.1", PORT, USER, USER
config["addons_path"] = ADDONS
from odoo.modules.module import initialize_sys_path
initialize_sys_path()
from odoo.addons.api_monitor.core.recorder import Flusher, Recorder
from odoo.addons.api_monitor.core.settings import Settings
from odoo.addons.api_monitor.storage import store

rng = random.Random(HOST_ID)
names = ["/web/dataset/call_kw/model%d/read" % k for k in range(1, 501)]
weights = [1.0 / k ** 1.1 for k in range(1, 501)]
rate, start, end = RATE / (HOSTS * WORKERS), START, START + SECONDS
results = []

def worker(n):
    recorder, latencies, errors, final = Recorder(), [], [], []
    stopping = False
    sent = 0
    def write(db, batch):
        t0 = time.perf_counter()
        try:
            store.write(db, batch, Settings())
        finally:
            (final if stopping else latencies).append(time.perf_counter() - t0)
    flusher = Flusher(recorder, write, time.time)
    local = random.Random(HOST_ID * 100 + n)
    while time.time() < start:
        time.sleep(0.01)
    tick = start + local.random() * 0.1
    while tick < end:
        for _ in range(int(rate * 0.1 + local.random())):
            k = local.choices(range(500), weights)[0]
            failing = k % 10 == 3 and local.random() < 0.02
            recorder.record(DB, names[k], "POST", 500 if failing else 200, "server_error" if failing else "success",
                            local.uniform(0.01, 0.2), now=time.time(), request_id="%x" % local.getrandbits(48),
                            exception="builtins.ZeroDivisionError" if failing else "", trusted=True)
            sent += 1
        recorder.drain()
        failed = flusher.step()
        if failed:
            errors.extend(type(exc).__name__ + ": " + str(exc)[:120] for exc in failed.values())
        tick += 0.1
        time.sleep(max(0.0, tick - time.time()))
    stopping = True  # every flusher of every host stops at once, as a whole site that shuts down
    for exc in flusher.flush().values():
        errors.append(type(exc).__name__ + ": " + str(exc)[:120])
    results.append({"sent": sent, "latencies": latencies, "errors": errors, "final": final})

threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print("RESULT " + json.dumps(results))
'''

SAMPLER = r'''
import json, time, psycopg2
cnx = psycopg2.connect(host="127.0.0.1", port=PORT, user=USER, password=USER, dbname=DB)
cnx.autocommit = True
cr = cnx.cursor()
samples, waiting, most, kinds = 0, 0, 0, {}
while time.time() < START + SECONDS:
    if time.time() >= START:
        cr.execute("SELECT locktype, count(*) FROM pg_locks WHERE NOT granted GROUP BY locktype")
        found = dict(cr.fetchall())
        n = sum(found.values())
        samples, waiting, most = samples + 1, waiting + (n > 0), max(most, n)
        for kind, count in found.items():
            kinds[kind] = kinds.get(kind, 0) + count
    time.sleep(0.2)
print("RESULT " + json.dumps({"samples": samples, "waiting": waiting, "most": most, "kinds": kinds}))
'''


def cluster_cpu(pg: Postgres) -> float:
    """CPU seconds used so far by the cluster's postmaster and every process it started."""
    postmaster = int((pg.data / "postmaster.pid").read_text().split()[0])
    ticks = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            fields = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == postmaster or ppid == postmaster:
            ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def counted(pg: Postgres) -> int:
    return int(pg.psql("SELECT COALESCE(SUM(value), 0) FROM api_monitor_counter", DB) or 0)


def run(odoo: Odoo, pg: Postgres, rate: int) -> dict:
    start = time.time() + 15  # every host imports Odoo first
    values = {"ODOO_SRC": repr(str(odoo.path)), "PORT": str(pg.port), "USER": repr(pg.user), "ADDONS": repr(odoo.addons_path()), "DB": repr(DB),
              "RATE": str(rate), "HOSTS": str(HOSTS), "WORKERS": str(WORKERS), "START": repr(start),
              "SECONDS": str(SECONDS)}

    def script(text: str, **more: str) -> str:
        for key, value in {**values, **more}.items():
            text = text.replace(key, value)
        return text

    before_count = counted(pg)
    hosts = [subprocess.Popen([odoo.python, "-c", script(HOST, HOST_ID=str(h))], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for h in range(HOSTS)]
    sampler = subprocess.Popen([odoo.python, "-c", script(SAMPLER)], stdout=subprocess.PIPE, text=True)
    while time.time() < start:
        time.sleep(0.05)
    cpu0, t0 = cluster_cpu(pg), time.time()
    while time.time() < start + SECONDS:
        time.sleep(0.05)
    cpu, wall = cluster_cpu(pg) - cpu0, time.time() - t0
    workers = []
    for host in hosts:
        out, err = host.communicate(timeout=300)
        found = bench.results(out)
        if not found:
            raise RuntimeError(f"a host failed: {err[-2000:]}")
        workers += found[0]
    [locks] = bench.results(sampler.communicate(timeout=60)[0])
    # each flusher's first flush opens its connection: reported apart, the steady flushes are what a site sees
    first = sorted(w["latencies"][0] for w in workers if w["latencies"])
    latencies = sorted(x for w in workers for x in w["latencies"][1:])
    sent = sum(w["sent"] for w in workers)
    return {"rate": rate, "sent": sent, "counted": counted(pg) - before_count, "cpu": cpu, "wall": wall,
            "flushes": len(latencies), "p50": latencies[len(latencies) // 2],
            "p99": latencies[int(len(latencies) * 0.99)], "max": latencies[-1], "first_p50": first[len(first) // 2],
            "first_max": first[-1],
            "errors": [e for w in workers for e in w["errors"]], "locks": locks,
            "final_max": max((x for w in workers for x in w["final"]), default=0.0)}


def main() -> int:
    odoo = Odoo()
    if not odoo.available:
        print(f"no Odoo at {odoo.path}: benchmark not run")
        return 0
    work = Path(tempfile.mkdtemp(prefix="api_monitor_hosts_"))
    rows, errors, lock_kinds = [], [], []
    try:
        with Postgres() as pg:
            odoo.install(pg, DB, "api_monitor", work)
            # a site that has run before: its endpoints are known (a first flush of new names queues on their
            # admission, once)
            pg.psql("""INSERT INTO api_monitor_endpoint (name, critical, trusted, first_seen, last_seen)
                       SELECT '/web/dataset/call_kw/model' || k || '/read', false, true, now(), now()
                       FROM generate_series(1, 500) k""", DB)
            for rate in RATES:
                print(f"{HOSTS} hosts x {WORKERS} workers at {rate} requests/s for {SECONDS} s ...", file=sys.stderr,
                      flush=True)
                r = run(odoo, pg, rate)
                achieved = r["sent"] / SECONDS
                errors += r["errors"]
                lock_kinds.append((rate, r["locks"]["kinds"]))
                rows.append([f"{achieved:,.0f}", f"{r['counted']:,} of {r['sent']:,}", r["flushes"],
                             f"{1000 * r['p50']:.0f}", f"{1000 * r['p99']:.0f}", f"{1000 * r['max']:.0f}",
                             f"{1000 * r['first_p50']:.0f} / {1000 * r['first_max']:.0f}",
                             f"{1000 * r['final_max']:.0f}",
                             f"{100 * r['cpu'] / r['wall']:.0f}%", f"{100 * r['cpu'] / r['wall'] / (achieved / 1000):.0f}%",
                             f"{r['locks']['waiting']} of {r['locks']['samples']} (most {r['locks']['most']})",
                             len(r["errors"]),
                             "met" if not r["errors"] and r["p99"] < 1.0 and r["counted"] == r["sent"] else "MISSED"])
    finally:
        odoo.cleanup()
    print(f"{HOSTS} hosts x {WORKERS} workers = {HOSTS * WORKERS} flushers (the addon's Recorder and Flusher, store.write "
          f"on a connection each), one PostgreSQL 15, {SECONDS} s per rate, on this {os.cpu_count()}-core machine "
          "shared by the flushers and the database")
    print(table(["requests/s", "counted", "flushes", "flush p50 ms", "flush p99 ms", "flush max ms",
                 "first flush (connects) p50 / max ms", "all 128 stopping at once: slowest ms",
                 "PostgreSQL CPU (one core = 100%)", "PostgreSQL CPU per 1,000 req/s", "samples with lock waits",
                 "flush errors", "target (0 errors, p99 < 1 s)"], rows))
    print("lock waits by kind, summed over the samples: "
          + "; ".join(f"{rate} req/s: " + (", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "none")
                      for rate, kinds in lock_kinds))
    for error in sorted(set(errors))[:10]:
        print("flush error:", error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
