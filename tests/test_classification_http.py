"""Real HTTP requests against the running Odoo, and what the addon counted for each."""

import uuid

import odoo.http
from odoo.tests import tagged

from ..instrumentation import patching
from ..storage import runtime, store
from .common import FailingRoutes, MonitorHttpCase, committed_counts  # noqa: F401 - FailingRoutes registers the test routes

CALL_KW = "/web/dataset/call_kw"


def counting_fails(*args, **kwargs):
    raise RuntimeError("counting failed")


@tagged("post_install", "-at_install")
class TestOutcomeOverHttp(MonitorHttpCase):
    def setUp(self):
        super().setUp()
        self.authenticate("admin", "admin")

    def error_name(self, response):
        return response.json()["error"]["data"]["name"]

    def test_successful_call_kw_counts_as_success(self):
        response = self.call_kw("res.partner", "search_count", [[]])
        self.assertEqual(response.status_code, 200)
        self.assertIn("result", response.json())
        self.assertEqual(self.counted(), {(f"{CALL_KW}/res.partner/search_count", "POST", 200, "success"): 1})

    def test_call_kw_raising_an_unexpected_exception_with_http_200_counts_as_server_error(self):
        response = self.call_kw("res.partner", "read", [[self.env.user.partner_id.id], 42])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.error_name(response), "builtins.TypeError")
        self.assertEqual(self.counted(), {(f"{CALL_KW}/res.partner/read", "POST", 200, "server_error"): 1})
        self.assertEqual(
            self.failure(response.headers["X-Request-ID"]),
            [(f"{CALL_KW}/res.partner/read", "POST", 200, "builtins.TypeError")],
        )

    def test_call_kw_of_a_method_that_does_not_exist_is_the_callers_mistake_under_unknown(self):
        response = self.call_kw("res.partner", "no_such_method", [[]])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.error_name(response), "builtins.AttributeError")
        self.assertEqual(self.counted(), {(f"{CALL_KW}/res.partner/<unknown>", "POST", 200, "client_error"): 1})

    def test_call_kw_with_arguments_the_method_does_not_take_is_the_callers_mistake(self):
        response = self.call_kw("res.partner", "search_count", [[], 1, 2, 3, 4, 5])
        self.assertEqual(self.error_name(response), "builtins.TypeError")
        self.assertEqual(self.counted(), {(f"{CALL_KW}/res.partner/search_count", "POST", 200, "client_error"): 1})

    def test_call_kw_of_a_private_method_is_a_client_error_never_named_by_it(self):
        response = self.call_kw("res.partner", "_compute_display_name", [[]])
        self.assertEqual(self.error_name(response), "odoo.exceptions.AccessError")
        self.assertEqual(self.counted(), {(f"{CALL_KW}/res.partner/<unknown>", "POST", 200, "client_error"): 1})

    def test_user_error_counts_as_client_error(self):
        response = self.call_kw("res.users", "unlink", [[1]])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.error_name(response), "odoo.exceptions.UserError")
        self.assertEqual(self.counted(), {(f"{CALL_KW}/res.users/unlink", "POST", 200, "client_error"): 1})

    def test_missing_error_counts_as_client_error(self):
        response = self.call_kw("res.partner", "write", [[999999999], {"name": "gone"}])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.error_name(response), "odoo.exceptions.MissingError")
        self.assertEqual(self.counted(), {(f"{CALL_KW}/res.partner/write", "POST", 200, "client_error"): 1})

    def test_routes_under_the_default_exclusions_are_not_counted(self):
        self.assertEqual(self.url_open("/websocket/health").status_code, 200)
        self.assertEqual(self.url_open("/web/webclient/version_info", data="{}",
                                       headers={"Content-Type": "application/json"}).status_code, 200)
        self.assertEqual(self.counted(), {("/web/webclient/version_info", "POST", 200, "success"): 1})

    def test_a_prefix_excluded_in_the_settings_is_not_counted_from_the_next_flush_on(self):
        db = self.env.cr.dbname

        def exclude(text):
            with store.connect(db) as cr:
                cr.execute("DELETE FROM ir_config_parameter WHERE key = 'api_monitor.excluded_endpoints'")
                if text is not None:
                    cr.execute("INSERT INTO ir_config_parameter (key, value) VALUES "
                               "('api_monitor.excluded_endpoints', %s)", [text])
            self.call_kw("res.partner", "search_count", [[]])
            committed_counts(db)  # a flush reads the settings for what is recorded next

        exclude("/web/webclient/")  # replaces the defaults: the websocket routes count again
        self.addCleanup(exclude, None)
        self.before = committed_counts(db)
        self.url_open("/web/webclient/version_info", data="{}", headers={"Content-Type": "application/json"})
        self.url_open("/websocket/health")
        self.call_kw("res.partner", "search_count", [[]])
        self.assertEqual(self.counted(), {
            ("/websocket/health", "GET", 200, "success"): 1,
            (f"{CALL_KW}/res.partner/search_count", "POST", 200, "success"): 1,
        })

    def test_path_without_route_counts_404_as_unmatched_client_error(self):
        response = self.url_open("/api_monitor_test/no/such/page/42")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self.counted(), {("unmatched", "GET", 404, "client_error"): 1})

    def test_http_route_that_raises_counts_500_as_server_error(self):
        response = self.url_open("/api_monitor_test/boom")
        self.assertEqual(response.status_code, 500)
        self.assertEqual(self.counted(), {("/api_monitor_test/boom", "GET", 500, "server_error"): 1})

    def test_request_whose_transaction_rolls_back_is_still_counted(self):
        response = self.url_open("/api_monitor_test/write_then_fail")
        self.assertEqual(response.status_code, 500)
        self.assertEqual(self.env["res.partner"].search_count([("name", "=", "rolled back with the request")]), 0)
        self.assertEqual(self.counted(), {("/api_monitor_test/write_then_fail", "GET", 500, "server_error"): 1})
        self.assertEqual(
            self.failure(response.headers["X-Request-ID"]),
            [("/api_monitor_test/write_then_fail", "GET", 500, "builtins.ZeroDivisionError")],
        )

    def test_valid_request_id_is_echoed_and_put_on_the_log_lines(self):
        with self.assertLogs("odoo.http", level="ERROR") as logs:
            response = self.url_open("/api_monitor_test/boom", headers={"X-Request-ID": "drill-42:abc.DEF"})
        self.assertEqual(response.headers["X-Request-ID"], "drill-42:abc.DEF")
        self.assertEqual(
            [record.getMessage() for record in logs.records],
            ["Exception during request handling. request_id=drill-42:abc.DEF"],
        )
        self.counted()
        self.assertEqual(self.failure("drill-42:abc.DEF")[0][3], "builtins.RuntimeError")

    def test_a_request_that_cannot_be_counted_is_answered_as_usual_and_the_failure_logged(self):
        self.patch(runtime.Recorder, "observe", counting_fails)
        with self.assertLogs("odoo.addons.api_monitor.storage.runtime", level="ERROR") as logs:
            response = self.call_kw("res.partner", "search_count", [[]], headers={"X-Request-ID": "count-fails-1"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["X-Request-ID"], "count-fails-1")
        self.assertEqual(response.json()["result"], self.env["res.partner"].search_count([]))
        self.assertEqual(
            [(record.getMessage(), record.exc_info[1].args) for record in logs.records],
            [("api_monitor: this request could not be counted request_id=count-fails-1", ("counting failed",))],
        )
        self.assertEqual(self.counted(), {})

    def test_invalid_request_id_is_replaced_on_every_response(self):
        for path in ("/web/health", "/api_monitor_test/no/such/page", "/api_monitor_test/boom"):
            response = self.url_open(path, headers={"X-Request-ID": "not valid; has spaces"})
            self.assertRegex(response.headers["X-Request-ID"], r"^[0-9a-f]{32}$", path)

    def test_ten_kilobyte_header_is_counted_once_and_breaks_nothing(self):
        response = self.url_open("/web/health", headers={"X-Request-ID": "a" * 10240, "X-Padding": "b" * 10240})
        self.assertEqual(response.status_code, 200)
        self.assertRegex(response.headers["X-Request-ID"], r"^[0-9a-f]{32}$")
        self.assertEqual(self.counted(), {("/web/health", "GET", 200, "success"): 1})

    def test_non_utf8_bytes_in_the_path_are_counted_once(self):
        status = self.raw("GET", b"/caf\xe9/\xff\xfe")
        self.assertEqual(status, 404)
        self.assertEqual(self.counted(), {("unmatched", "GET", 404, "client_error"): 1})

    def test_malformed_json_body_is_counted_once_as_client_error(self):
        response = self.url_open(
            f"{CALL_KW}/res.partner/read", data="{not json", headers={"Content-Type": "application/json"}
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.error_name(response), "json.decoder.JSONDecodeError")
        self.assertEqual(self.counted(), {(CALL_KW, "POST", 200, "client_error"): 1})

    def test_json_that_a_controller_fails_to_parse_counts_as_server_error(self):
        response = self.url_open("/api_monitor_test/bad_json_inside", data="{}",
                                 headers={"Content-Type": "application/json"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.error_name(response), "json.decoder.JSONDecodeError")
        self.assertEqual(self.counted(), {("/api_monitor_test/bad_json_inside", "POST", 200, "server_error"): 1})
        # the gateway learns it from the answer: its log counts this HTTP 200 as a server error
        self.assertEqual(response.headers["X-Api-Monitor-Outcome"], "server_error")

    def test_every_counted_answer_says_its_outcome_to_the_gateway(self):
        answers = {
            "success": self.url_open("/web/webclient/version_info", data="{}",
                                     headers={"Content-Type": "application/json"}),
            "client_error": self.url_open("/api_monitor_test/no/such/page"),
            "server_error": self.url_open("/api_monitor_test/boom"),
        }
        self.assertEqual({outcome: (r.status_code, r.headers.get("X-Api-Monitor-Outcome"))
                          for outcome, r in answers.items()},
                         {"success": (200, "success"), "client_error": (404, "client_error"),
                          "server_error": (500, "server_error")})

    def test_call_kw_on_a_model_that_does_not_exist_counts_as_client_error_under_the_route(self):
        response = self.call_kw("x_no_such_model", "read", [[1]])
        self.assertEqual(response.json()["error"]["code"], 404)
        self.assertEqual(self.counted(), {(CALL_KW, "POST", 200, "client_error"): 1})

    def test_ten_thousand_distinct_random_urls_make_one_series(self):
        for n in range(10000):
            self.opener.get(f"{self.base_url()}/r-{uuid.uuid4().hex}/{n}", timeout=10)
        for n in range(50):
            self.call_kw(f"x_random_{uuid.uuid4().hex[:12]}", "read", [[n]])
        self.assertEqual(
            self.counted(),
            {
                ("unmatched", "GET", 404, "client_error"): 10000,
                (CALL_KW, "POST", 200, "client_error"): 50,
            },
        )


@tagged("post_install", "-at_install")
class TestLateRequests(MonitorHttpCase):
    """A worker's first request loads the registry, and with it the addon, after Odoo's WSGI entry was
    entered: it has no context from the WSGI wrapper and is counted once its response is known. Served
    here through Odoo's own entry point, as such a request is."""

    def setUp(self):
        super().setUp()
        self.authenticate("admin", "admin")
        application = odoo.http.Application
        self.patch(application, "__call__", patching.original(application.__call__))

    def test_a_late_successful_call_kw_is_counted_once_with_its_model_and_method(self):
        response = self.call_kw("res.partner", "search_count", [[]])
        self.assertEqual(response.status_code, 200)
        self.assertNotIn("X-Request-ID", response.headers)  # the wrapper did not serve it
        self.assertEqual(self.counted(), {(f"{CALL_KW}/res.partner/search_count", "POST", 200, "success"): 1})

    def test_a_late_request_that_cannot_be_counted_is_answered_as_usual_and_the_failure_logged(self):
        self.patch(runtime.Recorder, "observe", counting_fails)
        with self.assertLogs("odoo.addons.api_monitor.storage.runtime", level="ERROR") as logs:
            response = self.call_kw("res.partner", "search_count", [[]], headers={"X-Request-ID": "late-fails-1"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.json()["result"], self.env["res.partner"].search_count([]))
        self.assertEqual(
            [(record.getMessage(), record.exc_info[1].args) for record in logs.records],
            [("api_monitor: this request could not be counted request_id=late-fails-1", ("counting failed",))],
        )
        self.assertEqual(self.counted(), {})

    def test_a_late_call_kw_failing_with_http_200_is_counted_once_as_server_error(self):
        response = self.call_kw("res.partner", "read", [[self.env.user.partner_id.id], 42])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self.counted(), {(f"{CALL_KW}/res.partner/read", "POST", 200, "server_error"): 1})

    def test_a_late_http_route_that_raises_is_counted_once_as_server_error(self):
        self.assertEqual(self.url_open("/api_monitor_test/boom").status_code, 500)
        self.assertEqual(self.counted(), {("/api_monitor_test/boom", "GET", 500, "server_error"): 1})

    def test_a_late_path_without_route_is_counted_once_as_unmatched_client_error(self):
        self.assertEqual(self.url_open("/api_monitor_test/no/such/page/7").status_code, 404)
        self.assertEqual(self.counted(), {("unmatched", "GET", 404, "client_error"): 1})
