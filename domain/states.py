"""The words of the state machine: roles, contract and milestone states, ledger kinds."""

from __future__ import annotations

from enum import StrEnum

from .errors import Term


class Role(StrEnum):
    CLIENT = "client"
    FREELANCER = "freelancer"

    @property
    def other(self) -> Role:
        return Role.FREELANCER if self is Role.CLIENT else Role.CLIENT


def role_word(role: Role) -> Term:
    """The role as a word of ours inside a refusal ("Only the client of …"): translated with it."""
    return Term("client") if role is Role.CLIENT else Term("freelancer")


class ContractStatus(StrEnum):
    PENDING = "pending"  # waiting for the invited party
    ACTIVE = "active"
    ENDED = "ended"
    DECLINED = "declined"


class MilestoneStatus(StrEnum):
    PROPOSED = "proposed"
    NOT_FUNDED = "not_funded"
    ACTIVE = "active"
    SUBMITTED = "submitted"
    RELEASED = "released"
    REFUNDED = "refunded"
    REJECTED = "rejected"
    CANCELLED = "cancelled"  # deleted by the client (not funded) or withdrawn by the freelancer (proposed)
    CANCELLED_AT_END = "cancelled_at_end"  # not funded when the client ended the contract (R9): stays listed


class LedgerKind(StrEnum):
    FUND = "fund"
    RELEASE = "release"
    REFUND = "refund"
    # Money the escrow agent moved (telegram mode): a release paid out to the freelancer, a refund (or an
    # unapplied payment) paid back to the client, each with its reference.
    PAYOUT = "payout"
    REFUND_PAID = "refund_paid"
    # A payment Telegram took that could not fund its milestone (contract ended, already funded): owed back.
    UNAPPLIED = "unapplied"
    # A bonus paid on top of a release (PRODUCT §8), outside escrow: not in funded = released + refunded + held.
    BONUS = "bonus"


class PaymentMode(StrEnum):
    """How money moves (PRODUCT §7), fixed per contract when it is created."""

    LEDGER = "ledger"  # the bot records; the parties pay each other directly
    TELEGRAM = "telegram"  # funding through Telegram Payments; the bot's owner holds it as escrow agent


FUNDED_STATES = frozenset({MilestoneStatus.ACTIVE, MilestoneStatus.SUBMITTED})
UNFUNDED_STATES = frozenset({MilestoneStatus.PROPOSED, MilestoneStatus.NOT_FUNDED})
