import json
import threading
import time

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..core import notify
from ..instrumentation import wake
from .api_monitor_alert import to_datetime, to_epoch

PARAM_GIVE_UP_MINUTES = "api_monitor.delivery_give_up_minutes"


class ApiMonitorNotification(models.Model):
    """The outbox: one event for one receiver about one incident, delivered by a cron with retries.

    Rows are written in the evaluator's transaction, so an incident and its notifications exist together or
    not at all. ``payload`` holds the event without any secret; the receiver adds its secret when sending.
    """

    _name = "api.monitor.notification"
    _description = "API Monitoring notification"
    _order = "id desc"
    _rec_name = "action"

    incident_id = fields.Many2one("api.monitor.incident", required=True, ondelete="cascade", index=True, readonly=True)
    receiver_id = fields.Many2one("api.monitor.receiver", required=True, ondelete="cascade", readonly=True)
    receiver_kind = fields.Selection(related="receiver_id.kind")
    action = fields.Selection([(a, a.capitalize()) for a in notify.EVENTS], required=True, readonly=True)
    state = fields.Selection(
        [("pending", "Pending"), ("sent", "Sent"), ("failed", "Refused"), ("gave_up", "Gave up")],
        default="pending", required=True, readonly=True, index=True,
    )
    attempts = fields.Integer(readonly=True)
    first_attempt_at = fields.Datetime(readonly=True)
    next_attempt_at = fields.Datetime(readonly=True, default=fields.Datetime.now, index=True)
    sent_at = fields.Datetime(readonly=True)
    last_status = fields.Integer(string="Last HTTP status", readonly=True)
    last_error = fields.Char(readonly=True)
    response = fields.Text(readonly=True)
    payload = fields.Text(readonly=True)

    @api.model
    def _wake_delivery(self):
        cron = self.env.ref("api_monitor.ir_cron_deliver", raise_if_not_found=False)
        if cron is not None:
            cron.sudo()._trigger()

    @api.model
    def _cron_deliver(self, limit=200):
        """Send what is due, oldest first, one committed transaction per notification (like mail's queue).

        A notification waits while an older one of the same incident and receiver is still pending, so a
        resolve never overtakes its trigger.
        """
        auto_commit = not getattr(threading.current_thread(), "testing", False)
        now = time.time()
        due = self.search([("state", "=", "pending"), ("next_attempt_at", "<=", to_datetime(now))], order="id", limit=limit)
        blocked = set()
        for notification in due:
            lane = (notification.incident_id.id, notification.receiver_id.id)
            if lane in blocked or notification._has_older_pending():
                blocked.add(lane)
                continue
            self.env.cr.execute(
                "SELECT id FROM api_monitor_notification WHERE id = %s AND state = 'pending' FOR UPDATE SKIP LOCKED",
                [notification.id])
            if not self.env.cr.fetchone():
                continue
            notification._deliver(time.time())
            if notification.state == "pending":
                blocked.add(lane)
            if auto_commit:
                self.env.cr.commit()
        self._schedule_next()

    def _has_older_pending(self):
        return bool(self.search_count([
            ("incident_id", "=", self.incident_id.id), ("receiver_id", "=", self.receiver_id.id),
            ("state", "=", "pending"), ("id", "<", self.id)], limit=1))

    def _deliver(self, now):
        """One attempt; the answer is read by ``core.notify.decide``."""
        self.ensure_one()
        event = notify.IncidentEvent(**{**json.loads(self.payload),
                                        "sample_request_ids": tuple(json.loads(self.payload)["sample_request_ids"])})
        first = to_epoch(self.first_attempt_at) or now
        try:
            status, text, retry_after, error = self.receiver_id._post(event)
        except (UserError, ValueError) as exc:  # not configured, or a body PagerDuty would refuse
            status, text, retry_after, error = None, "", None, str(exc)
            decision = notify.Decision(notify.FAILED, reason=str(exc))
        else:
            give_up = float(self.env["ir.config_parameter"].sudo().get_param(PARAM_GIVE_UP_MINUTES, "60")) * 60
            decision = notify.decide(status, error, self.attempts + 1, now, first,
                                     notify.RetryPolicy(give_up_after=give_up), retry_after)
        values = {"attempts": self.attempts + 1, "first_attempt_at": to_datetime(first), "last_status": status or 0,
                  "last_error": decision.reason or False, "response": text or False}
        if decision.outcome == notify.SENT:
            values.update(state="sent", sent_at=to_datetime(now))
        elif decision.outcome == notify.RETRY:
            values.update(next_attempt_at=to_datetime(decision.retry_at))
        else:
            values.update(state=decision.outcome)
        self.write(values)
        if decision.outcome in (notify.FAILED, notify.GAVE_UP):
            self._report_failure(decision)

    def _report_failure(self, decision):
        incident = self.incident_id
        problem = _("%(action)s to %(receiver)s not delivered: %(reason)s",
                    action=self.action, receiver=self.receiver_id.name, reason=decision.reason)
        incident.delivery_problem = problem
        incident.message_post(body=problem)
        if decision.outcome == notify.GAVE_UP:
            managers = self.env.ref("api_monitor.group_api_monitor_manager").users.filtered(lambda u: not u.share)
            for manager in managers:
                incident.activity_schedule(
                    "mail.mail_activity_data_todo", user_id=manager.id,
                    summary=_("Page not delivered to %(receiver)s", receiver=self.receiver_id.name), note=problem)

    @api.model
    def _schedule_next(self):
        """Wake the delivery again when the earliest retry is due."""
        pending = self.search([("state", "=", "pending")], order="next_attempt_at", limit=1)
        if not pending:
            return
        at = to_epoch(pending.next_attempt_at)
        cron = self.env.ref("api_monitor.ir_cron_deliver", raise_if_not_found=False)
        if cron is not None and at > time.time():
            cron.sudo()._trigger(at=pending.next_attempt_at)
            dbname = self.env.cr.dbname
            self.env.cr.postcommit.add(lambda: wake.wake_at(dbname, "deliver", at))
