"""Where Odoo 18.0 and 19.0 differ for the addon, each difference with the versions it serves.

Everything else the addon uses is the same in both: for the hooks, ``ir.http``'s ``_match``,
``_serve_fallback``, ``_authenticate``, ``_dispatch`` and ``_post_dispatch``, ``Application.__call__``, the
dispatchers' ``handle_error``, ``AccessDenied`` when an RPC ``object`` call's credentials are refused; for
the models, the ORM calls and view elements they use. SQL constraints are declared as
unique indexes in ``init`` (``storage.store.ensure_unique``), which both versions run, instead of
``_sql_constraints`` (18) or ``models.Constraint`` (19).
"""

from __future__ import annotations

import importlib

import odoo.release
import odoo.service.common
import odoo.service.db
from odoo.modules.registry import Registry

#: the running Odoo's major version: 18 or 19
VERSION: int = odoo.release.version_info[0]
SUPPORTED = (18, 19)

#: the modules of the RPC controllers that call ``dispatch_rpc``, and the class with ``_xmlrpc``
_RPC_CONTROLLERS = {
    18: (("odoo.addons.base.controllers.rpc",), ("odoo.addons.base.controllers.rpc", "RPC")),
    # 19: the controllers moved to the auto-installed module ``rpc``, one file per protocol
    19: (("odoo.addons.rpc.controllers.jsonrpc", "odoo.addons.rpc.controllers.xmlrpc"),
         ("odoo.addons.rpc.controllers.xmlrpc", "XMLRPC")),
}
_SERVICES = {"common": odoo.service.common, "db": odoo.service.db}
#: the files of Odoo's code that calls a model method for an RPC call (``call_kw``): a TypeError raised in
#: them, not inside the method, means the caller's arguments do not fit the method
_CALL_KW_FILES = {
    18: ("odoo/api.py", "odoo/service/model.py"),
    # 19: call_kw moved to odoo.service.model
    19: ("odoo/service/model.py", "odoo/api.py"),
}


def arguments_do_not_fit(exc: BaseException) -> bool:
    """Whether ``exc`` is a TypeError raised by calling a model method with arguments it does not take
    (raised in Odoo's call_kw code itself, not inside the method)."""
    if not isinstance(exc, TypeError) or exc.__traceback__ is None:
        return False
    tb = exc.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_code.co_filename.replace("\\", "/").endswith(_CALL_KW_FILES[VERSION])


def rpc_controller_modules() -> list:
    """The modules whose ``dispatch_rpc`` the RPC entry points call."""
    return [importlib.import_module(name) for name in _RPC_CONTROLLERS[VERSION][0]]


def xmlrpc_controller() -> type:
    """The controller class whose ``_xmlrpc`` parses, calls and marshals an XML-RPC call."""
    module, name = _RPC_CONTROLLERS[VERSION][1]
    return getattr(importlib.import_module(module), name)


def rpc_service_function(service: object, method: object):
    """What the ``common`` or ``db`` service calls for ``method`` (``exp_<method>``), or None."""
    module = _SERVICES.get(service) if isinstance(service, str) else None
    if module is None or not isinstance(method, str) or not method.isidentifier():
        return None
    return getattr(module, f"exp_{method}", None)


def registry(db: object):
    """The loaded registry of ``db`` in this process, or None."""
    return Registry.registries.get(db) if isinstance(db, str) else None


# -- routes ------------------------------------------------------------------------------------------------
#: the type of a JSON-RPC route: 19 renamed "json" to "jsonrpc" (and warns about the old name)
JSON_ROUTE = {18: "json", 19: "jsonrpc"}[VERSION]


# -- access groups ------------------------------------------------------------------------------------------
#: the field of ``res.groups`` listing its users: ``users`` (18), ``user_ids`` (19)
GROUP_USERS = {18: "users", 19: "user_ids"}[VERSION]


def group_users(group):
    """The users explicitly in ``group``."""
    return group[GROUP_USERS]


def file_groups_under(env, groups, category) -> None:
    """Show ``groups`` under the application ``category`` (an ``ir.module.category``) on the user form: their
    ``category_id`` (18), a ``res.groups.privilege`` of that category (19, where groups have privileges)."""
    if VERSION == 18:
        groups.write({"category_id": category.id})
        return
    Privilege = env["res.groups.privilege"]
    privilege = Privilege.search([("category_id", "=", category.id), ("name", "=", category.name)], limit=1)
    if not privilege:
        privilege = Privilege.create({"name": category.name, "category_id": category.id, "sequence": 90})
    groups.write({"privilege_id": privilege.id})

