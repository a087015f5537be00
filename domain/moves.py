"""Whose move it is: what a contract waits for next, from whom, and about which milestone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .actions import RULES, Action
from .states import FUNDED_STATES, ContractStatus, MilestoneStatus, Role

if TYPE_CHECKING:
    from .model import Contract, Milestone


@dataclass(frozen=True)
class Move:
    """The next step of a contract. `role`: whose it is (None: nobody's, the contract is over);
    `actions`: what they may do about it, the first one naming it (none: they have to join first);
    `milestone`: what it is about (None: the contract); `yours`: it is the viewer's move."""

    role: Role | None
    actions: tuple[Action, ...] = ()
    milestone: Milestone | None = None
    yours: bool = False


def _milestone_actions(c: Contract, ms: Milestone) -> tuple[Action, ...]:
    """The step this milestone waits for in its state, or () when it waits for nothing (done, or not
    next in the order)."""
    s = MilestoneStatus
    if ms.status in FUNDED_STATES and ms.refund_requested_at is not None:
        return (Action.ACCEPT_REFUND, Action.DECLINE_REFUND)  # R8: the freelancer answers first
    if ms.status is s.ACTIVE:
        return (Action.SUBMIT,)
    if ms.status is s.SUBMITTED:
        return (Action.APPROVE, Action.REQUEST_CHANGES)
    if ms.status is s.PROPOSED:
        return (Action.ACCEPT_PROPOSAL, Action.REJECT_PROPOSAL)
    if ms.status is s.NOT_FUNDED and c.may(Action.ACTIVATE, c.client_id, ms):  # R1, R2: the next one
        return (Action.ACTIVATE,)
    return ()


def _disagreement_move(c: Contract, viewer_id: int | None, ms: Milestone) -> Move | None:
    """A dispute or a proposed due date waits for one party's answer first (PRODUCT §8): the party an
    offer (the latest one) or a date waits for; a dispute with the operators waits for nobody here."""
    actions: tuple[Action, ...]
    if ms.in_dispute:
        if ms.dispute_escalated_at is not None:
            return Move(None, (), ms)
        offers = [(at, r) for r in (Role.CLIENT, Role.FREELANCER) if (at := ms.offer_at(r)) is not None]
        if offers:
            role, actions = max(offers)[1].other, (Action.ACCEPT_OFFER, Action.COUNTER_OFFER)
        else:
            opener = c.role_of(ms.dispute_by) or Role.CLIENT
            role, actions = opener.other, (Action.OFFER_SETTLEMENT,)
        return Move(role, actions, ms, yours=viewer_id is not None and c.role_of(viewer_id) is role)
    if ms.status is MilestoneStatus.ACTIVE and ms.due_change_to is not None:
        role = (c.role_of(ms.due_change_by) or Role.CLIENT).other
        actions = (Action.ACCEPT_DUE_DATE, Action.DECLINE_DUE_DATE)
        return Move(role, actions, ms, yours=viewer_id is not None and c.role_of(viewer_id) is role)
    return None


def _move(c: Contract, viewer_id: int | None, actions: tuple[Action, ...], ms: Milestone | None) -> Move:
    role = RULES[actions[0]].role or Role.CLIENT  # adding: the client adds (a freelancer may propose)
    return Move(role, actions, ms, yours=viewer_id is not None and c.role_of(viewer_id) is role)


def whose_move(c: Contract, viewer_id: int | None) -> Move:
    """What the contract waits for now: the funded milestone first, then the next to fund, then open
    proposals, then the client's keep-or-end answer (R9), else a new milestone."""
    if c.status is ContractStatus.PENDING:
        return Move(Role.FREELANCER if c.freelancer_id is None else Role.CLIENT)  # the other party joins
    if c.status is not ContractStatus.ACTIVE:
        return Move(None)
    for ms in (c.funded_milestone(), c.next_to_activate(), *c.proposals()):
        if ms is not None:
            special = _disagreement_move(c, viewer_id, ms)
            if special is not None:
                return special
            actions = _milestone_actions(c, ms)
            if actions:
                return _move(c, viewer_id, actions, ms)
    if c.awaiting_close_decision():
        return _move(c, viewer_id, (Action.KEEP_OPEN, Action.END), None)
    return _move(c, viewer_id, (Action.ADD_MILESTONE,), None)


def move_after(c: Contract, viewer_id: int | None, ms: Milestone | None) -> Move | None:
    """The step a change to `ms` (None: to the contract) leads to, for its news: the milestone's own
    next step; once it is released or refunded, the contract's (the way to the next is free, R8/R9);
    None when the change leads to nothing (e.g. a rejected proposal, a milestone waiting its turn)."""
    if (
        ms is not None
        and viewer_id is not None
        and viewer_id == c.freelancer_id
        and c.may(Action.CONFIRM_PAYMENT, viewer_id, ms)
    ):  # ledger mode: the news of a release asks the freelancer whether the money arrived
        return Move(Role.FREELANCER, (Action.CONFIRM_PAYMENT, Action.PAYMENT_NOT_RECEIVED), ms, yours=True)
    if ms is None or ms.status in (MilestoneStatus.RELEASED, MilestoneStatus.REFUNDED):
        return whose_move(c, viewer_id)
    if c.status is not ContractStatus.ACTIVE:
        return None
    special = _disagreement_move(c, viewer_id, ms)
    if special is not None:
        return special
    actions = _milestone_actions(c, ms)
    return _move(c, viewer_id, actions, ms) if actions else None
