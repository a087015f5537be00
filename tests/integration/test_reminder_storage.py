"""Reminder sweep on SQLite and PostgreSQL: each reminder is claimed once, even by two sweepers."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from domain.model import MilestoneStatus, Role
from domain.reminders import Reminder, ReminderKind
from domain.services import ContractService, ReminderService
from storage.db import create_engine, session_factory
from storage.models import MilestoneRow, ReminderLogRow
from storage.uow import uow_factory

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


async def seed_active(svc: ContractService, n: int, due: date, client=10, freelancer=20) -> list[int]:
    """n contracts, each with one funded (active) milestone due on `due`."""
    ids = []
    for i in range(n):
        c, inv = await svc.create_contract(client + i * 1000, Role.CLIENT, f"C{i}", "USD", T0)
        await svc.accept_invite(inv.token, freelancer + i * 1000, T0)
        out = await svc.add_milestone(c.id, client + i * 1000, title=f"M{i}", amount=100, due_date=due,
                                      description="", today=T0.date(), now=T0)
        await svc.activate(out.milestone.id, client + i * 1000, T0)
        ids.append(out.milestone.id)
    return ids


async def test_due_reminders_are_claimed_once_and_the_next_look_is_planned(uow, now):
    svc = ContractService(uow)
    [ms] = await seed_active(svc, 1, date(2026, 11, 20))
    reminders = ReminderService(uow)
    at = datetime(2026, 11, 17, 9, 30, tzinfo=UTC)  # after 09:00 UTC, 3 days before the due date
    due = await reminders.sweep(at)
    assert sorted((d.reminder.kind, d.reminder.recipient_id) for d in due) == [
        (ReminderKind.DUE_SOON, 10), (ReminderKind.DUE_SOON, 20)]
    assert await reminders.sweep(at) == []  # once
    for d in due:  # delivered
        assert await reminders.begin_sending(d)
        await reminders.finished([d.log_id], "sent", at)
    assert await reminders.sweep(at + timedelta(hours=5)) == []  # nothing new before the 1-day one
    later = await reminders.sweep(datetime(2026, 11, 19, 9, 1, tzinfo=UTC))
    assert [d.reminder.days for d in later] == [-1, -1]
    async with uow() as u:
        log = await u.reminders.log(ms)
    assert Counter(status for *_, status in log) == {"sent": 2, "queued": 2}


async def test_a_claim_never_begun_goes_back_one_begun_never_does(uow, now):
    svc = ContractService(uow)
    await seed_active(svc, 1, date(2026, 11, 20))
    reminders = ReminderService(uow, lease=timedelta(seconds=15))
    at = datetime(2026, 11, 17, 9, 30, tzinfo=UTC)
    first = await reminders.sweep(at)
    assert len(first) == 2
    assert await reminders.begin_sending(first[0])  # this one may have reached Telegram: a "crash" now
    # Within the lease nothing is handed out again; after it, only the never-begun claim is.
    assert await reminders.sweep(at + timedelta(seconds=10)) == []
    again = await reminders.sweep(at + timedelta(seconds=16))
    assert [d.reminder.key for d in again] == [first[1].reminder.key]
    assert not await reminders.begin_sending(first[1])  # the old claim is void: no double send
    assert await reminders.begin_sending(again[0])


async def test_two_sweepers_never_claim_the_same_reminder(database_url, engine, now):
    uow = uow_factory(session_factory(engine))
    svc = ContractService(uow)
    await seed_active(svc, 30, date(2026, 11, 20))
    # A second engine: a second process's own connections.
    other_engine = create_engine(database_url)
    try:
        a = ReminderService(uow, batch=7)
        b = ReminderService(uow_factory(session_factory(other_engine)), batch=7)
        at = datetime(2026, 11, 17, 9, 30, tzinfo=UTC)

        async def drain(service):
            got = []
            for _ in range(40):
                batch = await service.sweep(at)
                got += batch
                await asyncio.sleep(0)
            return got

        got_a, got_b = await asyncio.gather(drain(a), drain(b))
    finally:
        await other_engine.dispose()
    keys = [(d.subject.milestone_id, d.reminder.key) for d in got_a + got_b]
    assert len(keys) == 60  # 30 milestones x (client + freelancer)
    assert len(set(keys)) == 60  # nobody got one twice
    print(f"\n[{engine.dialect.name}] two sweepers: {len(got_a)} + {len(got_b)} claims, 0 duplicates")


async def test_auto_release_through_the_same_domain_service(uow, now):
    svc = ContractService(uow, review_days=14)
    [ms] = await seed_active(svc, 1, date(2026, 11, 20))
    await svc.submit(ms, 20, "done", T0)
    reminders = ReminderService(uow)
    due = await reminders.sweep(T0 + timedelta(days=14, seconds=1))
    auto = [d for d in due if d.reminder.kind is ReminderKind.AUTO_RELEASE]
    assert len(auto) == 1
    out = await svc.auto_release(ms, T0 + timedelta(days=14, seconds=1))
    assert out.milestone.status is MilestoneStatus.RELEASED and out.milestone.auto_released
    assert [e.kind.value for e in await svc.ledger(out.contract.id)] == ["fund", "release"]


async def test_retry_later_hands_a_reminder_back(uow, now):
    svc = ContractService(uow)
    await seed_active(svc, 1, date(2026, 11, 20))
    reminders = ReminderService(uow)
    at = datetime(2026, 11, 17, 9, 30, tzinfo=UTC)
    first = await reminders.sweep(at)
    await reminders.retry_later(first[0], at)
    again = await reminders.sweep(at + timedelta(seconds=1))
    assert [d.reminder.key for d in again] == [first[0].reminder.key]


async def test_the_due_query_uses_the_partial_index_on_sqlite(engine):
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as conn:
        plan = (await conn.execute(text(
            "EXPLAIN QUERY PLAN SELECT id FROM milestones WHERE next_reminder_at IS NOT NULL "
            "AND next_reminder_at <= '2026-11-27' ORDER BY next_reminder_at LIMIT 500"))).all()
    assert any("ix_milestones_next_reminder_at" in str(row) for row in plan), plan


async def test_claim_and_set_next_store_exactly_what_the_orm_stores(uow, now):
    """The claim and the next look are written as plain SQL for speed: the same rows and values as
    through the ORM, only new keys won (also a key twice in one batch), batches of any size."""
    svc = ContractService(uow)
    a, b = await seed_active(svc, 2, date(2026, 11, 20))
    at = datetime(2026, 11, 17, 10, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Berlin"))  # stored as UTC
    items = [(a, Reminder(ReminderKind.OVERDUE, f"occ{i}", at + timedelta(minutes=i), 10, Role.CLIENT, 1), "queued")
             for i in range(1200)]  # more rows than one INSERT takes on SQLite
    items.append(items[5])
    async with uow() as u:
        won = await u.reminders.claim(items, now)
        await u.reminders.set_next({a: at, b: None})
        u.session.add(ReminderLogRow(milestone_id=a, kind="overdue", occurrence="orm", recipient_id=10,
                                     status="queued", due_at=at + timedelta(minutes=7), claimed_at=now))
        await u.commit()
    assert set(won) == {(a, "overdue", f"occ{i}", 10) for i in range(1200)}
    assert len(set(won.values())) == 1200
    fresh = (b, Reminder(ReminderKind.DUE_SOON, "2026-11-20:-3", at, 20, Role.FREELANCER, -3), "queued")
    async with uow() as u:
        again = await u.reminders.claim(items[:3] + [fresh], now)
        await u.commit()
    assert list(again) == [(b, "due_soon", "2026-11-20:-3", 20)]
    async with uow() as u:
        row = await u.session.get(ReminderLogRow, won[(a, "overdue", "occ7", 10)])
        assert (row.status, row.due_at, row.claimed_at, row.sent_at) == ("queued", at + timedelta(minutes=7), now, None)
        assert row.due_at.tzinfo is UTC and row.claimed_at.tzinfo is UTC
        assert (await u.session.get(MilestoneRow, a)).next_reminder_at == at
        assert (await u.session.get(MilestoneRow, b)).next_reminder_at is None
        # Byte for byte what the ORM wrote for the same moment (SQLite keeps datetimes as text).
        raw = (await u.session.execute(text(
            "SELECT occurrence, due_at, claimed_at FROM reminder_log WHERE occurrence IN ('occ7', 'orm')"))).all()
        assert len(raw) == 2 and raw[0][1:] == raw[1][1:]
