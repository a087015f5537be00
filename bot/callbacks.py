"""The one codec for callback_data: typed presses in, compact strings (<= 64 bytes) out; never trusted."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import ClassVar

from domain.actions import RULES, Action

from .actions import ACTIONS

MAX_BYTES = 64  # Telegram's limit for callback_data

# Stable codes: buttons already in people's chats keep working after an upgrade.
_CODE = {action: view.code for action, view in ACTIONS.items()}
_ACTION = {code: action for action, code in _CODE.items()}
assert len(_ACTION) == len(_CODE), "two actions share a callback code"  # i18n: ok
assert not any(code + "y" in _ACTION for code in _ACTION), "a code clashes with another's confirmed form"  # i18n: ok

_ID = r"(\d{1,9})"  # database ids fit the 32-bit id columns (a longer forged one would crash the query)
_PAGE = r"(\d{1,4})"


class CallbackTooLong(ValueError):
    pass


def _checked(data: str) -> str:
    if len(data.encode()) > MAX_BYTES:
        raise CallbackTooLong(f"callback_data over {MAX_BYTES} bytes: {data!r}")
    return data


@dataclass(frozen=True)
class Press:
    """An action from the table: on a milestone ("m:apr:42") or on the contract ("c:end:7").
    `confirmed`: the second tap of an action that asks first ("c:endy:7")."""

    action: Action
    target: int
    confirmed: bool = False

    def encode(self) -> str:
        scope = "m" if RULES[self.action].on_milestone else "c"
        return _checked(f"{scope}:{_CODE[self.action]}{'y' if self.confirmed else ''}:{self.target}")


class _Fixed:
    """A callback whose string is its FORMAT filled with its fields."""

    FORMAT: ClassVar[str]

    def encode(self) -> str:
        return _checked(self.FORMAT.format(**{f.name: getattr(self, f.name) for f in fields(self)}))  # type: ignore[arg-type]


@dataclass(frozen=True)
class View(_Fixed):
    """Open (or refresh) a contract's card at a page."""

    FORMAT: ClassVar[str] = "c:view:{contract_id}:{page}"
    contract_id: int
    page: int = 0


@dataclass(frozen=True)
class Refresh(_Fixed):
    """The card's own Refresh: as View, and it marks the message as the contract's card (one live card
    per chat: bot/turn.py reads it from the keyboard of what is sent)."""

    FORMAT: ClassVar[str] = "c:rf:{contract_id}:{page}"
    contract_id: int
    page: int = 0


@dataclass(frozen=True)
class OpenCard(_Fixed):
    """Open a contract's card as a new message (from news or a reminder, whose text stays as it was)."""

    FORMAT: ClassVar[str] = "c:open:{contract_id}"
    contract_id: int


@dataclass(frozen=True)
class History(_Fixed):
    FORMAT: ClassVar[str] = "c:hist:{contract_id}:{page}"
    contract_id: int
    page: int = 0


@dataclass(frozen=True)
class DetailsList(_Fixed):
    """The card's Details: which milestone of the card's page (skipped when the page shows one)."""

    FORMAT: ClassVar[str] = "md:l:{contract_id}:{page}"
    contract_id: int
    page: int = 0  # the card's page


@dataclass(frozen=True)
class Details(_Fixed):
    """One milestone's details at a page (long notes and many revisions take more than one message)."""

    FORMAT: ClassVar[str] = "md:{milestone_id}:{page}"
    milestone_id: int
    page: int = 0


@dataclass(frozen=True)
class SendFile(_Fixed):
    """Send again a file submitted with a milestone (by its row id; the press is checked like any other)."""

    FORMAT: ClassVar[str] = "fl:{file_id}"
    file_id: int


@dataclass(frozen=True)
class ContractList(_Fixed):
    FORMAT: ClassVar[str] = "c:list:{page}"
    page: int = 0


@dataclass(frozen=True)
class NewContract(_Fixed):
    FORMAT: ClassVar[str] = "c:new"


@dataclass(frozen=True)
class InviteAnswer:
    accept: bool
    token: str

    def encode(self) -> str:
        return _checked(f"inv:{'y' if self.accept else 'n'}:{self.token}")


@dataclass(frozen=True)
class LinkGroup(_Fixed):
    FORMAT: ClassVar[str] = "lnk:set:{contract_id}"
    contract_id: int


@dataclass(frozen=True)
class PickerPage(_Fixed):
    FORMAT: ClassVar[str] = "pg:{purpose}:{page}"
    purpose: str  # view, link, add
    page: int


@dataclass(frozen=True)
class Pick(_Fixed):
    """A contract chosen for a new milestone."""

    FORMAT: ClassVar[str] = "pick:{contract_id}"
    contract_id: int


@dataclass(frozen=True)
class Choice(_Fixed):
    """A button inside a conversation: a currency, a side, a field, a zone, or a step such as Save."""

    KINDS: ClassVar[dict[str, str]] = {
        "cur": r"[A-Z]{3}",
        "role": r"client|freelancer",
        "tz": r"[A-Za-z0-9_/+:-]{1,60}",
        "nc": r"create|cancel",
        "am": r"skip|save|edit|cancel|f:(?:title|amount|due|description)",
        "sub": r"skip",
        "dg": r"ok|skip|cancel",  # a disagreement flow's confirm, skip (no note) and cancel
        "st": r"tz|quiet|done|payout|lang|back",
        "lang": r"auto|[a-z]{2,3}(?:_[A-Z]{2})?",  # /settings: a language (bot/i18n.py LANGUAGES) or Telegram's
    }
    FORMAT: ClassVar[str] = "{kind}:{value}"
    kind: str
    value: str


Callback = (
    Press
    | View
    | Refresh
    | OpenCard
    | History
    | DetailsList
    | Details
    | SendFile
    | ContractList
    | NewContract
    | InviteAnswer
    | LinkGroup
    | PickerPage
    | Pick
    | Choice
)


def _press(m: re.Match[str]) -> Press | None:
    scope, code, ident = m.group(1), m.group(2), int(m.group(3))
    confirmed = False
    action = _ACTION.get(code)
    if action is None and code.endswith("y"):
        action, confirmed = _ACTION.get(code[:-1]), True
    if action is None or RULES[action].on_milestone != (scope == "m"):
        return None
    return Press(action, ident, confirmed)


_ROUTES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Callback | None]]] = [
    (re.compile(rf"c:view:{_ID}(?::{_PAGE})?"), lambda m: View(int(m.group(1)), int(m.group(2) or 0))),
    (re.compile(rf"c:open:{_ID}"), lambda m: OpenCard(int(m.group(1)))),
    (re.compile(rf"c:rf:{_ID}:{_PAGE}"), lambda m: Refresh(int(m.group(1)), int(m.group(2)))),
    (re.compile(rf"c:hist:{_ID}(?::{_PAGE})?"), lambda m: History(int(m.group(1)), int(m.group(2) or 0))),
    (re.compile(rf"md:l:{_ID}:{_PAGE}"), lambda m: DetailsList(int(m.group(1)), int(m.group(2)))),
    (re.compile(rf"md:{_ID}:{_PAGE}"), lambda m: Details(int(m.group(1)), int(m.group(2)))),
    (re.compile(rf"fl:{_ID}"), lambda m: SendFile(int(m.group(1)))),
    (re.compile(rf"c:list(?::{_PAGE})?"), lambda m: ContractList(int(m.group(1) or 0))),
    (re.compile(r"c:new"), lambda m: NewContract()),
    (re.compile(rf"(m|c):([a-z]{{1,8}}):{_ID}"), _press),
    (re.compile(r"inv:(y|n):([A-Za-z0-9_-]{1,40})"), lambda m: InviteAnswer(m.group(1) == "y", m.group(2))),
    (re.compile(rf"lnk:set:{_ID}"), lambda m: LinkGroup(int(m.group(1)))),
    (re.compile(rf"pg:(view|link|add):{_PAGE}"), lambda m: PickerPage(m.group(1), int(m.group(2)))),
    (re.compile(rf"pick:{_ID}"), lambda m: Pick(int(m.group(1)))),
    (
        re.compile("(" + "|".join(Choice.KINDS) + r"):(.{1,60})"),
        lambda m: Choice(m.group(1), m.group(2)) if re.fullmatch(Choice.KINDS[m.group(1)], m.group(2)) else None,
    ),
]


def decode(data: object) -> Callback | None:
    """The typed press, or None for anything malformed (refused before it reaches a service)."""
    if not isinstance(data, str) or len(data.encode()) > MAX_BYTES or not data.isascii():
        return None
    for pattern, build in _ROUTES:
        m = pattern.fullmatch(data)
        if m:
            return build(m)
    return None


def presses(*actions: Action) -> Callable[[object], bool]:
    """A CallbackQueryHandler pattern: a press of one of these actions."""
    wanted = frozenset(actions)

    def match(data: object) -> bool:
        cb = decode(data)
        return isinstance(cb, Press) and cb.action in wanted

    return match


def is_a(kind: type, **fields: object) -> Callable[[object], bool]:
    """A CallbackQueryHandler pattern: a callback of this type (with these field values)."""

    def match(data: object) -> bool:
        cb = decode(data)
        return isinstance(cb, kind) and all(getattr(cb, k) == v for k, v in fields.items())

    return match


def choice(kind: str, value: str | None = None, prefix: str | None = None) -> Callable[[object], bool]:
    """A CallbackQueryHandler pattern for a conversation button."""

    def match(data: object) -> bool:
        cb = decode(data)
        return (
            isinstance(cb, Choice)
            and cb.kind == kind
            and (value is None or cb.value == value)
            and (prefix is None or cb.value.startswith(prefix))
        )

    return match


def card_digest(text: str, markup: object) -> str:
    """What a card shows, as a short digest (text and buttons): an edit to the same is skipped."""
    if isinstance(markup, str):
        markup = json.loads(markup)
    elif markup is not None and not isinstance(markup, dict):
        markup = markup.to_dict()  # type: ignore[attr-defined]
    return hashlib.sha1(f"{text}\n{json.dumps(markup, sort_keys=True)}".encode()).hexdigest()


def card_of(markup: object) -> int | None:
    """The contract whose card this keyboard is (its Refresh button), if it is a card's: an
    InlineKeyboardMarkup or its JSON form (`{"inline_keyboard": [[{"callback_data": ...}]]}`)."""
    if markup is None:
        return None
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else getattr(markup, "inline_keyboard", ())
    for row in rows:
        for button in row:
            data = button.get("callback_data") if isinstance(button, dict) else getattr(button, "callback_data", None)
            if isinstance(data, str) and data.startswith("c:rf:"):
                cb = decode(data)
                if isinstance(cb, Refresh):
                    return cb.contract_id
    return None
