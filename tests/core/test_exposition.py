from core.exposition import Snapshot, render

EXPECTED = b'''# HELP http_requests_total HTTP requests served by Odoo, by endpoint, method, status code and outcome.
# TYPE http_requests_total counter
http_requests_total{code="200",endpoint="/web/dataset/call_kw/res.partner/read",method="POST",outcome="server_error"} 2.0
http_requests_total{code="200",endpoint="/web/dataset/call_kw/res.partner/read",method="POST",outcome="success"} 41.0
http_requests_total{code="404",endpoint="unmatched",method="GET",outcome="client_error"} 3.0
# HELP http_request_duration_seconds Time Odoo took to serve a request, by endpoint.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{endpoint="/web/dataset/call_kw/res.partner/read",le="0.005"} 1.0
http_request_duration_seconds_bucket{endpoint="/web/dataset/call_kw/res.partner/read",le="0.01"} 11.0
http_request_duration_seconds_bucket{endpoint="/web/dataset/call_kw/res.partner/read",le="0.025"} 31.0
http_request_duration_seconds_bucket{endpoint="/web/dataset/call_kw/res.partner/read",le="0.05"} 40.0
http_request_duration_seconds_bucket{endpoint="/web/dataset/call_kw/res.partner/read",le="0.1"} 42.0
http_request_duration_seconds_bucket{endpoint="/web/dataset/call_kw/res.partner/read",le="0.25"} 42.0
http_request_duration_seconds_bucket{endpoint="/web/dataset/call_kw/res.partner/read",le="0.5"} 42.0
http_request_duration_seconds_bucket{endpoint="/web/dataset/call_kw/res.partner/read",le="1.0"} 42.0
http_request_duration_seconds_bucket{endpoint="/web/dataset/call_kw/res.partner/read",le="2.5"} 42.0
http_request_duration_seconds_bucket{endpoint="/web/dataset/call_kw/res.partner/read",le="5.0"} 42.0
http_request_duration_seconds_bucket{endpoint="/web/dataset/call_kw/res.partner/read",le="10.0"} 43.0
http_request_duration_seconds_bucket{endpoint="/web/dataset/call_kw/res.partner/read",le="+Inf"} 43.0
http_request_duration_seconds_count{endpoint="/web/dataset/call_kw/res.partner/read"} 43.0
http_request_duration_seconds_sum{endpoint="/web/dataset/call_kw/res.partner/read"} 9.75
# HELP api_monitor_flushes_total Batches of counts written to the database.
# TYPE api_monitor_flushes_total counter
api_monitor_flushes_total 12.0
# HELP api_monitor_flush_errors_total Attempts to write a batch of counts that failed (the counts were kept and written later).
# TYPE api_monitor_flush_errors_total counter
api_monitor_flush_errors_total 1.0
# HELP api_monitor_folded_endpoints_total Requests counted under endpoint="other" because the cap on distinct endpoints was reached.
# TYPE api_monitor_folded_endpoints_total counter
api_monitor_folded_endpoints_total 0.0
# HELP api_monitor_last_flush_age_seconds Seconds since the newest flush of any Odoo process.
# TYPE api_monitor_last_flush_age_seconds gauge
api_monitor_last_flush_age_seconds 2.5
'''


def snapshot():
    return Snapshot(
        requests=[
            ("unmatched", "GET", 404, "client_error", 3),
            ("/web/dataset/call_kw/res.partner/read", "POST", 200, "success", 41),
            ("/web/dataset/call_kw/res.partner/read", "POST", 200, "server_error", 2),
        ],
        latency=[("/web/dataset/call_kw/res.partner/read", [1, 10, 20, 9, 2, 0, 0, 0, 0, 0, 1, 0], 9.75)],
        flushes=12,
        flush_errors=1,
        folded_endpoints=0,
        last_flush_age=2.5,
    )


def test_exposition_output_byte_for_byte():
    assert render(snapshot()) == EXPECTED


def test_equal_snapshots_in_any_row_order_render_equal_bytes():
    shuffled = snapshot()
    shuffled.requests.reverse()
    assert render(shuffled) == render(snapshot())


def test_a_database_never_flushed_has_no_flush_age():
    text = render(Snapshot()).decode()
    assert "api_monitor_last_flush_age_seconds" not in text
    assert "api_monitor_flushes_total 0.0\n" in text


def test_fast_rendering_matches_prometheus_client_byte_for_byte_on_a_large_snapshot():
    import random

    from core.exposition import render_reference

    rng = random.Random(3)
    names = ['/a"quoted"', "/back\\slash", "/new\nline", "/caf\u00e9/\u65e5\u672c", "unmatched", "other"]
    names += [f"/web/dataset/call_kw/m{i}.x/read" for i in range(2000)]
    snap = Snapshot(flushes=5, flush_errors=2, folded_endpoints=7, last_flush_age=0.25)
    for name in names:
        for outcome, code in (("success", 200), ("client_error", 404), ("server_error", 500)):
            if rng.random() < 0.6:
                snap.requests.append((name, rng.choice(["GET", "POST"]), code, outcome, rng.randrange(10**9)))
        snap.latency.append((name, [rng.randrange(1000) for _ in range(12)], rng.random() * 1e4))
    assert render(snap) == render_reference(snap)


def test_a_split_scrape_names_its_part_or_says_what_to_send():
    import pytest

    from core.exposition import ShardError, parse_shard, shard_of

    assert parse_shard(None, None) is None
    assert parse_shard("0", "1") == (0, 1) and parse_shard("63", "64") == (63, 64)
    for shard, shards in (("4", "4"), ("0", None), (None, "2"), ("x", "2"), ("0", "65"), ("-1", "2"), ("0", "0")):
        with pytest.raises(ShardError, match=r"^shards must be 1 to 64 and shard 0 to shards - 1"):
            parse_shard(shard, shards)
    # stable, and spread: 10,000 endpoints over 4 parts, each within 5% of a quarter
    names = [f"/web/dataset/call_kw/model_{i}/read" for i in range(10000)]
    sizes = [sum(1 for name in names if shard_of(name, 4) == part) for part in range(4)]
    assert all(abs(size - 2500) < 125 for size in sizes), sizes
    # md5("/web/health") begins 57bab76: 0x57bab76 = 91990902, which is 2 modulo 4 and 54 modulo 64
    assert (shard_of("/web/health", 4), shard_of("/web/health", 64)) == (2, 54)


def test_the_parts_after_the_first_leave_the_addons_own_metrics_out():
    from core.exposition import Snapshot, render

    text = render(Snapshot(requests=[("/a", "GET", 200, "success", 3)], flushes=2, self_metrics=False)).decode()
    assert 'http_requests_total{code="200",endpoint="/a",method="GET",outcome="success"} 3.0' in text
    assert "api_monitor_flushes" not in text
