"""See every exception Odoo turns into a response, wherever it was raised.

``ir.http._handle_error`` sees exceptions raised inside the request's transaction, but some are raised
before it: a call_kw on an unknown model (``NotFound`` from the route's ``readonly`` check) or a body that
is not JSON fail while the route is prepared, and ``Application.__call__`` hands them straight to the
dispatcher. Every path ends in a dispatcher's ``handle_error``, so that is where exceptions are noted, with
whether the controller had been called, and where a late request that failed is counted
(``instrumentation.routing``).
"""

from __future__ import annotations

import odoo.http

from ..core.context import current
from . import patching
from .routing import observe_late


def _wrap(original):
    def handle_error(self, exc):
        ctx = current()
        if ctx is None or not ctx.monitored:
            return original(self, exc)
        # the dispatcher sets the request's params before it calls the controller
        ctx.set_exception(exc, dispatched=getattr(self.request, "params", None) is not None)
        response = original(self, exc)
        if ctx.late:  # no WSGI wrapper sees its status (instrumentation.routing)
            observe_late(self.request, getattr(response, "code", None) or getattr(response, "status_code", 500))
        return response

    return handle_error


def install() -> None:
    for cls in set(odoo.http._dispatchers.values()):
        if "handle_error" in cls.__dict__:
            patching.wrap_with(cls, "handle_error", _wrap)
