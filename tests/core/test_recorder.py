from collections import deque

import pytest

from core.endpoints import OTHER
from core.recorder import (
    BUCKET_SECONDS,
    FAILURES_PER_BATCH,
    LATENCY_BOUNDS,
    Batch,
    Failure,
    Flusher,
    FlushPolicy,
    Latency,
    Recorder,
    TimeBucket,
)

T0 = 1_795_000_040.0  # 20 s into a minute


class Clock:
    def __init__(self, now=T0):
        self.now = now

    def __call__(self):
        return self.now


def record(rec, endpoint="/e", code=200, outcome="success", duration=0.02, now=T0, db="db", rid="r"):
    rec.record(db, endpoint, "POST", code, outcome, duration, now=now, request_id=rid,
               exception="builtins.KeyError" if outcome == "server_error" else "", message="m")


def test_recorded_requests_are_summed_per_database_endpoint_and_minute():
    rec = Recorder()
    record(rec)
    record(rec, duration=0.3)
    record(rec, code=404, outcome="client_error", now=T0 + 30)
    record(rec, code=200, outcome="server_error", now=T0 + 41, rid="bad-1")
    record(rec, endpoint="/f", db="other_db")
    batches = rec.take()
    assert sorted(batches) == ["db", "other_db"]
    batch = batches["db"]
    assert batch.counters == {
        ("/e", "POST", 200, "success"): 2,
        ("/e", "POST", 404, "client_error"): 1,
        ("/e", "POST", 200, "server_error"): 1,
    }
    minute = int(T0 // BUCKET_SECONDS) * BUCKET_SECONDS
    assert batch.buckets == {
        (minute, "/e"): TimeBucket(requests=3, server_errors=0, client_errors=1, duration_sum=pytest.approx(0.34)),
        (minute + 60, "/e"): TimeBucket(requests=1, server_errors=1, client_errors=0, duration_sum=pytest.approx(0.02)),
    }
    assert batch.latency["/e"].counts == [0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0, 0]
    assert list(batch.failures["/e"]) == [Failure(T0 + 41, "/e", "POST", 200, "bad-1", "builtins.KeyError", "m",
                                                  duration=pytest.approx(0.02))]
    assert rec.take() == {}


def test_requests_of_one_minute_share_its_bucket_whatever_their_second():
    rec = Recorder()
    rec.record("db", "/e", "POST", 200, "success", 0.5, now=T0)
    record(rec, duration=0.02)
    batch = rec.take()["db"]
    assert batch.counters == {("/e", "POST", 200, "success"): 2}
    minute = int(T0 // BUCKET_SECONDS) * BUCKET_SECONDS
    assert list(batch.buckets) == [(minute, "/e")]
    assert type(list(batch.buckets)[0][0]) is int
    assert batch.buckets[minute, "/e"] == TimeBucket(requests=2, duration_sum=pytest.approx(0.52))
    assert batch.latency["/e"].counts == [0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]  # 0.02 s and 0.5 s


def test_a_request_added_while_a_fold_runs_waits_for_the_next_fold():
    class AddedDuringPop(deque):
        """A deque that has another request added while its first item is taken, as a thread may."""

        def popleft(self):
            item = super().popleft()
            if item[1] == 0.1:
                self.append((("db", "/e", "POST", 200, "success", 5, False), 0.2))
            return item

    rec = Recorder()
    rec._added = AddedDuringPop()
    rec.record("db", "/e", "POST", 200, "success", 0.1, now=5 * BUCKET_SECONDS)
    assert rec.drain() == 1
    assert list(rec._added) == [(("db", "/e", "POST", 200, "success", 5, False), 0.2)]
    assert rec.drain() == 1
    assert rec.take()["db"].counters == {("/e", "POST", 200, "success"): 2}


def test_latency_bounds_are_inclusive_upper_bounds_like_prometheus():
    latency = Latency()
    for seconds in (0.005, 0.0051, 10.0, 10.5):
        latency.observe(seconds)
    assert latency.counts == [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]


def test_many_durations_at_once_land_where_one_at_a_time_would():
    import random

    rng = random.Random(3)
    durations = [rng.choice([*LATENCY_BOUNDS, 0.0, 0.0001, 20.0]) if rng.random() < 0.3 else rng.uniform(0, 12)
                 for _ in range(2000)]
    one_by_one, at_once = Latency(), Latency()
    for seconds in durations:
        one_by_one.observe(seconds)
    at_once.add(list(durations), sum(durations))
    assert at_once.counts == one_by_one.counts
    assert sum(at_once.counts) == 2000
    assert at_once.total == pytest.approx(one_by_one.total)


def test_only_the_newest_failures_of_a_batch_are_kept_per_endpoint():
    rec = Recorder()
    for i in range(FAILURES_PER_BATCH + 3):
        record(rec, outcome="server_error", now=T0 + i, rid=f"r{i}")
    failures = rec.take()["db"].failures["/e"]
    assert [f.request_id for f in failures] == [f"r{i}" for i in range(3, FAILURES_PER_BATCH + 3)]


def test_messages_are_truncated_to_500_characters():
    rec = Recorder()
    rec.record("db", "/e", "GET", 500, "server_error", 0.1, now=T0, message="x" * 2000)
    assert len(rec.take()["db"].failures["/e"][0].message) == 500


def test_per_process_cap_folds_newcomers_and_counts_the_folds():
    rec = Recorder(cap=2)
    for name in ("/a", "/b", "/c", "/d", "/a"):
        record(rec, endpoint=name)
    batch = rec.take()["db"]
    assert batch.counters == {("/a", "POST", 200, "success"): 2, ("/b", "POST", 200, "success"): 1,
                              (OTHER, "POST", 200, "success"): 2}
    assert batch.folds == 2


def test_restored_batch_merges_with_what_came_since():
    rec = Recorder()
    record(rec, outcome="server_error", rid="old")
    failed = rec.take()["db"]
    failed.flush_errors += 1
    record(rec, now=T0 + 1)
    rec.restore("db", failed)
    batch = rec.take()["db"]
    assert batch.counters == {("/e", "POST", 200, "server_error"): 1, ("/e", "POST", 200, "success"): 1}
    assert batch.flush_errors == 1
    assert [f.request_id for f in batch.failures["/e"]] == ["old"]


def test_renamed_batch_moves_every_count_and_counts_folded_requests():
    rec = Recorder()
    record(rec, endpoint="/keep")
    record(rec, endpoint="/fold", outcome="server_error", rid="f1")
    record(rec, endpoint="/fold")
    batch = rec.take()["db"].renamed({"/fold": OTHER})
    assert batch.counters == {("/keep", "POST", 200, "success"): 1, (OTHER, "POST", 200, "server_error"): 1,
                              (OTHER, "POST", 200, "success"): 1}
    assert batch.folds == 2
    assert sorted(endpoint for _, endpoint in batch.buckets) == ["/keep", OTHER]
    assert [f.endpoint for f in batch.failures[OTHER]] == [OTHER]
    assert batch.latency[OTHER].counts[2] == 2


@pytest.mark.parametrize(
    ("since_last", "pending", "server_errors", "expected"),
    [
        (0.0, False, False, None),
        (0.0, True, False, 5.0),
        (4.5, True, False, 0.5),
        (7.0, True, False, 0.0),
        (0.2, True, True, 0.8),
        (1.0, True, True, 0.0),
    ],
)
def test_flush_policy_waits_the_interval_or_one_second_for_server_errors(since_last, pending, server_errors, expected):
    policy = FlushPolicy(interval=5.0, error_interval=1.0)
    assert policy.delay(T0 + since_last, T0, pending, server_errors) == pytest.approx(expected) if expected is not None \
        else policy.delay(T0 + since_last, T0, pending, server_errors) is None


class Sink:
    def __init__(self):
        self.written = []
        self.fail = False

    def __call__(self, db, batch):
        if self.fail:
            raise ConnectionError("database unreachable")
        self.written.append((db, batch.requests))


def test_flusher_writes_on_schedule_and_sooner_for_server_errors():
    clock, sink, rec = Clock(), Sink(), Recorder()
    flusher = Flusher(rec, sink, clock, FlushPolicy(interval=5.0, error_interval=1.0), phase=0.0)
    record(rec)
    clock.now += 4.9
    assert flusher.step() is None
    clock.now += 0.1
    assert flusher.step() == {}
    assert sink.written == [("db", 1)]
    record(rec, outcome="server_error", now=clock.now)
    clock.now += 0.5
    assert flusher.step() is None
    clock.now += 0.5
    assert flusher.step() == {}
    assert sink.written == [("db", 1), ("db", 1)]
    clock.now += 60
    assert flusher.step() is None  # nothing pending, nothing written


def test_flushers_started_together_flush_at_their_own_phase_of_the_interval():
    clock, sink, rec = Clock(), Sink(), Recorder()
    flusher = Flusher(rec, sink, clock, FlushPolicy(interval=5.0), phase=2.0)
    record(rec)
    clock.now += 2.9
    assert flusher.step() is None
    clock.now += 0.1
    assert flusher.step() == {}  # 3 s after the start: its phase of 2 s was taken as past
    record(rec, now=clock.now)
    clock.now += 4.9
    assert flusher.step() is None  # then every 5 s
    clock.now += 0.1
    assert flusher.step() == {}
    phases = {T0 - Flusher(Recorder(), sink, lambda: T0, FlushPolicy(interval=5.0)).last_flush for _ in range(50)}
    assert len(phases) == 50 and all(0 <= phase <= 5.0 for phase in phases)


def test_flusher_keeps_counts_through_a_failed_write_and_reports_the_failure():
    clock, sink, rec = Clock(), Sink(), Recorder()
    flusher = Flusher(rec, sink, clock, FlushPolicy(interval=5.0), phase=0.0)
    record(rec)
    sink.fail = True
    failed = flusher.flush()
    assert list(failed) == ["db"] and isinstance(failed["db"], ConnectionError)
    record(rec, now=T0 + 1)
    sink.fail = False
    batches = []
    flusher.writer = lambda db, batch: batches.append(batch)
    assert flusher.flush() == {}
    assert batches[0].requests == 2
    assert batches[0].flush_errors == 1


def test_after_write_hook_sees_each_written_batch():
    seen = []
    rec = Recorder()
    flusher = Flusher(rec, lambda db, b: None, Clock(), after_write=lambda db, b: seen.append((db, b.server_errors)))
    record(rec, outcome="server_error")
    flusher.flush()
    assert seen == [("db", 1)]


def test_server_error_wakes_whatever_flushes():
    woken = []
    rec = Recorder()
    rec.on_server_error = lambda: woken.append(True)
    record(rec)
    record(rec, code=404, outcome="client_error")
    assert woken == []
    record(rec, outcome="server_error")
    assert woken == [True]
    assert rec.server_errors_pending


def test_batch_merge_keeps_newest_failures_in_time_order():
    a = Batch(failures={"/e": deque([Failure(3.0, "/e", "GET", 500, "c", "", "")], maxlen=FAILURES_PER_BATCH)})
    b = Batch(failures={"/e": deque([Failure(1.0, "/e", "GET", 500, "a", "", ""),
                                     Failure(2.0, "/e", "GET", 500, "b", "", "")], maxlen=FAILURES_PER_BATCH)})
    a.merge(b)
    assert [f.request_id for f in a.failures["/e"]] == ["a", "b", "c"]


def test_requests_recorded_while_another_thread_drains_are_all_counted_once():
    import threading

    rec = Recorder()
    per_thread, threads = 20_000, 4
    start = threading.Barrier(threads + 1)

    def serve(n):
        start.wait()
        for i in range(per_thread):
            record(rec, endpoint=f"/e{n}", outcome="server_error" if i % 100 == 0 else "success")

    workers = [threading.Thread(target=serve, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    drained = 0
    while any(worker.is_alive() for worker in workers):
        drained += rec.drain()
    for worker in workers:
        worker.join()
    batch = rec.take()["db"]
    assert batch.requests == per_thread * threads
    assert batch.server_errors == per_thread * threads // 100
    assert {endpoint for _, endpoint in batch.buckets} == {f"/e{n}" for n in range(threads)}
    assert drained <= per_thread * threads


def test_the_queue_is_folded_by_drain_and_pending_until_taken():
    rec = Recorder()
    assert not rec.pending
    record(rec)
    record(rec, outcome="server_error")
    assert rec.pending
    assert rec.drain() == 2
    assert rec.drain() == 0
    assert rec.pending  # folded into the batch, not yet handed over
    assert rec.server_errors_pending
    assert rec.take()["db"].requests == 2
    assert not rec.pending
    assert not rec.server_errors_pending


def test_an_endpoint_an_authenticated_user_requested_is_trusted_in_the_batch_and_kept_through_a_retry():
    rec = Recorder()
    rec.record("db", "/anonymous", "GET", 200, "success", 0.01, now=T0)
    rec.record("db", "/both", "GET", 200, "success", 0.01, now=T0)
    rec.record("db", "/both", "GET", 200, "success", 0.01, now=T0, trusted=True)
    rec.record("db", "/user", "POST", 200, "success", 0.01, now=T0, trusted=True)
    batch = rec.take()["db"]
    assert batch.trusted == {"/both", "/user"}
    assert batch.counters[("/both", "GET", 200, "success")] == 2
    rec.restore("db", batch)
    rec.record("db", "/later", "GET", 200, "success", 0.01, now=T0 + 5, trusted=True)
    assert rec.take()["db"].trusted == {"/both", "/user", "/later"}
    assert batch.renamed({"/user": "other"}).trusted == {"/both", "other", "/later"}
