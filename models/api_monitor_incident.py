import datetime
import logging
import time
import urllib.parse

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..core import alerting, links, notify, silences, storm
from ..core import incident as lifecycle
from ..core.chart import error_ratio_svg
from ..core.rules import SEVERITY_LABELS, Verdict, Window
from ..core.times import iso, to_datetime, to_epoch
from ..storage import store

_logger = logging.getLogger(__name__)

MANAGER = "api_monitor.group_api_monitor_manager"
USER = "api_monitor.group_api_monitor_user"


class ApiMonitorIncident(models.Model):
    """A firing alert the on-call engineer deals with: triggered, acknowledged, resolved.

    One open incident per rule and group; every notification about it shares one ``dedup_key``. Each step
    of its life, and who hears of it, is decided by ``core.incident``.
    """

    _name = "api.monitor.incident"
    _description = "API incident"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "triggered_at desc, id desc"
    # on-call users read incidents without writing them: they still log notes and send messages
    _mail_post_access = "read"

    name = fields.Char(string="Reference", readonly=True, copy=False, default="/")
    rule_id = fields.Many2one("api.monitor.rule", required=True, readonly=True, ondelete="restrict", index=True)
    alert_id = fields.Many2one("api.monitor.alert", readonly=True, ondelete="set null")
    previous_incident_id = fields.Many2one(
        "api.monitor.incident", string="Previous incident", readonly=True, ondelete="set null",
        help="The incident this rule opened before for the same endpoint (one resolved by hand while the error "
             "rate was still high, say).")
    endpoint = fields.Char(readonly=True, required=True)
    endpoint_names = fields.Text(string="Endpoints", readonly=True)
    storm = fields.Boolean(
        readonly=True, help="Many endpoints of the rule fired at once: they share this incident and its one page, "
                            "and the rule's endpoints that fire while it is open join it.")
    severity = fields.Selection(list(SEVERITY_LABELS), required=True, readonly=True, tracking=True)
    state = fields.Selection([(s, s.capitalize()) for s in lifecycle.STATES], default=lifecycle.TRIGGERED,
                             required=True, readonly=True, tracking=True, index=True,
                             group_expand="_expand_states")
    triggered_at = fields.Datetime(readonly=True, required=True)
    acknowledged_at = fields.Datetime(readonly=True)
    acknowledged_by_id = fields.Many2one("res.users", string="Acknowledged by", readonly=True)
    acknowledged_by_name = fields.Char(string="Acknowledged in PagerDuty by", readonly=True)
    resolved_at = fields.Datetime(readonly=True)
    resolved_by_id = fields.Many2one("res.users", string="Resolved by", readonly=True)
    resolution = fields.Selection(
        [("recovered", "The API recovered"), ("manual", "Resolved by hand"), ("pagerduty", "Resolved in PagerDuty")],
        readonly=True,
    )
    current_ratio = fields.Float(string="Error ratio now", digits=(16, 4), readonly=True)
    peak_ratio = fields.Float(string="Peak error ratio", digits=(16, 4), readonly=True)
    window_requests = fields.Integer(string="Requests in window now", readonly=True)
    window_errors = fields.Integer(string="Server errors in window now", readonly=True)
    # the figures that paged, kept for good: the current ones above move on with every evaluation
    trigger_ratio = fields.Float(string="Error ratio at trigger", digits=(16, 4), readonly=True)
    trigger_requests = fields.Integer(string="Requests at trigger", readonly=True)
    trigger_errors = fields.Integer(string="Server errors at trigger", readonly=True)
    # written when the step happens and empty (NULL) until then, so that their averages (MTTA, MTTR) count
    # only the incidents that were acknowledged or resolved
    time_to_acknowledge = fields.Float(
        string="Time to acknowledge (min)", digits=(16, 1), readonly=True, aggregator="avg",
        help="Minutes from the trigger to the acknowledgement; their average is the MTTA.")
    time_to_resolve = fields.Float(
        string="Time to resolve (min)", digits=(16, 1), readonly=True, aggregator="avg",
        help="Minutes from the trigger to the resolution; their average is the MTTR.")
    paged = fields.Boolean(string="Page sent", compute="_compute_paged",
                           help="A receiver confirmed it received this incident's trigger.")
    recovering_note = fields.Char(string="Recovering", compute="_compute_recovering_note")
    breaching = fields.Boolean(compute="_compute_recovering_note",
                               help="The rule still breaches for this incident at its last evaluation.")
    age_label = fields.Char(string="Open for", compute="_compute_age_label")
    detail = fields.Char(readonly=True)
    silence_id = fields.Many2one("api.monitor.silence", string="Silenced by", readonly=True, ondelete="set null",
                                 index="btree_not_null")
    held = fields.Boolean(
        string="Page held back", readonly=True,
        help="A silence holds this incident's page back; it goes out if the silence ends while the rule still fires.")
    dedup_key = fields.Char(readonly=True, copy=False, index=True)
    delivery_problem = fields.Char(readonly=True, help="The last notification that could not be delivered, and why.")
    notification_ids = fields.One2many("api.monitor.notification", "incident_id", readonly=True)
    failure_ids = fields.Many2many("api.monitor.failure", compute="_compute_failures", string="Server errors")
    runbook_url = fields.Char(related="rule_id.runbook_url")
    dashboard_url = fields.Char(compute="_compute_links")
    logs_url = fields.Char(compute="_compute_links")
    chart = fields.Html(compute="_compute_chart", sanitize=False)
    cause_ids = fields.Many2many("api.monitor.cause", compute="_compute_causes", string="Causes")
    change_ids = fields.Many2many(
        "api.monitor.change", compute="_compute_change_ids", string="Changes before",
        help="What changed in the hour before the trigger, and since: server starts, module installs and upgrades, "
             "monitoring settings and rules.")
    causes_summary = fields.Html(compute="_compute_causes", sanitize=False, string="Causes of its server errors")
    ratio_label = fields.Char(compute="_compute_ratio_label", string="Error ratio")

    @api.depends("current_ratio", "peak_ratio", "trigger_ratio", "state")
    def _compute_ratio_label(self):
        for incident in self:
            if incident.state == lifecycle.RESOLVED:
                incident.ratio_label = self.env._(
                    "%(trigger).1f%% at trigger, peak %(peak).1f%%", trigger=100 * incident.trigger_ratio,
                    peak=100 * incident.peak_ratio)
            else:
                incident.ratio_label = self.env._(
                    "%(now).1f%% now, peak %(peak).1f%%", now=100 * incident.current_ratio,
                    peak=100 * incident.peak_ratio)

    def _minutes_since_trigger(self, moment):
        return (moment - self.triggered_at).total_seconds() / 60

    @api.depends("notification_ids.state", "notification_ids.action")
    def _compute_paged(self):
        for incident in self:
            incident.paged = any(n.action == notify.TRIGGER and n.state == "sent" for n in incident.notification_ids)

    @api.depends("state", "alert_id.state", "alert_id.clear_since", "alert_id.incident_id")
    def _compute_recovering_note(self):
        for incident in self:
            alert = incident.alert_id
            live = (incident.state != lifecycle.RESOLVED and alert and alert.incident_id == incident
                    and alert.state == alerting.FIRING)
            incident.breaching = bool(live and not alert.clear_since)
            incident.recovering_note = False
            if live and alert.clear_since:
                resolves = alert.clear_since + datetime.timedelta(minutes=incident.rule_id.keep_firing_minutes)
                incident.recovering_note = self.env._(
                    "Recovering: no breach since %(since)s; resolves by itself at %(at)s unless it breaches again.",
                    since=self._local_time(alert.clear_since), at=self._local_time(resolves))

    def _local_time(self, moment):
        """``moment`` (naive UTC) as HH:MM in the user's time zone."""
        return fields.Datetime.context_timestamp(self, moment).strftime("%H:%M")

    @api.depends("triggered_at", "resolved_at")
    def _compute_age_label(self):
        now = fields.Datetime.now()
        for incident in self:
            if not incident.triggered_at:
                incident.age_label = False
                continue
            minutes = int(((incident.resolved_at or now) - incident.triggered_at).total_seconds() // 60)
            span = (self.env._("%(h)s h %(m)02d min", h=minutes // 60, m=minutes % 60) if minutes >= 60
                    else self.env._("%(m)s min", m=minutes))
            incident.age_label = (self.env._("lasted %(span)s", span=span) if incident.resolved_at
                                  else self.env._("open for %(span)s", span=span))

    @api.model
    def _expand_states(self, states, domain):
        """Kanban columns in lifecycle order, Triggered first; Resolved only when the search shows resolved
        incidents (the default filter shows the open ones)."""
        shown = [lifecycle.TRIGGERED, lifecycle.ACKNOWLEDGED]
        return shown + [lifecycle.RESOLVED] if lifecycle.RESOLVED in states else shown

    # -- display ----------------------------------------------------------------------------------
    def _members(self):
        self.ensure_one()
        return (self.endpoint_names or self.endpoint).splitlines()

    def _span(self):
        """(start, end) epochs the incident covers, its rule's window before it included."""
        self.ensure_one()
        window = self.rule_id.window_minutes if self.rule_id.kind == "threshold" else 60
        start = to_epoch(self.triggered_at) - window * 60
        end = to_epoch(self.resolved_at) if self.resolved_at else time.time()
        return start, end

    @api.depends("endpoint", "endpoint_names", "triggered_at", "resolved_at")
    def _compute_failures(self):
        Failure = self.env["api.monitor.failure"]
        for incident in self:
            if not incident.triggered_at:
                incident.failure_ids = Failure
                continue
            start, end = incident._span()
            incident.failure_ids = Failure.search([
                ("endpoint", "in", incident._members()), ("occurred_at", ">=", to_datetime(start)),
                ("occurred_at", "<=", to_datetime(end + 60)),
            ], limit=50)

    def _causes(self):
        """The causes of this incident's server errors in its span: ``[{cause, count, first, last, request_ids}]``,
        the most frequent first."""
        self.ensure_one()
        start, end = self._span()
        members = self._members()
        found = store.causes(self.env.cr, members, start, end + 60)
        causes = self.env["api.monitor.cause"].search([("fingerprint", "in", [f for f, *_ in found])])
        by_fingerprint = {cause.fingerprint: cause for cause in causes}
        Failure = self.env["api.monitor.failure"]
        rows = []
        for fingerprint, count, first, last in found:
            samples = Failure.search([("fingerprint", "=", fingerprint), ("endpoint", "in", members),
                                      ("occurred_at", ">=", to_datetime(start)),
                                      ("occurred_at", "<=", to_datetime(end + 60))], limit=3)
            rows.append({"cause": by_fingerprint.get(fingerprint, self.env["api.monitor.cause"]),
                         "fingerprint": fingerprint, "count": count, "first": first, "last": last,
                         "request_ids": samples.mapped("request_id")})
        return rows

    @api.depends("endpoint", "endpoint_names", "triggered_at", "resolved_at")
    def _compute_causes(self):
        self.env["api.monitor.failure"].flush_model()
        for incident in self:
            if not incident.triggered_at:
                incident.cause_ids, incident.causes_summary = False, False
                continue
            rows = incident._causes()
            incident.cause_ids = self.env["api.monitor.cause"].union(*(row["cause"] for row in rows))
            incident.causes_summary = incident._causes_table(rows)

    def _causes_table(self, rows):
        if not rows:
            return Markup('<p class="text-muted">%s</p>') % self.env._(
                "No cause recorded for its server errors (they were counted before causes were, or by a gateway).")
        head = Markup("<tr><th>%s</th><th>%s</th><th class='text-end'>%s</th><th>%s</th><th>%s</th><th>%s</th></tr>") % (
            self.env._("Exception"), self.env._("Where"), self.env._("Server errors"), self.env._("First seen"),
            self.env._("Last seen"), self.env._("Sample request ids"))
        body = Markup("").join(
            Markup("<tr><td><a href='/odoo/api-causes/%s'>%s</a></td><td><code>%s</code></td>"
                   "<td class='text-end'>%s</td><td>%s</td><td>%s</td><td><code>%s</code></td></tr>") % (
                row["cause"].id or 0, row["cause"].exception or row["fingerprint"], row["cause"].location or "",
                row["count"],
                self._local_time(to_datetime(row["first"])), self._local_time(to_datetime(row["last"])),
                " ".join(row["request_ids"]))
            for row in rows)
        return Markup('<table class="table table-sm o_api_monitor_causes"><thead>%s</thead><tbody>%s</tbody></table>') % (
            head, body)

    @api.depends("endpoint", "triggered_at", "resolved_at", "rule_id.dashboard_url_template", "rule_id.logs_url_template")
    def _compute_links(self):
        for incident in self:
            values = incident._link_values()
            incident.dashboard_url = links.render(incident.rule_id.dashboard_url_template, values) or False
            incident.logs_url = links.render(incident.rule_id.logs_url_template, values) or False

    def _link_values(self):
        if not self.triggered_at:
            return {}
        start, end = self._span()
        return {"endpoint": self.endpoint, "request_id": self.failure_ids[:1].request_id or "",
                "start": iso(start), "end": iso(end)}

    @api.depends("triggered_at", "resolved_at")
    def _compute_change_ids(self):
        Change = self.env["api.monitor.change"]
        for incident in self:
            if not incident.triggered_at:
                incident.change_ids = Change
                continue
            end = incident.resolved_at or fields.Datetime.now()
            incident.change_ids = Change.search([("at", ">=", incident.triggered_at - datetime.timedelta(hours=1)),
                                                 ("at", "<=", end)], limit=50)

    @api.depends("endpoint", "endpoint_names", "triggered_at", "resolved_at", "change_ids")
    def _compute_chart(self):
        for incident in self:
            if not incident.triggered_at:
                incident.chart = False
                continue
            start, end = incident._span()
            points = store.minute_series(self.env.cr, incident._members(), start - 1800, end + 1800)
            threshold = incident.rule_id.threshold if incident.rule_id.kind == "threshold" else None
            markers = [(to_epoch(c.at), c.summary) for c in incident.change_ids]
            incident.chart = Markup(error_ratio_svg(
                points, to_epoch(incident.triggered_at), to_epoch(incident.resolved_at), threshold, end,
                self.env.context.get("tz") or self.env.user.tz or "UTC", markers))

    # -- lifecycle --------------------------------------------------------------------------------
    @api.model
    def _open(self, alert, verdict, members, now):
        """A rule fired: open the incident and page its receivers."""
        rule = alert.rule_id
        endpoint = alert.group_key if alert.group_key != "*" else self.env._(
            "%(n)s endpoints of %(rule)s", n=len(members), rule=rule.name)
        incident = self.create({
            **self._figures(verdict, trigger=True), "rule_id": rule.id, "alert_id": alert.id, "endpoint": endpoint,
            "previous_incident_id": alert.incident_id.id,
            "endpoint_names": "\n".join(members) if alert.group_key == "*" else False,
            "severity": verdict.severity, "triggered_at": to_datetime(now),
        })
        incident.message_post(body=self.env._("Triggered: %(detail)s.", detail=verdict.detail))
        incident._page(now)
        return incident

    @api.model
    def _open_storm(self, rule, firing, now):
        """More endpoints of ``rule`` than its storm limit fired in one evaluation (``firing``: their
        outcomes): one incident for all of them, paged once."""
        members = sorted(outcome.key for outcome in firing)
        window = sum((outcome.verdict.window for outcome in firing), start=Window())
        verdict = Verdict(True, storm.worst(outcome.verdict.severity for outcome in firing), window.ratio, window,
                          storm.summary(len(members), window))
        incident = self.create({
            **self._figures(verdict, trigger=True), "rule_id": rule.id, "storm": True,
            "endpoint": self._storm_label(len(members), rule), "endpoint_names": "\n".join(members),
            "severity": verdict.severity, "triggered_at": to_datetime(now),
        })
        incident.message_post(body=self.env._(
            "Storm: %(n)s endpoints fired at once, more than the rule's storm limit of %(limit)s. They share this "
            "incident and its one page; endpoints of %(rule)s that fire while it is open join it, and it resolves "
            "when none of them fires any more. %(detail)s.", n=len(members), limit=rule.storm_limit, rule=rule.name,
            detail=verdict.detail))
        incident._page(now)
        return incident

    @api.model
    def _open_storms(self):
        """The open storm incidents, by rule id (one at most per rule)."""
        return {incident.rule_id.id: incident for incident in self.search(
            [("storm", "=", True), ("state", "!=", lifecycle.RESOLVED)], order="id")}

    def _storm_label(self, members, rule):
        return self.env._("Storm: %(n)s endpoints of %(rule)s", n=members, rule=rule.name)

    @api.model
    def _figures(self, verdict, trigger=False):
        figures = {"current_ratio": verdict.ratio or 0.0, "peak_ratio": verdict.ratio or 0.0,
                   "window_requests": verdict.window.requests, "window_errors": verdict.window.errors,
                   "detail": verdict.detail}
        if trigger:
            figures.update(trigger_ratio=verdict.ratio or 0.0, trigger_requests=verdict.window.requests,
                           trigger_errors=verdict.window.errors)
        return figures

    def _page(self, now):
        """Send the trigger of a new incident, unless a silence holds it back."""
        rule = self.rule_id
        step = lifecycle.trigger(self.severity, rule.receiver_ids._lifecycle())
        if self._hold(now):
            return
        self._notify(step)
        if not step.tell and rule.receiver_ids.filtered("active"):
            self.delivery_problem = self.env._(
                "Nobody was told: none of the receivers of %(rule)s is configured for %(severity)s "
                "(set a routing key or a webhook URL in Monitoring > Receivers).", rule=rule.name,
                severity=self.severity)

    def _join(self, alerts):
        """The endpoints of ``alerts`` fired while this storm is open: they join it (no page of their own)."""
        self.ensure_one()
        alerts.incident_id = self
        known = self._members()
        joined = sorted(set(alerts.mapped("group_key")) - set(known))
        if not joined:
            return
        members = sorted(known + joined)
        self.write({"endpoint_names": "\n".join(members), "endpoint": self._storm_label(len(members), self.rule_id)})
        self.message_post(body=self.env._("%(n)s more endpoints fired and joined this storm: %(names)s.",
                                          n=len(joined), names=storm.names(joined)))

    def _storm_evaluated(self, now, updates):
        """After an evaluation of its rule: the storm's figures over the endpoints that still fire, or its
        resolution when none does."""
        self.ensure_one()
        firing, window = updates.storms.pop(self.id, (0, Window()))
        if firing:
            self._observe(Verdict(True, None, window.ratio, window, storm.summary(firing, window)))
        else:
            self._resolve("recovered", now=now)

    @api.model_create_multi
    def create(self, vals_list):
        incidents = super().create(vals_list)
        uuid = (self.env["ir.config_parameter"].sudo().get_param("database.uuid") or "")[:8]
        for incident in incidents:
            incident.name = self.env["ir.sequence"].next_by_code("api.monitor.incident") or f"INC-{incident.id}"
            incident.dedup_key = f"odoo-{uuid}-api_monitor-{incident.id}"
        return incidents

    def _observe(self, verdict):
        """Keep the current and peak ratios and the window counts up to date while the incident is open."""
        ratio = verdict.ratio or 0.0
        values = {"current_ratio": ratio, "window_requests": verdict.window.requests,
                  "window_errors": verdict.window.errors}
        if ratio > self.peak_ratio:
            values["peak_ratio"] = ratio
        if verdict.detail:
            values["detail"] = verdict.detail
        if any(self[key] != value for key, value in values.items()):
            self.write(values)

    def _escalate(self, severity, verdict, now=None, endpoint=""):
        """A more severe tier breaches (on ``endpoint`` of a storm): raise the severity and, unless someone
        already acknowledged or a silence matches it, page."""
        self.severity = severity
        detail = f"{endpoint}: {verdict.detail}" if endpoint else verdict.detail
        self.message_post(body=self.env._("Escalated to %(severity)s: %(detail)s.", severity=severity, detail=detail))
        if self.state == lifecycle.TRIGGERED and self._hold(now or time.time()):
            return
        self.held = False
        self._notify(lifecycle.escalate(self.state, severity, self.rule_id.receiver_ids._lifecycle()))

    # -- silences ---------------------------------------------------------------------------------
    def _hold(self, now):
        """Whether a silence in force matches this incident: if so its page is held back, and it says so."""
        self.ensure_one()
        silence = self.env["api.monitor.silence"]._silencing(self.rule_id, self._members(), self.severity, now)
        if not silence:
            return False
        if not self.held or self.silence_id != silence:
            self.write({"held": True, "silence_id": silence.id})
            self.message_post(body=self.env._(
                "Silenced by %(silence)s (%(reason)s): nobody is told while it is in force; if the rule still "
                "fires when it ends, the page goes out then.", silence=silence.display_name, reason=silence.name))
        return True

    @api.model
    def _release_held(self, now):
        """Page the incidents whose silences ended while their rules still fire (Alertmanager's semantics)."""
        for incident in self.search([("held", "=", True)]):
            try:
                with self.env.cr.savepoint():
                    incident._release(now)
            except Exception:  # noqa: BLE001 - one incident never stops the others, nor the evaluation
                _logger.exception("api_monitor: the held page of incident %s could not be released", incident.id)

    def _release(self, now):
        if self.state != lifecycle.TRIGGERED:
            self.held = False
        elif not self._hold(now):
            self.held = False
            self.message_post(body=self.env._("No silence holds it back any more and the rule still fires: "
                                              "paging now."))
            self._notify(lifecycle.escalate(self.state, self.severity, self.rule_id.receiver_ids._lifecycle()))

    def _silenced_from_here(self, silence):
        """A person silenced this incident's alerts from its form: say so (what is sent already stays sent)."""
        self.write({"silence_id": silence.id})
        self.message_post(body=self.env._("%(who)s silenced its alerts until %(end)s: %(reason)s.",
                                          who=self.env.user.name, reason=silence.name,
                                          end=silence.when_label if silence.kind == "weekly"
                                          else self._local_time(silence.ends_at)))

    def action_silence(self):
        """The "Silence 1 h" button: a silence of this incident's rule and endpoints, from now for an hour, to
        give a reason and save."""
        self.ensure_one()
        self._check_responder()
        pattern = " ".join(self._members())
        try:
            silences.endpoint_globs(pattern)
        except silences.SilenceError:
            pattern = ""  # too many endpoints for one pattern: the rule alone
        now = fields.Datetime.now()
        return {
            "type": "ir.actions.act_window", "res_model": "api.monitor.silence", "view_mode": "form",
            "target": "new", "name": self.env._("Silence %(incident)s", incident=self.name),
            "context": {
                "default_kind": "once", "default_starts_at": fields.Datetime.to_string(now),
                "default_ends_at": fields.Datetime.to_string(now + datetime.timedelta(hours=1)),
                "default_rule_ids": [self.rule_id.id], "default_endpoint_pattern": pattern,
                "api_monitor_silenced_incident_id": self.id,
            },
        }

    def _resolve(self, resolution, by=None, actor="", now=None):
        now = now or time.time()
        origin = lifecycle.IN_PAGERDUTY if resolution == "pagerduty" else lifecycle.IN_ODOO
        labels = dict(self._fields["resolution"].selection)
        for incident in self.filtered(lambda i: i.state != lifecycle.RESOLVED):
            step = lifecycle.resolve(incident.state, incident._paged_receivers()._lifecycle(), origin)
            resolved_at = to_datetime(now)
            incident.write({"state": step.state, "resolution": resolution, "resolved_at": resolved_at, "held": False,
                            "resolved_by_id": by.id if by else False,
                            "time_to_resolve": incident._minutes_since_trigger(resolved_at)})
            # the alert (or a storm's alerts) still firing for it: their episode ends with the incident
            for alert in self.env["api.monitor.alert"].search([("incident_id", "=", incident.id),
                                                               ("state", "=", alerting.FIRING)]):
                alert._store(alerting.resolve_manually(alert._core_state(), now))
            who = actor or (by.name if by else "")
            incident.message_post(body=self.env._("Resolved: %(how)s%(who)s.", how=labels[resolution],
                                                  who=f" ({who})" if who else ""))
            incident._notify(step, actor=who)

    def _acknowledge(self, by=None, actor=""):
        origin = lifecycle.IN_PAGERDUTY if actor else lifecycle.IN_ODOO
        for incident in self.filtered(lambda i: i.state == lifecycle.TRIGGERED):
            step = lifecycle.acknowledge(incident.state, incident._paged_receivers()._lifecycle(), origin)
            acknowledged_at = fields.Datetime.now()
            incident.write({"state": step.state, "acknowledged_at": acknowledged_at, "held": False,
                            "acknowledged_by_id": by.id if by else False, "acknowledged_by_name": actor or False,
                            "time_to_acknowledge": incident._minutes_since_trigger(acknowledged_at)})
            who = actor or (by.name if by else "?")
            incident.message_post(body=self.env._("Acknowledged by %(who)s.", who=who))
            incident._notify(step, actor=actor or (by.name if by else ""))

    @api.model
    def _action_for(self, domain):
        """The Incidents action showing the incidents of ``domain`` (the smart buttons of rules, endpoints,
        silences)."""
        action = self.env["ir.actions.act_window"]._for_xml_id("api_monitor.api_monitor_incident_action")
        action["domain"] = domain
        action["context"] = {}
        return action

    def _paged_receivers(self):
        """The receivers that were sent this incident's trigger (only they hear of its acknowledge and resolve)."""
        return self.notification_ids.filtered(lambda n: n.action == notify.TRIGGER).receiver_id

    def action_acknowledge(self):
        """The Acknowledge button: any API Monitoring user; PagerDuty gets an ``acknowledge`` event."""
        self._check_responder()
        if any(incident.state != lifecycle.TRIGGERED for incident in self):
            raise UserError(self.env._("Only triggered incidents can be acknowledged."))
        self.sudo()._acknowledge(by=self.env.user)
        return True

    def action_resolve(self):
        """The Resolve button: any API Monitoring user; PagerDuty gets a ``resolve`` event."""
        self._check_responder()
        if any(incident.state == lifecycle.RESOLVED for incident in self):
            raise UserError(self.env._("This incident is already resolved."))
        self.sudo()._resolve("manual", by=self.env.user)
        return True

    def _check_responder(self):
        # users read incidents but may not write them directly: the buttons are their only way in
        self.check_access("read")
        if not self.env.user.has_group(USER):
            raise UserError(self.env._("Only API Monitoring users can acknowledge or resolve incidents."))

    def _apply_pagerduty(self, event_type, actor):
        """An acknowledgement or resolution made in PagerDuty (signed webhook): mirror it, tell the others."""
        who = f"PagerDuty: {actor}" if actor else "PagerDuty"
        if event_type == "incident.acknowledged":
            self._acknowledge(actor=who)
        elif event_type == "incident.resolved":
            self._resolve("pagerduty", actor=who)

    # -- notifications ----------------------------------------------------------------------------
    def _event(self, action, actor=""):
        """The :class:`~..core.notify.IncidentEvent` of this incident now (no secret in it)."""
        self.ensure_one()
        base_url = self.get_base_url()
        params = self.env["ir.config_parameter"].sudo()
        return notify.IncidentEvent(
            action=action, reference=self.name, dedup_key=self.dedup_key, rule=self.rule_id.name,
            severity=self.severity, endpoint=self.endpoint, ratio=self.current_ratio,
            requests=self.window_requests, errors=self.window_errors, window=self.rule_id._window_label(),
            threshold=self.rule_id._threshold_label(), detail=self.detail or "",
            started_at=iso(to_epoch(self.triggered_at)),
            source=urllib.parse.urlsplit(params.get_param("web.base.url", base_url)).hostname or "odoo",
            incident_url=f"{base_url}/api_monitor/incident/{self.id}",
            runbook_url=self.runbook_url or "", dashboard_url=self.dashboard_url or "", logs_url=self.logs_url or "",
            sample_request_ids=tuple(self.failure_ids[: notify.event.SAMPLE_IDS_LIMIT].mapped("request_id")),
            actor=actor,
        )

    def _notify(self, step, actor=""):
        """Queue ``step``'s event for its receivers in the outbox, and wake the delivery."""
        self.ensure_one()
        if not step.action or not step.tell:
            return
        payload = self._event(step.action, actor).to_json()
        self.env["api.monitor.notification"].sudo().create([
            {"incident_id": self.id, "receiver_id": receiver_id, "action": step.action, "payload": payload}
            for receiver_id in step.tell
        ])
        self.env["api.monitor.notification"]._wake_delivery()

