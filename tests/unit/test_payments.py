"""Money for real (PRODUCT §7, issue 14): the ledger mode's payment confirmations, invoices, pre-checkout,
payments applied once, the escrow agent's payouts and refunds, and the ledger's balance."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.actions import Action
from domain.errors import AlreadyDone, DomainError, InvalidInput, InvalidState, NotAllowed
from domain.model import Contract, LedgerKind, MilestoneStatus, PaymentMode, Role
from domain.money import format_money, validate_amount
from domain.payments import (
    INVOICE_TTL,
    balance,
    check_payment_currency,
    owed,
    sign_invoice,
    verify_invoice,
)

from .helpers import CLIENT, FREELANCER, NOW, STRANGER, TODAY, active_contract, add

SECRET = b"s3cret"


def released(c: Contract):
    ms = add(c, "Design", 50_000)
    c.activate(CLIENT, ms.id, NOW)
    c.submit(FREELANCER, ms.id, "done", NOW)
    c.approve(CLIENT, ms.id, NOW)
    return ms


def telegram_contract(currency: str = "USD") -> Contract:
    c = Contract.create(CLIENT, Role.CLIENT, "Shop", currency, NOW, payments=PaymentMode.TELEGRAM)
    c.id = 1
    c.join(FREELANCER, NOW)
    return c


def invoiced(c: Contract, title: str = "Design", amount: int = 50_000, nonce: str = "nonce1"):
    ms = add(c, title, amount)
    c.issue_invoice(CLIENT, ms.id, nonce, NOW)
    return ms


def pay(c: Contract, ms, charge: str, payer: int = CLIENT, amount: int | None = None, currency: str | None = None):
    return c.apply_payment(
        payer, ms.id, ms.amount if amount is None else amount, currency or c.currency, charge, "prov-" + charge, NOW
    )


def entries(c: Contract):
    out = list(c.new_ledger)
    for e in out:
        e.milestone_id = e.milestone.id if e.milestone else e.milestone_id
    return out


# ----- ledger mode: the freelancer says whether the money arrived ------------------------------------------
def test_after_a_release_only_the_freelancer_confirms_the_payment_and_only_once():
    c = active_contract()
    ms = released(c)
    assert c.may(Action.CONFIRM_PAYMENT, FREELANCER, ms) and c.may(Action.PAYMENT_NOT_RECEIVED, FREELANCER, ms)
    for who in (CLIENT, STRANGER):
        with pytest.raises(NotAllowed):
            c.confirm_payment(who, ms.id, NOW)
    assert c.totals().confirmed == 0
    c.confirm_payment(FREELANCER, ms.id, NOW)
    assert ms.payment_confirmed_at == NOW and c.totals().confirmed == 50_000 == c.totals().released
    with pytest.raises(AlreadyDone, match="already confirmed"):
        c.confirm_payment(FREELANCER, ms.id, NOW)
    with pytest.raises(AlreadyDone):
        c.payment_not_received(FREELANCER, ms.id, NOW)


def test_not_received_flags_the_milestone_until_the_freelancer_confirms():
    c = active_contract()
    ms = released(c)
    c.payment_not_received(FREELANCER, ms.id, NOW)
    assert ms.payment_flagged_at == NOW and c.new_history[-1].action == "payment_not_received"
    with pytest.raises(AlreadyDone, match="already flagged"):
        c.payment_not_received(FREELANCER, ms.id, NOW)
    assert c.may(Action.CONFIRM_PAYMENT, FREELANCER, ms)
    c.confirm_payment(FREELANCER, ms.id, NOW + timedelta(days=2))
    assert ms.payment_flagged_at is None and ms.payment_confirmed_at is not None


def test_a_payment_is_confirmed_only_for_a_released_milestone_and_also_after_the_end():
    c = active_contract()
    funded = add(c, "Design")
    c.activate(CLIENT, funded.id, NOW)
    with pytest.raises(InvalidState):
        c.confirm_payment(FREELANCER, funded.id, NOW)
    c.submit(FREELANCER, funded.id, "", NOW)
    c.approve(CLIENT, funded.id, NOW)
    c.end(CLIENT, NOW)
    c.confirm_payment(FREELANCER, funded.id, NOW)  # money that moved is still confirmed after the end
    assert funded.payment_confirmed_at == NOW


def test_telegram_mode_has_no_confirmation_between_the_parties():
    c = telegram_contract()
    ms = invoiced(c)
    pay(c, ms, "ch1")
    c.submit(FREELANCER, ms.id, "", NOW)
    c.approve(CLIENT, ms.id, NOW)
    assert not c.may(Action.CONFIRM_PAYMENT, FREELANCER, ms)
    with pytest.raises(InvalidState, match="escrow agent"):
        c.confirm_payment(FREELANCER, ms.id, NOW)


# ----- telegram mode: invoices and pre-checkout ------------------------------------------------------------
def test_in_telegram_mode_activating_without_paying_is_refused():
    c = telegram_contract()
    ms = add(c, "Design")
    with pytest.raises(InvalidState, match="paying its invoice"):
        c.activate(CLIENT, ms.id, NOW)
    assert ms.status is MilestoneStatus.NOT_FUNDED and not c.new_ledger


def test_an_invoice_is_for_the_client_and_the_next_milestone_only():
    c = telegram_contract()
    first, second = add(c, "One"), add(c, "Two")
    with pytest.raises(NotAllowed):
        c.issue_invoice(FREELANCER, first.id, "n", NOW)
    with pytest.raises(DomainError, match="activate «One» first"):
        c.issue_invoice(CLIENT, second.id, "n", NOW)
    ledger = active_contract()
    with pytest.raises(InvalidState, match="ledger"):
        ledger.issue_invoice(CLIENT, add(ledger, "x").id, "n", NOW)


@pytest.mark.parametrize(
    ("payer", "nonce", "amount", "currency", "reason"),
    [
        (FREELANCER, "nonce1", 50_000, "USD", "Only the client"),
        (STRANGER, "nonce1", 50_000, "USD", "Only the client and the freelancer"),
        (CLIENT, "nonce1", 40_000, "USD", "amount of «Design» changed"),
        (CLIENT, "nonce1", 50_000, "EUR", "in EUR, but «Design» is in USD"),
        (CLIENT, "older", 50_000, "USD", "replaced by a newer one"),
    ],
)
def test_each_pre_checkout_refusal_says_why(payer, nonce, amount, currency, reason):
    c = telegram_contract()
    ms = invoiced(c)
    assert c.payment_refusal(CLIENT, ms.id, "nonce1", 50_000, "USD") is None
    refusal = c.payment_refusal(payer, ms.id, nonce, amount, currency)
    assert refusal is not None and reason in refusal.reason


def test_pre_checkout_refuses_a_milestone_that_is_not_next_any_more():
    c = telegram_contract()
    one = invoiced(c, "One")
    two = add(c, "Two")
    c.issue_invoice(CLIENT, one.id, "n2", NOW)
    refusal = c.payment_refusal(CLIENT, two.id, "n2", two.amount, "USD")
    assert refusal is not None and "activate «One» first" in refusal.reason
    pay(c, one, "ch1")
    refusal = c.payment_refusal(CLIENT, one.id, "n2", one.amount, "USD")
    assert refusal is not None and "is funded" in refusal.reason


# ----- telegram mode: successful payments ------------------------------------------------------------------
def test_a_payment_funds_its_milestone_once_and_keeps_both_charge_ids():
    c = telegram_contract()
    ms = invoiced(c)
    assert pay(c, ms, "ch1") is None
    assert ms.status is MilestoneStatus.ACTIVE and ms.invoice_nonce == ""
    [fund] = c.new_ledger
    assert (fund.kind, fund.amount, fund.charge_id, fund.provider_charge_id) == (
        LedgerKind.FUND,
        50_000,
        "ch1",
        "prov-ch1",
    )
    second = pay(c, ms, "ch2")  # a second invoice for the same milestone, paid as well
    assert isinstance(second, AlreadyDone)
    assert [e.kind for e in c.new_ledger] == [LedgerKind.FUND, LedgerKind.UNAPPLIED]
    assert c.totals().funded == 50_000
    assert [o.kind for o in owed(entries(c))] == [LedgerKind.REFUND_PAID]


def test_a_payment_after_the_contract_ended_is_recorded_unapplied_and_owed_back():
    c = telegram_contract()
    ms = invoiced(c)
    c.end(CLIENT, NOW)
    refusal = pay(c, ms, "late")
    assert refusal is not None and "ended" in refusal.reason
    [entry] = c.new_ledger
    assert entry.kind is LedgerKind.UNAPPLIED and entry.charge_id == "late"
    assert ms.status is MilestoneStatus.CANCELLED_AT_END
    assert owed(entries(c))[0].amount == 50_000
    assert c.new_history[-1].action == "payment_unapplied"


# ----- the invoice payload ---------------------------------------------------------------------------------
def test_a_signed_payload_names_its_milestone_and_fits_telegram():
    payload = sign_invoice(SECRET, 123456789, "abcdefgh", 10**12, "USD", NOW)
    assert len(payload.encode()) <= 128
    claim = verify_invoice(SECRET, payload, 10**12, "USD", NOW)
    assert (claim.milestone_id, claim.nonce) == (123456789, "abcdefgh")


@pytest.mark.parametrize("tamper", ["other secret", "amount", "currency", "milestone", "garbage", "expired"])
def test_a_forged_altered_or_expired_payload_is_refused(tamper):
    payload = sign_invoice(SECRET, 7, "abcdefgh", 500, "USD", NOW)
    secret, amount, currency, now = SECRET, 500, "USD", NOW
    if tamper == "other secret":
        secret = b"guess"
    elif tamper == "amount":
        amount = 1
    elif tamper == "currency":
        currency = "EUR"
    elif tamper == "milestone":
        payload = "m8" + payload[2:]
    elif tamper == "garbage":
        payload = "m7.x"
    else:
        now = NOW + INVOICE_TTL
    with pytest.raises(InvalidInput):
        verify_invoice(secret, payload, amount, currency, now)
    if tamper == "expired":  # a payment already taken is still recognised (no expiry check)
        assert verify_invoice(SECRET, payload, 500, "USD", None).milestone_id == 7


# ----- the escrow agent's books ----------------------------------------------------------------------------
def test_payouts_and_refunds_owed_and_marked_done_keep_the_ledger_balanced():
    c = telegram_contract()
    one = invoiced(c, "One", 30_000)
    pay(c, one, "c1")
    c.submit(FREELANCER, one.id, "", NOW)
    c.approve(CLIENT, one.id, NOW)
    two = invoiced(c, "Two", 20_000, "n2")
    pay(c, two, "c2")
    c.refund(FREELANCER, two.id, NOW)
    b = balance(entries(c))
    assert (b.funded, b.released, b.refunded, b.in_escrow) == (50_000, 30_000, 20_000, 0)
    assert (b.payouts_owed, b.refunds_owed, b.held) == (30_000, 20_000, 50_000)
    c.record_settlement(LedgerKind.PAYOUT, one.id, 30_000, "SEPA-1", 999, NOW)
    b = balance(entries(c))
    assert b.paid_out + b.payouts_owed == b.released and b.paid_out == 30_000
    assert b.funded == b.released + b.refunded + b.in_escrow
    assert [(o.kind, o.milestone_id) for o in owed(entries(c))] == [(LedgerKind.REFUND_PAID, two.id)]
    assert c.new_history[-1].action == "payout_sent" and c.new_history[-1].note == "SEPA-1"


def test_nothing_owed_can_not_be_marked_done_and_a_reference_is_required():
    c = telegram_contract()
    ms = invoiced(c)
    with pytest.raises(AlreadyDone):
        c.record_settlement(LedgerKind.PAYOUT, ms.id, 0, "ref", 999, NOW)
    with pytest.raises(InvalidInput):
        c.record_settlement(LedgerKind.PAYOUT, ms.id, 10, "", 999, NOW)
    with pytest.raises(InvalidInput):
        c.record_settlement(LedgerKind.FUND, ms.id, 10, "ref", 999, NOW)


def test_payment_currencies_stars_are_whole_and_fiat_must_be_telegrams():
    assert check_payment_currency("XTR", stars=True) == "XTR"
    with pytest.raises(InvalidInput, match="XTR"):
        check_payment_currency("USD", stars=True)
    with pytest.raises(InvalidInput, match="doesn't take XTR"):
        check_payment_currency("XTR", stars=False)
    with pytest.raises(InvalidInput, match="doesn't take XAU"):
        check_payment_currency("XAU", stars=False)
    assert check_payment_currency("EUR", stars=False) == "EUR"
    assert format_money(1500, "XTR") == "1,500 ⭐"
    with pytest.raises(InvalidInput, match="whole number"):
        validate_amount(1.5, "XTR")  # type: ignore[arg-type]
    assert validate_amount(25, "XTR") == 25
    assert TODAY  # the helpers' date is the contracts' today
