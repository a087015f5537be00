"""Reminder policy for disagreements (PRODUCT §8 and §4): held by a dispute, offers and dates waiting, the
end of the dispute period, the escalation; once each and outside quiet hours."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from domain.model import MilestoneStatus, Role
from domain.reminders import Recipient, ReminderKind, ReminderSettings, plan, sweep_plan

from .helpers import reminder_subject

ANN = Recipient(1, Role.CLIENT, "UTC")
BOB = Recipient(2, Role.FREELANCER, "UTC", quiet_start=time(22), quiet_end=time(8))
OPENED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SUBMITTED = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def subject(**kw):
    values = dict(
        status=MilestoneStatus.SUBMITTED, submitted_at=SUBMITTED, recipients=(ANN, BOB), dispute_opened_at=OPENED
    )
    values.update(kw)
    return reminder_subject(**values)


def kinds(reminders):
    return {(r.kind, r.recipient_id) for r in reminders}


def test_a_dispute_holds_the_automatic_release_and_the_milestones_other_reminders():
    held = plan(subject(), ReminderSettings())
    assert ReminderKind.AUTO_RELEASE not in {r.kind for r in held}
    assert ReminderKind.REVIEW_WAITING not in {r.kind for r in held}
    active = plan(subject(status=MilestoneStatus.ACTIVE, submitted_at=None), ReminderSettings())
    assert not {r.kind for r in active} & {ReminderKind.DUE_SOON, ReminderKind.DUE_TODAY, ReminderKind.OVERDUE}
    # once settled (released), the dispute's reminders are gone with it
    assert plan(subject(status=MilestoneStatus.RELEASED, released_at=OPENED), ReminderSettings()) == []


def test_with_operators_both_hear_a_day_ahead_and_the_bot_escalates_at_the_deadline():
    rs = plan(subject(), ReminderSettings(dispute_days=5, escalate_disputes=True))
    deadline = OPENED + timedelta(days=5)
    assert [r.at for r in rs if r.kind is ReminderKind.DISPUTE_ESCALATE and r.recipient_id == 0] == [deadline]
    ahead = {r.recipient_id: r.at for r in rs if r.kind is ReminderKind.DISPUTE_DEADLINE}
    assert ahead == {1: deadline - timedelta(days=1), 2: deadline - timedelta(days=1)}
    assert plan(subject(dispute_escalated_at=deadline), ReminderSettings(escalate_disputes=True)) == []


def test_without_operators_both_are_reminded_at_the_end_of_each_period():
    rs = plan(subject(), ReminderSettings(dispute_days=5, escalate_disputes=False))
    assert ReminderKind.DISPUTE_ESCALATE not in {r.kind for r in rs}
    at = sorted(r.at for r in rs if r.recipient_id == 1)
    assert at == [OPENED + timedelta(days=5 * k) for k in (1, 2, 3)]


def test_an_offer_waits_for_the_other_party_once_outside_their_quiet_hours():
    offered = datetime(2026, 12, 2, 23, 0, tzinfo=UTC)  # a day later is in Bob's quiet hours
    rs = plan(subject(client_offer_at=offered), ReminderSettings())
    waiting = [r for r in rs if r.kind is ReminderKind.OFFER_WAITING]
    assert [(r.recipient_id, r.at) for r in waiting] == [(2, datetime(2026, 12, 4, 8, 0, tzinfo=UTC))]
    # the latest offer is the one waiting: the freelancer countered, so the client is asked
    rs = plan(subject(client_offer_at=offered, freelancer_offer_at=offered + timedelta(hours=2)), ReminderSettings())
    assert [r.recipient_id for r in rs if r.kind is ReminderKind.OFFER_WAITING] == [1]
    # sent once: a sweep later has nothing new of its kind to send
    now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    first = sweep_plan(subject(client_offer_at=offered), now, ReminderSettings())
    assert [r.kind for r in first.send if r.recipient_id == 2] == [ReminderKind.OFFER_WAITING]
    assert len({r.key for r in first.send}) == len(first.send)


def test_a_proposed_date_waits_for_the_other_party():
    proposed = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    s = reminder_subject(
        recipients=(ANN, BOB), due_change_at=proposed, due_change_by=Role.FREELANCER, status=MilestoneStatus.ACTIVE
    )
    rs = plan(s, ReminderSettings())
    assert [(r.recipient_id, r.at) for r in rs if r.kind is ReminderKind.DATE_WAITING] == [
        (1, proposed + timedelta(days=1))
    ]
    assert {ReminderKind.DUE_SOON, ReminderKind.OVERDUE} <= {r.kind for r in rs}  # the date ones go on meanwhile
