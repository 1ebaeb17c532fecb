"""See every exception Odoo turns into a response, wherever it was raised.

A wrapper of each dispatcher's ``handle_error``, because no extension point sees them all: an exception
raised before the request's transaction (a body that is not JSON, a call_kw route's read-only check on an
unknown model, no free database cursor) goes from ``Application.__call__`` straight to the dispatcher,
never through ``ir.http``. A late request that failed is counted here (``instrumentation.ir_http``).
"""

from __future__ import annotations

import odoo.http

from .. import compat
from ..core.context import current
from . import patching
from .ir_http import observe_late


def _wrap(original):
    def handle_error(self, exc):
        ctx = current()
        if ctx is None or not ctx.monitored:
            return original(self, exc)
        ctx.set_exception(exc)
        if compat.arguments_do_not_fit(exc):
            ctx.caller_mistake = "the method does not take these arguments"
        response = original(self, exc)
        if ctx.late:  # no WSGI wrapper sees its status
            observe_late(getattr(response, "code", None) or getattr(response, "status_code", 500))
        return response

    return handle_error


def dispatchers() -> list[type]:
    """The dispatcher classes with a ``handle_error`` of their own (``http`` and ``json`` in Odoo 18)."""
    return sorted({cls for cls in odoo.http._dispatchers.values() if "handle_error" in vars(cls)},
                  key=lambda cls: cls.__name__)


def install() -> None:
    for cls in dispatchers():
        patching.wrap_with(cls, "handle_error", _wrap)
