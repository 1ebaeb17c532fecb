"""The multi-process check: Odoo with ``--workers 2`` and a cron worker, recycled by ``--limit-request``.

N requests are spread over both workers; after one flush interval, ``/metrics`` must show exactly N
whichever worker answers. The workers load the database on their first request (no preload), so the first
request of every fresh worker, including those that replace recycled ones, must be counted too.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tools.services import Odoo, Postgres

N = 300
ENDPOINT = "/web/webclient/version_info"
TOKEN = "multiworker-check-token"
FLUSH_INTERVAL = 5
LIMIT_REQUEST = 40


def post(url: str, request_id: str) -> int:
    req = urllib.request.Request(
        url + ENDPOINT, data=json.dumps({"jsonrpc": "2.0", "params": {}}).encode(),
        headers={"Content-Type": "application/json", "X-Request-ID": request_id},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status


def scrape(url: str, request_id: str) -> float:
    req = urllib.request.Request(url + "/metrics",
                                 headers={"Authorization": f"Bearer {TOKEN}", "X-Request-ID": request_id})
    with urllib.request.urlopen(req, timeout=30) as resp:
        text = resp.read().decode()
    pattern = re.compile(r'^http_requests_total\{code="200",endpoint="' + re.escape(ENDPOINT)
                         + r'",method="POST",outcome="success"\} (\S+)$', re.M)
    found = pattern.search(text)
    return float(found.group(1)) if found else 0.0


def stat(url: str, name: str) -> float:
    """One of the addon's own counters from /metrics (``api_monitor_flush_errors_total``, say)."""
    req = urllib.request.Request(url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        found = re.search(rf"^{name} (\S+)$", resp.read().decode(), re.M)
    return float(found.group(1)) if found else 0.0


def session(url: str, db: str) -> str:
    """A logged-in admin session id."""
    req = urllib.request.Request(
        url + "/web/session/authenticate", headers={"Content-Type": "application/json"},
        data=json.dumps({"jsonrpc": "2.0", "params": {"db": db, "login": "admin", "password": "admin"}}).encode())
    with urllib.request.urlopen(req, timeout=30) as resp:
        return re.search(r"session_id=([^;]+)", resp.headers["Set-Cookie"]).group(1)


def failing_call(url: str, sid: str) -> None:
    """A call_kw that fails on the server's side (a TypeError inside read): a server error each time."""
    body = {"jsonrpc": "2.0", "params": {"model": "res.partner", "method": "read", "args": [[1], 42], "kwargs": {}}}
    req = urllib.request.Request(url + "/web/dataset/call_kw/res.partner/read", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json", "Cookie": f"session_id={sid}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        resp.read()


def check_concurrent_flushes(odoo: Odoo, pg: Postgres, db: str, logs: Path, workers: int = 8,
                             seconds: float = 20.0) -> bool:
    """``workers`` processes serving server errors for ``seconds``: each flushes within a second of one, so
    flushes of the same rows overlap all the time; not one may fail."""
    with odoo.server(pg, db, f"--workers={workers}", "--max-cron-threads=0", log=logs / "concurrent-flushes.log",
                     preload=False) as url:
        sid = session(url, db)
        before = (stat(url, "api_monitor_flush_errors_total"), stat(url, "api_monitor_flushes_total"))
        deadline = time.monotonic() + seconds
        sent = 0

        def hammer(_):
            nonlocal sent
            while time.monotonic() < deadline:
                failing_call(url, sid)
                sent += 1

        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(hammer, range(workers)))
        time.sleep(FLUSH_INTERVAL + 1.5)
        errors = stat(url, "api_monitor_flush_errors_total") - before[0]
        flushes = stat(url, "api_monitor_flushes_total") - before[1]
    ok = errors == 0 and flushes >= workers
    print(f"concurrent flushes: {workers} workers served {sent} server errors in {seconds:.0f}s, {flushes:.0f} flushes, "
          f"{errors:.0f} flush errors (expected 0): {'OK' if ok else 'FAILED'}")
    return ok


def pids_by_request_id(log: Path) -> dict[str, str]:
    """Which worker (pid) logged the access line of each request id."""
    pids = {}
    for line in log.read_text(errors="replace").splitlines():
        match = re.match(r"\S+ \S+ (\d+) INFO .* werkzeug: .* request_id=(\S+)", line)
        if match:
            pids[match.group(2)] = match.group(1)
    return pids


def check(odoo: Odoo, pg: Postgres, db: str, logs: Path) -> int:
    pg.psql(f"INSERT INTO ir_config_parameter (key, value, create_date, write_date) VALUES "
            f"('api_monitor.metrics_token', '{TOKEN}', now(), now()), "
            f"('api_monitor.flush_interval', '{FLUSH_INTERVAL}', now(), now()) "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", db)
    pg.psql("TRUNCATE api_monitor_counter, api_monitor_latency, api_monitor_stat, api_monitor_bucket", db)
    log = logs / "multiworker.log"
    with odoo.server(pg, db, "--workers=2", "--max-cron-threads=1", f"--limit-request={LIMIT_REQUEST}",
                     log=log, preload=False) as url:
        with ThreadPoolExecutor(max_workers=4) as pool:
            statuses = list(pool.map(lambda i: post(url, f"mw-{i}"), range(N)))
        time.sleep(FLUSH_INTERVAL + 1.5)
        seen = []
        for k in range(20):
            seen.append((f"mw-scrape-{k}", scrape(url, f"mw-scrape-{k}")))
            time.sleep(0.05)
    pids = pids_by_request_id(log)
    served_by = {pids.get(f"mw-{i}") for i in range(N)} - {None}
    scraped_by = {pids.get(rid) for rid, _ in seen} - {None}
    values = sorted({value for _, value in seen})
    expected = float(N)
    ok = statuses == [200] * N and values == [expected] and len(scraped_by) >= 2 and len(served_by) >= 2
    print(f"multi-worker: {N} requests served by {len(served_by)} worker processes "
          f"(--workers 2, --limit-request {LIMIT_REQUEST}); /metrics answered by {len(scraped_by)} workers "
          f"showed {values} for {ENDPOINT}, expected exactly {expected:.0f}: {'OK' if ok else 'FAILED'}")
    concurrent = check_concurrent_flushes(odoo, pg, db, logs)
    passed = int(ok) + int(concurrent)
    print(f"multi-worker: {passed} passed, {2 - passed} failed")
    return 0 if passed == 2 else 1
