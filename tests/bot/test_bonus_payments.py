"""A bonus in Telegram Payments mode (PRODUCT §8, issue 15): Approve + bonus releases the milestone and sends
the client an invoice for the bonus (its own payload kind); pre-checkout refuses anything but the client
paying the current, unexpired bonus invoice that is not paid yet; a successful payment records the bonus
once per charge, the freelancer is told and the operators owe it as a payout; a second one is refunded."""

from __future__ import annotations

import json

import pytest

from domain.model import LedgerKind, MilestoneStatus
from domain.payment_service import PaymentService

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
from .test_telegram_payments import OPERATOR, PROVIDER, checkout, invoice_for, stars_contract

pytestmark = pytest.mark.usefixtures("every_press_is_answered")


def invoices(tg, user) -> list:
    return [m for m in tg.messages(user) if m.media and "invoice" in m.media]


async def submitted(h, ann, bob, cid: int) -> None:
    """Design funded through its invoice and submitted by Bob."""
    query, _ = await checkout(h, ann, await invoice_for(h, ann, cid))
    h.tg.complete_payment(ann, query)
    await h.pump()
    await h.press(bob, await open_card(h, bob, cid), "Submit work")
    await h.send(bob, "done")


async def approve_with_bonus(h, ann, cid: int, bonus: str):
    """Ann approves Design with a bonus: the invoice message it brings."""
    await h.press(ann, await open_card(h, ann, cid), "Approve + bonus…")
    await h.send(ann, bonus)
    answer = await h.press(ann, h.last(ann), "Release + bonus")
    assert answer["text"] == "Released: the bonus is invoiced to you.", answer
    await h.app.bot_data["sender"].drain()
    [invoice] = [m for m in invoices(h.tg, ann) if h.tg.invoice(m)["payload"].startswith("b")]
    return invoice


async def stars_bonus(h, ann, bob, bonus: str = "40"):
    cid = await stars_contract(h, ann, bob)
    await submitted(h, ann, bob, cid)
    return cid, await approve_with_bonus(h, ann, cid, bonus)


# ----- the invoice -----------------------------------------------------------------------------------------
async def test_approving_with_a_bonus_releases_and_invoices_the_bonus_in_stars(stars, people, tg):
    ann, bob, _ = people
    cid, invoice = await stars_bonus(stars, ann, bob)
    [design] = await milestones(stars, cid, ann)
    assert design.status is MilestoneStatus.RELEASED and design.bonus_invoiced
    asked = tg.invoice(invoice)
    assert (asked["currency"], asked["total_amount"], asked["provider_token"]) == ("XTR", 40, "")
    assert asked["title"] == "Bonus: Design" and "bonus you added to «Design» in «Logo»" in asked["description"]
    assert asked["payload"].startswith(f"b{design.id}.")
    call = tg.calls_of("sendInvoice")[-1]
    assert json.loads(json.dumps(call.params["prices"])) == [{"label": "Bonus: Design", "amount": 40}]
    sums = await ledger_sums(stars, cid)
    assert (sums[LedgerKind.RELEASE], sums[LedgerKind.BONUS]) == (250, 0), "invoiced, not paid"
    assert "the bonus of 40 ⭐ is invoiced to you" in " ".join(m.plain_text for m in tg.messages(ann))
    news = tg.last_message(bob).plain_text
    assert "with a bonus invoiced to them (not paid yet)" in news and "bonus 40 ⭐ invoiced, not paid yet" in news
    card = await open_card(stars, ann, cid)
    assert "🎁 bonus 40 ⭐ invoiced, not paid yet" in card.plain_text
    assert not bad_calls(tg)


async def test_a_fiat_bonus_invoice_carries_the_provider_token_and_minor_units(fiat, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(fiat, ann, bob, currency="EUR")
    await add_milestone(fiat, ann, "Design", "1500", "in 2 weeks")
    await submitted(fiat, ann, bob, cid)
    asked = tg.invoice(await approve_with_bonus(fiat, ann, cid, "50.25"))
    assert (asked["currency"], asked["total_amount"], asked["provider_token"]) == ("EUR", 5_025, PROVIDER)


async def test_a_5xx_on_the_bonus_invoice_is_retried_and_the_client_gets_one(stars, people, tg):
    ann, bob, _ = people
    cid = await stars_contract(stars, ann, bob)
    await submitted(stars, ann, bob, cid)
    before = len(tg.calls_of("sendInvoice"))
    tg.fail_next("sendInvoice", 502)
    await stars.press(ann, await open_card(stars, ann, cid), "Approve + bonus…")
    await stars.send(ann, "40")
    await stars.press(ann, stars.last(ann), "Release + bonus")
    await stars.app.bot_data["sender"].drain(timeout=20, retries=True)
    bonus_invoices = [m for m in invoices(tg, ann) if tg.invoice(m)["payload"].startswith("b")]
    assert len(bonus_invoices) == 1
    assert [c.status for c in tg.calls_of("sendInvoice")[before:]] == [502, 200]


async def test_ledger_mode_still_records_the_bonus_and_sends_no_invoice(harness, people, tg):
    from .helpers import story_so_far

    ann, bob, _ = people
    cid, _ = await story_so_far(harness, ann, bob)
    await harness.press(ann, await open_card(harness, ann, cid), "Approve + bonus…")
    await harness.send(ann, "$50")
    answer = await harness.press(ann, harness.last(ann), "Release + bonus")
    assert answer["text"] == "Released, with the bonus recorded."
    assert not tg.calls_of("sendInvoice")
    assert (await ledger_sums(harness, cid))[LedgerKind.BONUS] == 5_000


# ----- pre-checkout ----------------------------------------------------------------------------------------
async def test_each_bonus_pre_checkout_refusal_gives_the_reason(stars, people, tg, clock):
    ann, bob, eve = people
    cid, first = await stars_bonus(stars, ann, bob)
    _, answer = await checkout(stars, ann, first)
    assert answer["ok"] is True, answer
    [design] = await milestones(stars, cid, ann)
    # A second bonus invoice (as after a lost one): the first is stale now.
    payments: PaymentService = stars.app.bot_data["deps"].extra["payments"]
    newer = await payments.issue_bonus_invoice(ann.id, design.id, clock())
    stale_query, answer = await checkout(stars, ann, first)
    assert answer["ok"] is False and "was replaced by a newer one" in answer["error_message"]
    cases = [
        (bob, {}, "Only the client of «Design» pays its bonus."),
        (eve, {}, "Only the client of «Design» pays its bonus."),
        (ann, {"total_amount": 41}, "does not match what the bot issued"),
    ]
    for payer, kw, reason in cases:
        _, answer = await checkout(stars, payer, first, **kw)
        assert answer["ok"] is False and reason in answer["error_message"], (reason, answer)
    refusal = await payments.pre_checkout(ann.id, newer.payload, 40, "XTR", clock())
    assert refusal is None
    clock.advance(hours=25)
    expired = await payments.pre_checkout(ann.id, newer.payload, 40, "XTR", clock())
    assert expired is not None and "expired" in expired.reason


async def test_a_bonus_payload_does_not_pass_as_funding_nor_a_paid_bonus_twice(stars, people, tg):
    ann, bob, _ = people
    cid, invoice = await stars_bonus(stars, ann, bob)
    payload = tg.invoice(invoice)["payload"]
    payments: PaymentService = stars.app.bot_data["deps"].extra["payments"]
    now = stars.clock()
    relabelled = await payments.pre_checkout(ann.id, "m" + payload[1:], 40, "XTR", now)
    assert relabelled is not None and "does not match" in relabelled.reason
    query, _ = await checkout(stars, ann, invoice)
    tg.complete_payment(ann, query)
    await stars.pump()
    _, answer = await checkout(stars, ann, invoice)
    assert answer["ok"] is False and "The bonus for «Design» is paid already." in answer["error_message"]


# ----- successful payments ---------------------------------------------------------------------------------
async def test_a_bonus_payment_is_recorded_once_the_freelancer_is_told_and_the_desk_owes_it(stars, people, tg):
    ann, bob, _ = people
    cid, invoice = await stars_bonus(stars, ann, bob)
    query, _ = await checkout(stars, ann, invoice)
    charge = tg.complete_payment(ann, query)
    await stars.pump()
    told = len(tg.messages(bob))
    tg.complete_payment(ann, query, charge_id=charge)  # Telegram delivers it again
    await stars.pump()
    bonus = [e for e in await svc(stars).ledger(cid) if e.kind is LedgerKind.BONUS]
    assert [(e.amount, e.charge_id, e.actor_id) for e in bonus] == [(40, charge, ann.id)]
    assert len(tg.messages(bob)) == told, "the freelancer is told once"
    assert sum("Paid the bonus of 40 ⭐ for «Design»" in m.plain_text for m in tg.messages(ann)) == 1
    assert any("Ann paid the bonus of 40 ⭐ for «Design» in «Logo»" in m.plain_text for m in tg.messages(bob))
    assert not tg.calls_of("refundStarPayment")
    [design] = await milestones(stars, cid, ann)
    assert not design.bonus_invoiced
    assert "🎁 bonus 40 ⭐ paid" in (await open_card(stars, ann, cid)).plain_text
    desk = await stars.app.bot_data["deps"].extra["payments"].desk(OPERATOR, frozenset({OPERATOR}))
    [item] = desk.items
    assert (item.owed.kind, item.owed.amount, item.party_id) == (LedgerKind.PAYOUT, 290, bob.id)
    await stars.send(stars.tg.user(OPERATOR, "Olga", started=True), "/desk")
    shown = stars.last(OPERATOR).plain_text
    assert "released 250 ⭐ · bonuses paid 40 ⭐" in shown and "Payout 290 ⭐ to Bob" in shown, shown
    b = desk.balances["XTR"]
    assert b.paid_out + b.payouts_owed == b.released + b.bonuses == 290
    assert stars.app.bot_data["turns"].counts["failed"] == 0


async def test_two_bonus_invoices_paid_record_the_bonus_once_and_refund_the_other(stars, people, tg):
    ann, bob, _ = people
    cid, invoice = await stars_bonus(stars, ann, bob)
    first, _ = await checkout(stars, ann, invoice)  # two devices: both pass pre-checkout…
    second, _ = await checkout(stars, ann, invoice)
    one = tg.complete_payment(ann, first)  # …and both are charged before the bot sees either
    two = tg.complete_payment(ann, second)
    await stars.pump()
    sums = await ledger_sums(stars, cid)
    assert (sums[LedgerKind.BONUS], sums[LedgerKind.UNAPPLIED], sums[LedgerKind.REFUND_PAID]) == (40, 40, 40)
    assert (tg.charges[one]["refunded"], tg.charges[two]["refunded"]) == (False, True)
    told = tg.last_message(ann).plain_text
    assert "payment of 40 ⭐ for the bonus of «Design» could not be applied" in told
    assert "The bonus for «Design» is paid already." in told and "refunded to you in Stars now" in told
