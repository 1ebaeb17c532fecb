"""A local PagerDuty-compatible receiver and Slack-compatible sink, for the demo, the tests and drills.

``POST /v2/enqueue`` checks events the way PagerDuty's Events API v2 documents them and keeps the alerts
it holds by ``routing_key`` and ``dedup_key`` (triggered, acknowledged, resolved), as a PagerDuty service
does: a trigger folds into the open alert with the same keys, or opens a new one. ``POST /slack/...`` takes Slack incoming-webhook messages,
``POST /api/v2/alerts`` Alertmanager alerts and ``POST /webhook/...`` anything JSON.

It can be told to misbehave: ``POST /_control`` with ``{"target": "pagerduty", "mode": "429", "count": 3,
"retry_after": "2"}`` (modes ``ok``, ``400``, ``429``, ``500``, ``slow`` with ``delay``, ``garbage`` (bytes that
are not HTTP), ``redirect`` (to another host); ``"seconds": 60`` instead
of ``count`` misbehaves for that long); ``GET /_state`` shows what
it holds; ``POST /_reset`` forgets everything.

    python -m tools.sandbox --port 8091
"""

from __future__ import annotations

import argparse
import datetime
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY_LIMIT = 512 * 1024
SEVERITIES = {"critical", "error", "warning", "info"}
ACTIONS = {"trigger", "acknowledge", "resolve"}


def validate_event(event: object) -> list[str]:
    """The errors PagerDuty would report for this Events API v2 event (empty when valid)."""
    if not isinstance(event, dict):
        return ["Event object is invalid"]
    errors = []
    key = event.get("routing_key")
    if not isinstance(key, str) or len(key) != 32:
        errors.append("'routing_key' is invalid: it must be a 32 character string")
    action = event.get("event_action")
    if action not in ACTIONS:
        errors.append("'event_action' is invalid: it must be one of trigger, acknowledge, resolve")
    dedup = event.get("dedup_key")
    if dedup is not None and (not isinstance(dedup, str) or not 0 < len(dedup) <= 255):
        errors.append("'dedup_key' is invalid: it must be a string of at most 255 characters")
    if action in ("acknowledge", "resolve") and not dedup:
        errors.append("'dedup_key' is missing: it is required for acknowledge and resolve")
    if action == "trigger":
        payload = event.get("payload")
        if not isinstance(payload, dict):
            errors.append("'payload' is missing or not an object")
        else:
            summary = payload.get("summary")
            if not isinstance(summary, str) or not summary:
                errors.append("'payload.summary' is missing")
            elif len(summary) > 1024:
                errors.append("'payload.summary' is too long: at most 1024 characters")
            if not isinstance(payload.get("source"), str) or not payload.get("source"):
                errors.append("'payload.source' is missing")
            if payload.get("severity") not in SEVERITIES:
                errors.append("'payload.severity' is invalid: it must be one of critical, error, warning, info")
            timestamp = payload.get("timestamp")
            if timestamp is not None and not _iso8601(timestamp):
                errors.append("'payload.timestamp' is invalid: it must be an ISO 8601 date-time")
            if "custom_details" in payload and not isinstance(payload["custom_details"], (dict, str)):
                errors.append("'payload.custom_details' is invalid")
        for name, need in (("links", "href"), ("images", "src")):
            items = event.get(name, [])
            if not isinstance(items, list) or any(not isinstance(i, dict) or need not in i for i in items):
                errors.append(f"'{name}' is invalid: a list of objects with '{need}'")
    return errors


def slack_text(body: object) -> str | None:
    """The text of a Slack incoming-webhook message, as Slack accepts them: a ``text``, or ``attachments``
    (what Alertmanager sends) or ``blocks`` carrying one; None when Slack would answer ``invalid_payload``."""
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("text"), str) and body["text"]:
        return body["text"]
    parts = []
    for attachment in body.get("attachments") or []:
        if isinstance(attachment, dict):
            parts += [attachment[k] for k in ("title", "text", "fallback") if isinstance(attachment.get(k), str)]
    for block in body.get("blocks") or []:
        if isinstance(block, dict) and isinstance(block.get("text"), dict) and isinstance(block["text"].get("text"), str):
            parts.append(block["text"]["text"])
    return "\n".join(p for p in parts if p) or None


def _iso8601(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


@dataclass
class Alert:
    routing_key: str
    dedup_key: str
    status: str
    summary: str
    severity: str
    opened_at: float
    events: list[dict] = field(default_factory=list)


@dataclass
class Behaviour:
    mode: str = "ok"
    count: int | None = None  # how many requests to answer this way, None for until told otherwise
    delay: float = 0.0
    retry_after: str | None = None
    until: float | None = None  # time.time() after which the behaviour ends


class SandboxState:
    """Everything the sandbox received and holds; thread-safe."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.alerts: list[Alert] = []
        self.events: list[dict] = []  # every accepted PagerDuty event, with its arrival time
        self.rejected: list[dict] = []
        self.slack: list[dict] = []
        self.alertmanager: list[dict] = []
        self.webhook: list[dict] = []
        self.attempts: dict[str, int] = {"pagerduty": 0, "slack": 0, "alertmanager": 0, "webhook": 0}
        self.behaviour: dict[str, Behaviour] = {}

    def open_alert(self, dedup_key: str, routing_key: str | None = None) -> Alert | None:
        return next((a for a in reversed(self.alerts) if a.dedup_key == dedup_key and a.status != "resolved"
                     and routing_key in (None, a.routing_key)), None)

    def take_behaviour(self, target: str) -> Behaviour:
        behaviour = self.behaviour.get(target, Behaviour())
        if behaviour.until is not None and time.time() >= behaviour.until:
            self.behaviour.pop(target, None)
            return Behaviour()
        if behaviour.count is not None:
            behaviour.count -= 1
            if behaviour.count <= 0:
                self.behaviour.pop(target, None)
        return behaviour

    def apply(self, event: dict, now: float) -> str:
        action, dedup, key = event["event_action"], event.get("dedup_key") or uuid.uuid4().hex, event["routing_key"]
        record = {"at": now, "action": action, "dedup_key": dedup, "routing_key": key,
                  "summary": (event.get("payload") or {}).get("summary"),
                  "severity": (event.get("payload") or {}).get("severity"), "body": event}
        self.events.append(record)
        alert = self.open_alert(dedup, key)
        if action == "trigger":
            if alert is None:
                alert = Alert(key, dedup, "triggered", record["summary"], record["severity"], now)
                self.alerts.append(alert)
            else:
                alert.summary, alert.severity = record["summary"], record["severity"]
        elif alert is not None:
            alert.status = "acknowledged" if action == "acknowledge" else "resolved"
        if alert is not None:
            alert.events.append({k: v for k, v in record.items() if k != "body"})
        return dedup

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "alerts": [a.__dict__ | {"events": list(a.events)} for a in self.alerts],
                "events": [{k: v for k, v in e.items() if k != "body"} for e in self.events],
                "rejected": list(self.rejected),
                "slack": list(self.slack),
                "alertmanager": list(self.alertmanager),
                "webhook": list(self.webhook),
                "attempts": dict(self.attempts),
            }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, fmt, *args):  # quiet: the tests read the state, not the log
        pass

    def _reply(self, status: int, body: object, headers: dict | None = None) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if not isinstance(body, bytes) else "text/plain")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> tuple[bytes | None, object]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if length > BODY_LIMIT:
            return None, None
        try:
            return raw, json.loads(raw or b"null")
        except ValueError:
            return raw, ValueError

    def do_GET(self):
        if self.path == "/_state":
            return self._reply(200, self.server.state.snapshot())
        return self._reply(404, {"error": "not found"})

    def do_POST(self):
        state = self.server.state
        raw, body = self._body()
        if self.path == "/_control":
            with state.lock:
                seconds = body.get("seconds")
                state.behaviour[body.get("target", "pagerduty")] = Behaviour(
                    body.get("mode", "ok"), body.get("count"), float(body.get("delay", 0)), body.get("retry_after"),
                    time.time() + float(seconds) if seconds is not None else None)
            return self._reply(200, {"ok": True})
        if self.path == "/_reset":
            with state.lock:
                state.reset()
            return self._reply(200, {"ok": True})
        target = ("pagerduty" if self.path == "/v2/enqueue" else "slack" if self.path.startswith("/slack/")
                  else "alertmanager" if self.path == "/api/v2/alerts" else "webhook" if self.path.startswith("/webhook")
                  else None)
        if target is None:
            return self._reply(404, {"error": "not found"})
        with state.lock:
            state.attempts[target] += 1
            behaviour = state.take_behaviour(target)
        if behaviour.mode == "slow":
            time.sleep(behaviour.delay)
        elif behaviour.mode == "garbage":
            self.wfile.write(b"\x00\xff this is not HTTP\r\n\r\n")
            self.close_connection = True
            return None
        elif behaviour.mode == "redirect":
            return self._reply(302, {"moved": True}, {"Location": "https://elsewhere.example.com/v2/enqueue"})
        elif behaviour.mode == "429":
            headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else {}
            return self._reply(429, {"status": "throttle event", "message": "Requests for this service are arriving too quickly."}, headers)
        elif behaviour.mode == "500":
            return self._reply(500, {"status": "error", "message": "Internal Server Error"})
        elif behaviour.mode == "400":
            return self._reply(400, {"status": "invalid event", "message": "Event object is invalid",
                                     "errors": ["refused on request of the test"]})
        if raw is None:
            return self._reply(413 if target != "pagerduty" else 400,
                               {"status": "invalid event", "message": "Event object is invalid", "errors": ["body over 512 KB"]})
        if body is ValueError:
            return self._reply(400, {"status": "invalid event", "message": "Event object is invalid", "errors": ["body is not JSON"]})
        now = time.time()
        with state.lock:
            if target == "pagerduty":
                errors = validate_event(body)
                if errors:
                    state.rejected.append({"at": now, "errors": errors})
                    return self._reply(400, {"status": "invalid event", "message": "Event object is invalid", "errors": errors})
                dedup = state.apply(body, now)
                return self._reply(202, {"status": "success", "message": "Event processed", "dedup_key": dedup})
            if target == "slack":
                text = slack_text(body)
                if text is None:
                    return self._reply(400, b"invalid_payload")
                state.slack.append({"at": now, "path": self.path, "text": text})
                return self._reply(200, b"ok")
            if target == "alertmanager":
                state.alertmanager.append({"at": now, "alerts": body})
                return self._reply(200, b"")
            state.webhook.append({"at": now, "path": self.path, "body": body})
            return self._reply(200, {"ok": True})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: SandboxState


class Sandbox:
    """Run the sandbox in a thread: ``with Sandbox() as sandbox: sandbox.url``."""

    def __init__(self, port: int = 0) -> None:
        self.server = _Server(("127.0.0.1", port), _Handler)
        self.server.state = SandboxState()
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="sandbox", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def state(self) -> SandboxState:
        return self.server.state

    def start(self) -> Sandbox:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def behave(self, target: str, mode: str, count: int | None = None, delay: float = 0.0,
               retry_after: str | None = None, seconds: float | None = None) -> None:
        with self.state.lock:
            self.state.behaviour[target] = Behaviour(
                mode, count, delay, retry_after, time.time() + seconds if seconds is not None else None)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8091)
    args = parser.parse_args()
    sandbox = Sandbox(args.port)
    print(f"sandbox listening on {sandbox.url} (PagerDuty: {sandbox.url}/v2/enqueue, Slack: {sandbox.url}/slack/ops)")
    sandbox.server.serve_forever()


if __name__ == "__main__":
    main()
