"""A library of synthetic traffic, one endpoint per scenario, with what an on-call engineer wants to happen.

Each scenario is one-minute buckets ``(start, requests, errors)`` from time 0, made without randomness
(errors are spread evenly, so the same scenario always gives the same buckets), and says whether it should
*page*, open a *ticket* or do *nothing*, and when its failure starts and ends.

Every scenario starts with three days of the same traffic without errors (``HISTORY``), as a site that
has been running for a while has: the burn-rate rule's longest window is three days, and without that
history its ratios would be those of a freshly installed addon. Times are seconds from the start of the
history; the scenario proper starts at ``Scenario.start``.
"""

from __future__ import annotations

from dataclasses import dataclass

PAGE, TICKET, NOTHING = "page", "ticket", "nothing"
MINUTE = 60
DAY_RATE = 100  # requests per minute on a working endpoint
HISTORY = 3 * 1440  # minutes of clean traffic before each scenario


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    expect: str  # page, ticket or nothing
    buckets: tuple[tuple[float, int, int], ...]
    failure: tuple[float, float] | None  # start and end of the failure, seconds from 0 (None: no failure)

    @property
    def start(self) -> float:
        """The first evaluation of the scenario proper, after the history."""
        return (HISTORY + 1) * MINUTE

    @property
    def end(self) -> float:
        return len(self.buckets) * MINUTE


class _Spread:
    """Turns a fractional error count per minute into whole errors without drift (1% of 100 = 1 a minute,
    0.5% = one every other minute)."""

    def __init__(self) -> None:
        self.carry = 0.0

    def __call__(self, expected: float) -> int:
        self.carry += expected
        whole = int(self.carry + 1e-9)
        self.carry -= whole
        return whole


def _build(minutes: int, traffic, error_rate) -> tuple[tuple[float, int, int], ...]:
    """``minutes`` of the scenario after ``HISTORY`` minutes of the same traffic without errors; ``traffic``
    and ``error_rate`` take the minute of the scenario (negative in the history)."""
    spread = _Spread()
    out = []
    for m in range(-HISTORY, minutes):
        requests = traffic(m)
        errors = min(requests, spread(requests * error_rate(m))) if m >= 0 else 0
        out.append(((m + HISTORY) * MINUTE, requests, errors))
    return tuple(out)


def _at(minute: int) -> float:
    """Seconds from time 0 of the scenario's ``minute``."""
    return (HISTORY + minute) * MINUTE


def _steady(rate: int = DAY_RATE):
    return lambda m: rate


def _during(start: int, end: int, inside: float, outside: float = 0.0):
    return lambda m: inside if start <= m < end else outside


def full_outage() -> Scenario:
    return Scenario("full outage", "every request fails for 30 minutes", PAGE,
                    _build(180, _steady(), _during(60, 90, 1.0)), (_at(60), _at(90)))


def failure(rate: float, minutes: int = 60, total: int = 180) -> Scenario:
    return Scenario(f"{100 * rate:g}% failure", f"{100 * rate:g}% of requests fail for {minutes} minutes", PAGE,
                    _build(total, _steady(), _during(60, 60 + minutes, rate)), (_at(60), _at(60 + minutes)))


def slow_burn() -> Scenario:
    return Scenario("2% slow burn", "2% of requests fail for 6 hours: under the 5% threshold, but a 99.9% "
                    "budget is gone in a day and a half", PAGE,
                    _build(8 * 60, _steady(), _during(60, 7 * 60, 0.02)), (_at(60), _at(7 * 60)))


def spikes() -> Scenario:
    # 10 seconds of 100% errors at the top of every hour (a deploy, a restart): 1/6 of a minute's requests
    def rate(m: int) -> float:
        return 1 / 6 if m % 60 == 30 else 0.0
    return Scenario("brief 100% spikes", "10 seconds of errors once an hour for 8 hours", NOTHING,
                    _build(8 * 60, _steady(), rate), None)


def flapping() -> Scenario:
    def rate(m: int) -> float:
        return 0.2 if 60 <= m < 180 and (m - 60) % 10 < 5 else 0.0
    return Scenario("flapping", "20% errors 5 minutes on, 5 minutes off, for 2 hours", PAGE,
                    _build(240, _steady(), rate), (_at(60), _at(180)))


def low_traffic() -> Scenario:
    # 5 requests an hour, at minutes 0, 12, 24, 36, 48; the one at minute 24 fails
    def traffic(m: int) -> int:
        return 1 if m % 12 == 0 else 0

    def rate(m: int) -> float:
        return 1.0 if m % 60 == 24 else 0.0
    return Scenario("low traffic", "5 requests an hour, 1 of them failing, for a day", NOTHING,
                    _build(24 * 60, traffic, rate), None)


def traffic_to_zero() -> Scenario:
    return Scenario("traffic falls to zero", "requests stop after an hour (no errors: nothing to count)", NOTHING,
                    _build(180, lambda m: DAY_RATE if m < 60 else 0, lambda m: 0.0), None)


def worker_restart() -> Scenario:
    # a recycled worker: one minute with half the traffic and the 3 requests it was serving failing
    def traffic(m: int) -> int:
        return DAY_RATE // 2 if m == 90 else DAY_RATE

    def rate(m: int) -> float:
        return 3 / (DAY_RATE // 2) if m == 90 else 0.0
    return Scenario("worker restart", "one minute at half traffic with 3 failed requests", NOTHING,
                    _build(180, traffic, rate), None)


def quiet_nights() -> Scenario:
    # two days: 100 requests a minute by day, 2 at night (8 hours), one error every 2 hours at night
    def traffic(m: int) -> int:
        return 2 if (m % 1440) < 8 * 60 else DAY_RATE

    def rate(m: int) -> float:
        return 0.5 if (m % 1440) < 8 * 60 and m % 120 == 7 else 0.0
    return Scenario("long quiet nights", "2 requests a minute for 8 hours a night, an error every 2 hours", NOTHING,
                    _build(2 * 1440, traffic, rate), None)


def library() -> list[Scenario]:
    """Every scenario of the alert-quality report."""
    return [full_outage(), failure(0.10), slow_burn(), spikes(), flapping(), low_traffic(), traffic_to_zero(),
            worker_restart(), quiet_nights()]
