"""Commands and stateless buttons: each parses, calls one service, renders, and notifies."""

from __future__ import annotations

import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from domain.errors import DomainError, NotAllowed
from domain.model import Contract, ContractStatus, Role
from domain.services import Outcome

from .common import deps, edit_or_send, names_of, render_card, safe_send, user_zone
from .keyboards import (
    MS_ROLE,
    PICK_PAGE_SIZE,
    choose_contract_keyboard,
    end_confirm_keyboard,
    history_keyboard,
    start_keyboard,
)
from .notify import notify, unreachable_hint
from .texts import HELP, WELCOME, e, history_text

log = logging.getLogger(__name__)

CALLBACK = re.compile(r"^(m|c|inv|lnk|pg):([a-z]{1,8})(?::([A-Za-z0-9_-]{1,40}))?(?::(\d{1,4}))?$")

RESULT = {
    "act": "Activated and funded. The freelancer is told.",
    "apr": "Approved: the payment is released.",
    "rfd": "Refunded.",
    "rrq": "Refund requested: the freelancer is asked to accept it.",
    "rya": "Refund accepted.",
    "ryn": "Refund declined.",
    "acc": "Proposal accepted: it joins the order.",
    "rej": "Proposal rejected.",
    "del": "Milestone deleted.",
}


def parse_callback(data: str | None) -> tuple[str, str, str | None, int] | None:
    """Never trust callback data: anything malformed is refused before it reaches a service."""
    m = CALLBACK.match(data or "")
    if not m:
        return None
    return m.group(1), m.group(2), m.group(3), int(m.group(4) or 0)


def is_id(ident: str | None) -> bool:
    """A database id: digits that fit the 32-bit id columns (longer forged ones would crash the query)."""
    return ident is not None and ident.isascii() and ident.isdigit() and len(ident) <= 9


def in_group(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type != "private"


# ----- commands -----------------------------------------------------------------------------------
def private_only(handler):
    """Commands that show a person's own contracts or start a conversation belong in a private chat."""

    async def wrapped(update: Update, context: ContextTypes.DEFAULT_TYPE):
        if in_group(update):
            await update.effective_message.reply_text(
                f"Let's do that in a private chat: open @{e(context.bot.username)} and send the command there.")
            return None
        return await handler(update, context)

    return wrapped


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    if in_group(update):
        await update.effective_message.reply_text(
            "Hi! Use /link here to post a contract's news in this group. Everything else works in a private "
            f"chat with me: @{e(context.bot.username)}")
        return
    payload = context.args[0] if context.args else ""
    if re.fullmatch(r"c\d{1,9}", payload, re.ASCII):
        await show_contract(update, context, int(payload[1:]))
        return
    if payload:
        await show_invite(update, context, payload)
        return
    await update.effective_message.reply_text(WELCOME.format(name=e(user.first_name)), reply_markup=start_keyboard())


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(HELP.format(review_days=deps(context).settings.review_days))


async def cancel_nothing(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text("There is nothing to cancel. /help shows what I can do.")


async def contracts_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await list_contracts(update, context, None)




async def list_contracts(update: Update, context: ContextTypes.DEFAULT_TYPE, message, page: int = 0) -> None:
    user = update.effective_user
    items = await deps(context).svc.contracts_of(user.id)
    if not items:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("New contract", callback_data="c:new")]])
        await edit_or_send(context, message, update.effective_chat.id,
                           "You have no contracts yet. Start one with <b>New contract</b>.", markup)
        return
    pages = -(-len(items) // PICK_PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    shown = items[page * PICK_PAGE_SIZE:(page + 1) * PICK_PAGE_SIZE]
    lines = ["<b>Your contracts</b>" + (f" (page {page + 1} of {pages})" if pages > 1 else ""), ""]
    for s in shown:
        lines.append(f"• {e(s.title)} ({e(s.currency)}) — you are the {s.role.value} · {s.status.value} · "
                     f"{s.milestone_count} milestone(s)")
    markup = choose_contract_keyboard([(s.id, s.title) for s in items], "c:view", page, "c:list")
    await edit_or_send(context, message, update.effective_chat.id, "\n".join(lines), markup)


PICKERS = {
    # purpose: (question, which contracts, button callback prefix)
    "view": ("Which contract?", lambda s: s.status is not ContractStatus.DECLINED, "c:view"),
    "link": ("Which contract should post its news here?",
             lambda s: s.status in (ContractStatus.ACTIVE, ContractStatus.PENDING), "lnk:set"),
    "add": ("Which contract is the milestone for?", lambda s: s.status is ContractStatus.ACTIVE, "pick"),
}


async def picker_items(context: ContextTypes.DEFAULT_TYPE, user_id: int, purpose: str) -> list:
    wanted = PICKERS[purpose][1]
    return [s for s in await deps(context).svc.contracts_of(user_id) if wanted(s)]


async def show_picker(update: Update, context: ContextTypes.DEFAULT_TYPE, purpose: str, items: list,
                      page: int = 0, message=None) -> None:
    question, _, prefix = PICKERS[purpose]
    markup = choose_contract_keyboard([(s.id, s.title) for s in items], prefix, page, f"pg:{purpose}")
    await edit_or_send(context, message, update.effective_chat.id, question, markup)


async def picker_page(update: Update, context: ContextTypes.DEFAULT_TYPE, purpose: str, page: int) -> None:
    q = update.callback_query
    await q.answer()
    items = await picker_items(context, q.from_user.id, purpose)
    await show_picker(update, context, purpose, items, page, q.message)


async def milestones_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    items = await picker_items(context, update.effective_user.id, "view")
    if len(items) == 1:
        await show_contract(update, context, items[0].id)
    elif not items:
        await update.effective_message.reply_text("You have no contracts yet: /newcontract starts one.")
    else:
        await show_picker(update, context, "view", items)


async def show_contract(update: Update, context: ContextTypes.DEFAULT_TYPE, contract_id: int) -> None:
    try:
        contract = await deps(context).svc.view(contract_id, update.effective_user.id)
    except DomainError as err:
        await update.effective_message.reply_text(e(err.reason))
        return
    text, markup = await render_card(context, contract, update.effective_user.id)
    await update.effective_message.reply_text(text, reply_markup=markup)


async def show_invite(update: Update, context: ContextTypes.DEFAULT_TYPE, token: str) -> None:
    d = deps(context)
    try:
        invite, contract = await d.svc.preview_invite(token, update.effective_user.id, d.clock())
    except DomainError as err:
        await update.effective_message.reply_text(e(err.reason))
        return
    names = await names_of(context, contract)
    creator_role = contract.role_of(invite.created_by)
    your_role = creator_role.other if creator_role else Role.FREELANCER
    text = (f"🤝 {e(names.get(invite.created_by, 'Someone'))} invites you to the contract "
            f"<b>{e(contract.title)}</b> ({e(contract.currency)}) as the <b>{your_role.value}</b>.\n"
            f"Accept to join it, or decline.")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Accept", callback_data=f"inv:y:{token}"),
                                    InlineKeyboardButton("Decline", callback_data=f"inv:n:{token}")]])
    await update.effective_message.reply_text(text, reply_markup=markup)


async def link_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not in_group(update):
        await update.effective_message.reply_text("Send /link inside the group chat that should get a contract's news.")
        return
    items = await picker_items(context, update.effective_user.id, "link")
    if not items:
        await update.effective_message.reply_text("You have no open contracts to link here.")
    elif len(items) == 1:
        await link_group(update, context, items[0].id, None)
    else:
        await show_picker(update, context, "link", items)


async def link_group(update: Update, context: ContextTypes.DEFAULT_TYPE, contract_id: int, message) -> None:
    d = deps(context)
    chat_id = update.effective_chat.id
    try:
        outcome = await d.svc.link_group(contract_id, update.effective_user.id, chat_id, d.clock())
    except DomainError as err:
        if update.callback_query:
            await update.callback_query.answer(err.reason, show_alert=True)
        else:
            await update.effective_message.reply_text(e(err.reason))
        return
    if update.callback_query:
        await update.callback_query.answer("Linked.")
    text, markup = await render_card(context, outcome.contract, None)
    await edit_or_send(context, message, chat_id,
                       f"🔗 This group now gets the news of «{e(outcome.contract.title)}».\n\n{text}", markup)
    # The other party is told (the group has just been told above).
    unreachable = await notify(context, outcome, to_group=False)
    if unreachable:
        await safe_send(context, update.effective_user.id,
                        unreachable_hint(context.bot.username, outcome.contract.id, unreachable))


# ----- buttons ------------------------------------------------------------------------------------
async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every stateless button; the conversation handler takes the ones that ask for text."""
    q = update.callback_query
    parsed = parse_callback(q.data)
    if parsed is None:
        await q.answer("This button is no longer valid.", show_alert=True)
        return
    kind, code, ident, page = parsed
    if kind == "m" and code in RESULT and is_id(ident):
        await milestone_button(update, context, code, int(ident))
    elif kind == "c" and code == "list":
        await q.answer()
        await list_contracts(update, context, q.message, int(ident) if is_id(ident) and len(ident) <= 4 else 0)
    elif kind == "c" and is_id(ident):
        await contract_button(update, context, code, int(ident), page)
    elif kind == "inv" and code in ("y", "n") and ident:
        await invite_button(update, context, code == "y", ident)
    elif kind == "lnk" and code == "set" and is_id(ident):
        await link_group(update, context, int(ident), q.message)
    elif kind == "pg" and code in ("view", "link") and ident and ident.isdigit() and len(ident) <= 4:
        await picker_page(update, context, code, int(ident))
    else:
        await q.answer("This button is no longer valid.", show_alert=True)


async def refuse(update: Update, context, err: DomainError, contract_id: int | None, role_needed: Role | None):
    """Answer a refused press; in a group, name whose button it is."""
    q = update.callback_query
    reason = err.reason
    if isinstance(err, NotAllowed) and in_group(update) and contract_id is not None:
        contract = await deps(context).svc.peek(contract_id)
        if contract is not None:
            who = role_needed.value if role_needed else "client and the freelancer"
            reason = f"This button is for the {who} of «{contract.title}»."
    await q.answer(reason[:200], show_alert=True)


async def milestone_button(update: Update, context: ContextTypes.DEFAULT_TYPE, code: str, ms_id: int) -> None:
    q = update.callback_query
    d = deps(context)
    user_id = q.from_user.id
    now = d.clock()
    svc = d.svc
    calls = {
        "act": lambda: svc.activate(ms_id, user_id, now),
        "apr": lambda: svc.approve(ms_id, user_id, now),
        "rfd": lambda: svc.refund(ms_id, user_id, now),
        "rrq": lambda: svc.request_refund(ms_id, user_id, now),
        "rya": lambda: svc.accept_refund(ms_id, user_id, now),
        "ryn": lambda: svc.decline_refund(ms_id, user_id, now),
        "acc": lambda: svc.accept_proposal(ms_id, user_id, now),
        "rej": lambda: svc.reject_proposal(ms_id, user_id, now),
        "del": lambda: svc.delete_milestone(ms_id, user_id, now),
    }
    try:
        outcome = await calls[code]()
    except DomainError as err:
        contract_id = None
        try:
            contract_id = await svc.contract_of_milestone(ms_id)
        except DomainError:
            pass
        await refuse(update, context, err, contract_id, MS_ROLE[code])
        if contract_id is not None and not in_group(update):
            await refresh_card(update, context, contract_id)
        return
    await q.answer(RESULT[code])
    await after_change(update, context, outcome)


async def after_change(update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: Outcome,
                       message=None) -> None:
    """Show the new card where the press happened and tell the others."""
    q = update.callback_query
    viewer = None if in_group(update) else update.effective_user.id
    text, markup = await render_card(context, outcome.contract, viewer)
    target = message if message is not None else (q.message if q else None)
    await edit_or_send(context, target, update.effective_chat.id, text, markup)
    unreachable = await notify(context, outcome)
    if unreachable:
        await safe_send(context, update.effective_user.id,
                        unreachable_hint(context.bot.username, outcome.contract.id, unreachable))


async def refresh_card(update: Update, context: ContextTypes.DEFAULT_TYPE, contract_id: int, page: int = 0) -> None:
    try:
        contract = await deps(context).svc.view(contract_id, update.effective_user.id)
    except DomainError:
        return
    text, markup = await render_card(context, contract, update.effective_user.id, page)
    await edit_or_send(context, update.callback_query.message, update.effective_chat.id, text, markup)


async def contract_button(update: Update, context: ContextTypes.DEFAULT_TYPE, code: str, cid: int, page: int) -> None:
    q = update.callback_query
    d = deps(context)
    user_id = q.from_user.id
    now = d.clock()
    try:
        if code == "view":
            contract = await d.svc.view(cid, user_id)
            await q.answer()
            viewer = None if in_group(update) else user_id
            text, markup = await render_card(context, contract, viewer, page)
            await edit_or_send(context, q.message, update.effective_chat.id, text, markup)
        elif code == "hist":
            contract, entries = await d.svc.history(cid, user_id)
            await q.answer()
            _, tz = await user_zone(context, user_id)
            names = await names_of(context, contract)
            text, pages = history_text(contract, entries, names, tz, page)
            await edit_or_send(context, q.message, update.effective_chat.id, text,
                               history_keyboard(contract, min(page, pages - 1), pages))
        elif code == "keep":
            outcome = await d.svc.keep_open(cid, user_id, now)
            await q.answer("The contract stays open: add the next milestone when you're ready.")
            await after_change(update, context, outcome)
        elif code == "end":
            contract = await d.svc.view(cid, user_id)
            check_can_end(contract, user_id)
            await q.answer()
            await edit_or_send(
                context, q.message, update.effective_chat.id,
                f"End <b>{e(contract.title)}</b>? Milestones not funded yet are cancelled and the contract "
                f"accepts no more actions.", end_confirm_keyboard(contract))
        elif code == "endy":
            outcome = await d.svc.end_contract(cid, user_id, now)
            await q.answer("The contract is ended.")
            await after_change(update, context, outcome)
        elif code == "invl":
            invite = await d.svc.new_invite(cid, user_id, now)
            await q.answer("Here is a new invite link.")
            await safe_send(context, user_id,
                            f"New invite link (works once, for 7 days):\nhttps://t.me/{context.bot.username}"
                            f"?start={invite.token}")
        else:
            await q.answer("This button is no longer valid.", show_alert=True)
    except DomainError as err:
        needed = Role.CLIENT if code in ("keep", "end", "endy") else None
        await refuse(update, context, err, cid, needed)


def check_can_end(contract: Contract, user_id: int) -> None:
    """The same checks as ending, on a throwaway copy, before asking for confirmation."""
    from copy import deepcopy

    deepcopy(contract).end(user_id, contract.created_at)


async def invite_button(update: Update, context: ContextTypes.DEFAULT_TYPE, accept: bool, token: str) -> None:
    q = update.callback_query
    d = deps(context)
    try:
        if accept:
            outcome = await d.svc.accept_invite(token, q.from_user.id, d.clock())
        else:
            outcome = await d.svc.decline_invite(token, q.from_user.id, d.clock())
    except DomainError as err:
        await q.answer(err.reason[:200], show_alert=True)
        return
    if accept:
        await q.answer("You joined the contract.")
        await after_change(update, context, outcome)
    else:
        await q.answer("Declined.")
        await edit_or_send(context, q.message, update.effective_chat.id,
                           f"You declined «{e(outcome.contract.title)}».")
        await notify(context, outcome)
