"""Correlation ids: keep a caller's ``X-Request-ID`` when it is safe, otherwise make one."""

from __future__ import annotations

import itertools
import os
import re

HEADER = "X-Request-ID"
WSGI_KEY = "HTTP_X_REQUEST_ID"
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def is_valid(value: str | None) -> bool:
    """A request id is 1 to 128 characters of ``[A-Za-z0-9._:-]``: safe in a header, a log line and a URL."""
    return value is not None and _VALID.fullmatch(value) is not None


#: the last two hex digits of an id, looked up instead of formatted
_LAST_TWO = tuple(f"{n:02x}" for n in range(256))


class _Ids:
    """64 random bits drawn once per process, then a 64-bit counter: unique ids without a system call each.

    An id is the prefix, the counter's upper 56 bits and its lower 8 bits in hex. Formatting an integer as
    hex costs several times a table lookup, so the first 30 characters are formatted once per 256 ids and
    kept with the upper bits they were made from; a thread that draws a counter with other upper bits makes
    its own (never another thread's), so no two ids are alike. A forked child draws its own prefix, so
    workers of one server never share ids.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count(int.from_bytes(os.urandom(4), "big"))
        self.head: tuple[int, str] = (-1, "")

    def next(self) -> str:
        n = next(self.counter)  # atomic under the GIL: threads never draw the same number
        upper = n >> 8
        head = self.head
        if head[0] != upper:
            head = self.head = (upper, f"{self.prefix}{upper & 0xFFFFFFFFFFFFFF:014x}")
        return head[1] + _LAST_TWO[n & 0xFF]


_ids = _Ids()
os.register_at_fork(after_in_child=_ids.reset)


def resolve(incoming: str | None) -> str:
    """Return the incoming id when valid, else a new one: 32 lowercase hex characters, the shape of Nginx's
    ``$request_id``."""
    if incoming is not None and is_valid(incoming):
        return incoming
    return _ids.next()
