import secrets

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..core import settings as monitor_settings
from ..core.export import scrape_config

_DEFAULTS = monitor_settings.Settings()
_MANAGER = "api_monitor.group_api_monitor_manager"


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    api_monitor_metrics_token = fields.Char(
        string="Metrics token",
        config_parameter=monitor_settings.PARAM_TOKEN,
        groups=_MANAGER,
        help="Prometheus sends it as 'Authorization: Bearer <token>'. Empty: /metrics answers 403.",
    )
    api_monitor_token_set = fields.Boolean(compute="_compute_api_monitor_scrape", groups=_MANAGER)
    api_monitor_metrics_url = fields.Char(string="Metrics URL", compute="_compute_api_monitor_scrape")
    api_monitor_scrape_config = fields.Text(string="Prometheus scrape configuration",
                                            compute="_compute_api_monitor_scrape")
    api_monitor_metrics_allowlist = fields.Char(
        string="Metrics allowlist",
        config_parameter=monitor_settings.PARAM_ALLOWLIST,
        help="Addresses or CIDR blocks allowed to read /metrics, comma-separated. Empty: any address.",
    )
    api_monitor_flush_interval = fields.Integer(
        string="Flush interval (seconds)",
        config_parameter=monitor_settings.PARAM_FLUSH_INTERVAL,
        default=_DEFAULTS.flush_interval,
        help="How often each Odoo process writes its counts; server errors are written within a second.",
    )
    api_monitor_bucket_retention_days = fields.Integer(
        string="Keep minute rows (days)",
        config_parameter=monitor_settings.PARAM_RETENTION_DAYS,
        default=_DEFAULTS.retention_days,
    )
    api_monitor_hourly_retention_months = fields.Integer(
        string="Keep compacted history (months)",
        config_parameter=monitor_settings.PARAM_HOURLY_MONTHS,
        default=_DEFAULTS.hourly_months,
    )
    api_monitor_endpoint_cap = fields.Integer(
        string="Distinct endpoints at most",
        config_parameter=monitor_settings.PARAM_ENDPOINT_CAP,
        default=_DEFAULTS.endpoint_cap,
        help="Newcomers beyond this are counted as endpoint 'other'.",
    )
    api_monitor_anonymous_endpoint_cap = fields.Integer(
        string="Of which from anonymous requests",
        config_parameter=monitor_settings.PARAM_ANONYMOUS_CAP,
        default=_DEFAULTS.anonymous_endpoint_cap,
        help="How many of the distinct endpoints requests without a logged-in user may add (routes they reach "
             "for the first time); beyond it they are counted as 'other'. Keeps scanners from filling the cap.",
    )
    api_monitor_excluded_endpoints = fields.Char(
        string="Excluded endpoints",
        config_parameter=monitor_settings.PARAM_EXCLUSIONS,
        default=",".join(_DEFAULTS.exclusions),
        help="Endpoint prefixes left uncounted, comma-separated (assets, websocket, bus by default).",
    )

    @api.constrains(
        "api_monitor_metrics_allowlist",
        "api_monitor_flush_interval",
        "api_monitor_bucket_retention_days",
        "api_monitor_hourly_retention_months",
        "api_monitor_endpoint_cap",
        "api_monitor_anonymous_endpoint_cap",
        "api_monitor_excluded_endpoints",
    )
    def _check_api_monitor_settings(self):
        for rec in self:
            try:
                monitor_settings.parse_allowlist(rec.api_monitor_metrics_allowlist)
                monitor_settings.parse_exclusions(rec.api_monitor_excluded_endpoints)
                monitor_settings.check_range(
                    "The flush interval", rec.api_monitor_flush_interval, monitor_settings.FLUSH_INTERVAL_RANGE
                )
                monitor_settings.check_range(
                    "The days of minute rows kept",
                    rec.api_monitor_bucket_retention_days,
                    monitor_settings.RETENTION_DAYS_RANGE,
                )
                monitor_settings.check_range(
                    "The months of compacted history kept",
                    rec.api_monitor_hourly_retention_months,
                    monitor_settings.HOURLY_MONTHS_RANGE,
                )
                monitor_settings.check_range(
                    "The cap on distinct endpoints", rec.api_monitor_endpoint_cap, monitor_settings.ENDPOINT_CAP_RANGE
                )
                monitor_settings.check_range(
                    "The endpoints anonymous requests may add", rec.api_monitor_anonymous_endpoint_cap,
                    monitor_settings.ANONYMOUS_CAP_RANGE,
                )
            except monitor_settings.SettingError as exc:
                raise ValidationError(str(exc)) from None

    def set_values(self):
        """Store the settings, and mark the monitoring settings that changed (their names, never a value)."""
        params = self.env["ir.config_parameter"].sudo()
        mine = {name: field for name, field in self._fields.items()
                if name.startswith("api_monitor_") and getattr(field, "config_parameter", None)}
        defaults = self.default_get(list(mine))  # a parameter never set holds its field's default

        def stored(field, fallback=False):
            value = params.get_param(field.config_parameter, fallback)
            return str(value) if value not in (False, None, "") else False

        before = {name: stored(field, defaults.get(name, False)) for name, field in mine.items()}
        result = super().set_values()
        changed = [field.string for name, field in mine.items() if stored(field) != before[name]]
        if changed:
            self.env["api.monitor.change"]._record("settings", self.env._(
                "Monitoring settings changed by %(user)s: %(fields)s", user=self.env.user.name,
                fields=", ".join(changed)))
        return result

    @api.depends("company_id")  # a dependency, so that the settings form computes them when it opens
    def _compute_api_monitor_scrape(self):
        params = self.env["ir.config_parameter"].sudo()
        base_url = params.get_param("web.base.url", "")
        for settings in self:
            settings.api_monitor_metrics_url = f"{base_url}/metrics?db={self.env.cr.dbname}"
            settings.api_monitor_scrape_config = scrape_config(base_url, self.env.cr.dbname)
            settings.api_monitor_token_set = self.env.user.has_group(_MANAGER) and bool(
                params.get_param(monitor_settings.PARAM_TOKEN))

    def action_api_monitor_generate_token(self):
        """Store a fresh random metrics token (the old one stops working at once) and show it, once."""
        self.ensure_one()
        if not self.env.user.has_group(_MANAGER):
            raise ValidationError(self.env._("Only API Monitoring managers can set the metrics token."))
        token = secrets.token_urlsafe(32)
        self.env["ir.config_parameter"].sudo().set_param(monitor_settings.PARAM_TOKEN, token)
        shown = self.env["api.monitor.token"].create({"token": token, "scrape_config": self.api_monitor_scrape_config})
        return {"type": "ir.actions.act_window", "res_model": "api.monitor.token", "res_id": shown.id,
                "view_mode": "form", "target": "new", "name": self.env._("New metrics token")}
