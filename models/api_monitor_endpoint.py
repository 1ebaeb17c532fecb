from odoo import fields, models

from ..storage import store


class ApiMonitorEndpoint(models.Model):
    """An endpoint name the addon has counted (see ``core.endpoints`` for the notation).

    Rows are added by the flush, up to the cap on distinct endpoints, of which requests without an
    authenticated user may fill only a small part. An endpoint without traffic for the whole bucket
    retention is forgotten (the prune cron), unless it is critical or a rule lists it; a manager may delete
    one, with its counters. Managers tag the critical ones, which the shipped alert rule watches.
    """

    _name = "api.monitor.endpoint"
    _description = "API endpoint"
    _order = "name"
    _log_access = False

    name = fields.Char(required=True, readonly=True, index=True)
    critical = fields.Boolean(help="Alert rules that watch critical endpoints include this one.")
    trusted = fields.Boolean(string="Seen from a logged-in user", readonly=True,
                             help="Requested by an authenticated user at least once. Endpoints only anonymous "
                                  "requests reach fill a small share of the cap on distinct endpoints.")
    first_seen = fields.Datetime(readonly=True)
    last_seen = fields.Datetime(readonly=True, help="Moved at most once an hour.")

    def init(self):
        store.ensure_unique(self.env.cr, self._table, "api_monitor_endpoint_name_uniq", ("name",))

    def unlink(self):
        """Deleting an endpoint forgets its counters too: its series leave /metrics."""
        names = self.mapped("name")
        result = super().unlink()
        if names:
            store.forget(self.env.cr, names)
        return result
