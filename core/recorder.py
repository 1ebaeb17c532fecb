"""Per-process recorder: counts requests in memory and hands them over in batches.

Odoo serves from several worker processes, and often several hosts, that share nothing but the database.
Each process keeps its own :class:`Recorder`; the request's hot path only appends one tuple to an
in-memory deque, with no lock. A :class:`Flusher` hands the accumulated :class:`Batch` of each database to
a writer (the Odoo layer upserts it on a cursor of its own) on the cadence of a :class:`FlushPolicy`. A
batch that could not be written is merged back, so a database outage delays counts instead of losing them.
"""

from __future__ import annotations

import bisect
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from . import causes
from .causes import Cause
from .context import RequestContext
from .endpoints import DEFAULT_CAP, UNMATCHED, EndpointCap, http_method
from .outcome import CLIENT_ERROR, SERVER_ERROR, classify

#: Upper bounds (seconds) of the request duration histogram; ``+Inf`` is implied after the last one.
LATENCY_BOUNDS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
#: Width of a time bucket in seconds: rule windows are whole multiples of it.
BUCKET_SECONDS = 60
#: Server-error samples kept per endpoint in one batch (the newest ones).
FAILURES_PER_BATCH = 5
#: Longest exception message kept on a failure sample.
MESSAGE_LIMIT = 500

CounterKey = tuple[str, str, int, str]  # endpoint, method, code, outcome
#: db, endpoint, method, code, outcome, now // BUCKET_SECONDS, and whether an authenticated user sent it
TallyKey = tuple[str, str, str, int, str, float, bool]


@dataclass(slots=True)
class Failure:
    """One server error as kept for the on-call engineer: never a body, query string or cookie."""

    at: float
    endpoint: str
    method: str
    code: int
    request_id: str
    exception: str
    message: str
    fingerprint: str = ""
    #: the log lines written while it was served (``core.causes.log_lines``)
    logs: str = ""
    #: seconds it took to serve (its exemplar's value on the duration histogram)
    duration: float = 0.0
    #: the cause it was counted under, with its traceback (kept in the cause's row, not the sample's)
    cause: Cause | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class TimeBucket:
    """Requests of one endpoint within one ``BUCKET_SECONDS`` wide slice of time."""

    requests: int = 0
    server_errors: int = 0
    client_errors: int = 0
    duration_sum: float = 0.0

    def merge(self, other: TimeBucket) -> None:
        self.requests += other.requests
        self.server_errors += other.server_errors
        self.client_errors += other.client_errors
        self.duration_sum += other.duration_sum


@dataclass(slots=True)
class Latency:
    """Non-cumulative counts per ``LATENCY_BOUNDS`` slot (the last slot is ``+Inf``) and their sum."""

    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BOUNDS) + 1))
    total: float = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect.bisect_left(LATENCY_BOUNDS, seconds)] += 1
        self.total += seconds

    def add(self, durations: list[float], total: float) -> None:
        """Count many durations (``total`` is their sum): sorted once, then cut at each bound."""
        durations.sort()
        below = 0
        counts = self.counts
        for slot, bound in enumerate(LATENCY_BOUNDS):
            upto = bisect.bisect_right(durations, bound, below)  # bounds are inclusive, as in Prometheus
            counts[slot] += upto - below
            below = upto
        counts[-1] += len(durations) - below
        self.total += total

    def merge(self, other: Latency) -> None:
        self.counts = [a + b for a, b in zip(self.counts, other.counts)]
        self.total += other.total


@dataclass(slots=True)
class Batch:
    """Everything one process counted for one database since its last successful flush."""

    counters: dict[CounterKey, int] = field(default_factory=dict)
    latency: dict[str, Latency] = field(default_factory=dict)
    buckets: dict[tuple[int, str], TimeBucket] = field(default_factory=dict)
    failures: dict[str, deque[Failure]] = field(default_factory=dict)
    #: server errors per (minute start, endpoint, cause fingerprint)
    causes: dict[tuple[float, str, str], int] = field(default_factory=dict)
    #: each cause seen in this batch: (the cause, first seen, last seen)
    cause_info: dict[str, tuple[Cause, float, float]] = field(default_factory=dict)
    #: endpoints requested by an authenticated user in this batch: only they may fill the whole cap
    trusted: set[str] = field(default_factory=set)
    folds: int = 0
    flush_errors: int = 0

    @property
    def requests(self) -> int:
        return sum(self.counters.values())

    @property
    def server_errors(self) -> int:
        return sum(n for (_, _, _, outcome), n in self.counters.items() if outcome == SERVER_ERROR)

    @property
    def endpoints(self) -> set[str]:
        return {endpoint for endpoint, _, _, _ in self.counters}

    def renamed(self, names: dict[str, str]) -> Batch:
        """A copy with endpoints renamed (to fold them into ``other``), counting the folded requests."""
        if not names:
            return self
        out = Batch(folds=self.folds, flush_errors=self.flush_errors,
                    trusted={names.get(endpoint, endpoint) for endpoint in self.trusted})
        for (endpoint, method, code, outcome), n in self.counters.items():
            if endpoint in names:
                out.folds += n
            key = (names.get(endpoint, endpoint), method, code, outcome)
            out.counters[key] = out.counters.get(key, 0) + n
        for endpoint, latency in self.latency.items():
            out.latency.setdefault(names.get(endpoint, endpoint), Latency()).merge(latency)
        for (start, endpoint), bucket in self.buckets.items():
            out.buckets.setdefault((start, names.get(endpoint, endpoint)), TimeBucket()).merge(bucket)
        for endpoint, samples in self.failures.items():
            name = names.get(endpoint, endpoint)
            target = out.failures.setdefault(name, deque(maxlen=FAILURES_PER_BATCH))
            for sample in samples:
                target.append(
                    Failure(sample.at, name, sample.method, sample.code, sample.request_id,
                            sample.exception, sample.message, sample.fingerprint, sample.logs, sample.duration,
                            sample.cause)
                )
        for (start, endpoint, fingerprint), n in self.causes.items():
            key = (start, names.get(endpoint, endpoint), fingerprint)
            out.causes[key] = out.causes.get(key, 0) + n
        out.cause_info = dict(self.cause_info)
        return out

    def merge(self, other: Batch) -> None:
        """Add ``other`` (an older batch that failed to flush) into this one."""
        for key, n in other.counters.items():
            self.counters[key] = self.counters.get(key, 0) + n
        for endpoint, latency in other.latency.items():
            self.latency.setdefault(endpoint, Latency()).merge(latency)
        for key, bucket in other.buckets.items():
            self.buckets.setdefault(key, TimeBucket()).merge(bucket)
        for endpoint, samples in other.failures.items():
            mine = self.failures.setdefault(endpoint, deque(maxlen=FAILURES_PER_BATCH))
            newest = list(mine)
            mine.clear()
            mine.extend(sorted([*samples, *newest], key=lambda f: f.at))
        for key, n in other.causes.items():
            self.causes[key] = self.causes.get(key, 0) + n
        for fingerprint, (cause, first, last) in other.cause_info.items():
            if fingerprint in self.cause_info:
                newer, my_first, my_last = self.cause_info[fingerprint]
                self.cause_info[fingerprint] = (newer, min(first, my_first), max(last, my_last))
            else:
                self.cause_info[fingerprint] = (cause, first, last)
        self.trusted |= other.trusted
        self.folds += other.folds
        self.flush_errors += other.flush_errors


class Recorder:
    """Counts requests of one process, per database, with no I/O.

    Counting a request is the request's hot path: :meth:`record` appends one tuple to a deque, which needs
    no lock (``deque.append`` is atomic), and keeps a sample of each server error. :meth:`drain` folds
    what was added into the per-database :class:`Batch` es: the durations of the requests that share a
    database, endpoint, method, status, outcome and minute are gathered into one list, then counted and
    sorted into the latency histogram. The flusher thread calls it at least once a second and
    :meth:`take` before it hands the batches over.

    >>> rec = Recorder()
    >>> rec.record("prod", "/web/dataset/call_kw/res.partner/read", "POST", 200, "server_error", 0.02,
    ...            now=1700000000.0, request_id="abc", exception="builtins.KeyError", message="'x'")
    >>> batches = rec.take()
    >>> batches["prod"].server_errors
    1
    """

    def __init__(self, cap: int = DEFAULT_CAP) -> None:
        self.cap = cap
        #: Where addon code lives (Odoo's addons paths): a server error's cause is its innermost frame there.
        self.addon_roots: tuple[str, ...] = ()
        #: Called on each server error, to wake whatever flushes.
        self.on_server_error: Callable[[], None] | None = None
        self.reset()

    def reset(self) -> None:
        """Forget everything: used in a freshly forked worker, whose parent's counts are not its own."""
        self._lock = threading.Lock()
        #: (tally key, duration) of each request counted and not yet folded
        self._added: deque[tuple[TallyKey, float]] = deque()
        #: (db, server error sample) in the order they were served
        self._failures: list[tuple[str, Failure]] = []
        self._batches: dict[str, Batch] = {}
        self._caps: dict[str, EndpointCap] = {}
        self.server_errors_pending = False

    def record(
        self,
        db: str,
        endpoint: str,
        method: str,
        code: int,
        outcome: str,
        duration: float,
        now: float,
        request_id: str = "",
        exception: str = "",
        message: str = "",
        trusted: bool = False,
        cause: Cause | None = None,
        logs: str = "",
    ) -> None:
        """Count one served request, keeping a sample of it when it is a server error: memory only, no I/O.
        ``trusted``: an authenticated user sent it (see :attr:`Batch.trusted`)."""
        self._added.append(((db, endpoint, method, code, outcome, now // BUCKET_SECONDS, trusted), duration))
        if outcome == SERVER_ERROR:
            # added after its count, so a fold that sees the sample has seen its endpoint too
            with self._lock:
                self._failures.append(
                    (db, Failure(now, endpoint, method, code, request_id, exception, message[:MESSAGE_LIMIT],
                                 cause.fingerprint if cause else "", logs, duration, cause))
                )
                self.server_errors_pending = True
            if self.on_server_error is not None:
                self.on_server_error()

    def observe(self, ctx: RequestContext, method: str, status: int, duration: float, now: float,
                exclusions: tuple[str, ...] = ()) -> None:
        """Count the request ``ctx`` describes (the runtime calls this once it was answered): its endpoint,
        its bounded method label, its outcome. Requests under an excluded route prefix are not counted."""
        endpoint = ctx.endpoint or UNMATCHED
        if endpoint.startswith(exclusions):
            return
        outcome = classify(status, ctx.exception_names, ctx.exception_status, ctx.stage, bool(ctx.caller_mistake))
        names = ctx.exception_names
        cause, logs = None, ""
        if outcome == SERVER_ERROR:
            if ctx.exception is not None:
                cause = causes.of(ctx.exception, self.addon_roots)
            logs = causes.log_lines(ctx.log_records)
        ctx.exception, ctx.log_records = None, []  # their frames and arguments are let go with them
        ctx.outcome = outcome
        self.record(ctx.db, endpoint, http_method(method), status, outcome, duration, now, ctx.request_id,
                    names[0] if names else "", ctx.exception_message, trusted=ctx.authenticated, cause=cause,
                    logs=logs)

    def drain(self) -> int:
        """Fold what was added into the batches; returns how many requests were folded."""
        with self._lock:
            return self._fold()

    def _batch(self, db: str) -> Batch:
        batch = self._batches.get(db)
        if batch is None:
            batch = self._batches[db] = Batch()
        return batch

    def _cap(self, db: str) -> EndpointCap:
        cap = self._caps.get(db)
        if cap is None:
            cap = self._caps[db] = EndpointCap(self.cap)
        return cap

    def _fold(self) -> int:
        """Fold and empty the added requests and the failure samples (the lock held)."""
        added, failures = self._added, self._failures
        self._failures = []
        tallies: dict[TallyKey, list[float]] = {}
        for _ in range(len(added)):  # only the requests added so far: one added meanwhile waits for the next fold
            key, duration = added.popleft()
            tallies.setdefault(key, []).append(duration)
        folded = 0
        for (db, endpoint, method, code, outcome, minute, trusted), durations in tallies.items():
            n, seconds = len(durations), sum(durations)
            folded += n
            batch = self._batch(db)
            name = self._cap(db).admit(endpoint)
            if name != endpoint:
                batch.folds += n
            if trusted:
                batch.trusted.add(name)
            key = (name, method, code, outcome)
            batch.counters[key] = batch.counters.get(key, 0) + n
            latency = batch.latency.get(name)
            if latency is None:
                latency = batch.latency[name] = Latency()
            latency.add(durations, seconds)
            slot = (int(minute) * BUCKET_SECONDS, name)
            bucket = batch.buckets.get(slot)
            if bucket is None:
                bucket = batch.buckets[slot] = TimeBucket()
            bucket.requests += n
            bucket.duration_sum += seconds
            if outcome == CLIENT_ERROR:
                bucket.client_errors += n
            elif outcome == SERVER_ERROR:
                bucket.server_errors += n
        for db, sample in failures:
            batch = self._batch(db)
            sample.endpoint = name = self._cap(db).admit(sample.endpoint)  # admitted with its durations above
            samples = batch.failures.get(name)
            if samples is None:
                samples = batch.failures[name] = deque(maxlen=FAILURES_PER_BATCH)
            samples.append(sample)
            if sample.cause is not None:
                key = (int(sample.at // BUCKET_SECONDS * BUCKET_SECONDS), name, sample.fingerprint)
                batch.causes[key] = batch.causes.get(key, 0) + 1
                known = batch.cause_info.get(sample.fingerprint)
                batch.cause_info[sample.fingerprint] = (sample.cause, known[1] if known else sample.at, sample.at)
        return folded

    def take(self) -> dict[str, Batch]:
        """Hand over every database's batch and start afresh."""
        with self._lock:
            self._fold()
            batches, self._batches = self._batches, {}
            self.server_errors_pending = False
        return batches

    def restore(self, db: str, batch: Batch) -> None:
        """Put back a batch that could not be written, merging it with what came since.

        It is retried on the regular interval, not the error interval, so that a database outage is not
        hammered once a second.
        """
        with self._lock:
            current = self._batches.get(db)
            if current is None:
                self._batches[db] = batch
            else:
                batch.merge(current)
                self._batches[db] = batch

    def set_cap(self, cap: int) -> None:
        """Change the cap on distinct endpoints; names already admitted stay."""
        with self._lock:
            self.cap = cap
            for endpoint_cap in self._caps.values():
                endpoint_cap.limit = cap

    @property
    def pending(self) -> bool:
        with self._lock:
            return bool(self._added) or any(batch.counters or batch.flush_errors for batch in self._batches.values())


@dataclass(frozen=True, slots=True)
class FlushPolicy:
    """When to flush: every ``interval`` seconds, or ``error_interval`` after the previous flush when a
    server error is waiting, so that an outage reaches the evaluator within about a second without letting
    a burst of errors turn into a flush per request.
    """

    interval: float = 5.0
    error_interval: float = 1.0

    def delay(self, now: float, last_flush: float, pending: bool, server_errors: bool) -> float | None:
        """Seconds until the next flush is due (0 when due now), or None when nothing waits."""
        if not pending:
            return None
        wait = self.error_interval if server_errors else self.interval
        return max(0.0, last_flush + wait - now)


Writer = Callable[[str, Batch], None]


class Flusher:
    """Drives a :class:`Recorder` to a writer, one :meth:`step` at a time (a thread loops over it).

    ``writer(db, batch)`` writes one database's batch in one transaction and raises on failure.
    ``after_write(db, batch)`` runs after a successful write (the Odoo layer wakes the evaluator there).
    ``phase``: seconds of the first interval taken as already past, random by default: workers started
    together (a server start, a deployment) then flush at moments spread over the interval instead of all
    at once, which would queue them on the rows they all add to (``bench.many_hosts``).
    """

    def __init__(
        self,
        recorder: Recorder,
        writer: Writer,
        clock: Callable[[], float],
        policy: FlushPolicy = FlushPolicy(),
        after_write: Writer | None = None,
        phase: float | None = None,
    ) -> None:
        self.recorder = recorder
        self.writer = writer
        self.clock = clock
        self.policy = policy
        self.after_write = after_write
        self.last_flush = clock() - (random.uniform(0, policy.interval) if phase is None else phase)
        self._flush_lock = threading.Lock()

    def delay(self) -> float | None:
        """Seconds until the next flush is due, or None when nothing waits."""
        return self.policy.delay(
            self.clock(), self.last_flush, self.recorder.pending, self.recorder.server_errors_pending
        )

    def step(self) -> dict[str, Exception] | None:
        """Flush if due: None when it was not, else what :meth:`flush` returned."""
        delay = self.delay()
        if delay is None or delay > 0:
            return None
        return self.flush()

    def flush(self) -> dict[str, Exception]:
        """Write every pending batch now; returns the databases whose write failed, with the error."""
        failed: dict[str, Exception] = {}
        with self._flush_lock:
            self.last_flush = self.clock()
            for db, batch in self.recorder.take().items():
                try:
                    self.writer(db, batch)
                except Exception as exc:  # noqa: BLE001 - any failure keeps the counts for the next try
                    batch.flush_errors += 1
                    self.recorder.restore(db, batch)
                    failed[db] = exc
                    continue
                if self.after_write is not None:
                    self.after_write(db, batch)
        return failed
