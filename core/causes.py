"""Server errors grouped by cause: a fingerprint per exception type and place, and one scrubbed traceback.

A cause is the exception's type and the innermost frame of the traceback in addon code (a file under one of
the addons paths: Odoo's own addons, a site's, this one's), or the innermost frame when none is: where the
application itself went wrong, rather than the framework line that noticed. Its fingerprint leaves out line
numbers and the message, so an edit above the broken method, or an error naming another record, keeps the
same cause.

The traceback kept with a cause is bounded (:data:`TRACEBACK_LIMIT` characters, the innermost frames kept
when it is cut) and scrubbed: URLs are cut to their host (their paths and queries may carry tokens), and
e-mail addresses, bearer tokens and ``password=``/``token=``/``secret=`` values are replaced.
"""

from __future__ import annotations

import hashlib
import re
import time
import traceback
from dataclasses import dataclass

from .notify.transport import scrub
from .outcome import qualified_names

#: the longest traceback kept with a cause (characters); the innermost frames are kept when it is cut
TRACEBACK_LIMIT = 8000
#: the longest log line kept with a server-error sample, and the most characters of them all
LOG_LINE_LIMIT = 500
LOG_LINES_LIMIT = 4000
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}")
_ASSIGNED = re.compile(r"(?i)\b(password|passwd|pwd|token|secret|api_key|apikey|routing_key)(['\"]?\s*[:=]\s*['\"]?)"
                       r"[^\s'\",;&)]+")


@dataclass(frozen=True, slots=True)
class Cause:
    fingerprint: str
    exception: str  # the qualified name of the exception's type
    location: str  # ``addon/path/file.py:line in function``
    traceback: str


def where(frames: list[traceback.FrameSummary], roots: tuple[str, ...]) -> tuple[traceback.FrameSummary, str] | None:
    """The innermost frame in addon code and its path under its addons root, else the innermost frame."""
    if not frames:
        return None
    for frame in reversed(frames):
        for root in roots:
            if root and frame.filename.startswith(root.rstrip("/") + "/"):
                return frame, frame.filename[len(root.rstrip("/")) + 1:]
    frame = frames[-1]
    return frame, frame.filename


def of(exc: BaseException, roots: tuple[str, ...]) -> Cause:
    """The cause of ``exc``: its fingerprint, where it happened, and its traceback as kept."""
    names = qualified_names(type(exc))
    exception = names[0] if names else type(exc).__name__
    found = where(traceback.extract_tb(exc.__traceback__), roots)
    if found is None:
        location, place = "", ""
    else:
        frame, path = found
        location, place = f"{path}:{frame.lineno} in {frame.name}", f"{path} in {frame.name}"
    fingerprint = hashlib.sha256(f"{exception}|{place}".encode()).hexdigest()[:16]
    return Cause(fingerprint, exception, location, clean("".join(traceback.format_exception(exc))))


def clean(text: str) -> str:
    """A traceback as kept: scrubbed of URLs, e-mail addresses and secrets, its innermost part at most
    :data:`TRACEBACK_LIMIT` characters."""
    text = _scrub(text)
    if len(text) > TRACEBACK_LIMIT:
        text = "... (outer frames cut)\n" + text[-(TRACEBACK_LIMIT - 24):]
    return text


def log_lines(records) -> str:
    """The log records of a failing request as kept with its sample: one line each (time, level, logger,
    message, without the traceback Odoo logs with it: the cause keeps that), each at most
    :data:`LOG_LINE_LIMIT` characters, :data:`LOG_LINES_LIMIT` in all, scrubbed as tracebacks are."""
    lines, size = [], 0
    for record in records:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record whose arguments do not format: its raw message
            message = str(record.msg)
        stamp = time.strftime("%H:%M:%S", time.gmtime(record.created))
        line = f"{stamp} {record.levelname} {record.name}: {message.splitlines()[0] if message else ''}"
        line = _scrub(line)[:LOG_LINE_LIMIT]
        if size + len(line) > LOG_LINES_LIMIT:
            lines.append("...")
            break
        lines.append(line)
        size += len(line) + 1
    return "\n".join(lines)


def _scrub(text: str) -> str:
    text = scrub(text)
    text = _EMAIL.sub("<email>", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} ***", text)
    return _ASSIGNED.sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
