"""Submit work (with a note) or request changes (with a reason): a press, one text, done."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton as Btn
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from domain.actions import Action
from domain.errors import DomainError
from domain.model import REASON_MAX, check_text

from ..actions import ACTIONS
from ..callbacks import Choice
from ..common import answer_press, deps, render_card, safe_send
from ..notify import tell_others
from ..texts import e
from .base import pressed_contract, say, text_of
from .draft import END, Draft, DraftGone, Flow, State, Step, drop_draft, keep_draft, need_draft

# The flow of each action that asks for a text: its draft, its step, the text's name and minimum length.
ASKS = {
    Action.SUBMIT: (Flow.SUBMIT, State.SUB_NOTE, "note", 0),
    Action.REQUEST_CHANGES: (Flow.CHANGES, State.CHG_REASON, "reason", 1),
}
DONE = {
    Action.SUBMIT: "📤 Work submitted: the client is asked to review it.",
    Action.REQUEST_CHANGES: "🔁 Change request sent to the freelancer.",
}


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    found = await pressed_contract(update, context)
    if found is None:
        return None  # refused: a flow the person is in goes on
    press, contract = found
    ms = contract.milestone(press.target)
    flow, state, _, _ = ASKS[press.action]
    keep_draft(context, Draft(flow, milestone_id=ms.id, from_chat=update.effective_chat.id))
    cancel = [Btn("Cancel", callback_data=Choice("am", "cancel").encode())]
    if press.action is Action.SUBMIT:
        ok = await say(
            update,
            context,
            f"Submitting work for <b>{e(ms.title)}</b>. Send a <b>note</b> for the client about what "
            f"you delivered (links welcome), or tap Skip.",
            InlineKeyboardMarkup([[Btn("Skip", callback_data=Choice("sub", "skip").encode())], cancel]),
        )
    else:
        ok = await say(
            update,
            context,
            f"What should be changed in <b>{e(ms.title)}</b>? Send the <b>reason</b> (1–1,000 characters).",
            InlineKeyboardMarkup([cancel]),
        )
    return state if ok else END


async def got_note(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    return await finish(update, context, Action.SUBMIT, "" if update.callback_query else text_of(update))


async def got_reason(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    return await finish(update, context, Action.REQUEST_CHANGES, text_of(update))


async def finish(update: Update, context: ContextTypes.DEFAULT_TYPE, action: Action, text: str) -> Step:
    dd = deps(context)
    user_id = update.effective_user.id
    flow, state, what, min_len = ASKS[action]
    try:
        d = need_draft(context, flow)
    except DraftGone:
        drop_draft(context)
        await safe_send(context, user_id, "I lost track of that step: press the button on the card again.")
        return END
    try:
        check_text(text, what, min_len=min_len, max_len=REASON_MAX)
    except DomainError as err:
        await safe_send(context, user_id, f"{e(err.reason)} Send the <b>{what}</b> again.")
        return state
    try:
        args: dict[str, Any] = {what: text}
        outcome = await dd.svc.perform(action, user_id, dd.clock(), milestone_id=d.milestone_id, **args)
    except DomainError as err:
        drop_draft(context)
        if update.callback_query:
            await update.callback_query.answer(err.reason[:200], show_alert=True)
        await safe_send(context, user_id, f"Not done: {e(err.reason)}")
        return END
    drop_draft(context)
    if update.callback_query:
        await answer_press(update, ACTIONS[action].result)
    await safe_send(context, user_id, DONE[action])
    text_card, markup = await render_card(context, outcome.contract, user_id)
    await safe_send(context, user_id, text_card, markup)
    await tell_others(context, outcome, user_id)
    return END
