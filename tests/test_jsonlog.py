"""Odoo's log as JSON lines, on the real Odoo: a failing request's lines carry its request id, database and
endpoint, and the access line its outcome."""

import json
import logging

from odoo.tests import tagged

from ..instrumentation import logs
from .common import MonitorHttpCase


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


@tagged("post_install", "-at_install")
class TestJsonLog(MonitorHttpCase):
    def test_a_failing_requests_lines_carry_its_fields_and_the_access_line_its_outcome(self):
        capture = _Capture()
        self.assertTrue(logs.use_json({"api_monitor_log_json": "True"}, [capture]))
        self.assertFalse(logs.use_json({}, [capture]))
        root = logging.getLogger()
        root.addHandler(capture)
        try:
            response = self.url_open("/api_monitor_test/broken_total")
        finally:
            root.removeHandler(capture)
        request_id = response.headers["X-Request-ID"]
        mine = [line for line in capture.lines if line.get("request_id") == request_id]
        averaging = next(line for line in mine if line["logger"] == "odoo.addons.api_monitor.tests.common")
        self.assertEqual({k: averaging[k] for k in ("level", "message", "db", "endpoint")},
                         {"level": "INFO", "message": "averaging the prices of 0 lines for ada@example.com",
                          "db": self.env.cr.dbname, "endpoint": "/api_monitor_test/broken_total"})
        access = next(line for line in mine if line["logger"] == "werkzeug")
        self.assertEqual(access["outcome"], "server_error")
        self.assertIn("GET /api_monitor_test/broken_total", access["message"])
