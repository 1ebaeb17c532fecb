"""Wake Odoo's cron workers at once, or at a precise second.

``ir.cron._trigger(at)`` records when a job should run, but cron workers only look at future triggers
when they poll, about once a minute. The end of a rule's pending time or a delivery retry must not wait
for that: a process-local timer sends the same ``cron_trigger`` notification Odoo uses, at the due
second. The trigger row stays the safety net if this process exits first.
"""

from __future__ import annotations

import logging
import threading
import time

import odoo.sql_db

_logger = logging.getLogger(__name__)
#: Further away than this, the cron workers' own poll is as good as a timer.
HORIZON = 90.0
_timers: dict[tuple[str, str], tuple[float, threading.Timer]] = {}
_lock = threading.Lock()


def notify_cron_workers(dbname: str) -> None:
    """What ``ir.cron._notifydb`` does: tell every cron worker that ``dbname`` has a job ready."""
    with odoo.sql_db.db_connect("postgres").cursor() as cr:
        cr.execute("SELECT pg_notify('cron_trigger', %s)", [dbname])


def trigger_now(cr, cron_xmlid: str) -> None:
    """``ir.cron._trigger()`` in plain SQL on ``cr``, for code that runs without an environment (the flusher)."""
    module, name = cron_xmlid.split(".")
    cr.execute("SELECT res_id FROM ir_model_data WHERE module = %s AND name = %s AND model = 'ir.cron'", [module, name])
    row = cr.fetchone()
    if row is None:
        return
    cr.execute(
        """INSERT INTO ir_cron_trigger (cron_id, call_at, create_date, write_date)
           VALUES (%s, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')""",
        [row[0]],
    )


def wake_at(dbname: str, key: str, at: float) -> None:
    """Notify the cron workers of ``dbname`` at epoch ``at`` (one timer per database and ``key``)."""
    delay = at - time.time()
    if delay > HORIZON:
        return
    with _lock:
        current = _timers.get((dbname, key))
        if current is not None and current[0] <= at and current[1].is_alive():
            return
        if current is not None:
            current[1].cancel()
        timer = threading.Timer(max(0.0, delay) + 0.05, _fire, [dbname, key])
        timer.daemon = True
        _timers[(dbname, key)] = (at, timer)
        timer.start()


def _fire(dbname: str, key: str) -> None:
    with _lock:
        _timers.pop((dbname, key), None)
    try:
        notify_cron_workers(dbname)
    except Exception:  # noqa: BLE001 - the trigger row will be picked up by the next poll
        _logger.warning("api_monitor: could not wake the cron workers of %s", dbname, exc_info=True)
