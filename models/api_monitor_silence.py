import datetime
import json
import logging
import time

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..core import silences
from ..core.times import to_epoch

_logger = logging.getLogger(__name__)

MANAGER = "api_monitor.group_api_monitor_manager"
DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: the longest one-off silence a monitoring user may set; longer ones, weekly windows and silences of
#: everything are a manager's call
USER_LIMIT_HOURS = 24


def _tz_get(self):
    return self.env["res.partner"]._fields["tz"]._description_selection(self.env)


class ApiMonitorSilence(models.Model):
    """A silence or maintenance window: incidents it matches still open, and nobody is told while it is in force.

    Whether it is in force and what it matches is ``core.silences``; the incidents it held back page when it
    ends while they still fire (``api.monitor.incident._release_held``, run by the evaluator).
    """

    _name = "api.monitor.silence"
    _description = "API Monitoring silence"
    _inherit = ["mail.thread"]
    _order = "active desc, id desc"

    name = fields.Char(string="Reason", required=True, tracking=True,
                       help="Why nobody should be paged: a deployment, a planned database upgrade, an incident "
                            "being worked on.")
    active = fields.Boolean(default=True, tracking=True)
    kind = fields.Selection([("once", "Once"), ("weekly", "Every week")], string="Recurrence", required=True,
                            default="once", tracking=True)
    starts_at = fields.Datetime(string="Starts", default=fields.Datetime.now, tracking=True)
    ends_at = fields.Datetime(string="Ends", default=lambda self: fields.Datetime.now() + datetime.timedelta(hours=1),
                              tracking=True)
    monday = fields.Boolean()
    tuesday = fields.Boolean()
    wednesday = fields.Boolean()
    thursday = fields.Boolean()
    friday = fields.Boolean()
    saturday = fields.Boolean()
    sunday = fields.Boolean()
    time_from = fields.Float(string="From", default=22.0, tracking=True,
                             help="Local time in the silence's time zone; an end before the start runs past midnight "
                                  "into the next day.")
    time_to = fields.Float(string="To", default=2.0, tracking=True)
    tz = fields.Selection(_tz_get, string="Time zone", default=lambda self: self.env.user.tz or "UTC", tracking=True)
    rule_ids = fields.Many2many("api.monitor.rule", string="Rules", tracking=True,
                                help="Incidents of these rules; none chosen: of any rule.")
    endpoint_pattern = fields.Char(
        string="Endpoints", tracking=True,
        help="Endpoint names or globs separated by spaces (* stands for any characters); empty: any endpoint. An "
             "incident grouped over several endpoints is silenced only when every one of them matches.")
    severity_p1 = fields.Boolean(string="P1")
    severity_p2 = fields.Boolean(string="P2")
    severity_p3 = fields.Boolean(string="P3")
    severity_p4 = fields.Boolean(string="P4")
    incident_ids = fields.One2many("api.monitor.incident", "silence_id", string="Incidents silenced", readonly=True)
    incident_count = fields.Integer(compute="_compute_incident_count")
    status = fields.Selection([("active", "In force"), ("scheduled", "Scheduled"), ("expired", "Expired")],
                              compute="_compute_status", search="_search_status")
    when_label = fields.Char(string="When", compute="_compute_labels")
    matches_label = fields.Char(string="Matches", compute="_compute_labels")

    # -- the silence as core sees it --------------------------------------------------------------
    def _weekdays(self):
        return {number for number, day in enumerate(DAYS) if self[day]}

    def _severities(self):
        return [s for s in ("P1", "P2", "P3", "P4") if self[f"severity_{s.lower()}"]]

    def _core(self):
        """The :class:`~..core.silences.Silence`; raises :class:`~..core.silences.SilenceError` with what to fix."""
        self.ensure_one()
        weekly = starts = ends = None
        if self.kind == "weekly":
            weekly = silences.weekly(self._weekdays(), self.time_from, self.time_to, self.tz or "UTC")
        else:
            starts, ends = silences.once(to_epoch(self.starts_at), to_epoch(self.ends_at))
        rules = self.with_context(active_test=False).rule_ids  # an archived rule is still the one it silences
        return silences.Silence(self.id, starts, ends, weekly, frozenset(rules.ids),
                                silences.endpoint_globs(self.endpoint_pattern), silences.severities(self._severities()))

    @api.constrains("kind", "starts_at", "ends_at", "monday", "tuesday", "wednesday", "thursday", "friday",
                    "saturday", "sunday", "time_from", "time_to", "tz", "endpoint_pattern", "rule_ids",
                    "severity_p1", "severity_p2", "severity_p3", "severity_p4")
    def _check_silence(self):
        # the user's own rights, not the superuser mode Odoo 19 runs constraints in
        manager = self.env.user._is_superuser() or self.env.user.has_group(MANAGER)
        for silence in self:
            try:
                core = silence._core()
            except silences.SilenceError as exc:
                raise ValidationError(str(exc)) from None
            if manager:
                continue
            if core.weekly is not None:
                raise ValidationError(self.env._(
                    "Weekly maintenance windows are set by API Monitoring managers: ask one, or silence once."))
            if core.ends - core.starts > USER_LIMIT_HOURS * 3600:
                raise ValidationError(self.env._(
                    "A silence longer than %(hours)s hours is set by API Monitoring managers: shorten it, or ask "
                    "one.", hours=USER_LIMIT_HOURS))
            if not (core.rule_ids or core.globs or core.severities):
                raise ValidationError(self.env._(
                    "This silence would hold back every page: choose a rule, endpoints or severities (silencing "
                    "everything is set by API Monitoring managers)."))

    # -- display ----------------------------------------------------------------------------------
    @api.depends("incident_ids")
    def _compute_incident_count(self):
        for silence in self:
            silence.incident_count = len(silence.incident_ids)

    @api.depends("active", "kind", "starts_at", "ends_at", "monday", "tuesday", "wednesday", "thursday", "friday",
                 "saturday", "sunday", "time_from", "time_to", "tz")
    def _compute_status(self):
        now = time.time()
        for silence in self:
            silence.status = silence._status(now)

    def _status(self, now):
        if not self.active:
            return "expired"
        try:
            core = self._core()
        except silences.SilenceError:
            return "expired"
        if core.in_force(now):
            return "active"
        return "scheduled" if core.weekly is not None or core.starts > now else "expired"

    def _search_status(self, operator, value):
        if operator not in ("=", "!=", "in", "not in"):
            raise UserError(self.env._("Search silences by status with 'is' or 'is not'."))
        wanted = {value} if isinstance(value, str) else set(value or ())
        now = time.time()
        ids = [s.id for s in self.with_context(active_test=False).search([]) if s._status(now) in wanted]
        return [("id", "in" if operator in ("=", "in") else "not in", ids)]

    @api.depends("kind", "starts_at", "ends_at", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                 "sunday", "time_from", "time_to", "tz", "rule_ids", "endpoint_pattern", "severity_p1", "severity_p2",
                 "severity_p3", "severity_p4")
    def _compute_labels(self):
        labels = dict(self._fields["kind"].selection)
        for silence in self:
            if silence.kind == "weekly":
                days = ", ".join(day[:3].capitalize() for day in DAYS if silence[day]) or "-"
                silence.when_label = self.env._("%(days)s %(start)s-%(end)s (%(tz)s)", days=days,
                                                 start=_clock(silence.time_from), end=_clock(silence.time_to),
                                                 tz=silence.tz or "UTC")
            elif silence.starts_at and silence.ends_at:
                silence.when_label = self.env._(
                    "%(start)s to %(end)s", start=silence._local(silence.starts_at), end=silence._local(silence.ends_at))
            else:
                silence.when_label = labels.get(silence.kind, "")
            parts = []
            if silence.rule_ids:
                parts.append(", ".join(silence.rule_ids.mapped("name")))
            if silence.endpoint_pattern:
                parts.append(silence.endpoint_pattern)
            if silence._severities():
                parts.append(" ".join(silence._severities()))
            silence.matches_label = "; ".join(parts) or self.env._("Every incident")

    def _local(self, moment):
        return fields.Datetime.context_timestamp(self, moment).strftime("%Y-%m-%d %H:%M")

    # -- life -------------------------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        records._wake_at_end()
        incident_id = self.env.context.get("api_monitor_silenced_incident_id")
        if incident_id:
            incident = self.env["api.monitor.incident"].browse(incident_id).exists()
            incident.check_access("read")
            for silence in records:
                incident.sudo()._silenced_from_here(silence)
        return records

    def write(self, vals):
        result = super().write(vals)
        self._wake_at_end()
        return result

    def _wake_at_end(self):
        """The evaluator runs when a one-off silence ends, so what it held back pages at once if still firing."""
        now = time.time()
        ends = [to_epoch(s.ends_at) for s in self if s.active and s.kind == "once" and s.ends_at]
        ends = [end for end in ends if end > now]
        if ends:
            self.env["api.monitor.alert"]._wake_evaluator_at(min(ends))

    def action_expire(self):
        """End the silence now; what it held back and still fires pages at the next evaluation (at once)."""
        now = fields.Datetime.now()
        for silence in self:
            if silence.kind == "once" and silence.starts_at and silence.starts_at < now < silence.ends_at:
                silence.ends_at = now
            silence.active = False
        self.env["api.monitor.alert"]._wake_evaluator_at(time.time())
        return True

    def action_view_incidents(self):
        self.ensure_one()
        return self.env["api.monitor.incident"]._action_for([("silence_id", "=", self.id)])

    @api.model
    def _rules_deleted(self, silences_of_rules):
        """Rules are being deleted: a silence left without any of its rules would silence every rule, so it ends."""
        for silence in silences_of_rules.exists().filtered("active"):
            if not silence.with_context(active_test=False).rule_ids:
                silence.active = False
                silence.message_post(body=self.env._("Ended: the rules it silenced were deleted."))

    # -- matching ---------------------------------------------------------------------------------
    @api.model
    def _silencing(self, rule, endpoints, severity, now):
        """The silence in force at ``now`` that matches an incident of ``rule``; empty when it may page.

        A silence forced into the database past the form's checks is logged and left out: one bad silence
        never holds back a page it was not written for.
        """
        found = []
        for silence in self.sudo().search([]):
            try:
                found.append(silence._core())
            except silences.SilenceError as exc:
                _logger.error("api_monitor: silence %s is left out: %s", silence.id, exc)
        match = silences.silencing(found, rule.id, list(endpoints), severity, now)
        return self.browse(match.id) if match else self.browse()

    # -- Alertmanager ---------------------------------------------------------------------------
    @api.model
    def _alertmanager(self, now=None):
        """(one-off silences as ``amtool silence import`` takes them, weekly windows as mute windows) of the
        active silences that are in force or to come."""
        now = time.time() if now is None else now
        one_off, windows = [], []
        for silence in self.search([]):
            try:
                core = silence._core()
            except silences.SilenceError:
                continue
            found = silences.matchers(silence.rule_ids.mapped("name"), core.globs, core.severities)
            if core.weekly is not None:
                windows.append(silences.MuteWindow(f"api-monitor-silence-{silence.id}",
                                                   tuple(silences.route_matchers(found)),
                                                   tuple(silences.time_intervals(core.weekly))))
            elif core.ends > now:
                one_off.append(silences.silence_json(found, core.starts, core.ends,
                                                     f"{silence.create_uid.name} (Odoo)", silence.name))
        return json.dumps(one_off, indent=2, ensure_ascii=False) + "\n", tuple(windows)


def _clock(hours):
    minutes = int(round((hours or 0.0) * 60))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
