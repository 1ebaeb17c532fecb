"""Odoo-facing glue that is not a model: the WSGI wrapper, the RPC hook, the store and the flusher.

:func:`install` is idempotent; it runs when Odoo imports the addon and, when the addon is listed in
``server_wide_modules``, from its ``post_load`` hook at server start, before workers fork.
"""

from . import dispatch, logs, names, patching, routing, rpc, runtime, store, wake, wsgi


def install() -> None:
    import odoo.tools

    # Under Odoo's test runner the tests flush explicitly, so that what they count is deterministic.
    runtime.RUNTIME.autostart = not odoo.tools.config["test_enable"]
    wsgi.install()
    dispatch.install()
    routing.install()
    rpc.install()
    logs.install()
