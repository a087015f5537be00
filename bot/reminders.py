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
from domain.model import Role
from domain.reminder_service import DueReminder, ReminderService
from domain.reminders import LogStatus, ReminderKind, ReminderSettings, Verdict, days_left
from domain.services import Busy
from domain.zones import zone

from .callbacks import View
from .common import deps
from .keyboards import action_button
from .notify import notify
from .texts import e, fmt_date, money
from .turn import Priority, background_turn

log = logging.getLogger(__name__)
# Reminders checked and queued at once (database work only: the sender paces the sends).
SEND_CONCURRENCY = 4
SWEEP_BATCH = 100


def reminder_settings(app: Application) -> ReminderSettings:
    s = app.bot_data["deps"].settings
    return ReminderSettings(reminder_hour=s.reminder_hour, default_timezone=s.default_timezone)


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


def plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def render(due: DueReminder, settings: ReminderSettings, now) -> tuple[str, InlineKeyboardMarkup]:
    s, r = due.subject, due.reminder
    assert s is not None and r is not None  # filled in by ReminderService.take when it says SEND
    rcp = next(x for x in s.recipients if x.user_id == r.recipient_id)
    tz = zone(rcp.timezone, settings.default_timezone)
    title, contract = f"«{e(s.title)}»", f"«{e(s.contract_title)}»"
    amount = money(s.amount, s.currency)
    open_btn = [Btn("Open contract", callback_data=View(s.contract_id).encode())]
    rows: list[list[Btn]] = []
    left = days_left(s, tz, now)
    if r.kind is ReminderKind.DUE_SOON:
        text = f"⏰ {title} ({amount}) in {contract} is due in {plural(left, 'day')}, on {fmt_date(s.due_date)}."
    elif r.kind is ReminderKind.DUE_TODAY:
        text = f"⏰ {title} ({amount}) in {contract} is due today, {fmt_date(s.due_date)}."
    elif r.kind is ReminderKind.OVERDUE:
        text = (
            f"⚠️ {title} ({amount}) in {contract} is {plural(-left, 'day')} overdue: it was due on "
            f"{fmt_date(s.due_date)}."
        )
    elif r.kind is ReminderKind.REVIEW_WAITING:
        assert s.submitted_at is not None  # a review reminder is only planned for submitted work
        release_at = s.submitted_at + timedelta(days=s.review_days)
        days = max(1, -(-int((release_at - now).total_seconds()) // 86400))
        text = (
            f"⏳ Work on {title} ({amount}) in {contract} waits for your review. Unless you approve or "
            f"request changes, it is released automatically in {plural(days, 'day')} "
            f"({release_at.astimezone(tz).strftime('%d %b %Y %H:%M')} your time)."
        )
        rows = [
            [action_button(Action.APPROVE, s.milestone_id, s.title)],
            [action_button(Action.REQUEST_CHANGES, s.milestone_id, s.title)],
        ]
    else:  # NEXT_WAITING
        text = (
            f"{title} in {contract} was released {plural(r.days, 'day')} ago. The next milestone "
            f"«{e(s.next_unfunded_title)}» is waiting to be activated and funded."
        )
        if s.next_unfunded_id:
            rows = [[action_button(Action.ACTIVATE, s.next_unfunded_id, s.next_unfunded_title)]]
    if r.kind in (ReminderKind.DUE_SOON, ReminderKind.DUE_TODAY, ReminderKind.OVERDUE) and rcp.role is Role.FREELANCER:
        rows = [[action_button(Action.SUBMIT, s.milestone_id, s.title)]]
    return text, InlineKeyboardMarkup(rows + [open_btn])


async def sweep_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await run_sweep(context)


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
        if item.kind == ReminderKind.AUTO_RELEASE:
            try:
                outcome = await d.svc.auto_release(item.milestone_id, now)
            except Busy:
                return "retry"  # still planned and due: the next sweep tries again
            except DomainError:
                await service.finished([item.log_id], LogStatus.SKIPPED, now)  # approved or changed meanwhile
                return "skipped"
            except Exception:
                log.exception("automatic release of milestone %s failed; retrying at the next sweep", item.milestone_id)
                return "retry"
            await service.finished([item.log_id], LogStatus.SENT, now)
            turn.priority = Priority.NEWS
            await notify(context, outcome)
            return "released"
        text, markup = render(item, service.settings, now)
        await context.bot.send_message(item.recipient_id, text, reply_markup=markup)
        await service.finished([item.log_id], LogStatus.SENT, now)
        return "sent"
