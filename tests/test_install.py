"""The addon's hooks on the real Odoo: each in place once, however often they are installed, and a missing
one said loudly (an ERROR naming it, ``api_monitor_instrumentation_ok 0``)."""

import odoo.http
from odoo.tests import BaseCase, tagged

from .. import compat, instrumentation
from ..core import exposition
from ..instrumentation import errors, patching, rpc, selfcheck, wsgi
from ..storage.runtime import RUNTIME


@tagged("post_install", "-at_install")
class TestHooks(BaseCase):
    def wrapped(self):
        """Each place the addon wraps: (what is there now, what that wraps, what that one wraps in turn)."""
        places = [(odoo.http.Application, "__call__"),
                  *((owner, name) for owner, name, _wrapper in rpc.places()),
                  *((cls, "handle_error") for cls in errors.dispatchers())]
        return {
            (getattr(owner, "__name__", owner), name): (
                vars(owner)[name],
                patching.original(vars(owner)[name]),
                patching.original(patching.original(vars(owner)[name])),
            )
            for owner, name in places
        }

    def test_installing_again_keeps_one_wrapper_around_each_of_odoos_own(self):
        before = self.wrapped()
        instrumentation.install()
        self.assertEqual(self.wrapped(), before)
        # Odoo 18: the entry point, dispatch_rpc and _xmlrpc, the http and json dispatchers' handle_error;
        # Odoo 19: dispatch_rpc in two controller modules, and three dispatchers (json2 too)
        self.assertEqual(len(before), {18: 5, 19: 7}[compat.VERSION])
        for (owner, name), (current, inner, innermost) in before.items():
            self.assertIsNot(current, inner, f"{owner}.{name} is not wrapped")
            self.assertIs(inner, innermost, f"{owner}.{name} is wrapped twice")
        self.assertIs(odoo.http.Application.__call__, wsgi._instrumented_call)

    def test_the_self_check_finds_every_hook_in_place(self):
        self.assertEqual(selfcheck.run(), {"odoo_version": True, "wsgi": True, "errors": True, "logs": True,
                                           "ir_http": True, "rpc": True})
        self.assertEqual(RUNTIME.hooks, selfcheck.check())

    def test_a_missing_hook_is_logged_as_an_error_and_exposed_as_zero(self):
        self.addCleanup(selfcheck.run)  # runs after the patch is undone: every hook in place again
        self.patch(odoo.http.Application, "__call__", patching.original(odoo.http.Application.__call__))
        with self.assertLogs("odoo.addons.api_monitor.instrumentation.selfcheck", level="ERROR") as logs:
            status = selfcheck.run()
        self.assertEqual([name for name, ok in status.items() if not ok], ["wsgi"])
        self.assertEqual(len(logs.records), 1)
        self.assertIn("the wsgi hook is not in place on Odoo", logs.records[0].getMessage())
        text = exposition.render(exposition.Snapshot(hooks=dict(RUNTIME.hooks))).decode()
        self.assertIn("\napi_monitor_instrumentation_ok 0.0\n", text)
        self.assertIn('\napi_monitor_hook_ok{hook="wsgi"} 0.0\n', text)
        self.assertIn('\napi_monitor_hook_ok{hook="rpc"} 1.0\n', text)
