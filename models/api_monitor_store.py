from odoo import models

from ..storage import store


class ApiMonitorStore(models.AbstractModel):
    """The counter tables that live outside the ORM (bigint counters, histogram arrays).

    ``/metrics`` reads them; every Odoo process adds its counts to them at each flush.
    """

    _name = "api.monitor.store"
    _description = "API Monitoring counter store"

    def init(self):
        store.create_tables(self.env.cr)
