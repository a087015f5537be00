"""Two processes, one person: two bot processes in webhook mode share one PostgreSQL database, and one person's
updates alternate between them (PRODUCT §6: one person's updates in order, any process sees the current step).

The fake Bot API does not push updates to webhooks: each update is made by the fake (send_text / press, so the
fake knows the message it replies to and the query it answers), taken out of its getUpdates queue, and POSTed to
a process the way Telegram would."""

from __future__ import annotations

import asyncio
import copy
import itertools
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from storage.db import create_engine
from testkit.fake_telegram import FakeMessage, FakeTelegram, FakeUser
from testkit.process import WebhookBotProcess
from tests.conftest import _fresh_pg_database

pytestmark = pytest.mark.e2e

SECRET = "tw0-Processes_secret"
BOT = "milestone_test_bot"
# What may never be in either process's output.
BAD_LINES = ("Traceback", "Unhandled error", "IntegrityError", "UniqueViolation", "duplicate key", " ERROR ")


# ----- the two processes ---------------------------------------------------------------------------------------
class Both:
    """Both processes' log tails for a failure report (tests/e2e/conftest.py attaches `tail()`)."""

    def __init__(self, *procs: WebhookBotProcess) -> None:
        self.procs = procs

    def tail(self, lines: int = 60) -> str:
        return "\n".join(f"===== process {i} =====\n{p.tail(lines)}" for i, p in enumerate(self.procs, start=1))


@pytest.fixture
def database(pg_server) -> str:
    """A fresh PostgreSQL database (skipped without PostgreSQL server binaries unless REQUIRE_POSTGRES=1)."""
    return asyncio.run(_fresh_pg_database(pg_server))


@pytest.fixture
def procs(tg, tmp_path, request, database):
    """Two webhook-mode bot processes on one database, each on its own port; SIGTERM after the test."""
    pair = [WebhookBotProcess(tg, None, tmp_path / f"bot{i}.log", secret=SECRET, database_url=database) for i in (1, 2)]
    tg.abort_check = lambda: next((f"process {i}: {r}" for i, p in enumerate(pair, 1) if (r := p.died())), None)
    request.node._bot_process = Both(*pair)
    try:
        for proc in pair:  # one after the other: the first start migrates the database
            proc.start()
        yield pair
    finally:
        tg.abort_check = None
        codes = [proc.stop() if proc.proc is not None else 0 for proc in pair]
    assert codes == [0, 0], f"exit codes on SIGTERM: {codes}\n{Both(*pair).tail()}"


def query(url: str, sql: str, **params: Any) -> list[tuple]:
    """Read the shared database as it is now."""

    async def run() -> list[tuple]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return [tuple(r) for r in (await conn.execute(text(sql), params)).all()]
        finally:
            await engine.dispose()

    return asyncio.run(run())


# ----- updates as Telegram would deliver them -----------------------------------------------------------------
def take(tg: FakeTelegram, match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The update the fake just queued, taken out of its getUpdates queue (webhook mode: nothing polls it)."""
    with tg._cond:
        for i, update in enumerate(tg._updates):
            if match(update):
                return copy.deepcopy(tg._updates.pop(i))
    raise AssertionError("the fake queued no such update")


def message_update(tg: FakeTelegram, user: FakeUser, typed: str) -> dict[str, Any]:
    update_id = tg.send_text(user, typed)
    return take(tg, lambda u: u["update_id"] == update_id)


def press_update(tg: FakeTelegram, user: FakeUser, message: FakeMessage, label: str) -> tuple[str, dict[str, Any]]:
    """A press of the button whose label starts with `label`: (the callback query id, the update)."""
    query_id = tg.press(user, message, label)
    return query_id, take(tg, lambda u: u.get("callback_query", {}).get("id") == query_id)


def post(proc: WebhookBotProcess, update: dict[str, Any]) -> None:
    status = proc.post(update, SECRET)
    assert status == 200, f"update {update['update_id']}: HTTP {status}"


def post_at_once(deliveries: list[tuple[WebhookBotProcess, dict[str, Any]]]) -> None:
    """Each (process, update) POSTed from its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(deliveries))
    statuses: list[int | BaseException] = [0] * len(deliveries)

    def deliver(i: int, proc: WebhookBotProcess, update: dict[str, Any]) -> None:
        try:
            barrier.wait(timeout=10)
            statuses[i] = proc.post(update, SECRET)
        except BaseException as exc:  # noqa: BLE001 - reported below
            statuses[i] = exc

    threads = [threading.Thread(target=deliver, args=(i, *d)) for i, d in enumerate(deliveries)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses == [200] * len(deliveries), statuses


def assert_clean_logs(procs: list[WebhookBotProcess]) -> None:
    for i, proc in enumerate(procs, start=1):
        bad = [line for line in proc.output().splitlines() if any(b in line for b in BAD_LINES)]
        assert not bad, f"process {i} logged:\n" + "\n".join(bad[:20]) + f"\n{proc.tail()}"


def assert_no_rejected_calls(tg: FakeTelegram) -> None:
    bad = [f"{c.method} -> {c.status} {c.description}" for c in tg.calls if c.status != 200]
    assert not bad, "calls rejected by the Bot API:\n" + "\n".join(bad)


def sent_to(tg: FakeTelegram, user: FakeUser) -> list[str]:
    return [
        c.params.get("text", "") for c in tg.calls_of("sendMessage") if c.ok and int(c.params["chat_id"]) == user.id
    ]


# ----- (a) + (b): one person's conversation, every update to the other process ------------------------------
def test_steps_alternating_between_processes_go_in_order_and_a_double_save_saves_once(tg, procs, database):
    a, b = procs
    turns = itertools.cycle(procs)
    ann, bob = tg.user(3001, "Ann", "ann_client"), tg.user(3002, "Bob", "bob_dev")

    def say(user: FakeUser, typed: str, expect: str) -> FakeMessage:
        mark = tg.mark()
        post(next(turns), message_update(tg, user, typed))
        return tg.wait_for_message(user, expect, after=mark)

    def press(user: FakeUser, message: FakeMessage, label: str, answer: str | None, expect: str) -> FakeMessage:
        mark = tg.mark()
        query_id, update = press_update(tg, user, message, label)
        post(next(turns), update)
        got = tg.wait_for_answer(query_id)
        if answer is not None:
            assert got["text"] == answer and not got["show_alert"], got
        return tg.wait_for_message(user, expect, after=mark)

    # /newcontract → title → currency → role → Create, each step in the other process.
    say(ann, "/newcontract", "What is its title?")
    asked = say(ann, "Two processes", "Which currency?")
    asked = press(ann, asked, "EUR", None, "Which side are you on?")
    assert asked.plain_text.startswith("Currency: EUR.")
    summary = press(ann, asked, "I am the client", None, "New contract Two processes in EUR")
    done = press(ann, summary, "Create", "Contract created.", "Forward this invite link")
    invite = re.search(rf"https://t\.me/{BOT}\?start=([A-Za-z0-9_-]+)", done.plain_text)
    assert invite, done.plain_text
    card = say(bob, f"/start {invite.group(1)}", "invites you to the contract")
    mark = tg.mark()
    press(bob, card, "Accept", "You joined the contract.", "you are the freelancer")
    tg.wait_for_message(ann, "Bob accepted the invite: «Two processes» is active.", after=mark)
    [(contract_id, title, currency, client, freelancer, status)] = query(
        database, "SELECT id, title, currency, client_id, freelancer_id, status FROM contracts"
    )
    assert (title, currency, client, freelancer, status) == ("Two processes", "EUR", ann.id, bob.id, "active")

    # /addmilestone → title → amount → due → description, posted back to back without waiting for the answers,
    # alternating processes: whichever process gets the lock first handles the person's earliest update.
    due = datetime.now(UTC).date() + timedelta(days=12)
    typed = ["/addmilestone", "Design", "1,250.50", due.isoformat(), "Wireframes & style guide"]
    mark = tg.mark()
    for update in [message_update(tg, ann, t) for t in typed]:
        post(next(turns), update)
    summary = tg.wait_for_message(ann, "Milestone summary", after=mark, timeout=20)
    prompts = [m.plain_text for m in tg.messages(ann) if m.seq > mark]
    expected = ["Send the milestone's title", "Send the amount in EUR", "Send the due date", "Send a description"]
    assert len(prompts) == 5 and prompts[4] == summary.plain_text, prompts
    assert all(want in got for want, got in zip(expected, prompts, strict=False)), prompts
    for line in ("Title: Design", "Amount: €1,250.50", "Description: Wireframes & style guide"):
        assert line in summary.plain_text, summary.plain_text

    # (b) The same Save press delivered to both processes at the same moment: saved once, answered once.
    mark = tg.mark()
    query_id, update = press_update(tg, ann, summary, "Save")
    post_at_once([(a, update), (b, update)])
    assert tg.wait_for_answer(query_id)["text"] == "Saved."
    saved_card = tg.wait_for_message(ann, "you are the client", after=mark)
    assert saved_card.message_id == summary.message_id
    tg.wait_for_message(bob, "Ann added milestone «Design»", after=mark)
    rows = query(
        database,
        "SELECT title, amount, due_date, description FROM milestones WHERE contract_id = :c",
        c=contract_id,
    )
    assert rows == [("Design", 125050, due, "Wireframes & style guide")], rows
    assert [c.params["callback_query_id"] for c in tg.calls_of("answerCallbackQuery")].count(query_id) == 1
    assert query(database, "SELECT outcome FROM inbox WHERE update_id = :u", u=update["update_id"]) == [("handled",)]

    # And a double tap: two presses of one Save button (two updates), one to each process at the same moment.
    due2 = datetime.now(UTC).date() + timedelta(days=20)
    mark = tg.mark()
    for t in ["/addmilestone", "Build", "300", due2.isoformat(), "The backend"]:
        post(next(turns), message_update(tg, ann, t))
    summary = tg.wait_for_message(ann, "Milestone summary", after=mark, timeout=20)
    assert "Title: Build" in summary.plain_text
    mark = tg.mark()
    (q1, u1), (q2, u2) = press_update(tg, ann, summary, "Save"), press_update(tg, ann, summary, "Save")
    post_at_once([(a, u1), (b, u2)])
    answers = sorted(str(tg.wait_for_answer(q)["text"]) for q in (q1, q2))
    tg.wait_for_message(bob, "Ann added milestone «Build»", after=mark)
    titles = [t for (t,) in query(database, "SELECT title FROM milestones WHERE contract_id = :c", c=contract_id)]
    print(f"\ndouble tap on Save: answers {answers}; milestones {titles}")
    assert sorted(titles) == ["Build", "Design"]
    assert answers.count("Saved.") == 1, answers
    assert sum("Ann added milestone «Build»" in t for t in sent_to(tg, bob)) == 1

    handled = dict(query(database, "SELECT outcome, count(*) FROM inbox GROUP BY outcome"))
    print(f"inbox outcomes: {handled}")
    assert set(handled) == {"handled"}, handled
    assert_no_rejected_calls(tg)
    assert_clean_logs(procs)


# ----- (c) first contacts racing between the processes ---------------------------------------------------------
ROUNDS = 20


def test_a_new_persons_first_updates_racing_between_processes_raise_nothing(tg, procs, database):
    a, b = procs
    people, updates = [], []
    for i in range(ROUNDS):
        user = tg.user(5000 + i, f"New{i:02d}", f"new_{i:02d}")
        first, second = message_update(tg, user, "/start"), message_update(tg, user, "/help")
        deliveries = [(a, first), (b, second)]
        if i % 2:  # and Telegram delivering each again, to the other process, at the same moment
            deliveries += [(b, first), (a, second)]
        post_at_once(deliveries)
        people.append(user)
        updates += [first["update_id"], second["update_id"]]

    for user in people:
        tg.wait_for(lambda user=user: len(sent_to(tg, user)) >= 2, timeout=20, description=f"{user.id}'s answers")
    outcomes = query(
        database, "SELECT outcome, count(*) FROM inbox WHERE update_id = ANY(:ids) GROUP BY outcome", ids=updates
    )
    users = query(
        database,
        "SELECT id, count(*), min(first_name), bool_and(started) FROM users WHERE id = ANY(:ids) GROUP BY id",
        ids=[u.id for u in people],
    )
    print(f"\n{ROUNDS} first contacts raced: inbox outcomes {dict(outcomes)}, {len(users)} user rows")
    assert dict(outcomes) == {"handled": 2 * ROUNDS}
    assert sorted(users) == [(u.id, 1, u.first_name, True) for u in people]
    for user in people:
        answers = sent_to(tg, user)
        assert len(answers) == 2, answers
        assert sum(t.startswith(f"👋 Hi {user.first_name}!") for t in answers) == 1, answers
        assert sum("runs a fixed-price contract milestone by milestone" in t for t in answers) == 1, answers
    assert_no_rejected_calls(tg)
    assert_clean_logs(procs)
