"""What the addon costs a real Odoo 18 under load: throughput and p99 latency, installed vs not installed.

Two databases on one PostgreSQL, one with the addon installed and one without (same dependencies), each
served by its own Odoo (``--workers 2``, no cron); with ``BENCH_BEFORE=<a checkout of an earlier build>``, a
third database with that build, so that two builds are compared side by side in one run. ``wrk`` (Debian package) drives one at a time, the two
alternating round after round in one session (a fresh server per round), on ``/web/webclient/version_info`` and on an authenticated
``call_kw``. Targets: throughput loss at most 1%, p99 increase at most 1 ms. The table states the run-to-run
noise (spread of the rounds on the same server) beside the differences, because on a 2-core machine that
also runs wrk the noise is of the same order as the targets.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from tools.services import Odoo, Postgres
from tools.table import spread, table

ROUNDS = int(os.environ.get("BENCH_ROUNDS", 10))
DURATION = "5s"
CONNECTIONS = 4


def lua_script(path: Path, body: dict, cookie: str | None) -> Path:
    headers = 'wrk.headers["Content-Type"] = "application/json"\n'
    if cookie:
        headers += f'wrk.headers["Cookie"] = "session_id={cookie}"\n'
    path.write_text(f'wrk.method = "POST"\nwrk.body = {json.dumps(json.dumps(body))}\n{headers}')
    return path


def login(url: str, db: str) -> str:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    body = {"jsonrpc": "2.0", "params": {"db": db, "login": "admin", "password": "admin"}}
    req = urllib.request.Request(url + "/web/session/authenticate", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with opener.open(req, timeout=30) as resp:
        if "error" in json.loads(resp.read()):
            raise RuntimeError("login failed")
    return next(c.value for c in jar if c.name == "session_id")


def server_cpu_seconds(db: str) -> float:
    """User + system CPU seconds of every process of the Odoo serving ``db`` (master and workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if f"--db-filter=^{db}$".encode() not in cmdline:
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except OSError:
            continue
    return total


def wrk(url: str, script: Path, db: str) -> tuple[float, float, float]:
    """(requests per second, p99 ms, server CPU ms per request) of one wrk run."""
    cpu_before = server_cpu_seconds(db)
    out = subprocess.run(["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}", "--latency", "-s", str(script), url],
                         capture_output=True, text=True, check=True).stdout
    cpu = server_cpu_seconds(db) - cpu_before
    done = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
    p99_ms = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    if re.search(r"Non-2xx or 3xx responses", out):
        raise RuntimeError(f"wrk saw errors on {url}:\n{out}")
    return rps, p99_ms, 1000 * cpu / done


def main() -> int:
    if not shutil.which("wrk"):
        print("wrk is not installed (Debian package 'wrk'): benchmark not run")
        return 1
    odoo = Odoo()
    if not odoo.available:
        print(f"no Odoo at {odoo.path}: benchmark not run")
        return 0
    work = Path(tempfile.mkdtemp(prefix="api_monitor_wrk_"))
    dbs = {"without addon": "bench_plain", "with addon": "bench_monitored"}
    servers = {"without addon": odoo, "with addon": odoo}
    before = os.environ.get("BENCH_BEFORE")
    if before:
        dbs["build before"] = "bench_before"
        servers["build before"] = Odoo(addon_dir=Path(before).resolve())
    try:
        with Postgres() as pg:
            for label, db in dbs.items():
                modules = "base,web,mail" if label == "without addon" else "api_monitor"
                servers[label].install(pg, db, modules, work)
            scenarios = {
                "version_info (auth none)": ("/web/webclient/version_info", {"jsonrpc": "2.0", "params": {}}, False),
                "call_kw res.partner.search_read (user)": (
                    "/web/dataset/call_kw/res.partner/search_read",
                    {"jsonrpc": "2.0", "params": {"model": "res.partner", "method": "search_read", "args": [[]],
                                                  "kwargs": {"fields": ["name"], "limit": 5}}},
                    True,
                ),
            }
            results = {(s, label): [] for s in scenarios for label in dbs}
            cookies = {}
            for round_ in range(ROUNDS):
                # a fresh server per round and configuration, in alternating order, so that where its
                # processes land on the machine does not favour one configuration
                for label in (list(dbs) if round_ % 2 == 0 else list(reversed(dbs))):
                    db = dbs[label]
                    with servers[label].server(pg, db, "--workers=2", "--max-cron-threads=0",
                                               log=work / f"{db}-{round_}.log") as url:
                        cookies.setdefault(label, login(url, db))
                        for scenario, (path, body, authenticated) in scenarios.items():
                            script = lua_script(work / f"{db}-{abs(hash(scenario))}.lua", body,
                                                cookies[label] if authenticated else None)
                            wrk(url + path, script, db)  # warm-up run, not counted
                            results[(scenario, label)].append(wrk(url + path, script, db))
                print(f"round {round_ + 1}/{ROUNDS} done", file=sys.stderr, flush=True)
    finally:
        for server in set(servers.values()):
            server.cleanup()
    rows = []
    for scenario, compared in ((s, label) for s in scenarios for label in dbs if label != "without addon"):
        plain = results[(scenario, "without addon")]
        monitored = results[(scenario, compared)]
        # paired by round: both configurations ran back to back, so slow drifts of the machine cancel
        loss = [100 * (a - b) / a for (a, _, _), (b, _, _) in zip(plain, monitored)]
        p99 = [b - a for (_, a, _), (_, b, _) in zip(plain, monitored)]
        cpu_plain = statistics.median(c for _, _, c in plain)
        cpu_mon = statistics.median(c for _, _, c in monitored)
        loss_mean, loss_ci = statistics.mean(loss), 1.96 * statistics.stdev(loss) / len(loss) ** 0.5
        p99_mean, p99_ci = statistics.mean(p99), 1.96 * statistics.stdev(p99) / len(p99) ** 0.5
        noise = 100 * spread([r for r, _, _ in plain])
        if loss_mean + loss_ci <= 1.0 and p99_mean + p99_ci <= 1.0:
            verdict = "met"
        elif loss_mean - loss_ci > 1.0 or p99_mean - p99_ci > 1.0:
            verdict = "MISSED"
        else:
            verdict = "not resolved: noise"
        rows.append([f"{scenario}: {compared}", statistics.median(r for r, _, _ in plain),
                     statistics.median(r for r, _, _ in monitored),
                     f"{loss_mean:+.2f}% +/- {loss_ci:.2f}", f"{noise:.1f}%",
                     statistics.median(p for _, p, _ in plain), statistics.median(p for _, p, _ in monitored),
                     f"{p99_mean:+.2f} +/- {p99_ci:.2f}", f"{cpu_plain:.3f} / {cpu_mon:.3f}",
                     f"{100 * (cpu_mon - cpu_plain) / cpu_plain:+.1f}%", verdict])
    print(f"Odoo 18 under wrk (-t1 -c{CONNECTIONS}, {DURATION} per run, {ROUNDS} rounds, a fresh server per run, "
          "configurations alternating), --workers 2, on this 2-core machine that also runs wrk and PostgreSQL")
    print(table(["scenario", "req/s without", "req/s with", "throughput loss (paired, 95% CI)",
                 "noise (rel. stdev of req/s)", "p99 ms without", "p99 ms with", "p99 increase ms (95% CI)",
                 "server CPU ms per request without / with", "server CPU difference",
                 "target (loss <= 1%, p99 <= +1 ms)"], rows))
    print("per round, req/s " + " | ".join(dbs) + ":")
    for scenario in scenarios:
        rounds = zip(*(results[(scenario, label)] for label in dbs))
        print(f"  {scenario}: " + ", ".join("|".join(f"{r:.0f}" for r, _, _ in runs) for runs in rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
