from odoo import fields, models

from ..core.times import to_datetime, to_epoch


class ApiMonitorFailure(models.Model):
    """A recent server error, kept so the on-call engineer can follow its request id into the logs.

    Never holds the request body, query string or cookies. The newest 20 per endpoint are kept, and none
    older than the bucket retention.
    """

    _name = "api.monitor.failure"
    _description = "API server error sample"
    _order = "occurred_at desc, id desc"
    _log_access = False
    _rec_name = "request_id"

    occurred_at = fields.Datetime(required=True, readonly=True, index=True)
    endpoint = fields.Char(required=True, readonly=True, index=True)
    method = fields.Char(readonly=True)
    code = fields.Integer(readonly=True, string="HTTP status")
    request_id = fields.Char(readonly=True, index=True, string="Request ID")
    exception = fields.Char(readonly=True)
    # an exception's message may name customers or records: managers only
    message = fields.Text(readonly=True, groups="api_monitor.group_api_monitor_manager")
    # what Odoo logged while serving it (scrubbed, bounded): may name records too, managers only
    log_lines = fields.Text(readonly=True, groups="api_monitor.group_api_monitor_manager",
                            help="The log lines written while the request was served, its request id on each.")
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 3))
    fingerprint = fields.Char(readonly=True, index="btree_not_null",
                              help="Its cause: the exception's type and the innermost frame in addon code.")
    cause_id = fields.Many2one("api.monitor.cause", compute="_compute_cause_id")
    incident_ids = fields.Many2many("api.monitor.incident", string="Incidents", compute="_compute_incident_ids")

    def _compute_cause_id(self):
        causes = self.env["api.monitor.cause"].search([("fingerprint", "in", [f for f in self.mapped("fingerprint") if f])])
        by_fingerprint = {cause.fingerprint: cause for cause in causes}
        for failure in self:
            failure.cause_id = by_fingerprint.get(failure.fingerprint, False)

    def _compute_incident_ids(self):
        """The incidents of its endpoint whose span (their rule's window before the trigger, up to the
        resolution) holds it."""
        Incident = self.env["api.monitor.incident"]
        for failure in self:
            at = to_epoch(failure.occurred_at)
            found = Incident.search([
                "|", ("endpoint", "=", failure.endpoint), ("endpoint_names", "ilike", failure.endpoint),
                ("triggered_at", "<=", to_datetime(at + 24 * 3600)),
                "|", ("resolved_at", "=", False), ("resolved_at", ">=", to_datetime(at - 60)),
            ], limit=50)
            failure.incident_ids = found.filtered(
                lambda i, f=failure, t=at: f.endpoint in i._members() and i._span()[0] <= t <= i._span()[1] + 60)
