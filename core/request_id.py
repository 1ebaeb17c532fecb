"""Correlation ids: keep a caller's ``X-Request-ID`` when it is safe, otherwise make one."""

from __future__ import annotations

import os
import re

HEADER = "X-Request-ID"
WSGI_KEY = "HTTP_X_REQUEST_ID"
_VALID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def is_valid(value: str | None) -> bool:
    """A request id is 1 to 128 characters of ``[A-Za-z0-9._:-]``: safe in a header, a log line and a URL."""
    return value is not None and _VALID.fullmatch(value) is not None


def new() -> str:
    """A new id: 32 random lowercase hex characters, the shape of Nginx's ``$request_id``."""
    return os.urandom(16).hex()


def resolve(incoming: str | None) -> str:
    """Return the incoming id when valid, else a new one.

    >>> resolve("drill-42:abc.DEF")
    'drill-42:abc.DEF'
    >>> len(resolve("not valid; has spaces"))
    32
    """
    return incoming if is_valid(incoming) else new()
