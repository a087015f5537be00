"""Property test (issue 14, issue 15): in telegram mode, random people pay random invoices (twice, late, with
the wrong amount), release (with a bonus, invoiced and paid, twice, with the wrong amount), refund, end, and
the escrow agent pays out; the books always balance."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.errors import DomainError
from domain.model import FUNDED_STATES, Contract, LedgerKind, MilestoneStatus, PaymentMode, Role
from domain.payments import balance, owed

from .helpers import CLIENT, FREELANCER, NOW, STRANGER, TODAY, snapshot

people = st.sampled_from([CLIENT, FREELANCER, STRANGER])


class PaymentsMachine(RuleBasedStateMachine):
    @initialize(currency=st.sampled_from(["USD", "XTR"]))
    def start(self, currency):
        self.c = Contract.create(CLIENT, Role.CLIENT, "Shop", currency, NOW, payments=PaymentMode.TELEGRAM)
        self.c.id = 1
        self.c.join(FREELANCER, NOW)
        self.entries = []
        self.charges: set[str] = set()
        self.n = 0

    def _pick(self, i):
        return self.c.milestones[i % len(self.c.milestones)].id if self.c.milestones else 999

    def _keep(self):
        for e in self.c.new_ledger:
            e.milestone_id = e.milestone.id if e.milestone else e.milestone_id
            self.entries.append(e)
        self.c.new_ledger.clear()
        self.c.new_history.clear()

    def _try(self, action):
        before = snapshot(self.c)
        try:
            action()
        except DomainError as err:
            assert err.reason
            assert snapshot(self.c) == before, "a refused action changed something"
            assert not self.c.new_ledger
            return
        self._keep()

    @rule(amount=st.integers(1, 10**6))
    def add(self, amount):
        def act():
            ms = self.c.add_milestone(CLIENT, f"M{len(self.c.milestones)}", amount, TODAY, "", TODAY, NOW)
            ms.id = len(self.c.milestones)

        self._try(act)

    @rule(actor=people, i=st.integers(0, 9))
    def invoice(self, actor, i):
        self.n += 1
        self._try(lambda: self.c.issue_invoice(actor, self._pick(i), f"n{self.n}", NOW))

    @rule(payer=people, i=st.integers(0, 9), off=st.sampled_from([0, 0, 0, 1]))
    def pay(self, payer, i, off):
        """Telegram took money (it only does after an ok pre-checkout, but a second device, a stale
        invoice or a late answer happen): applied, or recorded unapplied; never lost, never twice."""
        if not self.c.milestones:
            return
        ms = self.c.milestone(self._pick(i))
        was = ms.status
        self.n += 1
        charge = f"ch{self.n}"
        refused = self.c.apply_payment(payer, ms.id, ms.amount + off, self.c.currency, charge, "", NOW)
        [entry] = self.c.new_ledger
        assert entry.charge_id == charge and entry.amount == ms.amount + off
        if refused is None:
            assert was is MilestoneStatus.NOT_FUNDED and ms.status is MilestoneStatus.ACTIVE
            assert entry.kind is LedgerKind.FUND and payer == CLIENT and off == 0
        else:
            assert entry.kind is LedgerKind.UNAPPLIED and ms.status is was
        self.charges.add(charge)
        self._keep()

    @rule(i=st.integers(0, 9))
    def work(self, i):
        self._try(lambda: self.c.submit(FREELANCER, self._pick(i), "", NOW))

    @rule(i=st.integers(0, 9))
    def approve(self, i):
        self._try(lambda: self.c.approve(CLIENT, self._pick(i), NOW))

    @rule(i=st.integers(0, 9), bonus=st.integers(1, 10**5))
    def approve_with_bonus(self, i, bonus):
        self._try(lambda: self.c.approve_with_bonus(CLIENT, self._pick(i), bonus, NOW))
        assert not any(e.kind is LedgerKind.BONUS for e in self.c.new_ledger), "invoiced, not paid"

    @rule(actor=people, i=st.integers(0, 9))
    def bonus_invoice(self, actor, i):
        self.n += 1
        self._try(lambda: self.c.issue_bonus_invoice(actor, self._pick(i), f"b{self.n}"))

    @rule(payer=people, i=st.integers(0, 9), off=st.sampled_from([0, 0, 0, 1]))
    def pay_bonus(self, payer, i, off):
        """A bonus invoice paid (or paid twice, or by the wrong person or amount): the bonus once, the rest
        unapplied and owed back."""
        if not self.c.milestones:
            return
        ms = self.c.milestone(self._pick(i))
        was_paid = ms.bonus_paid_at
        self.n += 1
        charge = f"ch{self.n}"
        amount = ms.bonus + off or 1
        refused = self.c.apply_bonus_payment(payer, ms.id, amount, self.c.currency, charge, "", NOW)
        [entry] = self.c.new_ledger
        assert entry.charge_id == charge and entry.amount == amount
        if refused is None:
            assert was_paid is None and ms.bonus_paid_at == NOW and ms.status is MilestoneStatus.RELEASED
            assert entry.kind is LedgerKind.BONUS and payer == CLIENT and amount == ms.bonus
        else:
            assert entry.kind is LedgerKind.UNAPPLIED and ms.bonus_paid_at == was_paid
        self.charges.add(charge)
        self._keep()

    @rule(i=st.integers(0, 9))
    def refund(self, i):
        self._try(lambda: self.c.refund(FREELANCER, self._pick(i), NOW))

    @rule()
    def end(self):
        self._try(lambda: self.c.end(CLIENT, NOW))

    @rule(k=st.integers(0, 9))
    def operator_pays(self, k):
        due = owed(self.entries)
        if not due:
            return
        item = due[k % len(due)]
        self._try(lambda: self.c.record_settlement(item.kind, item.milestone_id, item.amount, "REF", 999, NOW))

    @invariant()
    def the_books_balance(self):
        b = balance(self.entries)
        t = self.c.totals()
        assert b.funded == b.released + b.refunded + b.in_escrow
        assert b.paid_out + b.payouts_owed == b.released + b.bonuses
        assert b.refunds_paid + b.refunds_owed == b.refunded + b.unapplied
        assert (b.funded, b.released, b.refunded, b.in_escrow) == (t.funded, t.released, t.refunded, t.in_escrow)
        assert b.bonuses == t.bonus, "a bonus counts once paid"
        for m in self.c.milestones:
            paid = sum(e.amount for e in self.entries if e.kind is LedgerKind.BONUS and e.milestone_id == m.id)
            assert paid == (m.bonus if m.bonus_paid_at is not None else 0)
        assert sum(m.status in FUNDED_STATES for m in self.c.milestones) <= 1

    @invariant()
    def each_charge_is_in_the_ledger_once(self):
        charges = [e.charge_id for e in self.entries if e.charge_id]
        assert len(charges) == len(set(charges)) == len(self.charges)


PaymentsMachine.TestCase.settings = settings(max_examples=200, stateful_step_count=40, deadline=None)
TestPaymentsMachine = PaymentsMachine.TestCase
