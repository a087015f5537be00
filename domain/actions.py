"""The one table of actions: who may do each one, from which states, and what counts as already done."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from .errors import (
    N_,
    AlreadyDone,
    AnotherMilestoneFunded,
    DomainError,
    InvalidState,
    InviteInvalid,
    OutOfOrder,
    Term,
)
from .states import FUNDED_STATES, ContractStatus, MilestoneStatus, PaymentMode, Role, role_word

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
    # disagreements (PRODUCT §8)
    PAY_LESS = "pay_less"
    APPROVE_WITH_BONUS = "approve_with_bonus"
    PROPOSE_DUE_DATE = "propose_due_date"
    ACCEPT_DUE_DATE = "accept_due_date"
    DECLINE_DUE_DATE = "decline_due_date"
    OPEN_DISPUTE = "open_dispute"
    OFFER_SETTLEMENT = "offer_settlement"
    COUNTER_OFFER = "counter_offer"
    ACCEPT_OFFER = "accept_offer"
    DECIDE_DISPUTE = "decide_dispute"  # an operator's, not a party's
    # ledger mode: the freelancer says whether the client's payment for a release arrived
    CONFIRM_PAYMENT = "confirm_payment"
    PAYMENT_NOT_RECEIVED = "payment_not_received"
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
# A guard that also depends on who asks (e.g. only the other party answers a proposed date).
RoleGuard = Callable[["Contract", "Milestone", Role], "DomainError | None"]

_ACTIVE = frozenset({ContractStatus.ACTIVE})


@dataclass(frozen=True)
class Rule:
    action: Action
    role: Role | None  # None: either party
    method: str  # the Contract method that performs it (its guard is `require`)
    states: frozenset[MilestoneStatus] | None = None  # milestone actions: the states it starts from
    already: frozenset[MilestoneStatus] = frozenset()  # states that mean "it already happened" (R13)
    # Why the action can't happen from another state, a Term: "«X» was refunded, {cannot}." (R4).
    cannot: str = ""
    guard: Guard | None = None
    contract_states: frozenset[ContractStatus] = _ACTIVE
    role_guard: RoleGuard | None = None
    in_dispute: bool = False  # may it happen while the milestone is in dispute (everything else waits)
    operator: bool = False  # done by an operator (Settings.operators), never by a party
    # Whose it is for a milestone the client never accepted (no place in the order, R5): its proposer's,
    # the freelancer's, instead of `role` (R4: a proposal is edited by the party who proposed it).
    proposal_role: Role | None = None

    @property
    def on_milestone(self) -> bool:
        return self.states is not None

    def role_for(self, ms: Milestone | None) -> Role | None:
        """Whose action it is (None: either party's), for `ms` (None: the contract)."""
        if self.proposal_role is not None and ms is not None and ms.seq is None:
            return self.proposal_role
        return self.role


def _activation_order(c: Contract, ms: Milestone | None) -> DomainError | None:
    funded = c.funded_milestone()
    if funded is not None:  # R2
        return AnotherMilestoneFunded(N_("Release «{title}» before activating the next milestone."), title=funded.title)
    nxt = c.next_to_activate()
    if nxt is not ms and nxt is not None:  # R1
        return OutOfOrder(
            N_("Milestones are activated in the order they were created: activate «{title}» first."), title=nxt.title
        )
    return None


def _no_refund_request(c: Contract, ms: Milestone | None) -> DomainError | None:
    assert ms is not None
    if ms.refund_requested_at is not None:
        return InvalidState(N_("The client asked for a refund of «{title}»: accept or decline it."), title=ms.title)
    return None


def _refund_not_requested_yet(c: Contract, ms: Milestone | None) -> DomainError | None:
    assert ms is not None
    if ms.refund_requested_at is not None:
        return AlreadyDone(N_("A refund of «{title}» is already requested."), title=ms.title)
    return None


def _refund_requested(c: Contract, ms: Milestone | None) -> DomainError | None:
    assert ms is not None
    if ms.refund_requested_at is None:
        return InvalidState(N_("The client has not requested a refund of «{title}»."), title=ms.title)
    return None


def _nothing_funded(c: Contract, ms: Milestone | None) -> DomainError | None:
    funded = c.funded_milestone()
    if funded is not None:
        return InvalidState(
            N_("«{title}» is funded: release or refund it before ending the contract."), title=funded.title
        )
    return None


def _close_decision_waiting(c: Contract, ms: Milestone | None) -> DomainError | None:
    if not c.awaiting_close_decision():
        return AlreadyDone(N_("There is nothing to decide: the contract stays open."))
    return None


def _payment_unconfirmed(c: Contract, ms: Milestone | None) -> DomainError | None:
    """Ledger mode: the client pays the freelancer directly, so only the freelancer can say it arrived."""
    assert ms is not None
    if c.payments is not PaymentMode.LEDGER:
        return InvalidState(
            N_("The payment for «{title}» is handled by the escrow agent, not between you."), title=ms.title
        )
    if ms.payment_confirmed_at is not None:
        return AlreadyDone(N_("You already confirmed the payment for «{title}»."), title=ms.title)
    return None


def _payment_not_flagged(c: Contract, ms: Milestone | None) -> DomainError | None:
    refused = _payment_unconfirmed(c, ms)
    if refused is not None:
        return refused
    assert ms is not None
    if ms.payment_flagged_at is not None:
        return AlreadyDone(N_("The payment for «{title}» is already flagged as not received."), title=ms.title)
    return None


def _no_dispute(c: Contract, ms: Milestone | None) -> DomainError | None:
    assert ms is not None
    if ms.in_dispute:
        return AlreadyDone(N_("«{title}» is already in dispute."), title=ms.title)
    return None


def _can_pay_less(c: Contract, ms: Milestone | None) -> DomainError | None:
    assert ms is not None
    if ms.amount < 2:  # nothing lies between none and all of it
        return InvalidState(N_("«{title}» is too small to release less of it."), title=ms.title)
    return None


def _no_due_change_waiting(c: Contract, ms: Milestone | None) -> DomainError | None:
    assert ms is not None
    if ms.due_change_to is not None:
        return InvalidState(
            N_("A new due date for «{title}» is already proposed: it waits for an answer."), title=ms.title
        )
    return None


def _due_change_for_you(c: Contract, ms: Milestone, role: Role) -> DomainError | None:
    if ms.due_change_to is None:
        return InvalidState(N_("No new due date is proposed for «{title}»."), title=ms.title)
    if c.role_of(ms.due_change_by) is role:
        return InvalidState(
            N_("You proposed the new due date of «{title}»: the {role} answers it."),
            title=ms.title,
            role=role_word(role.other),
        )
    return None


def _dispute_talks(c: Contract, ms: Milestone | None) -> DomainError | None:
    """Offers go back and forth while the dispute is open and not yet with the operators."""
    assert ms is not None
    if not ms.in_dispute:
        return InvalidState(N_("«{title}» is not in dispute."), title=ms.title)
    if ms.dispute_escalated_at is not None:
        return InvalidState(
            N_("The dispute about «{title}» is with the operators now: they decide the split."), title=ms.title
        )
    return None


def _offer_for_you(c: Contract, ms: Milestone, role: Role) -> DomainError | None:
    if ms.offer_of(role.other) is None:
        return InvalidState(
            N_("The {role} has made no offer for «{title}» yet."), role=role_word(role.other), title=ms.title
        )
    return None


def _no_offer_for_you(c: Contract, ms: Milestone, role: Role) -> DomainError | None:
    if ms.offer_of(role.other) is not None:
        return InvalidState(
            N_("The {role} made an offer for «{title}»: accept it or counter it."),
            role=role_word(role.other),
            title=ms.title,
        )
    return None


def _escalated(c: Contract, ms: Milestone | None) -> DomainError | None:
    assert ms is not None
    if not ms.in_dispute:
        return InvalidState(N_("«{title}» is not in dispute."), title=ms.title)
    if ms.dispute_escalated_at is None:
        return InvalidState(N_("The dispute about «{title}» is not with the operators."), title=ms.title)
    return None


_S = MilestoneStatus
_R = frozenset
# Confirming a payment is about money that already changed hands: it stays possible after the end.
_ACTIVE_OR_ENDED = frozenset({ContractStatus.ACTIVE, ContractStatus.ENDED})

RULES: dict[Action, Rule] = {
    r.action: r
    for r in [
        Rule(
            Action.ACTIVATE,
            Role.CLIENT,
            "activate",
            _R({_S.NOT_FUNDED}),
            _R({_S.ACTIVE, _S.SUBMITTED, _S.RELEASED}),
            Term("so it can't be activated now"),
            _activation_order,
        ),
        Rule(
            Action.SUBMIT,
            Role.FREELANCER,
            "submit",
            _R({_S.ACTIVE}),
            _R({_S.SUBMITTED, _S.RELEASED}),
            Term("so it can't be submitted now"),
        ),
        Rule(
            Action.APPROVE,
            Role.CLIENT,
            "approve",
            _R({_S.SUBMITTED}),
            _R({_S.RELEASED}),
            Term("so it can't be approved now"),
        ),
        Rule(
            Action.REQUEST_CHANGES,
            Role.CLIENT,
            "request_changes",
            _R({_S.SUBMITTED}),
            _R(),
            Term("so it can't be sent back for changes now"),
        ),
        Rule(
            Action.REFUND,
            Role.FREELANCER,
            "refund",
            FUNDED_STATES,
            _R({_S.REFUNDED}),
            Term("so it can't be refunded now"),
            _no_refund_request,
        ),
        Rule(
            Action.REQUEST_REFUND,
            Role.CLIENT,
            "request_refund",
            FUNDED_STATES,
            _R({_S.REFUNDED}),
            Term("so it can't be refunded now"),
            _refund_not_requested_yet,
        ),
        Rule(
            Action.ACCEPT_REFUND,
            Role.FREELANCER,
            "accept_refund",
            FUNDED_STATES,
            _R({_S.REFUNDED}),
            Term("so it can't be refunded now"),
            _refund_requested,
        ),
        Rule(
            Action.DECLINE_REFUND,
            Role.FREELANCER,
            "decline_refund",
            FUNDED_STATES,
            _R({_S.REFUNDED}),
            Term("so it can't be refunded now"),
            _refund_requested,
        ),
        Rule(
            Action.ACCEPT_PROPOSAL,
            Role.CLIENT,
            "accept_proposal",
            _R({_S.PROPOSED}),
            _R({_S.NOT_FUNDED}),
            Term("so it can't be accepted now"),
        ),
        Rule(
            Action.REJECT_PROPOSAL,
            Role.CLIENT,
            "reject_proposal",
            _R({_S.PROPOSED}),
            _R({_S.REJECTED}),
            Term("so it can't be rejected now"),
        ),
        Rule(
            Action.WITHDRAW_PROPOSAL,
            Role.FREELANCER,
            "withdraw_proposal",
            _R({_S.PROPOSED}),
            _R({_S.CANCELLED}),
            Term("so it can't be withdrawn now"),
        ),
        Rule(
            Action.EDIT,
            Role.CLIENT,
            "edit_milestone",
            _R({_S.NOT_FUNDED, _S.PROPOSED}),  # R4; a proposal by its proposer (deleted: withdrawn)
            _R(),
            Term("so it can't be edited now"),
            proposal_role=Role.FREELANCER,
        ),
        Rule(
            Action.DELETE,
            Role.CLIENT,
            "delete_milestone",
            _R({_S.NOT_FUNDED}),
            _R({_S.CANCELLED}),
            Term("so it can't be deleted now"),
        ),
        Rule(
            Action.CONFIRM_PAYMENT,
            Role.FREELANCER,
            "confirm_payment",
            _R({_S.RELEASED}),
            _R(),
            Term("so it can't be confirmed as paid now"),
            _payment_unconfirmed,
            _ACTIVE_OR_ENDED,
        ),
        Rule(
            Action.PAYMENT_NOT_RECEIVED,
            Role.FREELANCER,
            "payment_not_received",
            _R({_S.RELEASED}),
            _R(),
            Term("so it can't be flagged as not paid now"),
            _payment_not_flagged,
            _ACTIVE_OR_ENDED,
        ),
        Rule(
            Action.PAY_LESS,
            Role.CLIENT,
            "pay_less",
            _R({_S.SUBMITTED}),
            _R({_S.RELEASED}),
            Term("so it can't be approved now"),
            _can_pay_less,
        ),
        Rule(
            Action.APPROVE_WITH_BONUS,
            Role.CLIENT,
            "approve_with_bonus",
            _R({_S.SUBMITTED}),
            _R({_S.RELEASED}),
            Term("so it can't be approved now"),
        ),
        Rule(
            Action.PROPOSE_DUE_DATE,
            None,
            "propose_due_change",
            _R({_S.ACTIVE}),
            _R(),
            Term("so it can't be given a new due date now"),
            _no_due_change_waiting,
        ),
        Rule(
            Action.ACCEPT_DUE_DATE,
            None,
            "accept_due_change",
            _R({_S.ACTIVE}),
            _R(),
            Term("so it can't be given a new due date now"),
            role_guard=_due_change_for_you,
        ),
        Rule(
            Action.DECLINE_DUE_DATE,
            None,
            "decline_due_change",
            _R({_S.ACTIVE}),
            _R(),
            Term("so it can't be given a new due date now"),
            role_guard=_due_change_for_you,
        ),
        Rule(
            Action.OPEN_DISPUTE,
            None,
            "open_dispute",
            FUNDED_STATES,
            _R({_S.RELEASED, _S.REFUNDED}),
            Term("so it can't be disputed now"),
            _no_dispute,
            in_dispute=True,
        ),
        Rule(
            Action.OFFER_SETTLEMENT,
            None,
            "offer_settlement",
            FUNDED_STATES,
            _R({_S.RELEASED, _S.REFUNDED}),
            Term("so it can't be settled now"),
            _dispute_talks,
            role_guard=_no_offer_for_you,
            in_dispute=True,
        ),
        Rule(
            Action.COUNTER_OFFER,
            None,
            "counter_offer",
            FUNDED_STATES,
            _R({_S.RELEASED, _S.REFUNDED}),
            Term("so it can't be settled now"),
            _dispute_talks,
            role_guard=_offer_for_you,
            in_dispute=True,
        ),
        Rule(
            Action.ACCEPT_OFFER,
            None,
            "accept_offer",
            FUNDED_STATES,
            _R({_S.RELEASED, _S.REFUNDED}),
            Term("so it can't be settled now"),
            _dispute_talks,
            role_guard=_offer_for_you,
            in_dispute=True,
        ),
        Rule(
            Action.DECIDE_DISPUTE,
            None,
            "decide_dispute",
            FUNDED_STATES,
            _R({_S.RELEASED, _S.REFUNDED}),
            Term("so it can't be settled now"),
            _escalated,
            in_dispute=True,
            operator=True,
        ),
        Rule(Action.ADD_MILESTONE, None, "add_milestone"),
        Rule(Action.KEEP_OPEN, Role.CLIENT, "keep_open", guard=_close_decision_waiting),
        Rule(Action.END, Role.CLIENT, "end", guard=_nothing_funded),
        Rule(Action.NEW_INVITE, None, "new_invite", contract_states=frozenset({ContractStatus.PENDING})),
    ]
}

MILESTONE_ACTIONS = tuple(a for a, r in RULES.items() if r.on_milestone and not r.operator)
CONTRACT_ACTIONS = tuple(a for a, r in RULES.items() if not r.on_milestone)

# R13: what the milestone's state says when the action already happened, and (R4) when it can't happen
# now ({cannot}: the rule's own clause, "so it can't be approved now": a whole clause, not a bare verb).
_ALREADY = {
    _S.PROPOSED: N_("«{title}» is a proposal the client has not accepted yet."),
    _S.NOT_FUNDED: N_("«{title}» is not funded yet."),
    _S.ACTIVE: N_("«{title}» is funded and waiting for work."),
    _S.SUBMITTED: N_("«{title}» has work waiting for the client's review."),
    _S.RELEASED: N_("«{title}» is already released."),
    _S.REFUNDED: N_("«{title}» was refunded."),
    _S.REJECTED: N_("«{title}» was rejected."),
    _S.CANCELLED: N_("«{title}» was deleted."),
    _S.CANCELLED_AT_END: N_("«{title}» was cancelled when the contract ended."),
}
_CANT = {
    _S.PROPOSED: N_("«{title}» is a proposal the client has not accepted yet, {cannot}."),
    _S.NOT_FUNDED: N_("«{title}» is not funded yet, {cannot}."),
    _S.ACTIVE: N_("«{title}» is funded and waiting for work, {cannot}."),
    _S.SUBMITTED: N_("«{title}» has work waiting for the client's review, {cannot}."),
    _S.RELEASED: N_("«{title}» is already released, {cannot}."),
    _S.REFUNDED: N_("«{title}» was refunded, {cannot}."),
    _S.REJECTED: N_("«{title}» was rejected, {cannot}."),
    _S.CANCELLED: N_("«{title}» was deleted, {cannot}."),
    _S.CANCELLED_AT_END: N_("«{title}» was cancelled when the contract ended, {cannot}."),
}


def state_refusal(rule: Rule, ms: Milestone) -> DomainError | None:
    """R4 and R13: the milestone's state allows the action, or it already happened, or it can't now."""
    assert rule.states is not None
    if ms.status in rule.states:
        return None
    if ms.status in rule.already:
        return AlreadyDone(_ALREADY[ms.status], title=ms.title)
    return InvalidState(_CANT[ms.status], title=ms.title, cannot=Term(rule.cannot))


def contract_state_refusal(rule: Rule, c: Contract) -> DomainError | None:
    if c.status in rule.contract_states:
        return None
    if rule.action is Action.NEW_INVITE:
        return InviteInvalid(N_("This contract already has both parties."))
    return c.closed_refusal()
