"""Reminder policy: the exact moment each reminder of PRODUCT.md section 4 falls due."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.model import MilestoneStatus, Role
from domain.reminders import (
    Decision,
    LogStatus,
    Recipient,
    Reminder,
    ReminderKind,
    ReminderSettings,
    ReminderSubject,
    Verdict,
    in_quiet_hours,
    local_moment,
    out_of_quiet_hours,
    plan,
    sweep_plan,
)
from domain.zones import zone

from .helpers import reminder_subject

CFG = ReminderSettings()
CLIENT, FREELANCER = 1, 2


def subject(
    status=MilestoneStatus.ACTIVE,
    due=date(2026, 12, 10),
    ctz=None,
    ftz=None,
    quiet=(None, None),
    submitted_at=None,
    released_at=None,
    review_days=14,
    has_funded=False,
    next_id=None,
    blocked=False,
):
    return reminder_subject(
        due_date=due,
        status=status,
        submitted_at=submitted_at,
        released_at=released_at,
        review_days=review_days,
        recipients=(
            Recipient(CLIENT, Role.CLIENT, ctz, *quiet),
            Recipient(FREELANCER, Role.FREELANCER, ftz, blocked=blocked),
        ),
        has_funded=has_funded,
        next_unfunded_id=next_id,
        next_unfunded_title="Build" if next_id else "",
    )


def moments(s, kind, recipient):
    return sorted(r.at for r in plan(s, CFG) if r.kind is kind and r.recipient_id == recipient)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_due_soon_three_and_one_day_before_at_nine_local_for_both():
    s = subject(ctz="Europe/Berlin", ftz="America/New_York")
    assert moments(s, ReminderKind.DUE_SOON, CLIENT) == [utc(2026, 12, 7, 8), utc(2026, 12, 9, 8)]
    assert moments(s, ReminderKind.DUE_SOON, FREELANCER) == [utc(2026, 12, 7, 14), utc(2026, 12, 9, 14)]


def test_due_today_goes_to_the_freelancer_only():
    s = subject(ftz="Asia/Tokyo")
    assert moments(s, ReminderKind.DUE_TODAY, FREELANCER) == [utc(2026, 12, 10, 0)]
    assert moments(s, ReminderKind.DUE_TODAY, CLIENT) == []


def test_overdue_one_three_seven_days_after_for_both():
    s = subject()
    expected = [utc(2026, 12, 11, 9), utc(2026, 12, 13, 9), utc(2026, 12, 17, 9)]
    assert moments(s, ReminderKind.OVERDUE, CLIENT) == expected
    assert moments(s, ReminderKind.OVERDUE, FREELANCER) == expected


def test_no_date_reminders_unless_active():
    for status in (MilestoneStatus.NOT_FUNDED, MilestoneStatus.PROPOSED, MilestoneStatus.REFUNDED):
        assert plan(subject(status=status), CFG) == []


def test_review_waiting_seven_three_one_day_before_auto_release_and_the_release_itself():
    sub = utc(2026, 12, 1, 15, 30)
    s = subject(status=MilestoneStatus.SUBMITTED, submitted_at=sub)
    release = sub + timedelta(days=14)
    assert moments(s, ReminderKind.REVIEW_WAITING, CLIENT) == [release - timedelta(days=n) for n in (7, 3, 1)]
    assert moments(s, ReminderKind.REVIEW_WAITING, FREELANCER) == []
    [auto] = [r for r in plan(s, CFG) if r.kind is ReminderKind.AUTO_RELEASE]
    assert auto.at == release and auto.recipient_id == 0


def test_resubmission_restarts_the_countdown_with_new_keys():
    a = subject(status=MilestoneStatus.SUBMITTED, submitted_at=utc(2026, 12, 1, 10))
    b = subject(status=MilestoneStatus.SUBMITTED, submitted_at=utc(2026, 12, 5, 10))
    keys_a = {r.key for r in plan(a, CFG)}
    keys_b = {r.key for r in plan(b, CFG)}
    assert not keys_a & keys_b


def test_next_milestone_waiting_one_and_three_days_after_release_only_if_next_unfunded_and_none_active():
    rel = utc(2026, 12, 2, 12)
    s = subject(status=MilestoneStatus.RELEASED, released_at=rel, next_id=9)
    assert moments(s, ReminderKind.NEXT_WAITING, CLIENT) == [rel + timedelta(days=1), rel + timedelta(days=3)]
    assert plan(subject(status=MilestoneStatus.RELEASED, released_at=rel, next_id=None), CFG) == []
    assert plan(subject(status=MilestoneStatus.RELEASED, released_at=rel, next_id=9, has_funded=True), CFG) == []


def test_quiet_hours_push_a_reminder_to_their_end():
    # Client in Berlin with quiet hours 08:00-10:30: the 09:00 reminder waits until 10:30 local.
    s = subject(ctz="Europe/Berlin", quiet=(time(8), time(10, 30)))
    assert moments(s, ReminderKind.DUE_SOON, CLIENT)[0] == utc(2026, 12, 7, 9, 30)
    # Overnight window 22:00-07:00: a 23:00 review reminder goes at 07:00 the next morning.
    r = Recipient(CLIENT, Role.CLIENT, "UTC", time(22), time(7))
    assert out_of_quiet_hours(utc(2026, 12, 1, 23), r, ZoneInfo("UTC")) == utc(2026, 12, 2, 7)
    assert out_of_quiet_hours(utc(2026, 12, 1, 12), r, ZoneInfo("UTC")) == utc(2026, 12, 1, 12)


def test_dst_changes_keep_nine_o_clock_local():
    # Europe/Berlin leaves summer time on 2026-10-25: 09:00 is 07:00 UTC before, 08:00 UTC after.
    s = subject(due=date(2026, 10, 27), ctz="Europe/Berlin")
    assert moments(s, ReminderKind.DUE_SOON, CLIENT) == [utc(2026, 10, 24, 7), utc(2026, 10, 26, 8)]
    # America/New_York starts summer time on 2027-03-14.
    s = subject(due=date(2027, 3, 15), ftz="America/New_York")
    assert moments(s, ReminderKind.DUE_SOON, FREELANCER) == [utc(2027, 3, 12, 14), utc(2027, 3, 14, 13)]


def test_utc_offset_zones():
    s = subject(ctz="UTC+05:30")
    assert moments(s, ReminderKind.DUE_SOON, CLIENT)[0] == utc(2026, 12, 7, 3, 30)


def test_catch_up_after_downtime_sends_only_the_latest_of_each_kind():
    s = subject(due=date(2026, 12, 10))
    now = utc(2026, 12, 20, 12)  # back after a long outage: all three overdue reminders are past
    p = sweep_plan(s, now, CFG)
    sent = [(r.kind, r.recipient_id, r.days) for r in p.send]
    assert sorted(sent) == [(ReminderKind.OVERDUE, CLIENT, 7), (ReminderKind.OVERDUE, FREELANCER, 7)]
    # Stale ones are recorded as skipped so they never go out later; "due soon" is no longer true.
    skipped = {(r.kind, r.days) for r in p.skip}
    assert (ReminderKind.OVERDUE, 1) in skipped and (ReminderKind.DUE_SOON, -1) in skipped
    assert (ReminderKind.DUE_TODAY, 0) in skipped
    assert p.next_at is None


def test_sweep_plan_knows_when_to_look_next():
    s = subject(due=date(2026, 12, 10))
    p = sweep_plan(s, utc(2026, 12, 7, 9, 30), CFG)
    assert [(r.kind, r.days) for r in p.send] == [(ReminderKind.DUE_SOON, -3)] * 2
    assert p.next_at == utc(2026, 12, 9, 9)


def test_blocked_recipient_is_skipped_not_retried():
    s = subject(due=date(2026, 12, 10), blocked=True)
    p = sweep_plan(s, utc(2026, 12, 7, 10), CFG)
    assert {r.recipient_id for r in p.send} == {CLIENT}
    assert any(r.recipient_id == FREELANCER for r in p.skip)


@settings(max_examples=200, deadline=None)
@given(
    due=st.dates(date(2026, 1, 1), date(2028, 12, 31)),
    tz=st.sampled_from(
        [
            "UTC",
            "Europe/Berlin",
            "America/New_York",
            "Asia/Kolkata",
            "Australia/Sydney",
            "Pacific/Kiritimati",
            "Pacific/Pago_Pago",
            "UTC-03:00",
        ]
    ),
    quiet_start=st.one_of(st.none(), st.integers(0, 23)),
    quiet_len=st.integers(1, 12),
)
def test_date_reminders_land_on_their_local_day_at_the_hour_and_never_in_quiet_hours(due, tz, quiet_start, quiet_len):
    quiet = (None, None) if quiet_start is None else (time(quiet_start), time((quiet_start + quiet_len) % 24))
    s = subject(due=due, ctz=tz, quiet=quiet)
    from domain.reminders import in_quiet_hours
    from domain.zones import zone

    z = zone(tz, "UTC")
    for r in plan(s, CFG):
        if r.recipient_id != CLIENT:
            continue
        local = r.at.astimezone(z)
        assert not in_quiet_hours(local, *quiet)
        expected_day = due + timedelta(days=r.days)
        if quiet_start is None:
            assert (local.date(), local.hour, local.minute) == (expected_day, 9, 0)
        else:
            assert local.date() in (expected_day, expected_day + timedelta(days=1))


def test_a_reminder_that_becomes_due_in_quiet_hours_waits_for_their_end():
    # Quiet 22:00-08:00 UTC; at 23:30 the client funds a milestone due in two days: the freelancer's
    # "due soon" is already due, but goes out at 08:00, not at 23:30.
    s = reminder_subject(
        amount=1,
        due_date=date(2026, 12, 3),
        recipients=(Recipient(FREELANCER, Role.FREELANCER, "UTC", time(22), time(8)),),
    )
    night = utc(2026, 12, 1, 23, 30)
    p = sweep_plan(s, night, CFG)
    assert p.send == [] and p.next_at == utc(2026, 12, 2, 8)
    morning = sweep_plan(s, utc(2026, 12, 2, 8, 0, 1), CFG)
    assert [(r.kind, r.days) for r in morning.send] == [(ReminderKind.DUE_SOON, -3)]


def test_next_waiting_is_planned_again_when_the_next_milestone_appears_after_the_release():
    from tests.unit.helpers import CLIENT as C
    from tests.unit.helpers import FREELANCER as F
    from tests.unit.helpers import NOW, active_contract, add

    c = active_contract()
    m1 = add(c, "First")
    c.activate(C, m1.id, NOW)
    c.submit(F, m1.id, "", NOW)
    c.approve(C, m1.id, NOW)
    m1.next_reminder_at = None  # the sweep found nothing to wait for: no next milestone yet
    later = NOW + timedelta(hours=1)
    m2 = c.add_milestone(C, "Second", 100, NOW.date() + timedelta(days=9), "", NOW.date(), later)
    assert m1.next_reminder_at == later  # the sweep looks at the release again
    assert m2.seq == 2


_recipient = st.builds(
    Recipient,
    user_id=st.sampled_from([CLIENT, FREELANCER, 0]),
    role=st.sampled_from([Role.CLIENT, Role.FREELANCER]),
    timezone=st.sampled_from(
        [None, "UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC+05:30", "Nowhere/X"]
    ),
    quiet_start=st.one_of(st.none(), st.sampled_from([time(0), time(8), time(9), time(22)])),
    quiet_end=st.one_of(st.none(), st.sampled_from([time(6), time(9), time(10, 30), time(22)])),
    blocked=st.booleans(),
)


def _plain_plan(s: ReminderSubject, cfg: ReminderSettings) -> list[Reminder]:
    """plan() as first written, without its memoized moments: the specification it is held to."""
    out: list[Reminder] = []
    if not s.contract_active:
        return out
    for r in s.recipients:
        tz = zone(r.timezone, cfg.default_timezone)

        def at_hour(day, r=r, tz=tz):
            return out_of_quiet_hours(local_moment(day, cfg.reminder_hour, tz), r, tz)

        def moment(at, r=r, tz=tz):
            return out_of_quiet_hours(at, r, tz)

        if s.status is MilestoneStatus.ACTIVE:
            for n in cfg.due_soon_days:
                out.append(
                    Reminder(
                        ReminderKind.DUE_SOON,
                        f"{s.due_date}:-{n}",
                        at_hour(s.due_date - timedelta(n)),
                        r.user_id,
                        r.role,
                        -n,
                    )
                )
            if r.role is Role.FREELANCER:
                out.append(Reminder(ReminderKind.DUE_TODAY, f"{s.due_date}", at_hour(s.due_date), r.user_id, r.role))
            for n in cfg.overdue_days:
                out.append(
                    Reminder(
                        ReminderKind.OVERDUE,
                        f"{s.due_date}:+{n}",
                        at_hour(s.due_date + timedelta(n)),
                        r.user_id,
                        r.role,
                        n,
                    )
                )
        elif s.status is MilestoneStatus.SUBMITTED and s.submitted_at is not None and r.role is Role.CLIENT:
            release_at = s.submitted_at + timedelta(days=s.review_days)
            for n in cfg.review_days_before:
                if n < s.review_days:
                    out.append(
                        Reminder(
                            ReminderKind.REVIEW_WAITING,
                            f"{s.submitted_at.isoformat()}:-{n}",
                            moment(release_at - timedelta(days=n)),
                            r.user_id,
                            r.role,
                            -n,
                        )
                    )
        elif (
            s.status is MilestoneStatus.RELEASED
            and s.released_at is not None
            and r.role is Role.CLIENT
            and s.next_unfunded_id is not None
            and not s.has_funded
        ):
            for n in cfg.next_waiting_days:
                out.append(
                    Reminder(
                        ReminderKind.NEXT_WAITING,
                        f"{s.released_at.isoformat()}:+{n}",
                        moment(s.released_at + timedelta(days=n)),
                        r.user_id,
                        r.role,
                        n,
                    )
                )
    if s.status is MilestoneStatus.SUBMITTED and s.submitted_at is not None:
        release_at = s.submitted_at + timedelta(days=s.review_days)
        out.append(Reminder(ReminderKind.AUTO_RELEASE, s.submitted_at.isoformat(), release_at, 0))
    return out


@settings(max_examples=400, deadline=None)
@given(
    status=st.sampled_from(list(MilestoneStatus)),
    due=st.dates(date(2026, 10, 1), date(2027, 4, 30)),
    submitted=st.datetimes(datetime(2026, 10, 1), datetime(2027, 4, 30), timezones=st.just(UTC)),
    released=st.one_of(st.none(), st.datetimes(datetime(2026, 10, 1), datetime(2027, 4, 30), timezones=st.just(UTC))),
    review_days=st.integers(1, 21),
    active=st.booleans(),
    has_funded=st.booleans(),
    next_id=st.one_of(st.none(), st.just(9)),
    recipients=st.one_of(
        st.tuples(
            st.builds(Recipient, st.just(CLIENT), st.just(Role.CLIENT)),
            st.builds(Recipient, st.just(FREELANCER), st.just(Role.FREELANCER)),
        ),
        st.lists(_recipient, max_size=3).map(tuple),
    ),
    now=st.datetimes(datetime(2026, 10, 1), datetime(2027, 5, 31), timezones=st.just(UTC)),
)
def test_plan_with_memoized_moments_is_its_plain_definition(
    status, due, submitted, released, review_days, active, has_funded, next_id, recipients, now
):
    # plan() memoizes each "09:00 local, out of quiet hours" moment and the date steps of a due date
    # (the sweep's main cost); it must give exactly the reminders of the plain definition, in order,
    # whatever was computed before it (the cache is shared by every milestone of every sweep).
    s = reminder_subject(
        amount=1,
        due_date=due,
        status=status,
        submitted_at=submitted,
        released_at=released,
        review_days=review_days,
        contract_active=active,
        recipients=recipients,
        has_funded=has_funded,
        next_unfunded_id=next_id,
    )
    got, expected = plan(s, CFG), _plain_plan(s, CFG)
    assert got == expected and repr(got) == repr(expected)
    # ... and the sweep sends only due reminders, never inside their recipient's quiet hours.
    p = sweep_plan(s, now, CFG)
    people = {r.user_id: r for r in reversed(recipients)}
    for rem in p.send:
        assert rem.at <= now
        if rem.recipient_id:
            r = people[rem.recipient_id]
            local = now.astimezone(zone(r.timezone, CFG.default_timezone))
            assert not in_quiet_hours(local, r.quiet_start, r.quiet_end) and not r.blocked
    # What a sweep plans ahead is the plan minus what it drops: every reminder is sent now, held
    # until quiet hours end, kept for its own moment, or skipped - exactly one of these.
    assert Counter(r.key for r in p.send + p.skip + [w for w, _ in p.wait] + p.future) == Counter(r.key for r in got)
    assert all(until > now for _, until in p.wait) and all(r.at > now for r in p.future)
    written = p.schedule()
    assert sorted(r.key for r, _, status in written if status == LogStatus.PLANNED) == sorted(
        r.key for r in p.send + p.future + [w for w, _ in p.wait]
    )
    assert sorted(r.key for r, _, status in written if status == LogStatus.SKIPPED) == sorted(
        r.key for r in p.superseded
    )
    assert all(any(r is x for x in p.skip) for r in p.superseded)
    assert all(at > now for r, at, status in written if status == LogStatus.PLANNED and r not in p.send)
    # ... and right before sending, the same check lets out exactly the reminders it sends now.
    for rem in p.send:
        assert p.decide(rem.key).verdict == Verdict.SEND
    for rem in p.skip:
        if all(x.key != rem.key for x in p.send + p.future + [w for w, _ in p.wait]):
            assert p.decide(rem.key) == Decision(Verdict.SKIP)
    # ... holds the ones waiting for quiet hours to end, and gives the not-yet-due their moment.
    sent_keys = {r.key for r in p.send}
    for rem, until in p.wait:
        if rem.key not in sent_keys:
            assert p.decide(rem.key) == Decision(Verdict.WAIT, until=until)
    waiting_keys = {r.key for r, _ in p.wait}
    for rem in p.future:
        if rem.key not in sent_keys | waiting_keys and all(x.key != rem.key or x.at == rem.at for x in p.future):
            assert p.decide(rem.key) == Decision(Verdict.WAIT, until=rem.at)
