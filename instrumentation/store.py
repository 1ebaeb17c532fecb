"""Where the counts live: PostgreSQL, the one place every worker and host shares.

A batch is written in one transaction on a cursor of its own (never the request's, which a failing request
rolls back): cumulative counters and latency histograms for ``/metrics``, one-minute time buckets for the
alert rules, server-error samples, and the addon's own statistics. Every write is an additive upsert, so
any number of processes can flush concurrently without losing or double-counting a request.
"""

from __future__ import annotations

import datetime
import time

import odoo.sql_db
from psycopg2.extras import execute_values

from ..core import settings as settings_mod
from ..core.endpoints import OTHER, UNMATCHED
from ..core.exposition import Snapshot
from ..core.recorder import LATENCY_BOUNDS, Batch
from ..core.rules import HOUR
from ..core.settings import Settings

#: Server-error samples kept per endpoint; older ones are deleted as new ones arrive.
FAILURES_KEPT_PER_ENDPOINT = 20
#: How long a flush waits for a lock (a table an upgrade holds, say) before it gives up and keeps its counts
#: for the next try. The fold of new requests runs on the flusher's thread, so a flush that waited for as
#: long as the lock is held would keep every request since in memory until then.
FLUSH_LOCK_TIMEOUT_MS = 2000
#: pg_advisory_xact_lock key serialising the admission of new endpoint names (cap on distinct names).
_ADMISSION_LOCK = 0x6170695F6D6F6E  # "api_mon"

#: Tables outside the ORM: counters need bigint and the histogram an array, neither of which Odoo fields
#: offer. Created by the ``api.monitor.store`` model's ``init`` and dropped by the uninstall hook.
RAW_TABLES = {
    "api_monitor_counter": """
        CREATE TABLE IF NOT EXISTS api_monitor_counter (
            endpoint varchar NOT NULL,
            method varchar NOT NULL,
            code integer NOT NULL,
            outcome varchar NOT NULL,
            value bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (endpoint, method, code, outcome)
        )""",
    "api_monitor_latency": """
        CREATE TABLE IF NOT EXISTS api_monitor_latency (
            endpoint varchar PRIMARY KEY,
            counts bigint[] NOT NULL,
            total double precision NOT NULL DEFAULT 0
        )""",
    "api_monitor_bucket_hour": """
        CREATE TABLE IF NOT EXISTS api_monitor_bucket_hour (
            start timestamp NOT NULL,
            endpoint varchar NOT NULL,
            requests bigint NOT NULL DEFAULT 0,
            server_errors bigint NOT NULL DEFAULT 0,
            PRIMARY KEY (start, endpoint)
        )""",
    "api_monitor_stat": """
        CREATE TABLE IF NOT EXISTS api_monitor_stat (
            name varchar PRIMARY KEY,
            value double precision NOT NULL DEFAULT 0
        )""",
}


def connect(db: str, lock_timeout_ms: int | None = None):
    """A cursor of its own on ``db``: committed by the ``with`` block, whatever the request does. With
    ``lock_timeout_ms``, a statement of its transaction that waits longer than that for a lock fails."""
    cr = odoo.sql_db.db_connect(db).cursor()
    if lock_timeout_ms:
        try:
            cr.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(lock_timeout_ms)}ms"])
        except Exception:
            cr.close()
            raise
    return cr


def load_settings(cr) -> Settings:
    cr.execute("SELECT key, value FROM ir_config_parameter WHERE key LIKE 'api\\_monitor.%%'")
    params = dict(cr.fetchall())
    return settings_mod.load(params.get)


def admit_endpoints(cr, batch: Batch, cap: int) -> Batch:
    """Register the batch's new endpoint names, folding those beyond the cluster-wide cap into ``other``."""
    names = batch.endpoints
    cr.execute("SELECT name FROM api_monitor_endpoint WHERE name = ANY(%s)", [list(names)])
    new = names - {row[0] for row in cr.fetchall()}
    if not new:
        return batch
    cr.execute("SELECT pg_advisory_xact_lock(%s)", [_ADMISSION_LOCK])
    cr.execute("SELECT name FROM api_monitor_endpoint WHERE name = ANY(%s)", [sorted(new)])
    new -= {row[0] for row in cr.fetchall()}
    special = sorted(new & {OTHER, UNMATCHED})
    ordinary = sorted(new - {OTHER, UNMATCHED})
    cr.execute("SELECT count(*) FROM api_monitor_endpoint WHERE name NOT IN %s", [(OTHER, UNMATCHED)])
    room = max(0, cap - cr.fetchone()[0])
    admitted, folded = ordinary[:room], ordinary[room:]
    if folded:
        special = sorted(set(special) | {OTHER})
    rows = [(name, False) for name in special + admitted]
    if rows:
        execute_values(
            cr._obj,
            "INSERT INTO api_monitor_endpoint (name, critical, first_seen) VALUES %s ON CONFLICT (name) DO NOTHING",
            rows,
            template="(%s, %s, (now() AT TIME ZONE 'UTC'))",
        )
    return batch.renamed({name: OTHER for name in folded})


def write(db: str, batch: Batch, settings: Settings) -> Settings:
    """Write one batch in one transaction; returns the settings read in it (for the next records). Raises
    when a lock is not granted within ``FLUSH_LOCK_TIMEOUT_MS``, the counts left to the caller to keep."""
    with connect(db, FLUSH_LOCK_TIMEOUT_MS) as cr:
        settings = load_settings(cr)
        batch = admit_endpoints(cr, batch, settings.endpoint_cap)
        write_batch(cr, batch)
    return settings


def write_batch(cr, batch: Batch, now: float | None = None) -> None:
    """The additive upserts of one batch, on the caller's cursor."""
    now = time.time() if now is None else now
    if batch.counters:
        execute_values(
            cr._obj,
            """INSERT INTO api_monitor_counter (endpoint, method, code, outcome, value) VALUES %s
               ON CONFLICT (endpoint, method, code, outcome)
               DO UPDATE SET value = api_monitor_counter.value + EXCLUDED.value""",
            sorted((*key, n) for key, n in batch.counters.items()),
        )
    if batch.latency:
        execute_values(
            cr._obj,
            """INSERT INTO api_monitor_latency (endpoint, counts, total) VALUES %s
               ON CONFLICT (endpoint) DO UPDATE SET
                 counts = (SELECT array_agg(a + b ORDER BY i)
                           FROM unnest(api_monitor_latency.counts, EXCLUDED.counts) WITH ORDINALITY AS t(a, b, i)),
                 total = api_monitor_latency.total + EXCLUDED.total""",
            sorted((endpoint, latency.counts, latency.total) for endpoint, latency in batch.latency.items()),
            template="(%s, %s::bigint[], %s)",
        )
    if batch.buckets:
        execute_values(
            cr._obj,
            """INSERT INTO api_monitor_bucket (start, endpoint, requests, server_errors, client_errors, duration_sum)
               VALUES %s
               ON CONFLICT (start, endpoint) DO UPDATE SET
                 requests = api_monitor_bucket.requests + EXCLUDED.requests,
                 server_errors = api_monitor_bucket.server_errors + EXCLUDED.server_errors,
                 client_errors = api_monitor_bucket.client_errors + EXCLUDED.client_errors,
                 duration_sum = api_monitor_bucket.duration_sum + EXCLUDED.duration_sum""",
            sorted(
                (_utc(start), endpoint, b.requests, b.server_errors, b.client_errors, b.duration_sum)
                for (start, endpoint), b in batch.buckets.items()
            ),
        )
    if batch.buckets:
        # hourly sums of the same requests, for the long windows of burn-rate rules
        hours: dict[tuple[int, str], list[int]] = {}
        for (start, endpoint), b in batch.buckets.items():
            total = hours.setdefault((start // HOUR * HOUR, endpoint), [0, 0])
            total[0] += b.requests
            total[1] += b.server_errors
        execute_values(
            cr._obj,
            """INSERT INTO api_monitor_bucket_hour (start, endpoint, requests, server_errors) VALUES %s
               ON CONFLICT (start, endpoint) DO UPDATE SET
                 requests = api_monitor_bucket_hour.requests + EXCLUDED.requests,
                 server_errors = api_monitor_bucket_hour.server_errors + EXCLUDED.server_errors""",
            sorted((_utc(start), endpoint, n, e) for (start, endpoint), (n, e) in hours.items()),
        )
    samples = [sample for samples in batch.failures.values() for sample in samples]
    if samples:
        execute_values(
            cr._obj,
            """INSERT INTO api_monitor_failure
               (occurred_at, endpoint, method, code, request_id, exception, message) VALUES %s""",
            [(_utc(s.at), s.endpoint, s.method, s.code, s.request_id, s.exception, s.message) for s in samples],
        )
        cr.execute(
            """DELETE FROM api_monitor_failure WHERE id IN (
                 SELECT id FROM (
                   SELECT id, row_number() OVER (PARTITION BY endpoint ORDER BY occurred_at DESC, id DESC) AS n
                   FROM api_monitor_failure WHERE endpoint = ANY(%s)) ranked
                 WHERE n > %s)""",
            [sorted(batch.failures), FAILURES_KEPT_PER_ENDPOINT],
        )
    execute_values(
        cr._obj,
        """INSERT INTO api_monitor_stat (name, value) VALUES %s
           ON CONFLICT (name) DO UPDATE SET value = CASE WHEN EXCLUDED.name = 'last_flush'
             THEN GREATEST(api_monitor_stat.value, EXCLUDED.value)
             ELSE api_monitor_stat.value + EXCLUDED.value END""",
        [("flushes", 1), ("flush_errors", batch.flush_errors), ("folded_endpoints", batch.folds),
         ("last_flush", now)],
    )


def read_snapshot(cr, now: float | None = None) -> Snapshot:
    """Everything ``/metrics`` shows, as committed by all processes."""
    now = time.time() if now is None else now
    snap = Snapshot()
    cr.execute("SELECT endpoint, method, code, outcome, value FROM api_monitor_counter")
    snap.requests = [tuple(row) for row in cr.fetchall()]
    cr.execute("SELECT endpoint, counts, total FROM api_monitor_latency")
    width = len(LATENCY_BOUNDS) + 1
    snap.latency = [(endpoint, list(counts)[:width], total) for endpoint, counts, total in cr.fetchall()]
    cr.execute("SELECT name, value FROM api_monitor_stat")
    stats = dict(cr.fetchall())
    snap.flushes = int(stats.get("flushes", 0))
    snap.flush_errors = int(stats.get("flush_errors", 0))
    snap.folded_endpoints = int(stats.get("folded_endpoints", 0))
    if "last_flush" in stats:
        snap.last_flush_age = max(0.0, round(now - stats["last_flush"], 3))
    return snap


def prune(cr, retention_days: int, now: float | None = None) -> tuple[int, int]:
    """Delete buckets and failure samples older than the retention; returns how many of each."""
    now = time.time() if now is None else now
    cutoff = _utc(now - retention_days * 86400)
    cr.execute("DELETE FROM api_monitor_bucket WHERE start < %s", [cutoff])
    buckets = cr.rowcount
    cr.execute("DELETE FROM api_monitor_bucket_hour WHERE start < %s", [_utc(now - retention_days * 86400 - HOUR)])
    cr.execute("DELETE FROM api_monitor_failure WHERE occurred_at < %s", [cutoff])
    return buckets, cr.rowcount


def _utc(epoch: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).replace(tzinfo=None)
