from odoo import http
from odoo.http import request

from .. import compat

USER = "api_monitor.group_api_monitor_user"
MANAGER = "api_monitor.group_api_monitor_manager"


class IncidentLink(http.Controller):
    """The incident link sent to PagerDuty, Slack and the others: logged-in, to the incident itself, or to
    a page that says which group to ask for when the person paged is not in it."""

    @http.route("/api_monitor/incident/<int:incident_id>", type="http", auth="user", methods=["GET"])
    def incident(self, incident_id, **_kwargs):
        if request.env.user.has_group(USER):
            return request.redirect(f"/odoo/api-incidents/{incident_id}")
        env = request.env(su=True)
        managers = compat.group_users(env.ref(MANAGER)).filtered(lambda u: u.active and not u.share).sorted("name")
        return request.render("api_monitor.incident_access_needed", {
            "user_name": request.env.user.name,
            "group_name": env.ref(USER).full_name,
            "managers": managers[:5].mapped("name"),
        }, status=403)
