"""The request's hot path, in process: what the addon adds to every request, in microseconds.

Per request the WSGI wrapper resolves the request id and builds the request context, the hooks note the
route, and the runtime hands the answered request to the recorder (``Recorder.observe``: exclusions,
outcome, method label, one tuple onto a deque); the flusher thread later folds the recorded requests into
batches. This times exactly that code, the fold included (core code, no Odoo needed), over many rounds, and
prints the distribution per request. Target: median at most 20 us.
"""

from __future__ import annotations

import random
import statistics
import time

from core import request_id
from core.context import RequestContext
from core.endpoints import DEFAULT_EXCLUSIONS
from core.outcome import DISPATCHED
from core.recorder import Recorder
from tools.table import percentile, table

ROUNDS = 30
PER_ROUND = 20_000
ENDPOINTS = [f"/web/dataset/call_kw/model_{i}/read" for i in range(200)]
KEY_ERROR = ("builtins.KeyError", "builtins.LookupError", "builtins.Exception")


def one_request(recorder: Recorder, header: str | None, endpoint: str, error: bool) -> None:
    started = time.perf_counter()
    ctx = RequestContext(request_id.resolve(header))
    ctx.db, ctx.route, ctx.endpoint, ctx.monitored = "prod", endpoint, endpoint, True
    ctx.stage, ctx.authenticated = DISPATCHED, True
    if error:
        ctx.exception_names, ctx.exception_message = KEY_ERROR, "'x'"
    recorder.observe(ctx, "POST", 200, time.perf_counter() - started, time.time(), DEFAULT_EXCLUSIONS)


def main() -> None:
    rng = random.Random(7)
    workload = [
        (rng.choice([None, "gw-" + str(i)]), rng.choice(ENDPOINTS), rng.random() < 0.02) for i in range(PER_ROUND)
    ]
    per_request = []
    for _ in range(ROUNDS):
        recorder = Recorder()
        t0 = time.perf_counter_ns()
        for header, endpoint, error in workload:
            one_request(recorder, header, endpoint, error)
        recorder.take()  # folding the queued requests into batches is part of their cost
        per_request.append((time.perf_counter_ns() - t0) / PER_ROUND / 1000)
    median = statistics.median(per_request)
    rows = [["200 endpoints, 2% server errors", ROUNDS, PER_ROUND, median, min(per_request),
             percentile(per_request, 0.9), max(per_request), 20.0, "met" if median <= 20.0 else "MISSED"]]
    print("Hot path per request, in process (us); each round times 20,000 requests and divides")
    print(table(["scenario", "rounds", "requests/round", "median us", "min us", "p90 us", "max us", "target us",
                 "target"], rows))
    print(f"noise: rounds differ by {100 * (max(per_request) - min(per_request)) / statistics.median(per_request):.0f}% "
          "between fastest and slowest")


if __name__ == "__main__":
    main()
