import threading
import time

from werkzeug.exceptions import NotFound

from odoo import models
from odoo.http import request

from ..core import request_id
from ..core.endpoints import CALL_KW_ROUTES, UNMATCHED
from ..instrumentation.context import RequestContext, current, set_current
from ..instrumentation.dispatch import name_call_kw
from ..instrumentation.runtime import RUNTIME


def _late_context():
    """A context for a request that started before the WSGI wrapper was installed, or None outside requests.

    That happens for the first request of a worker whose registry loads the addon during that very request
    (when the addon is not a server-wide module and the database was not preloaded). Such a "late" request
    is counted from here, at ``_post_dispatch`` or ``_handle_error``.
    """
    if not request:
        return None
    ctx = RequestContext(request_id.resolve(request.httprequest.headers.get(request_id.HEADER)), late=True)
    set_current(ctx)
    return ctx


def _mark(ctx, route, db):
    """The first route matched for the request: this database has the addon, so the request is counted."""
    if ctx is not None and ctx.route is None:
        ctx.monitored = True
        ctx.db = db
        ctx.route = ctx.endpoint = route


def _observe_late(ctx, status):
    if ctx is not None and ctx.late and ctx.monitored:
        set_current(None)
        started = getattr(threading.current_thread(), "perf_t0", time.time())
        RUNTIME.observe(ctx, request.httprequest.method, status, time.time() - started)


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _match(cls, path_info):
        ctx = current() or _late_context()
        try:
            rule, args = super()._match(path_info)
        except NotFound:
            _mark(ctx, UNMATCHED, cls.pool.db_name)
            raise
        _mark(ctx, rule.rule, cls.pool.db_name)
        return rule, args

    @classmethod
    def _dispatch(cls, endpoint):
        ctx = current()
        if ctx is not None:
            if ctx.exception_names:
                ctx.clear_exception()
            ctx.dispatched = True
            if ctx.route in CALL_KW_ROUTES:
                name_call_kw(ctx, request._get_current_object(), cls.pool)
        return super()._dispatch(endpoint)

    @classmethod
    def _post_dispatch(cls, response):
        super()._post_dispatch(response)
        ctx = current()
        if ctx is not None and ctx.late:
            _observe_late(ctx, response.status_code)

    @classmethod
    def _handle_error(cls, exception):
        # the exception itself is noted by the dispatcher's handle_error (instrumentation.dispatch)
        response = super()._handle_error(exception)
        _observe_late(current(), getattr(response, "code", None) or getattr(response, "status_code", 500))
        return response
