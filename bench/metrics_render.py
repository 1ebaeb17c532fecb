"""/metrics render time with 2,000 endpoints (target: at most 200 ms) and with 10,000 (at most 300 ms).

Always: the exposition rendering alone (core, prometheus_client). With an Odoo at ODOO_PATH: the real
``GET /metrics`` over HTTP, database read included, after seeding the counter tables with 2,000 endpoints,
then 10,000 (the endpoint cap raised to let them in: by default it stops at 2,000), whole and split over
four targets (``?shard=i&shards=4``).
"""

from __future__ import annotations

import statistics
import time
import urllib.request
from pathlib import Path

from core.exposition import Snapshot, render
from core.recorder import LATENCY_BOUNDS
from tools.table import percentile, table

LEVELS = ((2000, 200.0), (10000, 300.0))  # endpoints, target ms
ROUNDS = 20
SPLIT = 4
TOKEN = "bench-metrics-token"


def snapshot(endpoints: int) -> Snapshot:
    snap = Snapshot(flushes=10, last_flush_age=1.0)
    for i in range(endpoints):
        endpoint = f"/web/dataset/call_kw/model_{i}/read"
        snap.requests += [(endpoint, "POST", 200, "success", 1000 + i), (endpoint, "POST", 200, "server_error", i),
                          (endpoint, "POST", 200, "client_error", 3)]
        snap.latency.append((endpoint, [i % 7 + 1] * (len(LATENCY_BOUNDS) + 1), 12.5))
    return snap


def time_render(endpoints: int) -> tuple[list[float], int]:
    snap = snapshot(endpoints)
    times = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        body = render(snap)
        times.append((time.perf_counter() - t0) * 1000)
    return times, len(body)


def seed(pg, db: str, first: int, last: int) -> None:
    pg.psql(
        f"""INSERT INTO api_monitor_counter (endpoint, method, code, outcome, value)
              SELECT '/web/dataset/call_kw/model_' || i || '/read', 'POST', 200, o, 1000 + i
              FROM generate_series({first}, {last}) i, unnest(ARRAY['success','server_error','client_error']) o;
            INSERT INTO api_monitor_latency (endpoint, counts, total)
              SELECT '/web/dataset/call_kw/model_' || i || '/read', array_fill(3::bigint, ARRAY[{len(LATENCY_BOUNDS) + 1}]), 12.5
              FROM generate_series({first}, {last}) i;""",
        db,
    )


def time_http() -> dict[int, tuple[list[float], int]] | None:
    from tools.services import Odoo, Postgres

    odoo = Odoo()
    if not odoo.available:
        return None
    db = "bench_metrics"
    logs = Path(odoo.addons_root)
    try:
        with Postgres() as pg:
            odoo.install(pg, db, "api_monitor", logs)
            pg.psql(f"INSERT INTO ir_config_parameter (key, value) VALUES ('api_monitor.metrics_token', '{TOKEN}')", db)
            results, seeded = {}, 0
            with odoo.server(pg, db, "--workers=2", "--max-cron-threads=0", log=logs / "s.log") as url:
                for endpoints, _ in LEVELS:
                    seed(pg, db, seeded + 1, endpoints)
                    seeded = endpoints
                    times = []
                    for _ in range(ROUNDS + 2):
                        req = urllib.request.Request(url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
                        t0 = time.perf_counter()
                        with urllib.request.urlopen(req, timeout=30) as resp:
                            size = len(resp.read())
                        times.append((time.perf_counter() - t0) * 1000)
                    results[endpoints] = times[2:], size  # the first two warm each worker's registry
                # the largest split over 4 targets (?shard=i&shards=4): what each of them takes
                for part in range(SPLIT):
                    times = []
                    for _ in range(ROUNDS // 2):
                        req = urllib.request.Request(f"{url}/metrics?shard={part}&shards={SPLIT}",
                                                     headers={"Authorization": f"Bearer {TOKEN}"})
                        t0 = time.perf_counter()
                        with urllib.request.urlopen(req, timeout=30) as resp:
                            size = len(resp.read())
                        times.append((time.perf_counter() - t0) * 1000)
                    results[("split", part)] = times, size
            return results
    finally:
        odoo.cleanup()


def main() -> None:
    rows = []
    for endpoints, target in LEVELS:
        render_ms, size = time_render(endpoints)
        rows.append(["render only (core)", endpoints, size, statistics.median(render_ms),
                     percentile(render_ms, 0.95), max(render_ms), target])
    http = time_http()
    if http is None:
        print("(no Odoo at ODOO_PATH: the HTTP round trip was not measured)")
    else:
        for endpoints, target in LEVELS:
            ms, size = http[endpoints]
            rows.append(["GET /metrics on Odoo 18 (DB read + render + HTTP)", endpoints, size, statistics.median(ms),
                         percentile(ms, 0.95), max(ms), target])
        endpoints, target = LEVELS[-1]
        for part in range(SPLIT):
            ms, size = http[("split", part)]
            rows.append([f"GET /metrics?shard={part}&shards={SPLIT} (one of {SPLIT} targets)", endpoints, size,
                         statistics.median(ms), percentile(ms, 0.95), max(ms), target])
    for row in rows:
        row.append("met" if row[3] <= row[6] else "MISSED")
    print(f"/metrics (3 outcome series and a 12-bucket histogram per endpoint), {ROUNDS} rounds")
    print(table(["what", "endpoints", "bytes", "median ms", "p95 ms", "max ms", "target ms", "target"], rows))


if __name__ == "__main__":
    main()
