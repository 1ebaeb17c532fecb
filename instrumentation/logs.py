"""Put the request id on every log line emitted while a request is served, and keep the request's first lines.

A log record factory appends `` request_id=<id>`` to the message of records created in a thread that is
serving a request. The request's context (and so its id) stays on the thread until its next request
starts, so werkzeug's access line, written just after the response, carries it too. The first
``LOG_RECORDS`` records of a request the addon counts are kept on its context: if it ends in a server
error, they are formatted, scrubbed and kept with its sample (``core.recorder``), so the on-call engineer
reads them in Odoo without a log stack.
"""

from __future__ import annotations

import logging

from ..core.context import LOG_RECORDS, current
from ..core.jsonlog import JsonFormatter

#: (the factory found at install, the addon's), once installed
_factories: tuple = ()


def install() -> None:
    global _factories
    if _factories:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        ctx = current()
        request_id = ctx.request_id if ctx is not None else None
        if request_id:
            record.request_id = request_id
            record.api_monitor_db = ctx.db
            record.api_monitor_endpoint = ctx.endpoint
            if ctx.outcome:  # the access line, written once it was counted
                record.api_monitor_outcome = ctx.outcome
            if ctx.monitored and len(ctx.log_records) < LOG_RECORDS:
                ctx.log_records.append(record)
            # request ids never contain '%', so the suffix cannot disturb %-formatting of the args
            record.msg = f"{record.msg} request_id={request_id}"
        return record

    logging.setLogRecordFactory(factory)
    _factories = (previous, factory)



def installed() -> bool:
    """Whether the addon's factory is the one ``logging`` uses now (another library may have replaced it)."""
    return bool(_factories) and logging.getLogRecordFactory() is _factories[1]


def use_json(config, handlers=None) -> bool:
    """Write Odoo's log (the root logger's ``handlers``) as JSON lines (``core.jsonlog``) when its
    configuration says ``api_monitor_log_json = True``; returns whether it does."""
    if str(config.get("api_monitor_log_json", "")).strip().lower() not in ("1", "true", "yes", "on"):
        return False
    for handler in logging.getLogger().handlers if handlers is None else handlers:
        handler.setFormatter(JsonFormatter())
    return True
