"""The sandbox receivers over real HTTP on loopback: they check events as PagerDuty documents them."""

import json
import urllib.error
import urllib.request

import pytest

from tools.sandbox import Sandbox, validate_event

KEY = "R0UT1NGKEY0123456789abcdefABCDEF"


def trigger(**changes):
    event = {"routing_key": KEY, "event_action": "trigger", "dedup_key": "k1",
             "payload": {"summary": "s", "source": "odoo", "severity": "critical"}}
    event.update(changes)
    return event


@pytest.fixture()
def sandbox():
    with Sandbox() as running:
        yield running


def post(url, body, raw=False):
    data = body if raw else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


def test_a_valid_trigger_is_accepted_with_its_dedup_key(sandbox):
    status, body, _ = post(f"{sandbox.url}/v2/enqueue", trigger())
    assert (status, json.loads(body)) == (202, {"status": "success", "message": "Event processed", "dedup_key": "k1"})
    assert [(a["dedup_key"], a["status"]) for a in sandbox.state.snapshot()["alerts"]] == [("k1", "triggered")]


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (trigger(routing_key="short"), "'routing_key' is invalid: it must be a 32 character string"),
        (trigger(event_action="page"), "'event_action' is invalid: it must be one of trigger, acknowledge, resolve"),
        (trigger(dedup_key="k" * 256), "'dedup_key' is invalid: it must be a string of at most 255 characters"),
        (trigger(payload={"source": "odoo", "severity": "critical"}), "'payload.summary' is missing"),
        (trigger(payload={"summary": "x" * 1025, "source": "o", "severity": "info"}),
         "'payload.summary' is too long: at most 1024 characters"),
        (trigger(payload={"summary": "s", "severity": "critical"}), "'payload.source' is missing"),
        (trigger(payload={"summary": "s", "source": "o", "severity": "P1"}),
         "'payload.severity' is invalid: it must be one of critical, error, warning, info"),
        (trigger(payload={"summary": "s", "source": "o", "severity": "info", "timestamp": "yesterday"}),
         "'payload.timestamp' is invalid: it must be an ISO 8601 date-time"),
        ({"routing_key": KEY, "event_action": "resolve"}, "'dedup_key' is missing: it is required for acknowledge and resolve"),
        (trigger(links=[{"text": "no href"}]), "'links' is invalid: a list of objects with 'href'"),
    ],
)
def test_invalid_events_get_400_with_the_errors(sandbox, event, error):
    assert validate_event(event) == [error]
    status, body, _ = post(f"{sandbox.url}/v2/enqueue", event)
    assert (status, json.loads(body)) == (400, {"status": "invalid event", "message": "Event object is invalid",
                                                "errors": [error]})
    assert sandbox.state.snapshot()["alerts"] == []


def test_events_with_one_dedup_key_fold_into_one_alert_through_its_life(sandbox):
    for action in ("trigger", "trigger", "acknowledge", "trigger", "resolve"):
        post(f"{sandbox.url}/v2/enqueue", trigger(event_action=action) if action == "trigger"
             else {"routing_key": KEY, "event_action": action, "dedup_key": "k1"})
    alerts = sandbox.state.snapshot()["alerts"]
    assert [(a["dedup_key"], a["status"], len(a["events"])) for a in alerts] == [("k1", "resolved", 5)]
    post(f"{sandbox.url}/v2/enqueue", trigger())  # a trigger after resolution opens a new alert
    assert [a["status"] for a in sandbox.state.snapshot()["alerts"]] == ["resolved", "triggered"]


def test_a_body_over_512_kb_is_refused(sandbox):
    status, body, _ = post(f"{sandbox.url}/v2/enqueue", b"x" * (512 * 1024 + 1), raw=True)
    assert status == 400 and json.loads(body)["errors"] == ["body over 512 KB"]


def test_it_can_be_told_to_answer_429_then_recover(sandbox):
    sandbox.behave("pagerduty", "429", count=2, retry_after="7")
    answers = [post(f"{sandbox.url}/v2/enqueue", trigger()) for _ in range(3)]
    assert [a[0] for a in answers] == [429, 429, 202]
    assert answers[0][2]["Retry-After"] == "7"
    assert sandbox.state.snapshot()["attempts"]["pagerduty"] == 3
    assert len(sandbox.state.snapshot()["alerts"]) == 1


def test_control_over_http_and_500(sandbox):
    post(f"{sandbox.url}/_control", {"target": "pagerduty", "mode": "500", "count": 1})
    assert post(f"{sandbox.url}/v2/enqueue", trigger())[0] == 500
    assert post(f"{sandbox.url}/v2/enqueue", trigger())[0] == 202


def test_slack_sink_takes_messages_with_text(sandbox):
    assert post(f"{sandbox.url}/slack/ops", {"text": "hello"})[:2] == (200, "ok")
    assert post(f"{sandbox.url}/slack/ops", {"blocks": []})[:2] == (400, "invalid_payload")
    assert [m["text"] for m in sandbox.state.snapshot()["slack"]] == ["hello"]
