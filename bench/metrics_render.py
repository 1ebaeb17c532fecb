"""/metrics render time with 2,000 endpoints (target: at most 200 ms).

Always: the exposition rendering alone (core, prometheus_client). With an Odoo at ODOO_PATH: the real
``GET /metrics`` over HTTP, database read included, after seeding the counter tables with 2,000 endpoints.
"""

from __future__ import annotations

import statistics
import time
import urllib.request
from pathlib import Path

from core.exposition import Snapshot, render
from core.recorder import LATENCY_BOUNDS
from tools.table import percentile, table

ENDPOINTS = 2000
ROUNDS = 20
TOKEN = "bench-metrics-token"


def snapshot() -> Snapshot:
    snap = Snapshot(flushes=10, last_flush_age=1.0)
    for i in range(ENDPOINTS):
        endpoint = f"/web/dataset/call_kw/model_{i}/read"
        snap.requests += [(endpoint, "POST", 200, "success", 1000 + i), (endpoint, "POST", 200, "server_error", i),
                          (endpoint, "POST", 200, "client_error", 3)]
        snap.latency.append((endpoint, [i % 7 + 1] * (len(LATENCY_BOUNDS) + 1), 12.5))
    return snap


def time_render() -> list[float]:
    snap = snapshot()
    times = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        body = render(snap)
        times.append((time.perf_counter() - t0) * 1000)
    time_render.size = len(body)
    return times


def time_http() -> tuple[list[float], int] | None:
    from tools.services import Odoo, Postgres

    odoo = Odoo()
    if not odoo.available:
        return None
    db = "bench_metrics"
    logs = Path(odoo.addons_root)
    try:
        with Postgres() as pg:
            odoo.install(pg, db, "api_monitor", logs)
            pg.psql(
                f"""INSERT INTO ir_config_parameter (key, value) VALUES ('api_monitor.metrics_token', '{TOKEN}');
                INSERT INTO api_monitor_counter (endpoint, method, code, outcome, value)
                  SELECT '/web/dataset/call_kw/model_' || i || '/read', 'POST', 200, o, 1000 + i
                  FROM generate_series(1, {ENDPOINTS}) i, unnest(ARRAY['success','server_error','client_error']) o;
                INSERT INTO api_monitor_latency (endpoint, counts, total)
                  SELECT '/web/dataset/call_kw/model_' || i || '/read', array_fill(3::bigint, ARRAY[{len(LATENCY_BOUNDS) + 1}]), 12.5
                  FROM generate_series(1, {ENDPOINTS}) i;""",
                db,
            )
            with odoo.server(pg, db, "--workers=2", "--max-cron-threads=0", log=logs / "s.log") as url:
                times = []
                for _ in range(ROUNDS + 2):
                    req = urllib.request.Request(url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
                    t0 = time.perf_counter()
                    with urllib.request.urlopen(req, timeout=30) as resp:
                        size = len(resp.read())
                    times.append((time.perf_counter() - t0) * 1000)
                return times[2:], size  # the first two warm each worker's registry
    finally:
        odoo.cleanup()


def main() -> None:
    rows = []
    render_ms = time_render()
    rows.append(["render only (core)", ENDPOINTS, time_render.size, statistics.median(render_ms),
                 percentile(render_ms, 0.95), max(render_ms), 200.0])
    http = time_http()
    if http is None:
        print("(no Odoo at ODOO_PATH: the HTTP round trip was not measured)")
    else:
        ms, size = http
        rows.append(["GET /metrics on Odoo 18 (DB read + render + HTTP)", ENDPOINTS, size, statistics.median(ms),
                     percentile(ms, 0.95), max(ms), 200.0])
    for row in rows:
        row.append("met" if row[3] <= 200.0 else "MISSED")
    print(f"/metrics with {ENDPOINTS} endpoints (3 outcome series and a 12-bucket histogram each), {ROUNDS} rounds")
    print(table(["what", "endpoints", "bytes", "median ms", "p95 ms", "max ms", "target ms", "target"], rows))


if __name__ == "__main__":
    main()
