"""Correlation ids: keep a caller's ``X-Request-ID`` when it is safe, otherwise make one."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable

HEADER = "X-Request-ID"
WSGI_KEY = "HTTP_X_REQUEST_ID"
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
#: ``valid_match(value)``: a match when ``value`` is a request id to keep (see :func:`is_valid`), else None
valid_match = _VALID.fullmatch


def is_valid(value: str | None) -> bool:
    """A request id is 1 to 128 characters of ``[A-Za-z0-9._:-]``: safe in a header, a log line and a URL."""
    return value is not None and _VALID.fullmatch(value) is not None


#: the last two hex digits of an id, looked up instead of formatted
_LAST_TWO = tuple(f"{n:02x}" for n in range(256))


class _Ids:
    """64 random bits drawn once per process, then a 64-bit counter: unique ids without a system call each.

    An id is the prefix and the counter in 16 hex digits: a *head* (the prefix and the counter's upper 56
    bits, formatted once per 256 ids) and its last two digits, looked up. :attr:`next` is a chain of C
    iterators only: ``heads`` formats each head once, each head is joined with the 256 endings, and
    ``chain`` hands out the joined ids one at a time. No Python frame runs while an id is drawn, so a thread
    is never switched in the middle of a draw: two threads never get the same id, and a draw costs about a
    third of formatting an id. A forked child draws its own prefix, so workers of one server never share ids.
    """

    def __init__(self, first_head: int | None = None) -> None:
        self.reset(first_head)

    def reset(self, first_head: int | None = None) -> None:
        """Draw a new prefix; the counter's upper bits start at ``first_head`` (random when None)."""
        self.prefix = os.urandom(8).hex()
        if first_head is None:
            first_head = int.from_bytes(os.urandom(4), "big")
        heads = map(f"{self.prefix}%014x".__mod__, itertools.count(first_head))
        ids = map(map, itertools.repeat(str.__add__), map(itertools.repeat, heads), itertools.repeat(_LAST_TWO))
        self.next: Callable[[], str] = itertools.chain.from_iterable(ids).__next__


#: ``IDS.next()``: a new id, 32 lowercase hex characters, the shape of Nginx's ``$request_id`` (read
#: ``IDS.next`` at each call: a fork replaces it)
IDS = _Ids()
os.register_at_fork(after_in_child=IDS.reset)


def resolve(incoming: str | None) -> str:
    """Return the incoming id when valid, else a new one (see :data:`IDS`)."""
    if incoming is None or _VALID.fullmatch(incoming) is None:
        return IDS.next()
    return incoming
