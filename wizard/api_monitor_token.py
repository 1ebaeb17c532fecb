from odoo import fields, models


class ApiMonitorToken(models.TransientModel):
    """The metrics token just generated, shown once to the manager who generated it, with where to put it.

    Transient: Odoo's vacuum removes it within the hour, and only its creator reads it.
    """

    _name = "api.monitor.token"
    _description = "API Monitoring new metrics token"

    token = fields.Char(readonly=True)
    scrape_config = fields.Text(readonly=True)
