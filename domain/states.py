"""The words of the state machine: roles, contract and milestone states, ledger kinds."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CLIENT = "client"
    FREELANCER = "freelancer"

    @property
    def other(self) -> Role:
        return Role.FREELANCER if self is Role.CLIENT else Role.CLIENT


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


FUNDED_STATES = frozenset({MilestoneStatus.ACTIVE, MilestoneStatus.SUBMITTED})
UNFUNDED_STATES = frozenset({MilestoneStatus.PROPOSED, MilestoneStatus.NOT_FUNDED})
