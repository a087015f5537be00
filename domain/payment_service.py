"""Use cases of real money (PRODUCT §7): invoices, pre-checkout, payments, the escrow agent's desk."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from .errors import N_, NOT_YOURS, AlreadyDone, DomainError, InvalidState, NotAllowed
from .model import Contract, LedgerEntry, LedgerKind, Milestone, PaymentMode
from .money import STARS
from .payments import Balance, InvoiceKind, Owed, balance, owed, sign_invoice, verify_invoice
from .ports import UnitOfWork
from .services import ContractService, Outcome

STAR_REFUND_REFERENCE = "refundStarPayment {charge}"


@dataclass(frozen=True)
class Invoice:
    contract: Contract
    milestone: Milestone
    payload: str
    kind: InvoiceKind = InvoiceKind.FUND
    amount: int = 0  # what it asks for: the milestone's amount (funding) or its bonus


@dataclass(frozen=True)
class StarRefund:
    """A Stars payment to give back through refundStarPayment (recorded as refund paid in the same turn)."""

    user_id: int
    charge_id: str
    amount: int
    milestone_id: int


@dataclass
class PaymentOutcome:
    """What a successful_payment did: funded the milestone, or was recorded unapplied (`refusal` says why),
    or was a charge already in the ledger (`duplicate`: nothing done)."""

    contract: Contract | None
    milestone: Milestone | None
    refusal: DomainError | None = None
    duplicate: bool = False
    star_refunds: list[StarRefund] = field(default_factory=list)
    kind: InvoiceKind = InvoiceKind.FUND  # what the paid invoice was for: funding or a bonus

    @property
    def applied(self) -> bool:
        return not self.duplicate and self.refusal is None


@dataclass(frozen=True)
class DeskItem:
    """One payout or refund the escrow agent owes: to whom, for what."""

    contract: Contract
    owed: Owed
    party_id: int | None
    payout_details: str | None  # the freelancer's, for a payout

    @property
    def code(self) -> str:
        """How an operator names it in /paid: p<milestone> (payout) or r<milestone> (refund)."""
        return f"{'p' if self.owed.kind is LedgerKind.PAYOUT else 'r'}{self.owed.milestone_id}"


@dataclass
class Desk:
    balances: dict[str, Balance]  # per currency
    items: list[DeskItem]


class _Duplicate(Exception):
    pass


class PaymentService:
    def __init__(self, contracts: ContractService, secret: bytes) -> None:
        self.contracts = contracts
        self.secret = secret

    # ----- invoices and payments -----------------------------------------------------------------
    async def issue_invoice(self, actor_id: int, milestone_id: int, now: datetime) -> Invoice:
        """The client's Activate & fund in telegram mode: a new invoice (older ones go stale), if Telegram
        Payments takes its amount today (fiat: the limits loaded; else the refusal, nothing stored)."""
        nonce = secrets.token_urlsafe(6)

        def change(c: Contract) -> Invoice:
            ms = c.issue_invoice(actor_id, milestone_id, nonce, now)
            assert ms.id is not None
            self.contracts.check_payment_amount(c, ms.amount)  # fiat: today's Telegram Payments limits
            return Invoice(c, ms, sign_invoice(self.secret, ms.id, nonce, ms.amount, c.currency, now), amount=ms.amount)

        return await self.contracts.transition(None, change, milestone_id=milestone_id)

    async def issue_bonus_invoice(self, actor_id: int, milestone_id: int, now: datetime) -> Invoice:
        """Approve + bonus in telegram mode: the client's invoice for the bonus (older ones go stale)."""
        nonce = secrets.token_urlsafe(6)

        def change(c: Contract) -> Invoice:
            ms = c.issue_bonus_invoice(actor_id, milestone_id, nonce)
            assert ms.id is not None
            self.contracts.check_payment_amount(c, ms.bonus)  # fiat: today's Telegram Payments limits
            payload = sign_invoice(self.secret, ms.id, nonce, ms.bonus, c.currency, now, InvoiceKind.BONUS)
            return Invoice(c, ms, payload, InvoiceKind.BONUS, ms.bonus)

        return await self.contracts.transition(None, change, milestone_id=milestone_id)

    async def pre_checkout(
        self, payer_id: int, payload: str, amount: int, currency: str, now: datetime
    ) -> DomainError | None:
        """Whether Telegram may take this payment: the payload is ours, current and unexpired, and the
        domain would let it fund the milestone now. Reads only."""
        try:
            claim = verify_invoice(self.secret, payload, amount, currency, now)
        except DomainError as err:
            return err
        async with self.contracts.uow_factory() as uow:
            contract = await uow.contracts.get_by_milestone(claim.milestone_id)
        if contract is None:
            return NotAllowed(NOT_YOURS)
        if claim.kind is InvoiceKind.BONUS:
            return contract.bonus_payment_refusal(payer_id, claim.milestone_id, claim.nonce, amount, currency)
        return contract.payment_refusal(payer_id, claim.milestone_id, claim.nonce, amount, currency)

    async def successful_payment(
        self,
        payer_id: int,
        payload: str,
        amount: int,
        currency: str,
        charge_id: str,
        provider_charge_id: str,
        now: datetime,
    ) -> PaymentOutcome:
        """Telegram took the money: it funds the milestone (or pays its bonus, by the payload's kind) exactly
        once per charge id; a payment that can no longer be applied is recorded unapplied and owed back
        (Stars: refunded at once)."""
        # Not expired, not current: the money is taken, only the signature (what it is for) matters.
        claim = verify_invoice(self.secret, payload, amount, currency, None)

        async def load(uow: UnitOfWork) -> Contract:
            if await uow.contracts.has_charge(charge_id):
                raise _Duplicate
            contract = await uow.contracts.get_by_milestone(claim.milestone_id)
            if contract is None:
                raise InvalidState(N_("payment {charge} names a milestone that doesn't exist"), charge=charge_id)
            return contract

        def change(c: Contract) -> PaymentOutcome:
            apply = c.apply_bonus_payment if claim.kind is InvoiceKind.BONUS else c.apply_payment
            refused = apply(payer_id, claim.milestone_id, amount, currency, charge_id, provider_charge_id, now)
            return PaymentOutcome(c, c.milestone(claim.milestone_id), refused, kind=claim.kind)

        try:
            outcome = await self.contracts._retrying(load, change)
        except _Duplicate:
            return PaymentOutcome(None, None, duplicate=True, kind=claim.kind)
        if outcome.refusal is not None and outcome.contract is not None and outcome.contract.id is not None:
            outcome.star_refunds = await self.refund_stars(outcome.contract.id, now)
        return outcome

    async def refund_stars(self, contract_id: int, now: datetime) -> list[StarRefund]:
        """A Stars contract's refunds owed, each recorded as paid by refundStarPayment of the charge it came
        with (the bot sends the call with this change, through the outbox). Fiat refunds wait for an
        operator."""
        found: list[StarRefund] = []

        async def load(uow: UnitOfWork) -> Contract:
            contract = await ContractService._get(uow, contract_id)
            found.clear()
            if contract.payments is not PaymentMode.TELEGRAM or contract.currency != STARS:
                return contract
            entries = await uow.contracts.ledger(contract_id)
            refunded = {e.reference for e in entries if e.kind is LedgerKind.REFUND_PAID}
            for due in owed(entries):
                if due.kind is not LedgerKind.REFUND_PAID:
                    continue
                left = due.amount
                mine = [e for e in entries if e.milestone_id == due.milestone_id]
                # Payments that funded nothing go back first; the funding charge only once the milestone
                # itself was refunded (a release keeps it).
                candidates = [e for e in mine if e.kind is LedgerKind.UNAPPLIED]
                if any(e.kind is LedgerKind.REFUND for e in mine):
                    candidates += [e for e in mine if e.kind is LedgerKind.FUND]
                for e in candidates:  # the milestone's charges not refunded yet
                    ref = STAR_REFUND_REFERENCE.format(charge=e.charge_id)
                    if e.charge_id and e.actor_id is not None and ref not in refunded and e.amount <= left:
                        found.append(StarRefund(e.actor_id, e.charge_id, e.amount, due.milestone_id))
                        refunded.add(ref)
                        left -= e.amount
            return contract

        def change(c: Contract) -> list[StarRefund]:
            for r in found:
                reference = STAR_REFUND_REFERENCE.format(charge=r.charge_id)
                c.record_settlement(LedgerKind.REFUND_PAID, r.milestone_id, r.amount, reference, None, now)
            return list(found)

        return await self.contracts._retrying(load, change)

    # ----- the escrow agent's desk ---------------------------------------------------------------
    async def desk(self, operator_id: int, operators: Collection[int]) -> Desk:
        """Money held per currency and every payout and refund owed (telegram-mode contracts only: in
        ledger mode the bot holds nothing)."""
        self._require_operator(operator_id, operators)
        async with self.contracts.uow_factory() as uow:
            rows = await uow.contracts.all_ledger(PaymentMode.TELEGRAM)
            by_contract: dict[int, list[LedgerEntry]] = {}
            for contract_id, entry in rows:
                by_contract.setdefault(contract_id, []).append(entry)
            per_currency: dict[str, list[LedgerEntry]] = {}
            items: list[DeskItem] = []
            for contract_id, entries in by_contract.items():
                contract = await uow.contracts.get(contract_id)
                assert contract is not None
                per_currency.setdefault(contract.currency, []).extend(entries)
                for due in owed(entries):
                    party = self._party(contract, due, entries)
                    details = None
                    if due.kind is LedgerKind.PAYOUT and party is not None:
                        profile = await uow.users.get(party)
                        details = profile.payout_details if profile else None
                    items.append(DeskItem(contract, due, party, details))
        return Desk({cur: balance(entries) for cur, entries in sorted(per_currency.items())}, items)

    @staticmethod
    def _party(contract: Contract, due: Owed, entries: list[LedgerEntry]) -> int | None:
        if due.kind is LedgerKind.PAYOUT:
            return contract.freelancer_id
        payers = [e.actor_id for e in entries if e.kind is LedgerKind.UNAPPLIED and e.milestone_id == due.milestone_id]
        refunded = any(e.kind is LedgerKind.REFUND and e.milestone_id == due.milestone_id for e in entries)
        if payers and not refunded and payers[0] is not None:
            return payers[0]  # a payment that funded nothing goes back to whoever paid it
        return contract.client_id

    async def mark_done(
        self,
        operator_id: int,
        operators: Collection[int],
        kind: LedgerKind,
        milestone_id: int,
        reference: str,
        now: datetime,
    ) -> tuple[Outcome, int | None, int]:
        """An operator paid out (or refunded) what is owed on a milestone: recorded with its reference.
        Returns the outcome, who got the money and how much. Twice (two operators at once): once."""
        self._require_operator(operator_id, operators)
        amount = 0
        party: list[int | None] = [None]

        async def load(uow: UnitOfWork) -> Contract:
            nonlocal amount
            contract = await ContractService._load(uow, None, milestone_id)
            if contract.payments is not PaymentMode.TELEGRAM:
                raise InvalidState(N_("That contract records money in the ledger only: the bot holds nothing for it."))
            assert contract.id is not None
            entries = await uow.contracts.ledger(contract.id)
            due = [o for o in owed(entries) if o.kind is kind and o.milestone_id == milestone_id]
            amount = sum(o.amount for o in due)
            party[0] = self._party(contract, due[0], entries) if due else None
            return contract

        def change(c: Contract) -> Outcome:
            if amount <= 0:
                raise AlreadyDone(N_("Nothing is owed there: it was marked done already."))
            ms = c.record_settlement(kind, milestone_id, amount, reference, operator_id, now)
            return Outcome(c.new_history[-1].action, c, operator_id, ms)

        outcome = await self.contracts._retrying(load, change)
        return outcome, party[0], amount

    async def ledger_export(self, operator_id: int, operators: Collection[int]) -> list[tuple[Contract, LedgerEntry]]:
        """Every ledger entry with its contract, oldest first (both modes: the mode is a column)."""
        self._require_operator(operator_id, operators)
        async with self.contracts.uow_factory() as uow:
            rows = await uow.contracts.all_ledger()
            contracts: dict[int, Contract] = {}
            out = []
            for contract_id, entry in rows:
                if contract_id not in contracts:
                    found = await uow.contracts.get(contract_id)
                    assert found is not None
                    contracts[contract_id] = found
                out.append((contracts[contract_id], entry))
        return out

    @staticmethod
    def _require_operator(user_id: int, operators: Collection[int]) -> None:
        if user_id not in operators:
            raise NotAllowed(N_("Only the escrow agent's operators can do that."))
