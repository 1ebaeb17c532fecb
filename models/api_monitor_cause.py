from odoo import api, fields, models

from ..storage import store

MANAGER = "api_monitor.group_api_monitor_manager"


class ApiMonitorCause(models.Model):
    """What server errors have in common: the exception's type and the innermost frame in addon code
    (``core.causes``). Written by the flush, with the newest scrubbed traceback."""

    _name = "api.monitor.cause"
    _description = "API server error cause"
    _order = "last_seen desc, id desc"
    _log_access = False
    _rec_name = "exception"

    fingerprint = fields.Char(required=True, readonly=True, index=True)
    exception = fields.Char(readonly=True)
    location = fields.Char(string="Where", readonly=True,
                           help="The innermost frame of the traceback in addon code: file, line and function.")
    # a traceback shows code and an exception's message, which may name customers or records: managers only
    traceback = fields.Text(readonly=True, groups=MANAGER)
    first_seen = fields.Datetime(readonly=True)
    last_seen = fields.Datetime(readonly=True)
    failure_ids = fields.One2many("api.monitor.failure", compute="_compute_failure_ids", string="Samples")

    def init(self):
        store.ensure_unique(self.env.cr, self._table, "api_monitor_cause_fingerprint_uniq", ("fingerprint",))

    def _compute_failure_ids(self):
        Failure = self.env["api.monitor.failure"]
        for cause in self:
            cause.failure_ids = Failure.search([("fingerprint", "=", cause.fingerprint)], limit=20)

    @api.depends("exception", "location")
    def _compute_display_name(self):
        for cause in self:
            cause.display_name = f"{cause.exception} at {cause.location}" if cause.location else cause.exception


class ApiMonitorCauseBucket(models.Model):
    """Server errors of one endpoint and one cause during one minute, summed over every Odoo process."""

    _name = "api.monitor.cause.bucket"
    _description = "API server errors per cause and minute"
    _order = "start desc"
    _log_access = False
    _rec_name = "fingerprint"

    start = fields.Datetime(required=True, readonly=True)
    endpoint = fields.Char(required=True, readonly=True)
    fingerprint = fields.Char(required=True, readonly=True)
    count = fields.Integer(readonly=True)

    def init(self):
        store.ensure_unique(self.env.cr, self._table, "api_monitor_cause_bucket_uniq", ("start", "endpoint", "fingerprint"))
