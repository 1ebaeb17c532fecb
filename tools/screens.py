"""Screenshots of the addon's pages on the real Odoo, to look at after changing a view.

``python -m tools.screens [OUTDIR]`` starts the stack (PostgreSQL, Odoo with the addon, the sandbox
receivers), writes 90 minutes of traffic in which one endpoint failed and recovered, one still fails and
one is recovering, evaluates the shipped rule over them as the cron would have, acknowledges one incident,
then opens each page in headless Chromium (Debian's ``chromium``) as the admin and saves a PNG of it.
A small proxy on loopback adds the admin's session cookie to every request of the browser.
"""

from __future__ import annotations

import http.server
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path

import requests

from tools.drill import DB, Stack
from tools.services import free_port

SEED = r"""
import time
from odoo.addons.api_monitor.core.recorder import Batch, TimeBucket
from odoo.addons.api_monitor.core.times import to_datetime
from odoo.addons.api_monitor.storage import store

T0 = (int(time.time()) // 60 - 90) * 60
failing = {
    "/web/dataset/call_kw/sale.order/create": range(30, 36),         # failed, recovered long ago
    "/web/dataset/call_kw/res.partner/write": range(60, 91),         # fails now
    "/xmlrpc/2/object/stock.picking/button_validate": range(78, 85),  # recovered a few minutes ago
    "/web/dataset/call_kw/account.move/action_post": range(70, 91),  # fails now, under a silence
}
# a storm: 25 endpoints fail in the same minute (the shipped rule pages once for them all)
failing.update({f"/json/2/stock.quant{i:02d}/read": range(82, 91) for i in range(25)})
quiet = ["/web/dataset/call_kw/res.partner/search_read", "/json/2/product.product/read"]
Endpoint = env["api.monitor.endpoint"]
for name in [*failing, *quiet]:
    Endpoint.create({"name": name, "critical": True})
buckets = {}
for minute in range(0, 91):
    for name, bad in failing.items():
        buckets[(T0 + minute * 60, name)] = TimeBucket(requests=120, server_errors=40 if minute in bad else 1)
    for name in quiet:
        buckets[(T0 + minute * 60, name)] = TimeBucket(requests=300, server_errors=0)
store.write_batch(env.cr, Batch(buckets=buckets))
Silence = env["api.monitor.silence"]
Silence.create({"name": "Invoicing migration", "starts_at": to_datetime(T0 + 60 * 60),
                "ends_at": to_datetime(T0 + 150 * 60), "endpoint_pattern": "/web/dataset/call_kw/account.move/*"})
Silence.create({"name": "Nightly database maintenance", "kind": "weekly", "monday": True, "tuesday": True,
                "wednesday": True, "thursday": True, "friday": True, "time_from": 23.5, "time_to": 1.0,
                "tz": "Europe/Brussels", "severity_p3": True, "severity_p4": True})
# causes of the failing endpoint's server errors, with their samples, as the flush writes them
from odoo.addons.api_monitor.core.causes import Cause
from odoo.addons.api_monitor.core.recorder import Failure
failing_endpoint = "/web/dataset/call_kw/res.partner/write"
cause = Cause("3f2a9c0d1e7b4a55", "psycopg2.errors.LockNotAvailable", "base/models/res_partner.py:612 in write",
              "Traceback (most recent call last):\n  File \"odoo/http.py\", line 2400, in _serve_db\n"
              "  File \"odoo/addons/base/models/res_partner.py\", line 612, in write\n"
              "psycopg2.errors.LockNotAvailable: canceling statement due to lock timeout\n")
other = Cause("9b1e2f3a4c5d6e7f", "builtins.KeyError", "sale/models/sale_order.py:88 in _compute_amounts",
              "Traceback (most recent call last):\n  File \"odoo/addons/sale/models/sale_order.py\", line 88\n"
              "KeyError: 'price_subtotal'\n")
batch = Batch()
for minute in range(60, 91):
    start = T0 + minute * 60
    batch.causes[(start, failing_endpoint, cause.fingerprint)] = 34
    batch.causes[(start, failing_endpoint, other.fingerprint)] = 6
batch.cause_info = {cause.fingerprint: (cause, T0 + 3600, T0 + 5400), other.fingerprint: (other, T0 + 3700, T0 + 5300)}
from collections import deque
batch.failures[failing_endpoint] = deque([
    Failure(T0 + 5400 - i * 7, failing_endpoint, "POST", 200, f"{i:02d}c0ffee{i:02d}4b1d", cause.exception,
            "could not obtain lock on row in relation \"res_partner\"", cause.fingerprint,
            "10:12:0%d INFO odoo.addons.base.models.res_partner: writing 1 partner request_id=..." % i)
    for i in range(5)])
store.write_batch(env.cr, batch)
env["api.monitor.change"]._record("module", "sale upgraded from 18.0.1.2 to 18.0.1.3", T0 + 55 * 60)
for minute in range(0, 91):
    env["api.monitor.rule"]._evaluate(now=T0 + minute * 60 + 20)
env["api.monitor.notification"]._cron_deliver()
env.cr.commit()
print("SEEDED", env["api.monitor.incident"].search_count([]))
"""


class _CookieProxy(http.server.BaseHTTPRequestHandler):
    """Forward every request to Odoo with the admin's session cookie; the browser then sees Odoo as logged in."""

    target = ""
    cookie = ""

    def _forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        request = urllib.request.Request(self.target + self.path, data=body, method=self.command)
        for name, value in self.headers.items():
            if name.lower() not in ("host", "cookie", "connection", "accept-encoding"):
                request.add_header(name, value)
        request.add_header("Cookie", f"session_id={self.cookie}")
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                status, headers, data = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as error:
            status, headers, data = error.code, error.headers, error.read()
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() not in ("transfer-encoding", "connection", "content-length", "set-cookie"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _forward

    def log_message(self, *args):
        pass


PAGES = [
    ("incidents-kanban", "/odoo/api-incidents"),
    ("incidents-list", "/odoo/api-incidents?view_type=list"),
    ("incidents-pivot", "/odoo/api-incidents?view_type=pivot"),
    ("incident-failing", "/odoo/api-incidents/{failing}"),
    ("incident-recovering", "/odoo/api-incidents/{recovering}"),
    ("incident-resolved", "/odoo/api-incidents/{resolved}"),
    ("incident-silenced", "/odoo/api-incidents/{silenced}"),
    ("incident-storm", "/odoo/api-incidents/{storm}"),
    ("silences-list", "/odoo/api-silences"),
    ("silence-weekly", "/odoo/api-silences/{weekly}"),
    ("silence-new", "/odoo/api-silences/new"),
    ("endpoints", "/odoo/api-endpoints"),
    ("traffic-graph", "/odoo/api-traffic"),
    ("traffic-pivot", "/odoo/api-traffic?view_type=pivot"),
    ("incident-link-without-access", "/api_monitor/incident/{failing}", "sam"),
    ("settings", "/odoo/action-api_monitor.api_monitor_settings_action"),
    ("rule-form", "/odoo/action-api_monitor.api_monitor_rule_action/{rule}"),
    ("causes", "/odoo/api-causes"),
    ("cause", "/odoo/api-causes/{cause}"),
    ("changes", "/odoo/api-changes"),
    ("server-error", "/odoo/api-server-errors/{failure}"),
    ("rules-list", "/odoo/action-api_monitor.api_monitor_rule_action"),
    ("rule-watching-nothing", "/odoo/action-api_monitor.api_monitor_rule_action/{empty_rule}"),
    ("receivers-list", "/odoo/action-api_monitor.api_monitor_receiver_action"),
    ("receiver-slack", "/odoo/action-api_monitor.api_monitor_receiver_action/{slack}"),
]


def main() -> int:
    outdir = Path(sys.argv[1] if len(sys.argv) > 1 else "screens")
    outdir.mkdir(parents=True, exist_ok=True)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("needs Chromium (Debian package chromium)")
        return 2
    workdir = Path(tempfile.mkdtemp(prefix="api_monitor_screens_"))
    with Stack(workdir) as stack:
        seeded = stack.odoo.shell(stack.pg, DB, SEED)
        if "SEEDED" not in seeded.stdout:
            print(seeded.stdout[-2000:], seeded.stderr[-2000:])
            return 1
        ids = {}
        for key, endpoint in (("failing", "res.partner/write"), ("recovering", "stock.picking/button_validate"),
                              ("resolved", "sale.order/create"), ("silenced", "account.move/action_post")):
            found = stack.call("api.monitor.incident", "search", [("endpoint", "like", endpoint)], order="id desc")
            ids[key] = found[0]
        stack.call("api.monitor.incident", "action_acknowledge", [ids["failing"]])
        ids["storm"] = stack.call("api.monitor.incident", "search", [("storm", "=", True)])[0]
        ids["empty_rule"] = stack.call("api.monitor.rule", "create", {  # a pattern nothing matches yet
            "name": "Shop checkout errors", "endpoint_selection": "pattern", "endpoint_pattern": "/shop/checkout*"})
        ids["weekly"] = stack.call("api.monitor.silence", "search", [("kind", "=", "weekly")])[0]
        ids["slack"] = stack.ref("api_monitor.receiver_slack")
        ids["rule"] = stack.ref("api_monitor.rule_high_error_rate")
        ids["cause"] = stack.call("api.monitor.cause", "search", [("exception", "=", "psycopg2.errors.LockNotAvailable")])[0]
        ids["failure"] = stack.call("api.monitor.failure", "search", [("fingerprint", "!=", False)], limit=1)[0]
        stack.call("api.monitor.rule", "write", [ids["rule"]], {"pending_minutes": 2.0})  # a change in its history
        stack.call("res.users", "create", {"name": "Sam Sales", "login": "sam", "password": "sam-screens-pw"})
        sessions = {"admin": stack.session_id, "sam": requests.post(
            f"{stack.url}/web/session/authenticate", timeout=30, json={"jsonrpc": "2.0", "params": {
                "db": DB, "login": "sam", "password": "sam-screens-pw"}}).cookies["session_id"]}
        stack.call("api.monitor.receiver", "write", [ids["slack"]], {"slack_webhook_url": False})
        _CookieProxy.target = stack.url
        port = free_port()
        proxy = socketserver.ThreadingTCPServer(("127.0.0.1", port), _CookieProxy)
        threading.Thread(target=proxy.serve_forever, daemon=True).start()
        try:
            for name, path, *login in PAGES:
                _CookieProxy.cookie = sessions[login[0] if login else "admin"]
                png = outdir / f"{name}.png"
                subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                                "--window-size=1440,1000", "--virtual-time-budget=15000", f"--screenshot={png}",
                                f"http://127.0.0.1:{port}{path.format(**ids)}"],
                               check=True, capture_output=True, timeout=120)
                print(png)
        finally:
            proxy.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
