"""A milestone's details from the card (description, notes, files, who did what) and its files sent again."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.error import Forbidden
from telegram.ext import ContextTypes

from domain.errors import DomainError
from domain.model import Contract, Milestone, SubmittedFile

from .callbacks import Details, DetailsList, SendFile, decode
from .common import deps, edit_or_send, known_unreachable, lang_of, names_of, viewer_zone
from .handlers import chat_of, in_group, refuse, shown_in
from .i18n import _, speaking
from .keyboards import details_keyboard, details_list_keyboard
from .texts import CARD_PAGE_SIZE, card_milestones, details_page, e, file_caption, numbered_files


def is_details_press(data: object) -> bool:
    """A CallbackQueryHandler pattern: the card's Details, a milestone's details, or one of its files."""
    return isinstance(decode(data), Details | DetailsList | SendFile)


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    cb = decode(update.callback_query.data)
    if isinstance(cb, DetailsList):
        await list_pressed(update, context, cb)
    elif isinstance(cb, Details):
        await details_pressed(update, context, cb.milestone_id, cb.page)
    elif isinstance(cb, SendFile):
        await file_pressed(update, context, cb)


async def list_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE, cb: DetailsList) -> None:
    """Which milestone of the card's page; with just one there, its details straight away."""
    q = update.callback_query
    try:
        contract = await deps(context).svc.view(cb.contract_id, q.from_user.id)
    except DomainError as err:
        await refuse(update, context, err, cb.contract_id)
        return
    listed = card_milestones(contract)[cb.page * CARD_PAGE_SIZE : (cb.page + 1) * CARD_PAGE_SIZE]
    if len(listed) == 1 and listed[0][1].id is not None:
        await details_pressed(update, context, listed[0][1].id, 0)
        return
    await q.answer()
    with speaking(await shown_in(update, context, contract)):  # a group's message reads in the group's language
        text = _("ℹ️ Which milestone of <b>{title}</b> do you want the details of?").format(title=e(contract.title))
        markup = details_list_keyboard(contract, cb.page)
    await edit_or_send(context, q.message, chat_of(update), text, markup)


async def details_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE, milestone_id: int, page: int) -> None:
    q = update.callback_query
    svc = deps(context).svc
    try:
        found = await svc.milestone_details(milestone_id, q.from_user.id)
    except DomainError as err:
        await refuse(update, context, err, await _contract_of(context, milestone_id))
        return
    await q.answer()
    tz = await viewer_zone(context, None if in_group(update) else q.from_user.id)  # a group reads UTC
    names = await names_of(context, found.contract)
    with speaking(await shown_in(update, context, found.contract)):
        shown = details_page(found.contract, found.milestone, found.history, found.files, names, tz, page)
        markup: InlineKeyboardMarkup = details_keyboard(found.contract, found.milestone, shown)
    await edit_or_send(context, q.message, chat_of(update), shown.text, markup)


async def file_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE, cb: SendFile) -> None:
    """The file again, in the presser's private chat (a group's members may not all be parties)."""
    q = update.callback_query
    svc = deps(context).svc
    try:
        contract, found = await svc.submitted_file(cb.file_id, q.from_user.id)
        assert found.milestone_id is not None
        ms = contract.milestone(found.milestone_id)
        siblings = (await svc.milestone_details(found.milestone_id, q.from_user.id)).files
    except DomainError as err:
        await refuse(update, context, err, None)
        return
    label = next((lb for f, lb in numbered_files(siblings) if f.id == found.id), found.name)
    caption = file_caption(contract, ms, found, label, _("submission {n}").format(n=found.submission))
    if not await send_file(context, q.from_user.id, found, caption):
        await q.answer(
            _("Open a private chat with @{bot} first, then press again.").format(bot=context.bot.username),
            show_alert=True,
        )
        return
    await q.answer(_("Sent to you in our private chat.") if in_group(update) else _("Sent below."))


async def send_submission(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    contract: Contract,
    ms: Milestone,
    files: tuple[SubmittedFile, ...],
) -> None:
    """A submission's files to the client (or an operator), each with what it is ('1/2 · design.pdf for
    «Design»…'), before the news that carries the approval buttons; captions in the recipient's language."""
    with speaking(await lang_of(context, chat_id, contract)):
        numbered = numbered_files(files)
        captions = [
            file_caption(contract, ms, f, label, f"{i}/{len(numbered)}") for i, (f, label) in enumerate(numbered, 1)
        ]
    for (f, _label), caption in zip(numbered, captions, strict=True):
        await send_file(context, chat_id, f, caption)


async def send_file(context: ContextTypes.DEFAULT_TYPE, chat_id: int, f: SubmittedFile, caption: str) -> bool:
    """Send a file by its Telegram file_id (nothing is downloaded or uploaded). During an update it is
    recorded for the sender, like any message (bot/turn.py); False if the person can't be messaged."""
    if await known_unreachable(context, chat_id):
        return False
    try:
        if f.kind == "photo":
            await context.bot.send_photo(chat_id, f.file_id, caption=caption)
        else:
            await context.bot.send_document(chat_id, f.file_id, caption=caption)
    except Forbidden:
        if chat_id > 0:
            await deps(context).mark_unreachable(chat_id)
        return False
    return True


async def _contract_of(context: ContextTypes.DEFAULT_TYPE, milestone_id: int) -> int | None:
    try:
        return await deps(context).svc.contract_of_milestone(milestone_id)
    except DomainError:
        return None
