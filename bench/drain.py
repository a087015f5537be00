"""Benchmark 4: 2,000 reminders falling due at once, against a server that enforces a send rate.

Run: .venv/bin/python -m bench.drain [--quick] [--count N] [--rate R]
The fake Bot API answers 429 (retry_after) to sendMessage above R per second. The bot (a real
process, SEND_RATE_PER_SECOND=R) must drain the backlog at close to R without provoking any 429.
Since issue 10 this is two stages: the reminder sweep checks each due reminder and queues it as an
outbox row (database work only), and the outbox sender delivers the rows at its pace (a token bucket
of R a second). Prints both: how long the sweep took to queue them all (read from the bot's database),
and the achieved delivery rate (first to last delivered reminder), its ratio to R, the 429 count and
what the outbox holds at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sqlite3
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from testkit.fake_telegram import FakeTelegram  # noqa: E402
from testkit.process import TOKEN, BotProcess  # noqa: E402
from testkit.seed import contract_with, seed  # noqa: E402

REMINDER = 2  # bot.turn.Priority.REMINDER: the outbox rows the sweep queues


class DrainingBot(BotProcess):
    def __init__(self, *args, rate: float) -> None:
        super().__init__(*args)
        self.rate = rate

    def env(self) -> dict[str, str]:
        env = super().env()
        env.update(REMINDER_SWEEP_SECONDS="0.5", SEND_RATE_PER_SECOND=str(self.rate), LOG_LEVEL="WARNING")
        return env


class QueueWatch(threading.Thread):
    """Reads the bot's outbox (a read-only WAL reader: it never blocks the bot's writes) every 20 ms and
    notes when the first reminder was queued and when all `count` were."""

    def __init__(self, db: Path, count: int) -> None:
        super().__init__(daemon=True)
        self.db, self.count = db, count
        self.first: float | None = None
        self.all: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=5)
        try:
            while not self.stop.is_set() and self.all is None:
                try:
                    (n,) = conn.execute("SELECT count(*) FROM outbox WHERE priority = ?", (REMINDER,)).fetchone()
                except sqlite3.OperationalError:  # the table is not there yet (the bot migrates at start)
                    n = 0
                now = time.time()
                if n and self.first is None:
                    self.first = now
                if n >= self.count:
                    self.all = now
                self.stop.wait(0.02)
        finally:
            conn.close()


def outbox_summary(db: Path) -> str:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT status, count(*), sum(attempts), sum(maybe_sent) FROM outbox WHERE priority = ? GROUP BY status",
            (REMINDER,),
        ).fetchall()
    return ", ".join(f"{status} {n} ({tries} calls, {maybe} maybe sent)" for status, n, tries, maybe in rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="200 reminders (under a minute)")
    ap.add_argument("--count", type=int, default=None, help="reminders falling due at once (default 2000)")
    ap.add_argument("--rate", type=float, default=30.0, help="the server's enforced send rate per second")
    args = ap.parse_args()
    count = args.count or (200 if args.quick else 2000)
    pairs = count // 2
    with tempfile.TemporaryDirectory() as tmp, FakeTelegram(TOKEN) as tg:
        db = Path(tmp) / "drain.sqlite3"
        people = [(10_000 + i, f"P{i}", "UTC") for i in range(2 * pairs)]
        for uid, name, _ in people:
            tg.user(uid, name, started=True)
        # Three days overdue: the "overdue" reminders of the last days are all past whatever the hour
        # (09:00 UTC), and one per person goes out (the older ones are superseded).
        overdue = datetime.now(UTC).date() - timedelta(days=3)

        async def plan(svc, now):
            for i in range(pairs):
                await contract_with(svc, now, 10_000 + 2 * i, 10_001 + 2 * i, f"D{i:04d}", overdue)
            return {}

        t = time.perf_counter()
        asyncio.run(seed(db, people, plan))
        print(f"seeded {pairs} overdue milestones ({count} reminders) in {time.perf_counter() - t:.1f} s", flush=True)
        tg.set_rate_limit(args.rate)
        # The fake server runs in this process and stamps each call as it arrives: a garbage
        # collection here (measured: 59 ms, 7 s into the drain) holds the calls back and then lets
        # them in together, a burst the bot never sent, which the fake answers with 429. Telegram
        # does not pause like that, so this process does not collect while it measures.
        gc.collect()
        gc.freeze()
        gc.disable()
        bot = DrainingBot(tg, db, Path(tmp) / "bot.log", rate=args.rate)
        tg.abort_check = bot.died
        watch = QueueWatch(db, count)
        started = time.time()
        bot.start()  # returns once the bot polls; its first sweep runs a second after it started
        up = time.time()
        watch.start()
        try:
            tg.wait_for(
                lambda: sum(1 for c in tg.calls_of("sendMessage") if c.ok) >= count,
                timeout=count / args.rate * 3 + 60,
                poll=0.2,
                description="the backlog to drain",
            )
            time.sleep(1.0)
        finally:
            gc.enable()
            tg.abort_check = None
            watch.stop.set()
            bot.stop()
        sends = [c for c in tg.calls_of("sendMessage") if c.ok]
        span = sends[-1].at - sends[0].at
        achieved = (len(sends) - 1) / span if span > 0 else float("inf")
        if watch.first is not None and watch.all is not None:
            queued = (
                f"sweep: first reminder queued {watch.first - up:+.1f} s after the bot polled "
                f"(it started {up - started:.1f} s before), all {count} queued {watch.all - watch.first:.1f} s "
                f"after the first; first delivered {sends[0].at - watch.first:.2f} s after the first queued"
            )
        else:
            queued = "sweep: the queueing was not seen (the watcher read no outbox)"
        print(queued)
        print(
            f"sender: {len(sends)} reminders delivered in {span:.1f} s: {achieved:.2f} msg/s against a limit of "
            f"{args.rate:g}/s -> ratio {achieved / args.rate:.3f} (target >= 0.95); "
            f"429 answers: {tg.stats['too_many_requests']} (target 0)"
        )
        print(f"outbox reminders at the end: {outbox_summary(db)}")


if __name__ == "__main__":
    main()
