import threading
import time

from odoo import models
from odoo.http import request

from ..core.endpoints import CALL_KW_ROUTES
from ..instrumentation.context import current, set_current
from ..instrumentation.dispatch import name_call_kw
from ..instrumentation.runtime import RUNTIME


def _observe_late(ctx, status):
    if ctx is not None and ctx.late and ctx.monitored:
        set_current(None)
        started = getattr(threading.current_thread(), "perf_t0", time.time())
        RUNTIME.observe(ctx, request.httprequest.method, status, time.time() - started)


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

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
