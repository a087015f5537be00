"""A turn's messages are leased to its process's sender as they are written and handed over at commit
(no claim), and one chat's messages still go in the order written: a message waiting to be tried again
holds back those written after it (bot/sender.py, storage/durable.py `add_outgoing(..., lease_to=)`)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from telegram import Update
from telegram.error import NetworkError

from bot.sender import LEASE, Sender
from bot.turn import Priority
from storage import durable
from storage.uow import ambient


async def outbox_rows(harness) -> list[dict]:
    async with harness.app.bot_data["sessions"]() as session:
        return [dict(r) for r in (await session.execute(durable._OUT.select())).mappings().all()]


async def test_a_turns_messages_reach_the_sender_without_a_claim(harness, people, monkeypatch):
    ann, _, _ = people
    claimed: list[int] = []
    real_claim = durable.claim

    async def spy(*args, **kwargs):
        rows = await real_claim(*args, **kwargs)
        claimed.extend(r.id for r in rows)
        return rows

    monkeypatch.setattr(durable, "claim", spy)
    await harness.send(ann, "/help")
    await harness.send(ann, "/start")
    rows = await outbox_rows(harness)
    assert len(rows) >= 2 and all(r["status"] == "sent" and r["claimed_by"] is None for r in rows)
    assert claimed == []  # every one was handed over by its turn
    assert harness.app.bot_data["sender"].counts["sent"] == len(rows)


async def test_a_message_to_be_tried_again_keeps_the_next_ones_to_its_chat_behind_it(harness, people):
    ann, _, _ = people
    harness.tg.fail_next("sendMessage", 500)
    await harness.send(ann, "/help")  # its answer meets a 500: tried again in 0.5 s
    assert [m for m in harness.tg.messages(ann)] == []
    await harness.send(ann, "/start")  # written after it: must not overtake it
    await harness.app.bot_data["sender"].drain(retries=True)
    texts = [m.plain_text for m in harness.tg.messages(ann)]
    assert len(texts) == 2
    assert "/start" not in texts[0] and "Ann" in texts[1], texts  # the greeting names Ann; help comes first


async def test_handed_over_before_a_retry_is_recorded_still_waits_behind_it(harness, people, monkeypatch):
    """The retry is not written yet when the next message, leased to the same sender, is handed over:
    the sender holds it back itself (it goes through the claim, behind the retry)."""
    ann, _, _ = people
    app = harness.app
    await app.bot_data["sender"].stop(0)
    sessions = app.bot_data["sessions"]
    calls: list[str] = []
    first = asyncio.Event()

    async def call(method, params, timeout):
        calls.append(params["text"])
        if len(calls) == 1:
            first.set()
            raise NetworkError("Internal Server Error (500)")
        return True

    recorded = asyncio.Event()  # the retry's record waits until "two" is handed over
    real_settle = durable.settle

    async def late_settle(*args, **kwargs):
        await recorded.wait()
        await real_settle(*args, **kwargs)

    monkeypatch.setattr(durable, "settle", late_settle)
    sender = Sender(call, sessions, rate=0, on_unreachable=app.bot_data["deps"].mark_unreachable)
    sender.start()
    await asyncio.sleep(0)

    async def write(text: str) -> list[durable.Claimed]:
        message = durable.Outgoing(ann.id, "sendMessage", {"chat_id": ann.id, "text": text}, Priority.REPLY)
        async with ambient(sessions) as session:
            return await durable.add_outgoing(session, [message], datetime.now(UTC), sender.lease_holder(), LEASE)

    try:
        one = await write("one")
        assert len(one) == 1  # leased to the sender as written
        sender.hand(one)
        await first.wait()
        await asyncio.sleep(0)  # "one" failed; its retry is not flushed to the database yet
        two = await write("two")
        assert len(two) == 1  # "one" is still leased to this sender in the database
        sender.hand(two)
        recorded.set()
        await sender.drain(retries=True)
    finally:
        await sender.stop(0)
    assert calls == ["one", "one", "two"]


async def test_sending_to_people_seen_lately_reads_no_profile(harness, people, monkeypatch):
    """A send checks whether its recipient can be messaged: the person writing privately can; someone
    seen within the minute is known from memory; only others are read from the database."""
    ann, bob, _ = people
    await harness.send(ann, "/start")
    await harness.send(bob, "/start")
    service = harness.app.bot_data["deps"].svc
    reads: list[int] = []
    real_profile = service.profile

    async def counted(user_id):
        reads.append(user_id)
        return await real_profile(user_id)

    monkeypatch.setattr(service, "profile", counted)
    await harness.send(ann, "/newcontract")  # its prompt goes through safe_send
    await harness.send(ann, "/cancel")
    assert reads == []  # she was seen within the minute, and a reply to her private message needs no check
    harness.app.bot_data["deps"].known_users.clear()  # a minute later: forgotten
    await harness.send(ann, "/newcontract")
    assert reads == [ann.id]  # read once, to remember her; her reply still needs no check


async def test_a_getupdates_answer_is_stored_as_telegram_sent_it_in_one_transaction(harness, people, monkeypatch):
    ann, bob, _ = people
    harness.tg.send_text(ann, "/help")
    harness.tg.send_text(bob, "/start")
    batches: list[list[int]] = []
    real_store = durable.store_updates

    async def spy(sessions, rows, now):
        batches.append([update_id for update_id, _, _ in rows])
        await real_store(sessions, rows, now)

    def no_serialising(self, recursive=True):
        raise AssertionError("an update was serialised again: Telegram's own JSON is at hand")

    monkeypatch.setattr(durable, "store_updates", spy)
    monkeypatch.setattr(Update, "to_dict", no_serialising)
    updates = await harness.app.bot.get_updates(offset=harness.offset, timeout=0)
    monkeypatch.undo()
    assert len(updates) == 2 and batches == [[u.update_id for u in updates]]  # one transaction for both
    async with harness.app.bot_data["sessions"]() as session:
        rows = (await session.execute(durable._IN.select())).mappings().all()
    stored = {r["update_id"]: json.loads(r["payload"]) for r in rows}
    assert stored[updates[0].update_id]["message"]["text"] == "/help"
    assert stored[updates[1].update_id]["message"]["from"]["id"] == bob.id
    # Handled as usual afterwards (the queue finds them stored).
    for update in updates:
        await harness.app.update_queue.put(update)
    assert harness.app.update_queue.qsize() == 2
