"""The store's SQL on a real PostgreSQL: additive upserts, the cluster-wide cap, the failure cap, pruning,
and a flush that a lock holds up."""

import os
import threading
import time

import psycopg2.errors

from odoo.tests import TransactionCase, tagged

from ..core.endpoints import OTHER
from ..core.recorder import FAILURES_PER_BATCH, Recorder
from ..storage import store
from ..storage.runtime import Runtime
from .common import expected_logs

NOW = 1_795_000_000.0  # a fixed instant: 2026-11-18 07:06:40 UTC


def batch_of(*requests, now=NOW, trusted=True):
    """A batch holding ``(endpoint, code, outcome)`` requests, each lasting 0.02 s, sent by an authenticated
    user unless ``trusted=False``."""
    recorder = Recorder()
    for i, (endpoint, code, outcome) in enumerate(requests):
        recorder.record("db", endpoint, "POST", code, outcome, 0.02, now=now + i * 0.001,
                        request_id=f"rid-{i}", exception="builtins.KeyError" if outcome == "server_error" else "",
                        trusted=trusted)
    return recorder.take()["db"]


@tagged("post_install", "-at_install")
class TestStore(TransactionCase):
    def query(self, sql, *args):
        self.env.cr.execute(sql, args)
        return self.env.cr.fetchall()

    def test_writing_a_batch_twice_adds_every_count(self):
        batch = batch_of(("/t/add", 200, "success"), ("/t/add", 200, "success"), ("/t/add", 500, "server_error"))
        store.write_batch(self.env.cr, batch, now=NOW)
        store.write_batch(self.env.cr, batch, now=NOW)
        self.assertEqual(
            self.query("SELECT code, outcome, value FROM api_monitor_counter WHERE endpoint = '/t/add' ORDER BY code"),
            [(200, "success", 4), (500, "server_error", 2)],
        )
        self.assertEqual(
            self.query("SELECT counts, round(total::numeric, 4) FROM api_monitor_latency WHERE endpoint = '/t/add'"),
            [([0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0], 0.12)],
        )
        self.assertEqual(
            self.query("SELECT start, requests, server_errors, client_errors FROM api_monitor_bucket "
                       "WHERE endpoint = '/t/add'"),
            [(store._utc(NOW // 60 * 60), 6, 2, 0)],
        )

    def test_new_endpoints_beyond_the_cap_are_folded_into_other(self):
        existing = self.query("SELECT count(*) FROM api_monitor_endpoint WHERE name NOT IN ('other', 'unmatched')")[0][0]
        batch = batch_of(("/t/cap/a", 200, "success"), ("/t/cap/b", 200, "success"),
                         ("/t/cap/c", 200, "success"), ("/t/cap/c", 500, "server_error"))
        admitted = store.admit_endpoints(self.env.cr, batch, cap=existing + 2, anonymous_cap=50, now=NOW)
        self.assertEqual(
            admitted.counters,
            {("/t/cap/a", "POST", 200, "success"): 1, ("/t/cap/b", "POST", 200, "success"): 1,
             (OTHER, "POST", 200, "success"): 1, (OTHER, "POST", 500, "server_error"): 1},
        )
        self.assertEqual(admitted.folds, 2)
        self.assertEqual(
            self.query("SELECT name FROM api_monitor_endpoint WHERE name LIKE '/t/cap/%%' OR name = 'other' ORDER BY name"),
            [("/t/cap/a",), ("/t/cap/b",), ("other",)],
        )
        before = dict(self.query("SELECT name, value FROM api_monitor_stat"))
        store.write_batch(self.env.cr, admitted, now=NOW)
        after = dict(self.query("SELECT name, value FROM api_monitor_stat"))
        self.assertEqual(after["folded_endpoints"] - before.get("folded_endpoints", 0), 2)
        self.assertEqual(after["flushes"] - before.get("flushes", 0), 1)

    def anonymous_rows(self):
        return self.query("SELECT count(*) FROM api_monitor_endpoint WHERE NOT trusted AND name NOT IN ('other', 'unmatched')")[0][0]

    def test_anonymous_requests_fill_only_their_share_of_the_cap(self):
        existing = self.query("SELECT count(*) FROM api_monitor_endpoint WHERE name NOT IN ('other', 'unmatched')")[0][0]
        anonymous = self.anonymous_rows()
        batch = batch_of(*[(f"/t/anon/{i}", 200, "success") for i in range(5)], trusted=False)
        admitted = store.admit_endpoints(self.env.cr, batch, cap=existing + 100, anonymous_cap=anonymous + 2, now=NOW)
        self.assertEqual(admitted.counters, {("/t/anon/0", "POST", 200, "success"): 1,
                                             ("/t/anon/1", "POST", 200, "success"): 1,
                                             (OTHER, "POST", 200, "success"): 3})
        self.assertEqual(admitted.folds, 3)
        # an authenticated user's newcomer still finds room, and makes an anonymous name trusted
        batch = batch_of(("/t/user/a", 200, "success"), ("/t/anon/0", 200, "success"), ("/t/anon/3", 200, "success"))
        admitted = store.admit_endpoints(self.env.cr, batch, cap=existing + 100, anonymous_cap=anonymous + 2, now=NOW)
        self.assertEqual(sorted(endpoint for endpoint, *_ in admitted.counters), ["/t/anon/0", "/t/anon/3", "/t/user/a"])
        self.assertEqual(
            self.query("SELECT name, trusted FROM api_monitor_endpoint WHERE name LIKE '/t/%%' ORDER BY name"),
            [("/t/anon/0", True), ("/t/anon/1", False), ("/t/anon/3", True), ("/t/user/a", True)])
        self.assertEqual(self.anonymous_rows(), anonymous + 1)  # /t/anon/0 freed its room

    def test_endpoints_idle_for_the_retention_are_forgotten_with_their_series_unless_something_needs_them(self):
        for name in ("/t/idle", "/t/idle/critical", "/t/idle/listed", "/t/busy"):
            store.write_batch(self.env.cr, store.admit_endpoints(
                self.env.cr, batch_of((name, 200, "success")), cap=100_000, anonymous_cap=50, now=NOW), now=NOW)
        Endpoint = self.env["api.monitor.endpoint"]
        Endpoint.search([("name", "=", "/t/idle/critical")]).critical = True
        self.env.ref("api_monitor.rule_high_error_rate").write({
            "endpoint_selection": "list", "endpoint_ids": [(6, 0, Endpoint.search([("name", "=", "/t/idle/listed")]).ids)]})
        self.env.flush_all()
        later = NOW + 9 * 86400
        store.admit_endpoints(self.env.cr, batch_of(("/t/busy", 200, "success"), now=later), cap=100_000,
                              anonymous_cap=50, now=later)
        self.assertEqual(store.evict_endpoints(self.env.cr, idle_days=8, now=later), ["/t/idle"])
        self.assertEqual(
            self.query("SELECT name FROM api_monitor_endpoint WHERE name LIKE '/t/%%' ORDER BY name"),
            [("/t/busy",), ("/t/idle/critical",), ("/t/idle/listed",)])
        self.assertEqual(self.query("SELECT count(*) FROM api_monitor_counter WHERE endpoint = '/t/idle'"), [(0,)])
        self.assertEqual(self.query("SELECT count(*) FROM api_monitor_latency WHERE endpoint = '/t/idle'"), [(0,)])

    def test_a_manager_deleting_an_endpoint_deletes_its_series(self):
        store.write_batch(self.env.cr, store.admit_endpoints(
            self.env.cr, batch_of(("/t/gone", 500, "server_error")), cap=100_000, anonymous_cap=50, now=NOW), now=NOW)
        self.env["api.monitor.endpoint"].search([("name", "=", "/t/gone")]).unlink()
        self.assertEqual(self.query("SELECT count(*) FROM api_monitor_counter WHERE endpoint = '/t/gone'"), [(0,)])
        self.assertEqual(self.query("SELECT count(*) FROM api_monitor_endpoint WHERE name = '/t/gone'"), [(0,)])

    def test_failure_samples_keep_the_newest_twenty_per_endpoint(self):
        for round_ in range(5):
            batch = batch_of(*[("/t/fail", 500, "server_error")] * FAILURES_PER_BATCH, now=NOW + round_)
            store.write_batch(self.env.cr, batch, now=NOW)
        rows = self.query("SELECT occurred_at FROM api_monitor_failure WHERE endpoint = '/t/fail' ORDER BY occurred_at")
        self.assertEqual(len(rows), store.FAILURES_KEPT_PER_ENDPOINT)
        self.assertEqual(rows[0][0], store._utc(NOW + 1))

    def test_prune_removes_only_what_is_older_than_the_retention(self):
        now = time.time()
        store.write_batch(self.env.cr, batch_of(("/t/old", 500, "server_error"), now=now - 9 * 86400), now=now)
        store.write_batch(self.env.cr, batch_of(("/t/new", 500, "server_error"), now=now - 7 * 86400), now=now)
        self.env["ir.config_parameter"].set_param("api_monitor.bucket_retention_days", "8")
        self.env["api.monitor.bucket"]._cron_prune()
        self.assertEqual(self.query("SELECT endpoint FROM api_monitor_bucket WHERE endpoint LIKE '/t/%%'"), [("/t/new",)])
        self.assertEqual(self.query("SELECT endpoint FROM api_monitor_failure WHERE endpoint LIKE '/t/%%'"), [("/t/new",)])


@tagged("post_install", "-at_install")
class TestFlushHeldUpByALock(TransactionCase):
    def committed(self):
        """(flushes, flush errors, requests counted under /t/locked), as committed."""
        with store.connect(self.env.cr.dbname) as cr:
            cr.execute("SELECT name, value FROM api_monitor_stat WHERE name IN ('flushes', 'flush_errors')")
            stats = dict(cr.fetchall())
            cr.execute("SELECT coalesce(sum(value), 0) FROM api_monitor_counter WHERE endpoint = '/t/locked'")
            return int(stats.get("flushes", 0)), int(stats.get("flush_errors", 0)), cr.fetchone()[0]

    def forget_committed(self):
        """The flush commits on its own connection: take its rows away again, for the tests that run later on
        this database (a second run through pytest-odoo, say)."""
        with store.connect(self.env.cr.dbname) as cr:
            store.forget(cr, ["/t/locked"])
            cr.execute("DELETE FROM api_monitor_bucket WHERE endpoint = '/t/locked'")
            cr.execute("DELETE FROM api_monitor_failure WHERE endpoint = '/t/locked'")

    def test_a_flush_that_cannot_get_a_lock_gives_up_keeps_its_counts_and_writes_them_later(self):
        db = self.env.cr.dbname
        self.addCleanup(self.forget_committed)
        runtime = Runtime()  # a recorder of its own: the process's counts are left alone
        runtime.recorder.record(db, "/t/locked", "GET", 200, "success", 0.02, now=time.time(), request_id="rid-l")
        before = self.committed()
        results = []
        flushing = threading.Thread(target=lambda: results.append(runtime.flush()))
        locker = store.connect(db)  # an upgrade, say, holding the table for as long as it runs
        # the flush's statement that waited too long is logged by Odoo's cursor: expected here
        self.enterContext(expected_logs("odoo.sql_db"))
        try:
            locker.execute("LOCK TABLE api_monitor_counter IN ACCESS EXCLUSIVE MODE")
            flushing.start()
            flushing.join(10 * store.FLUSH_LOCK_TIMEOUT_MS / 1000)
            self.assertFalse(flushing.is_alive(), "the flush still waits for the lock")
        finally:
            locker.rollback()
            locker.close()
            if flushing.is_alive():
                flushing.join()
        [failed] = results
        self.assertEqual(list(failed), [db])
        self.assertIsInstance(failed[db], psycopg2.errors.LockNotAvailable)
        self.assertEqual(self.committed(), before)  # the endpoint admitted before the lock was rolled back too
        self.assertTrue(runtime.recorder.pending)
        self.assertEqual(runtime.flush(), {})
        flushes, errors, requests = self.committed()
        self.assertEqual((flushes - before[0], errors - before[1], requests - before[2]), (1, 1, 1))
        self.assertFalse(runtime.recorder.pending)

    def test_the_last_flush_of_a_stopping_process_waits_out_a_lock_longer_than_a_running_flush_would(self):
        db = self.env.cr.dbname
        self.addCleanup(self.forget_committed)
        runtime = Runtime()
        runtime._pid = os.getpid()  # this process's runtime, as if it had served the request below
        runtime.recorder.record(db, "/t/locked", "GET", 200, "success", 0.02, now=time.time(), request_id="rid-x")
        before = self.committed()
        stopping = threading.Thread(target=runtime._flush_at_exit)
        locker = store.connect(db)
        try:
            locker.execute("LOCK TABLE api_monitor_counter IN ACCESS EXCLUSIVE MODE")
            stopping.start()
            time.sleep(store.FLUSH_LOCK_TIMEOUT_MS / 1000 + 1)  # longer than a running flush waits
            self.assertTrue(stopping.is_alive(), "the last flush gave up as a running flush would")
        finally:
            locker.rollback()
            locker.close()
            stopping.join(30)
        flushes, errors, requests = self.committed()
        self.assertEqual((flushes - before[0], errors - before[1], requests - before[2]), (1, 0, 1))
        self.assertFalse(runtime.recorder.pending)
