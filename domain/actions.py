"""The one table of actions: who may do each one, from which states, and what counts as already done."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from .errors import AlreadyDone, AnotherMilestoneFunded, DomainError, InvalidState, InviteInvalid, OutOfOrder
from .states import FUNDED_STATES, ContractStatus, MilestoneStatus, Role

if TYPE_CHECKING:
    from .model import Contract, Milestone


class Action(StrEnum):
    """Everything a party can do to a contract or one of its milestones."""

    # milestone actions
    ACTIVATE = "activate"
    SUBMIT = "submit"
    APPROVE = "approve"
    REQUEST_CHANGES = "request_changes"
    REFUND = "refund"
    REQUEST_REFUND = "request_refund"
    ACCEPT_REFUND = "accept_refund"
    DECLINE_REFUND = "decline_refund"
    ACCEPT_PROPOSAL = "accept_proposal"
    REJECT_PROPOSAL = "reject_proposal"
    WITHDRAW_PROPOSAL = "withdraw_proposal"
    EDIT = "edit"
    DELETE = "delete"
    # contract actions
    ADD_MILESTONE = "add_milestone"
    KEEP_OPEN = "keep_open"
    END = "end"
    NEW_INVITE = "new_invite"


class Allowed(NamedTuple):
    """One thing a person may do now: the action, and the milestone it is about (None: the contract)."""

    action: Action
    milestone: Milestone | None


# A guard beyond role and state: returns the refusal (not raised), or None when the action may go ahead.
Guard = Callable[["Contract", "Milestone | None"], "DomainError | None"]

_ACTIVE = frozenset({ContractStatus.ACTIVE})


@dataclass(frozen=True)
class Rule:
    action: Action
    role: Role | None  # None: either party
    method: str  # the Contract method that performs it (its guard is `require`)
    states: frozenset[MilestoneStatus] | None = None  # milestone actions: the states it starts from
    already: frozenset[MilestoneStatus] = frozenset()  # states that mean "it already happened" (R13)
    done_word: str = ""  # "«X» is already released, so it can't be {done_word} now."
    guard: Guard | None = None
    contract_states: frozenset[ContractStatus] = _ACTIVE

    @property
    def on_milestone(self) -> bool:
        return self.states is not None


def _activation_order(c: Contract, ms: Milestone | None) -> DomainError | None:
    funded = c.funded_milestone()
    if funded is not None:  # R2
        return AnotherMilestoneFunded(f"Release «{funded.title}» before activating the next milestone.")
    nxt = c.next_to_activate()
    if nxt is not ms and nxt is not None:  # R1
        return OutOfOrder(f"Milestones are activated in the order they were created: activate «{nxt.title}» first.")
    return None


def _no_refund_request(c: Contract, ms: Milestone | None) -> DomainError | None:
    assert ms is not None
    if ms.refund_requested_at is not None:
        return InvalidState(f"The client asked for a refund of «{ms.title}»: accept or decline it.")
    return None


def _refund_not_requested_yet(c: Contract, ms: Milestone | None) -> DomainError | None:
    assert ms is not None
    if ms.refund_requested_at is not None:
        return AlreadyDone(f"A refund of «{ms.title}» is already requested.")
    return None


def _refund_requested(c: Contract, ms: Milestone | None) -> DomainError | None:
    assert ms is not None
    if ms.refund_requested_at is None:
        return InvalidState(f"The client has not requested a refund of «{ms.title}».")
    return None


def _nothing_funded(c: Contract, ms: Milestone | None) -> DomainError | None:
    funded = c.funded_milestone()
    if funded is not None:
        return InvalidState(f"«{funded.title}» is funded: release or refund it before ending the contract.")
    return None


def _close_decision_waiting(c: Contract, ms: Milestone | None) -> DomainError | None:
    if not c.awaiting_close_decision():
        return AlreadyDone("There is nothing to decide: the contract stays open.")
    return None


_S = MilestoneStatus
_R = frozenset

RULES: dict[Action, Rule] = {
    r.action: r
    for r in [
        Rule(
            Action.ACTIVATE,
            Role.CLIENT,
            "activate",
            _R({_S.NOT_FUNDED}),
            _R({_S.ACTIVE, _S.SUBMITTED, _S.RELEASED}),
            "activated",
            _activation_order,
        ),
        Rule(Action.SUBMIT, Role.FREELANCER, "submit", _R({_S.ACTIVE}), _R({_S.SUBMITTED, _S.RELEASED}), "submitted"),
        Rule(Action.APPROVE, Role.CLIENT, "approve", _R({_S.SUBMITTED}), _R({_S.RELEASED}), "approved"),
        Rule(Action.REQUEST_CHANGES, Role.CLIENT, "request_changes", _R({_S.SUBMITTED}), _R(), "sent back for changes"),
        Rule(
            Action.REFUND, Role.FREELANCER, "refund", FUNDED_STATES, _R({_S.REFUNDED}), "refunded", _no_refund_request
        ),
        Rule(
            Action.REQUEST_REFUND,
            Role.CLIENT,
            "request_refund",
            FUNDED_STATES,
            _R({_S.REFUNDED}),
            "refunded",
            _refund_not_requested_yet,
        ),
        Rule(
            Action.ACCEPT_REFUND,
            Role.FREELANCER,
            "accept_refund",
            FUNDED_STATES,
            _R({_S.REFUNDED}),
            "refunded",
            _refund_requested,
        ),
        Rule(
            Action.DECLINE_REFUND,
            Role.FREELANCER,
            "decline_refund",
            FUNDED_STATES,
            _R({_S.REFUNDED}),
            "refunded",
            _refund_requested,
        ),
        Rule(
            Action.ACCEPT_PROPOSAL, Role.CLIENT, "accept_proposal", _R({_S.PROPOSED}), _R({_S.NOT_FUNDED}), "accepted"
        ),
        Rule(Action.REJECT_PROPOSAL, Role.CLIENT, "reject_proposal", _R({_S.PROPOSED}), _R({_S.REJECTED}), "rejected"),
        Rule(
            Action.WITHDRAW_PROPOSAL,
            Role.FREELANCER,
            "withdraw_proposal",
            _R({_S.PROPOSED}),
            _R({_S.CANCELLED}),
            "withdrawn",
        ),
        Rule(Action.EDIT, Role.CLIENT, "edit_milestone", _R({_S.NOT_FUNDED}), _R(), "edited"),
        Rule(Action.DELETE, Role.CLIENT, "delete_milestone", _R({_S.NOT_FUNDED}), _R({_S.CANCELLED}), "deleted"),
        Rule(Action.ADD_MILESTONE, None, "add_milestone"),
        Rule(Action.KEEP_OPEN, Role.CLIENT, "keep_open", guard=_close_decision_waiting),
        Rule(Action.END, Role.CLIENT, "end", guard=_nothing_funded),
        Rule(Action.NEW_INVITE, None, "new_invite", contract_states=frozenset({ContractStatus.PENDING})),
    ]
}

MILESTONE_ACTIONS = tuple(a for a, r in RULES.items() if r.on_milestone)
CONTRACT_ACTIONS = tuple(a for a, r in RULES.items() if not r.on_milestone)

_STATE_PHRASE = {
    _S.PROPOSED: "is a proposal the client has not accepted yet",
    _S.NOT_FUNDED: "is not funded yet",
    _S.ACTIVE: "is funded and waiting for work",
    _S.SUBMITTED: "has work waiting for the client's review",
    _S.RELEASED: "is already released",
    _S.REFUNDED: "was refunded",
    _S.REJECTED: "was rejected",
    _S.CANCELLED: "was deleted",
    _S.CANCELLED_AT_END: "was cancelled when the contract ended",
}


def state_refusal(rule: Rule, ms: Milestone) -> DomainError | None:
    """R4 and R13: the milestone's state allows the action, or it already happened, or it can't now."""
    assert rule.states is not None
    if ms.status in rule.states:
        return None
    phrase = _STATE_PHRASE[ms.status]
    if ms.status in rule.already:
        return AlreadyDone(f"«{ms.title}» {phrase}.")
    return InvalidState(f"«{ms.title}» {phrase}, so it can't be {rule.done_word} now.")


def contract_state_refusal(rule: Rule, c: Contract) -> DomainError | None:
    if c.status in rule.contract_states:
        return None
    if rule.action is Action.NEW_INVITE:
        return InviteInvalid("This contract already has both parties.")
    return c.closed_refusal()
