"""Benchmark 2: in-process latency per kind of update (command, text step, state-changing button).

Run: .venv/bin/python -m bench.latency [--quick] [--postgres]
The real Application handles each update through process_update; Bot API calls are served by the
strict fake in-process (no network), so the figures are the bot's own work: handlers, domain, database.
The clock runs from the start of process_update until the last Bot API call the update caused (the
reply or the card's edit, the press's answer, news to the other party) has reached the fake: since
issue 10 those go out through the outbox sender after the turn commits, so the time includes the
commit, the sender's claim and the calls. The time until the turn committed (process_update
returned) is printed too. The sender's pace is off, as in the test harness (one update at a time
here: an idle pace lets its one to three calls go at once).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402

from domain.model import Role  # noqa: E402
from testkit.fake_telegram import FakeTelegram  # noqa: E402
from testkit.harness import Clock, Harness, make_app  # noqa: E402

TOKEN = "123456:bench-latency"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


class Timer:
    """Queues one update at the fake, then times the bot's handling of it: until the turn committed
    (process_update returned), and until the last Bot API call it caused reached the fake."""

    def __init__(self, h: Harness, samples, committed) -> None:
        self.h, self.samples, self.committed = h, samples, committed

    async def _process(self, kind: str) -> None:
        h = self.h
        status, payload = h.tg.call_direct("getUpdates", {"offset": h.offset, "timeout": 0})
        for raw in payload["result"]:
            h.offset = raw["update_id"] + 1
            update = Update.de_json(raw, h.app.bot)
            before = len(h.tg.calls)
            t = time.time()  # the fake stamps each call with time.time()
            await h.app.process_update(update)
            self.committed[kind].append((time.time() - t) * 1000)
            # What the turn wrote goes out through the sender; wait for it (not timed: the clock stops
            # at the fake's stamp of the last call, which the waiting does not move).
            await h.app.bot_data["turns"].settle_answers()
            await h.app.bot_data["sender"].drain()
            caused = [c for c in h.tg.calls[before:] if c.method != "getUpdates"]
            assert caused, f"update {update.update_id} caused no Bot API call"
            self.samples[kind].append((max(c.at for c in caused) - t) * 1000)

    async def send(self, kind: str, user, text: str) -> None:
        self.h.tg.send_text(user, text)
        await self._process(kind)

    async def press(self, kind: str, user, label: str) -> None:
        tg = self.h.tg
        message = next(m for m in reversed(tg.messages(user)) if any(t.startswith(label) for t, _ in m.buttons))
        tg.press(user, message, label)
        await self._process(kind)


async def one_round(h: Harness, i: int, samples, committed) -> None:
    tg = h.tg
    client = tg.user(10_000 + 2 * i, f"Client{i}", started=True)
    freelancer = tg.user(10_001 + 2 * i, f"Free{i}", started=True)
    svc = h.app.bot_data["deps"].svc
    c, inv = await svc.create_contract(client.id, Role.CLIENT, f"Contract {i}", "USD", h.clock())
    await svc.accept_invite(inv.token, freelancer.id, h.clock())
    t = Timer(h, samples, committed)
    await t.send("command", client, "/start")
    await t.send("command", client, "/contracts")
    await t.send("command", client, "/addmilestone")
    await t.send("text step", client, f"Design {i}")
    await t.send("text step", client, "1,500")
    await t.send("text step", client, "2026-12-31")
    await t.press("text step", client, "Skip")
    await t.press("action button", client, "Save")
    await t.press("action button", client, "Activate")
    await t.press("text step", freelancer, "Submit work")
    await t.send("text step", freelancer, "Here it is")
    await t.press("action button", client, "Approve")  # asks once (issue 12)
    await t.press("action button", client, "Release")
    assert "Released $1,500.00" in h.last(client).plain_text


async def run(db_url: str, rounds: int, warmup: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    tg = FakeTelegram(TOKEN)
    clock = Clock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))
    app = await make_app(tg, db_url, clock)
    h = Harness(app, tg, clock)
    samples: dict[str, list[float]] = defaultdict(list)
    committed: dict[str, list[float]] = defaultdict(list)
    try:
        for i in range(warmup):
            await one_round(h, 100_000 + i, defaultdict(list), defaultdict(list))
        for i in range(rounds):
            await one_round(h, i, samples, committed)
    finally:
        await app.shutdown()
        await app.bot_data["engine"].dispose()
    bad = [c for c in tg.calls if c.status not in (200, 499)]
    assert not bad, f"the fake refused calls: {bad[:3]}"
    return samples, committed


def report(name: str, result: tuple[dict[str, list[float]], dict[str, list[float]]]) -> None:
    samples, committed = result
    print(f"\n{name}")
    print(
        f"  {'until delivered':<15} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}"
        f"   | until committed: {'p50':>6} {'p99':>6}"
    )
    for kind in ("command", "text step", "action button"):
        v, c = samples[kind], committed[kind]
        print(
            f"  {kind:<15} {len(v):>5} {statistics.median(v):>8.2f} {pct(v, 95):>8.2f} {pct(v, 99):>8.2f} "
            f"{max(v):>8.2f}   |                  {statistics.median(c):>6.2f} {pct(c, 99):>6.2f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="a small run (under a minute)")
    ap.add_argument("--postgres", action="store_true", help="also on PostgreSQL (starts a throwaway server)")
    args = ap.parse_args()
    rounds, warmup = (20, 3) if args.quick else (200, 10)
    with tempfile.TemporaryDirectory() as tmp:
        samples = asyncio.run(run(f"sqlite+aiosqlite:///{tmp}/bench.sqlite3", rounds, warmup))
        report(f"SQLite, {rounds} rounds (target: p99 <= 20 ms for every kind)", samples)
    if args.postgres:
        from testkit.pg_server import PostgresServer, PostgresUnavailable

        try:
            server = PostgresServer().start()
        except PostgresUnavailable as exc:
            print(f"\nPostgreSQL skipped: {exc}")
            return
        try:
            samples = asyncio.run(run(server.url(), rounds, warmup))
            report(f"PostgreSQL, {rounds} rounds", samples)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
