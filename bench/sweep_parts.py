"""The reminder sweep's claim of 500, part by part (supports benchmark 3's profile).

Run: .venv/bin/python -m bench.sweep_parts [--quick] [--size N]
Seeds N milestones on SQLite as bench.sweep_scale does, settles the heap as the bot does, then
runs the steps of ReminderService.sweep one by one with a timer around each (up to 12 claims of 500).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from bench.sweep_scale import NOW, PER_CONTRACT, make_due, seed  # noqa: E402
from bot.heap import settle_heap  # noqa: E402
from domain.reminders import sweep_plan  # noqa: E402
from domain.services import ReminderService  # noqa: E402
from storage.db import create_engine, session_factory, start_wal_checkpointer  # noqa: E402
from storage.migrate import upgrade_to_head  # noqa: E402
from storage.uow import uow_factory  # noqa: E402


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
    clock = time.perf_counter
    for i in range(claims):
        await make_due(engine, order[i * 250:(i + 1) * 250])
        marks = [("start", clock())]
        async with service.uow_factory() as uow:
            marks.append(("begin", clock()))
            await uow.reminders.requeue_stale(NOW, NOW)
            marks.append(("requeue check", clock()))
            subjects = await uow.reminders.due_subjects(NOW, 500)
            marks.append(("due query", clock()))
            items, next_at = [], {}
            for s in subjects:
                p = sweep_plan(s, NOW, service.settings)
                items += [(s.milestone_id, r, "queued") for r in p.send]
                next_at[s.milestone_id] = p.next_at
            marks.append(("planning", clock()))
            won = await uow.reminders.claim(items, NOW)
            marks.append(("claim insert", clock()))
            await uow.reminders.set_next(next_at)
            marks.append(("next look", clock()))
            await uow.commit()
            marks.append(("commit", clock()))
        marks.append(("close", clock()))
        assert len(won) == 500, len(won)
        for (_, a), (name, b) in zip(marks, marks[1:], strict=False):
            parts[name].append((b - a) * 1000)
        parts["total"].append((marks[-1][1] - marks[0][1]) * 1000)
        async with engine.begin() as conn:  # delivered, as in bench.sweep_scale
            await conn.execute(text("UPDATE reminder_log SET status = 'sent' WHERE status = 'queued'"))
    if checkpointer is not None:
        checkpointer.stop()
    await engine.dispose()
    return parts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="10k milestones")
    ap.add_argument("--size", type=int, default=None)
    args = ap.parse_args()
    n = args.size or (10_000 if args.quick else 100_000)
    claims = min(12, n // PER_CONTRACT // 250)  # fresh milestones for every claim
    with tempfile.TemporaryDirectory() as tmp:
        parts = asyncio.run(measure(f"sqlite+aiosqlite:///{tmp}/parts.sqlite3", n, claims))
    print(f"SQLite, {n:,} milestones, claim of 500, {claims} claims (median / max ms):")
    for name, values in parts.items():
        print(f"  {name:<14} {statistics.median(values):7.2f} {max(values):7.2f}")


if __name__ == "__main__":
    main()
