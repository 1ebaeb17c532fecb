"""The process-wide recorder, its flusher thread, and the settings each database asked for.

One :class:`~..core.recorder.Recorder` per process. A daemon thread, started with the first request a process
serves (so it exists in every forked worker, never in the master only), flushes on the
:class:`~..core.recorder.FlushPolicy`; ``atexit`` flushes what is left when a worker exits or is recycled
after ``limit_request``; a fork starts the child with empty counts, as they belong to the parent.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time

from ..core.context import RequestContext
from ..core.recorder import Batch, Flusher, FlushPolicy, Recorder
from ..core.settings import Settings
from . import store, wake

_logger = logging.getLogger(__name__)
_DEFAULTS = Settings()


class Runtime:
    """Everything one Odoo process needs to count requests and get the counts into the database."""

    def __init__(self) -> None:
        self.recorder = Recorder()
        self.settings: dict[str, Settings] = {}
        self.flusher = Flusher(self.recorder, self._write, time.time, after_write=self._after_write)
        #: Called with ``(db, batch)`` after each successful write; the alerting layer hooks in here.
        self.listeners: list = []
        self.autostart = True
        #: how long a flush waits for a lock (longer for the last flush of a process that stops)
        self.lock_timeout_ms = store.FLUSH_LOCK_TIMEOUT_MS
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._start_lock = threading.Lock()
        self.recorder.on_server_error = self._wake.set
        #: at most one evaluator wake-up per database per this many seconds from this process
        self.evaluator_wake_interval = 1.0
        self._evaluator_woken: dict[str, float] = {}
        self.listeners.append(self._wake_evaluator)
        #: each hook of the instrumentation and whether it is in place (``instrumentation.selfcheck``)
        self.hooks: dict[str, bool] = {}

    # -- the request's hot path -------------------------------------------------------------------
    def observe(self, ctx: RequestContext, method: str, status: int, duration: float) -> None:
        """Count one request served for ``ctx.db``; no I/O happens here. Never raises: a failure to count is
        logged, and the response goes out as Odoo made it."""
        try:
            if self._pid is None:  # the first request of this process (a fork resets it: _after_fork)
                self._ensure_started()
            self.recorder.observe(ctx, method, status, duration, time.time(),
                                  (self.settings.get(ctx.db) or _DEFAULTS).exclusions)
        except Exception:
            _logger.exception("api_monitor: this request could not be counted")

    # -- flushing ---------------------------------------------------------------------------------
    def flush(self) -> dict[str, Exception]:
        """Write every pending batch now (tests and process exit call this)."""
        return self.flusher.flush()

    def _write(self, db: str, batch: Batch) -> None:
        settings = store.write(db, batch, self.settings.get(db) or Settings(), self.lock_timeout_ms)
        self.settings[db] = settings
        self.recorder.set_cap(settings.endpoint_cap)
        self.flusher.policy = FlushPolicy(interval=min(s.flush_interval for s in self.settings.values()))

    def _after_write(self, db: str, batch: Batch) -> None:
        for listener in self.listeners:
            try:
                listener(db, batch)
            except Exception:
                _logger.exception("api_monitor: a flush listener failed for database %s", db)

    def _wake_evaluator(self, db: str, batch: Batch) -> None:
        """Server errors just reached the database: have the alert rules evaluated now, not at the next minute."""
        if not batch.server_errors:
            return
        now = time.monotonic()
        if now - self._evaluator_woken.get(db, -1e9) < self.evaluator_wake_interval:
            return
        self._evaluator_woken[db] = now
        with store.connect(db, store.FLUSH_LOCK_TIMEOUT_MS) as cr:
            wake.trigger_now(cr, "api_monitor.ir_cron_evaluate")
        wake.notify_cron_workers(db)

    def _loop(self) -> None:
        while True:
            delay = self.flusher.delay()
            self._wake.wait(timeout=1.0 if delay is None else min(delay, 1.0))
            self._wake.clear()
            try:
                self.recorder.drain()  # at least once a second: the deque holds a second of requests at most
                failed = self.flusher.step()
            except Exception:
                _logger.exception("api_monitor: flush failed")
                continue
            for db, exc in (failed or {}).items():
                _logger.warning("api_monitor: could not write counts to %s, keeping them: %s", db, exc)

    # -- process lifecycle ------------------------------------------------------------------------
    def _ensure_started(self) -> None:
        with self._start_lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            if not self.autostart:
                return
            self._thread = threading.Thread(target=self._loop, name="api_monitor flusher", daemon=True)
            self._thread.start()
            atexit.register(self._flush_at_exit)

    def _flush_at_exit(self) -> None:
        if self._pid != os.getpid():
            return
        self.lock_timeout_ms = store.EXIT_LOCK_TIMEOUT_MS
        for db, exc in self.flush().items():
            _logger.warning("api_monitor: counts for %s lost at exit: %s", db, exc)

    def _after_fork(self) -> None:
        # The parent's counts are the parent's to flush, and its locks may have been held mid-flush.
        self.recorder.reset()
        self._wake = threading.Event()
        self.recorder.on_server_error = self._wake.set
        self.flusher = Flusher(
            self.recorder, self._write, time.time, self.flusher.policy, after_write=self._after_write
        )
        self._thread = None
        self._pid = None
        self._start_lock = threading.Lock()


RUNTIME = Runtime()
os.register_at_fork(after_in_child=RUNTIME._after_fork)
