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


class _Ids:
    """64 random bits drawn once per process, then a counter: unique ids without a system call each.

    A forked child draws its own prefix, so workers of one server never share ids.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.prefix = os.urandom(8).hex()
        self.counter = itertools.count(int.from_bytes(os.urandom(4), "big"))


_ids = _Ids()
os.register_at_fork(after_in_child=_ids.reset)


def new_request_id() -> str:
    """32 lowercase hex characters, the shape of Nginx's ``$request_id``: a per-process random prefix and a
    counter (next() on itertools.count is atomic under the GIL, so threads never draw the same one)."""
    return f"{_ids.prefix}{next(_ids.counter) & 0xFFFFFFFFFFFFFFFF:016x}"


def resolve(incoming: str | None) -> str:
    """Return the incoming id when valid, else a new one."""
    return incoming if is_valid(incoming) else new_request_id()
