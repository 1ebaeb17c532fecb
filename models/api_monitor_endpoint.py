from odoo import api, fields, models

from ..storage import store

#: the period the Endpoints view sums over unless a filter chooses another (context key, minutes)
PERIOD_KEY = "api_monitor_period"
DEFAULT_PERIOD = 60


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
    period_requests = fields.Integer(string="Requests", compute="_compute_period",
                                     help="Requests in the chosen period (the last hour unless a filter says otherwise).")
    period_errors = fields.Integer(string="Server errors", compute="_compute_period")
    period_ratio = fields.Float(string="Error ratio", compute="_compute_period", digits=(16, 4))
    alert_state = fields.Selection(
        [("ok", "OK"), ("pending", "Pending"), ("firing", "Firing")], string="Alert", compute="_compute_alert_state",
        help="The most urgent state of the rules that watch this endpoint, at their last evaluation.")
    open_incident_count = fields.Integer(string="Open incidents", compute="_compute_alert_state")

    @api.depends_context(PERIOD_KEY)
    def _compute_period(self):
        minutes = self.env.context.get(PERIOD_KEY) or DEFAULT_PERIOD
        minutes = min(max(int(minutes), 1), 31 * 24 * 60)
        self.env["api.monitor.bucket"].flush_model()
        totals = store.endpoint_totals(self.env.cr, self.mapped("name"), minutes)
        for endpoint in self:
            requests, errors = totals.get(endpoint.name, (0, 0))
            endpoint.period_requests, endpoint.period_errors = requests, errors
            endpoint.period_ratio = errors / requests if requests else 0.0

    def _compute_alert_state(self):
        names = self.mapped("name")
        alerts = self.env["api.monitor.alert"].search_read(
            [("group_key", "in", names), ("state", "in", ("pending", "firing"))], ["group_key", "state"])
        states = {}
        for alert in alerts:
            if states.get(alert["group_key"]) != "firing":
                states[alert["group_key"]] = alert["state"]
        incidents = dict(self.env["api.monitor.incident"]._read_group(
            [("endpoint", "in", names), ("state", "!=", "resolved")], ["endpoint"], ["__count"]))
        for endpoint in self:
            endpoint.alert_state = states.get(endpoint.name, "ok")
            endpoint.open_incident_count = incidents.get(endpoint.name, 0)

    def action_view_incidents(self):
        self.ensure_one()
        return self.env["api.monitor.incident"]._action_for([("endpoint", "=", self.name)])

    def init(self):
        store.ensure_unique(self.env.cr, self._table, "api_monitor_endpoint_name_uniq", ("name",))

    def unlink(self):
        """Deleting an endpoint forgets its counters too: its series leave /metrics."""
        names = self.mapped("name")
        result = super().unlink()
        if names:
            store.forget(self.env.cr, names)
        return result
