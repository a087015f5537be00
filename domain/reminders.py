"""Reminder policy (PRODUCT.md section 4): when each reminder falls due, for whom, and catch-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum
from functools import lru_cache
from typing import NamedTuple

from .model import MilestoneStatus, Role
from .zones import zone


class ReminderKind(StrEnum):
    DUE_SOON = "due_soon"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    REVIEW_WAITING = "review_waiting"
    AUTO_RELEASE = "auto_release"
    NEXT_WAITING = "next_waiting"
    # PRODUCT §8 (at most 16 characters: the log's column)
    DATE_WAITING = "date_waiting"  # a proposed due date waits for the other party's answer
    OFFER_WAITING = "offer_waiting"  # a settlement offer waits for the other party's answer
    DISPUTE_DEADLINE = "dispute_deadline"  # the dispute period ends (soon): agree, or an operator decides
    DISPUTE_ESCALATE = "dispute_escalate"  # the bot itself sends an unsettled dispute to the operators


class LogStatus(StrEnum):
    """Where a reminder's record stands: planned, being sent ('sending': taken, at most once), or
    finished (sent; failed, e.g. the person blocked the bot, not retried; or skipped)."""

    PLANNED = "planned"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class Verdict(StrEnum):
    """The check right before a reminder goes out (`SweepPlan.decide`, `ReminderService.take`)."""

    SEND = "send"  # due and still true: send it now
    WAIT = "wait"  # held: quiet hours, or not due yet
    SKIP = "skip"  # no longer true, superseded, or the recipient blocked the bot
    GONE = "gone"  # taken by another process or re-planned meanwhile (only from `take`)


@dataclass(frozen=True)
class ReminderSettings:
    reminder_hour: int = 9
    due_soon_days: tuple[int, ...] = (3, 1)
    overdue_days: tuple[int, ...] = (1, 3, 7)
    review_days_before: tuple[int, ...] = (7, 3, 1)
    next_waiting_days: tuple[int, ...] = (1, 3)
    default_timezone: str = "UTC"
    dispute_days: int = 5  # DISPUTE_DAYS
    escalate_disputes: bool = False  # there are operators (OPERATOR_IDS) to send a dispute to
    answer_waiting_after: timedelta = timedelta(days=1)  # an offer or a proposed date unanswered this long
    dispute_reminders: int = 3  # without operators: reminded at the end of each dispute period, this often


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: int
    role: Role
    timezone: str | None = None
    quiet_start: time | None = None
    quiet_end: time | None = None
    blocked: bool = False
    language: str | None = None  # PRODUCT §9: as chosen, else Telegram's language_code (the bot picks ours)


@dataclass(frozen=True, slots=True)
class ReminderSubject:
    """One milestone with just what the policy needs (read in bulk by the sweep)."""

    milestone_id: int
    title: str
    amount: int
    due_date: date
    status: MilestoneStatus
    submitted_at: datetime | None
    released_at: datetime | None
    contract_id: int
    contract_title: str
    currency: str
    review_days: int
    contract_active: bool
    recipients: tuple[Recipient, ...]
    has_funded: bool = False  # some milestone of the contract is active or submitted
    next_unfunded_id: int | None = None  # the next milestone to activate, if any
    next_unfunded_title: str = ""
    # PRODUCT §8: a dispute (open while funded), each side's latest offer, a proposed due date.
    dispute_opened_at: datetime | None = None
    dispute_escalated_at: datetime | None = None
    client_offer_at: datetime | None = None
    freelancer_offer_at: datetime | None = None
    due_change_at: datetime | None = None
    due_change_by: Role | None = None

    @property
    def in_dispute(self) -> bool:
        return self.dispute_opened_at is not None and self.status in (MilestoneStatus.ACTIVE, MilestoneStatus.SUBMITTED)


@dataclass(slots=True)
class Reminder:
    kind: ReminderKind
    occurrence: str  # with milestone, kind and recipient: the unique key that makes it "once"
    at: datetime  # UTC moment it falls due
    recipient_id: int  # 0: the bot itself acts (automatic release)
    role: Role | None = None
    days: int = 0  # days before (negative) or after (positive) the reference date

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.kind.value, self.occurrence, self.recipient_id)


class Decision(NamedTuple):
    """`SweepPlan.decide`'s answer: the verdict, with the reminder to send (SEND) or the moment
    to wait for (WAIT)."""

    verdict: Verdict
    reminder: Reminder | None = None
    until: datetime | None = None


class Planned(NamedTuple):
    """One reminder as a sweep writes it ahead: its moment and its record's status."""

    reminder: Reminder
    at: datetime
    status: LogStatus


class DueRow(NamedTuple):
    """A planned reminder whose moment has come, as the storage reads it."""

    log_id: int
    milestone_id: int
    kind: str
    occurrence: str
    recipient_id: int


@dataclass(slots=True)
class SweepPlan:
    send: list[Reminder] = field(default_factory=list)  # due now: to send (or do)
    skip: list[Reminder] = field(default_factory=list)  # due, but superseded, no longer true or blocked
    superseded: list[Reminder] = field(default_factory=list)  # of those: replaced by a newer one of its kind
    wait: list[tuple[Reminder, datetime]] = field(default_factory=list)  # due, held until quiet hours end
    future: list[Reminder] = field(default_factory=list)  # not due yet
    next_at: datetime | None = None  # when this milestone needs looking at again

    def schedule(self) -> list[Planned]:
        """What is written ahead: the due ones planned now, the held ones at the end of the quiet
        hours, the rest at their own moment; the superseded ones recorded as skipped, so that a
        later plan (say, after a time-zone change moved the newer one ahead again) can't bring them
        back. Ones skipped as no longer true are not recorded: a new zone can make them true again."""
        planned, skipped = LogStatus.PLANNED, LogStatus.SKIPPED
        return (
            [Planned(r, r.at, planned) for r in self.send]
            + [Planned(r, at, planned) for r, at in self.wait]
            + [Planned(r, r.at, planned) for r in self.future]
            + [Planned(r, r.at, skipped) for r in self.superseded]
        )

    def decide(self, key: tuple[str, str, int]) -> Decision:
        """For a reminder about to go out: SEND with the reminder, WAIT until a moment, or SKIP."""
        for r in self.send:
            if r.key == key:
                return Decision(Verdict.SEND, reminder=r)
        for r, until in self.wait:
            if r.key == key:
                return Decision(Verdict.WAIT, until=until)
        for r in self.future:
            if r.key == key:
                return Decision(Verdict.WAIT, until=r.at)
        return Decision(Verdict.SKIP)

    def skip_reason(self, key: tuple[str, str, int], recipients: tuple[Recipient, ...]) -> str:
        """Why `decide` says SKIP, in a word for the operator's log (no personal text)."""
        if any(r.key == key for r in self.superseded):
            return "superseded"  # a newer one of its kind is due: only the latest goes out
        for r in self.skip:
            if r.key == key:
                person = next((x for x in recipients if x.user_id == r.recipient_id), None)
                if person is None:
                    return "not_a_party"
                return "blocked" if person.blocked else "no_longer_true"
        return "not_planned"  # the milestone moved on (submitted, released, ...): no such reminder now


def in_quiet_hours(local: datetime, start: time | None, end: time | None) -> bool:
    if start is None or end is None or start == end:
        return False
    t = local.timetz().replace(tzinfo=None)
    if start < end:
        return start <= t < end
    return t >= start or t < end  # overnight window, e.g. 22:00-08:00


def _after_quiet(at: datetime, start: time | None, end: time | None, tz: tzinfo) -> datetime:
    """The first moment at or after `at` outside the quiet hours start-end (local times in `tz`)."""
    if start is None or end is None:
        return at
    local = at.astimezone(tz)
    if not in_quiet_hours(local, start, end):
        return at
    stop = datetime.combine(local.date(), end, tzinfo=tz)
    if stop <= local:
        stop = datetime.combine(local.date() + timedelta(days=1), end, tzinfo=tz)
    return stop.astimezone(UTC)


def out_of_quiet_hours(at: datetime, r: Recipient, tz: tzinfo) -> datetime:
    """The first moment at or after `at` outside the recipient's quiet hours."""
    return _after_quiet(at, r.quiet_start, r.quiet_end, tz)


def local_moment(day: date, hour: int, tz: tzinfo) -> datetime:
    """`hour`:00 on `day` in the zone, as UTC (zoneinfo resolves DST gaps and folds)."""
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


@lru_cache(maxsize=4096)
def _at_hour(day: date, hour: int, tz: tzinfo, quiet_start: time | None, quiet_end: time | None) -> datetime:
    """`hour`:00 local on `day` (or the end of quiet hours if that falls in them), as UTC. Memoized and
    bounded: people share zones, dates and quiet hours, and this zone arithmetic is most of a plan's cost."""
    return _after_quiet(local_moment(day, hour, tz), quiet_start, quiet_end, tz)


# One kind's date reminders: (kind, ((days, occurrence, local day), ...)).
_KindSteps = tuple[ReminderKind, tuple[tuple[int, str, date], ...]]


@lru_cache(maxsize=1024)
def _date_steps(
    due: date, before: tuple[int, ...], after: tuple[int, ...]
) -> tuple[tuple[_KindSteps, ...], tuple[_KindSteps, ...]]:
    """The date reminders of an active milestone due on `due`, per kind in plan order, for a
    freelancer and for a client: (kind, ((days, occurrence, local day), ...)). Shared by all
    milestones due that day."""
    d = due.isoformat()  # == f"{due}"
    soon = (ReminderKind.DUE_SOON, tuple((-n, f"{d}:-{n}", due - timedelta(n)) for n in before))
    today = (ReminderKind.DUE_TODAY, ((0, d, due),))
    late = (ReminderKind.OVERDUE, tuple((n, f"{d}:+{n}", due + timedelta(n)) for n in after))
    return (soon, today, late), (soon, late)


def plan(subject: ReminderSubject, settings: ReminderSettings) -> list[Reminder]:
    """Every reminder this milestone has in its current state, past and future."""
    s = subject
    out: list[Reminder] = []
    if not s.contract_active:
        return out
    status = s.status
    hour = settings.reminder_hour
    if s.in_dispute:  # PRODUCT §8: the dispute's own reminders replace the others (and the automatic release)
        return _dispute_plan(s, settings)
    if status is MilestoneStatus.ACTIVE and s.due_change_at is not None and s.due_change_by is not None:
        out += _answer_waiting(s, settings, ReminderKind.DATE_WAITING, s.due_change_at, s.due_change_by.other)
    if status is MilestoneStatus.ACTIVE:
        freelancer_kinds, client_kinds = _date_steps(
            s.due_date, tuple(settings.due_soon_days), tuple(settings.overdue_days)
        )
        for r in s.recipients:
            tz = zone(r.timezone, settings.default_timezone)
            qs, qe, uid, role = r.quiet_start, r.quiet_end, r.user_id, r.role
            for kind, steps in freelancer_kinds if role is Role.FREELANCER else client_kinds:
                for days, occurrence, day in steps:
                    out.append(Reminder(kind, occurrence, _at_hour(day, hour, tz, qs, qe), uid, role, days))
    elif status is MilestoneStatus.SUBMITTED and s.submitted_at is not None:
        release_at = s.submitted_at + timedelta(days=s.review_days)
        submitted = s.submitted_at.isoformat()
        for r in s.recipients:
            if r.role is Role.CLIENT:
                tz = zone(r.timezone, settings.default_timezone)
                for n in settings.review_days_before:
                    if n < s.review_days:
                        out.append(
                            Reminder(
                                ReminderKind.REVIEW_WAITING,
                                f"{submitted}:-{n}",
                                out_of_quiet_hours(release_at - timedelta(days=n), r, tz),
                                r.user_id,
                                r.role,
                                -n,
                            )
                        )
        out.append(Reminder(ReminderKind.AUTO_RELEASE, submitted, release_at, 0))
    elif (
        status is MilestoneStatus.RELEASED
        and s.released_at is not None
        and s.next_unfunded_id is not None
        and not s.has_funded
    ):
        released = s.released_at.isoformat()
        for r in s.recipients:
            if r.role is Role.CLIENT:
                tz = zone(r.timezone, settings.default_timezone)
                for n in settings.next_waiting_days:
                    out.append(
                        Reminder(
                            ReminderKind.NEXT_WAITING,
                            f"{released}:+{n}",
                            out_of_quiet_hours(s.released_at + timedelta(days=n), r, tz),
                            r.user_id,
                            r.role,
                            n,
                        )
                    )
    return out


def _answer_waiting(
    s: ReminderSubject, settings: ReminderSettings, kind: ReminderKind, since: datetime, role: Role
) -> list[Reminder]:
    """Once: `role` has not answered what was put to them at `since` (a proposed date, an offer)."""
    out = []
    for r in s.recipients:
        if r.role is role:
            tz = zone(r.timezone, settings.default_timezone)
            at = out_of_quiet_hours(since + settings.answer_waiting_after, r, tz)
            out.append(Reminder(kind, since.isoformat(), at, r.user_id, r.role, 1))
    return out


def _dispute_plan(s: ReminderSubject, settings: ReminderSettings) -> list[Reminder]:
    """An open dispute: an offer waiting for its answer; the end of the dispute period told to both (a day
    ahead when it then goes to the operators, else at the end of each period while it stays open); and the
    bot's own escalation when there are operators. Once with the operators, the parties wait for them."""
    assert s.dispute_opened_at is not None
    out: list[Reminder] = []
    if s.dispute_escalated_at is not None:
        return out
    offers = [
        (at, role) for at, role in ((s.client_offer_at, Role.CLIENT), (s.freelancer_offer_at, Role.FREELANCER)) if at
    ]
    if offers:
        at, role = max(offers)
        out += _answer_waiting(s, settings, ReminderKind.OFFER_WAITING, at, role.other)
    opened, days = s.dispute_opened_at, settings.dispute_days
    deadline = opened + timedelta(days=days)
    key = opened.isoformat()
    if settings.escalate_disputes:
        ahead = [(deadline - timedelta(days=1), 1)] if days > 1 else []
        out.append(Reminder(ReminderKind.DISPUTE_ESCALATE, key, deadline, 0))
    else:
        ahead = [(opened + timedelta(days=days * k), -k) for k in range(1, settings.dispute_reminders + 1)]
    for moment, n in ahead:
        for r in s.recipients:
            tz = zone(r.timezone, settings.default_timezone)
            out.append(
                Reminder(
                    ReminderKind.DISPUTE_DEADLINE, f"{key}:{n}", out_of_quiet_hours(moment, r, tz), r.user_id, r.role, n
                )
            )
    return out


_DATE_KINDS = (ReminderKind.DUE_SOON, ReminderKind.DUE_TODAY, ReminderKind.OVERDUE)


def still_true(
    reminder: Reminder,
    subject: ReminderSubject,
    now: datetime,
    settings: ReminderSettings,
    *,
    today: date | None = None,
) -> bool:
    """A due reminder whose fact no longer holds is not sent (e.g. 'due in 1 day' on the due date).
    `today`: the recipient's local date now, if the caller knows it already."""
    kind = reminder.kind
    if kind in _DATE_KINDS:
        if today is None:
            r = next((x for x in subject.recipients if x.user_id == reminder.recipient_id), None)
            tz = zone(r.timezone if r else None, settings.default_timezone)
            today = now.astimezone(tz).date()
        if kind is ReminderKind.DUE_SOON:
            return today < subject.due_date
        if kind is ReminderKind.DUE_TODAY:
            return today == subject.due_date
        return today > subject.due_date
    if kind is ReminderKind.REVIEW_WAITING:
        assert subject.submitted_at is not None
        return now < subject.submitted_at + timedelta(days=subject.review_days)
    return True


def _at(reminder: Reminder) -> datetime:
    return reminder.at


def sweep_plan(subject: ReminderSubject, now: datetime, settings: ReminderSettings) -> SweepPlan:
    """What to do now: of the due reminders of each kind and recipient only the latest is sent
    (after downtime: no flood of stale ones), and never inside the recipient's quiet hours."""
    result = SweepPlan()
    skip = result.skip
    next_at: datetime | None = None
    latest: dict[tuple[ReminderKind, int], Reminder] = {}
    future, superseded = result.future, result.superseded
    for rem in plan(subject, settings):
        at = rem.at
        if at > now:
            future.append(rem)
            if next_at is None or at < next_at:
                next_at = at
            continue
        group = (rem.kind, rem.recipient_id)
        prev = latest.get(group)
        if prev is None:
            latest[group] = rem
        elif at > prev.at:
            skip.append(prev)
            superseded.append(prev)
            latest[group] = rem
        else:
            skip.append(rem)
            superseded.append(rem)
    if latest:
        recipients: dict[int, Recipient] = {}
        for x in subject.recipients:
            recipients.setdefault(x.user_id, x)
        local: dict[int, tuple[date, datetime]] = {}  # per recipient: local date now, end of quiet hours
        for rem in latest.values():
            uid = rem.recipient_id
            recipient = recipients.get(uid)
            if recipient is not None:
                seen = local.get(uid)
                if seen is None:
                    tz = zone(recipient.timezone, settings.default_timezone)
                    seen = local[uid] = (
                        now.astimezone(tz).date(),
                        _after_quiet(now, recipient.quiet_start, recipient.quiet_end, tz),
                    )
                today, wake = seen
            if uid and (
                recipient is None or recipient.blocked or not still_true(rem, subject, now, settings, today=today)
            ):
                skip.append(rem)
                continue
            if recipient is not None and wake > now:
                # A reminder that fell due during quiet hours (or became due by a change made then)
                # waits for their end; it stays the latest of its kind and goes out then.
                if next_at is None or wake < next_at:
                    next_at = wake
                result.wait.append((rem, wake))
                continue
            result.send.append(rem)
        result.send.sort(key=_at)
    result.next_at = next_at
    return result


def days_left(subject: ReminderSubject, recipient_tz: tzinfo, now: datetime) -> int:
    return (subject.due_date - now.astimezone(recipient_tz).date()).days
