from odoo import api, models

from ..instrumentation import store
from ..instrumentation.runtime import RUNTIME


class ApiMonitorStore(models.AbstractModel):
    """The counter tables that live outside the ORM (bigint counters, histogram arrays).

    ``/metrics`` reads them; every Odoo process adds its counts to them at each flush.
    """

    _name = "api.monitor.store"
    _description = "API Monitoring counter store"

    def init(self):
        for ddl in store.RAW_TABLES.values():
            self.env.cr.execute(ddl)

    @api.model
    def _flush_now(self):
        """Write this process's pending counts at once (tests, and callers that cannot wait a flush)."""
        return RUNTIME.flush()
