"""The gateway path end to end, with the real nginx, mtail, Prometheus and two Alertmanagers.

Runs the four drills of ``make drill`` in front of the stand-in upstream (so it runs where no Odoo exists,
in CI): each must page within its tolerance, resolve within its tolerance, and leave exactly one
PagerDuty alert for its incident; the Grafana dashboard's every panel query returns data during drill (a).
"""

import json
import shutil

import pytest

from tools import gateway_drill
from tools.stack import PROGRAMS

pytestmark = pytest.mark.skipif(
    any(not shutil.which(p) for p in PROGRAMS),
    reason="needs nginx, mtail, prometheus, prometheus-alertmanager (Debian packages)")


@pytest.mark.slow
def test_the_four_drills_page_once_and_resolve_in_time(tmp_path):
    results = gateway_drill.run(["a", "b", "c", "d"], tmp_path, use_odoo=False, say=print)
    print(gateway_drill.table(["drill", "path", "page", "resolve", "alerts", "verdict", "notes"],
                              [r.row() for r in results]))
    assert [(r.drill, r.path) for r in results] == [("a", "prometheus"), ("a", "gateway"), ("b", "prometheus"),
                                                    ("c", "prometheus"), ("d", "prometheus")]
    for result in results:
        assert result.alerts == 1, result.row()
        assert result.page.ok, result.row()
        assert result.resolve.ok, result.row()
    panels = len(gateway_drill.dashboard_queries(json.loads(gateway_drill.DASHBOARD.read_text())))
    assert f"dashboard panels with data: {panels}/{panels}" in results[0].notes
    # the RPC errors answered with HTTP 200 fire the gateway twin from Nginx + mtail alone
    assert results[1].notes[0].startswith("HighApiErrorRateGateway in Prometheus, from Nginx + mtail only")
    assert results[2].notes[0].endswith("paged as OdooDown only")
    assert results[3].notes[0] in ("killed alertmanager1, the replica that sent the page",
                                   "killed alertmanager2, the replica that sent the page")
    # both paths tell the ops channel: the addon (when Odoo runs) and Alertmanager (trigger and resolve)
    assert int(results[0].notes[-1].rsplit(" ", 1)[1]) >= 2
    attempts = int(results[4].notes[0].rsplit(" ", 1)[1])
    assert attempts >= 3  # refused with 429 at least twice before the page went through


def test_dashboard_queries_cover_both_sources():
    dashboard = json.loads(gateway_drill.DASHBOARD.read_text())
    queries = gateway_drill.dashboard_queries(dashboard)
    assert len(queries) == 8
    gateway = [t for t, q in queries if "gateway_http_request" in q]
    addon = [t for t, q in queries if "http_request" in q and "gateway_" not in q]
    assert len(gateway) == 3 and all("(gateway)" in t for t in gateway)
    assert len(addon) == 3 and all("(Odoo, addon)" in t for t in addon)
    assert ("Firing alerts", 'ALERTS{alertstate="firing"}') in queries
    assert all("$" not in q for _, q in queries)
    assert {v["name"] for v in dashboard["templating"]["list"]} == {"datasource", "logs", "endpoint", "request_id", "odoo_url"}
