"""Exemplars: /metrics in OpenMetrics carries the request id of each endpoint's newest server error, and the real
Prometheus (exemplar storage on) gives it back through its exemplar query API after one scrape."""

import json
import shutil
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.exposition import OPENMETRICS_CONTENT_TYPE, Snapshot, render_openmetrics
from tools.services import free_port, wait_for_port

ENDPOINT = "/web/dataset/call_kw/sale.order/action_confirm"


def snapshot(at):
    return Snapshot(requests=[(ENDPOINT, "POST", 200, "server_error", 25), (ENDPOINT, "POST", 200, "success", 75)],
                    latency=[(ENDPOINT, [0, 40, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0], 1.9)],
                    exemplars={ENDPOINT: ("POST", 200, "f00dcafe42", at, 0.02)})


def test_the_server_error_series_and_its_duration_bucket_carry_the_newest_request_id():
    text = render_openmetrics(snapshot(1_700_000_000.0)).decode()
    assert (f'http_requests_total{{code="200",endpoint="{ENDPOINT}",method="POST",outcome="server_error"}} 25.0 '
            '# {request_id="f00dcafe42"} 1.0 1700000000.0') in text.splitlines()
    assert (f'http_requests_total{{code="200",endpoint="{ENDPOINT}",method="POST",outcome="success"}} 75.0'
            in text.splitlines())
    assert (f'http_request_duration_seconds_bucket{{endpoint="{ENDPOINT}",le="0.025"}} 100.0 '
            '# {request_id="f00dcafe42"} 0.02 1700000000.0') in text.splitlines()
    assert text.endswith("# EOF\n")


@pytest.mark.skipif(not shutil.which("prometheus"), reason="Prometheus not installed (Debian package prometheus)")
def test_prometheus_reads_the_request_id_back_through_its_exemplar_api(tmp_path):
    body = render_openmetrics(snapshot(time.time()))

    class Metrics(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", OPENMETRICS_CONTENT_TYPE)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    target = ThreadingHTTPServer(("127.0.0.1", 0), Metrics)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    port = free_port()
    (tmp_path / "prometheus.yml").write_text(json.dumps({
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [{"job_name": "odoo", "static_configs": [
            {"targets": [f"127.0.0.1:{target.server_address[1]}"]}]}]}))
    server = subprocess.Popen(
        ["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--enable-feature=exemplar-storage", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, proc=server)
        query = urllib.parse.urlencode({"query": 'http_requests_total{outcome="server_error"}',
                                        "start": time.time() - 600, "end": time.time() + 600})
        found, deadline = [], time.time() + 30
        while not found and time.time() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query_exemplars?{query}",  # noqa: S310
                                            timeout=5) as answer:
                    found = [e["labels"]["request_id"] for series in json.load(answer)["data"]
                             for e in series["exemplars"]]
            except OSError:
                pass
            time.sleep(0.5)
        assert found == ["f00dcafe42"]
    finally:
        server.terminate()
        server.wait(timeout=10)
        target.shutdown()
