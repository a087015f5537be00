"""Submit work (files and photos, then a note) or request changes (with a reason): a press, the text, done."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton as Btn
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from domain.actions import Action
from domain.errors import DomainError, Term
from domain.model import FILE_NAME_MAX, REASON_MAX, Role, SubmittedFile, check_files, check_text, without_control

from ..actions import ACTIONS, said
from ..callbacks import Choice
from ..common import answer_press, deps, render_card, safe_send
from ..details import send_submission
from ..i18n import N_, _, ngettext, why
from ..notify import tell_others
from ..texts import e, numbered_files
from .base import pressed_contract, say, text_of
from .draft import END, Draft, DraftGone, Flow, State, Step, drop_draft, keep_draft, load_draft, need_draft

# The flow of each action that asks for a text: its draft, its step, the text's name and minimum length.
ASKS = {
    Action.SUBMIT: (Flow.SUBMIT, State.SUB_NOTE, "note", 0),
    Action.REQUEST_CHANGES: (Flow.CHANGES, State.CHG_REASON, "reason", 1),
}
# The text's name in a refusal ("The note must be…") and the question asked again after one.
TERMS = {Action.SUBMIT: Term("note"), Action.REQUEST_CHANGES: Term("reason")}
AGAIN = {
    Action.SUBMIT: N_("{reason} Send the <b>note</b> again."),
    Action.REQUEST_CHANGES: N_("{reason} Send the <b>reason</b> again."),
}
DONE = {
    Action.SUBMIT: N_("📤 Work submitted: the client is asked to review it."),
    Action.REQUEST_CHANGES: N_("🔁 Change request sent to the freelancer."),
}
LOST = N_("I lost track of that step: press the button on the card again.")


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    found = await pressed_contract(update, context)
    if found is None:
        return None  # refused: a flow the person is in goes on
    press, contract = found
    ms = contract.milestone(press.target)
    flow, state = ASKS[press.action][:2]
    before = load_draft(context)
    # Submit work pressed again for the same milestone: the files sent meanwhile stay attached.
    kept = before.files if before is not None and before.kind is flow and before.milestone_id == ms.id else None
    keep_draft(context, Draft(flow, milestone_id=ms.id, from_chat=update.effective_chat.id, files=kept))
    cancel = [Btn(_("Cancel"), callback_data=Choice("am", "cancel").encode())]
    if press.action is Action.SUBMIT:
        text = _(
            "Submitting work for <b>{title}</b>. Send a <b>note</b> for the client about what "
            "you delivered (links welcome), or tap Skip.\n📎 Any files or photos? Send them first (one or "
            "more): the note then submits them all."
        ).format(title=e(ms.title))
        if kept:
            text += " " + ngettext("({n} attached already.)", "({n} attached already.)", len(kept)).format(n=len(kept))
        ok = await say(
            update,
            context,
            text,
            InlineKeyboardMarkup([[Btn(_("Skip"), callback_data=Choice("sub", "skip").encode())], cancel]),
        )
    else:
        ok = await say(
            update,
            context,
            _("What should be changed in <b>{title}</b>? Send the <b>reason</b> (1–1,000 characters).").format(
                title=e(ms.title)
            ),
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
    done = ngettext("Done — submit {n} file", "Done — submit {n} files", count).format(n=count)
    return InlineKeyboardMarkup(
        [
            [Btn(done, callback_data=Choice("sub", "skip").encode())],
            [Btn(_("Cancel"), callback_data=Choice("am", "cancel").encode())],
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
        await safe_send(context, user_id, _(LOST))
        return END
    files = [*_kept(d), file_of(update)]
    try:
        check_files(files)  # the domain's limits, told now rather than when the note comes
    except DomainError as err:
        await safe_send(
            context,
            user_id,
            _("{reason} Send the <b>note</b> to submit what is attached, or tap Done.").format(reason=e(why(err))),
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
        ngettext(
            "📎 Attached <b>{label}</b> ({n} file so far). Send more, or a <b>note</b> to submit everything — "
            "or tap Done.",
            "📎 Attached <b>{label}</b> ({n} files so far). Send more, or a <b>note</b> to submit everything — "
            "or tap Done.",
            count,
        ).format(label=e(label), n=count),
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
        await safe_send(context, user_id, _(LOST))
        return END
    try:
        check_text(text, TERMS[action], min_len=min_len, max_len=REASON_MAX)
    except DomainError as err:
        await safe_send(context, user_id, _(AGAIN[action]).format(reason=e(why(err))))
        return state
    try:
        args: dict[str, Any] = {what: text}
        if action is Action.SUBMIT:
            args["files"] = tuple(_kept(d))
        outcome = await dd.svc.perform(action, user_id, dd.clock(), milestone_id=d.milestone_id, **args)
    except DomainError as err:
        drop_draft(context)
        if update.callback_query:
            await update.callback_query.answer(why(err)[:200], show_alert=True)
        await safe_send(context, user_id, _("Not done: {reason}").format(reason=e(why(err))))
        return END
    drop_draft(context)
    if update.callback_query:
        await answer_press(update, said(ACTIONS[action].result))
    n = len(outcome.files)
    if n and action is Action.SUBMIT:
        done = ngettext(
            "📤 Work submitted with {n} file: the client is asked to review it.",
            "📤 Work submitted with {n} files: the client is asked to review it.",
            n,
        ).format(n=n)
    else:
        done = _(DONE[action])
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
