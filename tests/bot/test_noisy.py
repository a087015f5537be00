"""One noisy person (issue 13, item 9): their excess updates are dropped with one notice; nobody else is affected.

These tests hand updates to the app the way python-telegram-bot's update fetcher does (one task per
update, through the update processor), not through Harness.pump, which calls process_update directly
and so bypasses the processor and its guard.
"""

from __future__ import annotations

import asyncio

import pytest
from telegram import Update

from bot.concurrency import NOTICE
from testkit.harness import Harness, make_app

NOTHING_TO_CANCEL = "There is nothing to cancel."


@pytest.fixture
async def guarded(tg, db_url, clock):
    # A burst of 20 and a rate so low that no token comes back during a test, however slow the machine.
    app = await make_app(tg, db_url, clock, updates_per_person_burst=20, updates_per_person_per_second=0.001)
    h = Harness(app, tg, clock)
    yield h
    await app.shutdown()
    await app.bot_data["engine"].dispose()


async def deliver_all(h: Harness) -> None:
    """Every queued update at once, each in a task of its own through app.update_processor, as PTB does."""
    tasks = []
    while True:
        _, payload = h.tg.call_direct("getUpdates", {"offset": h.offset, "timeout": 0})
        if not payload["result"]:
            break
        for raw in payload["result"]:
            h.offset = raw["update_id"] + 1
            update = Update.de_json(raw, h.app.bot)
            tasks.append(
                asyncio.create_task(h.app.update_processor.process_update(update, h.app.process_update(update)))
            )
    await asyncio.gather(*tasks)
    await h.app.bot_data["turns"].settle_answers()
    await h.app.bot_data["sender"].drain()


async def test_a_burst_above_the_limit_gets_one_notice_and_the_excess_is_not_handled_while_others_are(guarded, people):
    ann, _, eve = people
    for i in range(30):
        guarded.tg.send_text(eve, "/cancel")
        if i % 6 == 0:
            guarded.tg.send_text(ann, "/cancel")  # Ann's 5 updates arrive in the middle of Eve's flood
    await deliver_all(guarded)

    eve_texts = guarded.texts(eve)
    assert sum(NOTHING_TO_CANCEL in t for t in eve_texts) == 20  # the burst is handled, the 10 over it are not
    assert eve_texts.count(NOTICE) == 1  # one notice, not one per dropped update
    assert guarded.texts(ann).count(NOTICE) == 0
    assert sum(NOTHING_TO_CANCEL in t for t in guarded.texts(ann)) == 5  # everyone else: all handled

    # Still over the limit a moment later: dropped again, but no second notice in the same flood.
    guarded.tg.send_text(eve, "/cancel")
    await deliver_all(guarded)
    assert guarded.texts(eve) == eve_texts


async def test_dropped_button_presses_are_still_answered_with_the_notice(guarded, people):
    _, _, eve = people
    guarded.tg.send_text(eve, "/start")
    await deliver_all(guarded)  # 1 of Eve's 20
    menu = guarded.last(eve)
    queries = [guarded.tg.press(eve, menu, "My contracts") for _ in range(25)]
    await deliver_all(guarded)

    answers = [guarded.tg.answer_for(q) for q in queries]
    assert all(a is not None for a in answers), "every press is answered, so no button keeps spinning"
    notices = [a for a in answers if a.get("text") == NOTICE]
    assert len(notices) == 25 - 19  # 19 presses left in the burst; the rest answered with the notice
    assert guarded.texts(eve).count(NOTICE) == 0  # a press's notice is its answer, not another message
