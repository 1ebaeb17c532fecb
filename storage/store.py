"""Where the counts live: PostgreSQL, the one place every worker and host shares. Every SQL statement of
the addon outside the ORM is here.

A batch is written in one transaction on a cursor of its own (never the request's, which a failing request
rolls back): cumulative counters and latency histograms for ``/metrics``, one-minute time buckets for the
alert rules, server-error samples, and the addon's own statistics. Every write is an additive upsert in a
fixed order of rows, on a READ COMMITTED transaction (Odoo's cursors are REPEATABLE READ, under which two
flushes adding to the same row fail to serialize): any number of processes can flush concurrently without
losing, double-counting or failing.
"""

from __future__ import annotations

import datetime
import time

import odoo.sql_db
from odoo.tools import SQL

from ..core import compaction
from ..core import settings as settings_mod
from ..core.endpoints import OTHER, UNMATCHED
from ..core.exposition import Snapshot
from ..core.recorder import LATENCY_BOUNDS, Batch
from ..core.rules import HOUR, HOURLY_FROM_MINUTES, Window, split_window, window_cutoff
from ..core.settings import Settings
from ..core.times import to_datetime

#: Server-error samples kept per endpoint; older ones are deleted as new ones arrive.
FAILURES_KEPT_PER_ENDPOINT = 20
#: How long a flush waits for a lock (a table an upgrade holds, say) before it gives up and keeps its counts
#: for the next try. The fold of new requests runs on the flusher's thread, so a flush that waited for as
#: long as the lock is held would keep every request since in memory until then.
FLUSH_LOCK_TIMEOUT_MS = 2000
#: The last flush of a process that stops waits longer: no request waits on it, and when a whole site stops
#: at once, 128 workers' last flushes queue on the rows they all add to for up to 2 s (``bench.many_hosts``).
EXIT_LOCK_TIMEOUT_MS = 10_000
#: pg_advisory_xact_lock key serialising the admission of new endpoint names (cap on distinct names).
_ADMISSION_LOCK = 0x6170695F6D6F6E  # "api_mon"
#: An endpoint's ``last_seen`` is moved at most this often (seconds): an hour is fine for eviction by days.
LAST_SEEN_RESOLUTION = 3600
_SPECIAL = (OTHER, UNMATCHED)
_ZERO = Window()

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
            id bigserial NOT NULL,
            start timestamp NOT NULL,
            endpoint varchar NOT NULL,
            requests bigint NOT NULL DEFAULT 0,
            server_errors bigint NOT NULL DEFAULT 0,
            minute_requests integer[],
            minute_server_errors integer[],
            PRIMARY KEY (start, endpoint)
        )""",
    "api_monitor_stat": """
        CREATE TABLE IF NOT EXISTS api_monitor_stat (
            name varchar PRIMARY KEY,
            value double precision NOT NULL DEFAULT 0
        )""",
    "api_monitor_webhook_event": """
        CREATE TABLE IF NOT EXISTS api_monitor_webhook_event (
            receiver_id integer NOT NULL,
            event_id varchar(255) NOT NULL,
            received_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
            PRIMARY KEY (receiver_id, event_id)
        )""",
}
#: how long a webhook event id is remembered (PagerDuty retries a delivery for a few hours at most)
WEBHOOK_EVENT_DAYS = 7


#: columns added since a table was first created (an upgrade adds them)
ADDED_COLUMNS = (
    ("api_monitor_bucket_hour", "id", "bigserial"),  # the Traffic views' record ids
    ("api_monitor_bucket_hour", "minute_requests", "integer[]"),
    ("api_monitor_bucket_hour", "minute_server_errors", "integer[]"),
)


def create_tables(cr) -> None:
    """The tables outside the ORM (the ``api.monitor.store`` model's ``init``)."""
    for ddl in RAW_TABLES.values():
        cr.execute(ddl)
    for table, column, kind in ADDED_COLUMNS:
        cr.execute(SQL("ALTER TABLE %s ADD COLUMN IF NOT EXISTS %s %s", SQL.identifier(table), SQL.identifier(column),
                       SQL(kind)))
    cr.execute("CREATE UNIQUE INDEX IF NOT EXISTS api_monitor_bucket_hour_id ON api_monitor_bucket_hour (id)")


#: the ``api.monitor.traffic`` model: the hourly rows as the Traffic views read them
TRAFFIC_VIEW = """CREATE OR REPLACE VIEW api_monitor_traffic AS
    SELECT id, start, endpoint, requests, server_errors FROM api_monitor_bucket_hour"""


def ensure_unique(cr, table: str, name: str, columns: tuple[str, ...]) -> None:
    """A unique index on ``columns`` of ``table`` (the flush's upserts rely on it). Named as the SQL constraint
    earlier versions declared, so that an existing database keeps the one it has."""
    cr.execute(SQL("CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (%s)", SQL.identifier(name), SQL.identifier(table),
                   SQL(", ").join(map(SQL.identifier, columns))))


def drop_tables(cr) -> None:
    """Drop the tables outside the ORM (the addon's uninstall hook)."""
    for table in RAW_TABLES:
        cr.execute(SQL("DROP TABLE IF EXISTS %s CASCADE", SQL.identifier(table)))  # with the Traffic view


def connect(db: str, lock_timeout_ms: int | None = None):
    """A cursor of its own on ``db``, on a READ COMMITTED transaction: committed by the ``with`` block,
    whatever the request does. With ``lock_timeout_ms``, a statement that waits longer than that for a lock
    fails."""
    cr = odoo.sql_db.db_connect(db).cursor()
    try:
        # must come first in the transaction: Odoo opens its cursors REPEATABLE READ
        cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        if lock_timeout_ms:
            cr.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(lock_timeout_ms)}ms"])
    except Exception:
        cr.close()
        raise
    return cr


def execute_values(cr, query: str, rows: list[tuple], template: str | None = None, page_size: int = 1000) -> None:
    """Run ``query`` (holding one ``VALUES %s``) with ``rows`` in place of that ``%s``, ``page_size`` rows a
    statement; ``template`` is one row's SQL, ``(%s, %s, ...)`` by default."""
    for start in range(0, len(rows), page_size):
        page = rows[start:start + page_size]
        row_sql = template or "(" + ", ".join(["%s"] * len(page[0])) + ")"
        cr.execute(query.replace("VALUES %s", "VALUES " + ", ".join([row_sql] * len(page)), 1),
                   [value for row in page for value in row])


def load_settings(cr) -> Settings:
    cr.execute("SELECT key, value FROM ir_config_parameter WHERE key LIKE 'api\\_monitor.%%'")
    params = dict(cr.fetchall())
    return settings_mod.load(params.get)


# -- the flush -----------------------------------------------------------------------------------------
def admit_endpoints(cr, batch: Batch, cap: int, anonymous_cap: int, now: float | None = None) -> Batch:
    """Register the batch's new endpoint names, folding those beyond the cluster-wide cap into ``other``.

    A name requested by an authenticated user (``batch.trusted``) is admitted while the cap has room; one
    requested only without an authenticated user also needs room in ``anonymous_cap``, so that anonymous
    traffic can never fill the cap. A name first admitted anonymously becomes trusted (and frees its room)
    when an authenticated user requests it.
    """
    now = time.time() if now is None else now
    names = batch.endpoints
    cr.execute("SELECT name, trusted, last_seen FROM api_monitor_endpoint WHERE name = ANY(%s)", [sorted(names)])
    known = {name: (trusted, last_seen) for name, trusted, last_seen in cr.fetchall()}
    _touch(cr, batch, known, now)
    new = names - set(known)
    if not new:
        return batch
    cr.execute("SELECT pg_advisory_xact_lock(%s)", [_ADMISSION_LOCK])
    cr.execute("SELECT name FROM api_monitor_endpoint WHERE name = ANY(%s)", [sorted(new)])
    new -= {row[0] for row in cr.fetchall()}
    special = sorted(new & set(_SPECIAL))
    trusted_new = sorted((new - set(_SPECIAL)) & batch.trusted)
    anonymous_new = sorted(new - set(_SPECIAL) - batch.trusted)
    cr.execute("SELECT count(*), count(*) FILTER (WHERE NOT trusted) FROM api_monitor_endpoint WHERE name NOT IN %s",
               [_SPECIAL])
    total, anonymous = cr.fetchone()
    room = max(0, cap - total)
    admitted_trusted = trusted_new[:room]
    anonymous_room = max(0, min(room - len(admitted_trusted), anonymous_cap - anonymous))
    admitted_anonymous = anonymous_new[:anonymous_room]
    folded = trusted_new[len(admitted_trusted):] + anonymous_new[len(admitted_anonymous):]
    if folded:
        special = sorted(set(special) | {OTHER})
    rows = [(name, True) for name in special + admitted_trusted] + [(name, False) for name in admitted_anonymous]
    if rows:
        stamp = _utc(now)
        execute_values(
            cr,
            """INSERT INTO api_monitor_endpoint (name, critical, trusted, first_seen, last_seen) VALUES %s
               ON CONFLICT (name) DO NOTHING""",
            sorted((name, False, trusted, stamp, stamp) for name, trusted in rows),
        )
    return batch.renamed(dict.fromkeys(folded, OTHER))


def _touch(cr, batch: Batch, known: dict, now: float) -> None:
    """Move ``last_seen`` of the batch's known endpoints (at most once per ``LAST_SEEN_RESOLUTION``), and
    mark those an authenticated user requested as trusted. Rows another flush holds are skipped: it moves
    them itself, and no flush ever waits here."""
    stale = _utc(now - LAST_SEEN_RESOLUTION)
    due = sorted(name for name, (trusted, last_seen) in known.items()
                 if last_seen is None or last_seen < stale or (not trusted and name in batch.trusted))
    if not due:
        return
    cr.execute(
        """UPDATE api_monitor_endpoint SET last_seen = %s, trusted = trusted OR name = ANY(%s)
           WHERE id IN (SELECT id FROM api_monitor_endpoint WHERE name = ANY(%s) ORDER BY id
                        FOR UPDATE SKIP LOCKED)""",
        [_utc(now), sorted(batch.trusted), due],
    )


def write(db: str, batch: Batch, settings: Settings, lock_timeout_ms: int = FLUSH_LOCK_TIMEOUT_MS) -> Settings:
    """Write one batch in one transaction; returns the settings read in it (for the next records). Raises
    when a lock is not granted within ``lock_timeout_ms``, the counts left to the caller to keep."""
    with connect(db, lock_timeout_ms) as cr:
        settings = load_settings(cr)
        batch = admit_endpoints(cr, batch, settings.endpoint_cap, settings.anonymous_endpoint_cap)
        write_batch(cr, batch)
    return settings


def write_batch(cr, batch: Batch, now: float | None = None) -> None:
    """The additive upserts of one batch, on the caller's cursor, each table's rows in a fixed order."""
    now = time.time() if now is None else now
    if batch.counters:
        execute_values(
            cr,
            """INSERT INTO api_monitor_counter (endpoint, method, code, outcome, value) VALUES %s
               ON CONFLICT (endpoint, method, code, outcome)
               DO UPDATE SET value = api_monitor_counter.value + EXCLUDED.value""",
            sorted((*key, n) for key, n in batch.counters.items()),
        )
    if batch.latency:
        execute_values(
            cr,
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
            cr,
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
        # hourly sums of the same requests, for the long windows of burn-rate rules
        hours: dict[tuple[int, str], list[int]] = {}
        for (start, endpoint), b in batch.buckets.items():
            total = hours.setdefault((start // HOUR * HOUR, endpoint), [0, 0])
            total[0] += b.requests
            total[1] += b.server_errors
        execute_values(
            cr,
            """INSERT INTO api_monitor_bucket_hour (start, endpoint, requests, server_errors) VALUES %s
               ON CONFLICT (start, endpoint) DO UPDATE SET
                 requests = api_monitor_bucket_hour.requests + EXCLUDED.requests,
                 server_errors = api_monitor_bucket_hour.server_errors + EXCLUDED.server_errors""",
            sorted((_utc(start), endpoint, n, e) for (start, endpoint), (n, e) in hours.items()),
        )
    if batch.cause_info:
        execute_values(
            cr,
            """INSERT INTO api_monitor_cause (fingerprint, exception, location, traceback, first_seen, last_seen)
               VALUES %s
               ON CONFLICT (fingerprint) DO UPDATE SET
                 traceback = EXCLUDED.traceback, location = EXCLUDED.location,
                 first_seen = LEAST(api_monitor_cause.first_seen, EXCLUDED.first_seen),
                 last_seen = GREATEST(api_monitor_cause.last_seen, EXCLUDED.last_seen)""",
            sorted((fingerprint, cause.exception, cause.location, cause.traceback, _utc(first), _utc(last))
                   for fingerprint, (cause, first, last) in batch.cause_info.items()),
        )
        execute_values(
            cr,
            """INSERT INTO api_monitor_cause_bucket (start, endpoint, fingerprint, count) VALUES %s
               ON CONFLICT (start, endpoint, fingerprint) DO UPDATE SET
                 count = api_monitor_cause_bucket.count + EXCLUDED.count""",
            sorted((_utc(start), endpoint, fingerprint, n) for (start, endpoint, fingerprint), n in batch.causes.items()),
        )
    samples = [sample for samples in batch.failures.values() for sample in samples]
    if samples:
        execute_values(
            cr,
            """INSERT INTO api_monitor_failure
               (occurred_at, endpoint, method, code, request_id, exception, message, fingerprint, log_lines,
                duration) VALUES %s""",
            [(_utc(s.at), s.endpoint, s.method, s.code, s.request_id, s.exception, s.message, s.fingerprint or None,
              s.logs or None, s.duration) for s in samples],
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
        cr,
        """INSERT INTO api_monitor_stat (name, value) VALUES %s
           ON CONFLICT (name) DO UPDATE SET value = CASE WHEN EXCLUDED.name = 'last_flush'
             THEN GREATEST(api_monitor_stat.value, EXCLUDED.value)
             ELSE api_monitor_stat.value + EXCLUDED.value END""",
        [("flush_errors", batch.flush_errors), ("flushes", 1), ("folded_endpoints", batch.folds),
         ("last_flush", now)],
    )


# -- /metrics ------------------------------------------------------------------------------------------
def read_snapshot(cr, now: float | None = None, exemplars: bool = False,
                  shard: tuple[int, int] | None = None) -> Snapshot:
    """Everything ``/metrics`` shows, as committed by all processes; with ``exemplars``, the newest server
    error of each endpoint too (only the OpenMetrics format shows them). With ``shard`` ``(part, parts)``, only
    the endpoints of that part of a split scrape (``core.exposition.shard_of``), the addon's own metrics
    with the first part only."""
    now = time.time() if now is None else now
    snap = Snapshot()
    in_part, params = "TRUE", []
    if shard is not None:
        in_part, params = "mod(('x' || substr(md5(endpoint), 1, 7))::bit(28)::int, %s) = %s", [shard[1], shard[0]]
        snap.self_metrics = shard[0] == 0
    cr.execute(f"SELECT endpoint, method, code, outcome, value FROM api_monitor_counter WHERE {in_part}",  # noqa: S608
               params)
    snap.requests = [tuple(row) for row in cr.fetchall()]
    cr.execute(f"SELECT endpoint, counts, total FROM api_monitor_latency WHERE {in_part}", params)  # noqa: S608
    width = len(LATENCY_BOUNDS) + 1
    snap.latency = [(endpoint, list(counts)[:width], total) for endpoint, counts, total in cr.fetchall()]
    cr.execute("SELECT name, value FROM api_monitor_stat")
    stats = dict(cr.fetchall())
    snap.flushes = int(stats.get("flushes", 0))
    snap.flush_errors = int(stats.get("flush_errors", 0))
    snap.folded_endpoints = int(stats.get("folded_endpoints", 0))
    if "last_flush" in stats:
        snap.last_flush_age = max(0.0, round(now - stats["last_flush"], 3))
    if exemplars:
        cr.execute(f"""SELECT DISTINCT ON (endpoint) endpoint, method, code, request_id, extract(epoch FROM occurred_at),
                              COALESCE(duration, 0) FROM api_monitor_failure WHERE request_id IS NOT NULL AND {in_part}
                       ORDER BY endpoint, occurred_at DESC, id DESC""", params)  # noqa: S608
        snap.exemplars = {row[0]: (row[1], int(row[2] or 0), row[3], float(row[4]), float(row[5]))
                          for row in cr.fetchall()}
    cr.execute("SELECT kind, extract(epoch FROM MAX(at)) FROM api_monitor_change GROUP BY kind")
    snap.changes = {kind: float(at) for kind, at in cr.fetchall()}
    return snap


# -- the evaluator ---------------------------------------------------------------------------------------
#: pg_try_advisory_xact_lock key: one evaluation at a time across workers and hosts
_EVALUATION_LOCK = 0x6170695F6576616C  # "api_eval"


def try_evaluation_lock(cr) -> bool:
    """Take the evaluation's lock for this transaction; False when another evaluation holds it."""
    cr.execute("SELECT pg_try_advisory_xact_lock(%s)", [_EVALUATION_LOCK])
    return cr.fetchone()[0]


def claim_notification(cr, notification_id: int) -> bool:
    """Lock a pending outbox row for this delivery; False when it is no longer pending or another holds it."""
    cr.execute("SELECT id FROM api_monitor_notification WHERE id = %s AND state = 'pending' FOR UPDATE SKIP LOCKED",
               [notification_id])
    return cr.fetchone() is not None


def update_firing(cr, alerts: list[tuple], incidents: list[tuple]) -> None:
    """The steady-state writes of one evaluation in two statements: ``alerts`` are ``(id, last_breach_at)``,
    ``incidents`` ``(id, current ratio, peak ratio, requests, errors, detail)``."""
    if alerts:
        execute_values(
            cr, """UPDATE api_monitor_alert AS a SET last_breach_at = v.at, write_date = now() AT TIME ZONE 'UTC'
                   FROM (VALUES %s) AS v(id, at) WHERE a.id = v.id""",
            sorted(alerts), template="(%s, %s::timestamp)")
    if incidents:
        execute_values(
            cr, """UPDATE api_monitor_incident AS i SET current_ratio = v.ratio, peak_ratio = v.peak,
                     window_requests = v.requests, window_errors = v.errors, detail = v.detail,
                     write_date = now() AT TIME ZONE 'UTC'
                   FROM (VALUES %s) AS v(id, ratio, peak, requests, errors, detail) WHERE i.id = v.id""",
            sorted(incidents), template="(%s, %s::float, %s::float, %s::int, %s::int, %s)")


def endpoints(cr) -> dict[str, bool]:
    """Every known endpoint name and whether it is tagged critical."""
    cr.execute("SELECT name, critical FROM api_monitor_endpoint")
    return dict(cr.fetchall())


def causes(cr, endpoints: list[str], start: float, end: float) -> list[tuple[str, int, float, float]]:
    """``(fingerprint, server errors, first minute, last minute)`` of the causes of ``endpoints``' server errors
    counted in [start, end], the most frequent first."""
    cr.execute(
        """SELECT fingerprint, SUM(count), extract(epoch FROM MIN(start)), extract(epoch FROM MAX(start))
           FROM api_monitor_cause_bucket WHERE endpoint = ANY(%s) AND start >= %s AND start <= %s
           GROUP BY fingerprint ORDER BY SUM(count) DESC, fingerprint""",
        [list(endpoints), _utc(start), _utc(end)],
    )
    return [(f, int(n), float(first), float(last)) for f, n, first, last in cr.fetchall()]


def endpoint_totals(cr, names: list[str], minutes: int, now: float | None = None) -> dict[str, tuple[int, int]]:
    """``{endpoint: (requests, server errors)}`` of ``names`` over the last ``minutes`` (a window as the rules
    sum it: long ones from hourly rows); endpoints without traffic are left out."""
    now = time.time() if now is None else now
    wanted = set(names)
    return {name: (sums[minutes].requests, sums[minutes].errors)
            for name, sums in window_sums(cr, now, [minutes]).items()
            if name in wanted and sums[minutes].requests}


def window_sums(cr, now: float, windows: list[int]) -> dict[str, dict[int, Window]]:
    """``{endpoint: {minutes: Window}}`` for every window, as ``core.rules.window_sums_hourly`` defines them.

    Short windows sum minute buckets; long ones sum hourly buckets plus the minute buckets of their two
    ends, so a 3-day window reads about 190 rows per endpoint instead of 4,320. An endpoint found for some
    windows has every window, empty ones at zero.
    """
    short = [w for w in windows if w < HOURLY_FROM_MINUTES]
    long = {w: split_window(now, w) for w in windows if w >= HOURLY_FROM_MINUTES}
    minute_conditions, ranges = [], []
    for w in short:
        minute_conditions.append(("start > %s", [_utc(window_cutoff(now, w))]))
    for part in long.values():
        minute_conditions.append(("((start > %s AND start < %s) OR start >= %s)",
                                  [_utc(part.cutoff), _utc(part.first_hour), _utc(part.last_hour)]))
        ranges.append(("(start > %s AND start < %s)", [_utc(part.cutoff), _utc(part.first_hour)]))
    if short:
        ranges.append(("start > %s", [_utc(window_cutoff(now, max(short)))]))
    if long:
        ranges.append(("start >= %s", [_utc(min(part.last_hour for part in long.values()))]))
    result: dict[str, dict[int, Window]] = {}
    # the far ends of long windows may lie in compacted hours: the hour before each first whole hour
    far_hours = (min(p.first_hour for p in long.values()) - HOUR, max(p.first_hour for p in long.values())) if long else None
    _sum_by_endpoint(cr, _minutes(f"({' OR '.join(sql for sql, _ in ranges)}) AND start <= %s",
                                  [p for _, params in ranges for p in params] + [_utc(now)], far_hours),
                     minute_conditions, [*short, *long], result)
    if long:
        _sum_by_endpoint(cr, ("(SELECT start, endpoint, requests, server_errors FROM api_monitor_bucket_hour "
                              "WHERE start >= %s AND start < %s) hours",
                              [_utc(min(p.first_hour for p in long.values())), _utc(max(p.last_hour for p in long.values()))]),
                         [("start >= %s AND start < %s", [_utc(part.first_hour), _utc(part.last_hour)])
                          for part in long.values()],
                         list(long), result)
    for sums in result.values():
        for w in windows:
            sums.setdefault(w, _ZERO)
    return result


def _sum_by_endpoint(cr, source: tuple[str, list], conditions: list[tuple[str, list]], windows: list[int],
                     result: dict) -> None:
    """Add to ``result`` each endpoint's requests and server errors of ``source`` (a FROM item with its
    parameters) under each condition (one per window)."""
    columns = ", ".join(
        f"COALESCE(SUM(requests) FILTER (WHERE {sql}), 0), COALESCE(SUM(server_errors) FILTER (WHERE {sql}), 0)"
        for sql, _ in conditions)
    params = [p for _, condition_params in conditions for p in condition_params * 2]
    cr.execute(f"SELECT endpoint, {columns} FROM {source[0]} GROUP BY endpoint",  # noqa: S608
               [*params, *source[1]])
    for row in cr.fetchall():
        sums = result.setdefault(row[0], {})
        for i, w in enumerate(windows):
            sums[w] = sums.get(w, _ZERO) + Window(int(row[1 + 2 * i]), int(row[2 + 2 * i]))


def _minutes(where: str, params: list, hours: tuple[float, float] | None) -> tuple[str, list]:
    """A FROM item of one-minute counts ``(start, endpoint, requests, server_errors)`` matching ``where``: the
    minute buckets, and, of the hourly rows starting in ``[hours)``, the minutes compaction moved into them.
    Each minute lives in one of the two places, so sums over both are the sums of every minute."""
    if hours is None:
        return f"(SELECT start, endpoint, requests, server_errors FROM api_monitor_bucket WHERE {where}) minutes", params
    return (f"""(SELECT start, endpoint, requests, server_errors FROM api_monitor_bucket WHERE {where}
                 UNION ALL
                 SELECT * FROM (
                   SELECT h.start + (m.i - 1) * interval '1 minute' AS start, h.endpoint, m.requests,
                          COALESCE(m.server_errors, 0) AS server_errors
                   FROM api_monitor_bucket_hour h,
                        unnest(h.minute_requests, h.minute_server_errors) WITH ORDINALITY AS m(requests, server_errors, i)
                   WHERE h.minute_requests IS NOT NULL AND h.start >= %s AND h.start < %s) compacted
                 WHERE (requests > 0 OR server_errors > 0) AND {where}) minutes""",
            [*params, _utc(hours[0]), _utc(hours[1]), *params])


def minute_series(cr, endpoints: list[str], start: float, end: float) -> list[tuple[float, int, int]]:
    """``(minute start, requests, server errors)`` of ``endpoints`` summed, for each minute in [start, end]
    with traffic."""
    source, params = _minutes("endpoint = ANY(%s) AND start >= %s AND start <= %s",
                              [list(endpoints), _utc(start), _utc(end)], (start // HOUR * HOUR, end + HOUR))
    cr.execute(f"""SELECT extract(epoch FROM start), SUM(requests), SUM(server_errors) FROM {source}
                   GROUP BY start ORDER BY start""", params)  # noqa: S608
    return [(float(t), int(n), int(e)) for t, n, e in cr.fetchall()]


def endpoint_minutes(cr, endpoints: list[str], start: float, end: float, page: int = 20_000):
    """``(endpoint, [(minute start, requests, server errors), ...])`` for each of ``endpoints`` with traffic in
    [start, end], one endpoint at a time, read through a server-side cursor: memory holds one page of rows
    and one endpoint's minutes, however long the period."""
    source, params = _minutes("endpoint = ANY(%s) AND start >= %s AND start <= %s",
                              [sorted(endpoints), _utc(start), _utc(end)], (start // HOUR * HOUR, end + HOUR))
    cr.execute(f"""DECLARE api_monitor_minutes NO SCROLL CURSOR FOR
                   SELECT endpoint, extract(epoch FROM start), SUM(requests), SUM(server_errors) FROM {source}
                   GROUP BY endpoint, start ORDER BY endpoint, start""", params)  # noqa: S608
    try:
        name, minutes = None, []
        while True:
            cr.execute("FETCH %s FROM api_monitor_minutes", [int(page)])
            rows = cr.fetchall()
            if not rows:
                break
            for endpoint, t, n, e in rows:
                if endpoint != name:
                    if minutes:
                        yield name, minutes
                    name, minutes = endpoint, []
                minutes.append((float(t), int(n), int(e)))
        if minutes:
            yield name, minutes
    finally:
        cr.execute("CLOSE api_monitor_minutes")


# -- housekeeping ----------------------------------------------------------------------------------------
def compact(cr, minute_days: int, now: float | None = None) -> int:
    """Move the minute buckets of the hours older than ``minute_days`` into their hourly rows' minute arrays
    (``core.compaction``), an hour at a time; returns how many minute buckets moved. A minute bucket that
    arrives for an hour compacted already is added to its arrays at the next compaction."""
    now = time.time() if now is None else now
    end = compaction.cutoff(now, minute_days)
    cr.execute("SELECT extract(epoch FROM MIN(start)) FROM api_monitor_bucket WHERE start < %s", [_utc(end)])
    first = cr.fetchone()[0]
    moved = 0
    hour = float(first) // HOUR * HOUR if first is not None else end
    while hour < end:
        cr.execute("""DELETE FROM api_monitor_bucket WHERE start >= %s AND start < %s
                      RETURNING extract(epoch FROM start), endpoint, requests, server_errors""",
                   [_utc(hour), _utc(hour + HOUR)])
        rows = cr.fetchall()
        moved += len(rows)
        hours = compaction.fold((float(t), endpoint, n, e) for t, endpoint, n, e in rows)
        if hours:
            execute_values(
                cr,
                """INSERT INTO api_monitor_bucket_hour AS h
                     (start, endpoint, requests, server_errors, minute_requests, minute_server_errors) VALUES %s
                   ON CONFLICT (start, endpoint) DO UPDATE SET
                     minute_requests = (SELECT array_agg(COALESCE(a, 0) + COALESCE(b, 0) ORDER BY i)
                                        FROM unnest(h.minute_requests, EXCLUDED.minute_requests) WITH ORDINALITY AS t(a, b, i)),
                     minute_server_errors = CASE
                       WHEN h.minute_server_errors IS NULL THEN EXCLUDED.minute_server_errors
                       WHEN EXCLUDED.minute_server_errors IS NULL THEN h.minute_server_errors
                       ELSE (SELECT array_agg(a + b ORDER BY i) FROM unnest(h.minute_server_errors,
                             EXCLUDED.minute_server_errors) WITH ORDINALITY AS t(a, b, i)) END""",
                sorted((_utc(start), endpoint, sum(counts), sum(errors or ()), counts, errors)
                       for (start, endpoint), (counts, errors) in hours.items()),
                template="(%s, %s, %s, %s, %s::integer[], %s::integer[])",
            )
        hour += HOUR
    return moved


def prune(cr, settings: Settings, now: float | None = None) -> tuple[int, int]:
    """Compact the minute buckets older than the minute retention, delete hourly rows older than the hourly
    retention, and server-error samples and causes older than ``settings.detail_days``; returns how many
    minute buckets were compacted and failure samples deleted."""
    now = time.time() if now is None else now
    cutoff = _utc(now - settings.detail_days * 86400)
    buckets = compact(cr, settings.retention_days, now)
    cr.execute("DELETE FROM api_monitor_bucket_hour WHERE start < %s::timestamp - make_interval(months => %s)",
               [_utc(now), settings.hourly_months])
    cr.execute("DELETE FROM api_monitor_failure WHERE occurred_at < %s", [cutoff])
    failures = cr.rowcount
    cr.execute("DELETE FROM api_monitor_cause_bucket WHERE start < %s", [cutoff])
    cr.execute("DELETE FROM api_monitor_cause WHERE last_seen < %s", [cutoff])
    cr.execute("DELETE FROM api_monitor_webhook_event WHERE received_at < %s", [_utc(now - WEBHOOK_EVENT_DAYS * 86400)])
    return buckets, failures


def note_webhook_event(cr, receiver_id: int, event_id: str) -> bool:
    """Remember a webhook event; False when it was seen before (a replay: it must change nothing)."""
    cr.execute("""INSERT INTO api_monitor_webhook_event (receiver_id, event_id) VALUES (%s, %s)
                  ON CONFLICT DO NOTHING""", [receiver_id, event_id])
    return cr.rowcount == 1


def evict_endpoints(cr, idle_days: int, now: float | None = None) -> list[str]:
    """Forget endpoints without traffic for ``idle_days``, with their counters: they make room under the cap
    and their series leave ``/metrics``. Critical endpoints, endpoints a rule lists and endpoints with an
    alert in progress are kept. Returns the names forgotten."""
    now = time.time() if now is None else now
    cr.execute(
        """SELECT e.name FROM api_monitor_endpoint e
           WHERE e.last_seen < %s AND NOT e.critical AND e.name NOT IN %s
             AND NOT EXISTS (SELECT 1 FROM api_monitor_endpoint_api_monitor_rule_rel r WHERE r.api_monitor_endpoint_id = e.id)
             AND NOT EXISTS (SELECT 1 FROM api_monitor_alert a WHERE a.group_key = e.name AND a.state IN ('pending', 'firing'))
           ORDER BY e.name""",
        [_utc(now - idle_days * 86400), _SPECIAL],
    )
    names = [row[0] for row in cr.fetchall()]
    if names:
        forget(cr, names)
    return names


def forget(cr, names: list[str]) -> None:
    """Delete the counters, latency histograms and endpoint rows of ``names`` (buckets age out by themselves)."""
    cr.execute("DELETE FROM api_monitor_counter WHERE endpoint = ANY(%s)", [names])
    cr.execute("DELETE FROM api_monitor_latency WHERE endpoint = ANY(%s)", [names])
    cr.execute("DELETE FROM api_monitor_endpoint WHERE name = ANY(%s)", [names])


def _utc(epoch: float) -> datetime.datetime:
    return to_datetime(epoch)
