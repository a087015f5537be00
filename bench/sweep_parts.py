"""The reminder sweep part by part (supports benchmark 3's profile).

Run: .venv/bin/python -m bench.sweep_parts [--quick] [--size N] [--postgres]
Seeds N milestones as bench.sweep_scale does (reminders planned ahead by the real sweep), settles
the heap as the bot does, then times the steps of the three things the sweep does, one by one:
  - claim: the sweep at the moment 500 planned reminders are due (up to 12 times);
  - planning: the sweep after 250 milestones changed (it writes their reminders ahead);
  - per reminder: taking one right before it is sent and recording it sent.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import update  # noqa: E402

from bench.sweep_scale import CHANGED_AT, NOW, PER_CONTRACT, TODAY, _create_db, seed  # noqa: E402
from bot.heap import settle_heap  # noqa: E402
from domain.reminder_service import DueReminder, ReminderService  # noqa: E402
from domain.reminders import LogStatus, Verdict, sweep_plan  # noqa: E402
from storage.db import create_engine, session_factory, start_wal_checkpointer  # noqa: E402
from storage.migrate import upgrade_to_head  # noqa: E402
from storage.models import MilestoneRow, ReminderLogRow  # noqa: E402
from storage.uow import uow_factory  # noqa: E402


class Marks:
    def __init__(self, parts: dict[str, list[float]], group: str) -> None:
        self.parts, self.group, self.last = parts, group, time.perf_counter()
        self.start = self.last

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.parts[f"{self.group}: {name}"].append((now - self.last) * 1000)
        self.last = now

    def total(self) -> None:
        self.parts[f"{self.group}: total"].append((time.perf_counter() - self.start) * 1000)


async def measure(url: str, n: int, claims: int) -> dict[str, list[float]]:
    engine = create_engine(url, pool_size=2)
    await upgrade_to_head(engine)
    await seed(engine, n)
    service = ReminderService(uow_factory(session_factory(engine)), batch=500)
    await service.sweep(NOW)
    # As the bot does once it has started: heap settled (bot/heap.py), SQLite checkpoints in a thread.
    settle_heap()
    checkpointer = start_wal_checkpointer(engine)
    order = random.Random(1).sample(range(1, n // PER_CONTRACT + 1), 250 * claims)
    parts: dict[str, list[float]] = defaultdict(list)
    for i in range(claims):
        ids = [(c - 1) * PER_CONTRACT + 8 for c in order[i * 250 : (i + 1) * 250]]
        async with engine.begin() as conn:
            await conn.execute(
                update(MilestoneRow)
                .where(MilestoneRow.id.in_(ids))
                .values(due_date=TODAY - timedelta(days=1), next_reminder_at=CHANGED_AT)
            )
        mark = Marks(parts, "planning 250 changed")
        async with service.uow_factory() as uow:
            mark("begin")
            any_changed, rows = await uow.reminders.look(CHANGED_AT, 500)
            assert any_changed and rows == []
            mark("look (changed? due?)")
            changed = await uow.reminders.due_subjects(CHANGED_AT, 500)
            mark("changed query")
            schedule = {s.milestone_id: sweep_plan(s, CHANGED_AT, service.settings).schedule() for s in changed}
            mark("planning")
            await uow.reminders.replan(schedule)
            mark("writing rows")
            assert await uow.reminders.due(CHANGED_AT, 500) == []
            mark("due query")
            await uow.commit()
            mark("commit")
        mark("close")
        mark.total()
        mark = Marks(parts, "claim 500")
        async with service.uow_factory() as uow:
            mark("begin")
            changed, rows = await uow.reminders.look(NOW, 500)
            assert not changed
            mark("look (changed? due?)")
            due = [DueReminder.from_row(row) for row in rows]
            mark("found reminders")
            await uow.commit()
            mark("commit")
        mark("close")
        mark.total()
        assert len(due) == 500
        for d in due[:10]:
            mark = Marks(parts, "per reminder sent")
            async with service.uow_factory() as uow:
                mark("begin")
                subject = await uow.reminders.subject(d.milestone_id)
                mark("milestone now")
                verdict = sweep_plan(subject, NOW, service.settings).decide(d.key).verdict
                mark("check")
                assert verdict is Verdict.SEND and await uow.reminders.start_sending(d.log_id, NOW)
                mark("take")
                await uow.commit()
                mark("commit")
            await service.finished([d.log_id], LogStatus.SENT, NOW)
            mark("record sent")
            mark.total()
        async with engine.begin() as conn:  # the rest delivered, as in bench.sweep_scale
            await conn.execute(
                update(ReminderLogRow)
                .where(ReminderLogRow.status == "planned", ReminderLogRow.due_at <= NOW)
                .values(status="sent")
            )
    if checkpointer is not None:
        checkpointer.stop()
    await engine.dispose()
    return parts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="10k milestones")
    ap.add_argument("--size", type=int, default=None)
    ap.add_argument("--postgres", action="store_true", help="on a PostgreSQL server instead of SQLite")
    args = ap.parse_args()
    n = args.size or (10_000 if args.quick else 100_000)
    claims = min(12, n // PER_CONTRACT // 250)  # fresh milestones for every claim
    with tempfile.TemporaryDirectory() as tmp:
        if args.postgres:
            from testkit.pg_server import PostgresServer

            server = PostgresServer().start()
            try:
                admin = server.url()
                asyncio.run(_create_db(admin, "parts"))
                parts = asyncio.run(measure(admin.rsplit("/", 1)[0] + "/parts", n, claims))
            finally:
                server.stop()
        else:
            parts = asyncio.run(measure(f"sqlite+aiosqlite:///{tmp}/parts.sqlite3", n, claims))
    print(f"{'PostgreSQL' if args.postgres else 'SQLite'}, {n:,} milestones, {claims} rounds (median / max ms):")
    for name, values in parts.items():
        print(f"  {name:<36} {statistics.median(values):7.2f} {max(values):7.2f}")


if __name__ == "__main__":
    main()
