"""The start-up self-check: is every hook in place on this Odoo?

Run whenever the hooks are installed. A hook that is missing (another Odoo release renamed what it
extends, or another addon replaced it) is logged as an ERROR that names it, and ``/metrics`` exposes
``api_monitor_instrumentation_ok 0`` and ``api_monitor_hook_ok{hook="..."} 0``, so that Prometheus can
alert on it. The Odoo tests prove, on each supported version, that the hooks in place do count.
"""

from __future__ import annotations

import logging

import odoo.http

from odoo.addons.base.models.ir_http import IrHttp as BaseIrHttp

from .. import compat
from ..storage.runtime import RUNTIME
from . import errors, logs, patching, rpc, wsgi

_logger = logging.getLogger(__name__)

#: the methods of ``ir.http`` the addon extends (``instrumentation.ir_http``)
IR_HTTP_METHODS = ("_match", "_serve_fallback", "_authenticate", "_dispatch", "_post_dispatch", "_get_public_users")


def _wrapped(owner, name: str, wrapper=None) -> bool:
    current = vars(owner).get(name)
    return current is not None and patching.original(current) is not current and (wrapper is None or current is wrapper)


def check() -> dict[str, bool]:
    """Each hook by name, and whether it is in place."""
    dispatchers = errors.dispatchers()
    status = {
        "odoo_version": compat.VERSION in compat.SUPPORTED,
        "wsgi": _wrapped(odoo.http.Application, "__call__", wsgi._instrumented_call),
        "errors": len(dispatchers) >= 2 and all(_wrapped(cls, "handle_error") for cls in dispatchers),
        "logs": logs.installed(),
        "ir_http": all(callable(getattr(BaseIrHttp, name, None)) for name in IR_HTTP_METHODS),
    }
    try:
        status["rpc"] = all(_wrapped(owner, name, wrapper) for owner, name, wrapper in rpc.places())
    except (ImportError, AttributeError, KeyError):
        status["rpc"] = False
    return status


def run() -> dict[str, bool]:
    """Check, log an ERROR for each hook that is missing, and publish the result for ``/metrics``."""
    status = check()
    for name, ok in status.items():
        if not ok:
            _logger.error("api_monitor: the %s hook is not in place on Odoo %s: requests it should see are not "
                          "counted or not classified", name, odoo.release.version)
    RUNTIME.hooks = status
    return status
