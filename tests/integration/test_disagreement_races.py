"""Races around disagreements (PRODUCT §8), on SQLite and on a real PostgreSQL server: one way, never both."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select

from domain.actions import Action
from domain.errors import AlreadyDone, DomainError
from domain.model import LedgerKind, MilestoneStatus
from domain.reminder_service import ReminderService
from domain.reminders import ReminderSettings, Verdict
from storage.models import LedgerRow

from .test_storage import CLIENT, FREELANCER, seeded


async def ledger_counts(engine, milestone_id: int) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                select(LedgerRow.kind, func.count(), func.sum(LedgerRow.amount))
                .where(LedgerRow.milestone_id == milestone_id)
                .group_by(LedgerRow.kind)
            )
        ).all()
    return {kind: (n, total) for kind, n, total in rows}


async def test_two_acceptances_of_two_different_offers_at_once_settle_once(uow, engine, now):
    svc, cid, ids = await seeded(uow, now, n_milestones=1)
    ms = ids[0]  # holds 1000
    await svc.perform(Action.ACTIVATE, CLIENT, now, milestone_id=ms)
    await svc.perform(Action.OPEN_DISPUTE, CLIENT, now, milestone_id=ms, reason="late")
    await svc.perform(Action.OFFER_SETTLEMENT, CLIENT, now, milestone_id=ms, amount=300)
    await svc.perform(Action.COUNTER_OFFER, FREELANCER, now, milestone_id=ms, amount=800)
    # Each accepts the other's offer at the same moment, many times over (double taps, two devices).
    results = await asyncio.gather(
        *(svc.perform(Action.ACCEPT_OFFER, CLIENT if i % 2 else FREELANCER, now, milestone_id=ms) for i in range(20)),
        return_exceptions=True,
    )
    settled = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(settled) == 1
    assert all(isinstance(r, AlreadyDone) for r in refused), {type(r).__name__ for r in refused}
    counts = await ledger_counts(engine, ms)
    assert counts["fund"] == (1, 1000)
    assert counts[LedgerKind.RELEASE.value][0] == 1 and counts[LedgerKind.REFUND.value][0] == 1
    assert counts["release"][1] + counts["refund"][1] == 1000  # funded = released + refunded, exactly
    assert counts["release"][1] in (300, 800)


async def test_an_automatic_release_racing_a_dispute_is_resolved_one_way(uow, engine, now):
    svc, cid, ids = await seeded(uow, now, n_milestones=1)
    ms = ids[0]
    await svc.perform(Action.ACTIVATE, CLIENT, now, milestone_id=ms)
    await svc.perform(Action.SUBMIT, FREELANCER, now, milestone_id=ms, note="done")
    later = now + timedelta(days=14, seconds=1)  # the review period is over
    outcomes = await asyncio.gather(
        svc.auto_release(ms, later),
        svc.perform(Action.OPEN_DISPUTE, CLIENT, later, milestone_id=ms, reason="wrong files"),
        return_exceptions=True,
    )
    ok = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(ok) == 1 and all(isinstance(o, DomainError) for o in outcomes if isinstance(o, BaseException))
    contract = await svc.view(cid, CLIENT)
    m = contract.milestone(ms)
    counts = await ledger_counts(engine, ms)
    if m.status is MilestoneStatus.RELEASED:
        assert not m.in_dispute and counts["release"] == (1, 1000)
    else:
        assert m.in_dispute and m.status is MilestoneStatus.SUBMITTED and "release" not in counts
        # and the sweep no longer releases it
        service = ReminderService(uow, ReminderSettings())
        due = [d for d in await service.sweep(later + timedelta(minutes=1)) if d.milestone_id == ms]
        assert "auto_release" not in {d.kind for d in due}
        assert all(await service.take(d, later) is not Verdict.SEND for d in due if d.kind == "auto_release")
