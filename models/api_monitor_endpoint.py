from odoo import fields, models


class ApiMonitorEndpoint(models.Model):
    """An endpoint name the addon has counted (see the README for the notation).

    Rows are added by the flush, up to the cap on distinct endpoints. Managers tag the critical ones, which
    the shipped alert rule watches.
    """

    _name = "api.monitor.endpoint"
    _description = "API endpoint"
    _order = "name"
    _log_access = False

    name = fields.Char(required=True, readonly=True, index=True)
    critical = fields.Boolean(help="Alert rules that watch critical endpoints include this one.")
    first_seen = fields.Datetime(readonly=True)

    _sql_constraints = [("name_uniq", "unique(name)", "An endpoint is registered once.")]
