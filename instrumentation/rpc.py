"""``/jsonrpc`` and ``/xmlrpc`` calls: named by service (by model and method once the caller authenticated),
and classified, although XML-RPC answers every failure with HTTP 200.

Two wrappers, because XML-RPC turns every exception into a fault inside its controller, where no
extension point sees it: ``dispatch_rpc(service, method, params)``, the one function both entry points
call (it sees the call, its credentials' fate and its exception), and the XML-RPC controller's own step
around it, ``_xmlrpc`` (parse the body, call, marshal the result): a body that does not parse is the
caller's fault, a result that cannot be marshalled (``None``, say) the server's. An ``object`` call's
credentials were accepted unless it raised ``AccessDenied`` (Odoo 18 checks them first, Odoo 19 once it
has a cursor; both refuse that way).
"""

from __future__ import annotations

from odoo.exceptions import AccessDenied

from .. import compat
from ..core import rpc
from ..core.context import current
from ..core.outcome import DISPATCHED, READING
from . import patching
from .naming import known_in

#: Odoo's own functions, set by :func:`install`
_originals: dict = {}


def _dispatch_rpc(service_name, method, params):
    ctx = current()
    if ctx is None or not ctx.monitored or ctx.route not in rpc.ENTRIES:
        return _originals["dispatch_rpc"](service_name, method, params)
    ctx.clear_exception()
    ctx.rpc_called = True
    misfit = rpc.mistake(service_name, method, params, ctx.db, compat.rpc_service_function(service_name, method))
    ctx.caller_mistake = misfit
    # an object call authenticates its caller itself: until it did, a failure is the caller's
    ctx.stage = READING if service_name == "object" else DISPATCHED
    refused = False
    try:
        return _originals["dispatch_rpc"](service_name, method, params)
    except Exception as exc:
        ctx.set_exception(exc)
        # the object service refuses credentials with AccessDenied, before anything else is called
        refused = isinstance(exc, AccessDenied)
        if compat.arguments_do_not_fit(exc):
            ctx.caller_mistake = "the method does not take these arguments"
        raise
    finally:
        ctx.authenticated = service_name == "object" and not misfit and not refused
        if ctx.authenticated:
            ctx.stage = DISPATCHED
        ctx.endpoint = rpc.endpoint(ctx.route, service_name, method, params, ctx.authenticated,
                                    known_in(compat.registry(ctx.db)))


def _xmlrpc(self, service):
    try:
        return _originals["_xmlrpc"](self, service)
    except Exception as exc:
        ctx = current()
        if ctx is not None and ctx.monitored and not ctx.exception_names:  # not raised by the call
            ctx.set_exception(exc)
            if not ctx.rpc_called:  # the call was never made: the body did not parse
                ctx.caller_mistake = "the body is not an XML-RPC call"
        raise


def places() -> list[tuple[object, str, object]]:
    """(owner, name, wrapper) of every place this module wraps, on the running Odoo."""
    return ([(module, "dispatch_rpc", _dispatch_rpc) for module in compat.rpc_controller_modules()]
            + [(compat.xmlrpc_controller(), "_xmlrpc", _xmlrpc)])


def install() -> None:
    for owner, name, wrapper in places():
        _originals[name] = patching.wrap(owner, name, wrapper)
