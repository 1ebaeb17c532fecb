import hmac

from odoo import http
from odoo.http import Response, request

from ..core import exposition
from ..core import settings as monitor_settings
from ..storage import store
from ..storage.runtime import RUNTIME


def _plain(status, text, **headers):
    return Response(text + "\n", status=status, mimetype="text/plain", headers=headers)


class Metrics(http.Controller):
    @http.route("/metrics", type="http", auth="none", methods=["GET"], csrf=False, save_session=False, readonly=True)
    def metrics(self, shard=None, shards=None, **_kwargs):
        """Cluster-wide counters in the Prometheus text format, for a caller with the bearer token.

        The database is the one Odoo resolves for the request (``--db-filter``, or ``?db=`` when the filter
        allows it). Counts come from a fresh cursor, so they include every flush committed so far. Nothing is
        read or rendered before the caller is let in. ``?shard=i&shards=n`` answers part i of n of the
        per-endpoint series (a scrape split over n targets), the addon's own metrics with part 0.
        """
        params = request.env["ir.config_parameter"].sudo()
        token = params.get_param(monitor_settings.PARAM_TOKEN) or ""
        if not token:
            return _plain(403, "/metrics is disabled: set a metrics token in Settings > API Monitoring.")
        try:
            allowlist = monitor_settings.parse_allowlist(params.get_param(monitor_settings.PARAM_ALLOWLIST))
        except monitor_settings.SettingError:
            return _plain(403, "/metrics allowlist is invalid: fix it in Settings > API Monitoring.")
        if not monitor_settings.address_allowed(request.httprequest.remote_addr, allowlist):
            return _plain(403, "This address may not read /metrics.")
        scheme, _, given = request.httprequest.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode("utf-8", "replace"), token.encode("utf-8")
        ):
            return _plain(401, "A valid bearer token is required.", **{"WWW-Authenticate": 'Bearer realm="metrics"'})
        try:
            part = exposition.parse_shard(shard, shards)
        except exposition.ShardError as exc:
            return _plain(400, str(exc))
        openmetrics = "application/openmetrics-text" in request.httprequest.headers.get("Accept", "")
        with store.connect(request.db) as cr:
            snapshot = store.read_snapshot(cr, exemplars=openmetrics, shard=part)
        snapshot.hooks = dict(RUNTIME.hooks)
        if openmetrics:
            return Response(exposition.render_openmetrics(snapshot), status=200,
                            content_type=exposition.OPENMETRICS_CONTENT_TYPE)
        return Response(exposition.render(snapshot), status=200, content_type=exposition.CONTENT_TYPE)
