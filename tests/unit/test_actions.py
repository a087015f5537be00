"""The one table of actions: its guard is the effect's guard, and the rules it adds (each fails on the old code)."""

from __future__ import annotations

import pytest

from domain.actions import RULES, Action, Allowed
from domain.errors import AlreadyDone, ContractClosed, InvalidState, NotAllowed
from domain.model import Contract, MilestoneStatus, Role

from .helpers import CLIENT, FREELANCER, NOW, STRANGER, TODAY, active_contract, add, snapshot


def test_every_action_names_a_method_of_the_aggregate():
    for action, rule in RULES.items():
        assert callable(getattr(Contract, rule.method)), action


def test_a_freelancers_own_refund_waits_while_the_clients_request_does():
    c = active_contract()
    a = add(c, "A")
    c.activate(CLIENT, a.id, NOW)
    c.request_refund(CLIENT, a.id, NOW)
    before = snapshot(c)
    with pytest.raises(InvalidState) as err:
        c.refund(FREELANCER, a.id, NOW)
    assert err.value.reason == "The client asked for a refund of «A»: accept or decline it."
    assert snapshot(c) == before
    assert Allowed(Action.ACCEPT_REFUND, a) in c.allowed_actions(FREELANCER)
    assert Allowed(Action.REFUND, a) not in c.allowed_actions(FREELANCER)


def test_keep_open_only_answers_the_close_question():
    c = active_contract()
    a = add(c, "A")
    with pytest.raises(AlreadyDone):
        c.keep_open(CLIENT, NOW)  # nothing released yet: there is no question
    c.activate(CLIENT, a.id, NOW)
    c.submit(FREELANCER, a.id, "", NOW)
    c.approve(CLIENT, a.id, NOW)
    assert c.awaiting_close_decision()
    assert Allowed(Action.KEEP_OPEN, None) in c.allowed_actions(CLIENT)
    c.keep_open(CLIENT, NOW)
    assert not c.awaiting_close_decision()
    with pytest.raises(AlreadyDone):
        c.keep_open(CLIENT, NOW)


@pytest.mark.parametrize("action, refusal", [(Action.EDIT, NotAllowed), (Action.DELETE, InvalidState)])
def test_a_proposal_is_accepted_or_rejected_not_edited_or_deleted_by_the_client(action, refusal):
    c = active_contract()
    p = add(c, "Proposal", actor=FREELANCER)
    assert p.status is MilestoneStatus.PROPOSED
    with pytest.raises(refusal):  # R4: its proposer edits it (the freelancer), and withdraws it
        c.require(action, CLIENT, p.id)
    assert {a.action for a in c.allowed_actions(CLIENT) if a.milestone is p} == {
        Action.ACCEPT_PROPOSAL,
        Action.REJECT_PROPOSAL,
    }


def test_a_stranger_hears_who_may_act_before_anything_about_the_contracts_state():
    c = active_contract()
    c.end(CLIENT, NOW)
    with pytest.raises(NotAllowed):
        c.require(Action.ADD_MILESTONE, STRANGER)
    with pytest.raises(ContractClosed):
        c.require(Action.ADD_MILESTONE, CLIENT)


def test_a_new_invite_only_while_the_other_party_is_awaited():
    c = Contract.create(CLIENT, Role.CLIENT, "Site", "USD", NOW)
    assert c.allowed_actions(CLIENT) == [Allowed(Action.NEW_INVITE, None)]
    assert c.allowed_actions(STRANGER) == []
    c.join(FREELANCER, NOW)
    assert Allowed(Action.NEW_INVITE, None) not in c.allowed_actions(CLIENT)


def test_allowed_actions_is_what_require_lets_through():
    c = active_contract()
    a, b = add(c, "A"), add(c, "B")
    add(c, "P", actor=FREELANCER)
    c.activate(CLIENT, a.id, NOW)
    for viewer in (CLIENT, FREELANCER, STRANGER):
        allowed = c.allowed_actions(viewer)
        for action, rule in RULES.items():
            for ms in c.milestones if rule.on_milestone else [None]:
                ok = c.refusal(action, viewer, ms) is None
                assert ok == (Allowed(action, ms) in allowed), (viewer, action, ms and ms.title)
    assert Allowed(Action.ACTIVATE, b) not in c.allowed_actions(CLIENT)  # R2: A is funded
    assert c.milestone(b.id).due_date >= TODAY
