"""Where the counts live and how the cron workers are woken: the addon's SQL and its process runtime.

``store`` holds every SQL statement outside the ORM (the counter tables, the flush's upserts, the
evaluator's window sums, pruning); ``runtime`` is the per-process recorder and its flusher thread;
``wake`` wakes Odoo's cron workers at once or at a precise second. Nothing here is an Odoo hook: models,
controllers and the instrumentation all use it.
"""

from . import runtime, store, wake  # noqa: F401
