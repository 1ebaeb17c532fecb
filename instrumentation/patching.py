"""Put the addon's wrappers in place of Odoo's functions and methods, once per process.

A wrapper carries what it replaced in its ``_api_monitor_original`` attribute: installing again finds it
there and keeps the one wrapper, and the benchmarks put Odoo's own back with :func:`original`.
"""

from __future__ import annotations

MARK = "_api_monitor_original"


def original(func):
    """What ``func`` replaced when it is one of the addon's wrappers, else ``func`` itself."""
    return getattr(func, MARK, func)


def wrap(owner, name: str, wrapper) -> object:
    """Put ``wrapper`` in place of ``owner.<name>`` (a class's or a module's own attribute) unless one of the
    addon's wrappers is there already; returns Odoo's own, which the wrapper calls."""
    return wrap_with(owner, name, lambda original: wrapper)


def wrap_with(owner, name: str, make) -> object:
    """As :func:`wrap`, for a wrapper that closes over what it replaces: ``make(original)`` builds it, and is
    called only when none of the addon's wrappers is there yet."""
    current = vars(owner)[name]
    if getattr(current, MARK, None) is not None:
        return getattr(current, MARK)
    wrapper = make(current)
    setattr(wrapper, MARK, current)
    setattr(owner, name, wrapper)
    return current
