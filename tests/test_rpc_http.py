"""``/xmlrpc`` and ``/jsonrpc`` calls over real HTTP: named by model and method, and classified, although
Odoo answers every failure there with HTTP 200."""

import xmlrpc.client

from odoo.tests import tagged

from .. import compat
from .common import MonitorHttpCase

XMLRPC = "/xmlrpc/2/object"
JSONRPC = "/jsonrpc/object"


@tagged("post_install", "-at_install")
class TestRpcEntryPoints(MonitorHttpCase):
    def setUp(self):
        super().setUp()
        self.authenticate("admin", "admin")

    def xmlrpc_post(self, service, body):
        return self.url_open(f"/xmlrpc/2/{service}", data=body, headers={"Content-Type": "text/xml"})

    def execute_kw_xml(self, model, method, args, kwargs=None):
        """``execute_kw`` over XML-RPC: the HTTP response, and its result or ``xmlrpc.client.Fault``."""
        body = xmlrpc.client.dumps((self.env.cr.dbname, 2, "admin", model, method, args, kwargs or {}), "execute_kw",
                                   allow_none=True)
        response = self.xmlrpc_post("object", body)
        try:
            result = xmlrpc.client.loads(response.content)[0][0]
        except xmlrpc.client.Fault as fault:
            result = fault
        return response, result

    def execute_kw_json(self, model, method, args):
        response = self.jsonrpc("/jsonrpc", {"service": "object", "method": "execute_kw",
                                             "args": [self.env.cr.dbname, 2, "admin", model, method, args, {}]})
        return response, response.json()

    def test_xmlrpc_call_is_counted_under_its_model_and_method(self):
        response, result = self.execute_kw_xml("res.partner", "search_count", [[]])
        self.assertEqual(response.status_code, 200)
        self.assertEqual(result, self.env["res.partner"].search_count([]))
        self.assertEqual(self.counted(), {(f"{XMLRPC}/res.partner/search_count", "POST", 200, "success"): 1})

    def test_xmlrpc_service_call_is_counted_under_its_route(self):
        response = self.xmlrpc_post("common", xmlrpc.client.dumps((), "version"))
        self.assertEqual(xmlrpc.client.loads(response.content)[0][0]["server_serie"], f"{compat.VERSION}.0")
        self.assertEqual(self.counted(), {("/xmlrpc/2/<service>", "POST", 200, "success"): 1})

    def test_xmlrpc_faults_are_client_or_server_errors_although_http_says_200(self):
        user_error, fault = self.execute_kw_xml("res.users", "unlink", [[1]])
        self.assertIsInstance(fault, xmlrpc.client.Fault)
        unexpected, fault = self.execute_kw_xml("res.partner", "read", [[self.env.user.partner_id.id], 42])
        self.assertIsInstance(fault, xmlrpc.client.Fault)
        self.assertEqual((user_error.status_code, unexpected.status_code), (200, 200))
        self.assertEqual(self.counted(), {
            (f"{XMLRPC}/res.users/unlink", "POST", 200, "client_error"): 1,
            (f"{XMLRPC}/res.partner/read", "POST", 200, "server_error"): 1,
        })
        self.assertEqual(self.failure(unexpected.headers["X-Request-ID"]),
                         [(f"{XMLRPC}/res.partner/read", "POST", 200, "builtins.TypeError")])

    def test_xmlrpc_body_that_does_not_parse_is_a_client_error_under_the_route(self):
        response = self.xmlrpc_post("object", "<methodCall><methodName>execute_kw</methodName><params>")
        self.assertEqual(response.status_code, 200)
        with self.assertRaises(xmlrpc.client.Fault):
            xmlrpc.client.loads(response.content)
        self.assertEqual(self.counted(), {("/xmlrpc/2/<service>", "POST", 200, "client_error"): 1})
        self.assertEqual(self.failure(response.headers["X-Request-ID"]), [])

    def test_xmlrpc_result_that_cannot_be_marshalled_is_a_server_error(self):
        # get_param returns the default, None here, which Odoo's XML-RPC marshaller refuses after the call
        response, fault = self.execute_kw_xml("ir.config_parameter", "get_param", ["api_monitor.no_such_key", None])
        self.assertIsInstance(fault, xmlrpc.client.Fault)
        self.assertIn("cannot marshal None", fault.faultString)
        self.assertEqual(self.counted(), {(f"{XMLRPC}/ir.config_parameter/get_param", "POST", 200, "server_error"): 1})
        self.assertEqual(self.failure(response.headers["X-Request-ID"]),
                         [(f"{XMLRPC}/ir.config_parameter/get_param", "POST", 200, "builtins.TypeError")])

    def test_jsonrpc_calls_are_counted_under_their_model_and_method(self):
        ok, answer = self.execute_kw_json("res.partner", "search_count", [[]])
        self.assertEqual(answer["result"], self.env["res.partner"].search_count([]))
        missing, answer = self.execute_kw_json("res.partner", "write", [[999999999], {"name": "gone"}])
        self.assertEqual(answer["error"]["data"]["name"], "odoo.exceptions.MissingError")
        self.assertEqual((ok.status_code, missing.status_code), (200, 200))
        self.assertEqual(self.counted(), {
            (f"{JSONRPC}/res.partner/search_count", "POST", 200, "success"): 1,
            (f"{JSONRPC}/res.partner/write", "POST", 200, "client_error"): 1,
        })
