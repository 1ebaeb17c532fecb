"""The contract every notifier keeps, against a real HTTP server on loopback that misbehaves on purpose:
whatever the receiver does, the delivery gets a decision with a reason, never an exception, never a secret.

As Alertmanager's ``notify/test``: every kind runs every case.
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from core import notify
from core.notify import FAILED, RETRY, SENT, IncidentEvent, ReceiverConfig, RetryPolicy, decide, notifier, send

KEY = "R0UT1NGKEY0123456789abcdefABCDEF"
HOOK_SECRET = "T000/B000/sl4ckw3bh00ks3cr3t"
TOKEN = "t0k3n-1n-th3-qu3ry"
EVENT = IncidentEvent(
    action="trigger", reference="INC-7", dedup_key="odoo-x-api_monitor-7", rule="High API error rate", severity="P1",
    endpoint="/web/dataset/call_kw/res.partner/create", ratio=0.5, requests=100, errors=50, window="5m",
    threshold="5.0%", detail="50.0% server errors over 5m (50/100)", started_at="2026-12-03T08:00:00Z",
    source="odoo.example.com", incident_url="https://odoo.example.com/odoo/incident/7")


class Misbehaving(BaseHTTPRequestHandler):
    """Answers each POST as the path says: /status/<code>[/<retry-after>], /hang, /close, /garbage,
    /redirect, /huge."""

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts[0] == "services":  # a Slack webhook URL: /services/T000/B000/<secret>/<what to do>...
            parts = parts[4:]
        kind = parts[0]
        if kind == "hang":
            time.sleep(2)
            return
        if kind == "close":
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if kind == "garbage":
            self.wfile.write(b"\x00\xffnot http at all\r\n\r\n")
            return
        if kind == "redirect":
            self.send_response(301)
            self.send_header("Location", f"https://elsewhere.example.com/steal?key={KEY}")
            self.end_headers()
            return
        if kind == "huge":
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"x" * 10_000_000)
            return
        code = int(parts[1])
        self.send_response(code)
        if len(parts) > 2:
            self.send_header("Retry-After", parts[2])
        self.end_headers()
        self.wfile.write(b'{"path": "' + self.path.encode() + b'", "body": ' + body[:3000] + b"}")


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # the cases that hang up on the client end that way on purpose


@pytest.fixture(scope="module")
def server():
    httpd = QuietServer(("127.0.0.1", 0), Misbehaving)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def config(kind: str, url: str) -> ReceiverConfig:
    """Each kind with a secret where it keeps one: PagerDuty in its body, Slack in its URL's path, a webhook
    and an Alertmanager in a token of their URL's query."""
    if kind == "slack":
        parts = urlsplit(url)
        return ReceiverConfig(kind, "receiver", timeout=0.5,
                              slack_webhook_url=f"http://{parts.netloc}/services/{HOOK_SECRET}{parts.path}")
    if kind == "pagerduty":
        return ReceiverConfig(kind, "receiver", url=url, routing_key=KEY, timeout=0.5)
    return ReceiverConfig(kind, "receiver", url=f"{url}?token={TOKEN}", timeout=0.5)


def attempt(kind: str, url: str):
    cfg = config(kind, url)
    outbound = notifier(kind).request(EVENT, cfg)
    answer = send(outbound, cfg.timeout, cfg.secrets)
    return answer, decide(answer.status, answer.error, 1, 1000.0, 1000.0, RetryPolicy(), answer.retry_after)


CASES = [
    ("/status/202", SENT, 202),
    ("/status/200", SENT, 200),
    ("/status/400", FAILED, 400),
    ("/status/404", FAILED, 404),
    ("/status/408", RETRY, 408),
    ("/status/429/30", RETRY, 429),
    ("/status/429/%C2%B2", RETRY, 429),
    ("/status/429/-1", RETRY, 429),
    ("/status/503/Wed,%2099%20Nov%202026", RETRY, 503),
    ("/status/500", RETRY, 500),
    ("/redirect", FAILED, 301),
    ("/hang", RETRY, None),
    ("/close", RETRY, None),
    ("/garbage", RETRY, None),
    ("/huge", RETRY, 500),
]


@pytest.mark.parametrize("kind", notify.KINDS)
@pytest.mark.parametrize(("path", "outcome", "status"), CASES, ids=[c[0] for c in CASES])
def test_every_answer_is_decided_with_a_reason_and_no_secret(server, kind, path, outcome, status):
    answer, decision = attempt(kind, server + path)
    assert (decision.outcome, answer.status) == (outcome, status)
    if outcome != SENT:
        assert decision.reason
    for text in (answer.text, answer.error or "", decision.reason):
        assert KEY not in text and HOOK_SECRET not in text and TOKEN not in text, text
    assert len(answer.text) <= 2000
    if outcome == RETRY:
        assert 1000.0 < decision.retry_at <= 1000.0 + RetryPolicy().cap


@pytest.mark.parametrize("kind", notify.KINDS)
def test_a_receiver_that_hangs_costs_its_timeout_and_no_more(server, kind):
    started = time.monotonic()
    answer, decision = attempt(kind, server + "/hang")
    assert time.monotonic() - started < 1.5
    assert (answer.error, decision.reason) == ("no answer within 0.5s", "no answer within 0.5s")


@pytest.mark.parametrize("kind", notify.KINDS)
def test_nothing_listening_is_a_retry_that_names_no_url(kind):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    answer, decision = attempt(kind, f"http://127.0.0.1:{port}/x")
    assert decision.outcome == RETRY
    assert answer.error == "connection failed: Connection refused"
    assert "127.0.0.1" not in decision.reason


@pytest.mark.parametrize("kind", notify.KINDS)
def test_a_receiver_without_its_destination_is_not_configured(kind):
    with pytest.raises(notify.NotConfigured) as raised:
        notifier(kind).request(EVENT, ReceiverConfig(kind, "Ops"))
    assert raised.value.args[0].startswith("Ops ")


def test_the_timeout_is_capped_whatever_the_receiver_says(server):
    cfg = ReceiverConfig("webhook", "w", url=server + "/hang", timeout=10_000)
    outbound = notifier("webhook").request(EVENT, cfg)
    assert notify.transport.TIMEOUT_CAP == 30.0
    answer = send(outbound, 0.2)
    assert answer.error == "no answer within 0.2s"


@pytest.mark.parametrize(("values", "message"), [
    ({"kind": "pagerduty", "routing_key": "short"},
     "A PagerDuty routing key is 32 letters and digits; the one given for R has 5 characters."),
    ({"kind": "slack", "slack_webhook_url": "hooks.slack.com/services/x"},
     "The Slack webhook URL of R must be a full http:// or https:// URL without spaces (2000 characters at most), "
     "such as https://events.pagerduty.com/v2/enqueue."),
    ({"kind": "webhook", "url": "javascript:alert(1)"},
     "The endpoint URL of R must be a full http:// or https:// URL without spaces (2000 characters at most), such "
     "as https://events.pagerduty.com/v2/enqueue."),
    ({"kind": "webhook", "url": "https://x.example.com/a b"},
     "The endpoint URL of R must be a full http:// or https:// URL without spaces (2000 characters at most), such "
     "as https://events.pagerduty.com/v2/enqueue."),
    ({"kind": "webhook", "url": "https://x.example.com", "timeout": 0},
     "The timeout of R must be between 1 and 30 seconds; 0 is not."),
    ({"kind": "webhook", "url": "https://x.example.com", "timeout": 3600},
     "The timeout of R must be between 1 and 30 seconds; 3600 is not."),
    ({"kind": "sms"}, "The kind must be one of pagerduty, slack, alertmanager, webhook; 'sms' is not."),
])
def test_receiver_settings_that_cannot_work_are_refused_with_what_to_change(values, message):
    with pytest.raises(notify.ReceiverError) as raised:
        notify.check_receiver(ReceiverConfig(**{"name": "R", **values}))
    assert str(raised.value) == message


def test_a_receiver_without_destination_is_allowed_to_be_saved():
    notify.check_receiver(ReceiverConfig("slack", "Slack #ops"))
    notify.check_receiver(ReceiverConfig("pagerduty", "PD"))
