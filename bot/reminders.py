"""The reminder sweep job: claims due reminders, sends them with their buttons, runs automatic releases."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from telegram import InlineKeyboardButton as Btn
from telegram import InlineKeyboardMarkup
from telegram.ext import Application, ContextTypes

from domain.actions import Action
from domain.errors import DomainError
from domain.model import Contract, Role
from domain.reminder_service import DueReminder, ReminderService
from domain.reminders import LogStatus, Recipient, ReminderKind, ReminderSettings, Verdict, days_left
from domain.services import Busy
from domain.zones import zone

from .callbacks import OpenCard
from .common import deps
from .i18n import _, ngettext, pick, speaking
from .keyboards import action_rows
from .notify import notify
from .texts import e, fmt_date, fmt_time, money
from .turn import Priority, background_turn

log = logging.getLogger(__name__)
# Reminders checked and queued at once (database work only: the sender paces the sends).
SEND_CONCURRENCY = 4
SWEEP_BATCH = 100


def reminder_settings(app: Application) -> ReminderSettings:
    s = app.bot_data["deps"].settings
    return ReminderSettings(
        reminder_hour=s.reminder_hour,
        default_timezone=s.default_timezone,
        dispute_days=s.dispute_days,
        escalate_disputes=bool(s.operators),
    )


def install(app: Application) -> ReminderService:
    d = app.bot_data["deps"]
    # A sweep reads at most this many due reminders, then sends them before it looks again.
    service = ReminderService(d.svc.uow_factory, reminder_settings(app), batch=SWEEP_BATCH)
    d.extra["reminders"] = service
    # One repeating sweep; a late run still runs (misfire_grace_time=None) and missed runs collapse to one.
    app.job_queue.run_repeating(
        sweep_job,
        interval=d.settings.reminder_sweep_seconds,
        first=1.0,
        name="reminder-sweep",
        job_kwargs={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )
    return service


def days(n: int) -> str:
    return ngettext("{n} day", "{n} days", n).format(n=n)


# Of what the domain allows the recipient now, what each reminder offers: the actions that help with it.
REMINDER_ACTIONS: dict[ReminderKind, tuple[Action, ...]] = {
    ReminderKind.DUE_SOON: (
        Action.SUBMIT,
        Action.PROPOSE_DUE_DATE,
        Action.ACCEPT_REFUND,
        Action.DECLINE_REFUND,
        Action.REQUEST_REFUND,
    ),
    ReminderKind.DUE_TODAY: (Action.SUBMIT, Action.ACCEPT_REFUND, Action.DECLINE_REFUND, Action.REQUEST_REFUND),
    ReminderKind.OVERDUE: (
        Action.SUBMIT,
        Action.PROPOSE_DUE_DATE,
        Action.ACCEPT_REFUND,
        Action.DECLINE_REFUND,
        Action.REFUND,
        Action.REQUEST_REFUND,
    ),
    ReminderKind.REVIEW_WAITING: (Action.APPROVE, Action.REQUEST_CHANGES),
    ReminderKind.NEXT_WAITING: (Action.ACTIVATE,),
    ReminderKind.DATE_WAITING: (Action.ACCEPT_DUE_DATE, Action.DECLINE_DUE_DATE),
    ReminderKind.OFFER_WAITING: (Action.ACCEPT_OFFER, Action.COUNTER_OFFER),
    ReminderKind.DISPUTE_DEADLINE: (Action.ACCEPT_OFFER, Action.COUNTER_OFFER, Action.OFFER_SETTLEMENT),
}


def reminder_rows(
    contract: Contract | None, kind: ReminderKind, recipient_id: int, milestone_id: int | None, role: Role
) -> list[list[Btn]]:
    """The buttons of a reminder about `milestone_id`: the domain's allowed actions, those that help."""
    if contract is None or milestone_id is None:
        return []
    wanted = REMINDER_ACTIONS.get(kind, ())
    allowed = [
        a
        for a in contract.allowed_actions(recipient_id)
        if a.action in wanted and a.milestone is not None and a.milestone.id == milestone_id
    ]
    return action_rows(contract, allowed, role, card=False)


def render(
    due: DueReminder, settings: ReminderSettings, now, contract: Contract | None = None
) -> tuple[str, InlineKeyboardMarkup]:
    """The reminder's text and buttons; `contract` (as it is now) gives the buttons and the next
    milestone's facts."""
    s, r = due.subject, due.reminder
    assert s is not None and r is not None  # filled in by ReminderService.take when it says SEND
    rcp = next(x for x in s.recipients if x.user_id == r.recipient_id)
    with speaking(pick(rcp.language)):  # PRODUCT §9: in the recipient's language
        return _render(due, settings, now, contract, rcp)


def _render(
    due: DueReminder, settings: ReminderSettings, now, contract: Contract | None, rcp: Recipient
) -> tuple[str, InlineKeyboardMarkup]:
    s, r = due.subject, due.reminder
    assert s is not None and r is not None
    tz = zone(rcp.timezone, settings.default_timezone)
    title, contract_title = f"«{e(s.title)}»", f"«{e(s.contract_title)}»"
    amount = money(s.amount, s.currency)
    # the reminder stays
    open_btn = [Btn(_("Open contract"), callback_data=OpenCard(s.contract_id).encode())]
    left = days_left(s, tz, now)
    facts = {"title": title, "amount": amount, "contract": contract_title}
    if r.kind is ReminderKind.DUE_SOON:
        text = _("⏰ {title} ({amount}) in {contract} is due in {days}, on {due}.").format(
            **facts, days=days(left), due=fmt_date(s.due_date)
        )
    elif r.kind is ReminderKind.DUE_TODAY:
        text = _("⏰ {title} ({amount}) in {contract} is due today, {due}.").format(**facts, due=fmt_date(s.due_date))
    elif r.kind is ReminderKind.OVERDUE:
        text = _("⚠️ {title} ({amount}) in {contract} is {days} overdue: it was due on {due}.").format(
            **facts, days=days(-left), due=fmt_date(s.due_date)
        )
    elif r.kind is ReminderKind.REVIEW_WAITING:
        assert s.submitted_at is not None  # a review reminder is only planned for submitted work
        release_at = s.submitted_at + timedelta(days=s.review_days)
        n = max(1, -(-int((release_at - now).total_seconds()) // 86400))
        text = _(
            "⏳ Work on {title} ({amount}) in {contract} waits for your review. Unless you approve or "
            "request changes, it is released automatically in {days}, on {at}."
        ).format(**facts, days=days(n), at=fmt_time(release_at, tz))
    elif r.kind is ReminderKind.DATE_WAITING:
        ms = _milestone(contract, s.milestone_id)
        if ms is not None and ms.due_change_to:
            text = _(
                "📅 A new due date for {title} in {contract} to {new} waits for your answer (now due {due})."
            ).format(**facts, new=fmt_date(ms.due_change_to), due=fmt_date(s.due_date))
        else:
            text = _("📅 A new due date for {title} in {contract} waits for your answer (now due {due}).").format(
                **facts, due=fmt_date(s.due_date)
            )
    elif r.kind is ReminderKind.OFFER_WAITING:
        text = _("⚖️ A settlement offer for {title} ({amount} held) in {contract} waits for your answer.").format(
            **facts
        )
    elif r.kind is ReminderKind.DISPUTE_DEADLINE:
        if r.days > 0:
            text = _(
                "⚖️ The dispute about {title} ({amount} held) in {contract} goes to an operator in "
                "{days} unless you agree on a split first."
            ).format(**facts, days=days(r.days))
        else:
            text = _(
                "⚖️ The dispute about {title} ({amount} held) in {contract} is still open after "
                "{days}: the money stays held until you agree on a split."
            ).format(**facts, days=days(-r.days * settings.dispute_days))
    else:  # NEXT_WAITING
        nxt = next((m for m in contract.milestones if m.id == s.next_unfunded_id), None) if contract else None
        released = {"title": title, "contract": contract_title, "days": days(r.days), "next": e(s.next_unfunded_title)}
        if nxt is not None:
            text = _(
                "⏭️ {title} in {contract} was released {days} ago. The next milestone «{next}» ({amount}, due "
                "{due}) is waiting to be activated and funded."
            ).format(**released, amount=money(nxt.amount, s.currency), due=fmt_date(nxt.due_date))
        else:
            text = _(
                "⏭️ {title} in {contract} was released {days} ago. The next milestone «{next}» is waiting to "
                "be activated and funded."
            ).format(**released)
    about = s.next_unfunded_id if r.kind is ReminderKind.NEXT_WAITING else s.milestone_id
    rows = reminder_rows(contract, r.kind, r.recipient_id, about, rcp.role)
    return text, InlineKeyboardMarkup(rows + [open_btn])


def _milestone(contract: Contract | None, milestone_id: int):
    return next((m for m in contract.milestones if m.id == milestone_id), None) if contract else None


async def sweep_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    try:
        await run_sweep(context)
    except asyncio.CancelledError:
        # The scheduler shuts down (SIGTERM) while a sweep runs: its transaction is rolled back and the
        # next process sweeps again; the job just ends (no traceback in the log for a clean stop).
        log.info("reminder sweep stopped by the shutdown; the next start sweeps again")


async def run_sweep(context: ContextTypes.DEFAULT_TYPE) -> dict[str, int]:
    """Sweep until nothing more is due now; return counts (for logs, tests and benchmarks)."""
    d = deps(context)
    service: ReminderService = d.extra["reminders"]
    counts = {"sent": 0, "failed": 0, "retry": 0, "released": 0, "skipped": 0, "waiting": 0, "gone": 0}
    while not context.application.bot_data.get("stopping"):
        now = d.clock()
        due = await service.sweep(now)
        if not due:
            return counts
        semaphore = asyncio.Semaphore(SEND_CONCURRENCY)

        async def one(item: DueReminder, semaphore=semaphore) -> str:
            async with semaphore:
                return await deliver(context, service, item)

        outcomes = await asyncio.gather(*(one(item) for item in due))
        for outcome in outcomes:
            counts[outcome] += 1
        if len(due) < service.batch or all(o == "retry" for o in outcomes):
            return counts  # drained, or every release is busy: try again at the next sweep
    return counts


async def deliver(context: ContextTypes.DEFAULT_TYPE, service: ReminderService, item: DueReminder) -> str:
    """Deliver one due reminder (`deliver_one`), and tell the operator what became of it: one INFO line of
    ids, kind and decision (with the reason for a skip or a hold), no personal text."""
    outcome = await deliver_one(context, service, item)
    log.info(
        "reminder log=%s kind=%s milestone=%s recipient=%s decision=%s%s",
        item.log_id,
        item.kind,
        item.milestone_id,
        item.recipient_id,
        outcome,
        f" reason={item.reason}" if item.reason and outcome in ("skipped", "waiting") else "",
    )
    return outcome


async def deliver_one(context: ContextTypes.DEFAULT_TYPE, service: ReminderService, item: DueReminder) -> str:
    """Check the reminder against the milestone as it is now, and either queue it for the sender or run
    the automatic release with its news: the reminder marked sent and its message (or the release and
    its news) commit together, so a crash can neither lose nor repeat it."""
    d = deps(context)
    now = d.clock()
    sender = context.application.bot_data["sender"]
    async with background_turn(context.application.bot_data["sessions"], Priority.REMINDER, sender.kick) as turn:
        verdict = await service.take(item, now)
        if verdict is Verdict.WAIT:
            return "waiting"  # held until the recipient's quiet hours end
        if verdict is Verdict.SKIP:
            return "skipped"  # no longer true, superseded, or the recipient blocked the bot
        if verdict is Verdict.GONE:
            return "gone"  # taken by another process or re-planned meanwhile
        if item.kind == ReminderKind.DISPUTE_ESCALATE:  # PRODUCT §8: the bot sends it to the operators
            try:
                outcome = await d.svc.escalate_dispute(item.milestone_id, now, service.settings.dispute_days)
            except Busy:
                return "retry"
            except DomainError:
                await service.finished([item.log_id], LogStatus.SKIPPED, now)  # settled meanwhile
                item.reason = "changed_meanwhile"
                return "skipped"
            await service.finished([item.log_id], LogStatus.SENT, now)
            turn.priority = Priority.NEWS
            await notify(context, outcome)
            from .disputes import tell_operators  # here: bot/disputes imports the handlers, which import this

            await tell_operators(context, outcome)
            return "released"
        if item.kind == ReminderKind.AUTO_RELEASE:
            try:
                outcome = await d.svc.auto_release(item.milestone_id, now)
            except Busy:
                return "retry"  # still planned and due: the next sweep tries again
            except DomainError:
                await service.finished([item.log_id], LogStatus.SKIPPED, now)  # approved or changed meanwhile
                item.reason = "changed_meanwhile"
                return "skipped"
            except Exception:
                log.exception("automatic release of milestone %s failed; retrying at the next sweep", item.milestone_id)
                return "retry"
            await service.finished([item.log_id], LogStatus.SENT, now)
            turn.priority = Priority.NEWS
            await notify(context, outcome)
            return "released"
        assert item.subject is not None  # filled in by take when it says SEND
        contract = await d.svc.peek(item.subject.contract_id)  # for the buttons the domain allows now
        text, markup = render(item, service.settings, now, contract)
        await context.bot.send_message(item.recipient_id, text, reply_markup=markup)
        await service.finished([item.log_id], LogStatus.SENT, now)
        return "sent"
