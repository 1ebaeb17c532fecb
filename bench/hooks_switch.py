"""Run ``odoo-bin`` with a switch for the addon's hooks, for ``bench.server_instructions``.

``python bench/hooks_switch.py STATE_FILE /path/to/odoo-bin ARGS...`` runs Odoo as usual. Each ``SIGUSR2``
switches the addon's request hooks off or on (they start on): its WSGI wrapper, its ``Request`` wrappers
(taken off, so that Odoo's own are called, as in ``bench.inprocess``) and its log record factory. The state
reached is written to STATE_FILE, so the benchmark knows when the switch happened. This measures the
addon's work on the real HTTP server within one process, free of the differences between two processes.
"""

import os
import runpy
import signal
import sys

state_file, odoo_bin, *args = sys.argv[1:]
hooks_on = True


def switch(signum, frame):
    global hooks_on
    import odoo.http
    from odoo.addons.api_monitor.bench import inprocess
    from odoo.addons.api_monitor.instrumentation import logs

    hooks_on = not hooks_on
    odoo.http.Application.__call__ = inprocess.hooks(hooks_on)
    logs.switch(hooks_on)
    with open(state_file, "w") as out:
        out.write("on" if hooks_on else "off")


signal.signal(signal.SIGUSR2, switch)
sys.argv = [odoo_bin, *args]
sys.path.insert(0, os.path.dirname(odoo_bin))
runpy.run_path(odoo_bin, run_name="__main__")
