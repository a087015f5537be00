"""Property test: random people press random buttons in random order; the rules always hold."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from domain.errors import DomainError
from domain.model import FUNDED_STATES, LedgerKind, MilestoneStatus

from .helpers import CLIENT, FREELANCER, NOW, STRANGER, TODAY, active_contract, snapshot

people = st.sampled_from([CLIENT, FREELANCER, STRANGER])
texts = st.sampled_from(["", "ok", "  ", "<b>x</b> & 🚀", "r" * 1001])


class ContractMachine(RuleBasedStateMachine):
    @initialize(currency=st.sampled_from(["USD", "JPY", "EUR"]))
    def start(self, currency):
        self.c = active_contract(currency)
        self.now = NOW
        self.activated_seqs: list[int] = []
        self.ledger = {k: 0 for k in LedgerKind}

    def _pick(self, index: int):
        if not self.c.milestones:
            return 999
        return self.c.milestones[index % len(self.c.milestones)].id

    def _try(self, action):
        before = snapshot(self.c)
        expected_next = self.c.next_to_activate()
        try:
            result = action()
        except DomainError as err:
            assert err.reason, "every refusal has a reason for the user"
            assert snapshot(self.c) == before, "a refused action changed something"
            return None
        for e in self.c.new_ledger:
            self.ledger[e.kind] += e.amount
        self.c.new_ledger.clear()
        self.c.new_history.clear()
        return result, expected_next

    @rule(
        actor=people,
        title=st.sampled_from(["A", "", "x" * 101, "Design 🚀"]),
        amount=st.integers(-5, 10**12),
        days=st.integers(-3, 60),
    )
    def add(self, actor, title, amount, days):
        def act():
            ms = self.c.add_milestone(actor, title, amount, TODAY + timedelta(days=days), "", TODAY, self.now)
            ms.id = len(self.c.milestones)
            return ms

        self._try(act)

    @rule(actor=people, i=st.integers(0, 20))
    def activate(self, actor, i):
        out = self._try(lambda: self.c.activate(actor, self._pick(i), self.now))
        if out:
            ms, expected_next = out
            assert ms is expected_next, "activated something other than the earliest unfunded milestone"
            self.activated_seqs.append(ms.seq)

    @rule(actor=people, i=st.integers(0, 20), note=texts)
    def submit(self, actor, i, note):
        self._try(lambda: self.c.submit(actor, self._pick(i), note, self.now))

    @rule(actor=people, i=st.integers(0, 20))
    def approve(self, actor, i):
        self._try(lambda: self.c.approve(actor, self._pick(i), self.now))

    @rule(actor=people, i=st.integers(0, 20), reason=texts)
    def request_changes(self, actor, i, reason):
        self._try(lambda: self.c.request_changes(actor, self._pick(i), reason, self.now))

    @rule(
        actor=people,
        i=st.integers(0, 20),
        how=st.sampled_from(["refund", "request_refund", "accept_refund", "decline_refund"]),
    )
    def refund(self, actor, i, how):
        self._try(lambda: getattr(self.c, how)(actor, self._pick(i), self.now))

    @rule(actor=people, i=st.integers(0, 20), how=st.sampled_from(["accept_proposal", "delete_milestone"]))
    def manage(self, actor, i, how):
        self._try(lambda: getattr(self.c, how)(actor, self._pick(i), self.now))

    @rule(actor=people, i=st.integers(0, 20), reason=texts)
    def reject(self, actor, i, reason):
        self._try(lambda: self.c.reject_proposal(actor, self._pick(i), self.now, reason))

    @rule(actor=people, i=st.integers(0, 20), amount=st.integers(-1, 10**6), days=st.integers(-2, 10))
    def edit(self, actor, i, amount, days):
        self._try(
            lambda: self.c.edit_milestone(
                actor, self._pick(i), self.now, TODAY, amount=amount, due_date=TODAY + timedelta(days=days)
            )
        )

    @rule(i=st.integers(0, 20), days=st.integers(0, 20))
    def time_passes_and_auto_release(self, i, days):
        self.now += timedelta(days=days)
        self._try(lambda: self.c.auto_release(self._pick(i), self.now))

    @rule(actor=people, i=st.integers(0, 20), how=st.sampled_from(["confirm_payment", "payment_not_received"]))
    def payment_received(self, actor, i, how):
        """Ledger mode (issue 14): the freelancer confirms, or flags, the client's payment for a release."""
        self._try(lambda: getattr(self.c, how)(actor, self._pick(i), self.now))

    @rule(actor=people, how=st.sampled_from(["end", "keep_open"]))
    def close(self, actor, how):
        self._try(lambda: getattr(self.c, how)(actor, self.now))

    @invariant()
    def at_most_one_funded(self):
        assert sum(m.status in FUNDED_STATES for m in self.c.milestones) <= 1

    @invariant()
    def activations_follow_creation_order(self):
        assert self.activated_seqs == sorted(self.activated_seqs)
        assert len(set(self.activated_seqs)) == len(self.activated_seqs)

    @invariant()
    def ledger_balances(self):
        t = self.c.totals()
        assert t.funded == t.released + t.refunded + t.in_escrow
        assert self.ledger[LedgerKind.FUND] == t.funded
        assert self.ledger[LedgerKind.RELEASE] == t.released
        assert self.ledger[LedgerKind.REFUND] == t.refunded

    @invariant()
    def only_released_payments_are_confirmed_or_flagged(self):
        t = self.c.totals()
        assert 0 <= t.confirmed <= t.released
        for m in self.c.milestones:
            if m.payment_confirmed_at is not None or m.payment_flagged_at is not None:
                assert m.status is MilestoneStatus.RELEASED
            assert m.payment_confirmed_at is None or m.payment_flagged_at is None

    @invariant()
    def order_positions_are_unique_and_only_for_accepted(self):
        seqs = [m.seq for m in self.c.milestones if m.seq is not None]
        assert len(seqs) == len(set(seqs))
        for m in self.c.milestones:
            if m.status is MilestoneStatus.PROPOSED:
                assert m.seq is None


ContractMachine.TestCase.settings = settings(max_examples=300, stateful_step_count=40, deadline=None)
TestContractMachine = ContractMachine.TestCase
