"""Disagreements as people live them (PRODUCT §8): pay less, a bonus, a new due date, disputes with offers,
an operator's decision, and the reminders that keep them moving."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from telegram.ext import CallbackContext

from bot.callbacks import Press
from bot.reminders import run_sweep
from domain.actions import Action
from domain.model import LedgerKind, MilestoneStatus

from .helpers import (
    every_press_is_answered,  # noqa: F401 (a fixture)
    ledger_sums,
    message_by_id,
    milestones,
    open_card,
    press_forged,
    story_so_far,
    svc,
)

pytestmark = pytest.mark.usefixtures("every_press_is_answered")


async def sweep(h) -> dict:
    counts = await run_sweep(CallbackContext(h.app))
    await h.app.bot_data["sender"].drain()
    return counts


def labels(message) -> list[str]:
    return [t for t, _ in message.buttons]


async def design(h, cid, ann):
    return next(m for m in await milestones(h, cid, ann) if m.title == "Design")


# ----- pay less / bonus -------------------------------------------------------------------------------
async def test_the_client_releases_less_with_a_reason_after_a_confirmation_naming_the_amounts(harness, people):
    h = harness
    ann, bob, _ = people
    cid, _ = await story_so_far(h, ann, bob)
    card = await open_card(h, ann, cid)
    assert "Pay less…" in labels(card) and "Approve + bonus…" in labels(card)
    assert "Pay less…" not in labels(await open_card(h, bob, cid))
    await h.press(ann, card, "Pay less…")
    assert "How much of $1,500.00" in h.last(ann).plain_text
    refused = await h.send(ann, "1500")  # not less
    assert "between $0.01 and $1,499.99" in refused.plain_text
    await h.send(ann, "600")
    await h.send(ann, "half the pages are missing")
    question = h.last(ann)
    assert "Release $600.00 (of $1,500.00) to Bob for «Design» and refund $900.00 to you?" in question.plain_text
    assert "Reason: half the pages are missing" in question.plain_text
    await h.press(ann, question, "Release less")
    sums = await ledger_sums(h, cid)
    assert (sums[LedgerKind.RELEASE], sums[LedgerKind.REFUND]) == (60_000, 90_000)
    news = h.last(bob).plain_text
    assert "released less than $1,500.00" in news and "$600.00 of $1,500.00, $900.00 refunded" in news
    assert "half the pages are missing" in news
    card = await open_card(h, ann, cid)
    assert any(t.startswith("Activate & fund «Build»") for t in labels(card))  # the way to the next is open


async def test_a_bonus_is_confirmed_with_both_amounts_and_recorded(harness, people):
    h = harness
    ann, bob, _ = people
    cid, _ = await story_so_far(h, ann, bob)
    await h.press(ann, await open_card(h, ann, cid), "Approve + bonus…")
    await h.send(ann, "$50")
    question = h.last(ann)
    assert "Release $1,500.00 to Bob for «Design» and add a bonus of $50.00?" in question.plain_text
    await h.press(ann, question, "Release + bonus")
    sums = await ledger_sums(h, cid)
    assert (sums[LedgerKind.RELEASE], sums[LedgerKind.BONUS], sums[LedgerKind.REFUND]) == (150_000, 5_000, 0)
    assert "with a bonus" in h.last(bob).plain_text and "bonus $50.00" in h.last(bob).plain_text
    assert "pay the bonus to the freelancer directly" in h.texts(ann)[-2]


# ----- a new due date ---------------------------------------------------------------------------------
async def test_a_new_date_from_an_overdue_reminder_accepted_and_the_reminders_follow_it(harness, people):
    h = harness
    ann, bob, _ = people
    cid, _ = await story_so_far(h, ann, bob)
    ms = await design(h, cid, ann)
    card = await open_card(h, ann, cid)
    await h.press(ann, card, "Request changes")
    await h.send(ann, "again please")  # back to active
    h.clock.now = datetime.combine(ms.due_date + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=9)
    await sweep(h)
    overdue = h.last(bob)
    assert "overdue" in overdue.plain_text and "New due date «Design»…" in labels(overdue)
    await h.press(bob, overdue, "New due date")
    assert "Send the <b>new due date</b>" in h.tg.messages(bob)[-1].text or "new due date" in h.last(bob).plain_text
    new_due = ms.due_date + timedelta(days=20)
    await h.send(bob, new_due.isoformat())
    asked = h.last(ann)
    assert "proposes a new due date" in asked.plain_text and "Accept new date" in labels(asked)
    await h.press(ann, asked, "Accept new date")
    assert (await design(h, cid, ann)).due_date == new_due
    _, history = await svc(h).history(cid, ann.id)
    assert any(e.action == "due_date_changed" and e.note == f"{ms.due_date} → {new_due}" for e in history)
    assert "accepted the new due date" in h.last(bob).plain_text
    h.clock.now = datetime.combine(new_due - timedelta(days=3), datetime.min.time(), UTC) + timedelta(
        hours=9, seconds=5
    )
    await sweep(h)
    assert "is due in 3 days" in h.last(bob).plain_text  # planned from the new date


async def test_a_declined_date_keeps_the_old_one_and_the_proposer_cant_answer_it(harness, people):
    h = harness
    ann, bob, _ = people
    cid, _ = await story_so_far(h, ann, bob)
    card = await open_card(h, ann, cid)
    await h.press(ann, card, "Request changes")
    await h.send(ann, "again")
    await h.press(ann, await open_card(h, ann, cid), "New due date")
    await h.send(ann, "2027-03-01")
    assert "Accept new date" not in labels(await open_card(h, ann, cid))
    asked = h.last(bob)
    assert "Proposed due date: " in asked.plain_text
    before = (await design(h, cid, ann)).due_date
    await h.press(bob, asked, "Keep the old date")
    assert (await design(h, cid, ann)).due_date == before
    assert "declined the new due date" in h.last(ann).plain_text


# ----- disputes ---------------------------------------------------------------------------------------
async def open_dispute(h, who, cid, reason="the logo is not what we agreed"):
    await h.press(who, await open_card(h, who, cid), "Open a dispute")
    await h.send(who, reason)


async def test_a_dispute_holds_the_automatic_release_and_the_other_reminders(harness, people):
    h = harness
    ann, bob, _ = people
    cid, _ = await story_so_far(h, ann, bob)
    submitted_at = h.clock()
    await open_dispute(h, ann, cid)
    news = h.last(bob).plain_text
    assert "opened a dispute" in news and "Reason: the logo is not what we agreed" in news
    assert "Approve & release «Design»" not in labels(await open_card(h, ann, cid))
    h.clock.now = submitted_at + timedelta(days=14, seconds=1)
    counts = await sweep(h)
    assert counts["released"] == 0
    assert (await design(h, cid, ann)).status is MilestoneStatus.SUBMITTED
    assert not any("waits for your review" in t for t in h.texts(ann))
    assert not any("was released automatically" in t for t in h.texts(bob))
    # Without operators it stays open, and both are reminded that it does.
    assert any("is still open after 10 days" in t for t in h.texts(ann))
    assert any("is still open after 10 days" in t for t in h.texts(bob))


async def test_offers_go_back_and_forth_and_an_accepted_one_settles_exactly(harness, people):
    h = harness
    ann, bob, _ = people
    cid, _ = await story_so_far(h, ann, bob)
    await open_dispute(h, bob, cid, "client went silent")
    asked = h.last(ann)
    assert any(t.startswith("Offer a split") for t in labels(asked))
    await h.press(ann, asked, "Offer a split")
    await h.send(ann, "500")
    await h.press(ann, h.last(ann), "Skip")
    offer = h.last(bob)
    assert "offers to settle «Design»" in offer.plain_text
    assert "Offer: $500.00 to the freelancer, $1,000.00 to the client" in offer.plain_text
    assert labels(offer)[:2] == ["Accept offer «Design»", "Counter-offer…"]
    await h.press(bob, offer, "Counter-offer")
    await h.send(bob, "1200")
    await h.send(bob, "the mockups are all done")
    counter = h.last(ann)
    assert "Counter-offer: $1,200.00 to the freelancer, $300.00 to the client: the mockups are all done" in (
        counter.plain_text
    )
    # A day later the client has not answered: reminded once.
    h.clock.advance(days=1, minutes=1)
    await sweep(h)
    assert (
        "A settlement offer for «Design» ($1,500.00 held) in «Website redesign» waits for your answer"
        in h.last(ann).plain_text
    )
    await sweep(h)
    assert sum("waits for your answer" in t for t in h.texts(ann)) == 1
    await h.press(ann, counter, "Accept offer")
    question = message_by_id(h.tg, ann, counter.message_id)  # the news asks in place
    assert "$1,200.00 to the freelancer, $300.00 back to the client, as Bob offered?" in question.plain_text
    await h.press(ann, question, "Accept and settle")
    sums = await ledger_sums(h, cid)
    assert (sums[LedgerKind.FUND], sums[LedgerKind.RELEASE], sums[LedgerKind.REFUND]) == (150_000, 120_000, 30_000)
    assert "accepted the settlement" in h.last(bob).plain_text
    card = await open_card(h, ann, cid)
    assert any(t.startswith("Activate & fund «Build»") for t in labels(card))


async def test_escalated_to_the_operator_who_sees_both_sides_and_decides(with_operator, tg, people):
    h = with_operator
    ann, bob, eve = people
    olga = tg.user(1009, "Olga", "olga", started=True)
    cid, _ = await story_so_far(h, ann, bob)
    await open_dispute(h, ann, cid, "the logo is wrong")
    await h.press(bob, h.last(bob), "Offer a split")
    await h.send(bob, "1400")
    await h.send(bob, "only the logo needs a tweak")
    opened = h.clock()
    h.clock.now = opened + timedelta(days=4, hours=1)
    await sweep(h)
    assert any("goes to an operator in 1 day" in t for t in h.texts(ann))
    h.clock.now = opened + timedelta(days=5, seconds=1)
    await sweep(h)
    assert "an operator now decides" in h.last(bob).plain_text
    assert "an operator now decides" in h.last(ann).plain_text
    assert not any(t.startswith(("Accept offer", "Counter")) for t in labels(await open_card(h, ann, cid)))
    case = h.last(olga)
    text = case.plain_text
    assert "Dispute about «Design»" in text and "$1,500.00 held" in text
    assert "the logo is wrong" in text and "only the logo needs a tweak" in text and "done" in text
    assert "freelancer: $1,400.00 to the freelancer" in text
    # Nobody else has the operators' commands; the parties can't decide.
    await h.send(eve, "/disputes")
    assert "Dispute" not in h.last(eve).plain_text
    ms = await design(h, cid, ann)
    refused = await press_forged(h, ann, await open_card(h, ann, cid), Press(Action.DECIDE_DISPUTE, ms.id).encode())
    assert "Only an operator" in refused["text"] or "party to this contract" in refused["text"]
    listed = await h.send(olga, "/disputes")
    assert "Decide the split" in labels(listed)
    await h.press(olga, listed, "Decide the split")
    await h.send(olga, "1000")
    await h.send(olga, "the logo needs a redo; the rest is delivered")
    question = h.last(olga)
    assert "$1,000.00 to the freelancer, $500.00 back to the client?" in question.plain_text
    await h.press(olga, question, "Decide")
    sums = await ledger_sums(h, cid)
    assert (sums[LedgerKind.RELEASE], sums[LedgerKind.REFUND]) == (100_000, 50_000)
    for party in (ann, bob):
        told = h.last(party).plain_text
        assert "An operator decided the dispute about «Design»" in told
        assert "the logo needs a redo" in told
    assert any(t.startswith("Activate & fund «Build»") for t in labels(await open_card(h, ann, cid)))
    assert "No dispute waits" in (await h.send(olga, "/disputes")).plain_text
    assert (await h.send(olga, "/desk")).plain_text.count("Disputes") == 1
