"""Alert rules over time buckets: the threshold rule and the SRE workbook's multiwindow burn rate.

A rule looks at :class:`Window` sums (requests and server errors over the last N minutes) of one group of
endpoints and says whether it breaches, and at which severity. Windows are whole minutes, because buckets
are one minute wide: the window of N minutes at time t holds the buckets that start after t - N minutes.

>>> rule = ThresholdRule(threshold=0.05, window=5, min_requests=20)
>>> rule.evaluate({5: Window(requests=200, errors=25)}).breach
True
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import links, patterns

SEVERITIES = ("P1", "P2", "P3", "P4")


def severity_rank(severity: str | None) -> int:
    """0 for P1, the most severe, up to 3 for P4; none (or an unknown one) ranks after them all."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)
#: each severity and how the forms name it
SEVERITY_LABELS = (("P1", "P1 - critical"), ("P2", "P2 - high"), ("P3", "P3 - moderate"), ("P4", "P4 - low"))


@dataclass(frozen=True, slots=True)
class Window:
    """Requests and server errors summed over one window."""

    requests: int = 0
    errors: int = 0

    @property
    def ratio(self) -> float | None:
        return self.errors / self.requests if self.requests else None

    def __add__(self, other: Window) -> Window:
        return Window(self.requests + other.requests, self.errors + other.errors)


_EMPTY = Window()


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a rule says about one group at one evaluation."""

    breach: bool
    severity: str | None  # the severity to page with when breaching
    ratio: float | None  # the error ratio of the rule's main window (for display)
    window: Window  # the main window's sums
    detail: str = ""  # which window or tier decided, for the incident and the payload


@dataclass(frozen=True, slots=True)
class ThresholdRule:
    """Server-error ratio above ``threshold`` over ``window`` minutes, once ``min_requests`` were served."""

    threshold: float = 0.05
    window: int = 5
    min_requests: int = 20
    severity: str = "P1"

    @property
    def windows(self) -> tuple[int, ...]:
        return (self.window,)

    def evaluate(self, sums: dict[int, Window]) -> Verdict:
        win = sums.get(self.window, _EMPTY)
        ratio = win.ratio
        breach = win.requests >= self.min_requests and ratio is not None and ratio > self.threshold
        detail = f"{_pct(ratio)} server errors over {self.window}m ({win.errors}/{win.requests})"
        return Verdict(breach, self.severity if breach else None, ratio, win, detail)

    def may_breach(self, sums: dict[int, Window]) -> bool:
        """False when no breach is possible (no server error in the window): lets the evaluator skip groups."""
        return sums.get(self.window, _EMPTY).errors > 0


@dataclass(frozen=True, slots=True)
class BurnTier:
    """Page or ticket when the budget burns ``factor`` times too fast over both windows (minutes)."""

    name: str
    factor: float
    long: int
    short: int
    severity: str


def workbook_tiers(page: str = "P1", ticket: str = "P3") -> tuple[BurnTier, ...]:
    """The Google SRE workbook's recommended multiwindow, multi-burn-rate alerts (chapter 5, table 5-8)."""
    return (
        BurnTier("page 14.4x", 14.4, 60, 5, page),
        BurnTier("page 6x", 6.0, 360, 30, page),
        BurnTier("ticket 3x", 3.0, 1440, 120, ticket),
        BurnTier("ticket 1x", 1.0, 4320, 360, ticket),
    )


@dataclass(frozen=True, slots=True)
class BurnRateRule:
    """An SLO (``objective`` of requests without server errors) alerted on its error-budget burn rate.

    A tier breaches when the error ratio over its long *and* its short window exceeds
    ``factor * (1 - objective)``, and its long window holds at least ``min_requests``. The most severe
    breaching tier decides the severity.
    """

    objective: float = 0.999
    tiers: tuple[BurnTier, ...] = field(default_factory=workbook_tiers)
    min_requests: int = 20

    @property
    def windows(self) -> tuple[int, ...]:
        return tuple(sorted({w for tier in self.tiers for w in (tier.long, tier.short)}))

    def may_breach(self, sums: dict[int, Window]) -> bool:
        """False when no tier can breach (no server error in any long window)."""
        return any(sums.get(tier.long, _EMPTY).errors > 0 for tier in self.tiers)

    def evaluate(self, sums: dict[int, Window]) -> Verdict:
        budget = 1.0 - self.objective
        breaching = []
        for tier in self.tiers:
            long, short = sums.get(tier.long, Window()), sums.get(tier.short, Window())
            limit = tier.factor * budget
            if (long.requests >= self.min_requests and long.ratio is not None and short.ratio is not None
                    and long.ratio > limit and short.ratio > limit):
                breaching.append(tier)
        main = sums.get(self.tiers[0].long, Window())
        if not breaching:
            return Verdict(False, None, main.ratio, main, "")
        worst = min(breaching, key=lambda t: (SEVERITIES.index(t.severity), -t.factor))
        win = sums.get(worst.long, Window())
        detail = (f"burning the {_pct(self.objective, 2)} objective {worst.factor:g}x too fast: "
                  f"{_pct(win.ratio)} over {_minutes(worst.long)} and "
                  f"{_pct(sums.get(worst.short, Window()).ratio)} over {_minutes(worst.short)} ({worst.name})")
        return Verdict(True, worst.severity, win.ratio, win, detail)


Rule = ThresholdRule | BurnRateRule


def _pct(ratio: float | None, digits: int = 1) -> str:
    return "n/a" if ratio is None else f"{100 * ratio:.{digits}f}%"


def _minutes(minutes: int) -> str:
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


def window_sums(buckets: list[tuple[float, int, int]], now: float, windows: tuple[int, ...]) -> dict[int, Window]:
    """Sum ``(bucket_start_epoch, requests, errors)`` over each window of minutes ending at ``now``.

    A bucket belongs to the window of N minutes when it starts after ``now - N * 60`` (and not after now).
    """
    sums = {}
    for minutes in windows:
        since = window_cutoff(now, minutes)
        requests = errors = 0
        for start, n, e in buckets:
            if since < start <= now:
                requests += n
                errors += e
        sums[minutes] = Window(requests, errors)
    return sums


def window_cutoff(now: float, minutes: int) -> float:
    """The window of ``minutes`` at ``now`` holds the buckets starting after this instant (and not after now)."""
    return now - minutes * 60


HOUR = 3600
#: Windows at least this long are summed from hourly buckets, with minute buckets for their two ends.
HOURLY_FROM_MINUTES = 120


@dataclass(frozen=True, slots=True)
class WindowSplit:
    """A long window cut into minute buckets at its ends and hourly buckets in between.

    Minute buckets starting in ``(cutoff, first_hour)`` and in ``[last_hour, now]``, plus hourly buckets
    starting in ``[first_hour, last_hour)``: exactly the minute buckets starting in ``(cutoff, now]``,
    since an hourly bucket is the sum of its sixty minutes.
    """

    cutoff: float
    first_hour: float
    last_hour: float


def split_window(now: float, minutes: int) -> WindowSplit:
    cutoff = window_cutoff(now, minutes)
    return WindowSplit(cutoff, (cutoff // HOUR + 1) * HOUR, now // HOUR * HOUR)


def window_sums_hourly(
    minute_buckets: list[tuple[float, int, int]],
    hour_buckets: list[tuple[float, int, int]],
    now: float,
    windows: tuple[int, ...],
) -> dict[int, Window]:
    """:func:`window_sums` computed the way the evaluator does for long windows (the reference the SQL follows)."""
    sums = {}
    for minutes in windows:
        if minutes < HOURLY_FROM_MINUTES:
            sums[minutes] = window_sums(minute_buckets, now, (minutes,))[minutes]
            continue
        part = split_window(now, minutes)
        requests = errors = 0
        for start, n, e in minute_buckets:
            if part.cutoff < start < part.first_hour or part.last_hour <= start <= now:
                requests, errors = requests + n, errors + e
        for start, n, e in hour_buckets:
            if part.first_hour <= start < part.last_hour:
                requests, errors = requests + n, errors + e
        sums[minutes] = Window(requests, errors)
    return sums


SELECT_ALL = "all"
SELECT_CRITICAL = "critical"
SELECT_LIST = "list"
SELECT_PATTERN = "pattern"
SELECTIONS = (SELECT_ALL, SELECT_CRITICAL, SELECT_LIST, SELECT_PATTERN)


def select_endpoints(
    selection: str,
    endpoints: dict[str, bool],
    listed: tuple[str, ...] = (),
    pattern: str | None = None,
) -> list[str]:
    """Which of the known ``endpoints`` (name -> critical) a rule watches, sorted.

    ``pattern`` is a glob pattern (``core.patterns``); one that cannot be used selects nothing.
    """
    if selection == SELECT_ALL:
        chosen = list(endpoints)
    elif selection == SELECT_CRITICAL:
        chosen = [name for name, critical in endpoints.items() if critical]
    elif selection == SELECT_LIST:
        chosen = [name for name in listed if name in endpoints]
    elif selection == SELECT_PATTERN:
        try:
            globs = patterns.parse(pattern)
        except patterns.PatternError:
            return []
        chosen = [name for name in endpoints if patterns.matches(globs, name)]
    else:
        raise ValueError(f"unknown endpoint selection {selection!r}")
    return sorted(chosen)


class RuleError(ValueError):
    """A rule that cannot be used; the message says what to change."""


@dataclass(frozen=True, slots=True)
class RuleFields:
    """A rule as its form holds it, for :func:`check_rule`."""

    kind: str = "threshold"
    selection: str = SELECT_CRITICAL
    pattern: str = ""
    threshold: float = 0.05
    window_minutes: int = 5
    min_requests: int = 20
    pending_minutes: float = 1.0
    keep_firing_minutes: float = 5.0
    objective: float = 0.999
    severity: str = "P1"
    page_severity: str = "P1"
    ticket_severity: str = "P3"
    runbook_url: str = ""
    dashboard_url_template: str = ""
    logs_url_template: str = ""


#: pending and keep-firing times longer than a day are a typo, not a choice
LONGEST_WAIT_MINUTES = 1440


def check_rule(rule: RuleFields, retention_days: int) -> None:
    """Raise :class:`RuleError` saying what to change when ``rule`` cannot be evaluated as written.

    >>> check_rule(RuleFields(threshold=5), retention_days=8)
    Traceback (most recent call last):
    ...
    core.rules.RuleError: The threshold is a ratio between 0 and 1 (0.05 means 5%); 5 is not.
    """
    if rule.kind not in ("threshold", "burn_rate"):
        raise RuleError(f"The kind must be threshold or burn_rate; {rule.kind!r} is not.")
    if rule.kind == "threshold":
        if not (isinstance(rule.threshold, (int, float)) and 0 < rule.threshold < 1):
            raise RuleError(f"The threshold is a ratio between 0 and 1 (0.05 means 5%); {rule.threshold:g} is not.")
        if not 1 <= rule.window_minutes <= retention_days * 1440:
            raise RuleError(f"The window must be between 1 minute (the bucket width) and {retention_days * 1440} "
                            f"minutes (the {retention_days} days of history kept); {rule.window_minutes} is not.")
    else:
        if not 0 < rule.objective < 1:
            raise RuleError(f"The objective is a ratio between 0 and 1 (0.999 means 99.9%); {rule.objective:g} is not.")
        if max(tier.long for tier in workbook_tiers()) > retention_days * 1440:
            raise RuleError(f"Burn-rate rules look back 3 days: keep at least 3 days of history "
                            f"({retention_days} are kept).")
    if rule.min_requests < 1:
        raise RuleError(f"The minimum number of requests must be at least 1; {rule.min_requests} is not.")
    for label, minutes in (("pending time", rule.pending_minutes), ("keep-firing time", rule.keep_firing_minutes)):
        if not 0 <= minutes <= LONGEST_WAIT_MINUTES:
            raise RuleError(f"The {label} must be between 0 and {LONGEST_WAIT_MINUTES} minutes; {minutes:g} is not.")
    for label, severity in (("severity", rule.severity), ("page severity", rule.page_severity),
                            ("ticket severity", rule.ticket_severity)):
        if severity not in SEVERITIES:
            raise RuleError(f"The {label} must be one of {', '.join(SEVERITIES)}; {severity!r} is not.")
    if rule.selection not in SELECTIONS:
        raise RuleError(f"The endpoint selection must be one of {', '.join(SELECTIONS)}; {rule.selection!r} is not.")
    if rule.selection == SELECT_PATTERN:
        try:
            patterns.parse(rule.pattern)
        except patterns.PatternError as exc:
            raise RuleError(str(exc)) from None
    if rule.runbook_url and not (rule.runbook_url.startswith(("http://", "https://")) and len(rule.runbook_url) <= 2000):
        raise RuleError("The runbook URL must start with http:// or https:// (2,000 characters at most).")
    for label, template in (("The dashboard link", rule.dashboard_url_template),
                            ("The logs link", rule.logs_url_template)):
        try:
            links.check(template, label)
        except links.TemplateError as exc:
            raise RuleError(str(exc)) from None
