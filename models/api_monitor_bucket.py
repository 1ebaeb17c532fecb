import logging

from odoo import api, fields, models

from ..storage import store

_logger = logging.getLogger(__name__)


class ApiMonitorBucket(models.Model):
    """Requests of one endpoint during one minute, summed over every Odoo process.

    Written only by the flush (additive upserts on a cursor of its own); read by the alert rules and charts.
    """

    _name = "api.monitor.bucket"
    _description = "API request time bucket"
    _order = "start desc, endpoint"
    _log_access = False
    _rec_name = "endpoint"

    start = fields.Datetime(required=True, readonly=True)
    endpoint = fields.Char(required=True, readonly=True)
    requests = fields.Integer(readonly=True)
    server_errors = fields.Integer(readonly=True)
    client_errors = fields.Integer(readonly=True)
    duration_sum = fields.Float(readonly=True, help="Seconds spent serving these requests, summed.")

    def init(self):
        # one bucket per endpoint and minute; the index serves the evaluator's scans of recent minutes, and no
        # other index is kept on this busy table
        store.ensure_unique(self.env.cr, self._table, "api_monitor_bucket_start_endpoint_uniq", ("start", "endpoint"))

    @api.model
    def _cron_prune(self):
        """Compact the minute buckets older than the minute retention into their hourly rows, delete hourly rows
        older than the hourly retention and server-error samples and causes older than a week or so, and forget
        the endpoints that had no traffic for as long."""
        self.env.flush_all()
        settings = store.load_settings(self.env.cr)
        buckets, failures = store.prune(self.env.cr, settings)
        self.invalidate_model()
        evicted = store.evict_endpoints(self.env.cr, settings.detail_days)
        if evicted:
            self.env["api.monitor.endpoint"].invalidate_model()
        _logger.info(
            "api_monitor: compacted %s minute buckets older than %s days, deleted %s failure samples, forgot %s "
            "idle endpoints", buckets, settings.retention_days, failures, len(evicted),
        )
        return buckets, failures
