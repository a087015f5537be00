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
from ..i18n import N_, _
from ..turn import current_turn
from .draft import END, State, drop_draft

PRIVATE_TEXT = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE
# Anything but text in a private chat: a photo, a document, a sticker, a voice message…
PRIVATE_NOT_TEXT = filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL

# What a step that waits for text says to anything else (the others wait for a button): whole sentences,
# so that a translation can inflect what is asked for.
ASKED = {
    State.NC_TITLE: N_("I can only read text here: send the contract's title as a message, or /cancel to stop."),
    State.NC_CURRENCY: N_(
        "I can only read text here: send the currency code (e.g. USD) as a message, or /cancel to stop."
    ),
    State.AM_TITLE: N_("I can only read text here: send the milestone's title as a message, or /cancel to stop."),
    State.AM_AMOUNT: N_("I can only read text here: send the amount as a message, or /cancel to stop."),
    State.AM_DUE: N_("I can only read text here: send the due date as a message, or /cancel to stop."),
    State.AM_DESCRIPTION: N_("I can only read text here: send the description as a message, or /cancel to stop."),
    State.CHG_REASON: N_(
        "I can only read text here: send the reason for the changes as a message, or /cancel to stop."
    ),
    State.ST_MENU: N_(
        "I can only read text here: send a time zone or quiet hours (e.g. Europe/Berlin or 22:00-07:00) as a "
        "message, or /cancel to stop."
    ),
    State.ST_TZ: N_("I can only read text here: send a time zone as a message, or /cancel to stop."),
    State.ST_QUIET: N_(
        "I can only read text here: send the quiet hours (e.g. 22:00-07:00) as a message, or /cancel to stop."
    ),
    State.DG_AMOUNT: N_("I can only read text here: send the amount as a message, or /cancel to stop."),
    State.DG_DATE: N_("I can only read text here: send the new due date as a message, or /cancel to stop."),
    State.DG_TEXT: N_("I can only read text here: send the text as a message, or /cancel to stop."),
}
USE_BUTTONS = N_("Please tap one of the buttons above, or send /cancel to stop.")


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
                _("Open a private chat with @{bot} first, then press again.").format(bot=context.bot.username),
                show_alert=True,
            )
        else:
            await q.answer()
    return sent is not None


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    drop_draft(context)
    if update.callback_query:
        await update.callback_query.answer(_("Cancelled."))
    await safe_send(context, update.effective_user.id, _("Cancelled. Nothing was saved."))
    return END


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo, a file, a sticker… at a step that waits for text or a button: say what the step wants;
    the step stays."""
    turn = current_turn()
    state = turn.state if turn is not None else None
    if state == State.SUB_NOTE:
        text = _(
            "I can attach documents and photos (send a video or an audio file as a file); links go in the "
            "note. Send the note as text, or tap Skip / Done above."
        )
    elif state in ASKED:
        text = _(ASKED[State(state)])
    else:
        text = _(USE_BUTTONS)
    await update.effective_message.reply_text(text)


async def use_buttons(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(_(USE_BUTTONS))
