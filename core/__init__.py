"""Odoo-free logic of api_monitor.

Every decision the addon takes lives here: how a request's outcome is classified, how an endpoint is
named, when the per-process recorder flushes, how counters are exposed to Prometheus. Nothing in this
package imports Odoo, so it is tested on any machine with plain pytest.
"""
