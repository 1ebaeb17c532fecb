"""The incident lifecycle: each step's state and who hears of it."""

import pytest

from core.incident import (
    ACKNOWLEDGED,
    IN_ODOO,
    IN_PAGERDUTY,
    RESOLVED,
    TRIGGERED,
    LifecycleError,
    Receiver,
    Step,
    acknowledge,
    escalate,
    resolve,
    trigger,
)

PAGERDUTY = Receiver(1, "pagerduty", "P2")
SLACK = Receiver(2, "slack", "P4")
ALERTMANAGER = Receiver(3, "alertmanager", "P4")
WEBHOOK = Receiver(4, "webhook", "P1")
ALL = [PAGERDUTY, SLACK, ALERTMANAGER, WEBHOOK]


@pytest.mark.parametrize(("severity", "told"), [("P1", (1, 2, 3, 4)), ("P2", (1, 2, 3)), ("P3", (2, 3)), ("P4", (2, 3))])
def test_a_trigger_pages_every_receiver_that_takes_its_severity(severity, told):
    assert trigger(severity, ALL) == Step(TRIGGERED, "trigger", told)


def test_an_escalation_pages_again_unless_someone_acknowledged():
    assert escalate(TRIGGERED, "P1", ALL) == Step(TRIGGERED, "trigger", (1, 2, 3, 4))
    assert escalate(ACKNOWLEDGED, "P1", ALL) == Step(ACKNOWLEDGED)


def test_an_acknowledgement_reaches_the_paged_receivers_that_know_one():
    assert acknowledge(TRIGGERED, ALL) == Step(ACKNOWLEDGED, "acknowledge", (1, 2, 4))  # Alertmanager has none


def test_a_step_taken_in_pagerduty_is_not_echoed_back_to_it():
    assert acknowledge(TRIGGERED, ALL, IN_PAGERDUTY) == Step(ACKNOWLEDGED, "acknowledge", (2, 4))
    assert resolve(ACKNOWLEDGED, ALL, IN_PAGERDUTY) == Step(RESOLVED, "resolve", (2, 3, 4))
    assert resolve(TRIGGERED, ALL, IN_ODOO) == Step(RESOLVED, "resolve", (1, 2, 3, 4))


def test_steps_that_do_not_apply_say_why():
    with pytest.raises(LifecycleError, match="Only triggered incidents can be acknowledged."):
        acknowledge(ACKNOWLEDGED, ALL)
    with pytest.raises(LifecycleError, match="This incident is already resolved."):
        resolve(RESOLVED, ALL)


def test_nobody_paged_means_nobody_hears_of_the_resolve():
    assert resolve(TRIGGERED, []) == Step(RESOLVED, "resolve", ())
