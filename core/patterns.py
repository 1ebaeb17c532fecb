"""Endpoint patterns: globs, matched in linear time.

A pattern is one or more globs separated by spaces or commas; ``*`` stands for any run of characters
(slashes included) and every other character for itself; a glob matches the whole endpoint name, and a
pattern matches a name when one of its globs does. ``/web/dataset/call_kw/sale.* /jsonrpc/object/sale.*``
selects every sale model call through both entry points. A glob is matched by finding its literal pieces
in order (``str.find``), so no pattern can make the evaluator backtrack, whatever its author wrote.
"""

from __future__ import annotations

import re

#: the longest pattern a rule may hold, and the most globs in it
PATTERN_LIMIT = 500
GLOBS_LIMIT = 20
_REGEX_HINTS = set("^$\\()[]{}|+?")


class PatternError(ValueError):
    """A pattern that cannot be used; the message says what to write instead."""


def parse(text: str | None) -> tuple[str, ...]:
    """The globs of a pattern; raises :class:`PatternError` with what to fix.

    >>> parse("/web/dataset/call_kw/sale.*, /jsonrpc/object/sale.*")
    ('/web/dataset/call_kw/sale.*', '/jsonrpc/object/sale.*')
    """
    text = (text or "").strip()
    if not text:
        raise PatternError("Give the endpoint pattern, e.g. /web/dataset/call_kw/sale.*")
    if len(text) > PATTERN_LIMIT:
        raise PatternError(f"The endpoint pattern is {len(text)} characters long; keep it to {PATTERN_LIMIT}.")
    globs = tuple(glob for glob in re.split(r"[\s,]+", text) if glob)
    if len(globs) > GLOBS_LIMIT:
        raise PatternError(f"The endpoint pattern has {len(globs)} globs; keep it to {GLOBS_LIMIT}.")
    for glob in globs:
        hints = sorted(_REGEX_HINTS & set(glob))
        if hints:
            raise PatternError(
                f"'{glob}' looks like a regular expression ({' '.join(hints)}): endpoint patterns are globs, where "
                "* stands for any characters, e.g. /web/dataset/call_kw/sale.*")
        if not glob.isprintable():
            raise PatternError(f"'{glob!r}' holds characters that cannot be part of an endpoint name.")
    return globs


def matches(globs: tuple[str, ...], name: str) -> bool:
    """Whether ``name`` matches one of ``globs`` as a whole."""
    return any(_match(glob, name) for glob in globs)


def _match(glob: str, name: str) -> bool:
    pieces = glob.split("*")
    if len(pieces) == 1:
        return glob == name
    first, *middle, last = pieces
    if len(first) + len(last) > len(name) or not name.startswith(first) or not name.endswith(last):
        return False
    at, end = len(first), len(name) - len(last)
    for piece in middle:  # the leftmost place of each piece leaves the most room for the next
        found = name.find(piece, at, end)
        if found < 0:
            return False
        at = found + len(piece)
    return True


def to_regex(globs: tuple[str, ...]) -> str:
    """A regular expression (RE2, anchored as Prometheus anchors label matchers) matching what the globs do.

    >>> to_regex(("/jsonrpc/object/sale.*",))
    '/jsonrpc/object/sale\\\\..*'
    """
    return "|".join(".*".join(re.escape(piece) for piece in glob.split("*")) for glob in globs)
