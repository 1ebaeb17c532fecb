"""PagerDuty v3 webhook signatures: ``X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the raw body>``.

PagerDuty may send several comma-separated signatures while a secret is being rotated; one match is enough.
"""

from __future__ import annotations

import hashlib
import hmac


def sign(secret: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str | None, body: bytes, header: str | None) -> bool:
    if not secret or not header:
        return False
    expected = sign(secret, body)
    return any(hmac.compare_digest(expected, candidate.strip()) for candidate in header.split(","))
