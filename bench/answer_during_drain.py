"""Benchmark 6: a person's answer while 2,000 reminders drain at 30/s, against the same bot idle.

Run: .venv/bin/python -m bench.answer_during_drain [--quick] [--count N] [--rate R] [--idle S] [--gap G]
The bot runs as a real process (`python -m bot`, SQLite, SEND_RATE_PER_SECOND=R) against the strict fake
Bot API, which answers 429 to sendMessage above R a second (tg.set_rate_limit). Two people use the bot
all along, one request at a time with a pause of G seconds between them:
  - one sends /help (the answer is a new message);
  - the other presses a button on their contract's card, History and Back to contract in turn (the
    answer is the card edited in place; the press's answerCallbackQuery is timed too).
Each sample is the time from the update being queued at the fake (the bot long-polls it) to the
bot's answer arriving there. Phases, in one process and one run:
  1. idle: nothing else to do (S seconds);
  2. drain: N/2 contracts' milestones become three days overdue at once (their rows are updated in the
     bot's database, as bench.sweep_scale does: the next sweep plans them), so N overdue reminders
     fall due; the sweep queues them and the sender delivers them at R a second. Samples from the
     change until the last reminder is delivered;
  3. idle again after the drain (S seconds).
Prints the median, p90 and p99 of each phase and the ratio drain / idle (phase 1): the target is a
median within 2x of idle. Also the drain's own rate and 429 count, as bench.drain prints them.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import update  # noqa: E402

from bot.settings import Settings  # noqa: E402
from storage.db import create_engine  # noqa: E402
from storage.models import MilestoneRow  # noqa: E402
from testkit.fake_telegram import FakeTelegram  # noqa: E402
from testkit.process import TOKEN, BotProcess  # noqa: E402
from testkit.seed import contract_with, seed  # noqa: E402

ASKER = 900_001  # sends /help
PRESSER = 900_002  # presses buttons on their card (the client of a contract with ASKER)
HELP_TEXT = "runs a fixed-price contract"  # in the /help answer
FIRST_DRAIN_PERSON = 10_000


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


class Bot(BotProcess):
    def __init__(self, *args, rate: float) -> None:
        super().__init__(*args)
        self.rate = rate

    def env(self) -> dict[str, str]:
        env = super().env()
        env.update(
            REMINDER_SWEEP_SECONDS="0.5",
            SEND_RATE_PER_SECOND=str(self.rate),
            LOG_LEVEL="WARNING",
            UPDATES_PER_PERSON_PER_SECOND="5",  # the default guard (testkit turns it off for tests)
        )
        return env


@dataclass
class Sample:
    kind: str  # "/help" or "press"
    start: float  # time.time() when the update was queued at the fake
    end: float  # when the answer (message or edit) arrived
    answered: float | None = None  # press: when its answerCallbackQuery arrived

    @property
    def ms(self) -> float:
        return (self.end - self.start) * 1000


class Driver:
    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg
        self.turn = 0

    def help(self) -> Sample:
        tg = self.tg
        mark = tg.mark()
        start = time.time()
        tg.send_text(ASKER, "/help")
        tg.wait_for_bot_message(ASKER, mark, HELP_TEXT, timeout=120)
        return Sample("/help", start, time.time())

    def press(self) -> Sample:
        tg = self.tg
        card = tg.last_message(PRESSER)
        labels = [t for t, _ in card.buttons]
        label, expect = ("History", "History of") if "History" in labels else ("Back to contract", "In escrow")
        mark = tg.mark()
        start = time.time()
        qid = tg.press(PRESSER, card, label)
        got = tg.wait_for_bot_message(PRESSER, mark, "", timeout=120)
        end = time.time()
        assert expect in got.plain_text, f"pressed {label!r}, got {got.plain_text[:80]!r}"
        answer = tg.wait_for(lambda: tg.answer_for(qid), timeout=30, poll=0.005)
        return Sample("press", start, end, answer["at"])

    def run(self, until, gap: float) -> list[Sample]:
        samples = []
        while not until():
            self.turn += 1
            samples.append(self.help() if self.turn % 2 else self.press())
            time.sleep(gap)
        return samples


async def make_due(db: Path, milestone_ids: list[int]) -> float:
    """The drain's milestones become three days overdue now (each overdue reminder of the last days is
    past whatever the hour; one per person goes out) and are marked changed, as any change marks them."""
    engine = create_engine(f"sqlite+aiosqlite:///{db}", inline=Settings(_env_file=None).io_shims)
    try:
        async with engine.begin() as conn:
            now = datetime.now(UTC)
            await conn.execute(
                update(MilestoneRow)
                .where(MilestoneRow.id.in_(milestone_ids))
                .values(due_date=now.date() - timedelta(days=3), next_reminder_at=now)
            )
        return time.time()
    finally:
        await engine.dispose()


def describe(name: str, samples: list[Sample], idle: list[Sample] | None) -> None:
    for kind, picked in (
        ("/help", [s.ms for s in samples if s.kind == "/help"]),
        ("press: card edit", [s.ms for s in samples if s.kind == "press"]),
        ("press: its answer", [(s.answered - s.start) * 1000 for s in samples if s.kind == "press"]),
        ("all answers", [s.ms for s in samples]),
    ):
        if not picked:
            print(f"  {name:<22} {kind:<18} no samples")
            continue
        line = (
            f"  {name:<22} {kind:<18} {len(picked):>4} {statistics.median(picked):>8.1f} {pct(picked, 90):>8.1f} "
            f"{pct(picked, 99):>8.1f} {max(picked):>8.1f}"
        )
        if idle is not None:
            base = {
                "/help": [s.ms for s in idle if s.kind == "/help"],
                "press: card edit": [s.ms for s in idle if s.kind == "press"],
                "press: its answer": [(s.answered - s.start) * 1000 for s in idle if s.kind == "press"],
                "all answers": [s.ms for s in idle],
            }[kind]
            if base:
                line += (
                    f"   x{statistics.median(picked) / statistics.median(base):.2f} "
                    f"x{pct(picked, 90) / pct(base, 90):.2f} x{pct(picked, 99) / pct(base, 99):.2f}"
                )
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="200 reminders, 3 s idle phases (under a minute)")
    ap.add_argument("--count", type=int, default=None, help="reminders falling due at once (default 2000)")
    ap.add_argument("--rate", type=float, default=30.0, help="the server's enforced send rate per second")
    ap.add_argument("--idle", type=float, default=None, help="seconds of each idle phase (default 20)")
    ap.add_argument("--gap", type=float, default=0.2, help="pause between one answer and the next request (s)")
    args = ap.parse_args()
    count = args.count or (200 if args.quick else 2000)
    idle_s = args.idle or (3.0 if args.quick else 20.0)
    pairs = count // 2
    drain_people = {FIRST_DRAIN_PERSON + i for i in range(2 * pairs)}
    with tempfile.TemporaryDirectory() as tmp, FakeTelegram(TOKEN) as tg:
        db = Path(tmp) / "drain.sqlite3"
        people = [(uid, f"P{uid}", "UTC") for uid in sorted(drain_people)] + [
            (ASKER, "Asker", "UTC"),
            (PRESSER, "Presser", "UTC"),
        ]
        for uid, name, _ in people:
            tg.user(uid, name, started=True)

        async def plan(svc, now):
            later = now.date() + timedelta(days=35)  # no reminder due for a month
            ids = [
                await contract_with(
                    svc, now, FIRST_DRAIN_PERSON + 2 * i, FIRST_DRAIN_PERSON + 2 * i + 1, f"D{i}", later
                )
                for i in range(pairs)
            ]
            await contract_with(svc, now, PRESSER, ASKER, "Website", now.date() + timedelta(days=60))
            return {"ids": ids}

        t = time.perf_counter()
        seeded = asyncio.run(seed(db, people, plan))
        print(f"seeded {pairs} milestones to fall due ({count} reminders) in {time.perf_counter() - t:.1f} s")
        tg.set_rate_limit(args.rate)
        bot = Bot(tg, db, Path(tmp) / "bot.log", rate=args.rate)
        tg.abort_check = bot.died
        bot.start()
        driver = Driver(tg)

        def reminders() -> list:
            return [c for c in tg.calls_of("sendMessage") if c.ok and int(c.params.get("chat_id", 0)) in drain_people]

        try:
            mark = tg.mark()
            tg.send_text(PRESSER, "/milestones")
            tg.wait_for_bot_message(PRESSER, mark, "In escrow", timeout=60)
            driver.run(lambda: driver.turn >= 20, args.gap)  # warm-up, not measured
            # As bench.drain: the fake server lives in this process and stamps calls as they arrive; a
            # collection here would hold them back and let them in as a burst the bot never sent.
            gc.collect()
            gc.freeze()
            gc.disable()
            t_idle = time.time()
            idle = driver.run(lambda: time.time() - t_idle >= idle_s, args.gap)
            changed = asyncio.run(make_due(db, seeded["ids"]))
            deadline = changed + count / args.rate * 3 + 60
            during = driver.run(lambda: len(reminders()) >= count or time.time() > deadline, args.gap)
            sent = reminders()
            assert len(sent) >= count, f"only {len(sent)} of {count} reminders delivered"
            last = max(c.at for c in sent)
            t_after = time.time()
            after = driver.run(lambda: time.time() - t_after >= idle_s, args.gap)
        finally:
            gc.enable()
            tg.abort_check = None
            bot.stop()
        drained = [s for s in during if s.start >= changed and s.end <= last]
        span = max(c.at for c in sent) - min(c.at for c in sent)
        print(
            f"drain: {len(sent)} reminders delivered {min(c.at for c in sent) - changed:.1f} to {last - changed:.1f} s "
            f"after they fell due: {(len(sent) - 1) / span:.2f} msg/s against a limit of {args.rate:g}/s -> ratio "
            f"{(len(sent) - 1) / span / args.rate:.3f}; 429 answers: {tg.stats['too_many_requests']}"
        )
        print(
            f"\n  {'phase':<22} {'answer':<18} {'n':>4} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}"
            f"   vs idle: p50 p90 p99"
        )
        describe("idle", idle, None)
        describe("during the drain", drained, idle)
        describe("idle after the drain", after, idle)
        if idle and drained:
            all_idle = statistics.median(s.ms for s in idle)
            all_drain = statistics.median(s.ms for s in drained)
            print(
                f"\n  median answer during the drain / idle: {all_drain:.1f} / {all_idle:.1f} ms = "
                f"{all_drain / all_idle:.2f} (target <= 2)"
            )
        else:
            print("\n  no samples in a phase: run longer (--idle, --count)")


if __name__ == "__main__":
    main()
