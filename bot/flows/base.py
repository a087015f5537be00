"""What every flow shares: its states, the typed draft kept between steps, asking, cancelling."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date
from enum import StrEnum
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes, ConversationHandler, filters

from domain.actions import RULES
from domain.errors import DomainError
from domain.model import Contract

from ..callbacks import Press, decode
from ..common import deps, safe_send
from ..handlers import refuse_press

END = ConversationHandler.END
PRIVATE_TEXT = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE


class State(StrEnum):
    """A step waiting for the person's answer (the values are stored: keep them)."""

    NC_TITLE = "nc_title"
    NC_CURRENCY = "nc_currency"
    NC_ROLE = "nc_role"
    NC_CONFIRM = "nc_confirm"
    AM_PICK = "am_pick"
    AM_FIELD = "am_field"
    AM_SUMMARY = "am_summary"
    AM_TITLE = "am_title"
    AM_AMOUNT = "am_amount"
    AM_DUE = "am_due"
    AM_DESCRIPTION = "am_description"
    SUB_NOTE = "sub_note"
    CHG_REASON = "chg_reason"
    ST_MENU = "st_menu"
    ST_TZ = "st_tz"
    ST_QUIET = "st_quiet"


Step = State | int  # a state, or END


class Flow(StrEnum):
    CONTRACT = "contract"
    ADD = "add"
    EDIT = "edit"
    SUBMIT = "submit"
    CHANGES = "changes"


@dataclass
class Draft:
    """What a flow has gathered so far; stored as plain JSON in the person's data between steps."""

    kind: Flow
    contract_id: int | None = None
    milestone_id: int | None = None
    currency: str = ""
    title: str | None = None
    role: str | None = None
    amount: int | None = None
    due: str | None = None  # ISO date
    description: str | None = None
    editing: str | None = None  # the one field being changed from the summary
    original: dict[str, Any] | None = None  # an edited milestone's fields before the edit
    from_chat: int | None = None

    @property
    def due_date(self) -> date | None:
        return date.fromisoformat(self.due) if self.due else None


_FIELDS = {f.name for f in fields(Draft)}


def load_draft(context: ContextTypes.DEFAULT_TYPE) -> Draft | None:
    raw = context.user_data.get("draft")
    if not raw or "kind" not in raw:
        return None
    try:
        return Draft(**{k: v for k, v in raw.items() if k in _FIELDS} | {"kind": Flow(raw["kind"])})
    except (TypeError, ValueError):
        return None


def keep_draft(context: ContextTypes.DEFAULT_TYPE, draft: Draft) -> Draft:
    data = context.user_data
    assert data is not None  # per-user handlers always have user_data
    data["draft"] = {k: v for k, v in asdict(draft).items() if v is not None}
    return draft


def drop_draft(context: ContextTypes.DEFAULT_TYPE) -> None:
    context.user_data.pop("draft", None)


class DraftGone(Exception):
    """The step's draft is missing (stored by an older version, or dropped): the flow starts over."""


def need_draft(context: ContextTypes.DEFAULT_TYPE, *kinds: Flow) -> Draft:
    d = load_draft(context)
    if d is None or (kinds and d.kind not in kinds):
        raise DraftGone
    return d


def text_of(update: Update) -> str:
    """The text of a message the step's filters let through (filters.TEXT: never None there)."""
    message = update.effective_message
    return (message.text if message is not None else None) or ""


async def pressed_contract(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[Press, Contract] | None:
    """The press that opens a flow and its contract, if the domain lets this person do it now;
    otherwise the press is refused (the reason, or whose button it is) and None returned."""
    q = update.callback_query
    press = decode(q.data)
    assert isinstance(press, Press)
    on_ms = RULES[press.action].on_milestone
    where = {"milestone_id": press.target} if on_ms else {"contract_id": press.target}
    try:
        return press, await deps(context).svc.require(press.action, q.from_user.id, **where)
    except DomainError as err:
        await refuse_press(update, context, err, press, refresh=False)
        return None


async def say(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    answer: bool = True,
) -> bool:
    """Ask in the user's private chat (also when the button was pressed in a group).

    answer=False: the press was already answered (a query can be answered only once)."""
    q = update.callback_query if answer else None
    sent = await safe_send(context, update.effective_user.id, text, markup)
    if q is not None:
        if sent is None:
            await q.answer(
                f"Open a private chat with @{context.bot.username} first, then press again.", show_alert=True
            )
        else:
            await q.answer()
    return sent is not None


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    drop_draft(context)
    if update.callback_query:
        await update.callback_query.answer("Cancelled.")
    await safe_send(context, update.effective_user.id, "Cancelled. Nothing was saved.")
    return END


async def use_buttons(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text("Please tap one of the buttons above, or send /cancel to stop.")
