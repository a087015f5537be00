"""Benchmark: one noisy person (issue 13, item 9). Everyone else's latency with and without one person
sending 50 updates a second, with the per-person guard on (the default) and off.

Run: .venv/bin/python -m bench.noisy [--quick] [--seconds S] [--no-send-limit]
Scenarios: quiet (no noisy person); noisy with the guard on (the default); noisy with the guard off;
noisy with the processor as it was before the guard (a slot taken first, then the person's lock).
In-process like bench.latency: the real Application, Bot API calls served by the strict fake without
network. Unlike bench.latency, updates arrive on a timetable and go through the update processor
(one task each, as python-telegram-bot's update fetcher runs them), so they compete as in the running
bot: for the event loop, the database, the concurrency slots and the 30 messages/s send pace (on, as
in production, unless --no-send-limit). Since issue 10 the replies go out through the outbox sender
(priority, one message per chat at a time, a token bucket of 30 a second), so latency is from an
update's arrival time on the timetable to its reply reaching the fake: it includes any time the
update waited to be picked up and any time its reply waited in the outbox.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import BaseUpdateProcessor  # noqa: E402

from bot.app import _post_init, build_application  # noqa: E402
from bot.concurrency import NOTICE  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.turn import person_of  # noqa: E402
from domain.model import Role  # noqa: E402
from storage.db import create_engine  # noqa: E402
from storage.migrate import upgrade_to_head  # noqa: E402
from testkit.fake_telegram import FakeTelegram  # noqa: E402
from testkit.harness import Clock, InProcessRequest  # noqa: E402

TOKEN = "123456:bench-noisy"
OTHERS = 15  # people, each sending one update a second
NOISY_RATE = 50.0  # updates a second from the noisy person
NOISY_ID = 99_999


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


class BeforeTheGuard(BaseUpdateProcessor):
    """bot/concurrency.py's processor before issue 13: PTB's process_update takes a slot, then the
    person's lock is awaited inside it, so one person's queued updates hold slots; no guard."""

    def __init__(self, max_concurrent_updates: int, guard: object = None) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int | None, list] = {}

    async def do_process_update(self, update, coroutine) -> None:
        key = person_of(update)
        entry = self._locks.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                await coroutine
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                self._locks.pop(key, None)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


async def make(db_url: str, tg: FakeTelegram, guard: bool, send_limit: bool, before: bool = False):
    cfg = Settings(
        bot_token=TOKEN,
        database_url=db_url,
        _env_file=None,
        updates_per_person_per_second=5.0 if guard else 0.0,
        updates_per_person_burst=20,
    )
    engine = create_engine(db_url, inline=cfg.io_shims)
    await upgrade_to_head(engine)
    clock = Clock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
    with mock.patch("bot.app.PerUserUpdateProcessor", BeforeTheGuard) if before else contextlib.nullcontext():
        app = build_application(
            cfg, clock=clock, engine=engine, request=InProcessRequest(tg), updater=False, rate_limiter=send_limit
        )
    await app.initialize()
    await _post_init(app)
    svc = app.bot_data["deps"].svc
    for person in [*range(1, OTHERS + 1), NOISY_ID]:  # one contract each, so /contracts reads and renders one
        tg.user(person, f"P{person}", started=True)
        partner = tg.user(50_000 + person, f"Partner{person}", started=True)
        _, invite = await svc.create_contract(person, Role.CLIENT, f"Contract {person}", "USD", clock())
        await svc.accept_invite(invite.token, partner.id, clock())
    return app


class Driver:
    """Puts each update on the fake at its time and hands it to the app as PTB's update fetcher does."""

    def __init__(self, app, tg: FakeTelegram) -> None:
        self.app, self.tg = app, tg
        self.offset = 0
        self.due: dict[int, list[float]] = defaultdict(list)  # person (not the noisy one) -> arrival times
        self.tasks: list[asyncio.Task] = []
        self.noisy_tasks: list[asyncio.Task] = []
        self.wall = time.time() - time.perf_counter()  # the fake stamps calls with time.time()

    def _deliver(self, person: int, text: str, due: float) -> asyncio.Task:
        self.tg.send_text(person, text)
        _, payload = self.tg.call_direct("getUpdates", {"offset": self.offset, "timeout": 0})
        (raw,) = payload["result"]
        self.offset = raw["update_id"] + 1
        update = Update.de_json(raw, self.app.bot)
        processor = self.app.update_processor
        if person != NOISY_ID:
            self.due[person].append(self.wall + due)
        return asyncio.create_task(processor.process_update(update, self.app.process_update(update)))

    async def others_latency(self, since: int, timeout: float = 120.0) -> list[float]:
        """Each other person's replies (sent after call `since`) matched in order to their updates (one
        person's replies go out in the order of their updates); ms from arrival to the reply's stamp."""
        deadline = time.monotonic() + timeout
        while True:
            replies: dict[int, list[float]] = defaultdict(list)
            for c in self.tg.calls[since:]:
                if c.method == "sendMessage" and c.ok:
                    replies[int(c.params["chat_id"])].append(c.at)
            if all(len(replies[p]) >= len(d) for p, d in self.due.items()):
                return [(r - d) * 1000 for p, dues in self.due.items() for d, r in zip(dues, replies[p], strict=False)]
            if time.monotonic() > deadline:
                raise TimeoutError("the others' replies did not all arrive")
            await asyncio.sleep(0.05)

    async def run(self, seconds: float, noisy: bool) -> None:
        timetable = [(i / OTHERS + k, p) for k in range(int(seconds)) for i, p in enumerate(range(1, OTHERS + 1))]
        if noisy:
            timetable += [(n / NOISY_RATE, NOISY_ID) for n in range(int(seconds * NOISY_RATE))]
        timetable.sort()
        start = time.perf_counter()
        for at, person in timetable:
            due = start + at
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            task = self._deliver(person, "/contracts", due)
            (self.noisy_tasks if person == NOISY_ID else self.tasks).append(task)
        await asyncio.gather(*self.tasks)
        await asyncio.gather(*self.noisy_tasks)


async def scenario(
    tmp: str, name: str, seconds: float, noisy: bool, guard: bool, send_limit: bool, before: bool
) -> dict:
    tg = FakeTelegram(TOKEN)
    app = await make(f"sqlite+aiosqlite:///{tmp}/{name}.sqlite3", tg, guard, send_limit, before)
    try:
        warm = Driver(app, tg)  # every code path once, unmeasured
        await warm.run(1, noisy=False)
        await app.bot_data["sender"].drain(60)
        driver = Driver(app, tg)
        driver.offset = warm.offset
        since = len(tg.calls)
        started = time.perf_counter()
        await driver.run(seconds, noisy)
        elapsed = time.perf_counter() - started
        # Every other person's reply delivered (the noisy person's backlog, if any, is cut off at shutdown).
        others = await driver.others_latency(since)
        async with app.bot_data["sessions"]() as session:
            handled = (
                await session.execute(
                    text("SELECT count(*) FROM inbox WHERE person_id = :p AND outcome = 'handled'"), {"p": NOISY_ID}
                )
            ).scalar_one()
    finally:
        await app.shutdown()
        await app.bot_data["engine"].dispose()
    bad = [c for c in tg.calls if c.status not in (200, 499)]
    assert not bad, f"the fake refused calls: {bad[:3]}"
    noisy_texts = [m.plain_text for m in tg.messages(NOISY_ID)]
    return {
        "others": others,
        "noisy_sent": len(driver.noisy_tasks),
        "noisy_handled": handled,
        "notices": noisy_texts.count(NOTICE),
        "elapsed": elapsed,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="3 s per scenario (for CI)")
    ap.add_argument("--seconds", type=float, help="length of each scenario (default 30)")
    ap.add_argument("--no-send-limit", action="store_true", help="without the sender's 30 msg/s pace")
    args = ap.parse_args()
    seconds = args.seconds or (3.0 if args.quick else 30.0)
    send_limit = not args.no_send_limit
    runs = [  # name, noisy, guard, before
        ("quiet", False, True, False),
        ("noisy, guard on", True, True, False),
        ("noisy, guard off", True, False, False),
        ("noisy, before", True, False, True),
    ]
    print(
        f"{OTHERS} people sending /contracts once a second each, for {seconds:g} s; the noisy person sends it "
        f"{NOISY_RATE:g} times a second; guard: burst 20, 5/s; send pace {'30/s' if send_limit else 'off'}"
    )
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, noisy, guard, before) in enumerate(runs):
            results[name] = asyncio.run(scenario(tmp, f"s{i}", seconds, noisy, guard, send_limit, before))
    quiet = results["quiet"]["others"]
    q50, q99 = statistics.median(quiet), pct(quiet, 99)
    print(
        f"\n  {'scenario':<18} {'n':>5} {'p50 ms':>8} {'p99 ms':>9} {'p50 ratio':>10} {'p99 ratio':>10}  noisy person"
    )
    for name, *_ in runs:
        r = results[name]
        v = r["others"]
        p50, p99 = statistics.median(v), pct(v, 99)
        noisy = (
            f"sent {r['noisy_sent']}, handled {r['noisy_handled']}, notices {r['notices']}" if r["noisy_sent"] else "-"
        )
        print(f"  {name:<18} {len(v):>5} {p50:>8.2f} {p99:>9.2f} {p50 / q50:>10.2f} {p99 / q99:>10.2f}  {noisy}")
    print("\n  ratio = the others' figure in that scenario / in the quiet one (target with the guard on: about 1)")


if __name__ == "__main__":
    main()
