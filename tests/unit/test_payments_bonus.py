"""A bonus in telegram mode (PRODUCT §8, issue 15): approving with a bonus releases the milestone and the
bonus is invoiced to the client (its own signed payload kind), paid once per charge, owed to the freelancer
as a payout; a second payment is unapplied and owed back. Ledger mode records it as before."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.errors import AlreadyDone, InvalidInput, InvalidState, NotAllowed, NotFound
from domain.model import Contract, LedgerKind, MilestoneStatus, PaymentMode
from domain.payments import InvoiceKind, balance, owed, sign_invoice, verify_invoice

from .helpers import CLIENT, FREELANCER, NOW, STRANGER, active_contract, add
from .test_payments import SECRET, entries, telegram_contract


def approved_with_bonus(c: Contract, bonus: int = 5_000, nonce: str | None = "bn1"):
    ms = add(c, "Design", 50_000)
    if c.payments is PaymentMode.TELEGRAM:
        c.issue_invoice(CLIENT, ms.id, "fund1", NOW)
        c.apply_payment(CLIENT, ms.id, ms.amount, c.currency, "fund-charge", "", NOW)
    else:
        c.activate(CLIENT, ms.id, NOW)
    c.submit(FREELANCER, ms.id, "done", NOW)
    c.approve_with_bonus(CLIENT, ms.id, bonus, NOW)
    if nonce is not None and c.payments is PaymentMode.TELEGRAM:
        c.issue_bonus_invoice(CLIENT, ms.id, nonce)
    return ms


def pay_bonus(c: Contract, ms, charge: str, payer: int = CLIENT, amount: int | None = None, currency: str = ""):
    return c.apply_bonus_payment(
        payer, ms.id, ms.bonus if amount is None else amount, currency or c.currency, charge, "p-" + charge, NOW
    )


# ----- the payload -----------------------------------------------------------------------------------------
def test_a_bonus_payload_names_its_kind_and_verifies_as_a_bonus():
    payload = sign_invoice(SECRET, 7, "nonce1", 5_000, "USD", NOW, InvoiceKind.BONUS)
    assert payload.startswith("b7.")
    claim = verify_invoice(SECRET, payload, 5_000, "USD", NOW)
    assert (claim.kind, claim.milestone_id, claim.nonce, claim.amount) == (InvoiceKind.BONUS, 7, "nonce1", 5_000)
    fund = verify_invoice(SECRET, sign_invoice(SECRET, 7, "nonce1", 5_000, "USD", NOW), 5_000, "USD", NOW)
    assert fund.kind is InvoiceKind.FUND


def test_a_bonus_payload_never_verifies_as_funding_nor_the_other_way():
    bonus = sign_invoice(SECRET, 7, "nonce1", 5_000, "USD", NOW, InvoiceKind.BONUS)
    fund = sign_invoice(SECRET, 7, "nonce1", 5_000, "USD", NOW)
    for relabelled in ("m" + bonus[1:], "b" + fund[1:]):
        with pytest.raises(InvalidInput, match="does not match"):
            verify_invoice(SECRET, relabelled, 5_000, "USD", NOW)


def test_a_bonus_payload_expires():
    payload = sign_invoice(SECRET, 7, "nonce1", 5_000, "USD", NOW, InvoiceKind.BONUS)
    with pytest.raises(InvalidInput, match="bonus invoice has expired"):
        verify_invoice(SECRET, payload, 5_000, "USD", NOW + timedelta(hours=24))
    assert verify_invoice(SECRET, payload, 5_000, "USD", None).kind is InvoiceKind.BONUS  # paid: the money is taken


# ----- approving with a bonus ------------------------------------------------------------------------------
def test_in_telegram_mode_the_bonus_is_invoiced_not_recorded_as_paid():
    c = telegram_contract()
    ms = approved_with_bonus(c, nonce=None)
    assert ms.status is MilestoneStatus.RELEASED and ms.bonus == 5_000 and ms.bonus_invoiced
    assert [e.kind for e in entries(c)] == [LedgerKind.FUND, LedgerKind.RELEASE]
    assert c.new_history[-1].note == "bonus $50.00 invoiced, not paid yet"
    assert c.totals().bonus == 0


def test_ledger_mode_records_the_bonus_at_approval_as_before():
    c = active_contract()
    ms = approved_with_bonus(c)
    assert [(e.kind, e.amount) for e in c.new_ledger if e.kind is LedgerKind.BONUS] == [(LedgerKind.BONUS, 5_000)]
    assert c.new_history[-1].note == "bonus $50.00" and c.totals().bonus == 5_000
    with pytest.raises(InvalidState, match="records the bonus in the ledger"):
        c.issue_bonus_invoice(CLIENT, ms.id, "bn1")


# ----- pre-checkout ----------------------------------------------------------------------------------------
def test_the_client_paying_the_current_bonus_invoice_may_pay():
    c = telegram_contract()
    ms = approved_with_bonus(c)
    assert c.bonus_payment_refusal(CLIENT, ms.id, "bn1", 5_000, "USD") is None


@pytest.mark.parametrize(
    ("payer", "nonce", "amount", "currency", "error", "reason"),
    [
        (FREELANCER, "bn1", 5_000, "USD", NotAllowed, "Only the client of «Design» pays its bonus."),
        (STRANGER, "bn1", 5_000, "USD", NotAllowed, "Only the client"),
        (CLIENT, "bn1", 5_001, "USD", InvalidInput, "not for the bonus of «Design» ($50.00)"),
        (CLIENT, "bn1", 5_000, "EUR", InvalidInput, "is in EUR, but «Design» is in USD"),
        (CLIENT, "old", 5_000, "USD", InvalidState, "replaced by a newer one"),
        (CLIENT, "", 5_000, "USD", InvalidState, "replaced by a newer one"),
    ],
)
def test_each_bonus_pre_checkout_refusal(payer, nonce, amount, currency, error, reason):
    c = telegram_contract()
    ms = approved_with_bonus(c)
    refused = c.bonus_payment_refusal(payer, ms.id, nonce, amount, currency)
    assert isinstance(refused, error) and reason in refused.reason


def test_a_milestone_without_a_bonus_or_not_released_has_none_to_pay():
    c = telegram_contract()
    ms = add(c, "Design", 50_000)
    assert "has no bonus to pay" in c.bonus_payment_refusal(CLIENT, ms.id, None, 1, "USD").reason
    with pytest.raises(InvalidState, match="has no bonus to pay"):
        c.issue_bonus_invoice(CLIENT, ms.id, "bn1")
    assert isinstance(c.bonus_payment_refusal(CLIENT, 999, None, 1, "USD"), NotFound)


def test_a_paid_bonus_refuses_another_payment_and_another_invoice():
    c = telegram_contract()
    ms = approved_with_bonus(c)
    assert pay_bonus(c, ms, "c1") is None
    refused = c.bonus_payment_refusal(CLIENT, ms.id, None, 5_000, "USD")
    assert isinstance(refused, AlreadyDone) and "is paid already" in refused.reason
    with pytest.raises(AlreadyDone):
        c.issue_bonus_invoice(CLIENT, ms.id, "bn2")


def test_a_newer_bonus_invoice_makes_the_older_stale():
    c = telegram_contract()
    ms = approved_with_bonus(c)
    c.issue_bonus_invoice(CLIENT, ms.id, "bn2")
    assert c.bonus_payment_refusal(CLIENT, ms.id, "bn1", 5_000, "USD") is not None
    assert c.bonus_payment_refusal(CLIENT, ms.id, "bn2", 5_000, "USD") is None


# ----- the payment -----------------------------------------------------------------------------------------
def test_a_bonus_payment_is_recorded_once_as_the_bonus_and_a_second_is_unapplied():
    c = telegram_contract()
    ms = approved_with_bonus(c)
    c.issue_bonus_invoice(CLIENT, ms.id, "bn2")  # two invoices, both paid
    assert pay_bonus(c, ms, "c1") is None
    assert ms.bonus_paid_at == NOW and not ms.bonus_invoiced and ms.bonus_nonce == ""
    assert c.new_history[-1].action == "bonus_paid"
    refused = pay_bonus(c, ms, "c2")
    assert isinstance(refused, AlreadyDone)
    bonus, unapplied = entries(c)[-2:]
    assert (bonus.kind, bonus.amount, bonus.charge_id, bonus.provider_charge_id, bonus.actor_id) == (
        LedgerKind.BONUS,
        5_000,
        "c1",
        "p-c1",
        CLIENT,
    )
    assert (unapplied.kind, unapplied.amount, unapplied.charge_id) == (LedgerKind.UNAPPLIED, 5_000, "c2")
    assert c.totals().bonus == 5_000


def test_a_bonus_payment_never_funds_a_milestone():
    c = telegram_contract()
    ms = add(c, "Design", 50_000)
    c.issue_invoice(CLIENT, ms.id, "fund1", NOW)
    refused = c.apply_bonus_payment(CLIENT, ms.id, 50_000, "USD", "c1", "", NOW)
    assert refused is not None and ms.status is MilestoneStatus.NOT_FUNDED
    assert [e.kind for e in c.new_ledger] == [LedgerKind.UNAPPLIED]


# ----- what the escrow agent owes --------------------------------------------------------------------------
def test_a_paid_bonus_is_a_payout_owed_to_the_freelancer_and_a_double_payment_a_refund():
    c = telegram_contract()
    ms = approved_with_bonus(c)
    unpaid = balance(entries(c))
    assert (unpaid.payouts_owed, unpaid.bonuses) == (50_000, 0), "an invoiced bonus is owed to nobody yet"
    pay_bonus(c, ms, "c1")
    pay_bonus(c, ms, "c2")
    due = {(o.kind, o.milestone_id): o.amount for o in owed(entries(c))}
    assert due == {(LedgerKind.PAYOUT, ms.id): 55_000, (LedgerKind.REFUND_PAID, ms.id): 5_000}
    b = balance(entries(c))
    assert (b.funded, b.released, b.in_escrow, b.bonuses) == (50_000, 50_000, 0, 5_000)
    assert b.paid_out + b.payouts_owed == b.released + b.bonuses
    assert b.refunds_paid + b.refunds_owed == b.refunded + b.unapplied
    c.record_settlement(LedgerKind.PAYOUT, ms.id, 55_000, "wire 1", 999, NOW)
    assert balance(entries(c)).payouts_owed == 0
