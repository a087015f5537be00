"""Ledger mode says so wherever money is mentioned (PRODUCT §7: "recorded", never "paid" by the bot): a
refund, an accepted refund, pay less, a settled or decided dispute, like a plain approve. Telegram mode
keeps its own words (the money really moves)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram.ext import CallbackContext

from bot.reminders import run_sweep

from .helpers import (
    add_milestone,
    every_press_is_answered,  # noqa: F401 (a fixture)
    message_by_id,
    open_card,
    settle_by_offer,
    setup_contract,
    story_so_far,
)

pytestmark = pytest.mark.usefixtures("every_press_is_answered")

RECORDED = "recorded in the ledger"


async def funded(h, ann, bob) -> int:
    cid = await setup_contract(h, ann, bob)
    await add_milestone(h, ann, "Design", "1500", "in 2 weeks")
    await h.press(ann, await open_card(h, ann, cid), "Activate & fund «Design»")
    return cid


async def test_a_refund_is_recorded_not_paid(harness, people, tg):
    h = harness
    ann, bob, _ = people
    cid = await funded(h, ann, bob)
    card = await open_card(h, bob, cid)
    await h.press(bob, card, "Refund «Design»")
    answer = await h.press(bob, message_by_id(tg, bob, card.message_id), "Refund")
    assert RECORDED in answer["text"], answer
    news = tg.last_message(ann).plain_text
    assert "Bob refunded «Design» ($1,500.00)" in news and RECORDED in news, news


async def test_an_accepted_refund_is_recorded_not_paid(harness, people, tg):
    h = harness
    ann, bob, _ = people
    cid = await funded(h, ann, bob)
    card = await open_card(h, ann, cid)
    await h.press(ann, card, "Request refund of «Design»")
    await h.press(ann, message_by_id(tg, ann, card.message_id), "Request refund")
    answer = await h.press(bob, tg.last_message(bob), "Accept refund")
    assert RECORDED in answer["text"], answer
    news = tg.last_message(ann).plain_text
    assert "accepted the refund of «Design»" in news and RECORDED in news, news


async def test_paying_less_is_recorded_and_the_client_pays_the_part_directly(harness, people, tg):
    h = harness
    ann, bob, _ = people
    cid, _ = await story_so_far(h, ann, bob)
    await h.press(ann, await open_card(h, ann, cid), "Pay less…")
    await h.send(ann, "600")
    await h.send(ann, "half the pages are missing")
    question = h.last(ann).plain_text
    assert "Release $600.00 (of $1,500.00) to Bob for «Design» and refund $900.00 to you?" in question
    assert RECORDED in question and "you pay Bob the $600.00 directly" in question, question
    answer = await h.press(ann, h.last(ann), "Release less")
    assert "recorded" in answer["text"], answer
    done = next(t for t in reversed(h.texts(ann)) if t.startswith("✅ Released $600.00"))
    assert RECORDED in done and "$900.00 is refunded to you" not in done, done
    news = tg.last_message(bob).plain_text
    assert "released less than $1,500.00" in news and RECORDED in news, news


async def test_a_settled_dispute_is_recorded(harness, people, tg):
    h = harness
    ann, bob, _ = people
    cid, _ = await story_so_far(h, ann, bob)
    answer = await settle_by_offer(h, ann, bob, cid, "1200")
    assert RECORDED in answer["text"], answer
    news = tg.last_message(ann).plain_text
    assert "accepted the settlement of «Design»" in news and RECORDED in news, news


async def test_a_decided_dispute_is_recorded(with_operator, tg, people):
    h = with_operator
    ann, bob, _ = people
    olga = tg.user(1009, "Olga", "olga", started=True)
    cid, _ = await story_so_far(h, ann, bob)
    await h.press(ann, await open_card(h, ann, cid), "Open a dispute")
    await h.send(ann, "the logo is wrong")
    opened = h.clock()
    for later in (timedelta(days=4, hours=1), timedelta(days=5, seconds=1)):
        h.clock.now = opened + later
        await run_sweep(CallbackContext(h.app))
        await h.app.bot_data["sender"].drain()
    await h.press(olga, await h.send(olga, "/disputes"), "Decide the split")
    await h.send(olga, "1000")
    await h.send(olga, "the logo needs a redo")
    answer = await h.press(olga, h.last(olga), "Decide")
    assert RECORDED in answer["text"], answer
    done = next(t for t in reversed(h.texts(olga)) if t.startswith("⚖️ Decided: $1,000.00"))
    assert RECORDED in done, done
    for party in (ann, bob):
        told = h.last(party).plain_text
        assert "An operator decided the dispute about «Design»" in told and RECORDED in told, told
