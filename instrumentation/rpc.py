"""Name ``/jsonrpc`` and ``/xmlrpc`` calls by model and method, and see the exceptions XML-RPC swallows.

Both entry points call ``dispatch_rpc(service, method, params)``; the XML-RPC controller turns any exception
into a fault answered with HTTP 200 before ``ir.http`` could see it. Wrapping that one function gives the
endpoint name and the real outcome for both. The XML-RPC controller's own step around it (``RPC._xmlrpc``:
parse the body, call, marshal the result) is wrapped too, for what fails outside the call: a body that does
not parse is the caller's fault (a client error, counted under the route), a result that cannot be
marshalled (``None``, say) the server's.
"""

from __future__ import annotations

import odoo.service.common
import odoo.service.db
from odoo.addons.base.controllers import rpc as rpc_controller
from odoo.modules.registry import Registry

from ..core.context import current
from ..core.endpoints import rpc_endpoint
from . import patching
from .names import model_method_known

#: route template -> the entry prefix of the endpoint name
RPC_ROUTES = {"/jsonrpc": "/jsonrpc", "/xmlrpc/2/<service>": "/xmlrpc/2", "/xmlrpc/<service>": "/xmlrpc"}
_SERVICES = {"common": odoo.service.common, "db": odoo.service.db}


def _known_for(db: object):
    def is_known(model: str | None, method: str) -> bool:
        if model is None:
            service, _, function = method.partition(".")
            return hasattr(_SERVICES.get(service), f"exp_{function}")
        return model_method_known(Registry.registries.get(db) if isinstance(db, str) else None, model, method)

    return is_known


def _dispatch_rpc(service_name, method, params):
    ctx = current()
    entry = RPC_ROUTES.get(ctx.route) if ctx is not None else None
    if entry is None:
        return _original(service_name, method, params)
    ctx.clear_exception()
    try:
        return _original(service_name, method, params)
    except Exception as exc:
        ctx.set_exception(exc)
        raise
    finally:
        db = params[0] if isinstance(params, (list, tuple)) and params else None
        ctx.endpoint = rpc_endpoint(entry, service_name, method, params, _known_for(db))


def _xmlrpc(self, service):
    try:
        return _original_xmlrpc(self, service)
    except Exception as exc:
        ctx = current()
        if ctx is not None and not ctx.exception_names:  # not raised by the call (_dispatch_rpc notes those)
            ctx.set_exception(exc)
            if ctx.endpoint == ctx.route:  # the call was never made: the body did not parse
                ctx.exception_status = 400
        raise


_original = patching.original(rpc_controller.dispatch_rpc)
_original_xmlrpc = patching.original(rpc_controller.RPC._xmlrpc)


def install() -> None:
    patching.wrap(rpc_controller, "dispatch_rpc", _dispatch_rpc)
    patching.wrap(rpc_controller.RPC, "_xmlrpc", _xmlrpc)
