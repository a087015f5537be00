"""Benchmark 3: the reminder sweep at 10k / 100k / 1M milestones (most not due), SQLite and PostgreSQL.

Run: .venv/bin/python -m bench.sweep_scale [--quick] [--sizes 10000,100000,1000000] [--no-postgres]
Prints, per database and size: the sweep with nothing due (median, p99) and the claim of 500 due
reminders (median, p99), how both grow from the smallest to the largest size, and the process's
memory (peak RSS, and its growth during the timed sweeps). Also, so that no cost is left out: the
planning of 250 changed milestones (done by the first sweep after a change) and the bookkeeping
each reminder costs when it goes out (take + finished), per reminder.

The seed is planned as the bot plans it: every active milestone's reminders are written ahead by
the sweep. For each claim, 250 milestones become one day overdue at 08:00 and are planned then
(a sweep at 08:00); at 12:00 their "1 day overdue" reminders (client and freelancer, 09:00 UTC)
are due: 500 at once, as when many reminders share a moment.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, text, update  # noqa: E402

from bot.heap import settle_heap  # noqa: E402
from domain.reminder_service import ReminderService  # noqa: E402
from domain.reminders import LogStatus, Verdict  # noqa: E402
from storage.db import create_engine, session_factory, start_wal_checkpointer  # noqa: E402
from storage.migrate import upgrade_to_head  # noqa: E402
from storage.models import ContractRow, MilestoneRow, ReminderLogRow, UserRow  # noqa: E402
from storage.uow import uow_factory  # noqa: E402

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
SEEDED_AT = NOW - timedelta(days=2)
CHANGED_AT = NOW - timedelta(hours=4)  # before the 09:00 overdue reminders
PER_CONTRACT = 10  # 7 released, 1 active (reminders ahead), 2 not funded
PARTIES = 1000
CHUNK = 20_000


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values, p):
    values = sorted(values)
    return values[max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))]


def milestone_rows(first_contract: int, contracts: int):
    for c in range(first_contract, first_contract + contracts):
        for seq in range(1, PER_CONTRACT + 1):
            active = seq == 8
            yield dict(
                contract_id=c,
                seq=seq,
                title=f"M{c}-{seq}",
                amount=10_000,
                description="",
                due_date=TODAY + timedelta(days=35 if active else seq),
                created_at=NOW - timedelta(days=60),
                status="released" if seq < 8 else ("active" if active else "not_funded"),
                proposed_by=None,
                funded_at=NOW - timedelta(days=40) if seq <= 8 else None,
                submitted_at=None,
                released_at=NOW - timedelta(days=50) if seq < 8 else None,
                refunded_at=None,
                auto_released=False,
                revision_count=0,
                submission_note="",
                change_reason="",
                refund_requested_at=None,
                # Active milestones are planned by the sweep after the seed, as any change is.
                next_reminder_at=SEEDED_AT if active else None,
            )


async def seed(engine, n: int) -> None:
    """n milestones, a tenth of them active with their reminders planned ahead by the real sweep."""
    contracts = n // PER_CONTRACT
    async with engine.begin() as conn:
        await conn.execute(
            insert(UserRow),
            [
                dict(id=i, first_name=f"P{i}", username=None, timezone=None, started=True, blocked=False)
                for i in range(1, 2 * PARTIES + 1)
            ],
        )
        for start in range(1, contracts + 1, CHUNK // PER_CONTRACT):
            count = min(CHUNK // PER_CONTRACT, contracts - start + 1)
            await conn.execute(
                insert(ContractRow),
                [
                    dict(
                        id=c,
                        title=f"C{c}",
                        currency="USD",
                        status="active",
                        created_by=1 + c % PARTIES,
                        created_at=NOW - timedelta(days=90),
                        client_id=1 + c % PARTIES,
                        freelancer_id=PARTIES + 1 + c % PARTIES,
                        review_days=14,
                        ended_at=None,
                        group_chat_id=None,
                        version=0,
                    )
                    for c in range(start, start + count)
                ],
            )
            await conn.execute(insert(MilestoneRow), list(milestone_rows(start, count)))
    planner = ReminderService(uow_factory(session_factory(engine)), plan_batch=5000)
    assert await planner.sweep(SEEDED_AT) == []
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
            # As for SQLite below: a running server has long written out the seed's gigabyte of
            # dirty pages; measuring while its checkpointer does that measures the disk.
            await conn.execute(text("CHECKPOINT"))
    else:
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))
        # The bulk load went into the WAL in one go (hundreds of MB at 1M); a running bot's WAL never
        # gets near that (its checkpoints run every second), so start from a checkpointed file.
        with sqlite3.connect(engine.url.database) as raw:
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


async def make_due(engine, service: ReminderService, contracts: list[int]) -> float:
    """These contracts' active milestones become one day overdue at 08:00 and are planned then (the
    sweep at 08:00 finds nothing due yet). Returns the milliseconds that planning took."""
    ids = [(c - 1) * PER_CONTRACT + 8 for c in contracts]
    async with engine.begin() as conn:
        await conn.execute(
            update(MilestoneRow)
            .where(MilestoneRow.id.in_(ids))
            .values(due_date=TODAY - timedelta(days=1), next_reminder_at=CHANGED_AT)
        )
    t = time.perf_counter()
    assert await service.sweep(CHANGED_AT) == []
    return (time.perf_counter() - t) * 1000


async def delivered(engine, service: ReminderService, due, sample: int) -> list[float]:
    """Each found reminder as the bot handles it minus Telegram: taken, then recorded sent. A sample
    is timed one by one (ms per reminder); the rest are recorded sent in one statement."""
    times = []
    for d in due[:sample]:
        t = time.perf_counter()
        assert await service.take(d, NOW) is Verdict.SEND
        await service.finished([d.log_id], LogStatus.SENT, NOW)
        times.append((time.perf_counter() - t) * 1000)
    async with engine.begin() as conn:
        await conn.execute(
            update(ReminderLogRow)
            .where(ReminderLogRow.status == "planned", ReminderLogRow.due_at <= NOW)
            .values(status="sent", sent_at=NOW)
        )
    return times


async def measure(url: str, n: int, repeats: int) -> dict:
    engine = create_engine(url, pool_size=2)
    await upgrade_to_head(engine)
    t = time.perf_counter()
    await seed(engine, n)
    seed_s = time.perf_counter() - t
    service = ReminderService(uow_factory(session_factory(engine)), batch=500)
    # Fresh contracts for every repeat: a reminder already sent is (rightly) never sent again.
    order = random.Random(n).sample(range(1, n // PER_CONTRACT + 1), min(n // PER_CONTRACT, 250 * repeats))
    await service.sweep(NOW)  # warm the pool and caches
    # As the bot does once it has started: heap settled (bot/heap.py), SQLite checkpoints in a thread.
    settle_heap()
    checkpointer = start_wal_checkpointer(engine)
    rss_before = rss_mb()
    idle = []
    for _ in range(repeats * 2):
        t = time.perf_counter()
        got = await service.sweep(NOW)
        idle.append((time.perf_counter() - t) * 1000)
        assert got == []
    claim, replan, per_reminder = [], [], []
    for i in range(min(repeats, len(order) // 250)):
        replan.append(await make_due(engine, service, order[i * 250 : (i + 1) * 250]))
        t = time.perf_counter()
        got = await service.sweep(NOW)
        claim.append((time.perf_counter() - t) * 1000)
        assert len(got) == 500 and {d.kind for d in got} == {"overdue"}, len(got)
        per_reminder += await delivered(engine, service, got, 10)
    rss_after = rss_mb()
    if checkpointer is not None:
        checkpointer.stop()
    await engine.dispose()
    return dict(
        seed_s=seed_s,
        idle=idle,
        claim=claim,
        replan=replan,
        per_reminder=per_reminder,
        rss=rss_after,
        rss_growth=rss_after - rss_before,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="10k milestones only, few repeats (under a minute)")
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--no-postgres", action="store_true")
    args = ap.parse_args()
    sizes = [10_000] if args.quick else [int(s) for s in args.sizes.split(",")]
    repeats = 4 if args.quick else 20
    targets = []
    with tempfile.TemporaryDirectory() as tmp:
        targets.append(("SQLite", lambda n: f"sqlite+aiosqlite:///{tmp}/sweep-{n}.sqlite3", None))
        server = None
        if not args.no_postgres:
            from testkit.pg_server import PostgresServer, PostgresUnavailable

            try:
                server = PostgresServer().start()
                admin = server.url()
                targets.append(("PostgreSQL", lambda n: admin.rsplit("/", 1)[0] + f"/sweep{n}", admin))
            except PostgresUnavailable as exc:
                print(f"PostgreSQL skipped: {exc}")
        try:
            for name, url_for, admin in targets:
                results = {}
                for n in sizes:
                    if admin:
                        asyncio.run(_create_db(admin, f"sweep{n}"))
                    results[n] = asyncio.run(measure(url_for(n), n, repeats))
                    r = results[n]
                    print(
                        f"{name:<10} {n:>9,} milestones: seeded in {r['seed_s']:.1f} s | nothing due: "
                        f"median {statistics.median(r['idle']):.2f} ms, p99 {pct(r['idle'], 99):.2f} ms | "
                        f"claim 500 due: median {statistics.median(r['claim']):.1f} ms, p99 {pct(r['claim'], 99):.1f} ms "
                        f"| planning 250 changed: median {statistics.median(r['replan']):.1f} ms "
                        f"| per reminder sent (take + finished): median {statistics.median(r['per_reminder']):.2f} ms "
                        f"| peak RSS {r['rss']:.0f} MB, growth during sweeps {r['rss_growth']:+.1f} MB",
                        flush=True,
                    )
                if len(sizes) > 1:
                    lo, hi = results[sizes[0]], results[sizes[-1]]
                    print(
                        f"{name:<10} growth {sizes[0]:,} -> {sizes[-1]:,}: nothing due x"
                        f"{statistics.median(hi['idle']) / statistics.median(lo['idle']):.2f}, claim 500 x"
                        f"{statistics.median(hi['claim']) / statistics.median(lo['claim']):.2f}"
                    )
        finally:
            if server:
                server.stop()
    print("Targets at 1M: nothing due <= 5 ms; claim 500 <= 10 ms p99; memory not growing with milestones.")


async def _create_db(admin_url: str, name: str) -> None:
    engine = create_engine(admin_url)
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await engine.dispose()


if __name__ == "__main__":
    main()
