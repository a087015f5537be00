"""Ledger mode (issue 14, PRODUCT §7): the bot holds no money and says so; the client pays the freelancer
directly, and the freelancer confirms the payment received (or flags it as not received)."""

from __future__ import annotations

import pytest

from .helpers import (
    add_milestone,
    bad_calls,
    every_press_is_answered,  # noqa: F401 (a fixture)
    milestones,
    open_card,
    press_forged,
    setup_contract,
    svc,
    usd,
)

pytestmark = pytest.mark.usefixtures("every_press_is_answered")

MODE = "Ledger mode: the bot holds no money"


async def released_design(harness, ann, bob):
    """Design ($1,500.00) activated, submitted and approved in ledger mode; returns the contract id."""
    cid = await setup_contract(harness, ann, bob)
    await add_milestone(harness, ann, "Design", "1500", "in 2 weeks")
    card = await open_card(harness, ann, cid)
    assert MODE in card.plain_text, "the first card says how money works here"
    answer = await harness.press(ann, card, "Activate & fund")
    assert "recorded" in answer["text"] and "holds no money" in answer["text"]
    await harness.press(bob, harness.last(bob), "Submit work")
    await harness.send(bob, "done")
    asked = await harness.press(ann, harness.last(ann), "Approve & release")
    answer = await harness.press(ann, harness.last(ann), "Release")
    assert answer["text"] == (
        "Approved: the release is recorded. Pay the freelancer directly; they confirm when it arrives."
    ), asked
    return cid


async def test_no_money_word_without_recorded_and_help_says_the_mode(harness, people, tg):
    ann, bob, _ = people
    await released_design(harness, ann, bob)
    help_text = (await harness.send(ann, "/help")).plain_text
    assert MODE in help_text and "the client pays the freelancer directly" in help_text
    said = [m.plain_text for user in (ann, bob) for m in tg.messages(user)]
    money_words = [t for t in said if "funded" in t.lower() or "released" in t.lower()]
    assert money_words, "the story produced news and cards about money"
    for text in money_words:
        lowered = text.lower()
        assert "recorded" in lowered or "not funded" in lowered, text
    news = [t for t in tg.messages(bob) if "activated and funded «Design»" in t.plain_text]
    assert len(news) == 1 and "recorded in the ledger: the bot holds no money" in news[0].plain_text
    assert not bad_calls(tg)


async def test_the_freelancer_confirms_the_payment_and_the_card_separates_confirmed(harness, people, tg):
    ann, bob, _ = people
    cid = await released_design(harness, ann, bob)
    [news] = [m for m in tg.messages(bob) if "approved «Design» and released" in m.plain_text]
    assert "Ann pays you directly" in news.plain_text
    assert [b[0] for b in news.buttons][:2] == ["Payment received «Design»", "Not received"]
    card = await open_card(harness, ann, cid)
    assert f"Released {usd(150_000)} (received {usd(0)}, unconfirmed {usd(150_000)})" in card.plain_text
    assert "payment not confirmed yet" in card.plain_text
    assert not [b for b in card.buttons if b[0].startswith("Payment received")], "the client can't confirm"

    asked = await harness.press(bob, news, "Payment received")
    assert "Confirm that Ann paid you $1,500.00 for «Design»?" in harness.last(bob).plain_text, asked
    answer = await harness.press(bob, harness.last(bob), "Yes, I received it")
    assert answer["text"] == "Recorded: you received the payment."
    told = tg.last_message(ann).plain_text
    assert "Bob confirmed receiving your payment of $1,500.00 for «Design»" in told
    card = await open_card(harness, ann, cid)
    assert f"(received {usd(150_000)}, unconfirmed {usd(0)})" in card.plain_text
    assert "💵 payment received" in card.plain_text
    [design] = await milestones(harness, cid, ann)
    assert design.payment_confirmed_at is not None

    # The same button pressed again (another copy of the news, a second device): already done.
    again = await press_forged(harness, bob, harness.last(bob), f"m:pyok:{design.id}")
    assert "already confirmed" in again["text"]
    [event] = [h for h in (await svc(harness).history(cid, bob.id))[1] if h.action == "payment_confirmed"]
    assert event.actor_id == bob.id
    assert not bad_calls(tg)


async def test_not_received_flags_the_milestone_to_both(harness, people, tg):
    ann, bob, _ = people
    cid = await released_design(harness, ann, bob)
    [news] = [m for m in tg.messages(bob) if "approved «Design» and released" in m.plain_text]
    await harness.press(bob, news, "Not received")
    assert "Tell Ann that the $1,500.00 for «Design» has not arrived?" in harness.last(bob).plain_text
    answer = await harness.press(bob, harness.last(bob), "Not received")
    assert answer["text"] == "Flagged: the client is told the payment hasn't arrived."
    warning = tg.last_message(ann).plain_text
    assert "⚠️ Bob has not received your payment of $1,500.00 for «Design»" in warning
    for user in (ann, bob):
        card = await open_card(harness, user, cid)
        assert "⚠️ payment NOT received (flagged by the freelancer)" in card.plain_text
    _, entries = await svc(harness).history(cid, ann.id)
    assert entries[-1].action == "payment_not_received" and entries[-1].actor_id == bob.id
    # Once the money arrives the freelancer confirms it and the flag goes.
    card = await open_card(harness, bob, cid)
    await harness.press(bob, card, "Payment received")
    await harness.press(bob, harness.last(bob), "Yes, I received it")
    card = await open_card(harness, ann, cid)
    assert "NOT received" not in card.plain_text and "💵 payment received" in card.plain_text
    assert not bad_calls(tg)
