"""Submit work (files and photos, then a note) or request changes (with a reason): a press, the text, done."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton as Btn
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from domain.actions import Action
from domain.errors import DomainError
from domain.model import FILE_NAME_MAX, REASON_MAX, Role, SubmittedFile, check_files, check_text, without_control

from ..actions import ACTIONS
from ..callbacks import Choice
from ..common import answer_press, deps, render_card, safe_send
from ..details import send_submission
from ..notify import tell_others
from ..texts import e, numbered_files
from .base import pressed_contract, say, text_of
from .draft import END, Draft, DraftGone, Flow, State, Step, drop_draft, keep_draft, load_draft, need_draft

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
    before = load_draft(context)
    # Submit work pressed again for the same milestone: the files sent meanwhile stay attached.
    kept = before.files if before is not None and before.kind is flow and before.milestone_id == ms.id else None
    keep_draft(context, Draft(flow, milestone_id=ms.id, from_chat=update.effective_chat.id, files=kept))
    cancel = [Btn("Cancel", callback_data=Choice("am", "cancel").encode())]
    if press.action is Action.SUBMIT:
        ok = await say(
            update,
            context,
            f"Submitting work for <b>{e(ms.title)}</b>. Send a <b>note</b> for the client about what "
            f"you delivered (links welcome), or tap Skip.\n📎 Any files or photos? Send them first (one or "
            f"more): the note then submits them all." + (f" ({len(kept)} attached already.)" if kept else ""),
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


def file_of(update: Update) -> SubmittedFile:
    """The document or photo of the message (a photo's largest size), as Telegram identifies it."""
    message = update.effective_message
    caption = without_control(message.caption or "")
    if message.document is not None:
        doc = message.document
        name = without_control(doc.file_name or "")[:FILE_NAME_MAX]
        return SubmittedFile("document", doc.file_id, doc.file_unique_id, name, caption, doc.file_size)
    photo = message.photo[-1]
    return SubmittedFile("photo", photo.file_id, photo.file_unique_id, "", caption, photo.file_size)


def _kept(d: Draft) -> list[SubmittedFile]:
    return [SubmittedFile(**f) for f in d.files or []]


def done_keyboard(count: int) -> InlineKeyboardMarkup:
    what = f"{count} file{'' if count == 1 else 's'}"
    return InlineKeyboardMarkup(
        [
            [Btn(f"Done — submit {what}", callback_data=Choice("sub", "skip").encode())],
            [Btn("Cancel", callback_data=Choice("am", "cancel").encode())],
        ]
    )


async def got_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    """A document or photo while Submit work waits: kept with the draft until the note (or Done) submits
    it with the rest. Nothing is downloaded: Telegram's file_id is all the bot keeps."""
    user_id = update.effective_user.id
    try:
        d = need_draft(context, Flow.SUBMIT)
    except DraftGone:
        drop_draft(context)
        await safe_send(context, user_id, "I lost track of that step: press the button on the card again.")
        return END
    files = [*_kept(d), file_of(update)]
    try:
        check_files(files)  # the domain's limits, told now rather than when the note comes
    except DomainError as err:
        await safe_send(
            context,
            user_id,
            f"{e(err.reason)} Send the <b>note</b> to submit what is attached, or tap Done.",
            done_keyboard(len(files) - 1) if len(files) > 1 else None,
        )
        return State.SUB_NOTE
    d.files = [{k: v for k, v in vars(f).items() if k in _DRAFT_FILE_FIELDS} for f in files]
    keep_draft(context, d)
    count = len(files)
    label = numbered_files(files)[-1][1]
    await safe_send(
        context,
        user_id,
        f"📎 Attached <b>{e(label)}</b> ({count} file{'' if count == 1 else 's'} so far). Send more, or a "
        f"<b>note</b> to submit everything — or tap Done.",
        done_keyboard(count),
    )
    return State.SUB_NOTE


_DRAFT_FILE_FIELDS = ("kind", "file_id", "file_unique_id", "name", "caption", "size")


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
        if action is Action.SUBMIT:
            args["files"] = tuple(_kept(d))
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
    done = DONE[action]
    if outcome.files:
        done = done.replace(
            "submitted", f"submitted with {len(outcome.files)} file{'s' if len(outcome.files) > 1 else ''}"
        )
    await safe_send(context, user_id, done)
    text_card, markup = await render_card(context, outcome.contract, user_id)
    await safe_send(context, user_id, text_card, markup)
    if outcome.files and outcome.milestone is not None:
        # The client gets the files first, then the news with the approval buttons under them.
        client = outcome.contract.party_id(Role.CLIENT)
        if client is not None:
            await send_submission(context, client, outcome.contract, outcome.milestone, outcome.files)
    await tell_others(context, outcome, user_id)
    return END
