"""Disagreements (PRODUCT §8): pay less, bonus, a new due date, disputes with offers and a decision."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.actions import Action
from domain.errors import AlreadyDone, InvalidInput, InvalidState, NotAllowed
from domain.model import LedgerKind, MilestoneStatus
from domain.moves import whose_move
from domain.states import Role

from .helpers import CLIENT, FREELANCER, NOW, STRANGER, TODAY, active_contract, add

OPERATOR = 909
OPS = frozenset({OPERATOR})


def funded(submitted: bool = False):
    c = active_contract()
    ms = add(c, "Design", 10_000)
    add(c, "Build", 20_000)
    c.activate(CLIENT, ms.id, NOW)
    if submitted:
        c.submit(FREELANCER, ms.id, "done", NOW)
    c.new_ledger.clear()
    return c, ms


def ledger(c):
    out = {k: 0 for k in LedgerKind}
    for e in c.new_ledger:
        out[e.kind] += e.amount
    return out


def balanced(c):
    t = c.totals()
    return t.funded == t.released + t.refunded + t.in_escrow


# ----- pay less / bonus ----------------------------------------------------------------------------
def test_paying_less_releases_that_and_refunds_the_rest_with_the_reason_in_the_history():
    c, ms = funded(submitted=True)
    c.pay_less(CLIENT, ms.id, 6_000, "half the pages missing", NOW)
    assert ms.status is MilestoneStatus.RELEASED
    assert ledger(c)[LedgerKind.RELEASE] == 6_000 and ledger(c)[LedgerKind.REFUND] == 4_000
    t = c.totals()
    assert (t.released, t.refunded, t.in_escrow) == (6_000, 4_000, 0) and balanced(c)
    assert "half the pages missing" in c.new_history[-1].note and c.new_history[-1].action == "released_less"


def test_a_partial_release_confirmed_counts_what_was_released_not_the_milestone():
    c, ms = funded(submitted=True)
    c.pay_less(CLIENT, ms.id, 6_000, "half the pages missing", NOW)
    c.confirm_payment(FREELANCER, ms.id, NOW)
    t = c.totals()
    assert (t.released, t.confirmed) == (6_000, 6_000)


@pytest.mark.parametrize("amount", [0, 10_000, 10_001, -5])
def test_paying_less_is_less_than_all_and_more_than_nothing(amount):
    c, ms = funded(submitted=True)
    with pytest.raises(InvalidInput):
        c.pay_less(CLIENT, ms.id, amount, "why", NOW)
    assert ms.status is MilestoneStatus.SUBMITTED


def test_paying_less_needs_a_reason_and_is_the_clients():
    c, ms = funded(submitted=True)
    with pytest.raises(InvalidInput):
        c.pay_less(CLIENT, ms.id, 5_000, "  ", NOW)
    with pytest.raises(NotAllowed):
        c.pay_less(FREELANCER, ms.id, 5_000, "why", NOW)


def test_a_bonus_releases_everything_and_records_the_bonus_outside_escrow():
    c, ms = funded(submitted=True)
    c.approve_with_bonus(CLIENT, ms.id, 1_500, NOW)
    assert ms.status is MilestoneStatus.RELEASED and ms.bonus == 1_500
    assert ledger(c)[LedgerKind.RELEASE] == 10_000 and ledger(c)[LedgerKind.BONUS] == 1_500
    t = c.totals()
    assert t.released == 10_000 and t.bonus == 1_500 and balanced(c)
    with pytest.raises(AlreadyDone):
        c.approve_with_bonus(CLIENT, ms.id, 1_500, NOW)


def test_pay_less_and_bonus_only_from_review():
    c, ms = funded(submitted=False)
    assert not c.may(Action.PAY_LESS, CLIENT, ms) and not c.may(Action.APPROVE_WITH_BONUS, CLIENT, ms)


# ----- due date ------------------------------------------------------------------------------------
def test_either_party_proposes_a_date_and_only_the_other_answers():
    c, ms = funded()
    old = ms.due_date
    c.propose_due_change(FREELANCER, ms.id, old + timedelta(days=7), TODAY, NOW)
    assert ms.due_date == old and ms.due_change_to == old + timedelta(days=7)
    assert not c.may(Action.ACCEPT_DUE_DATE, FREELANCER, ms) and c.may(Action.ACCEPT_DUE_DATE, CLIENT, ms)
    assert not c.may(Action.PROPOSE_DUE_DATE, CLIENT, ms)  # one proposal at a time
    move = whose_move(c, CLIENT)
    assert move.role is Role.CLIENT and move.actions == (Action.ACCEPT_DUE_DATE, Action.DECLINE_DUE_DATE)
    before = ms.next_reminder_at
    c.accept_due_change(CLIENT, ms.id, NOW + timedelta(hours=1))
    assert ms.due_date == old + timedelta(days=7) and ms.due_change_to is None
    assert ms.next_reminder_at != before  # marked for re-planning
    h = c.new_history[-1]
    assert h.action == "due_date_changed" and h.note == f"{old.isoformat()} → {(old + timedelta(days=7)).isoformat()}"


def test_a_declined_date_leaves_the_due_date():
    c, ms = funded()
    old = ms.due_date
    c.propose_due_change(CLIENT, ms.id, old + timedelta(days=3), TODAY, NOW)
    c.decline_due_change(FREELANCER, ms.id, NOW)
    assert ms.due_date == old and ms.due_change_to is None and c.new_history[-1].action == "due_date_declined"


def test_a_proposed_date_is_not_in_the_past_nor_the_same_and_only_while_active():
    c, ms = funded()
    with pytest.raises(InvalidInput):
        c.propose_due_change(CLIENT, ms.id, TODAY - timedelta(days=1), TODAY, NOW)
    with pytest.raises(InvalidInput):
        c.propose_due_change(CLIENT, ms.id, ms.due_date, TODAY, NOW)
    c2, ms2 = funded(submitted=True)
    with pytest.raises(InvalidState):
        c2.propose_due_change(CLIENT, ms2.id, TODAY, TODAY, NOW)
    with pytest.raises(NotAllowed):
        c.propose_due_change(STRANGER, ms.id, TODAY, TODAY, NOW)


# ----- disputes ------------------------------------------------------------------------------------
def test_a_dispute_needs_a_reason_and_holds_every_other_action_and_the_automatic_release():
    c, ms = funded(submitted=True)
    with pytest.raises(InvalidInput):
        c.open_dispute(CLIENT, ms.id, "", NOW)
    c.open_dispute(CLIENT, ms.id, "not what we agreed", NOW)
    assert ms.in_dispute and ms.dispute_reason == "not what we agreed"
    for action in (Action.APPROVE, Action.REQUEST_CHANGES, Action.PAY_LESS, Action.REQUEST_REFUND):
        assert not c.may(action, CLIENT, ms), action
    assert not c.may(Action.REFUND, FREELANCER, ms)
    with pytest.raises(AlreadyDone):
        c.open_dispute(FREELANCER, ms.id, "again", NOW)
    with pytest.raises(InvalidState):
        c.auto_release(ms.id, NOW + timedelta(days=30))
    assert ms.status is MilestoneStatus.SUBMITTED


def test_offers_are_countered_and_an_accepted_one_settles_the_ledger_exactly():
    c, ms = funded(submitted=True)
    c.open_dispute(FREELANCER, ms.id, "client silent", NOW)
    assert whose_move(c, CLIENT).actions == (Action.OFFER_SETTLEMENT,)
    c.offer_settlement(CLIENT, ms.id, 3_000, NOW)
    assert not c.may(Action.OFFER_SETTLEMENT, FREELANCER, ms) and c.may(Action.COUNTER_OFFER, FREELANCER, ms)
    assert not c.may(Action.ACCEPT_OFFER, CLIENT, ms)  # nothing of the freelancer's to accept
    c.counter_offer(FREELANCER, ms.id, 8_000, NOW + timedelta(hours=1), note="most of it is done")
    move = whose_move(c, CLIENT)
    assert move.role is Role.CLIENT and move.actions == (Action.ACCEPT_OFFER, Action.COUNTER_OFFER)
    c.accept_offer(CLIENT, ms.id, NOW + timedelta(hours=2))
    assert ms.status is MilestoneStatus.RELEASED and not ms.in_dispute
    assert ledger(c)[LedgerKind.RELEASE] == 8_000 and ledger(c)[LedgerKind.REFUND] == 2_000 and balanced(c)
    assert c.next_to_activate() is not None and c.may(Action.ACTIVATE, CLIENT, c.next_to_activate())


def test_an_offer_of_nothing_is_a_full_refund_and_all_is_a_full_release():
    c, ms = funded()
    c.open_dispute(CLIENT, ms.id, "no work", NOW)
    c.offer_settlement(FREELANCER, ms.id, 0, NOW)
    c.accept_offer(CLIENT, ms.id, NOW)
    assert ms.status is MilestoneStatus.REFUNDED and ledger(c)[LedgerKind.REFUND] == 10_000
    assert LedgerKind.RELEASE not in {e.kind for e in c.new_ledger} and balanced(c)
    with pytest.raises(InvalidInput):
        c2, ms2 = funded()
        c2.open_dispute(CLIENT, ms2.id, "x", NOW)
        c2.offer_settlement(CLIENT, ms2.id, 10_001, NOW)


def test_escalation_only_after_the_dispute_days_and_then_only_an_operator_decides():
    c, ms = funded(submitted=True)
    c.open_dispute(CLIENT, ms.id, "bad", NOW)
    c.offer_settlement(CLIENT, ms.id, 1_000, NOW)
    with pytest.raises(InvalidState):
        c.escalate_dispute(ms.id, NOW + timedelta(days=4, hours=23), days=5)
    with pytest.raises(InvalidState):  # not escalated yet: no decision
        c.decide_dispute(OPERATOR, ms.id, 5_000, "half", NOW, OPS)
    c.escalate_dispute(ms.id, NOW + timedelta(days=5), days=5)
    assert whose_move(c, CLIENT).role is None
    assert not c.may(Action.ACCEPT_OFFER, FREELANCER, ms) and not c.may(Action.COUNTER_OFFER, FREELANCER, ms)
    with pytest.raises(NotAllowed):
        c.decide_dispute(CLIENT, ms.id, 5_000, "mine", NOW, OPS)
    with pytest.raises(NotAllowed):
        c.decide_dispute(CLIENT, ms.id, 5_000, "mine", NOW, frozenset({CLIENT}))  # a party can't judge
    with pytest.raises(InvalidInput):
        c.decide_dispute(OPERATOR, ms.id, 5_000, "", NOW, OPS)
    c.decide_dispute(OPERATOR, ms.id, 4_000, "the logo was delivered", NOW + timedelta(days=6), OPS)
    assert ledger(c)[LedgerKind.RELEASE] == 4_000 and ledger(c)[LedgerKind.REFUND] == 6_000 and balanced(c)
    assert c.new_history[-1].action == "dispute_decided" and "the logo was delivered" in c.new_history[-1].note
    with pytest.raises(AlreadyDone):
        c.decide_dispute(OPERATOR, ms.id, 4_000, "again", NOW, OPS)


def test_the_operator_decision_is_never_a_partys_button():
    c, ms = funded(submitted=True)
    c.open_dispute(CLIENT, ms.id, "bad", NOW)
    c.escalate_dispute(ms.id, NOW + timedelta(days=5), days=5)
    for who in (CLIENT, FREELANCER):
        assert Action.DECIDE_DISPUTE not in {a.action for a in c.allowed_actions(who)}


def test_both_accepting_each_others_offer_settles_once():
    c, ms = funded()
    c.open_dispute(CLIENT, ms.id, "bad", NOW)
    c.offer_settlement(CLIENT, ms.id, 2_000, NOW)
    c.counter_offer(FREELANCER, ms.id, 9_000, NOW)
    c.accept_offer(CLIENT, ms.id, NOW)
    with pytest.raises(AlreadyDone):
        c.accept_offer(FREELANCER, ms.id, NOW)
    assert ledger(c)[LedgerKind.RELEASE] == 9_000 and balanced(c)
