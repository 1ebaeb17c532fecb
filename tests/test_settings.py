"""The settings form: messages that say what to fix, and the token kept from non-managers."""

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import TransactionCase, new_test_user, tagged

from ..core.export import scrape_config
from ..core.settings import PARAM_ALLOWLIST, PARAM_FLUSH_INTERVAL, PARAM_TOKEN


@tagged("post_install", "-at_install")
class TestSettings(TransactionCase):
    def save(self, **values):
        self.env["res.config.settings"].create(values).execute()

    def test_valid_settings_are_stored_as_system_parameters(self):
        self.save(api_monitor_metrics_allowlist="127.0.0.1, 10.0.0.0/8", api_monitor_flush_interval=3)
        params = self.env["ir.config_parameter"].sudo()
        self.assertEqual(params.get_param(PARAM_ALLOWLIST), "127.0.0.1, 10.0.0.0/8")
        self.assertEqual(params.get_param(PARAM_FLUSH_INTERVAL), "3")

    def test_each_bad_value_says_what_to_fix_and_stores_nothing(self):
        cases = {
            "api_monitor_metrics_allowlist": ("10.0.0.300/8", "'10.0.0.300/8' in the /metrics allowlist is not an "
                                              "address or a network: write addresses or CIDR blocks such as "
                                              "10.0.0.0/8, separated by commas."),
            "api_monitor_flush_interval": (0, "The flush interval must be between 1 and 60; 0 is out of range."),
            "api_monitor_bucket_retention_days": (0, "The days of minute rows kept must be between 1 and 400; 0 is out of range."),
            "api_monitor_hourly_retention_months": (0, "The months of compacted history kept must be between 1 and 120; 0 is "
                                                       "out of range."),
            "api_monitor_endpoint_cap": (5, "The cap on distinct endpoints must be between 10 and 100000; 5 is out of range."),
            "api_monitor_excluded_endpoints": ("websocket", "Excluded endpoint 'websocket' must be a path prefix "
                                               "starting with '/', such as /websocket."),
        }
        params = self.env["ir.config_parameter"].sudo()
        stored = {key: params.get_param(key) for key in (PARAM_ALLOWLIST, PARAM_FLUSH_INTERVAL)}
        for field, (value, message) in cases.items():
            with self.subTest(field=field), self.assertRaises(ValidationError) as raised:
                self.save(**{field: value})
            self.assertEqual(str(raised.exception), message)
        self.assertEqual({key: params.get_param(key) for key in stored}, stored)

    def test_generated_token_is_readable_by_managers_only(self):
        settings = self.env["res.config.settings"].create({})
        self.assertFalse(settings.api_monitor_token_set)
        action = settings.action_api_monitor_generate_token()
        token = self.env["ir.config_parameter"].sudo().get_param(PARAM_TOKEN)
        self.assertEqual(len(token), 43)
        # shown once, to its creator, with the scrape block that reads it from a file
        shown = self.env[action["res_model"]].browse(action["res_id"])
        self.assertEqual((action["target"], shown.token), ("new", token))
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        self.assertEqual(shown.scrape_config, scrape_config(base_url, self.env.cr.dbname))
        self.assertNotIn(token, shown.scrape_config)
        self.assertTrue(self.env["res.config.settings"].create({}).api_monitor_token_set)
        other_manager = new_test_user(self.env, "other_manager",
                                      groups="base.group_user,api_monitor.group_api_monitor_manager")
        with self.assertRaises(AccessError):
            shown.with_user(other_manager).read(["token"])
        self.assertEqual(self.env["res.config.settings"].create({}).api_monitor_metrics_token, token)
        admin_not_manager = new_test_user(self.env, "settings_admin", groups="base.group_system")
        with self.assertRaises(AccessError):
            self.env["res.config.settings"].with_user(admin_not_manager).create({}).read(["api_monitor_metrics_token"])
