"""Builders for domain tests: a contract with both parties and some milestones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.model import Contract, MilestoneStatus, Role
from domain.reminders import ReminderSubject

CLIENT, FREELANCER, STRANGER = 101, 202, 303
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
TODAY = date(2026, 11, 27)


def active_contract(currency: str = "USD", review_days: int = 14) -> Contract:
    c = Contract.create(CLIENT, Role.CLIENT, "Website", currency, NOW, review_days=review_days)
    c.id = 1
    c.join(FREELANCER, NOW)
    return c


def add(c: Contract, title: str, amount: int = 10_000, actor: int = CLIENT, due_days: int = 30):
    ms = c.add_milestone(actor, title, amount, TODAY + timedelta(days=due_days), "", TODAY, NOW)
    ms.id = len(c.milestones)
    return ms


def reminder_subject(**fields) -> ReminderSubject:
    """An active milestone "Design" due on 10 Dec 2026 of an active USD contract "Site", as the reminder
    policy sees it; `fields` set any of ReminderSubject's fields (recipients: none unless given)."""
    values = dict(
        milestone_id=7,
        title="Design",
        amount=150000,
        due_date=date(2026, 12, 10),
        status=MilestoneStatus.ACTIVE,
        submitted_at=None,
        released_at=None,
        contract_id=3,
        contract_title="Site",
        currency="USD",
        review_days=14,
        contract_active=True,
        recipients=(),
    )
    values.update(fields)
    return ReminderSubject(**values)


def snapshot(c: Contract):
    """Everything a refused action must leave unchanged."""
    return (
        c.status,
        c.client_id,
        c.freelancer_id,
        c.ended_at,
        [
            (
                m.id,
                m.status,
                m.seq,
                m.title,
                m.amount,
                m.due_date,
                m.description,
                m.revision_count,
                m.submitted_at,
                m.refund_requested_at,
            )
            for m in c.milestones
        ],
        len(c.new_ledger),
        len(c.new_history),
    )
