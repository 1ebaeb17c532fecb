"""What a registry knows: the ``is_known`` that ``core.endpoints`` and ``core.rpc`` name calls with."""

from __future__ import annotations

from ..core.endpoints import Known


def known_in(registry) -> Known:
    """``is_known(model, method)`` for ``registry``: the model exists and, when ``method`` is given, has a
    public callable of that name. Nothing is known without a registry."""

    def is_known(model: str | None, method: str) -> bool:
        if registry is None or model is None or model not in registry:
            return False
        return not method or (not method.startswith("_") and callable(getattr(registry[model], method, None)))

    return is_known
