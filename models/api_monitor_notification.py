import logging
import queue
import threading
import time

from odoo import api, fields, models
from odoo.modules import module as odoo_module

from .. import compat
from ..core import notify
from ..core.times import to_datetime, to_epoch
from ..storage import store, wake

_logger = logging.getLogger(__name__)
PARAM_GIVE_UP_MINUTES = "api_monitor.delivery_give_up_minutes"
MANAGER = "api_monitor.group_api_monitor_manager"


class ApiMonitorNotification(models.Model):
    """The outbox: one event for one receiver about one incident, delivered by a cron with retries.

    Rows are written in the evaluator's transaction, so an incident and its notifications exist together or
    not at all. ``payload`` holds the event without any secret; the receiver adds its secret when sending.
    What the remote answered and why a delivery failed are for managers' eyes only.
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
    last_attempt_at = fields.Datetime(readonly=True, index="btree_not_null")
    last_status = fields.Integer(string="Last HTTP status", readonly=True)
    last_error = fields.Char(readonly=True, groups=MANAGER)
    response = fields.Text(readonly=True, groups=MANAGER)
    payload = fields.Text(readonly=True)

    @api.model
    def _wake_delivery(self):
        cron = self.env.ref("api_monitor.ir_cron_deliver", raise_if_not_found=False)
        if cron is not None:
            cron.sudo()._trigger()

    @api.model
    def _cron_deliver(self, limit=200):
        """Send what is due and record each answer in its own savepoint and commit (like mail's queue).

        The oldest pending notification of each incident and receiver goes first (a resolve never overtakes
        its trigger). Receivers are sent to side by side, one thread each, so a receiver that hangs or
        fails delays no other; within one receiver, notifications go in order, and one that got no answer
        holds back that receiver's others until the next run. A receiver whose service limits its rate
        (PagerDuty: about 120 events a minute per integration key) is sent no more than its limit allows; the
        rest wait, in order, for the next run, which comes when the limit has room again. Whatever one
        notification does, it is decided on its own, and the others are delivered.
        """
        auto_commit = not odoo_module.current_test  # the tests run in one transaction
        cr = self.env.cr
        now = time.time()
        due = self.search([("state", "=", "pending"), ("next_attempt_at", "<=", to_datetime(now))],
                          order="id", limit=limit)
        started, waiting, by_receiver, room, room_again = set(), set(), {}, {}, []
        for notification in due:
            lane = (notification.incident_id.id, notification.receiver_id.id)
            if lane in waiting:
                continue
            receiver = notification.receiver_id
            if receiver.id not in room:
                room[receiver.id], again = receiver._rate_room(now)
                if again:
                    room_again.append(again)
            if room[receiver.id] <= 0:
                waiting.add(lane)
                continue
            if lane not in started and notification._has_older_pending():  # an older one waits for its retry
                waiting.add(lane)
                continue
            if not store.claim_notification(cr, notification.id):
                waiting.add(lane)
                continue
            started.add(lane)
            room[receiver.id] -= 1
            if room[receiver.id] == 0:
                room_again.append(now + receiver._rate_limit_seconds())
            try:
                outbound, config = notification._prepare()
            except (ValueError, TypeError, KeyError) as exc:  # not configured, a body too big, a payload unread
                notification._record_safely(notify.Answer(None, error=str(exc)), time.time(), refused=True)
                if auto_commit:
                    # each answer is kept for good as soon as it is known, as mail's queue does: a worker that
                    # dies later in this run never sends the same page twice nor forgets one it sent
                    cr.commit()  # pylint: disable=invalid-commit
                continue
            by_receiver.setdefault(notification.receiver_id.id, []).append((notification, lane, outbound, config))
        answers = queue.Queue()
        threads = [threading.Thread(target=_send_in_order, args=(work, answers), daemon=True,
                                    name=f"api_monitor delivery {receiver_id}")
                   for receiver_id, work in by_receiver.items()]
        for thread in threads:
            thread.start()
        for _ in range(sum(len(work) for work in by_receiver.values())):
            notification, answer = answers.get()
            if answer is not None:
                notification._record_safely(answer, time.time())
                if auto_commit:
                    cr.commit()  # pylint: disable=invalid-commit
        for thread in threads:
            thread.join()
        self._schedule_next(min(room_again, default=None))

    def _has_older_pending(self):
        return bool(self.search_count([
            ("incident_id", "=", self.incident_id.id), ("receiver_id", "=", self.receiver_id.id),
            ("state", "=", "pending"), ("id", "<", self.id)], limit=1))

    def _prepare(self):
        """(the request to send, the receiver's config) for this notification."""
        self.ensure_one()
        return self.receiver_id._outbound(notify.IncidentEvent.from_json(self.payload))

    def _record_safely(self, answer, now, refused=False):
        """Record ``answer`` in a savepoint; should that fail, mark the row failed with why, so that one row
        can never block its lane or the run."""
        try:
            with self.env.cr.savepoint():
                self._record(answer, now, refused)
        except Exception as exc:  # noqa: BLE001 - one notification never stops the others
            _logger.exception("api_monitor: the answer to notification %s could not be recorded", self.id)
            try:
                with self.env.cr.savepoint():
                    self.write({"state": notify.FAILED, "attempts": self.attempts + 1,
                                "last_error": f"could not be recorded: {type(exc).__name__}"})
            except Exception:  # noqa: BLE001
                _logger.exception("api_monitor: notification %s could not be marked failed", self.id)

    def _record(self, answer, now, refused=False):
        """One attempt's answer, read by ``core.notify.decide``."""
        self.ensure_one()
        first = to_epoch(self.first_attempt_at) or now
        if refused:
            decision = notify.Decision(notify.FAILED, reason=answer.error or "")
        else:
            give_up = float(self.env["ir.config_parameter"].sudo().get_param(PARAM_GIVE_UP_MINUTES, "60") or 60) * 60
            decision = notify.decide(answer.status, answer.error, self.attempts + 1, now, first,
                                     notify.RetryPolicy(give_up_after=give_up), answer.retry_after)
        values = {"attempts": self.attempts + 1, "first_attempt_at": to_datetime(first), "last_attempt_at": to_datetime(now),
                  "last_status": answer.status or 0, "last_error": decision.reason or False,
                  "response": answer.text or False}
        if decision.outcome == notify.SENT:
            values.update(state="sent", sent_at=to_datetime(now))
        elif decision.outcome == notify.RETRY:
            values.update(next_attempt_at=to_datetime(decision.retry_at))
        else:
            values.update(state=decision.outcome)
        self.sudo().write(values)
        if decision.outcome in (notify.FAILED, notify.GAVE_UP):
            self._report_failure(decision)

    def _report_failure(self, decision):
        incident = self.incident_id
        problem = self.env._("%(action)s to %(receiver)s not delivered: %(reason)s",
                             action=self.action, receiver=self.receiver_id.name, reason=decision.reason)
        incident.delivery_problem = problem
        incident.message_post(body=problem)
        if decision.outcome == notify.GAVE_UP:
            managers = compat.group_users(self.env.ref("api_monitor.group_api_monitor_manager")).filtered(
                lambda u: not u.share)
            for manager in managers:
                incident.activity_schedule(
                    "mail.mail_activity_data_todo", user_id=manager.id,
                    summary=self.env._("Page not delivered to %(receiver)s", receiver=self.receiver_id.name),
                    note=problem)

    @api.model
    def _schedule_next(self, room_again=None):
        """Wake the delivery again when the earliest retry is due, or when a rate limit that held some back
        has room again (``room_again``)."""
        pending = self.search([("state", "=", "pending")], order="next_attempt_at", limit=1)
        if not pending:
            return
        at = to_epoch(pending.next_attempt_at)
        if room_again is not None:
            at = max(at, room_again) if at <= time.time() else min(at, room_again)
        cron = self.env.ref("api_monitor.ir_cron_deliver", raise_if_not_found=False)
        if cron is not None and at > time.time():
            cron.sudo()._trigger(at=to_datetime(at))
            dbname = self.env.cr.dbname
            self.env.cr.postcommit.add(lambda: wake.wake_at(dbname, "deliver", at))


def _send_in_order(work, answers):
    """One receiver's notifications, in order, on a thread of its own (HTTP only, no database). One that was
    not accepted holds back the later ones of its lane (a resolve never overtakes its trigger); after an
    attempt that got no answer at all, every other waits for the next run: a hanging receiver costs one
    timeout a run."""
    stalled, held = False, set()
    for notification, lane, outbound, config in work:
        if stalled or lane in held:
            answers.put((notification, None))
            continue
        try:
            answer = notify.send(outbound, config.timeout, config.secrets)
        except Exception as exc:  # noqa: BLE001 - send never raises; should it, the run still ends
            answer = notify.Answer(None, error=f"could not be sent: {type(exc).__name__}")
        stalled = answer.status is None
        if not (answer.status is not None and 200 <= answer.status < 300):
            held.add(lane)
        answers.put((notification, answer))
