"""Three rules an audit found broken: a dispute has no automatic release date (PRODUCT §8); submitted work
waits for the client's review whatever else is pending (PRODUCT §3); a proposal may be edited (R4)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.actions import Action, Allowed
from domain.errors import InvalidState, NotAllowed
from domain.model import MilestoneStatus, Role
from domain.moves import Move, move_after, whose_move

from .helpers import CLIENT, FREELANCER, NOW, STRANGER, TODAY, active_contract, add, snapshot


# ----- §8: a dispute stops the automatic release -------------------------------------------------------
@pytest.mark.parametrize("opener", [CLIENT, FREELANCER])
def test_a_disputed_submission_has_no_automatic_release_date(opener):
    c = active_contract()
    design = add(c, "Design")
    c.activate(CLIENT, design.id, NOW)
    c.submit(FREELANCER, design.id, "done", NOW)
    assert c.auto_release_at(design) == NOW + timedelta(days=14)
    c.open_dispute(opener, design.id, "not what we agreed", NOW)
    assert c.auto_release_at(design) is None
    later = NOW + timedelta(days=30)
    with pytest.raises(InvalidState, match="in dispute"):
        c.auto_release(design.id, later)
    assert design.status is MilestoneStatus.SUBMITTED
    c.offer_settlement(FREELANCER, design.id, 5_000, NOW)
    c.accept_offer(CLIENT, design.id, NOW)
    assert design.status is MilestoneStatus.RELEASED
    assert c.auto_release_at(design) is None


# ----- §3: the client reviews submitted work, even with a refund request waiting -------------------------
def test_submitted_work_waits_for_the_clients_review_while_the_freelancer_answers_a_refund_request():
    c = active_contract()
    design = add(c, "Design")
    c.activate(CLIENT, design.id, NOW)
    c.request_refund(CLIENT, design.id, NOW)
    answers = (Action.ACCEPT_REFUND, Action.DECLINE_REFUND)
    # While work is under way, the refund request is the freelancer's move for both.
    assert move_after(c, CLIENT, design) == Move(Role.FREELANCER, answers, design, yours=False)
    assert whose_move(c, FREELANCER) == Move(Role.FREELANCER, answers, design, yours=True)
    c.submit(FREELANCER, design.id, "done after all", NOW)
    review = Move(Role.CLIENT, (Action.APPROVE, Action.REQUEST_CHANGES), design, yours=True)
    refund = Move(Role.FREELANCER, answers, design, yours=True)
    assert move_after(c, CLIENT, design) == review  # the news of the submission
    assert move_after(c, FREELANCER, design) == refund
    assert whose_move(c, CLIENT) == review
    assert whose_move(c, FREELANCER) == refund
    # Someone with no role of their own (a group) is told the first thing the milestone waits for.
    assert whose_move(c, STRANGER) == Move(Role.FREELANCER, refund.actions, design)
    for who, move in ((CLIENT, review), (FREELANCER, refund)):
        assert all(c.may(a, who, design) for a in move.actions)


# ----- R4: a proposal is edited by the party who proposed it ---------------------------------------------
def test_the_freelancer_edits_their_own_proposal_while_it_is_proposed():
    c = active_contract()
    logo = add(c, "Logo", amount=20_000, actor=FREELANCER)
    assert logo.status is MilestoneStatus.PROPOSED
    mine = {a.action for a in c.allowed_actions(FREELANCER) if a.milestone is logo}
    assert mine == {Action.EDIT, Action.WITHDRAW_PROPOSAL}  # withdrawing is deleting one's own proposal
    c.edit_milestone(FREELANCER, logo.id, NOW, TODAY, title="Logo v2", amount=25_000)
    assert (logo.title, logo.amount, logo.status) == ("Logo v2", 25_000, MilestoneStatus.PROPOSED)
    [edited] = [h for h in c.new_history if h.action == "milestone_edited"]
    assert edited.actor_id == FREELANCER
    assert [(ch.field, ch.old, ch.new) for ch in edited.changes] == [
        ("title", "Logo", "Logo v2"),
        ("amount", 20_000, 25_000),
    ]
    c.accept_proposal(CLIENT, logo.id, NOW)  # accepted as edited; from now on it is the client's to edit
    with pytest.raises(NotAllowed, match="Only the client"):
        c.edit_milestone(FREELANCER, logo.id, NOW, TODAY, title="Logo v3")
    assert Allowed(Action.EDIT, logo) in c.allowed_actions(CLIENT)


def test_the_client_accepts_or_rejects_a_proposal_but_does_not_edit_it():
    c = active_contract()
    logo = add(c, "Logo", actor=FREELANCER)
    before = snapshot(c)
    with pytest.raises(NotAllowed, match="Only the freelancer"):
        c.edit_milestone(CLIENT, logo.id, NOW, TODAY, title="Mine now")
    with pytest.raises(InvalidState):
        c.delete_milestone(CLIENT, logo.id, NOW)
    assert snapshot(c) == before
    theirs = {a.action for a in c.allowed_actions(CLIENT) if a.milestone is logo}
    assert theirs == {Action.ACCEPT_PROPOSAL, Action.REJECT_PROPOSAL}


def test_a_rejected_or_withdrawn_proposal_is_not_edited():
    c = active_contract()
    logo, icon = add(c, "Logo", actor=FREELANCER), add(c, "Icon", actor=FREELANCER)
    c.reject_proposal(CLIENT, logo.id, NOW)
    c.withdraw_proposal(FREELANCER, icon.id, NOW)
    for ms in (logo, icon):
        with pytest.raises(InvalidState):
            c.edit_milestone(FREELANCER, ms.id, NOW, TODAY, title="Again")
