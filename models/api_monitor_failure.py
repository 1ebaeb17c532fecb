from odoo import fields, models


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
