"""A stand-in for Odoo behind the gateway, where no Odoo exists (CI): small, honest about what it is.

It answers the JSON-RPC calls the drills send (``POST /web/dataset/call_kw/<model>/<method>``) and
``/web/health``, echoes ``X-Request-ID``, and counts every request the way the addon does, with the
addon's own Odoo-free code (endpoint names, outcome classification, the ``/metrics`` renderer), so
Prometheus sees the same ``http_requests_total`` series from it as from Odoo with the addon. It can be told
to fail like Odoo does: ``POST /_control {"fail": "res.partner.category"}`` makes every call on that model
answer a JSON-RPC error with HTTP 200 (counted ``server_error``), ``{"heal": ...}`` ends it.

    python -m tools.standin --port 8069
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from core import outcome as outcomes
from core import request_id
from core.endpoints import UNMATCHED, call_kw_endpoint, http_method
from core.exposition import CONTENT_TYPE, Snapshot, render
from core.recorder import Latency

CALL_KW = "/web/dataset/call_kw"
ODOO_ERROR = {"code": 200, "message": "Odoo Server Error",
              "data": {"name": "psycopg2.errors.RaiseException", "message": "injected failure", "arguments": []}}


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.failing: set[str] = set()
        self.requests: Counter = Counter()
        self.latency: dict[str, Latency] = {}
        self.started = time.time()

    def count(self, endpoint: str, method: str, code: int, outcome: str, seconds: float) -> None:
        with self.lock:
            self.requests[(endpoint, method, code, outcome)] += 1
            self.latency.setdefault(endpoint, Latency()).observe(seconds)

    def snapshot(self) -> Snapshot:
        with self.lock:
            return Snapshot(
                requests=[(*key, n) for key, n in sorted(self.requests.items())],
                latency=[(e, list(lat.counts), lat.total) for e, lat in sorted(self.latency.items())],
                flushes=1, last_flush_age=0.0)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # one request per connection: a stopped stand-in must look stopped to everyone at once (Prometheus's
    # scrapes, the gateway), which open keep-alive connections served by their own threads would hide
    protocol_version = "HTTP/1.0"

    def log_message(self, fmt, *args):
        pass

    def _send(self, status: int, body: bytes, content_type: str, rid: str | None, outcome: str = "") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if rid:
            self.send_header(request_id.HEADER, rid)
        if outcome:
            self.send_header(outcomes.OUTCOME_HEADER, outcome)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._serve("GET")

    def do_POST(self):
        self._serve("POST")

    def _serve(self, method: str) -> None:
        started = time.perf_counter()
        state = self.server.state
        rid = request_id.resolve(self.headers.get(request_id.HEADER))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            return self._send(200, render(state.snapshot()), CONTENT_TYPE, rid)
        if path == "/_control":
            body = json.loads(raw or b"{}")
            with state.lock:
                if body.get("fail"):
                    state.failing.add(body["fail"])
                if body.get("heal"):
                    state.failing.discard(body["heal"])
            return self._send(200, b'{"ok": true}', "application/json", None)
        status, names, endpoint = 200, (), UNMATCHED
        if path == "/web/health":
            endpoint, payload = "/web/health", b'{"status": "pass"}'
        elif path.startswith(CALL_KW + "/") and method == "POST":
            try:
                call = json.loads(raw)
                params = call.get("params") or {}
            except (ValueError, AttributeError):
                call, params = {}, {}
            endpoint = call_kw_endpoint(CALL_KW, params.get("model"), params.get("method"), lambda m, f: True)
            if params.get("model") in state.failing:
                names = ("psycopg2.errors.RaiseException", "builtins.Exception")
                payload = json.dumps({"jsonrpc": "2.0", "id": call.get("id"), "error": ODOO_ERROR}).encode()
            else:
                payload = json.dumps({"jsonrpc": "2.0", "id": call.get("id"), "result": 1}).encode()
        else:
            status, payload = 404, b'{"error": "not found"}'
        outcome = outcomes.classify(status, names)
        self._send(status, payload, "application/json", rid, outcome)
        state.count(endpoint, http_method(method), status, outcome, time.perf_counter() - started)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State


class StandIn:
    """``with StandIn() as upstream: upstream.url``; ``fail(model)`` and ``heal(model)`` steer it."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.server: _Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> StandIn:
        self.server = _Server(("127.0.0.1", self.port), _Handler)
        self.server.state = getattr(self, "_state", None) or _State()
        self._state = self.server.state  # counts survive a stop and start, as Odoo's do in PostgreSQL
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def fail(self, model: str) -> None:
        with self._state.lock:
            self._state.failing.add(model)

    def heal(self, model: str) -> None:
        with self._state.lock:
            self._state.failing.discard(model)

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8069)
    standin = StandIn(parser.parse_args().port).start()
    print(f"stand-in upstream on {standin.url}")
    threading.Event().wait()


if __name__ == "__main__":
    main()
