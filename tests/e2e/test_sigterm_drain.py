"""SIGTERM in mid-drain: the bot exits promptly and cleanly; the next process sends what is left, nothing twice.

PRODUCT §6 (Restarts): SIGTERM stops taking work and exits within a few seconds; what was not sent yet goes
out from the next process. About 1,000 overdue reminders fall due at once and the sender paces them under
SEND_RATE_PER_SECOND (default 30), so the signal lands with hundreds queued in the outbox and a batch of
messages claimed by the sender. A clean stop loses no Bot API answer, so nothing may be counted as maybe
sent (outbox.maybe_sent) and nothing may arrive twice.

The second case paces slower (10 a second) than the sender claims (32 messages at a time): at the signal,
claimed messages are still waiting for their turn to be sent, and the stop gives them up."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from testkit.process import BotProcess
from testkit.seed import contract_with, seed

pytestmark = pytest.mark.e2e

EXIT_WITHIN_S = 3.0
CONTRACTS_PER_PAIR = 5  # each an overdue milestone: an overdue reminder to each party


@pytest.fixture
def cleanup():
    """Processes the test started: killed if a failure left them running."""
    started: list[BotProcess] = []
    yield started
    for proc in started:
        if proc.proc is not None and proc.proc.poll() is None:
            proc.proc.kill()
            proc.proc.wait(5)


@pytest.mark.parametrize(
    ("pairs", "rate", "delivered_before_term"),
    [
        pytest.param(100, None, 300, id="1000-reminders-default-pace"),
        pytest.param(20, "10", 60, id="200-reminders-slow-pace"),
    ],
)
def test_sigterm_mid_drain_exits_promptly_and_the_next_process_sends_the_rest(
    tg, tmp_path, request, cleanup, pairs, rate, delivered_before_term
):
    expected = 2 * pairs * CONTRACTS_PER_PAIR
    people = [(10_000 + i, f"P{i:03d}") for i in range(2 * pairs)]
    for uid, name in people:
        tg.user(uid, name, started=True)
    today = datetime.now(UTC).date()

    async def plan(svc, now):
        for p in range(pairs):
            client, freelancer = people[2 * p][0], people[2 * p + 1][0]
            for k in range(CONTRACTS_PER_PAIR):
                await contract_with(svc, now, client, freelancer, f"T{p:03d}-{k}", today - timedelta(days=2))
        return {}

    db = tmp_path / "bot.sqlite3"
    began = time.monotonic()
    asyncio.run(seed(db, [(uid, name, "UTC") for uid, name in people], plan))
    seeded_s = time.monotonic() - began
    # A fast sweep, so the reminders are queued at once; the send rate is the bot's default unless given.
    env = {"REMINDER_SWEEP_SECONDS": "0.3", **({"SEND_RATE_PER_SECOND": rate} if rate else {})}
    proc = BotProcess(tg, db, tmp_path / "bot.log", extra_env=env)
    cleanup.append(proc)
    request.node._bot_process = proc  # its log tail on a failure (tests/e2e/conftest.py)
    tg.abort_check = proc.died
    proc.start()

    def sends() -> list[tuple[int, str]]:
        return [(int(c.params["chat_id"]), c.params["text"]) for c in tg.calls_of("sendMessage") if c.ok]

    try:
        tg.wait_for(
            lambda: len(sends()) >= delivered_before_term,
            timeout=60,
            description=f"{delivered_before_term} reminders delivered",
        )
    finally:
        tg.abort_check = None
    assert proc.proc is not None
    at_term = len(sends())
    signalled = time.monotonic()
    proc.proc.send_signal(signal.SIGTERM)
    try:
        code = proc.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the bot did not exit within 15 s of SIGTERM\n{proc.tail()}") from None
    exit_s = time.monotonic() - signalled
    proc.proc = None
    first_run = sends()
    with sqlite3.connect(db) as conn:
        left = dict(conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
        leased = conn.execute(
            "SELECT count(*) FROM outbox WHERE status = 'pending' AND claimed_by IS NOT NULL"
        ).fetchone()[0]
    print(
        f"\nSIGTERM mid-drain ({request.node.callspec.id}): {expected} reminders due (seeded in {seeded_s:.1f} s); "
        f"{at_term} delivered at the signal, {len(first_run)} by the exit; exit code {code} after {exit_s:.2f} s; "
        f"outbox then {left}, {leased} pending row(s) left leased"
    )
    assert code == 0, f"the bot exited with {code} on SIGTERM\n{proc.tail()}"
    assert exit_s < EXIT_WITHIN_S, f"the bot took {exit_s:.2f} s to exit after SIGTERM\n{proc.tail()}"
    assert len(first_run) < expected, "the drain ended before the signal: nothing left to test"
    assert "Traceback" not in proc.output(), proc.tail()

    # The next process sends what is left: everything, once.
    tg.abort_check = proc.died
    restarted = time.monotonic()
    proc.start()
    try:
        tg.wait_for(
            lambda: len(set(sends())) >= expected, timeout=120, description="the next process to finish the drain"
        )
        drained_s = time.monotonic() - restarted
        time.sleep(2.0)  # several more sweeps: anything repeated or late would show now
    finally:
        tg.abort_check = None
        code = proc.stop()
    assert code == 0, f"the bot exited with {code} on SIGTERM\n{proc.tail()}"

    texts = sends()
    counts = Counter(texts)
    duplicated = sum(n - 1 for n in counts.values() if n > 1)
    lost = expected - len(counts)
    with sqlite3.connect(db) as conn:
        maybe_sent = conn.execute("SELECT coalesce(sum(maybe_sent), 0) FROM outbox").fetchone()[0]
        statuses = dict(conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall())
    print(
        f"next process: {len(texts) - len(first_run)} delivered in {drained_s:.1f} s; {len(texts)} delivered in "
        f"all, {len(counts)} distinct, duplicated {duplicated}, lost {lost}, maybe sent (counted) {maybe_sent}; "
        f"outbox {statuses}"
    )
    assert lost == 0
    assert all("overdue" in text for _, text in texts)
    assert statuses == {"sent": expected}
    # A message may arrive twice only where its call's answer was lost, and that is counted (PRODUCT §6).
    assert duplicated <= maybe_sent
    assert duplicated == 0
    assert "Traceback" not in proc.output(), proc.tail()
    # A clean stop against a Bot API that answers at once loses no answer: the stop gives back the claims of
    # messages it did not send, so the next process neither waits out their leases nor counts them maybe sent.
    assert leased == 0, f"{leased} message(s) never sent were left leased by the clean stop"
    assert maybe_sent == 0
