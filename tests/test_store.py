"""The store's SQL on a real PostgreSQL: additive upserts, the cluster-wide cap, the failure cap, pruning."""

import time

from odoo.tests import TransactionCase, tagged

from ..core.endpoints import OTHER
from ..core.recorder import FAILURES_PER_BATCH, Recorder
from ..instrumentation import store

NOW = 1_795_000_000.0  # a fixed instant: 2026-11-18 07:06:40 UTC


def batch_of(*requests, now=NOW):
    """A batch holding ``(endpoint, code, outcome)`` requests, each lasting 0.02 s."""
    recorder = Recorder()
    for i, (endpoint, code, outcome) in enumerate(requests):
        recorder.record("db", endpoint, "POST", code, outcome, 0.02, now=now + i * 0.001,
                        request_id=f"rid-{i}", exception="builtins.KeyError" if outcome == "server_error" else "")
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
        admitted = store.admit_endpoints(self.env.cr, batch, cap=existing + 2)
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
