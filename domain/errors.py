"""Domain refusals: each carries the sentence the user sees."""

from __future__ import annotations

# One answer whether a contract or milestone is missing or someone else's: ids can't be probed.
NOT_YOURS = "Only the client and the freelancer of this contract can see or use it."


class DomainError(Exception):
    """A rule refused the action; `reason` is shown to the user as is."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotFound(DomainError):
    pass


class NotAllowed(DomainError):
    """R3: the actor's role may not do this (or the actor is not a party)."""


class OutOfOrder(DomainError):
    """R1: an earlier unfunded milestone must be activated first."""


class AnotherMilestoneFunded(DomainError):
    """R2: the previously funded milestone must be released or refunded first."""


class InvalidState(DomainError):
    """R4: the milestone is not in a state that allows this action."""


class AlreadyDone(InvalidState):
    """R13: the same transition already happened (double tap, second process)."""


class ContractClosed(DomainError):
    """R9: an ended (or declined) contract accepts no actions."""


class InvalidInput(DomainError, ValueError):
    """R10-R12: an amount, date or text outside the allowed range, or typed input that can't be read."""


class InviteInvalid(DomainError):
    pass


class ConcurrentUpdate(Exception):
    """Storage saw the contract change under us; the service retries on fresh state."""
