from odoo import api, models

from .. import compat


class ResGroups(models.Model):
    _inherit = "res.groups"

    @api.model
    def _api_monitor_setup_access(self):
        """File the addon's groups under its application and make the administrators managers. Called by
        ``security/api_monitor_groups.xml`` on install and upgrade; the fields involved differ between Odoo
        versions (``compat``)."""
        user = self.env.ref("api_monitor.group_api_monitor_user")
        manager = self.env.ref("api_monitor.group_api_monitor_manager")
        compat.file_groups_under(self.env, user | manager, self.env.ref("api_monitor.module_category_api_monitor"))
        admins = self.env.ref("base.user_root") | self.env.ref("base.user_admin")
        manager.write({compat.GROUP_USERS: [(4, admin.id) for admin in admins]})
