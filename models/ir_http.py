from odoo import models
from odoo.http import request

from ..core.endpoints import CALL_KW_ROUTES
from ..instrumentation.context import current
from ..instrumentation.dispatch import name_call_kw


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
