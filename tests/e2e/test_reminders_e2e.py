"""Reminders from the real bot process: due-soon, auto-release, 429, 403, and a SIGKILL in mid-drain."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from testkit.process import BotProcess
from testkit.seed import contract_with, seed

pytestmark = pytest.mark.e2e


class SweepingBot(BotProcess):
    """The bot with a fast sweep (0.3 s) so the test needn't wait a minute."""

    def env(self) -> dict[str, str]:
        env = super().env()
        env["REMINDER_SWEEP_SECONDS"] = "0.3"
        return env


def noon_offset_zone(now: datetime) -> str:
    """A fixed-offset zone in which it is about noon now: its 09:00 reminders are already due."""
    hours = (12 - now.hour) % 24
    if hours > 14:
        hours -= 24
    return f"UTC{'+' if hours >= 0 else '-'}{abs(hours):02d}:00"


def sent_texts(tg, chat) -> list[str]:
    return [
        c.params.get("text", "") for c in tg.calls_of("sendMessage") if c.ok and int(c.params.get("chat_id")) == chat.id
    ]


def test_due_soon_auto_release_429_and_403_from_the_real_process(tg, tmp_path):
    ann, bob, carol = tg.user(501, "Ann", started=True), tg.user(502, "Bob", started=True), tg.user(503, "Carol")
    now = datetime.now(UTC)
    zone = noon_offset_zone(now)
    local_today = (now + timedelta(hours=int(zone[3:6]))).date()

    async def plan(svc, now):
        due_soon = await contract_with(svc, now, ann.id, bob.id, "Soon", local_today + timedelta(days=1))
        auto = await contract_with(
            svc,
            now,
            ann.id,
            bob.id,
            "Review",
            local_today + timedelta(days=5),
            submitted_at=now - timedelta(days=14, minutes=1),
        )
        await contract_with(svc, now, ann.id, carol.id, "Blocked", local_today + timedelta(days=1))
        return {"due_soon": due_soon, "auto": auto}

    asyncio.run(
        seed(tmp_path / "bot.sqlite3", [(ann.id, "Ann", zone), (bob.id, "Bob", zone), (carol.id, "Carol", zone)], plan)
    )
    tg.block_user(carol)
    tg.fail_next("sendMessage", 429, retry_after=1)  # the very first send is told to wait
    proc = SweepingBot(tg, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    tg.abort_check = proc.died
    proc.start()
    try:
        msg = tg.wait_for_message(bob, "«Soon work» ($500.00) in «Soon» is due in 1 day", timeout=20)
        assert any(text.startswith("Submit work") for text, _ in msg.buttons)
        tg.wait_for_message(ann, "«Soon work» ($500.00) in «Soon» is due in 1 day", timeout=20)
        tg.wait_for_message(bob, "The review period of «Review work» in «Review» ended", timeout=20)
        tg.wait_for_message(ann, "The review period of «Review work» in «Review» ended", timeout=20)
        time.sleep(1.5)  # a few more sweeps: nothing may repeat
        assert tg.stats["too_many_requests"] >= 1
        for person in (ann, bob):
            counts = Counter(sent_texts(tg, person))
            assert all(n == 1 for n in counts.values()), counts
        # Carol blocked the bot: one attempt (403), then never again. (The first sends to the three chats
        # go out together: the injected 429 may be the answer to hers, and then her try after it is the 403.)
        carol_calls = [c for c in tg.calls_of("sendMessage") if int(c.params.get("chat_id")) == carol.id]
        assert [c.status for c in carol_calls] in ([403], [429, 403])
        assert proc.running
        assert "Traceback" not in proc.output()
    finally:
        tg.abort_check = None
        proc.stop()


def test_sigkill_mid_drain_neither_repeats_nor_floods(tg, tmp_path):
    ann, bob = tg.user(601, "Ann", started=True), tg.user(602, "Bob", started=True)
    n_before, n_during = 120, 15
    today = datetime.now(UTC).date()

    def seeder(prefix: str, n: int):
        async def plan(svc, now):
            for i in range(n):
                await contract_with(svc, now, ann.id, bob.id, f"{prefix}{i:03d}", today - timedelta(days=2))
            return {}

        return plan

    db = tmp_path / "bot.sqlite3"
    asyncio.run(seed(db, [(ann.id, "Ann", "UTC"), (bob.id, "Bob", "UTC")], seeder("A", n_before)))
    tg.set_rate_limit(25)  # Telegram-like pacing, so the kill lands mid-drain
    proc = SweepingBot(tg, db, tmp_path / "bot.log")
    tg.abort_check = proc.died
    proc.start()

    def delivered() -> int:
        return sum(1 for c in tg.calls_of("sendMessage") if c.ok)

    tg.wait_for(lambda: delivered() >= 80, timeout=30, description="80 reminders delivered")
    tg.abort_check = None
    proc.proc.kill()  # SIGKILL: no clean shutdown, claims in flight stay unconfirmed
    proc.proc.wait(5)
    proc.proc = None
    at_kill = delivered()
    # While it is down, more milestones fall overdue.
    asyncio.run(seed(db, [], seeder("B", n_during)))
    tg.abort_check = proc.died
    proc.start()
    expected = 2 * (n_before + n_during)
    try:
        tg.wait_for(
            lambda: (
                len({(c.params["chat_id"], c.params["text"]) for c in tg.calls_of("sendMessage") if c.ok}) >= expected
            ),
            timeout=60,
            description="the drain to finish",
        )
        time.sleep(2.0)  # several more sweeps: anything repeated or late would show now
    finally:
        tg.abort_check = None
        proc.stop()
    texts = [(int(c.params["chat_id"]), c.params["text"]) for c in tg.calls_of("sendMessage") if c.ok]
    counts = Counter(texts)
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    lost = expected - len(counts)
    print(
        f"\nSIGKILL restart: {expected} reminders due, {at_kill} delivered before the kill, "
        f"{len(texts)} delivered in all, duplicated {duplicated}, lost {lost}, 429s {tg.stats['too_many_requests']}"
    )
    # Nothing is lost. A message whose call was cut off by the kill is sent again: it may arrive twice,
    # and each such case is counted (PRODUCT §6); nothing else repeats.
    assert lost == 0
    with sqlite3.connect(db) as conn:
        maybe_sent = conn.execute("SELECT coalesce(sum(maybe_sent), 0) FROM outbox").fetchone()[0]
    print(f"maybe sent (counted): {maybe_sent}")
    assert duplicated <= maybe_sent
    assert all("overdue" in text for _, text in texts)
