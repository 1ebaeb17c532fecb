"""Bytes on disk: 30 days of 500 endpoints with realistic traffic, kept the way the addon keeps them.

Traffic follows a long tail (endpoint k serves about 600 / k^1.2 requests a minute, so the busiest takes 600 a
minute and the quietest one every few minutes) and a day's rhythm (nights at 30%); an endpoint stores nothing
for a minute without requests. Day after day, the flush's rows are written (minute buckets and their hourly
sums), the daily cron compacts what is older than the minute retention (``store.prune``), and autovacuum's
work is done (``VACUUM``), as on a live database. Then the tables are measured, indexes included, against
the same 30 days kept as minute rows (the layout before compaction). Target: at most 40 bytes per
endpoint-minute.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import bench
from tools.services import Odoo, Postgres
from tools.table import table

DB = "bench_storage"
ENDPOINTS = 500
DAYS = 30
TARGET = 40

SHELL = r'''
import json, time
from odoo.addons.api_monitor.storage import store
from odoo.addons.api_monitor.core.settings import Settings
DAYS, ENDPOINTS = __DAYS__, __ENDPOINTS__
settings = Settings()
minute_days = settings.retention_days
cr = env.cr
start = (int(time.time()) // 86400 - DAYS) * 86400
cr.execute("""CREATE TEMP TABLE rates AS SELECT k, 600.0 / power(k, 1.2) AS rate FROM generate_series(1, %s) k""",
           [ENDPOINTS])
compaction = []
for day in range(DAYS):
    day_start = start + day * 86400
    # one day of minute buckets (no row for a minute without requests), and their hourly sums, as flushes write them
    cr.execute("""
        CREATE TEMP TABLE day AS
        SELECT to_timestamp(%s + 60 * m) AT TIME ZONE 'UTC' AS start, '/web/dataset/call_kw/model' || k || '/read' AS endpoint,
               floor(rate * (0.3 + 0.7 * sin(pi() * (m %% 1440) / 1440.0) ^ 2) * (0.8 + 0.4 * random()) + random())::int AS requests,
               0 AS server_errors
        FROM rates, generate_series(0, 1439) m;
        DELETE FROM day WHERE requests = 0;
        UPDATE day SET server_errors = ceil(requests * 0.05) WHERE random() < 0.01;
        INSERT INTO api_monitor_bucket (start, endpoint, requests, server_errors, client_errors, duration_sum)
          SELECT start, endpoint, requests, server_errors, 0, requests * 0.05 FROM day;
        INSERT INTO api_monitor_bucket_hour (start, endpoint, requests, server_errors)
          SELECT date_trunc('hour', start), endpoint, SUM(requests), SUM(server_errors) FROM day GROUP BY 1, 2;
        DROP TABLE day;""", [day_start])
    cr.commit()
    t0 = time.perf_counter()
    moved, _ = store.prune(cr, settings, now=day_start + 86400)
    cr.commit()
    compaction.append((moved, time.perf_counter() - t0))
    cr._cnx.autocommit = True
    cr.execute("VACUUM api_monitor_bucket, api_monitor_bucket_hour")
    cr._cnx.autocommit = False
cr.execute("""SELECT pg_total_relation_size('api_monitor_bucket'), pg_total_relation_size('api_monitor_bucket_hour'),
                     (SELECT count(*) FROM api_monitor_bucket), (SELECT count(*) FROM api_monitor_bucket_hour),
                     (SELECT count(*) FROM api_monitor_bucket_hour WHERE minute_server_errors IS NOT NULL)""")
minute_bytes, hour_bytes, minute_rows, hour_rows, error_hours = cr.fetchone()
cr.execute("SELECT SUM(array_length(minute_requests, 1) - array_length(array_remove(minute_requests, 0), 1)), "
           "SUM(array_length(minute_requests, 1)) FROM api_monitor_bucket_hour")
idle, cells = cr.fetchone()
# the same days as minute rows only, the layout before compaction: every compacted minute with traffic again a row
cr.execute("""CREATE TABLE before_compaction AS SELECT * FROM api_monitor_bucket WITH NO DATA;
              INSERT INTO before_compaction (id, start, endpoint, requests, server_errors, client_errors, duration_sum)
                SELECT nextval('api_monitor_bucket_id_seq'), h.start + (m.i - 1) * interval '1 minute', h.endpoint,
                       m.r, COALESCE(m.e, 0), 0, 0
                FROM api_monitor_bucket_hour h, unnest(h.minute_requests, h.minute_server_errors) WITH ORDINALITY m(r, e, i)
                WHERE m.r > 0
              UNION ALL SELECT id, start, endpoint, requests, server_errors, client_errors, duration_sum FROM api_monitor_bucket;
              ALTER TABLE before_compaction ADD PRIMARY KEY (id);
              CREATE UNIQUE INDEX ON before_compaction (start, endpoint);""")
cr.execute("SELECT pg_total_relation_size('before_compaction'), (SELECT count(*) FROM before_compaction)")
before_bytes, before_rows = cr.fetchone()
print("RESULT " + json.dumps({
    "minute_days": minute_days, "minute_bytes": minute_bytes, "hour_bytes": hour_bytes, "minute_rows": minute_rows,
    "hour_rows": hour_rows, "error_hours": error_hours, "idle_cells": int(idle or 0), "cells": int(cells or 0),
    "before_bytes": before_bytes, "before_rows": before_rows,
    "compaction_s": max(s for _, s in compaction[minute_days:]), "compacted_per_day": compaction[-1][0]}))
'''


def main() -> int:
    odoo = Odoo()
    if not odoo.available:
        print(f"no Odoo at {odoo.path}: benchmark not run")
        return 0
    work = Path(tempfile.mkdtemp(prefix="api_monitor_storage_"))
    try:
        with Postgres() as pg:
            odoo.install(pg, DB, "api_monitor", work)
            print(f"writing {DAYS} days of {ENDPOINTS} endpoints, compacting daily ...", file=sys.stderr, flush=True)
            out = odoo.shell(pg, DB, SHELL.replace("__DAYS__", str(DAYS)).replace("__ENDPOINTS__", str(ENDPOINTS)),
                             timeout=3600)
            results = bench.results(out.stdout)
            if len(results) != 1:
                print(out.stdout[-3000:], out.stderr[-3000:])
                return 1
    finally:
        odoo.cleanup()
    r = results[0]
    endpoint_minutes = ENDPOINTS * DAYS * 1440
    total = r["minute_bytes"] + r["hour_bytes"]
    print(f"{DAYS} days of {ENDPOINTS} endpoints ({endpoint_minutes:,} endpoint-minutes; "
          f"{r['before_rows']:,} of them with requests), PostgreSQL 15, sizes with indexes after VACUUM")
    print(table(
        ["layout", "rows", "MiB", "bytes per endpoint-minute", "bytes per minute with requests", f"target (<= {TARGET})"],
        [["minute rows only (before)", f"{r['before_rows']:,}", f"{r['before_bytes'] / 2**20:.0f}",
          f"{r['before_bytes'] / endpoint_minutes:.1f}", f"{r['before_bytes'] / r['before_rows']:.0f}",
          "met" if r["before_bytes"] / endpoint_minutes <= TARGET else "MISSED"],
         [f"{r['minute_days']} days of minute rows + compacted hours", f"{r['minute_rows'] + r['hour_rows']:,}",
          f"{total / 2**20:.0f}", f"{total / endpoint_minutes:.1f}", f"{total / r['before_rows']:.0f}",
          "met" if total / endpoint_minutes <= TARGET else "MISSED"],
         ["  of which minute rows", f"{r['minute_rows']:,}", f"{r['minute_bytes'] / 2**20:.0f}", "", "", ""],
         ["  of which hourly rows", f"{r['hour_rows']:,}", f"{r['hour_bytes'] / 2**20:.0f}", "", "", ""]]))
    print(f"hourly rows with a server-error array: {r['error_hours']:,} of {r['hour_rows']:,}; minutes without "
          f"requests in the compacted arrays: {100 * r['idle_cells'] / max(r['cells'], 1):.0f}%; the daily "
          f"compaction moved {r['compacted_per_day']:,} minute buckets in at most {r['compaction_s']:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
