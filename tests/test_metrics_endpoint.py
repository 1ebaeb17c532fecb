"""/metrics over real HTTP: who may read it, and that it shows exactly what was counted."""

import logging

from prometheus_client.parser import text_string_to_metric_families

from odoo.tests import tagged

from ..core.exposition import shard_of
from ..core.settings import PARAM_ALLOWLIST, PARAM_TOKEN
from .common import MonitorHttpCase, committed_counts

TOKEN = "s3cret-metrics-token-for-tests"


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


@tagged("post_install", "-at_install")
class TestMetricsEndpoint(MonitorHttpCase):
    def setUp(self):
        super().setUp()
        self.params = self.env["ir.config_parameter"].sudo()
        self.params.set_param(PARAM_TOKEN, TOKEN)
        self.params.set_param(PARAM_ALLOWLIST, "")

    def scrape(self, token=TOKEN):
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return self.url_open("/metrics", headers=headers)

    def test_empty_token_means_metrics_answers_403(self):
        self.params.set_param(PARAM_TOKEN, "")
        response = self.scrape(token="anything")
        self.assertEqual((response.status_code, response.text),
                         (403, "/metrics is disabled: set a metrics token in Settings > API Monitoring.\n"))

    def test_missing_or_wrong_token_answers_401_and_is_never_logged(self):
        capture = _Capture()
        capture.setFormatter(logging.Formatter("%(name)s %(message)s"))
        logging.getLogger().addHandler(capture)
        try:
            missing = self.scrape(token=None)
            wrong = self.scrape(token="wrong-token-value")
            right = self.scrape()
        finally:
            logging.getLogger().removeHandler(capture)
        self.assertEqual((missing.status_code, missing.text), (401, "A valid bearer token is required.\n"))
        self.assertEqual(missing.headers["WWW-Authenticate"], 'Bearer realm="metrics"')
        self.assertEqual(wrong.status_code, 401)
        self.assertEqual(right.status_code, 200)
        self.assertEqual([line for line in capture.lines if TOKEN in line or "wrong-token-value" in line], [])

    def test_allowlist_admits_only_its_networks(self):
        self.params.set_param(PARAM_ALLOWLIST, "10.0.0.0/8")
        refused = self.scrape()
        self.assertEqual((refused.status_code, refused.text), (403, "This address may not read /metrics.\n"))
        self.params.set_param(PARAM_ALLOWLIST, "10.0.0.0/8, 127.0.0.1")
        self.assertEqual(self.scrape().status_code, 200)

    def test_metrics_show_exactly_the_committed_counts(self):
        for _ in range(3):
            self.url_open("/web/health")
        self.url_open("/api_monitor_test/boom")
        committed = committed_counts(self.env.cr.dbname)
        response = self.scrape()
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "text/plain; version=0.0.4; charset=utf-8")
        families = {f.name: f for f in text_string_to_metric_families(response.text)}
        shown = {
            (s.labels["endpoint"], s.labels["method"], int(s.labels["code"]), s.labels["outcome"]): s.value
            for s in families["http_requests"].samples
        }
        self.assertEqual(shown, {key: float(value) for key, value in committed.items()})
        self.assertEqual(
            self.counted(),
            {
                ("/web/health", "GET", 200, "success"): 3,
                ("/api_monitor_test/boom", "GET", 500, "server_error"): 1,
                ("/metrics", "GET", 200, "success"): 1,
            },
        )
        counts = {
            s.labels["endpoint"]: s.value
            for s in families["http_request_duration_seconds"].samples
            if s.name == "http_request_duration_seconds_count"
        }
        self.assertEqual(counts["/api_monitor_test/boom"], float(sum(
            v for (endpoint, *_), v in committed.items() if endpoint == "/api_monitor_test/boom"
        )))
        self.assertGreaterEqual(families["api_monitor_flushes"].samples[0].value, 1.0)
        self.assertNotIn(TOKEN, response.text)

    def test_a_split_scrape_shows_each_endpoint_in_exactly_one_part_and_its_own_metrics_once(self):
        for path in ("/web/health", "/web/webclient/version_info", "/api_monitor_test/boom", "/web/login"):
            self.url_open(path)
        committed = committed_counts(self.env.cr.dbname)
        parts = []
        for part in range(3):
            response = self.url_open(f"/metrics?shard={part}&shards=3", headers={"Authorization": f"Bearer {TOKEN}"})
            self.assertEqual(response.status_code, 200)
            parts.append({f.name: f for f in text_string_to_metric_families(response.text)})
        seen = {}
        for part, families in enumerate(parts):
            for sample in families["http_requests"].samples:
                endpoint = sample.labels["endpoint"]
                self.assertEqual(shard_of(endpoint, 3), part, endpoint)  # the database and Python agree
                seen[(endpoint, sample.labels["method"], int(sample.labels["code"]), sample.labels["outcome"])] = (
                    sample.value)
        # every committed series in exactly one part (the scrapes themselves add /metrics series meanwhile)
        self.assertEqual({k: v for k, v in seen.items() if k[0] != "/metrics"},
                         {k: float(v) for k, v in committed.items() if k[0] != "/metrics"})
        self.assertEqual(["api_monitor_flushes" in families for families in parts], [True, False, False])
        for query in ("shard=3&shards=3", "shard=0", "shard=a&shards=2", "shard=0&shards=65", "shard=-1&shards=2"):
            response = self.url_open(f"/metrics?{query}", headers={"Authorization": f"Bearer {TOKEN}"})
            self.assertEqual((response.status_code, response.text), (400, "shards must be 1 to 64 and shard 0 to "
                             "shards - 1, both given (e.g. ?shard=0&shards=4).\n"), query)

    def test_openmetrics_carries_the_newest_server_errors_request_id_as_exemplar(self):
        failing = self.url_open("/api_monitor_test/boom")
        request_id = failing.headers["X-Request-ID"]
        committed_counts(self.env.cr.dbname)  # flushes
        response = self.url_open("/metrics", headers={"Authorization": f"Bearer {TOKEN}",
                                                       "Accept": "application/openmetrics-text; version=1.0.0"})
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.headers["Content-Type"].startswith("application/openmetrics-text"))
        lines = response.text.splitlines()
        errors = [line for line in lines if line.startswith(
            'http_requests_total{code="500",endpoint="/api_monitor_test/boom",method="GET",outcome="server_error"}')]
        self.assertEqual(len(errors), 1)
        self.assertRegex(errors[0], r' # \{request_id="' + request_id + r'"\} 1\.0 \d+\.\d+$')
        bucket = [line for line in lines if line.startswith('http_request_duration_seconds_bucket{endpoint='
                                                            '"/api_monitor_test/boom"') and request_id in line]
        self.assertEqual(len(bucket), 1)
        self.assertEqual(lines[-1], "# EOF")
