"""Property test: the random walk of test_state_machine with disagreements mixed in (pay less, bonus,
date changes, disputes, offers, counters, escalation, decisions); the ledger balances on every path."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import initialize, invariant, rule

from domain.model import FUNDED_STATES, LedgerKind

from .helpers import CLIENT, FREELANCER, STRANGER, TODAY
from .test_state_machine import ContractMachine

OPERATOR = 909
# A share of the milestone's amount in percent (-1 and 101: just outside what may be offered).
shares = st.sampled_from([-1, 0, 1, 50, 50, 99, 100, 101])
# Mostly the parties and valid reasons: the walk should reach offers, counters and decisions often.
parties = st.sampled_from([CLIENT, FREELANCER, CLIENT, FREELANCER, STRANGER])
reasons = st.sampled_from(["why", "because", "", "r" * 1001])


class DisagreementMachine(ContractMachine):
    def _pick(self, index: int):
        """Half the time the funded milestone, if any: disagreements are about it."""
        funded = self.c.funded_milestone()
        if funded is not None and index % 2 == 0:
            return funded.id
        return super()._pick(index)

    def _share(self, i: int, pct: int) -> int:
        ms = next((m for m in self.c.milestones if m.id == self._pick(i)), None)
        return -1 if ms is None else ms.amount * pct // 100 + (1 if pct > 100 else 0)

    @initialize(currency=st.sampled_from(["USD", "JPY", "EUR"]))
    def start(self, currency):
        super().start(currency)
        self.a_funded_milestone_to_disagree_about()

    @rule()
    def a_funded_milestone_to_disagree_about(self):
        """Reach disagreements often: the client adds a milestone and funds the next one."""
        out = self._try(lambda: self.c.add_milestone(CLIENT, "D", 10_000, TODAY, "", TODAY, self.now))
        if out:
            out[0].id = len(self.c.milestones)
        nxt = self.c.next_to_activate()
        if nxt is not None:
            self.activate(CLIENT, self.c.milestones.index(nxt))

    @rule(actor=parties, i=st.integers(0, 20), pct=shares, reason=reasons)
    def pay_less(self, actor, i, pct, reason):
        self._try(lambda: self.c.pay_less(actor, self._pick(i), self._share(i, pct), reason, self.now))

    @rule(actor=parties, i=st.integers(0, 20), bonus=st.sampled_from([-1, 0, 1, 500]))
    def bonus(self, actor, i, bonus):
        self._try(lambda: self.c.approve_with_bonus(actor, self._pick(i), bonus, self.now))

    @rule(actor=parties, i=st.integers(0, 20), days=st.integers(-2, 40))
    def propose_date(self, actor, i, days):
        self._try(lambda: self.c.propose_due_change(actor, self._pick(i), TODAY + timedelta(days), TODAY, self.now))

    @rule(actor=parties, i=st.integers(0, 20), how=st.sampled_from(["accept_due_change", "decline_due_change"]))
    def answer_date(self, actor, i, how):
        self._try(lambda: getattr(self.c, how)(actor, self._pick(i), self.now))

    @rule(actor=parties, i=st.integers(0, 20), reason=reasons)
    def open_dispute(self, actor, i, reason):
        self._try(lambda: self.c.open_dispute(actor, self._pick(i), reason, self.now))

    @rule(actor=parties, i=st.integers(0, 20), pct=shares, how=st.sampled_from(["offer_settlement", "counter_offer"]))
    def offer(self, actor, i, pct, how):
        self._try(lambda: getattr(self.c, how)(actor, self._pick(i), self._share(i, pct), self.now))

    @rule(actor=parties, i=st.integers(0, 20))
    def accept_offer(self, actor, i):
        self._try(lambda: self.c.accept_offer(actor, self._pick(i), self.now))

    @rule(actor=parties, pct=shares)
    def answer_the_latest_offer(self, actor, pct):
        """The other side of the funded milestone's dispute answers: accepts (pct 50) or counters."""
        ms = self.c.funded_milestone()
        if ms is None:
            return
        if pct == 50:
            self._try(lambda: self.c.accept_offer(actor, ms.id, self.now))
        else:
            self._try(lambda: self.c.counter_offer(actor, ms.id, ms.amount * max(pct, 0) // 100, self.now))

    @rule(i=st.integers(0, 20), days=st.integers(0, 3))
    def time_passes_and_escalate(self, i, days):
        self.now += timedelta(days=days)
        self._try(lambda: self.c.escalate_dispute(self._pick(i), self.now, 5))

    @rule(actor=st.sampled_from([OPERATOR, CLIENT, FREELANCER]), i=st.integers(0, 20), pct=shares, note=reasons)
    def decide(self, actor, i, pct, note):
        share = self._share(i, pct)
        self._try(lambda: self.c.decide_dispute(actor, self._pick(i), share, note, self.now, frozenset({OPERATOR})))

    @invariant()
    def bonuses_are_recorded_and_outside_escrow(self):
        assert self.ledger[LedgerKind.BONUS] == self.c.totals().bonus

    @invariant()
    def a_dispute_only_on_funded_milestones_and_never_released_meanwhile(self):
        for m in self.c.milestones:
            if m.in_dispute:
                assert m.status in FUNDED_STATES
            if m.due_change_to is not None:
                assert m.status in FUNDED_STATES


DisagreementMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=60, deadline=None)
TestDisagreementMachine = DisagreementMachine.TestCase
