"""The addon's wrappers around Odoo: one of each, however often the addon installs them."""

import odoo.http
from odoo.addons.base.controllers import rpc as rpc_controller
from odoo.tests import BaseCase, tagged

from .. import instrumentation
from ..instrumentation import patching, routing, rpc, wsgi


@tagged("post_install", "-at_install")
class TestInstall(BaseCase):
    def wrapped(self):
        """Each place the addon wraps: (what is there now, what that wraps, what that one wraps in turn)."""
        places = [(odoo.http.Application, "__call__"), (rpc_controller, "dispatch_rpc"),
                  (rpc_controller.RPC, "_xmlrpc"),
                  *((odoo.http.Request, name) for name in routing.WRAPPERS),
                  *((cls, "handle_error") for cls in set(odoo.http._dispatchers.values())
                    if "handle_error" in vars(cls))]
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
        self.assertEqual(len(before), 7)  # Odoo 18's http and json dispatchers each have their handle_error
        for (owner, name), (current, inner, innermost) in before.items():
            self.assertIsNot(current, inner, f"{owner}.{name} is not wrapped")
            self.assertIs(inner, innermost, f"{owner}.{name} is wrapped twice")
        self.assertIs(odoo.http.Application.__call__, wsgi._instrumented_call)
        self.assertIs(wsgi._original, patching.original(wsgi._instrumented_call))
        self.assertIs(rpc._original, patching.original(rpc_controller.dispatch_rpc))
        self.assertIs(routing._set_dispatcher, patching.original(odoo.http.Request._set_request_dispatcher))
