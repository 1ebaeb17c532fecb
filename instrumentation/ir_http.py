"""The addon's extension of ``ir.http``, Odoo's extension point for request handling.

It exists only in the registries of databases that have the addon installed, so only their requests are
ever counted. Per request it notes:

* ``_match``: the route template and the database (the first successful match of the request: modules
  such as ``http_routing`` match again after rewriting a path, and pages match other URLs while they
  render); ``unmatched`` when the path exists for other methods only (405); ``_serve_fallback``:
  ``unmatched`` when no route matched;
* ``_authenticate``: that the caller passed authentication, and whether as a real user;
* ``_dispatch``: that the controller is called, and the model and method of a call_kw or JSON-2 call (an
  authenticated user's).

A *late* request is a worker's first one when the addon is not loaded server-wide: the registry, and the
addon's wrappers with it, were loaded while it was served, so the WSGI wrapper never saw it. It gets its
context here and is counted from ``_post_dispatch`` or, when it fails, from the dispatcher's error handler
(``instrumentation.errors``).
"""

from __future__ import annotations

import threading
import time

from werkzeug.exceptions import HTTPException, NotFound

from odoo import models
from odoo.http import request

from ..core import request_id
from ..core.context import RequestContext, current, set_current
from ..core.endpoints import MODEL_METHOD_ROUTES, UNKNOWN, UNMATCHED, model_method_endpoint, route_prefix
from ..core.outcome import AUTHENTICATED, DISPATCHED
from ..storage.runtime import RUNTIME
from .naming import known_in


def _context() -> RequestContext | None:
    """The context of the request being served: the WSGI wrapper's, or a new one for a late request.
    None outside a request (a cron matching a URL)."""
    ctx = current()
    if ctx is None and request:
        ctx = RequestContext(request_id.resolve(request.httprequest.headers.get(request_id.HEADER)), late=True)
        set_current(ctx)
    return ctx


def _route(ctx: RequestContext, route: str, db: str) -> None:
    ctx.monitored = True
    ctx.db = db
    ctx.route = route
    ctx.endpoint = route_prefix(route)  # a call_kw or JSON-2 call gets its model and method in _dispatch


def observe_late(status: int) -> None:
    """Count the late request being served, once: its context is dropped once it is counted (not before,
    so that a line logged while it is counted carries its request id)."""
    ctx = current()
    if ctx is not None and ctx.late and ctx.monitored:
        started = getattr(threading.current_thread(), "perf_t0", None) or time.time()  # set by Odoo's entry
        try:
            RUNTIME.observe(ctx, request.httprequest.method, status, time.time() - started)
        finally:
            set_current(None)


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _match(cls, path_info):
        try:
            rule, args = super()._match(path_info)
        except HTTPException as exc:
            ctx = _context()
            if not isinstance(exc, NotFound) and ctx is not None and ctx.route is None:
                _route(ctx, UNMATCHED, cls.pool.db_name)  # a path that exists, but not for this method (405)
            raise
        ctx = _context()
        if ctx is not None and ctx.route is None:
            _route(ctx, rule.rule, cls.pool.db_name)
        return rule, args

    @classmethod
    def _serve_fallback(cls):
        ctx = _context()
        if ctx is not None and ctx.route is None:
            _route(ctx, UNMATCHED, cls.pool.db_name)
        return super()._serve_fallback()

    @classmethod
    def _authenticate(cls, endpoint):
        result = super()._authenticate(endpoint)
        ctx = current()
        if ctx is not None and ctx.monitored:
            ctx.stage = AUTHENTICATED
            uid = request.env.uid
            ctx.authenticated = uid is not None and uid not in cls._get_public_users()
        return result

    @classmethod
    def _dispatch(cls, endpoint):
        ctx = current()
        if ctx is not None and ctx.monitored:
            ctx.stage = DISPATCHED
            if ctx.route in MODEL_METHOD_ROUTES and ctx.authenticated:
                ctx.endpoint = model_method_endpoint(ctx.route, request.params, known_in(cls.pool))
                if ctx.endpoint.endswith(UNKNOWN):
                    ctx.caller_mistake = "no such model or method"
        return super()._dispatch(endpoint)

    @classmethod
    def _post_dispatch(cls, response):
        result = super()._post_dispatch(response)
        ctx = current()
        if ctx is not None and ctx.late:
            observe_late(response.status_code)
        return result
