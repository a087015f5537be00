"""Reminder use cases: plan changed milestones ahead, take each due reminder once, record the outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .ports import UnitOfWork
from .reminders import (
    Decision,
    DueRow,
    LogStatus,
    Reminder,
    ReminderKind,
    ReminderSettings,
    ReminderSubject,
    Verdict,
    sweep_plan,
)

UowFactory = Callable[[], UnitOfWork]
BOT_ACTS = (ReminderKind.AUTO_RELEASE, ReminderKind.DISPUTE_ESCALATE)


@dataclass
class DueReminder:
    """A planned reminder whose moment has come. The sweep finds it; `ReminderService.take` then
    checks it against the milestone as it is at that moment and fills in `subject` and `reminder`."""

    log_id: int
    milestone_id: int
    kind: str
    occurrence: str
    recipient_id: int
    subject: ReminderSubject | None = None
    reminder: Reminder | None = None
    reason: str = ""  # why `take` skipped or held it, for the operator's log

    @classmethod
    def from_row(cls, row: DueRow) -> DueReminder:
        return cls(
            log_id=row.log_id,
            milestone_id=row.milestone_id,
            kind=row.kind,
            occurrence=row.occurrence,
            recipient_id=row.recipient_id,
        )

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.kind, self.occurrence, self.recipient_id)


class ReminderService:
    """Reminders are planned ahead: whenever a milestone changes (or a party changes their time zone
    or quiet hours) the sweep writes all its reminders as 'planned' rows, each with its moment. At
    each sweep the rows whose moment has come are read; each is then taken on its own, right before
    it goes out ('planned' -> 'sending', one conditional UPDATE: of two processes one wins) after a
    fresh check against the milestone. A reminder taken is never sent again (at most once); one not
    yet taken when the process dies is simply still planned and goes out after the restart."""

    def __init__(
        self,
        uow_factory: UowFactory,
        settings: ReminderSettings | None = None,
        *,
        batch: int = 500,
        plan_batch: int = 100,
    ) -> None:
        self.uow_factory = uow_factory
        self.settings = settings or ReminderSettings()
        self.batch = batch
        # Changed milestones planned per transaction: a mass change (say, someone with many contracts
        # moves time zone) is planned in short steps, the event loop free in between.
        self.plan_batch = plan_batch

    async def sweep(self, now: datetime) -> list[DueReminder]:
        """Plan the milestones changed since the last sweep, then return up to `batch` reminders
        whose moment has come, earliest first."""
        while True:
            async with self.uow_factory() as uow:
                reminders = uow.reminders
                any_changed, rows = await reminders.look(now, self.batch)  # usually all there is to do
                changed = await reminders.due_subjects(now, self.plan_batch) if any_changed else []
                more = len(changed) == self.plan_batch
                if changed:
                    await reminders.replan(
                        {s.milestone_id: sweep_plan(s, now, self.settings).schedule() for s in changed}
                    )
                    rows = [] if more else await reminders.due(now, self.batch)  # with what just became due
                await uow.commit()
            if not more:
                return [DueReminder.from_row(row) for row in rows]

    async def take(self, due: DueReminder, now: datetime) -> Verdict:
        """Right before a reminder goes out: check it against the milestone as it is now.
        SEND: it is this process's to send (marked 'sending'; an automatic release stays
        'planned' until done, as the domain refuses a second release); WAIT: held (quiet hours);
        SKIP: no longer true, superseded or the recipient blocked the bot; GONE: taken or
        re-planned meanwhile."""
        async with self.uow_factory() as uow:
            reminders = uow.reminders
            subject = await reminders.subject(due.milestone_id)
            if subject is None:
                decision, due.reason = Decision(Verdict.SKIP), "no_milestone"
            else:
                plan = sweep_plan(subject, now, self.settings)
                decision = plan.decide(due.key)
                if decision.verdict is Verdict.SKIP:
                    due.reason = plan.skip_reason(due.key, subject.recipients)
            verdict = decision.verdict
            if verdict is Verdict.SEND:
                due.subject, due.reminder = subject, decision.reminder
                # The bot's own acts (a release, an escalation) stay planned until done: the domain refuses a second.
                if due.kind not in BOT_ACTS and not await reminders.start_sending(due.log_id, now):
                    verdict = Verdict.GONE
            elif verdict is Verdict.WAIT:
                assert decision.until is not None  # decide gives WAIT with its moment
                due.reason = f"until {decision.until.isoformat()}"
                if not await reminders.reschedule(due.log_id, decision.until):
                    verdict = Verdict.GONE
            elif not await reminders.skip(due.log_id, now):
                verdict = Verdict.GONE
            await uow.commit()
            return verdict

    async def finished(self, log_ids: list[int], status: LogStatus, now: datetime) -> None:
        """SENT, FAILED (e.g. the person blocked the bot: not retried) or SKIPPED."""
        async with self.uow_factory() as uow:
            await uow.reminders.mark(log_ids, status, now)
            await uow.commit()

    async def retry_later(self, due: DueReminder, now: datetime, after: timedelta = timedelta(0)) -> None:
        """Sending failed for a passing reason: planned again, due `after` from now (Telegram's
        retry_after for a 429)."""
        async with self.uow_factory() as uow:
            await uow.reminders.unclaim(due.log_id, now + after)
            await uow.commit()
