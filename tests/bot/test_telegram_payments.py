"""Telegram mode (issue 14, PRODUCT §7): Activate & fund sends an invoice; pre-checkout says ok only for a
payment that may fund the milestone now; a successful payment funds it once per charge; a payment that
can't be applied is recorded and refunded. In Stars (XTR) and with a provider token (fiat)."""

from __future__ import annotations

import json

import pytest
from telegram import Update

from domain.model import LedgerKind, MilestoneStatus
from testkit.harness import Harness, make_app

from .helpers import (
    add_milestone,
    bad_calls,
    every_press_is_answered,  # noqa: F401 (a fixture)
    ledger_sums,
    milestones,
    open_card,
    setup_contract,
    svc,
)

pytestmark = pytest.mark.usefixtures("every_press_is_answered")

PROVIDER = "284685063:TEST:ZmFrZS1wcm92aWRlcg"
OPERATOR = 9001


async def money_harness(tg, db_url, clock, **settings):
    app = await make_app(tg, db_url, clock, payments="telegram", operator_ids=str(OPERATOR), **settings)
    return Harness(app, tg, clock)


async def invoice_for(h, ann, cid: int, title: str = "Design"):
    """Ann taps Activate & fund on the card: the invoice message it brings."""
    card = await open_card(h, ann, cid)
    answer = await h.press(ann, card, f"Activate & fund «{title}»")
    assert answer["text"] == "Here is the invoice: pay it to fund the milestone.", answer
    invoice = h.last(ann)
    assert invoice.media and "invoice" in invoice.media, invoice
    return invoice


async def checkout(h, payer, invoice, **kw) -> dict:
    query = h.tg.start_payment(payer, invoice, **kw)
    await h.pump()
    return query, h.tg.pre_checkout_answers[query]


async def stars_contract(h, ann, bob, amount: str = "250"):
    cid = await setup_contract(h, ann, bob, title="Logo", currency="XTR")
    await add_milestone(h, ann, "Design", amount, "in 2 weeks")
    return cid


# ----- the invoice -----------------------------------------------------------------------------------------
async def test_a_stars_invoice_asks_the_client_for_the_milestone_in_whole_stars(stars, people, tg):
    ann, bob, _ = people
    cid = await stars_contract(stars, ann, bob)
    invoice = await invoice_for(stars, ann, cid)
    asked = tg.invoice(invoice)
    assert (asked["currency"], asked["total_amount"], asked["provider_token"]) == ("XTR", 250, "")
    assert asked["title"] == "Design" and "«Design» in «Logo»" in asked["description"]
    assert asked["payload"].startswith(f"m{(await milestones(stars, cid, ann))[0].id}.")
    [call] = tg.calls_of("sendInvoice")
    assert json.loads(json.dumps(call.params["prices"])) == [{"label": "Design", "amount": 250}]
    assert (await milestones(stars, cid, ann))[0].status is MilestoneStatus.NOT_FUNDED, "an invoice funds nothing"
    assert not bad_calls(tg)


async def test_a_fiat_invoice_carries_the_provider_token_and_minor_units(fiat, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(fiat, ann, bob, currency="EUR")
    await add_milestone(fiat, ann, "Design", "1,250.50", "in 2 weeks")
    asked = tg.invoice(await invoice_for(fiat, ann, cid))
    assert (asked["currency"], asked["total_amount"], asked["provider_token"]) == ("EUR", 125_050, PROVIDER)


async def test_stars_mode_takes_only_xtr_contracts(stars, people, tg):
    ann, _, _ = people
    await stars.send(ann, "/newcontract")
    await stars.send(ann, "Shop")
    await stars.send(ann, "USD")
    assert "Payments here are in Telegram Stars: the currency must be XTR." in stars.last(ann).plain_text


async def test_a_5xx_on_send_invoice_is_retried_and_the_client_gets_one_invoice(stars, people, tg):
    ann, bob, _ = people
    cid = await stars_contract(stars, ann, bob)
    tg.fail_next("sendInvoice", 502)
    card = await open_card(stars, ann, cid)
    await stars.press(ann, card, "Activate & fund")
    await stars.app.bot_data["sender"].drain(timeout=20, retries=True)
    invoices = [m for m in tg.messages(ann) if m.media and "invoice" in m.media]
    assert len(invoices) == 1
    assert [c.status for c in tg.calls_of("sendInvoice")] == [502, 200]


# ----- pre-checkout ----------------------------------------------------------------------------------------
async def test_pre_checkout_says_ok_to_the_client_paying_the_current_invoice(stars, people, tg):
    ann, bob, _ = people
    cid = await stars_contract(stars, ann, bob)
    _, answer = await checkout(stars, ann, await invoice_for(stars, ann, cid))
    assert answer["ok"] is True
    assert (await milestones(stars, cid, ann))[0].status is MilestoneStatus.NOT_FUNDED


async def test_each_pre_checkout_refusal_gives_the_reason(stars, people, tg, clock):
    ann, bob, eve = people
    cid = await stars_contract(stars, ann, bob)
    first = await invoice_for(stars, ann, cid)
    current = await invoice_for(stars, ann, cid)  # a second tap: the first invoice is stale now
    cases = [
        (bob, current, {}, "Only the client of this contract can do that."),
        (eve, current, {}, "Only the client and the freelancer of this contract can see or use it."),
        (ann, current, {"total_amount": 249}, "does not match what the bot issued"),
        (ann, first, {}, "was replaced by a newer one"),
    ]
    for payer, invoice, kw, reason in cases:
        _, answer = await checkout(stars, payer, invoice, **kw)
        assert answer["ok"] is False and reason in answer["error_message"], (reason, answer)
    clock.advance(hours=25)
    _, answer = await checkout(stars, ann, current)
    assert answer["ok"] is False and "expired" in answer["error_message"]


async def test_pre_checkout_refuses_once_the_amount_changed_or_the_milestone_is_funded(stars, people, tg):
    ann, bob, _ = people
    cid = await stars_contract(stars, ann, bob)
    invoice = await invoice_for(stars, ann, cid)
    query, answer = await checkout(stars, ann, invoice)
    tg.complete_payment(ann, query)
    await stars.pump()
    _, answer = await checkout(stars, ann, invoice)
    assert answer["ok"] is False and "«Design» is funded" in answer["error_message"]


# ----- successful payments ---------------------------------------------------------------------------------
async def test_a_payment_funds_the_milestone_and_both_are_told(stars, people, tg):
    ann, bob, _ = people
    cid = await stars_contract(stars, ann, bob)
    query, _ = await checkout(stars, ann, await invoice_for(stars, ann, cid))
    charge = tg.complete_payment(ann, query)
    await stars.pump()
    [design] = await milestones(stars, cid, ann)
    assert design.status is MilestoneStatus.ACTIVE
    [fund] = [e for e in await svc(stars).ledger(cid) if e.kind is LedgerKind.FUND]
    assert (fund.amount, fund.charge_id, fund.actor_id) == (250, charge, ann.id)
    assert "✅ Paid 250 ⭐: «Design» is funded." in tg.last_message(ann).plain_text
    news = tg.last_message(bob).plain_text
    assert "Ann paid 250 ⭐ for «Design» in «Logo»: the money is held in escrow." in news
    assert not bad_calls(tg)


async def test_the_same_successful_payment_twice_funds_once(fiat, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(fiat, ann, bob)
    await add_milestone(fiat, ann, "Design", "1500", "in 2 weeks")
    query, _ = await checkout(fiat, ann, await invoice_for(fiat, ann, cid))
    charge = tg.complete_payment(ann, query)
    await fiat.pump()
    told = len(tg.messages(bob))
    tg.complete_payment(ann, query, charge_id=charge)  # Telegram delivers it again (a new update)
    await fiat.pump()
    entries = await svc(fiat).ledger(cid)
    assert [(e.kind, e.charge_id, e.provider_charge_id) for e in entries] == [
        (LedgerKind.FUND, charge, tg.charges[charge]["provider_charge_id"])
    ]
    assert len(tg.messages(bob)) == told, "the freelancer is told once"
    assert not any("went wrong" in m.plain_text for m in tg.messages(ann)), "a duplicate is no error"
    assert fiat.app.bot_data["turns"].counts["failed"] == 0


async def test_a_duplicated_update_is_handled_once(stars, people, tg):
    """The very same update (same update_id) handed to the bot twice: the inbox handles it once."""
    ann, bob, _ = people
    cid = await stars_contract(stars, ann, bob)
    query, _ = await checkout(stars, ann, await invoice_for(stars, ann, cid))
    tg.complete_payment(ann, query)
    status, payload = tg.call_direct("getUpdates", {"offset": stars.offset, "timeout": 0})
    [raw] = payload["result"]
    await stars.pump()
    await stars.app.process_update(Update.de_json(raw, stars.app.bot))
    await stars.pump()
    assert (await ledger_sums(stars, cid))[LedgerKind.FUND] == 250
    assert sum("Paid 250 ⭐" in m.plain_text for m in tg.messages(ann)) == 1


async def test_a_stars_payment_after_the_contract_ended_is_refunded(stars, people, tg):
    ann, bob, _ = people
    cid = await stars_contract(stars, ann, bob)
    query, answer = await checkout(stars, ann, await invoice_for(stars, ann, cid))
    assert answer["ok"]
    card = await open_card(stars, ann, cid)  # meanwhile Ann ends the contract
    await stars.press(ann, card, "End contract")
    await stars.press(ann, stars.last(ann), "End contract now")
    charge = tg.complete_payment(ann, query)
    await stars.pump()
    assert tg.charges[charge]["refunded"] is True
    [refund] = tg.calls_of("refundStarPayment")
    assert refund.params["telegram_payment_charge_id"] == charge and int(refund.params["user_id"]) == ann.id
    told = tg.last_message(ann).plain_text
    assert "could not be applied: This contract has ended" in told and "refunded to you in Stars now" in told
    sums = await ledger_sums(stars, cid)
    assert (sums[LedgerKind.FUND], sums[LedgerKind.UNAPPLIED], sums[LedgerKind.REFUND_PAID]) == (0, 250, 250)


async def test_two_invoices_paid_at_once_fund_once_and_the_other_is_refunded(stars, people, tg):
    ann, bob, _ = people
    cid = await stars_contract(stars, ann, bob)
    invoice = await invoice_for(stars, ann, cid)
    first, _ = await checkout(stars, ann, invoice)  # two devices: both pass pre-checkout…
    second, _ = await checkout(stars, ann, invoice)
    one = tg.complete_payment(ann, first)  # …and both are charged before the bot sees either
    two = tg.complete_payment(ann, second)
    await stars.pump()
    sums = await ledger_sums(stars, cid)
    assert (sums[LedgerKind.FUND], sums[LedgerKind.UNAPPLIED], sums[LedgerKind.REFUND_PAID]) == (250, 250, 250)
    assert (tg.charges[one]["refunded"], tg.charges[two]["refunded"]) == (False, True)
    assert (await milestones(stars, cid, ann))[0].status is MilestoneStatus.ACTIVE


async def test_refunding_a_stars_milestone_gives_the_stars_back(stars, people, tg):
    ann, bob, _ = people
    cid = await stars_contract(stars, ann, bob)
    query, _ = await checkout(stars, ann, await invoice_for(stars, ann, cid))
    charge = tg.complete_payment(ann, query)
    await stars.pump()
    card = await open_card(stars, bob, cid)
    await stars.press(bob, card, "Refund «Design»")
    answer = await stars.press(bob, stars.last(bob), "Refund")
    assert answer["text"] == "Refunded: the money goes back to the client, who is told when it is sent."
    assert tg.charges[charge]["refunded"] is True
    assert any("250 ⭐ for your milestone are refunded to you in Stars" in m.plain_text for m in tg.messages(ann))
    sums = await ledger_sums(stars, cid)
    assert sums[LedgerKind.REFUND] == sums[LedgerKind.REFUND_PAID] == 250
    assert not bad_calls(tg)
