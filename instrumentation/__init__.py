"""Odoo hooks, and only hooks: where the addon sees a request.

* ``ir_http``: the addon's extension of ``ir.http``, Odoo's extension point (route, database,
  authentication, the call); it exists only in registries of databases with the addon installed;
* ``wsgi``: a wrapper of ``Application.__call__`` (status sent, duration, request id on every response);
* ``errors``: a wrapper of each dispatcher's ``handle_error`` (exceptions raised before ``ir.http`` runs);
* ``rpc``: wrappers of ``dispatch_rpc`` and XML-RPC's ``_xmlrpc`` (exceptions XML-RPC turns into faults);
* ``logs``: a log record factory that puts the request id on every line;
* ``selfcheck``: whether each is in place (the addon's ``compat`` module says where Odoo 18 and 19 differ).

:func:`install` is idempotent; it runs when Odoo imports the addon and, when the addon is listed in
``server_wide_modules``, from its ``post_load`` hook at server start, before workers fork.
"""

import logging

from .. import compat  # noqa: F401
from . import errors, ir_http, logs, patching, rpc, selfcheck, wsgi  # noqa: F401

_logger = logging.getLogger(__name__)


def addon_roots() -> tuple[str, ...]:
    """The addons paths, as given and resolved: a server error's cause is its innermost frame under them."""
    import os

    import odoo.addons

    paths = [str(p) for p in odoo.addons.__path__]
    return tuple(dict.fromkeys([*paths, *(os.path.realpath(p) for p in paths)]))


def install() -> None:
    import odoo.tools

    from ..storage.runtime import RUNTIME

    # Under Odoo's test runner the tests flush explicitly, so that what they count is deterministic.
    RUNTIME.autostart = not odoo.tools.config["test_enable"]
    RUNTIME.recorder.addon_roots = addon_roots()
    for hook in (wsgi, errors, rpc, logs):
        try:
            hook.install()
        except Exception:  # a hook that cannot be put in place must not stop Odoo: the self-check says so
            _logger.exception("api_monitor: could not install the %s hook", hook.__name__)
    logs.use_json(odoo.tools.config)
    selfcheck.run()
