from odoo import fields, models, tools

from ..storage import store


class ApiMonitorTraffic(models.Model):
    """Requests and server errors of one endpoint during one hour, for the Traffic views.

    A view over the hourly rows every flush adds to (``api_monitor_bucket_hour``): they stay when the minutes
    are compacted, so Traffic reaches back as far as the hourly retention (13 months by default).
    """

    _name = "api.monitor.traffic"
    _description = "API traffic per hour"
    _auto = False
    _order = "start desc, endpoint"
    _rec_name = "endpoint"

    start = fields.Datetime(string="Hour", readonly=True)
    endpoint = fields.Char(readonly=True)
    requests = fields.Integer(readonly=True)
    server_errors = fields.Integer(readonly=True)

    def init(self):
        store.create_tables(self.env.cr)  # the hourly rows' table, whichever model initialises first
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(store.TRAFFIC_VIEW)
