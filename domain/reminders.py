"""Reminder policy (PRODUCT.md section 4): when each reminder falls due, for whom, and catch-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo

from .model import MilestoneStatus, Role


class ReminderKind(StrEnum):
    DUE_SOON = "due_soon"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    REVIEW_WAITING = "review_waiting"
    AUTO_RELEASE = "auto_release"
    NEXT_WAITING = "next_waiting"


@dataclass(frozen=True)
class ReminderSettings:
    reminder_hour: int = 9
    due_soon_days: tuple[int, ...] = (3, 1)
    overdue_days: tuple[int, ...] = (1, 3, 7)
    review_days_before: tuple[int, ...] = (7, 3, 1)
    next_waiting_days: tuple[int, ...] = (1, 3)
    default_timezone: str = "UTC"


@dataclass(frozen=True)
class Recipient:
    user_id: int
    role: Role
    timezone: str | None = None
    quiet_start: time | None = None
    quiet_end: time | None = None
    blocked: bool = False


@dataclass(frozen=True)
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


@dataclass
class SweepPlan:
    send: list[Reminder] = field(default_factory=list)  # due now: to send (or do)
    skip: list[Reminder] = field(default_factory=list)  # due, but superseded by a later one of the kind
    next_at: datetime | None = None  # when this milestone needs looking at again


@lru_cache(maxsize=1024)
def zone(name: str | None, default: str) -> tzinfo:
    name = name or default
    if name.startswith("UTC") and len(name) > 3:
        sign = 1 if name[3] == "+" else -1
        hours, _, minutes = name[4:].partition(":")
        return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)), name)
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo(default)


def in_quiet_hours(local: datetime, start: time | None, end: time | None) -> bool:
    if start is None or end is None or start == end:
        return False
    t = local.timetz().replace(tzinfo=None)
    if start < end:
        return start <= t < end
    return t >= start or t < end  # overnight window, e.g. 22:00-08:00


def out_of_quiet_hours(at: datetime, r: Recipient, tz: tzinfo) -> datetime:
    """The first moment at or after `at` outside the recipient's quiet hours."""
    if r.quiet_start is None or r.quiet_end is None:
        return at
    local = at.astimezone(tz)
    if not in_quiet_hours(local, r.quiet_start, r.quiet_end):
        return at
    assert r.quiet_end is not None
    end = datetime.combine(local.date(), r.quiet_end, tzinfo=tz)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), r.quiet_end, tzinfo=tz)
    return end.astimezone(UTC)


def local_moment(day: date, hour: int, tz: tzinfo) -> datetime:
    """`hour`:00 on `day` in the zone, as UTC (zoneinfo resolves DST gaps and folds)."""
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


def plan(subject: ReminderSubject, settings: ReminderSettings) -> list[Reminder]:
    """Every reminder this milestone has in its current state, past and future."""
    s = subject
    out: list[Reminder] = []
    if not s.contract_active:
        return out
    for r in s.recipients:
        tz = zone(r.timezone, settings.default_timezone)

        def at_hour(day: date, r: Recipient = r, tz: tzinfo = tz) -> datetime:
            return out_of_quiet_hours(local_moment(day, settings.reminder_hour, tz), r, tz)

        def moment(at: datetime, r: Recipient = r, tz: tzinfo = tz) -> datetime:
            return out_of_quiet_hours(at, r, tz)

        if s.status is MilestoneStatus.ACTIVE:
            for n in settings.due_soon_days:
                out.append(Reminder(ReminderKind.DUE_SOON, f"{s.due_date}:-{n}", at_hour(s.due_date - timedelta(n)),
                                    r.user_id, r.role, -n))
            if r.role is Role.FREELANCER:
                out.append(Reminder(ReminderKind.DUE_TODAY, f"{s.due_date}", at_hour(s.due_date), r.user_id, r.role))
            for n in settings.overdue_days:
                out.append(Reminder(ReminderKind.OVERDUE, f"{s.due_date}:+{n}", at_hour(s.due_date + timedelta(n)),
                                    r.user_id, r.role, n))
        elif s.status is MilestoneStatus.SUBMITTED and s.submitted_at is not None and r.role is Role.CLIENT:
            release_at = s.submitted_at + timedelta(days=s.review_days)
            for n in settings.review_days_before:
                if n < s.review_days:
                    out.append(Reminder(ReminderKind.REVIEW_WAITING, f"{s.submitted_at.isoformat()}:-{n}",
                                        moment(release_at - timedelta(days=n)), r.user_id, r.role, -n))
        elif (s.status is MilestoneStatus.RELEASED and s.released_at is not None and r.role is Role.CLIENT
              and s.next_unfunded_id is not None and not s.has_funded):
            for n in settings.next_waiting_days:
                out.append(Reminder(ReminderKind.NEXT_WAITING, f"{s.released_at.isoformat()}:+{n}",
                                    moment(s.released_at + timedelta(days=n)), r.user_id, r.role, n))
    if s.status is MilestoneStatus.SUBMITTED and s.submitted_at is not None:
        release_at = s.submitted_at + timedelta(days=s.review_days)
        out.append(Reminder(ReminderKind.AUTO_RELEASE, s.submitted_at.isoformat(), release_at, 0))
    return out


def still_true(reminder: Reminder, subject: ReminderSubject, now: datetime, settings: ReminderSettings) -> bool:
    """A due reminder whose fact no longer holds is not sent (e.g. 'due in 1 day' on the due date)."""
    if reminder.kind in (ReminderKind.DUE_SOON, ReminderKind.DUE_TODAY, ReminderKind.OVERDUE):
        r = next((x for x in subject.recipients if x.user_id == reminder.recipient_id), None)
        tz = zone(r.timezone if r else None, settings.default_timezone)
        today = now.astimezone(tz).date()
        if reminder.kind is ReminderKind.DUE_SOON:
            return today < subject.due_date
        if reminder.kind is ReminderKind.DUE_TODAY:
            return today == subject.due_date
        return today > subject.due_date
    if reminder.kind is ReminderKind.REVIEW_WAITING:
        assert subject.submitted_at is not None
        return now < subject.submitted_at + timedelta(days=subject.review_days)
    return True


def sweep_plan(subject: ReminderSubject, now: datetime, settings: ReminderSettings) -> SweepPlan:
    """What to do now: of the due reminders of each kind and recipient only the latest is sent
    (after downtime: no flood of stale ones), and never inside the recipient's quiet hours."""
    result = SweepPlan()
    latest: dict[tuple[ReminderKind, int], Reminder] = {}
    for rem in plan(subject, settings):
        if rem.at > now:
            if result.next_at is None or rem.at < result.next_at:
                result.next_at = rem.at
            continue
        group = (rem.kind, rem.recipient_id)
        prev = latest.get(group)
        if prev is None or rem.at > prev.at:
            if prev is not None:
                result.skip.append(prev)
            latest[group] = rem
        else:
            result.skip.append(rem)
    for rem in latest.values():
        recipient = next((x for x in subject.recipients if x.user_id == rem.recipient_id), None)
        if rem.recipient_id and (recipient is None or recipient.blocked or not still_true(rem, subject, now, settings)):
            result.skip.append(rem)
            continue
        if recipient is not None:
            # A reminder that fell due during quiet hours (or became due by a change made then)
            # waits for their end; it stays the latest of its kind and goes out then.
            tz = zone(recipient.timezone, settings.default_timezone)
            wake = out_of_quiet_hours(now, recipient, tz)
            if wake > now:
                if result.next_at is None or wake < result.next_at:
                    result.next_at = wake
                continue
        result.send.append(rem)
    result.send.sort(key=lambda r: r.at)
    return result


def days_left(subject: ReminderSubject, recipient_tz: tzinfo, now: datetime) -> int:
    return (subject.due_date - now.astimezone(recipient_tz).date()).days
