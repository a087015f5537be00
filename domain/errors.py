"""Domain refusals: each carries the sentence the user sees, as a message id and its parameters.

The domain stays pure: it says the English sentence (the catalog's msgid, marked with `N_` so
`pybabel extract` finds it) and the values to put in it; the bot translates the sentence into the
reader's language and fills it in (bot/i18n.py `why`). `reason` is the English sentence filled in,
for logs and tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias


def N_(message: str) -> str:
    """Marks a message id for the catalog; translated where it is shown (bot/i18n.py)."""
    return message


class Term(str):
    """A word of ours inside a refusal ("title", "client"): translated with the sentence. A plain str
    parameter is the user's own text (a title, a name) and is left as it is."""

    __slots__ = ()


class Amount(str):
    """Money inside a sentence of ours (a refusal, a history note). Its text is the English one, as always
    ($1,500.00: domain.money.format_money), so the English sentence and a comparison with that text are
    unchanged; the bot writes it in the reader's locale (bot/i18n.py). `plain`: the number as a person
    types it, without the currency (1,250.50: an example of what to send)."""

    minor: int
    currency: str
    plain: bool

    def __new__(cls, minor: int, currency: str, plain: bool = False) -> Amount:
        from .money import format_amount_plain, format_money  # domain.money imports this module

        text = format_amount_plain(minor, currency) if plain else format_money(minor, currency)
        self = super().__new__(cls, text)
        self.minor, self.currency, self.plain = minor, currency, plain
        return self

    def __getnewargs__(self) -> tuple[int, str, bool]:  # type: ignore[override]  # copy and pickle
        return self.minor, self.currency, self.plain

    def __repr__(self) -> str:
        return f"Amount({self.minor!r}, {self.currency!r}, plain={self.plain!r})"  # i18n: ok (a repr)


class Number(int):
    """A count or a limit inside a sentence of ours ("at most {max} characters"). Its text is the English
    one, grouped as "{:,}" groups it (2,000), so the English sentence is unchanged; the bot writes it
    grouped as the reader's language groups numbers (2.000 in Spanish, 2 000 in Russian: bot/i18n.py).
    It stays an int: equal to the number, and arithmetic gives plain ints."""

    __slots__ = ()

    def __str__(self) -> str:
        return f"{int(self):,}"

    def __format__(self, spec: str) -> str:
        return format(int(self), spec or ",")  # "{max}" (and the older "{max:,}"): 1,000,000

    def __repr__(self) -> str:
        return f"Number({int(self)!r})"  # i18n: ok (a repr)


@dataclass(frozen=True)
class Day:
    """A calendar date inside a sentence of ours: ISO in English (2026-12-01), the reader's own date
    format in another language."""

    iso: str

    def __str__(self) -> str:
        return self.iso

    def __format__(self, spec: str) -> str:
        return format(self.iso, spec)


@dataclass(frozen=True)
class Words:
    """Words of ours listed in a sentence ("title, amount"): each translated, listed as the reader's
    language lists things."""

    items: tuple[str, ...]

    def __str__(self) -> str:
        return ", ".join(self.items)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


# A sentence the domain composed (a history note): its message id and parameters (str: a person's own
# text, kept; Term, Words, Amount, Day: ours, put in the reader's language). English: msgid.format(**params).
Said: TypeAlias = tuple[str, dict[str, Any]]


def english(said: Said) -> str:
    """The sentence in English, filled in (what a history note stores as its text)."""
    msgid, params = said
    return msgid.format(**params) if params else msgid


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
