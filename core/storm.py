"""Storm control: many endpoints of one rule failing at once make one incident and one page.

A database that goes down makes every endpoint fail in the same minute. A rule that opens one incident per
endpoint would then page once per endpoint: PagerDuty rate-limits an integration key at about 120 events a
minute, and the on-call engineer gets hundreds of pages for one cause. When one evaluation of a rule would
open incidents on more than the rule's storm limit of endpoints, it opens one incident for the rule that
lists them, pages once, and every endpoint of that rule that fires while the storm's incident is open joins
it. The storm's incident resolves when none of its endpoints fires any more.

>>> joins_storm(new_firing=2000, limit=10, storm_open=False)
True
>>> summary(2000, Window(requests=60000, errors=54000))
'2000 endpoints failing at once: 90.0% server errors over all of them (54000/60000)'
"""

from __future__ import annotations

from .rules import Window, severity_rank

#: the storm limit of a new rule: more endpoints than this firing in one evaluation make a storm
DEFAULT_LIMIT = 10
#: names listed in a storm's summaries (its Endpoints tab lists them all)
NAMES_SHOWN = 5


def joins_storm(new_firing: int, limit: int, storm_open: bool) -> bool:
    """Whether the endpoints that fire in this evaluation go to one storm incident: a storm of the rule is
    already open, or more than ``limit`` fire at once (a limit of 0 turns storm control off)."""
    if new_firing <= 0:
        return False
    return storm_open or (limit > 0 and new_firing > limit)


def worst(severities) -> str:
    """The most severe of ``severities`` (P1 before P2)."""
    return min(severities, key=severity_rank)


def more_severe(severity: str, than: str) -> bool:
    return severity_rank(severity) < severity_rank(than)


def summary(members: int, window: Window) -> str:
    """The storm's detail line: how many endpoints breach and their server errors taken together."""
    if members == 1:
        return f"1 endpoint still failing: {100 * (window.ratio or 0.0):.1f}% server errors ({window.errors}/{window.requests})"
    return (f"{members} endpoints failing at once: {100 * (window.ratio or 0.0):.1f}% server errors over all of them "
            f"({window.errors}/{window.requests})")


def names(endpoints: list[str]) -> str:
    """A few of ``endpoints`` for a chatter line, and how many more."""
    shown = ", ".join(endpoints[:NAMES_SHOWN])
    more = len(endpoints) - NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown
