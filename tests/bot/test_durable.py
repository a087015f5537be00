"""Durable in (issue 10): an update is one transaction with its change, its step and its messages.

In-process, through the real Application: a handler that fails after a change keeps nothing and only
apologises; an update delivered twice is handled once; a person's stored earlier update is handled
before a later one; a second app on the same database sees the current step; an update too old is
dropped with a logged reason; one the per-person guard drops is settled, never handled later."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from telegram import Update

import bot.handlers
from bot.sender import Sender
from bot.turn import Priority
from domain.model import MilestoneStatus
from storage import durable
from testkit.harness import Harness, make_app

from .helpers import story_so_far, svc

APOLOGY = "Sorry, something went wrong"


async def fetch(h: Harness) -> list[Update]:
    """Take the fake's queued updates without handling them (as a process that dies right after)."""
    _, payload = h.tg.call_direct("getUpdates", {"offset": h.offset, "timeout": 0})
    updates = [Update.de_json(raw, h.app.bot) for raw in payload["result"]]
    if updates:
        h.offset = updates[-1].update_id + 1
    return updates


async def outcomes(h: Harness) -> dict[int, str | None]:
    sessions = h.app.bot_data["sessions"]
    async with sessions() as session:
        rows = (await session.execute(durable._IN.select())).mappings().all()
    return {r["update_id"]: r["outcome"] for r in rows}


async def test_a_handler_failing_after_the_change_keeps_nothing_and_only_apologises(harness, people, monkeypatch):
    ann, bob, _ = people
    cid, ms = await story_so_far(harness, ann, bob)
    design = ms[0]
    before = len(harness.tg.messages(bob))

    async def broken(*args, **kwargs):
        raise RuntimeError("rendering failed after the change")

    monkeypatch.setattr(bot.handlers, "render_card", broken)  # after svc.perform, before the news
    card = harness.last(ann)
    await harness.press(ann, card, "Approve")  # asks first (issue 12); the release is the confirmed tap
    answer = await harness.press(ann, harness.last(ann), "Release")
    assert APOLOGY in (answer.get("text") or "")
    # The approval was rolled back with the rest of the update: not released, no news, no ledger entry.
    contract = await svc(harness).view(cid, ann.id)
    assert contract.milestone(design.id).status is MilestoneStatus.SUBMITTED
    assert len(harness.tg.messages(bob)) == before
    assert "failed" in (await outcomes(harness)).values()
    monkeypatch.undo()
    # The person can go on: the same press now works, once.
    await harness.press(ann, harness.last(ann), "Release")
    assert (await svc(harness).view(cid, ann.id)).milestone(design.id).status is MilestoneStatus.RELEASED
    assert sum("Ann approved «Design» and released" in m.plain_text for m in harness.tg.messages(bob)[before:]) == 1


async def test_an_update_delivered_twice_is_handled_once(harness, people):
    ann, bob, _ = people
    cid, ms = await story_so_far(harness, ann, bob)
    await harness.press(ann, harness.last(ann), "Approve")  # asks first (issue 12)
    harness.tg.press(ann, harness.last(ann), "Release")
    (update,) = await fetch(harness)
    await harness.app.process_update(update)
    await harness.app.process_update(update)  # Telegram sent it again (or another process had it)
    await harness.pump()
    news = [m for m in harness.tg.messages(bob) if "Ann approved «Design» and released" in m.plain_text]
    assert len(news) == 1
    contract = await svc(harness).view(cid, ann.id)
    assert contract.milestone(ms[0].id).status is MilestoneStatus.RELEASED
    assert harness.app.bot_data["turns"].counts["again"] == 1


async def test_a_stored_earlier_update_of_the_person_is_handled_first(harness, people):
    ann, _, _ = people
    harness.tg.send_text(ann, "/newcontract")
    harness.tg.send_text(ann, "Logo design")
    first, second = await fetch(harness)
    # The first was stored (acknowledged to Telegram), then its process died before handling it.
    await durable.store_update(
        harness.app.bot_data["sessions"], first.update_id, ann.id, json.dumps(first.to_dict()), datetime.now(UTC)
    )
    await harness.app.process_update(second)
    await harness.pump()
    # /newcontract was handled first, so "Logo design" answered its question (the title).
    assert "currency" in harness.last(ann).plain_text
    await harness.press(ann, harness.last(ann), "EUR")
    await harness.press(ann, harness.last(ann), "I am the client")
    await harness.press(ann, harness.last(ann), "Create")
    assert [c.title for c in await svc(harness).contracts_of(ann.id)] == ["Logo design"]
    assert set((await outcomes(harness)).values()) == {"handled"}


async def test_a_second_app_on_the_same_database_takes_the_current_step(harness, people, tg, db_url, clock):
    ann, _, _ = people
    other = Harness(await make_app(tg, db_url, clock), tg, clock)
    try:
        await harness.send(ann, "/newcontract")
        asked = await other.send(ann, "Logo design")  # the next update reaches the other process
        assert "currency" in asked.plain_text
        await harness.press(ann, asked, "EUR")
        await other.press(ann, harness.last(ann), "I am the client")
        await harness.press(ann, harness.last(ann), "Create")
        contracts = await svc(harness).contracts_of(ann.id)
        assert [(c.title, c.currency) for c in contracts] == [("Logo design", "EUR")]
    finally:
        await other.app.shutdown()
        await other.app.bot_data["engine"].dispose()


async def test_an_update_older_than_the_limit_is_dropped_with_a_reason(harness, people, caplog):
    ann, _, _ = people
    harness.tg.send_text(ann, "/help")
    (update,) = await fetch(harness)
    raw = update.to_dict()
    raw["message"]["date"] = int((datetime.now(UTC) - timedelta(hours=2)).timestamp())
    before = len(harness.tg.messages(ann))
    with caplog.at_level(logging.WARNING, logger="bot.turn"):
        await harness.app.process_update(Update.de_json(raw, harness.app.bot))
        await harness.pump()
    assert len(harness.tg.messages(ann)) == before  # not answered: too old to act on
    assert "INBOX_MAX_AGE_MINUTES" in caplog.text
    assert list((await outcomes(harness)).values()) == ["too old"]


@pytest.fixture
async def guarded(tg, db_url, clock):
    app = await make_app(tg, db_url, clock, updates_per_person_burst=2, updates_per_person_per_second=0.001)
    yield Harness(app, tg, clock)
    await app.shutdown()
    await app.bot_data["engine"].dispose()


async def test_updates_the_guard_drops_are_settled_and_never_handled_later(guarded, people):
    ann, _, _ = people
    for _ in range(4):
        guarded.tg.send_text(ann, "/help")
    for update in await fetch(guarded):
        await guarded.app.update_processor.process_update(update, guarded.app.process_update(update))
    await guarded.pump()
    found = sorted((await outcomes(guarded)).values())
    assert found == ["dropped", "dropped", "handled", "handled"]
    # Nothing is left for a recovery to pick up.
    assert await durable.unhandled(guarded.app.bot_data["sessions"], datetime.now(UTC) + timedelta(seconds=1)) == []


async def test_a_stop_leaves_updates_not_begun_in_the_inbox(harness, people):
    ann, _, _ = people
    harness.tg.send_text(ann, "/help")
    (update,) = await fetch(harness)
    harness.app.bot_data["turns"].stopping = True  # SIGTERM came before this update began
    before = len(harness.tg.messages(ann))
    await harness.app.process_update(update)
    await harness.pump()
    assert len(harness.tg.messages(ann)) == before
    assert list((await outcomes(harness)).values()) == []  # not even stored by the turn: the queue stores it
    harness.app.bot_data["turns"].stopping = False
    await harness.app.process_update(update)  # the next process
    await harness.pump()
    assert len(harness.tg.messages(ann)) == before + 1


async def test_an_answer_to_the_person_acting_is_not_held_up_by_their_queued_reminders(harness, people):
    """Reminders are queued for the sender; the person presses meanwhile: the answer goes out first,
    though the reminders to the same chat were written before it."""
    ann, _, _ = people
    await harness.send(ann, "/start")
    app = harness.app
    await app.bot_data["sender"].stop(0)  # hold the outbox while it fills
    now = datetime.now(UTC)
    reminders = [
        durable.Outgoing(ann.id, "sendMessage", {"chat_id": ann.id, "text": f"reminder {i}"}, Priority.REMINDER)
        for i in range(60)
    ]
    async with app.bot_data["sessions"]() as session, session.begin():
        await durable.add_outgoing(session, reminders, now)
    harness.tg.send_text(ann, "/help")
    (update,) = await fetch(harness)
    await app.process_update(update)
    sender = Sender(
        app.bot.call, app.bot_data["sessions"], rate=0, on_unreachable=app.bot_data["deps"].mark_unreachable
    )
    sender.concurrency = 1  # one call at a time: the order is the claim's
    sender.start()
    try:
        await sender.drain(retries=True)
    finally:
        await sender.stop(0)
    texts = [m.plain_text for m in harness.tg.messages(ann)]
    first_reminder = next(i for i, t in enumerate(texts) if t.startswith("reminder"))
    help_at = max(i for i, t in enumerate(texts) if not t.startswith("reminder"))
    assert help_at < first_reminder, texts[-62:][:3]
    assert sum(t.startswith("reminder") for t in texts) == 60
