import json
import logging
import os
import time

from odoo import api, fields, models

from ..core.times import to_datetime

_logger = logging.getLogger(__name__)

#: the system parameter holding the installed modules' versions as last seen, to spot installs and upgrades
VERSIONS_PARAM = "api_monitor.module_versions"
#: server starts closer than this to the last one recorded are the same start (each worker loads the registry)
START_DEDUP_SECONDS = 120
#: pg_try_advisory_xact_lock key: the workers of one start record it once
_MARKER_LOCK = 0x6170695F6D61726B  # "api_mark"
KINDS = [("start", "Server started"), ("module", "Module installed or upgraded"),
         ("settings", "Monitoring settings changed"), ("rule", "Alert rule changed")]


class ApiMonitorChange(models.Model):
    """Something that changed, and when: "what changed just before?" for the incidents opened after it.

    Recorded by the addon itself: server starts and module installs and upgrades (compared with the versions
    seen at the previous start, each time the registry loads), and changes to its settings and rules. An
    incident shows those of the hour before its trigger, its chart marks them, and ``/metrics`` exposes the
    time of the newest of each kind for Grafana annotations.
    """

    _name = "api.monitor.change"
    _description = "API Monitoring change marker"
    _order = "at desc, id desc"

    at = fields.Datetime(required=True, readonly=True, index=True, default=fields.Datetime.now)
    kind = fields.Selection(KINDS, required=True, readonly=True)
    summary = fields.Char(required=True, readonly=True)

    @api.model
    def _record(self, kind, summary, at=None):
        return self.sudo().create({"kind": kind, "summary": summary[:250],
                                   "at": to_datetime(at if at is not None else time.time())})

    def _register_hook(self):
        """Each registry load: record a server start (once for all workers) and what modules changed."""
        super()._register_hook()
        try:
            with self.env.cr.savepoint():
                self._note_start_and_modules()
        except Exception:  # noqa: BLE001 - markers are a help, never a reason for Odoo not to start
            _logger.exception("api_monitor: could not record the change markers of this start")

    def _note_start_and_modules(self):
        now = time.time()
        self.env.cr.execute("SELECT pg_try_advisory_xact_lock(%s)", [_MARKER_LOCK])
        if not self.env.cr.fetchone()[0]:
            return  # another worker records this start
        recent = self.search([("kind", "=", "start"), ("at", ">=", to_datetime(now - START_DEDUP_SECONDS))], limit=1)
        if not recent:
            self._record("start", self.env._("Odoo started (process %(pid)s)", pid=os.getpid()), now)
        self.env.cr.execute("SELECT name, latest_version FROM ir_module_module WHERE state = 'installed'")
        versions = dict(self.env.cr.fetchall())
        params = self.env["ir.config_parameter"].sudo()
        seen = json.loads(params.get_param(VERSIONS_PARAM) or "{}")
        if seen:  # the first start after the addon's install has nothing to compare with
            for name in sorted(versions):
                if name not in seen:
                    self._record("module", self.env._("%(module)s installed (%(version)s)", module=name,
                                                      version=versions[name]), now)
                elif seen[name] != versions[name]:
                    self._record("module", self.env._("%(module)s upgraded from %(old)s to %(new)s", module=name,
                                                      old=seen[name], new=versions[name]), now)
        if seen != versions:
            params.set_param(VERSIONS_PARAM, json.dumps(versions, sort_keys=True))
