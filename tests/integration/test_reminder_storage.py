"""Reminder sweep on SQLite and PostgreSQL: reminders planned ahead, each sent once, even by two sweepers."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import event, select, text

from bot.settings import Settings
from domain.actions import Action
from domain.model import MilestoneStatus, Role
from domain.ports import UserProfile
from domain.reminder_service import ReminderService
from domain.reminders import LogStatus, Planned, Reminder, ReminderKind, Verdict
from domain.services import ContractService
from storage.db import create_engine, session_factory
from storage.models import MilestoneRow, ReminderLogRow
from storage.uow import uow_factory
from testkit.seed import new_milestone

T0 = datetime(2026, 11, 1, 10, 0, tzinfo=UTC)


async def seed_active(svc: ContractService, n: int, due: date, client=10, freelancer=20) -> list[int]:
    """n contracts, each with one funded (active) milestone due on `due`."""
    ids = []
    for i in range(n):
        c, inv = await svc.create_contract(client + i * 1000, Role.CLIENT, f"C{i}", "USD", T0)
        await svc.accept_invite(inv.token, freelancer + i * 1000, T0)
        out = await new_milestone(
            svc, client + i * 1000, T0, c.id, title=f"M{i}", amount=100, due_date=due, today=T0.date()
        )
        await svc.perform(Action.ACTIVATE, client + i * 1000, T0, milestone_id=out.milestone.id)
        ids.append(out.milestone.id)
    return ids


AT = datetime(2026, 11, 17, 9, 30, tzinfo=UTC)  # after 09:00 UTC, 3 days before the due date below


async def one_active(uow):
    """One contract with a milestone due on 20 Nov, funded; and a reminder service on it."""
    svc = ContractService(uow)
    [ms] = await seed_active(svc, 1, date(2026, 11, 20))
    return svc, ms, ReminderService(uow)


async def deliver(reminders: ReminderService, due, at) -> list:
    """What the bot does with each found reminder, minus Telegram: take it, then record it sent."""
    sent = []
    for d in due:
        if await reminders.take(d, at) == Verdict.SEND:
            await reminders.finished([d.log_id], LogStatus.SENT, at)
            sent.append(d)
    return sent


async def test_due_reminders_go_out_once_and_the_rest_stay_planned(uow, now):
    svc, ms, reminders = await one_active(uow)
    at = AT
    due = await reminders.sweep(at)
    assert sorted((d.kind, d.recipient_id) for d in due) == [("due_soon", 10), ("due_soon", 20)]
    sent = await deliver(reminders, due, at)
    assert (
        sorted((d.reminder.kind, d.reminder.days, d.subject.title) for d in sent)
        == [(ReminderKind.DUE_SOON, -3, "M0")] * 2
    )
    assert await reminders.sweep(at) == []  # once
    assert await reminders.sweep(at + timedelta(hours=5)) == []  # nothing new before the 1-day one
    later = await reminders.sweep(datetime(2026, 11, 19, 9, 1, tzinfo=UTC))
    assert [(d.kind, d.occurrence) for d in later] == [("due_soon", "2026-11-20:-1")] * 2
    async with uow() as u:
        log = await u.reminders.log(ms)
    # Sent: the 3-day ones. Planned: the 1-day ones (found, not yet taken), due today, overdue 1/3/7 x 2.
    assert Counter(status for *_, status in log) == {"sent": 2, "planned": 9}


async def test_a_reminder_found_but_not_taken_still_goes_out_after_a_crash_one_taken_never_again(uow, now):
    svc, _, reminders = await one_active(uow)
    at = AT
    first = await reminders.sweep(at)
    assert len(first) == 2
    assert await reminders.take(first[0], at) == Verdict.SEND  # may have reached Telegram: a "crash" now
    # The next sweep (no lease to wait out) finds only the one never taken.
    again = await reminders.sweep(at + timedelta(seconds=1))
    assert [d.key for d in again] == [first[1].key]
    assert await reminders.take(again[0], at) == Verdict.SEND
    assert await reminders.take(first[0], at) == Verdict.GONE  # taken once: never sent twice
    assert await reminders.take(first[1], at) == Verdict.GONE


async def test_two_sweepers_never_send_the_same_reminder(database_url, engine, now):
    uow = uow_factory(session_factory(engine))
    svc = ContractService(uow)
    await seed_active(svc, 30, date(2026, 11, 20))
    # A second engine: a second process's own connections.
    other_engine = create_engine(database_url, inline=Settings(_env_file=None).io_shims)
    try:
        a = ReminderService(uow, batch=7, plan_batch=7)
        b = ReminderService(uow_factory(session_factory(other_engine)), batch=7, plan_batch=7)
        at = datetime(2026, 11, 17, 9, 30, tzinfo=UTC)

        async def drain(service):
            got = []
            for _ in range(40):
                got += await deliver(service, await service.sweep(at), at)
                await asyncio.sleep(0)
            return got

        got_a, got_b = await asyncio.gather(drain(a), drain(b))
    finally:
        await other_engine.dispose()
    keys = [(d.milestone_id, d.key) for d in got_a + got_b]
    assert len(keys) == 60  # 30 milestones x (client + freelancer)
    assert len(set(keys)) == 60  # nobody sent one twice
    print(f"\n[{engine.dialect.name}] two sweepers: {len(got_a)} + {len(got_b)} sent, 0 duplicates")


async def test_after_downtime_only_the_latest_of_each_kind_goes_out_across_batches(uow, now):
    """Planned rows pass their moments while the bot is down; batches smaller than the backlog must
    not let an older reminder of a kind out before the newer one is seen."""
    svc = ContractService(uow)
    await seed_active(svc, 6, date(2026, 11, 20))
    reminders = ReminderService(uow, batch=5, plan_batch=4)
    assert await reminders.sweep(T0) == []  # planned ahead, nothing due yet
    at = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)  # down from before the 3-day ones until after overdue +7
    sent = []
    for _ in range(30):
        due = await reminders.sweep(at)
        if not due:
            break
        sent += await deliver(reminders, due, at)
    assert sorted((d.kind, d.occurrence) for d in sent) == [("overdue", "2026-11-20:+7")] * 12


async def test_a_change_after_the_sweep_found_a_reminder_stops_it(uow, now):
    svc, ms, reminders = await one_active(uow)
    at = AT
    due = await reminders.sweep(at)
    await svc.perform(Action.SUBMIT, 20, at, milestone_id=ms, note="done")  # between the sweep and the send
    assert [await reminders.take(d, at) for d in due] == [Verdict.SKIP, Verdict.SKIP]
    async with uow() as u:
        log = await u.reminders.log(ms)
    assert Counter(status for *_, status in log if status != "planned") == {"skipped": 2}


async def test_quiet_hours_set_after_the_sweep_hold_a_reminder_until_they_end(uow, now):
    svc, _, reminders = await one_active(uow)
    at = AT
    due = await reminders.sweep(at)
    freelancer = await svc.profile(20) or UserProfile(id=20)
    freelancer.quiet_start, freelancer.quiet_end = time(9), time(11)
    await svc.save_profile(freelancer, at)
    verdicts = {d.recipient_id: await reminders.take(d, at) for d in due}
    assert verdicts == {10: Verdict.SEND, 20: Verdict.WAIT}
    assert await reminders.sweep(at + timedelta(minutes=30)) == []
    after = await reminders.sweep(datetime(2026, 11, 17, 11, 0, 1, tzinfo=UTC))
    assert [(d.recipient_id, d.occurrence) for d in after] == [(20, "2026-11-20:-3")]
    assert [d.reminder.days for d in await deliver(reminders, after, datetime(2026, 11, 17, 11, 0, 1, tzinfo=UTC))] == [
        -3
    ]


async def test_auto_release_through_the_same_domain_service(uow, now):
    svc = ContractService(uow, review_days=14)
    [ms] = await seed_active(svc, 1, date(2026, 11, 20))
    await svc.perform(Action.SUBMIT, 20, T0, milestone_id=ms, note="done")
    reminders = ReminderService(uow)
    at = T0 + timedelta(days=14, seconds=1)
    auto = [d for d in await reminders.sweep(at) if d.kind == "auto_release"]
    assert len(auto) == 1
    assert await reminders.take(auto[0], at) == Verdict.SEND
    out = await svc.auto_release(ms, at)
    assert out.milestone.status is MilestoneStatus.RELEASED and out.milestone.auto_released
    assert [e.kind.value for e in await svc.ledger(out.contract.id)] == ["fund", "release"]


async def test_retry_later_hands_a_reminder_back(uow, now):
    svc, _, reminders = await one_active(uow)
    at = AT
    first = await reminders.sweep(at)
    assert await reminders.take(first[0], at) == Verdict.SEND
    await reminders.retry_later(first[0], at)
    again = await reminders.sweep(at + timedelta(seconds=1))
    assert sorted(d.key for d in again) == sorted(d.key for d in first)


async def test_the_sweep_queries_use_their_partial_indexes(engine, uow):
    """Both sweep queries exactly as the bot sends them, with their parameters. On PostgreSQL with
    a generic plan, as asyncpg's prepared statements get after five runs: the partial indexes'
    conditions must be literals in the query for such a plan to use them."""
    sent: list[tuple[str, object]] = []
    indexes: list[tuple[str, ...]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if "next_reminder_at <=" in statement or "reminder_log.due_at <=" in statement:
            sent.append((statement, parameters))
            # The sweep's first look (changed? due?): both its parts through the partial indexes.
            indexes.append(
                ("ix_milestones_next_reminder_at", "ix_reminder_log_planned")
                if len(sent) == 1
                else ("ix_milestones_next_reminder_at",)
                if len(sent) == 2
                else ("ix_reminder_log_planned",)
            )

    event.listen(engine.sync_engine, "before_cursor_execute", grab)
    try:
        async with uow() as u:
            await u.reminders.look(AT, 500)
            await u.reminders.due_subjects(AT, 500)
            await u.reminders.due(AT, 500)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", grab)
    assert len(sent) == 3
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        for (statement, parameters), wanted in zip(sent, indexes, strict=True):
            if engine.dialect.name == "sqlite":
                plan = (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, tuple(parameters))).all()
            else:
                # A generic plan, and scans ruled out so that an empty test table does not hide whether
                # the partial index can serve the query at all.
                await raw.execute(
                    "SET plan_cache_mode = force_generic_plan; SET enable_seqscan = off; "
                    "PREPARE sweep_query AS " + statement
                )
                values = ", ".join(f"'{v.isoformat()}'" if isinstance(v, datetime) else repr(v) for v in parameters)
                plan = await raw.fetch(f"EXPLAIN EXECUTE sweep_query({values})")
                await raw.execute("DEALLOCATE sweep_query; RESET plan_cache_mode; RESET enable_seqscan")
            for index in wanted:
                assert any(index in str(row) for row in plan), "\n".join(str(row[0]) for row in plan)


async def test_replan_stores_exactly_what_the_orm_stores(uow, now):
    """Planned rows are written as plain SQL for speed: the same rows and values as through the ORM,
    batches of any size, a key twice in one batch once, skipped ones recorded as skipped, and a
    reminder already sent kept as it is."""
    svc = ContractService(uow)
    a, b = await seed_active(svc, 2, date(2026, 11, 20))
    at = datetime(2026, 11, 17, 10, 30, 15, 123456, tzinfo=ZoneInfo("Europe/Berlin"))  # stored as UTC
    rows = [
        Planned(
            Reminder(ReminderKind.OVERDUE, f"occ{i}", at, 10, Role.CLIENT, 1),
            at + timedelta(minutes=i),
            LogStatus.PLANNED,
        )
        for i in range(1200)
    ]  # more rows than one INSERT takes on SQLite
    rows.append(rows[5])
    rows.append(Planned(Reminder(ReminderKind.DUE_SOON, "superseded", at, 10, Role.CLIENT, -3), at, LogStatus.SKIPPED))

    def planned_by_the_orm() -> ReminderLogRow:
        return ReminderLogRow(
            milestone_id=b,
            kind="overdue",
            occurrence="orm",
            recipient_id=10,
            status="planned",
            due_at=at + timedelta(minutes=7),
        )

    async with uow() as u:
        u.session.add(
            ReminderLogRow(
                milestone_id=a,
                kind="overdue",
                occurrence="occ3",
                recipient_id=10,
                status="sent",
                due_at=at,
                claimed_at=now,
                sent_at=now,
            )
        )
        u.session.add(planned_by_the_orm())
        await u.commit()
    async with uow() as u:
        await u.reminders.replan({a: rows, b: []})
        await u.commit()
    async with uow() as u:
        log = await u.reminders.log(a)
        assert (
            len(log) == 1201
            and ("overdue", "occ3", 10, "sent") in log
            and ("due_soon", "superseded", 10, "skipped") in log
        )
        assert Counter(status for *_, status in log) == {"planned": 1199, "sent": 1, "skipped": 1}
        assert await u.reminders.log(b) == []  # its old plan replaced by an empty one
        assert (await u.session.get(MilestoneRow, a)).next_reminder_at is None
        assert (await u.session.get(MilestoneRow, b)).next_reminder_at is None
        u.session.add(planned_by_the_orm())
        await u.commit()
    async with uow() as u:
        row = (await u.session.execute(select(ReminderLogRow).where(ReminderLogRow.occurrence == "occ7"))).scalar_one()
        assert (row.status, row.due_at, row.claimed_at, row.sent_at) == (
            "planned",
            at + timedelta(minutes=7),
            None,
            None,
        )
        assert row.due_at.tzinfo is UTC
        # Byte for byte what the ORM wrote for the same moment (SQLite keeps datetimes as text).
        raw = (
            await u.session.execute(
                text("SELECT occurrence, due_at FROM reminder_log WHERE occurrence IN ('occ7', 'orm')")
            )
        ).all()
        assert len(raw) == 2 and raw[0][1:] == raw[1][1:]


async def test_the_upgrade_plans_again_claims_never_begun_and_keeps_the_rest(database_url):
    """0003: a claim never begun ('queued') was never sent, so it becomes planned; one begun or
    sent keeps its record. The downgrade gives planned rows back to the sweep as a look now."""
    from alembic import command

    from storage.migrate import alembic_config

    def migrate(target: str, down: bool = False):
        def run(sync_connection):
            cfg = alembic_config()
            cfg.attributes["connection"] = sync_connection
            (command.downgrade if down else command.upgrade)(cfg, target)

        return run

    eng = create_engine(database_url, inline=Settings(_env_file=None).io_shims)
    try:
        # Seeded by today's code at head, then taken back to 0002 (the rows stay): seeding at 0002 would
        # write columns that later migrations add.
        async with eng.begin() as conn:
            await conn.run_sync(migrate("head"))
        uow = uow_factory(session_factory(eng))
        [ms] = await seed_active(ContractService(uow), 1, date(2026, 11, 20))
        async with eng.begin() as conn:
            await conn.run_sync(migrate("0002", down=True))
        async with eng.begin() as conn:
            for occurrence, status in (("a", "queued"), ("b", "sending"), ("c", "sent")):
                await conn.execute(
                    text(
                        "INSERT INTO reminder_log (milestone_id, kind, occurrence, recipient_id, status, due_at, claimed_at) "
                        "VALUES (:m, 'due_soon', :o, 10, :s, :t, :t)"
                    ),
                    {"m": ms, "o": occurrence, "s": status, "t": T0},
                )
            await conn.execute(text("UPDATE milestones SET next_reminder_at = NULL"))
            await conn.run_sync(migrate("head"))
            rows = (
                await conn.execute(
                    text("SELECT occurrence, status, claimed_at IS NULL FROM reminder_log ORDER BY occurrence")
                )
            ).all()
        assert [tuple(r) for r in rows] == [("a", "planned", True), ("b", "sending", False), ("c", "sent", False)]
        if eng.dialect.name == "sqlite":  # the table was rebuilt: ids must still never be used twice
            async with eng.connect() as conn:
                ddl = (await conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'reminder_log'"))).scalar()
            assert "AUTOINCREMENT" in ddl
        async with eng.begin() as conn:
            await conn.run_sync(migrate("0002", down=True))
            rows = (await conn.execute(text("SELECT occurrence, status FROM reminder_log ORDER BY occurrence"))).all()
            looks = (
                await conn.execute(text("SELECT count(*) FROM milestones WHERE next_reminder_at IS NOT NULL"))
            ).scalar()
        assert [tuple(r) for r in rows] == [("b", "sending"), ("c", "sent")] and looks == 1
        if eng.dialect.name == "sqlite":
            async with eng.connect() as conn:
                ddl = (await conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'reminder_log'"))).scalar()
            assert "AUTOINCREMENT" in ddl
    finally:
        await eng.dispose()


async def test_a_reminder_held_for_quiet_hours_waits_until_they_end(uow, now):
    """Quiet hours that start covering a found reminder before it is taken (no re-plan in between):
    the reminder is held, moved to the end of the quiet hours, and goes out then."""
    svc, _, reminders = await one_active(uow)
    due = await reminders.sweep(AT)
    freelancer = await svc.profile(20) or UserProfile(id=20)
    freelancer.quiet_start, freelancer.quiet_end = time(9), time(11)
    await svc.save_profile(freelancer)  # stored without asking for a re-plan: only `take` can notice
    assert {d.recipient_id: await reminders.take(d, AT) for d in due} == {10: Verdict.SEND, 20: Verdict.WAIT}
    assert await reminders.sweep(AT + timedelta(minutes=1)) == []
    assert await reminders.sweep(datetime(2026, 11, 17, 10, 59, tzinfo=UTC)) == []
    end = datetime(2026, 11, 17, 11, 0, 1, tzinfo=UTC)
    assert [(d.recipient_id, d.occurrence) for d in await deliver(reminders, await reminders.sweep(end), end)] == [
        (20, "2026-11-20:-3")
    ]


async def test_a_skipped_reminder_is_not_brought_back_by_a_later_plan(uow, now):
    """Planned late (the milestone changed while the bot was down): of the due-soon reminders only
    the 1-day one goes out and the 3-day one is recorded skipped. A time-zone change then moves the
    1-day one ahead again; the 3-day one must not become "the latest due" and go out after all."""
    svc, ms, reminders = await one_active(uow)
    at = datetime(2026, 11, 19, 10, 0, tzinfo=UTC)
    sent = await deliver(reminders, await reminders.sweep(at), at)
    assert sorted((d.recipient_id, d.occurrence) for d in sent) == [(10, "2026-11-20:-1"), (20, "2026-11-20:-1")]
    freelancer = await svc.profile(20) or UserProfile(id=20)
    freelancer.timezone = "UTC-05:00"  # 09:00 there is 14:00 UTC: the 1-day moment is ahead again
    await svc.save_profile(freelancer, at)
    for moment in (at + timedelta(minutes=30), datetime(2026, 11, 19, 14, 30, tzinfo=UTC)):
        assert [
            (d.kind, d.occurrence)
            for d in await deliver(reminders, await reminders.sweep(moment), moment)
            if d.kind == "due_soon"
        ] == []
    async with uow() as u:
        log = await u.reminders.log(ms)
    assert ("due_soon", "2026-11-20:-3", 20, "skipped") in log


async def test_a_time_zone_change_plans_a_released_milestones_reminders_again(uow, now):
    """'Next milestone waiting' hangs on a released milestone: a client's new zone re-plans it too."""
    svc, ms, reminders = await one_active(uow)
    await svc.perform(Action.SUBMIT, 20, T0, milestone_id=ms, note="done")
    out = await svc.perform(Action.APPROVE, 10, T0, milestone_id=ms)
    await new_milestone(
        svc, 10, T0, out.contract.id, title="Next", amount=100, due_date=date(2026, 12, 20), today=T0.date()
    )
    await reminders.sweep(T0)  # planned: next milestone waiting, 1 and 3 days after the release
    async with uow() as u:
        assert ("next_waiting", f"{T0.isoformat()}:+1", 10, "planned") in await u.reminders.log(ms)
        assert (await u.session.get(MilestoneRow, ms)).next_reminder_at is None
    client = await svc.profile(10) or UserProfile(id=10)
    client.timezone = "Asia/Tokyo"
    await svc.save_profile(client, T0 + timedelta(hours=1))
    async with uow() as u:
        assert (await u.session.get(MilestoneRow, ms)).next_reminder_at == T0 + timedelta(hours=1)


async def test_a_late_skip_leaves_a_reminder_another_process_is_sending(uow, now):
    svc, ms, reminders = await one_active(uow)
    due = await reminders.sweep(AT)
    assert await reminders.take(due[0], AT) == Verdict.SEND  # process B is sending it
    await svc.perform(Action.SUBMIT, 20, AT, milestone_id=ms, note="done")  # then the milestone changes
    assert await reminders.take(due[0], AT) == Verdict.GONE  # process A, from the same sweep, would skip it
    async with uow() as u:
        statuses = {(k, o, r): st for k, o, r, st in await u.reminders.log(ms)}
    assert statuses[due[0].key] == "sending"  # B's outcome is still B's to record


async def test_a_reminder_no_longer_true_is_not_recorded_so_a_new_zone_can_send_it(uow, now):
    """Planned late in Tokyo, "due today" is already past there and is dropped, not recorded: when the
    freelancer then moves to Los Angeles, where it is still the morning of the due date, it goes out."""
    svc, ms, reminders = await one_active(uow)
    await svc.save_profile(UserProfile(id=20, timezone="Asia/Tokyo"))
    at = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # 21 Nov 01:00 in Tokyo
    sent = await deliver(reminders, await reminders.sweep(at), at)
    assert [(d.recipient_id, d.kind) for d in sent if d.kind == "due_today"] == []
    await svc.save_profile(UserProfile(id=20, timezone="America/Los_Angeles"), at)  # 20 Nov 08:00 there
    nine_la = datetime(2026, 11, 20, 17, 0, 30, tzinfo=UTC)
    sent = await deliver(reminders, await reminders.sweep(nine_la), nine_la)
    assert [(d.recipient_id, d.kind) for d in sent] == [(20, "due_today")]


async def test_a_time_zone_change_finds_the_persons_planned_milestones_through_the_index(engine, uow, now):
    """touch_user must look up planned reminders per milestone (the key's index), never list them all."""
    if engine.dialect.name != "sqlite":
        return
    sent: list[tuple[str, object]] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE milestones"):
            sent.append((statement, parameters))

    event.listen(engine.sync_engine, "before_cursor_execute", grab)
    try:
        async with uow() as u:
            await u.reminders.touch_user(10, AT)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", grab)
    [(statement, parameters)] = sent
    async with engine.connect() as conn:
        plan = " | ".join(
            str(row) for row in (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, tuple(parameters))).all()
        )
    assert "SCAN reminder_log" not in plan and "SEARCH reminder_log USING INDEX" in plan, plan
    assert "(milestone_id=?)" in plan, plan
