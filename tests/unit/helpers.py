"""Builders for domain tests: a contract with both parties and some milestones."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.model import Contract, Role

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
