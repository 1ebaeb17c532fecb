"""Odoo's log as JSON lines: a request's fields on its lines, the access line's outcome, exceptions."""

import json
import logging

from core.jsonlog import JsonFormatter


def line(msg, *args, exc_info=None, **extra):
    record = logging.LogRecord("odoo.addons.sale", logging.ERROR, __file__, 1, msg, args, exc_info)
    record.created = 1_700_000_000.25
    for key, value in extra.items():
        setattr(record, key, value)
    return json.loads(JsonFormatter().format(record))


def test_a_line_of_a_request_carries_its_fields_and_its_message_without_the_suffix():
    got = line("order %s failed request_id=abc123", 42, request_id="abc123", api_monitor_db="prod",
               api_monitor_endpoint="/web/dataset/call_kw/sale.order/action_confirm")
    del got["pid"]
    assert got == {"time": "2023-11-14T22:13:20.250Z", "level": "ERROR", "logger": "odoo.addons.sale",
                   "message": "order 42 failed", "request_id": "abc123", "db": "prod",
                   "endpoint": "/web/dataset/call_kw/sale.order/action_confirm"}


def test_the_access_line_says_the_outcome_and_an_exception_its_traceback():
    assert line("POST /jsonrpc 200", request_id="r1", api_monitor_outcome="server_error")["outcome"] == "server_error"
    try:
        raise KeyError("x")
    except KeyError:
        import sys

        got = line("boom", exc_info=sys.exc_info())
    assert got["exception"].startswith("Traceback (most recent call last):")
    assert got["exception"].endswith("KeyError: 'x'")
    assert "request_id" not in got  # a line written outside any request has none
