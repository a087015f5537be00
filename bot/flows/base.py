"""What every flow shares: asking in the private chat, the press that opens a flow, cancelling."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes, filters

from domain.actions import RULES
from domain.errors import DomainError
from domain.model import Contract

from ..callbacks import Press, decode
from ..common import deps, safe_send
from ..handlers import refuse_press
from .draft import END, drop_draft

PRIVATE_TEXT = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE


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
