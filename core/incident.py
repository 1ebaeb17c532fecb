"""The incident lifecycle: triggered, acknowledged, resolved, and who is told at each step.

The Odoo layer stores incidents and sends what :func:`trigger`, :func:`escalate`, :func:`acknowledge` and
:func:`resolve` decide:

* a trigger goes to the rule's receivers that take the incident's severity;
* an escalation (a more severe tier breaches) pages again those that take the new severity, unless someone
  already acknowledged;
* an acknowledgement and a resolution go to the receivers that were sent the trigger, and only to those
  whose kind takes that event (Alertmanager has no acknowledgement); one made in PagerDuty is not echoed
  back to PagerDuty.
"""

from __future__ import annotations

from dataclasses import dataclass

from .notify import ACKNOWLEDGE, RESOLVE, TRIGGER, notifier
from .rules import SEVERITIES

TRIGGERED = "triggered"
ACKNOWLEDGED = "acknowledged"
RESOLVED = "resolved"
STATES = (TRIGGERED, ACKNOWLEDGED, RESOLVED)

#: who acted: a person in Odoo (or the evaluator), or someone in PagerDuty (through its webhook)
IN_ODOO = "odoo"
IN_PAGERDUTY = "pagerduty"


class LifecycleError(ValueError):
    """The step does not apply to the incident's state; the message says why."""


@dataclass(frozen=True, slots=True)
class Receiver:
    id: int
    kind: str
    min_severity: str = "P4"

    def accepts(self, severity: str) -> bool:
        """Whether an incident of ``severity`` goes to this receiver (P2 takes P1 and P2)."""
        return SEVERITIES.index(severity) <= SEVERITIES.index(self.min_severity)


@dataclass(frozen=True, slots=True)
class Step:
    """The incident's state after the step, and the event to send to which receivers."""

    state: str
    action: str | None = None
    tell: tuple[int, ...] = ()


def _takes(receivers: list[Receiver], action: str, origin: str = IN_ODOO) -> tuple[int, ...]:
    return tuple(r.id for r in receivers
                 if action in notifier(r.kind).actions and not (origin == IN_PAGERDUTY and r.kind == "pagerduty"))


def trigger(severity: str, receivers: list[Receiver]) -> Step:
    """A rule fired: the incident opens and pages every receiver that takes its severity."""
    return Step(TRIGGERED, TRIGGER, _takes([r for r in receivers if r.accepts(severity)], TRIGGER))


def escalate(state: str, severity: str, receivers: list[Receiver]) -> Step:
    """A more severe tier breaches: page again, unless someone acknowledged already."""
    if state != TRIGGERED:
        return Step(state)
    return Step(state, TRIGGER, _takes([r for r in receivers if r.accepts(severity)], TRIGGER))


def acknowledge(state: str, paged: list[Receiver], origin: str = IN_ODOO) -> Step:
    """Someone took the incident: the receivers that were paged hear it."""
    if state != TRIGGERED:
        raise LifecycleError("Only triggered incidents can be acknowledged.")
    return Step(ACKNOWLEDGED, ACKNOWLEDGE, _takes(paged, ACKNOWLEDGE, origin))


def resolve(state: str, paged: list[Receiver], origin: str = IN_ODOO) -> Step:
    """The API recovered, or someone resolved the incident: the receivers that were paged hear it."""
    if state == RESOLVED:
        raise LifecycleError("This incident is already resolved.")
    return Step(RESOLVED, RESOLVE, _takes(paged, RESOLVE, origin))
