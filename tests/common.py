"""Shared helpers of the Odoo tests: counts read back from the database, and routes that fail on purpose."""

import contextlib
import json
import logging
import socket

from odoo import http
from odoo.tests import HttpCase

from .. import compat
from ..storage import store
from ..storage.runtime import RUNTIME
from ..tools.sandbox import Sandbox

ROUTING_KEY = "R0UT1NGKEY0123456789abcdefABCDEF"
WEBHOOK_SECRET = "whsec-for-tests"


def start_sandbox_receivers(cls):
    """Start the sandbox for a test class and point the shipped PagerDuty and Slack receivers at it."""
    cls.sandbox = Sandbox().start()
    cls.addClassCleanup(cls.sandbox.stop)
    cls.pagerduty = cls.env.ref("api_monitor.receiver_pagerduty")
    cls.pagerduty.write({"url": f"{cls.sandbox.url}/v2/enqueue", "routing_key": ROUTING_KEY,
                         "webhook_secret": WEBHOOK_SECRET, "timeout": 5})
    cls.slack = cls.env.ref("api_monitor.receiver_slack")
    cls.slack.write({"slack_webhook_url": f"{cls.sandbox.url}/slack/ops", "timeout": 5})


_logger = logging.getLogger(__name__)


class FailingRoutes(http.Controller):
    """Routes that exist only while the tests run, to make an ``http`` route fail for real."""

    @http.route("/api_monitor_test/boom", type="http", auth="none", methods=["GET"], csrf=False)
    def boom(self):
        raise RuntimeError("boom on purpose")

    @http.route("/api_monitor_test/broken_total", type="http", auth="none", methods=["GET"], csrf=False)
    def broken_total(self):
        return str(self._average_price({"lines": []}))

    def _average_price(self, order):
        """A method broken on purpose: an order without lines divides by zero."""
        _logger.info("averaging the prices of %s lines for ada@example.com", len(order["lines"]))
        return sum(line["price"] for line in order["lines"]) / len(order["lines"])

    @http.route("/api_monitor_test/bad_json_inside", type=compat.JSON_ROUTE, auth="none", csrf=False)
    def bad_json_inside(self):
        return json.loads("{not json")  # the request's own body parsed fine: this one is the server's fault

    @http.route("/api_monitor_test/write_then_fail", type="http", auth="user", methods=["GET"], csrf=False)
    def write_then_fail(self):
        http.request.env["res.partner"].create({"name": "rolled back with the request"})
        raise ZeroDivisionError("failed after writing")


class _Expected(logging.Filter):
    def __init__(self, names):
        super().__init__()
        self.names = names

    def filter(self, record):
        return record.levelno < logging.WARNING or not record.name.startswith(self.names)


@contextlib.contextmanager
def expected_logs(*names):
    """Keep the WARNING and ERROR lines that a test provokes on purpose from ``names`` (loggers, and those under
    them) out of the run's log, where they would read as failures (the OCA's CI fails a run that logs an
    unexpected WARNING). They are dropped at the root's handlers only: ``assertLogs`` still sees them."""
    quiet = _Expected(tuple(names))
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(quiet)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(quiet)


def committed_counts(dbname):
    """Every counter as committed by the flushes: ``{(endpoint, method, code, outcome): value}``."""
    RUNTIME.flush()
    with store.connect(dbname) as cr:
        cr.execute("SELECT endpoint, method, code, outcome, value FROM api_monitor_counter")
        return {tuple(row[:4]): row[4] for row in cr.fetchall()}


def delta(before, after):
    """What changed between two :func:`committed_counts`, without the zero entries."""
    return {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key, 0)}


class QuietHttpCase(HttpCase):
    """An HttpCase whose requests fail on purpose: Odoo's own log lines about them (tracebacks of the server
    errors the test provokes, refused logins, CSRF refusals) are expected, not news."""

    #: Odoo's request handling, and on Odoo 19 its deprecation notices for /xmlrpc and /jsonrpc
    EXPECTED_LOGGERS = ("odoo.http", "odoo.addons.rpc.controllers")

    def setUp(self):
        super().setUp()
        self.enterContext(expected_logs(*self.EXPECTED_LOGGERS))


class MonitorHttpCase(QuietHttpCase):
    """An HttpCase whose requests are counted by the addon, with helpers to read what was counted."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.registry.clear_cache("routing")  # pick up FailingRoutes

    def setUp(self):
        super().setUp()
        self.before = committed_counts(self.env.cr.dbname)

    def counted(self):
        """Counts added since the test started."""
        return delta(self.before, committed_counts(self.env.cr.dbname))

    def failure(self, request_id):
        """The failure samples committed for a request id (the flush writes them on its own cursor)."""
        with store.connect(self.env.cr.dbname) as cr:
            cr.execute(
                "SELECT endpoint, method, code, exception FROM api_monitor_failure WHERE request_id = %s",
                [request_id],
            )
            return cr.fetchall()

    def _raw(self, method, path, headers=(), body=b""):
        """One request written by hand (any method, any bytes in the path); returns the status code. It
        carries the test's own cookies (Odoo 19 serves a test only the requests that bring its cookie), after
        any cookie among ``headers``."""
        port = int(self.base_url().rsplit(":", 1)[1])
        head = [f"{method} ".encode("latin-1") + (path if isinstance(path, bytes) else path.encode("latin-1"))
                + b" HTTP/1.0", b"Host: 127.0.0.1", f"Content-Length: {len(body)}".encode()]
        mine = "; ".join(f"{name}={value}" for name, value in self.opener.cookies.items())
        cookies = [h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("cookie:")]
        head += [h.encode("latin-1") for h in headers if not h.lower().startswith("cookie:")]
        if mine or cookies:
            head.append(("Cookie: " + "; ".join([*cookies, mine] if mine else cookies)).encode("latin-1"))
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"\r\n".join(head) + b"\r\n\r\n" + body)
            line = sock.makefile("rb").readline()
        return int(line.split()[1]) if line.split()[1:2] else 0

    def raw(self, method, path, headers=(), body=b""):
        """:meth:`_raw` within the test's permission to send requests (Odoo 19 asks for one)."""
        allowed = self.allow_requests() if hasattr(self, "allow_requests") else contextlib.nullcontext()
        with allowed:
            return self._raw(method, path, headers, body)

    def jsonrpc(self, route, params, headers=None):
        """POST a JSON-RPC call; returns the HTTP response (errors come back with HTTP 200)."""
        body = json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": params})
        return self.url_open(route, data=body, headers={"Content-Type": "application/json", **(headers or {})})

    def call_kw(self, model, method, args, kwargs=None, headers=None):
        return self.jsonrpc(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
            headers=headers,
        )
