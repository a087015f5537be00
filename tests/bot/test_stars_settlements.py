"""Stars refunds of a settlement (PRODUCT §7, §8): whatever closes a Stars milestone with its whole charge
refunded (an accepted offer of nothing, an operator's decision of nothing) gives the Stars back through
refundStarPayment, once, and tells the client; a partial refund (pay less, a split) can't go through
refundStarPayment (it refunds a whole charge), so it stays owed on the operators' desk."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram.ext import CallbackContext

from bot.reminders import run_sweep
from domain.model import LedgerKind, MilestoneStatus

from .helpers import (
    bad_calls,
    every_press_is_answered,  # noqa: F401 (a fixture)
    ledger_sums,
    milestones,
    open_card,
)
from .test_telegram_payments import checkout, invoice_for, stars_contract

pytestmark = pytest.mark.usefixtures("every_press_is_answered")

REFUNDED = "250 ⭐ for your milestone are refunded to you in Stars"


async def submitted(h, ann, bob) -> tuple[int, str]:
    """Logo with Design (250 ⭐) paid by Ann's invoice and submitted by Bob: the contract and the charge."""
    cid = await stars_contract(h, ann, bob)
    query, _ = await checkout(h, ann, await invoice_for(h, ann, cid))
    charge = h.tg.complete_payment(ann, query)
    await h.pump()
    await h.press(bob, await open_card(h, bob, cid), "Submit work")
    await h.send(bob, "done")
    return cid, charge


async def open_dispute(h, who, cid, reason="not what we agreed"):
    await h.press(who, await open_card(h, who, cid), "Open a dispute")
    await h.send(who, reason)


async def offer(h, who, message, amount: str) -> None:
    await h.press(who, message, "Offer a split")
    await h.send(who, amount)
    await h.press(who, h.last(who), "Skip")


async def escalated(h, ann, bob, cid) -> None:
    """Ann disputes Design; nobody agrees within the dispute period: it goes to the operator."""
    await open_dispute(h, ann, cid)
    opened = h.clock()
    for later in (timedelta(days=4, hours=1), timedelta(days=5, seconds=1)):  # warned, then escalated
        h.clock.now = opened + later
        await run_sweep(CallbackContext(h.app))
        await h.app.bot_data["sender"].drain()
    assert "an operator now decides" in h.last(ann).plain_text


async def decide(h, op, amount: str, note: str = "the work was not delivered") -> None:
    listed = await h.send(op, "/disputes")
    await h.press(op, listed, "Decide the split")
    await h.send(op, amount)
    await h.send(op, note)
    await h.press(op, h.last(op), "Decide")
    await h.app.bot_data["sender"].drain()


async def test_a_dispute_decided_at_nothing_to_the_freelancer_gives_the_stars_back(stars, people, tg, op):
    ann, bob, _ = people
    cid, charge = await submitted(stars, ann, bob)
    await escalated(stars, ann, bob, cid)
    await decide(stars, op, "0")
    [design] = await milestones(stars, cid, ann)
    assert design.status is MilestoneStatus.REFUNDED
    [refund] = tg.calls_of("refundStarPayment")
    assert refund.params["telegram_payment_charge_id"] == charge and int(refund.params["user_id"]) == ann.id
    assert tg.charges[charge]["refunded"] is True
    assert sum(REFUNDED in m.plain_text for m in tg.messages(ann)) == 1
    sums = await ledger_sums(stars, cid)
    assert sums[LedgerKind.REFUND] == sums[LedgerKind.REFUND_PAID] == 250
    assert "Nothing: every release and refund is paid out." in (await stars.send(op, "/desk")).plain_text
    assert not bad_calls(tg)


async def test_an_accepted_offer_of_nothing_gives_the_stars_back_once(stars, people, tg):
    ann, bob, _ = people
    cid, charge = await submitted(stars, ann, bob)
    await open_dispute(stars, ann, cid)
    await offer(stars, ann, await open_card(stars, ann, cid), "0")
    await stars.press(bob, stars.last(bob), "Accept offer")
    await stars.press(bob, stars.last(bob), "Accept and settle")
    await stars.app.bot_data["sender"].drain()
    [refund] = tg.calls_of("refundStarPayment")
    assert refund.params["telegram_payment_charge_id"] == charge and int(refund.params["user_id"]) == ann.id
    assert sum(REFUNDED in m.plain_text for m in tg.messages(ann)) == 1
    sums = await ledger_sums(stars, cid)
    assert sums[LedgerKind.REFUND] == sums[LedgerKind.REFUND_PAID] == 250
    assert not bad_calls(tg)


async def test_a_split_dispute_leaves_the_partial_refund_to_the_operator(stars, people, tg, op):
    ann, bob, _ = people
    cid, _charge = await submitted(stars, ann, bob)
    await escalated(stars, ann, bob, cid)
    await decide(stars, op, "100", "half done")
    assert not tg.calls_of("refundStarPayment"), "refundStarPayment refunds a whole charge only"
    assert not any(REFUNDED in m.plain_text for m in tg.messages(ann))
    [design] = await milestones(stars, cid, ann)
    text = (await stars.send(op, "/desk")).plain_text
    assert f"r{design.id} Refund 150 ⭐ to Ann (id {ann.id})" in text
    assert f"p{design.id} Payout 100 ⭐ to Bob" in text
    sums = await ledger_sums(stars, cid)
    assert (sums[LedgerKind.REFUND], sums[LedgerKind.REFUND_PAID]) == (150, 0)


async def test_paying_less_in_stars_leaves_the_rest_owed_on_the_desk(stars, people, tg, op):
    ann, bob, _ = people
    cid, _charge = await submitted(stars, ann, bob)
    await stars.press(ann, await open_card(stars, ann, cid), "Pay less…")
    await stars.send(ann, "200")
    await stars.send(ann, "the colours are off")
    await stars.press(ann, stars.last(ann), "Release less")
    await stars.app.bot_data["sender"].drain()
    assert not tg.calls_of("refundStarPayment")
    [design] = await milestones(stars, cid, ann)
    assert f"r{design.id} Refund 50 ⭐ to Ann (id {ann.id})" in (await stars.send(op, "/desk")).plain_text
    # The operator refunds it by hand; then nothing is owed and nothing goes through refundStarPayment.
    await stars.send(op, f"/paid r{design.id} STARS-BY-HAND")
    assert not tg.calls_of("refundStarPayment")
    sums = await ledger_sums(stars, cid)
    assert sums[LedgerKind.REFUND] == sums[LedgerKind.REFUND_PAID] == 50


@pytest.mark.parametrize("fault", ["500", "dropped", "429"])
async def test_a_settlement_refund_that_telegram_fails_once_goes_out_once_on_the_next_try(stars, people, tg, fault):
    """The refundStarPayment a settlement causes is an outbox row: a transient fault is retried, the charge
    is refunded once, the client told once, and the party who settled never sees the apology."""
    ann, bob, _ = people
    cid, charge = await submitted(stars, ann, bob)
    await open_dispute(stars, ann, cid)
    await offer(stars, ann, await open_card(stars, ann, cid), "0")
    await stars.press(bob, stars.last(bob), "Accept offer")
    if fault == "dropped":
        tg.drop_next("refundStarPayment")
    elif fault == "429":
        tg.fail_next("refundStarPayment", 429, retry_after=1)
    else:
        tg.fail_next("refundStarPayment", int(fault))
    answer = await stars.press(bob, stars.last(bob), "Accept and settle")
    assert "Sorry, something went wrong" not in (answer.get("text") or "")
    await stars.app.bot_data["sender"].drain(timeout=15, retries=True)
    done = [c for c in tg.calls_of("refundStarPayment") if c.status == 200]
    assert len(done) == 1 and done[0].params["telegram_payment_charge_id"] == charge
    assert tg.charges[charge]["refunded"] is True
    assert sum(REFUNDED in m.plain_text for m in tg.messages(ann)) == 1
    assert not any("Sorry, something went wrong" in m.plain_text for m in tg.messages(bob))
