"""Whose move it is (domain/moves.py), and the step a change leads to for its news."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.actions import Action
from domain.errors import DomainError
from domain.model import Contract, ContractStatus, Role
from domain.moves import Move, move_after, whose_move

from .helpers import CLIENT, FREELANCER, NOW, STRANGER, active_contract, add


def test_the_story_passes_the_move_back_and_forth():
    c = active_contract()
    assert whose_move(c, FREELANCER) == Move(Role.CLIENT, (Action.ADD_MILESTONE,), None, yours=False)
    design, build = add(c, "Design"), add(c, "Build")
    assert whose_move(c, CLIENT) == Move(Role.CLIENT, (Action.ACTIVATE,), design, yours=True)
    assert whose_move(c, FREELANCER).yours is False
    c.activate(CLIENT, design.id, NOW)
    assert whose_move(c, FREELANCER) == Move(Role.FREELANCER, (Action.SUBMIT,), design, yours=True)
    c.submit(FREELANCER, design.id, "done", NOW)
    assert whose_move(c, STRANGER) == Move(Role.CLIENT, (Action.APPROVE, Action.REQUEST_CHANGES), design)
    c.request_refund(CLIENT, design.id, NOW)
    assert whose_move(c, FREELANCER).actions == (Action.ACCEPT_REFUND, Action.DECLINE_REFUND)
    assert whose_move(c, STRANGER).role is Role.FREELANCER  # the freelancer answers first (R8)
    assert whose_move(c, CLIENT).actions == (Action.APPROVE, Action.REQUEST_CHANGES)  # the review waits too (§3)
    c.decline_refund(FREELANCER, design.id, NOW)
    c.approve(CLIENT, design.id, NOW)
    assert whose_move(c, CLIENT).milestone is build
    c.activate(CLIENT, build.id, NOW)
    c.refund(FREELANCER, build.id, NOW)
    assert whose_move(c, CLIENT) == Move(Role.CLIENT, (Action.KEEP_OPEN, Action.END), None, yours=True)
    c.keep_open(CLIENT, NOW)
    assert whose_move(c, CLIENT).actions == (Action.ADD_MILESTONE,)
    c.end(CLIENT, NOW)
    assert whose_move(c, CLIENT) == Move(None)


def test_a_waiting_contract_waits_for_the_other_party_to_join():
    c = Contract.create(FREELANCER, Role.FREELANCER, "Logo", "USD", NOW)
    assert whose_move(c, FREELANCER) == Move(Role.CLIENT)


def test_proposals_wait_for_the_client_after_the_funded_and_the_next_milestone():
    c = active_contract()
    design = add(c, "Design")
    logo = add(c, "Logo", actor=FREELANCER)
    assert whose_move(c, CLIENT).milestone is design  # the next to fund comes first
    c.delete_milestone(CLIENT, design.id, NOW)
    assert whose_move(c, CLIENT) == Move(
        Role.CLIENT, (Action.ACCEPT_PROPOSAL, Action.REJECT_PROPOSAL), logo, yours=True
    )


def test_news_leads_to_the_step_of_its_milestone_or_after_a_release_to_the_contracts():
    c = active_contract()
    design, build = add(c, "Design"), add(c, "Build")
    assert move_after(c, FREELANCER, build) is None  # waits its turn: nothing to press about it
    logo = add(c, "Logo", actor=FREELANCER)
    assert move_after(c, CLIENT, logo).actions == (Action.ACCEPT_PROPOSAL, Action.REJECT_PROPOSAL)
    c.reject_proposal(CLIENT, logo.id, NOW)
    assert move_after(c, FREELANCER, logo) is None
    c.activate(CLIENT, design.id, NOW)
    c.submit(FREELANCER, design.id, "", NOW)
    c.approve(CLIENT, design.id, NOW)
    assert move_after(c, CLIENT, design) == Move(Role.CLIENT, (Action.ACTIVATE,), build, yours=True)
    assert move_after(c, CLIENT, None) == whose_move(c, CLIENT)


@settings(max_examples=200, deadline=None)
@given(
    ops=st.lists(
        st.tuples(
            st.sampled_from(["add", "propose", "activate", "submit", "approve", "refund", "rrq", "accept", "end"]),
            st.integers(0, 5),
        ),
        max_size=20,
    )
)
def test_the_move_is_always_something_its_person_may_do(ops):
    c = active_contract()
    for op, i in ops:
        ids = [m.id for m in c.milestones] or [1]
        ms = ids[i % len(ids)]
        try:
            if op in ("add", "propose"):
                add(c, f"M{len(c.milestones)}", actor=CLIENT if op == "add" else FREELANCER)
            elif op == "end":
                c.end(CLIENT, NOW)
            else:
                method, who = {
                    "activate": (c.activate, CLIENT),
                    "submit": (lambda a, m, n: c.submit(a, m, "", n), FREELANCER),
                    "approve": (c.approve, CLIENT),
                    "refund": (c.refund, FREELANCER),
                    "rrq": (c.request_refund, CLIENT),
                    "accept": (c.accept_proposal, CLIENT),
                }[op]
                method(who, ms, NOW)
        except DomainError:
            pass
    move = whose_move(c, CLIENT)
    if c.status is not ContractStatus.ACTIVE:
        assert move.role is None
        return
    assert move.role is not None and move.actions
    person = c.party_id(move.role)
    assert all(c.may(a, person, move.milestone) for a in move.actions), move
