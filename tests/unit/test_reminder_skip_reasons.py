"""Why a due reminder is skipped, in a word for the operator's log (issue 12, point 15)."""

from __future__ import annotations

from datetime import UTC, datetime

from domain.model import MilestoneStatus, Role
from domain.reminders import Recipient, ReminderKind, ReminderSettings, Verdict, sweep_plan

from .helpers import CLIENT, FREELANCER, reminder_subject

POLICY = ReminderSettings()
PARTIES = (Recipient(CLIENT, Role.CLIENT), Recipient(FREELANCER, Role.FREELANCER, blocked=True))


def test_catch_up_skips_the_older_one_as_superseded_and_a_blocked_persons_as_blocked():
    subject = reminder_subject(recipients=PARTIES)  # due 10 Dec 2026
    now = datetime(2026, 12, 9, 12, 0, tzinfo=UTC)  # both due-soon reminders are due: only the 1-day one goes
    plan = sweep_plan(subject, now, POLICY)
    three_days = next(r for r in plan.skip if r.recipient_id == CLIENT and r.days == -3)
    assert plan.decide(three_days.key).verdict is Verdict.SKIP
    assert plan.skip_reason(three_days.key, PARTIES) == "superseded"
    blocked = next(r for r in plan.skip if r.recipient_id == FREELANCER and r.days == -1)
    assert plan.skip_reason(blocked.key, PARTIES) == "blocked"


def test_a_reminder_the_milestone_no_longer_has_is_not_planned():
    subject = reminder_subject(recipients=PARTIES, status=MilestoneStatus.RELEASED)
    plan = sweep_plan(subject, datetime(2026, 12, 9, 12, 0, tzinfo=UTC), POLICY)
    key = (ReminderKind.DUE_SOON.value, "2026-12-10:-1", CLIENT)
    assert plan.decide(key).verdict is Verdict.SKIP
    assert plan.skip_reason(key, PARTIES) == "not_planned"
