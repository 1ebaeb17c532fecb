"""The gateway pipeline under load: nginx writes its JSON access log, mtail turns it into metrics.

nginx (``deploy/nginx``) fronts a fast upstream (a second nginx server block answering a JSON-RPC result),
so the load is on the gateway's logging and on mtail, not on an application. ``wrk`` sends call_kw POSTs
for 20 s: paced at about 1,000 requests per second, then as fast as it can. For each run: the requests nginx
logged, the lines mtail counted (its ``gateway_http_requests_total``) by the end of the run and how long it
took to catch up after, and mtail's CPU (from /proc) while the load lasted.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tools.services import free_port
from tools.stack import Service, mtail_command, nginx_command
from tools.table import table

SECONDS = int(os.environ.get("BENCH_SECONDS", 20))
BODY = '{"jsonrpc":"2.0","method":"call","params":{"model":"res.partner","method":"search_read","args":[[]],"kwargs":{}}}'
LUA = """
wrk.method = "POST"
wrk.body = '%s'
wrk.headers["Content-Type"] = "application/json"
%s
"""


def mtail_count(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return sum(float(line.rsplit(" ", 1)[1]) for line in response.read().decode().splitlines()
                   if line.startswith("gateway_http_requests_total{"))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    missing = [p for p in ("nginx", "mtail", "wrk") if not shutil.which(p)]
    if missing:
        print(f"missing {', '.join(missing)} (Debian packages): benchmark not run")
        return 0
    work = Path(tempfile.mkdtemp(prefix="api_monitor_gateway_bench_"))
    upstream, gateway, mtail_port = free_port(), free_port(), free_port()
    access_log = work / "access.json"
    fast_upstream = (f"  server {{\n    listen 127.0.0.1:{upstream};\n    access_log off;\n    location / {{\n"
                     "      default_type application/json;\n      return 200 '{\"jsonrpc\":\"2.0\",\"result\":[]}';\n"
                     "    }\n  }\n")
    nginx = Service("nginx", nginx_command(work / "nginx", f"127.0.0.1:{upstream}", gateway, access_log,
                                           extra=fast_upstream), work / "nginx.log", gateway).start()
    mtail = Service("mtail", mtail_command(access_log, mtail_port), work / "mtail.log", mtail_port).start()
    rows = []
    try:
        for label, connections, pace in (("paced ~1,000/s", 10, "function delay() return 9 end"),
                                         ("as fast as wrk can", 20, "")):
            script = work / f"load{connections}.lua"
            script.write_text(LUA % (BODY, pace))
            lines_before = sum(1 for _ in access_log.open())
            counted_before = mtail_count(mtail_port)
            cpu_before, started = cpu_seconds(mtail.proc.pid), time.monotonic()
            out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{SECONDS}s", "-s", str(script),
                                  f"http://127.0.0.1:{gateway}/web/dataset/call_kw/res.partner/search_read"],
                                 capture_output=True, text=True, timeout=SECONDS + 60).stdout
            elapsed = time.monotonic() - started
            cpu = cpu_seconds(mtail.proc.pid) - cpu_before
            counted_at_end = mtail_count(mtail_port) - counted_before
            logged = sum(1 for _ in access_log.open()) - lines_before
            caught_up = None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if mtail_count(mtail_port) - counted_before >= logged:
                    caught_up = time.monotonic() - started - elapsed
                    break
                time.sleep(0.1)
            rps = float(next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec")))
            rows.append([label, f"{rps:.0f}", f"{logged / elapsed:.0f}", f"{counted_at_end / logged:.1%}",
                         "never (60 s)" if caught_up is None else f"{caught_up:.1f} s",
                         f"{100 * cpu / elapsed:.0f}%", f"{cpu / logged * 1e6:.1f} us"])
    finally:
        mtail.stop()
        nginx.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"Gateway pipeline on {os.cpu_count()} cores: wrk -> nginx (JSON access log) -> mtail, {SECONDS} s per run")
    print(table(["load", "requests/s (wrk)", "log lines/s", "counted by mtail when wrk stopped",
                 "mtail caught up after", "mtail CPU (one core = 100%)", "mtail CPU per line"], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
