"""Odoo's log as JSON lines, for Loki or Elasticsearch: one object per record, with the request's fields.

Each line holds ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``, ``message``, ``pid``,
and, for records written while a request was served, ``request_id``, ``db``, ``endpoint`` and, on the
access line written once it was answered, its ``outcome``; a record with an exception adds ``exception``
(its formatted traceback). The message is written without the `` request_id=...`` suffix the plain log
carries: the id is a field of its own. Turned on by ``api_monitor_log_json = True`` in Odoo's
configuration file (``instrumentation.logs``).
"""

from __future__ import annotations

import datetime
import json
import logging
import os

FIELDS = ("request_id", "db", "endpoint", "outcome")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        request_id = getattr(record, "request_id", None)
        if request_id:
            message = message.removesuffix(f" request_id={request_id}")
        line = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc).isoformat(
                timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
            "pid": os.getpid(),
        }
        for name in FIELDS:
            value = getattr(record, f"api_monitor_{name}", None) or (request_id if name == "request_id" else None)
            if value:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)
