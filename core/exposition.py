"""Render the cluster-wide counters in the Prometheus text format, with ``prometheus_client``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

from .recorder import LATENCY_BOUNDS

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_LE = [floatToGoString(bound) for bound in LATENCY_BOUNDS] + ["+Inf"]


@dataclass(slots=True)
class Snapshot:
    """What the database holds, summed over every process that flushed into it."""

    #: ``(endpoint, method, code, outcome, count)``
    requests: list[tuple[str, str, int, str, int]] = field(default_factory=list)
    #: ``(endpoint, non-cumulative counts per LATENCY_BOUNDS slot then +Inf, sum of seconds)``
    latency: list[tuple[str, list[int], float]] = field(default_factory=list)
    flushes: int = 0
    flush_errors: int = 0
    folded_endpoints: int = 0
    #: Seconds since the newest flush of any process, None when nothing was ever flushed.
    last_flush_age: float | None = None


class _SnapshotCollector:
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot
        requests = CounterMetricFamily(
            "http_requests",
            "HTTP requests served by Odoo, by endpoint, method, status code and outcome.",
            labels=["endpoint", "method", "code", "outcome"],
        )
        for endpoint, method, code, outcome, count in sorted(snap.requests):
            requests.add_metric([endpoint, method, str(code), outcome], count)
        yield requests

        duration = HistogramMetricFamily(
            "http_request_duration_seconds",
            "Time Odoo took to serve a request, by endpoint.",
            labels=["endpoint"],
        )
        for endpoint, counts, total in sorted(snap.latency):
            duration.add_metric([endpoint], list(zip(_LE, accumulate(counts))), sum_value=total)
        yield duration

        yield CounterMetricFamily(
            "api_monitor_flushes", "Batches of counts written to the database.", value=snap.flushes
        )
        yield CounterMetricFamily(
            "api_monitor_flush_errors",
            "Attempts to write a batch of counts that failed (the counts were kept and written later).",
            value=snap.flush_errors,
        )
        yield CounterMetricFamily(
            "api_monitor_folded_endpoints",
            "Requests counted under endpoint=\"other\" because the cap on distinct endpoints was reached.",
            value=snap.folded_endpoints,
        )
        if snap.last_flush_age is not None:
            yield GaugeMetricFamily(
                "api_monitor_last_flush_age_seconds",
                "Seconds since the newest flush of any Odoo process.",
                value=snap.last_flush_age,
            )


def render(snapshot: Snapshot) -> bytes:
    """The exposition text of ``snapshot``; series are sorted so that equal snapshots render equal bytes."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(snapshot))
    return generate_latest(registry)
