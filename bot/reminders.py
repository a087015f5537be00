"""The reminder sweep job: claims due reminders, sends them with their buttons, runs automatic releases."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import timedelta

from telegram import InlineKeyboardButton as Btn
from telegram import InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ContextTypes

from domain.actions import Action
from domain.errors import DomainError
from domain.model import Role
from domain.reminder_service import DueReminder, ReminderService
from domain.reminders import LogStatus, ReminderKind, ReminderSettings, Verdict, days_left
from domain.services import Busy
from domain.zones import zone

from .callbacks import View
from .common import deps, mark_blocked
from .flood import FloodAwareRateLimiter, retry_seconds
from .keyboards import action_button
from .notify import notify
from .texts import e, fmt_date, money

log = logging.getLogger(__name__)
# Reminders in flight at once. Few: a crash can only leave these few unconfirmed (not resent, at most
# once), while the rate limiter, not this, sets the pace (30/s overall).
SEND_CONCURRENCY = 4
SWEEP_BATCH = 100
PACE_SHARE = 0.98  # of the overall rate, leaving room for people's own taps


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


class Pacer:
    """Sends evenly spaced on an absolute schedule (no drift from timer jitter) and never more than
    `per_second` within any 1 s (+ margin) by the actual send times: if the event loop stalls and
    wakes several senders late, they still go out spaced instead of in a burst that provokes 429s."""

    def __init__(self, per_second: float, share: float, margin: float = 0.02) -> None:
        self.interval = 1.0 / (per_second * share)
        self.recent: deque[float] = deque(maxlen=max(1, int(per_second)))
        self.span = 1.0 + margin
        self.next_slot = 0.0
        self.lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self.lock:
            loop = asyncio.get_running_loop()
            slot = loop.time()
            while True:  # again after each sleep: a 429 may have paused the pace meanwhile
                now = loop.time()
                target = self.next_slot
                if len(self.recent) == self.recent.maxlen:
                    target = max(target, self.recent[0] + self.span)
                if target <= now:
                    break
                slot = target
                await asyncio.sleep(target - now)
            self.recent.append(loop.time())
            self.next_slot = slot + self.interval  # from the slot, not the wake-up: no drift

    def pause(self, retry_after: float) -> None:
        """Telegram answered 429: nothing goes out until the wait is over, and the request the rate
        limiter sends again then counts as one of ours (else it is one too many in that second)."""
        loop = asyncio.get_running_loop()
        retried_at = loop.time() + retry_after + 0.1  # when AIORateLimiter sends it again
        if self.recent and self.recent[-1] > retried_at:
            retried_at = self.recent[-1]
        self.recent.append(retried_at)
        self.next_slot = max(self.next_slot, retried_at + self.interval)


def pacer(context: ContextTypes.DEFAULT_TYPE) -> Pacer | None:
    """Reminders go out evenly spaced just under the overall rate, so a batch of thousands
    drains at nearly the full allowed rate without provoking 429s."""
    d = deps(context)
    rate = d.settings.send_rate_per_second
    if rate <= 0:
        return None
    if "pacer" not in d.extra:
        d.extra["pacer"] = Pacer(rate, PACE_SHARE)
        limiter = context.bot.rate_limiter
        if isinstance(limiter, FloodAwareRateLimiter):
            limiter.on_retry_after.append(d.extra["pacer"].pause)
    return d.extra["pacer"]


async def sweep_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    await run_sweep(context)


async def run_sweep(context: ContextTypes.DEFAULT_TYPE) -> dict[str, int]:
    """Sweep until nothing more is due now; return counts (for logs, tests and benchmarks)."""
    d = deps(context)
    service: ReminderService = d.extra["reminders"]
    counts = {"sent": 0, "failed": 0, "retry": 0, "released": 0, "skipped": 0, "waiting": 0, "gone": 0}
    while True:
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
            return counts  # drained, or Telegram is unreachable: try again at the next sweep


async def deliver(context: ContextTypes.DEFAULT_TYPE, service: ReminderService, item: DueReminder) -> str:
    d = deps(context)
    now = d.clock()
    verdict = await service.take(item, now)  # checked against the milestone as it is now
    if verdict is Verdict.WAIT:
        return "waiting"  # held until the recipient's quiet hours end
    if verdict is Verdict.SKIP:
        return "skipped"  # no longer true, superseded, or the recipient blocked the bot
    if verdict is Verdict.GONE:
        return "gone"  # taken by another process or re-planned meanwhile
    if item.kind == ReminderKind.AUTO_RELEASE:
        # Still 'planned' while it runs: the release itself happens at most once (the domain refuses a
        # second one), so if this process dies before finishing, the next sweep simply retries it.
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
        await notify(context, outcome)
        return "released"
    text, markup = render(item, service.settings, now)
    pace = pacer(context)
    if pace is not None:
        await pace.acquire()  # right before the send: database waits must not bunch sends up
    try:
        await context.bot.send_message(item.recipient_id, text, reply_markup=markup)
    except Forbidden:
        await mark_blocked(context, item.recipient_id)
        await service.finished([item.log_id], LogStatus.FAILED, now)
        return "failed"
    except BadRequest as err:
        log.warning("reminder %s refused by Telegram: %s", item.log_id, err)
        await service.finished([item.log_id], LogStatus.FAILED, now)
        return "failed"
    except RetryAfter as err:
        log.info("reminder %s not sent (%s); it stays pending", item.log_id, err)
        # From now, not from before the pacer's and the rate limiter's waits.
        await service.retry_later(item, d.clock(), timedelta(seconds=retry_seconds(err)))
        return "retry"
    except (TimedOut, NetworkError) as err:
        log.info("reminder %s not sent (%s); it stays pending", item.log_id, err)
        await service.retry_later(item, now)
        return "retry"
    await service.finished([item.log_id], LogStatus.SENT, now)
    return "sent"
