"""Domain refusals: each carries the sentence the user sees, as a message id and its parameters.

The domain stays pure: it says the English sentence (the catalog's msgid, marked with `N_` so
`pybabel extract` finds it) and the values to put in it; the bot translates the sentence into the
reader's language and fills it in (bot/i18n.py `why`). `reason` is the English sentence filled in,
for logs and tests."""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Marks a message id for the catalog; translated where it is shown (bot/i18n.py)."""
    return message


class Term(str):
    """A word of ours inside a refusal ("title", "client"): translated with the sentence. A plain str
    parameter is the user's own text (a title, a name) and is left as it is."""

    __slots__ = ()


# One answer whether a contract or milestone is missing or someone else's: ids can't be probed.
NOT_YOURS = N_("Only the client and the freelancer of this contract can see or use it.")


class DomainError(Exception):
    """A rule refused the action; `reason` is shown to the user as is."""

    def __init__(self, reason: str, **params: Any) -> None:
        self.msgid = reason
        self.params = params
        self.reason = reason.format(**params) if params else reason
        super().__init__(self.reason)


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
