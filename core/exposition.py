"""Render the cluster-wide counters in the Prometheus text format.

``prometheus_client`` defines the output: its metric families and ``generate_latest`` render the addon's
own metrics, and they are the reference for the two per-endpoint families. Those two are written by
:func:`_fast_lines`, because ``generate_latest`` validates and escapes every label name of every sample
(about 5 us a line): 2,000 endpoints make some 34,000 lines, 190 ms through it and a fraction of that
here. A test renders large snapshots, with quotes, backslashes, newlines and non-ASCII characters in
endpoint names, both ways and requires identical bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.openmetrics import exposition as openmetrics
from prometheus_client.samples import Exemplar
from prometheus_client.utils import floatToGoString

from .recorder import LATENCY_BOUNDS

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: what a scraper that sends ``Accept: application/openmetrics-text`` gets: the same metrics, with exemplars
OPENMETRICS_CONTENT_TYPE = openmetrics.CONTENT_TYPE_LATEST

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
    #: The instrumentation's hooks in the answering process, and whether each is in place.
    hooks: dict[str, bool] = field(default_factory=dict)
    #: The time (epoch seconds) of the newest change marker of each kind (``api.monitor.change``).
    changes: dict[str, float] = field(default_factory=dict)
    #: The newest server error of each endpoint, any process or host: ``{endpoint: (method, code, request id,
    #: epoch, duration)}``, the exemplar of its server-error series and of its duration bucket (OpenMetrics).
    exemplars: dict[str, tuple[str, int, str, float, float]] = field(default_factory=dict)
    #: False in every part of a split scrape but the first: the addon's own metrics are shown once
    self_metrics: bool = True


#: the most parts a scrape may be split into (``/metrics?shard=0&shards=4``)
SHARDS_MAX = 64


class ShardError(ValueError):
    """``shard``/``shards`` that do not name a part of a split scrape; the message says what to send."""


def parse_shard(shard: str | None, shards: str | None) -> tuple[int, int] | None:
    """``(shard, shards)`` of a split scrape, None for the whole one.

    >>> parse_shard("1", "4"), parse_shard(None, None)
    ((1, 4), None)
    """
    if shard is None and shards is None:
        return None
    try:
        part, parts = int(shard or ""), int(shards or "")
    except ValueError:
        part = parts = -1
    if not (1 <= parts <= SHARDS_MAX and 0 <= part < parts):
        raise ShardError(f"shards must be 1 to {SHARDS_MAX} and shard 0 to shards - 1, both given "
                         "(e.g. ?shard=0&shards=4).")
    return part, parts


def shard_of(endpoint: str, shards: int) -> int:
    """The part of a split scrape that carries ``endpoint``'s series: the first 28 bits of its MD5, modulo
    ``shards`` (the database computes the same, ``store.read_snapshot``), so an endpoint stays in its part
    from scrape to scrape, on any worker or host."""
    return int(hashlib.md5(endpoint.encode(), usedforsecurity=False).hexdigest()[:7], 16) % shards


_HELP_REQUESTS = "HTTP requests served by Odoo, by endpoint, method, status code and outcome."
_HELP_DURATION = "Time Odoo took to serve a request, by endpoint."


class _SnapshotCollector:
    """All families through prometheus_client; ``per_endpoint=False`` leaves out the two large ones."""

    def __init__(self, snapshot: Snapshot, per_endpoint: bool = True, exemplars: bool = False) -> None:
        self.snapshot = snapshot
        self.per_endpoint = per_endpoint
        self.exemplars = exemplars

    def collect(self) -> Iterator[Metric]:
        if self.per_endpoint:
            yield from self._per_endpoint()
        if self.snapshot.self_metrics:
            yield from self._self_metrics()

    def _per_endpoint(self) -> Iterator[Metric]:
        snap = self.snapshot
        requests = CounterMetricFamily(
            "http_requests",
            _HELP_REQUESTS,
            labels=["endpoint", "method", "code", "outcome"],
        )
        for endpoint, method, code, outcome, count in sorted(snap.requests):
            requests.add_metric([endpoint, method, str(code), outcome], count,
                                exemplar=self._counter_exemplar(endpoint, method, code, outcome))
        yield requests

        duration = HistogramMetricFamily(
            "http_request_duration_seconds",
            _HELP_DURATION,
            labels=["endpoint"],
        )
        for endpoint, counts, total in sorted(snap.latency):
            buckets = [list(bucket) for bucket in zip(_LE, accumulate(counts))]
            if self.exemplars and endpoint in snap.exemplars:
                _, _, request_id, at, seconds = snap.exemplars[endpoint]
                slot = next((i for i, bound in enumerate(LATENCY_BOUNDS) if seconds <= bound), len(LATENCY_BOUNDS))
                buckets[slot].append(Exemplar({"request_id": request_id}, seconds, at))
            duration.add_metric([endpoint], [tuple(bucket) for bucket in buckets], sum_value=total)
        yield duration

    def _counter_exemplar(self, endpoint, method, code, outcome):
        found = self.exemplars and outcome == "server_error" and self.snapshot.exemplars.get(endpoint)
        if not found or (found[0], found[1]) != (method, code):
            return None
        return Exemplar({"request_id": found[2]}, 1.0, found[3])

    def _self_metrics(self) -> Iterator[Metric]:
        snap = self.snapshot

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
        if snap.changes:
            changes = GaugeMetricFamily(
                "api_monitor_last_change_timestamp_seconds",
                "When the newest change of each kind happened (server start, module install or upgrade, monitoring "
                "settings, alert rule): a Grafana annotation marks its changes.", labels=["kind"])
            for kind, at in sorted(snap.changes.items()):
                changes.add_metric([kind], at)
            yield changes
        if snap.hooks:
            yield GaugeMetricFamily(
                "api_monitor_instrumentation_ok",
                "1 when every hook that counts requests is in place in the Odoo process that answered, else 0.",
                value=1 if all(snap.hooks.values()) else 0,
            )
            hooks = GaugeMetricFamily("api_monitor_hook_ok", "Whether each hook is in place (1) or missing (0).",
                                      labels=["hook"])
            for name, ok in sorted(snap.hooks.items()):
                hooks.add_metric([name], 1 if ok else 0)
            yield hooks


def render(snapshot: Snapshot) -> bytes:
    """The exposition text of ``snapshot``; series are sorted so that equal snapshots render equal bytes."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(snapshot, per_endpoint=False))
    return "".join(_fast_lines(snapshot)).encode() + generate_latest(registry)


def render_openmetrics(snapshot: Snapshot) -> bytes:
    """The same metrics in the OpenMetrics text format, the request id of each endpoint's newest server error
    as the exemplar of its server-error series and of the duration bucket it fell in (a scraper with exemplar
    storage, Prometheus's ``--enable-feature=exemplar-storage``, links the graph to the request's logs)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(snapshot, exemplars=True))
    return openmetrics.generate_latest(registry)


def render_reference(snapshot: Snapshot) -> bytes:
    """The same text, every family through ``prometheus_client.generate_latest`` (slow; for tests)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(snapshot))
    return generate_latest(registry)


def _label(value: str) -> str:
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r'\"')


def _fast_lines(snap: Snapshot) -> Iterator[str]:
    yield f"# HELP http_requests_total {_HELP_REQUESTS}\n# TYPE http_requests_total counter\n"
    for endpoint, method, code, outcome, count in sorted(snap.requests):
        yield (f'http_requests_total{{code="{code}",endpoint="{_label(endpoint)}",method="{_label(method)}",'
               f'outcome="{_label(outcome)}"}} {floatToGoString(count)}\n')
    yield f"# HELP http_request_duration_seconds {_HELP_DURATION}\n# TYPE http_request_duration_seconds histogram\n"
    for endpoint, counts, total in sorted(snap.latency):
        label = _label(endpoint)
        cumulative = list(accumulate(counts))
        for le, value in zip(_LE, cumulative):
            yield f'http_request_duration_seconds_bucket{{endpoint="{label}",le="{le}"}} {floatToGoString(value)}\n'
        yield f'http_request_duration_seconds_count{{endpoint="{label}"}} {floatToGoString(cumulative[-1])}\n'
        yield f'http_request_duration_seconds_sum{{endpoint="{label}"}} {floatToGoString(total)}\n'
