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


def _milestone_steps(c: Contract, ms: Milestone) -> list[tuple[Action, ...]]:
    """The steps this milestone waits for, first first; [] when it waits for nothing (done, or not next in
    the order). Two at once when the client asked for a refund: the freelancer's answer, and what the
    milestone's state waits for (submitted work still waits for the client's review, PRODUCT §3)."""
    s = MilestoneStatus
    steps: list[tuple[Action, ...]] = []
    if ms.status in FUNDED_STATES and ms.refund_requested_at is not None:
        steps.append((Action.ACCEPT_REFUND, Action.DECLINE_REFUND))  # R8: the freelancer answers first
    if ms.status is s.ACTIVE:
        steps.append((Action.SUBMIT,))
    elif ms.status is s.SUBMITTED:
        steps.append((Action.APPROVE, Action.REQUEST_CHANGES))
    elif ms.status is s.PROPOSED:
        steps.append((Action.ACCEPT_PROPOSAL, Action.REJECT_PROPOSAL))
    elif ms.status is s.NOT_FUNDED and c.may(Action.ACTIVATE, c.client_id, ms):  # R1, R2: the next one
        steps.append((Action.ACTIVATE,))
    return steps


def _milestone_actions(c: Contract, viewer_id: int | None, ms: Milestone) -> tuple[Action, ...]:
    """The step this milestone waits for, as `viewer_id` sees it: the first of theirs (each party is shown
    their own next step), else the first of all; () when it waits for nothing."""
    steps = _milestone_steps(c, ms)
    viewer = c.role_of(viewer_id)
    return next((step for step in steps if RULES[step[0]].role is viewer), steps[0] if steps else ())


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
            actions = _milestone_actions(c, viewer_id, ms)
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
    actions = _milestone_actions(c, viewer_id, ms)
    return _move(c, viewer_id, actions, ms) if actions else None
