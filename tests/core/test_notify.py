import random

import pytest

from core.notify import (
    FAILED,
    GAVE_UP,
    RETRY,
    SENT,
    IncidentEvent,
    RetryPolicy,
    alertmanager,
    decide,
    encode,
    pagerduty,
    parse_retry_after,
    slack,
    webhook,
)

pagerduty_body, slack_body, webhook_body = pagerduty.body, slack.body, webhook.body
alertmanager_body = alertmanager.body

KEY = "R0UT1NGKEY0123456789abcdefABCDEF"  # 32 characters


def event(**changes):
    values = dict(
        action="trigger", reference="INC-0042", dedup_key="odoo-api_monitor-prod-INC-0042", rule="High API error rate",
        severity="P1", endpoint="/web/dataset/call_kw/res.partner/create", ratio=0.124, requests=250, errors=31,
        window="5m", threshold="5.0%", detail="12.4% server errors over 5m (31/250)",
        started_at="2026-11-23T10:00:00Z", source="odoo.example.com",
        incident_url="https://odoo.example.com/odoo/action-api_monitor.action_incident/7",
        runbook_url="https://wiki.example.com/runbooks/api-errors", dashboard_url="", logs_url="",
        sample_request_ids=("a1", "b2"),
    )
    values.update(changes)
    return IncidentEvent(**values)


def test_pagerduty_trigger_carries_every_documented_field():
    assert pagerduty_body(event(), KEY) == {
        "routing_key": KEY,
        "event_action": "trigger",
        "dedup_key": "odoo-api_monitor-prod-INC-0042",
        "payload": {
            "summary": "[P1] 12.4% server errors on /web/dataset/call_kw/res.partner/create (5m)",
            "source": "odoo.example.com",
            "severity": "critical",
            "timestamp": "2026-11-23T10:00:00Z",
            "component": "/web/dataset/call_kw/res.partner/create",
            "group": "High API error rate",
            "class": "api_error_rate",
            "custom_details": {
                "incident": "INC-0042", "endpoint": "/web/dataset/call_kw/res.partner/create", "error_ratio": 0.124,
                "requests": 250, "server_errors": 31, "window": "5m", "threshold": "5.0%",
                "detail": "12.4% server errors over 5m (31/250)", "sample_request_ids": ["a1", "b2"],
            },
        },
        "links": [
            {"href": "https://odoo.example.com/odoo/action-api_monitor.action_incident/7", "text": "Incident INC-0042 in Odoo"},
            {"href": "https://wiki.example.com/runbooks/api-errors", "text": "Runbook"},
        ],
        "client": "Odoo API Monitoring",
        "client_url": "https://odoo.example.com/odoo/action-api_monitor.action_incident/7",
    }


@pytest.mark.parametrize(("severity", "expected"), [("P1", "critical"), ("P2", "error"), ("P3", "warning"), ("P4", "info")])
def test_pagerduty_severity_mapping(severity, expected):
    assert pagerduty_body(event(severity=severity), KEY)["payload"]["severity"] == expected


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_pagerduty_acknowledge_and_resolve_need_only_key_action_and_dedup_key(action):
    assert pagerduty_body(event(action=action), KEY) == {
        "routing_key": KEY, "event_action": action, "dedup_key": "odoo-api_monitor-prod-INC-0042",
    }


def test_summary_and_dedup_key_respect_pagerduty_limits():
    long_endpoint = "/x/" + "y" * 3000
    body = pagerduty_body(event(endpoint=long_endpoint, dedup_key="k" * 400), KEY)
    assert len(body["payload"]["summary"]) == 1024
    assert body["payload"]["summary"].endswith("\u2026")
    assert len(body["dedup_key"]) == 255


def test_encode_refuses_a_body_over_512_kb():
    with pytest.raises(ValueError, match="exceeds 524288"):  # noqa: PT011
        encode({"x": "y" * (512 * 1024)})


def test_no_body_but_pagerdutys_carries_a_secret():
    for body in (slack_body(event()), alertmanager_body(event()), webhook_body(event())):
        assert KEY not in encode(body).decode()


def test_slack_messages_for_trigger_acknowledge_and_resolve():
    assert slack_body(event())["text"] == (
        ":rotating_light: P1 INC-0042: 12.4% server errors on `/web/dataset/call_kw/res.partner/create`\n"
        "*Rule:* High API error rate  *Severity:* P1  *Window:* 5m  *Requests:* 250  *Server errors:* 31  "
        "*Threshold:* 5.0%\n"
        "<https://odoo.example.com/odoo/action-api_monitor.action_incident/7|Incident INC-0042 in Odoo> | "
        "<https://wiki.example.com/runbooks/api-errors|Runbook>\n"
        "*Request ids:* `a1`, `b2`"
    )
    assert slack_body(event(action="acknowledge", actor="Ann"))["text"].splitlines()[0] == (
        ":eyes: INC-0042 acknowledged by Ann: `/web/dataset/call_kw/res.partner/create`"
    )
    assert slack_body(event(action="resolve", ratio=0.01))["text"].splitlines()[0] == (
        ":white_check_mark: INC-0042 resolved: `/web/dataset/call_kw/res.partner/create` is back to 1.0% server errors"
    )


def test_alertmanager_alert_ends_on_resolve():
    firing = alertmanager_body(event())[0]
    assert firing["labels"] == {"alertname": "ApiErrorRate", "rule": "High API error rate",
                                "endpoint": "/web/dataset/call_kw/res.partner/create", "severity": "P1",
                                "incident": "INC-0042"}
    assert "endsAt" not in firing
    assert "endsAt" in alertmanager_body(event(action="resolve"))[0]


POLICY = RetryPolicy(base=2.0, cap=300.0, give_up_after=3600.0, rng=random.Random(1))


@pytest.mark.parametrize(
    ("status", "error", "outcome"),
    [
        (200, None, SENT), (202, None, SENT),
        (301, None, FAILED), (302, None, FAILED), (307, None, FAILED),
        (400, None, FAILED), (401, None, FAILED), (403, None, FAILED), (404, None, FAILED), (413, None, FAILED),
        (408, None, RETRY), (429, None, RETRY),
        (500, None, RETRY), (502, None, RETRY), (503, None, RETRY), (504, None, RETRY),
        (None, "timed out after 10s", RETRY), (None, "connection refused", RETRY),
    ],
)
def test_retry_decision_for_each_answer(status, error, outcome):
    assert decide(status, error, attempt=1, now=1000.0, first_attempt_at=1000.0, policy=POLICY).outcome == outcome


def test_backoff_doubles_with_jitter_up_to_the_cap():
    policy = RetryPolicy(base=2.0, cap=300.0, rng=random.Random(5))
    for attempt, (low, high) in {1: (1, 2), 2: (2, 4), 3: (4, 8), 6: (32, 64), 12: (150, 300)}.items():
        waits = [policy.backoff(attempt) for _ in range(200)]
        assert low <= min(waits) and max(waits) <= high


def test_retry_after_is_honoured_when_longer_than_the_backoff():
    decision = decide(429, None, attempt=1, now=1000.0, first_attempt_at=1000.0, policy=POLICY, retry_after="30")
    assert decision.retry_at == 1030.0
    http_date = decide(503, None, attempt=1, now=1_795_000_000.0, first_attempt_at=1_795_000_000.0, policy=POLICY,
                       retry_after="Wed, 18 Nov 2026 11:07:00 GMT")
    assert http_date.retry_at - 1_795_000_000.0 == pytest.approx(20.0, abs=1e-6)


def test_retry_gives_up_past_the_give_up_age():
    decision = decide(500, None, attempt=30, now=1000.0 + 3590, first_attempt_at=1000.0, policy=POLICY)
    assert (decision.outcome, decision.reason) == (GAVE_UP, "HTTP 500; still failing after 30 attempts")


@pytest.mark.parametrize(("value", "expected"), [
    (None, None), ("", None), ("12", 12.0), (" 12 ", 12.0), ("soon", None), ("-5", None), ("1.5", None),
    ("\u00b2", None), ("\uff11\uff12", None), ("9" * 11, None), ("9" * 10, 9999999999.0), ("NaN", None),
    ("inf", None), ("Wed, 99 Nov 2026 99:99:99 GMT", None), ("x" * 10000, None), (12, None), (["12"], None),
    ("Thu, 01 Jan 1970 00:00:10 GMT", 10.0),
])
def test_parse_retry_after_reads_delta_seconds_and_dates_and_nothing_else(value, expected):
    assert parse_retry_after(value, 0.0) == expected


@pytest.mark.parametrize("value", ["99999999999999999999", "-1", "\u00b2", "Mon, 01 Jan 0001 00:00:00 GMT", "0"])
def test_no_retry_after_value_makes_the_decision_fail_or_wait_past_the_cap(value):
    decision = decide(429, None, attempt=1, now=1000.0, first_attempt_at=1000.0, policy=POLICY, retry_after=value)
    assert decision.outcome == RETRY
    assert 1000.0 < decision.retry_at <= 1000.0 + POLICY.cap


def test_slack_escapes_what_others_wrote_so_nobody_can_ping_the_channel_or_forge_a_link():
    text = slack_body(event(rule="<!channel> & <https://evil|click>", endpoint="/x`<!here>`",
                            action="acknowledge", actor="<@U123> Mallory"))["text"]
    assert "<!channel>" not in text and "<!here>" not in text and "<@U123>" not in text and "|click>" not in text
    assert text.splitlines()[0] == ":eyes: INC-0042 acknowledged by &lt;@U123&gt; Mallory: `/x'&lt;!here&gt;'`"
    assert "*Rule:* &lt;!channel&gt; &amp; &lt;https://evil|click&gt;" in text


def test_the_sandbox_reads_slack_messages_as_slack_accepts_them():
    from tools.sandbox import slack_text

    assert slack_text({"text": "hello"}) == "hello"
    # Alertmanager's slack_configs send attachments, without a top-level text
    assert slack_text({"channel": "#ops", "attachments": [{"title": "[P1] HighApiErrorRate", "text": "100% server errors",
                                                           "fallback": "[P1] HighApiErrorRate"}]}) == \
        "[P1] HighApiErrorRate\n100% server errors\n[P1] HighApiErrorRate"
    assert slack_text({"blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "resolved"}}]}) == "resolved"
    assert slack_text({"channel": "#ops"}) is None
    assert slack_text(["text"]) is None
