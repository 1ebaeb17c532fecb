"""From the page to the cause: a broken method raises one incident whose causes list exactly one
fingerprint with the right count, and a traceback that ends in the broken method."""

import time

from odoo.tests import new_test_user, tagged

from ..storage import store
from ..storage.runtime import RUNTIME
from .common import MonitorHttpCase

ENDPOINT = "/api_monitor_test/broken_total"


@tagged("post_install", "-at_install")
class TestCauses(MonitorHttpCase):
    def test_a_broken_method_raises_one_incident_with_one_cause_counted_right_and_its_traceback(self):
        RUNTIME.recorder.take()  # what earlier tests left unflushed is theirs
        for _ in range(25):
            self.assertEqual(self.url_open(ENDPOINT).status_code, 500)
        # the flush's own code, on the test's transaction (which a flush's own commit would not show it)
        batch = RUNTIME.recorder.take()[self.env.cr.dbname]
        store.write_batch(self.env.cr, store.admit_endpoints(self.env.cr, batch, 2000, 20))
        now = time.time()
        Rule = self.env["api.monitor.rule"]
        Rule._evaluate(now=now)
        Rule._evaluate(now=now + 65)  # after the shipped rule's pending minute
        incident = self.env["api.monitor.incident"].search([("endpoint", "=", ENDPOINT)])
        self.assertEqual(len(incident), 1)
        (cause,) = incident._causes()
        self.assertEqual(cause["count"], 25)
        record = cause["cause"]
        self.assertEqual(record.exception, "builtins.ZeroDivisionError")
        self.assertRegex(record.location, r"^api_monitor/tests/common\.py:\d+ in _average_price$")
        traceback = record.sudo().traceback
        self.assertTrue(traceback.startswith("Traceback (most recent call last):"))
        last_frame = [line for line in traceback.splitlines() if line.startswith("  File ")][-1]
        self.assertRegex(last_frame, r'api_monitor/tests/common\.py", line \d+, in _average_price$')
        self.assertTrue(traceback.rstrip().endswith("ZeroDivisionError: division by zero"))
        self.assertEqual(len(cause["request_ids"]), 3)
        self.assertEqual(incident.cause_ids, record)
        self.assertIn("builtins.ZeroDivisionError", incident.causes_summary)
        # the samples link back: the failure's form lists its incident and its cause
        failure = self.env["api.monitor.failure"].search([("request_id", "=", cause["request_ids"][0])])
        self.assertEqual((failure.cause_id, failure.incident_ids), (record, incident))
        # and keeps what Odoo logged while serving it, scrubbed, with its request id
        logged = failure.sudo().log_lines.splitlines()
        self.assertRegex(logged[0], r"^\d\d:\d\d:\d\d INFO odoo\.addons\.api_monitor\.tests\.common: averaging the "
                                    r"prices of 0 lines for <email> request_id=" + failure.request_id + "$")
        # a monitoring user sees the cause, not its traceback
        user = new_test_user(self.env, "cause_reader", groups="base.group_user,api_monitor.group_api_monitor_user")
        self.assertEqual(record.with_user(user).location, record.location)
        self.assertNotIn("traceback", record.with_user(user).fields_get())
