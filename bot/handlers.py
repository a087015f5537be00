"""Commands and stateless buttons: each parses, calls one service, renders, and notifies."""

from __future__ import annotations

import logging
import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from domain.actions import RULES, Action
from domain.errors import DomainError, NotAllowed
from domain.model import Contract, ContractStatus, PaymentMode, Role
from domain.services import Outcome

from .actions import ACTIONS, said
from .callbacks import (
    ContractList,
    History,
    InviteAnswer,
    LinkGroup,
    OpenCard,
    Pick,
    PickerPage,
    Press,
    Refresh,
    View,
    card_of,
    decode,
)
from .common import answer_press, deps, edit_or_send, lang_of, names_of, render_card, safe_send, viewer_zone
from .i18n import N_, _, ngettext, speaking, why
from .keyboards import (
    PICK_PAGE_SIZE,
    choose_contract_keyboard,
    confirm_keyboard,
    history_keyboard,
    new_contract_keyboard,
    start_keyboard,
)
from .notify import tell_others
from .payments import after_refund, result_text, send_invoice
from .reminders import reminder_settings
from .texts import WELCOME, confirmation, e, esc, help_text, history_text

log = logging.getLogger(__name__)

_YOU_ARE = {Role.CLIENT: N_("you are the client"), Role.FREELANCER: N_("you are the freelancer")}
_CONTRACT_STATUS = {
    ContractStatus.PENDING: N_("pending"),
    ContractStatus.ACTIVE: N_("active"),
    ContractStatus.ENDED: N_("ended"),
    ContractStatus.DECLINED: N_("declined"),
}
_INVITE = {
    Role.CLIENT: N_(
        "🤝 {who} invites you to the contract <b>{title}</b> ({currency}) as the <b>client</b>.\n"
        "Accept to join it, or decline."
    ),
    Role.FREELANCER: N_(
        "🤝 {who} invites you to the contract <b>{title}</b> ({currency}) as the <b>freelancer</b>.\n"
        "Accept to join it, or decline."
    ),
}
_BUTTON_FOR = {
    Role.CLIENT: N_("This button is for the client of «{title}»."),
    Role.FREELANCER: N_("This button is for the freelancer of «{title}»."),
    None: N_("This button is for the client and the freelancer of «{title}»."),
}


def in_group(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type != "private"


async def shown_in(update: Update, context: ContextTypes.DEFAULT_TYPE, contract: Contract) -> str | None:
    """The language of a card shown where the press happened: in a group, the group's (the group reads
    it); in a private chat None, the person acting's (as spoken now)."""
    return await lang_of(context, chat_of(update), contract) if in_group(update) else None


def chat_of(update: Update) -> int:
    """Where to answer: the chat of the update; for a press on a message the bot can't see (an inline
    or too old message), the person's private chat."""
    chat = update.effective_chat
    return chat.id if chat is not None else update.effective_user.id


async def screen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Before any handler. An update with no sender (a channel post) has no one to act for. An edited
    message is not read: the bot acts on what was sent, and an edit would run a command or a step
    again; in a private chat the person is told to send it anew. Only new messages and button presses
    go further."""
    if update.effective_user is None:
        raise ApplicationHandlerStop
    if update.edited_message is not None:
        if not in_group(update):
            user_id = update.effective_user.id
            with speaking(await lang_of(context, user_id)):  # before remember_user: not set yet
                text = _("I only read new messages: send the corrected text again.")
            await safe_send(context, user_id, text)
        raise ApplicationHandlerStop
    if update.message is None and update.callback_query is None and update.pre_checkout_query is None:
        # Business and guest messages, member changes, reactions…: nothing the bot answers; they must
        # not feed a conversation step (a Business chat's text is not an answer to the bot).
        raise ApplicationHandlerStop


# ----- commands -----------------------------------------------------------------------------------
def private_only(handler):
    """Commands that show a person's own contracts or start a conversation belong in a private chat."""

    async def wrapped(update: Update, context: ContextTypes.DEFAULT_TYPE):
        if in_group(update):
            await update.effective_message.reply_text(
                _("Let's do that in a private chat: open @{bot} and send the command there.").format(
                    bot=esc(context.bot.username)
                )
            )
            return None
        return await handler(update, context)

    return wrapped


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    if in_group(update):
        await update.effective_message.reply_text(
            _(
                "Hi! Use /link here to post a contract's news in this group. Everything else works in a private "
                "chat with me: @{bot}"
            ).format(bot=esc(context.bot.username))
        )
        return
    payload = context.args[0] if context.args else ""
    if re.fullmatch(r"c\d{1,9}", payload, re.ASCII):
        await show_contract(update, context, int(payload[1:]))
        return
    if payload:
        await show_invite(update, context, payload)
        return
    await update.effective_message.reply_text(_(WELCOME).format(name=e(user.first_name)), reply_markup=start_keyboard())


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    service = d.extra.get("reminders")  # the reminder job's own policy, when it runs
    policy = service.settings if service is not None else reminder_settings(context.application)
    await update.effective_message.reply_text(
        help_text(d.settings.review_days, policy, PaymentMode(d.settings.payments))
    )


async def cancel_nothing(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(_("There is nothing to cancel. /help shows what I can do."))


async def contracts_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await list_contracts(update, context, None)


async def list_contracts(update: Update, context: ContextTypes.DEFAULT_TYPE, message, page: int = 0) -> None:
    user = update.effective_user
    items = await deps(context).svc.contracts_of(user.id)
    if not items:
        await edit_or_send(
            context,
            message,
            chat_of(update),
            _("You have no contracts yet. Start one with <b>New contract</b>."),
            new_contract_keyboard(),
        )
        return
    pages = -(-len(items) // PICK_PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    shown = items[page * PICK_PAGE_SIZE : (page + 1) * PICK_PAGE_SIZE]
    head = (
        _("<b>Your contracts</b> (page {page} of {pages})").format(page=page + 1, pages=pages)
        if pages > 1
        else _("<b>Your contracts</b>")
    )
    lines = [head, ""]
    for s in shown:
        count = ngettext("{n} milestone", "{n} milestones", s.milestone_count).format(n=s.milestone_count)
        lines.append(
            f"• {e(s.title)} ({e(s.currency)}) — {_(_YOU_ARE[s.role])} · {_(_CONTRACT_STATUS[s.status])} · {count}"
        )
    markup = choose_contract_keyboard([(s.id, s.title) for s in items], View, page, ContractList)
    await edit_or_send(context, message, chat_of(update), "\n".join(lines), markup)


PICKERS = {
    # purpose: (question, which contracts, the callback of a contract's button)
    "view": (N_("Which contract?"), lambda s: s.status is not ContractStatus.DECLINED, View),
    "link": (
        N_("Which contract should post its news here?"),
        lambda s: s.status in (ContractStatus.ACTIVE, ContractStatus.PENDING),
        LinkGroup,
    ),
    "add": (N_("Which contract is the milestone for?"), lambda s: s.status is ContractStatus.ACTIVE, Pick),
}


async def picker_items(context: ContextTypes.DEFAULT_TYPE, user_id: int, purpose: str) -> list:
    wanted = PICKERS[purpose][1]
    return [s for s in await deps(context).svc.contracts_of(user_id) if wanted(s)]


async def show_picker(
    update: Update, context: ContextTypes.DEFAULT_TYPE, purpose: str, items: list, page: int = 0, message=None
) -> None:
    question, _wanted, button = PICKERS[purpose]
    markup = choose_contract_keyboard([(s.id, s.title) for s in items], button, page, lambda p: PickerPage(purpose, p))
    await edit_or_send(context, message, chat_of(update), _(question), markup)


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
        await update.effective_message.reply_text(_("You have no contracts yet: /newcontract starts one."))
    else:
        await show_picker(update, context, "view", items)


async def show_contract(update: Update, context: ContextTypes.DEFAULT_TYPE, contract_id: int) -> None:
    try:
        contract = await deps(context).svc.view(contract_id, update.effective_user.id)
    except DomainError as err:
        await update.effective_message.reply_text(e(why(err)))
        return
    text, markup = await render_card(context, contract, update.effective_user.id)
    await update.effective_message.reply_text(text, reply_markup=markup)


async def show_invite(update: Update, context: ContextTypes.DEFAULT_TYPE, token: str) -> None:
    d = deps(context)
    try:
        invite, contract = await d.svc.preview_invite(token, update.effective_user.id, d.clock())
    except DomainError as err:
        await update.effective_message.reply_text(e(why(err)))
        return
    names = await names_of(context, contract)
    creator_role = contract.role_of(invite.created_by)
    your_role = creator_role.other if creator_role else Role.FREELANCER
    text = _(_INVITE[your_role]).format(
        who=e(names.get(invite.created_by, _("Someone"))), title=e(contract.title), currency=e(contract.currency)
    )
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(_("Accept"), callback_data=InviteAnswer(True, token).encode()),
                InlineKeyboardButton(_("Decline"), callback_data=InviteAnswer(False, token).encode()),
            ]
        ]
    )
    await update.effective_message.reply_text(text, reply_markup=markup)


async def link_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not in_group(update):
        await update.effective_message.reply_text(
            _("Send /link inside the group chat that should get a contract's news.")
        )
        return
    items = await picker_items(context, update.effective_user.id, "link")
    if not items:
        await update.effective_message.reply_text(_("You have no open contracts to link here."))
    elif len(items) == 1:
        await link_group(update, context, items[0].id, None)
    else:
        await show_picker(update, context, "link", items)


async def link_group(update: Update, context: ContextTypes.DEFAULT_TYPE, contract_id: int, message) -> None:
    d = deps(context)
    chat_id = chat_of(update)
    if not in_group(update):  # a forged "link here" pressed in a private chat
        if update.callback_query:
            await update.callback_query.answer(
                _("Send /link inside the group chat that should get the news."), show_alert=True
            )
        return
    try:
        outcome = await d.svc.link_group(contract_id, update.effective_user.id, chat_id, d.clock())
    except DomainError as err:
        if update.callback_query:
            await update.callback_query.answer(why(err), show_alert=True)
        else:
            await update.effective_message.reply_text(e(why(err)))
        return
    if update.callback_query:
        await update.callback_query.answer(_("Linked."))
    with speaking(await lang_of(context, chat_id, outcome.contract)):  # the group reads it
        text, markup = await render_card(context, outcome.contract, None)
        linked = _("🔗 This group now gets the news of «{title}».").format(title=e(outcome.contract.title))
    await edit_or_send(context, message, chat_id, f"{linked}\n\n{text}", markup)
    await tell_others(context, outcome, update.effective_user.id, to_group=False)  # the group was just told


# ----- buttons ------------------------------------------------------------------------------------
async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every stateless button; the conversation handler takes the ones that ask for text."""
    q = update.callback_query
    cb = decode(q.data)
    if isinstance(cb, Press) and not ACTIONS[cb.action].asks_text:
        await action_pressed(update, context, cb)
    elif isinstance(cb, View | Refresh | OpenCard):
        await view_pressed(update, context, cb)
    elif isinstance(cb, History):
        await history_pressed(update, context, cb)
    elif isinstance(cb, ContractList):
        await q.answer()
        await list_contracts(update, context, q.message, cb.page)
    elif isinstance(cb, InviteAnswer):
        await invite_button(update, context, cb.accept, cb.token)
    elif isinstance(cb, LinkGroup):
        await link_group(update, context, cb.contract_id, q.message)
    elif isinstance(cb, PickerPage) and cb.purpose in ("view", "link"):
        await picker_page(update, context, cb.purpose, cb.page)
    else:
        await q.answer(_("This button is no longer valid."), show_alert=True)


async def refuse(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    err: DomainError,
    contract_id: int | None,
    role: Role | None = None,
) -> None:
    """Answer a refused press. In a group, say whose button it is, naming the contract only where that
    tells nothing new: to its parties, or in the group it posts its news to."""
    reason = why(err)
    if isinstance(err, NotAllowed) and in_group(update) and contract_id is not None:
        contract = await deps(context).svc.peek(contract_id)
        chat = update.effective_chat
        if contract is not None and (
            contract.role_of(update.effective_user.id) is not None
            or (chat is not None and chat.id == contract.group_chat_id)
        ):
            reason = _(_BUTTON_FOR[role]).format(title=contract.title)
        else:
            reason = _("This button isn't for you.")
    await update.callback_query.answer(reason[:200], show_alert=True)


async def refuse_press(
    update: Update, context: ContextTypes.DEFAULT_TYPE, err: DomainError, press: Press, refresh: bool = True
) -> None:
    """A refused action; in a private chat the card is shown as it is now (the press came from a stale one)."""
    contract_id: int | None = press.target
    on_ms = RULES[press.action].on_milestone
    if on_ms:
        try:
            contract_id = await deps(context).svc.contract_of_milestone(press.target)
        except DomainError:
            contract_id = None
    await refuse(update, context, err, contract_id, RULES[press.action].role)
    # A press on a card (its own buttons) shows the card as it is now, whatever the action was.
    pressed_card = card_of(getattr(update.callback_query.message, "reply_markup", None)) == contract_id
    if refresh and (on_ms or pressed_card) and contract_id is not None and not in_group(update):
        await refresh_card(update, context, contract_id)


async def action_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE, press: Press) -> None:
    """A row of the action table: ask first if it asks, else perform it, answer, show the card, tell."""
    q = update.callback_query
    d = deps(context)
    view = ACTIONS[press.action]
    on_ms = RULES[press.action].on_milestone
    where = {"milestone_id": press.target} if on_ms else {"contract_id": press.target}
    try:
        if view.confirm and not press.confirmed:
            contract = await d.svc.require(press.action, q.from_user.id, **where)
            ms = contract.milestone(press.target) if on_ms else None
            await q.answer()
            role = contract.require_party(q.from_user.id)
            other = contract.party_id(role.other)
            names = await names_of(context, contract)
            question = confirmation(view.confirm, contract, ms, names.get(other or 0, _("the other party")), role)
            await edit_or_send(
                context,
                q.message,
                chat_of(update),
                question,
                confirm_keyboard(contract, press.action, press.target, ms),
            )
            return
        if press.action is Action.ACTIVATE:  # telegram mode: the money comes first, by invoice
            contract = await d.svc.require(press.action, q.from_user.id, **where)
            if contract.payments is PaymentMode.TELEGRAM:
                await send_invoice(update, context, press.target)
                return
        outcome = await d.svc.perform(press.action, q.from_user.id, d.clock(), **where)
    except DomainError as err:
        await refuse_press(update, context, err, press)
        return
    await answer_press(update, said(result_text(view, press.action, outcome.contract.payments)))
    await after_refund(context, outcome)
    if outcome.invite is not None:
        await safe_send(
            context,
            q.from_user.id,
            _("New invite link (works once, for 7 days):\n{link}").format(
                link=f"https://t.me/{context.bot.username}?start={outcome.invite.token}"
            ),
        )
        return
    await after_change(update, context, outcome)


async def after_change(update: Update, context: ContextTypes.DEFAULT_TYPE, outcome: Outcome, message=None) -> None:
    """Show the new card where the press happened and tell the others."""
    q = update.callback_query
    viewer = None if in_group(update) else update.effective_user.id
    try:
        with speaking(await shown_in(update, context, outcome.contract)):
            text, markup = await render_card(context, outcome.contract, viewer)
        target = message if message is not None else (q.message if q else None)
        await edit_or_send(context, target, chat_of(update), text, markup)
    finally:  # the change is made: its news goes out whatever happened to the card
        await tell_others(context, outcome, update.effective_user.id)


async def refresh_card(update: Update, context: ContextTypes.DEFAULT_TYPE, contract_id: int, page: int = 0) -> None:
    try:
        contract = await deps(context).svc.view(contract_id, update.effective_user.id)
    except DomainError:
        return
    text, markup = await render_card(context, contract, update.effective_user.id, page)
    await edit_or_send(context, update.callback_query.message, chat_of(update), text, markup)


async def view_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE, cb: View | Refresh | OpenCard) -> None:
    """The card in place of the pressed message; OpenCard (on news, a reminder) as a new one below it."""
    q = update.callback_query
    try:
        contract = await deps(context).svc.view(cb.contract_id, q.from_user.id)
    except DomainError as err:
        await refuse(update, context, err, cb.contract_id)
        return
    await q.answer()
    viewer = None if in_group(update) else q.from_user.id
    with speaking(await shown_in(update, context, contract)):
        text, markup = await render_card(context, contract, viewer, 0 if isinstance(cb, OpenCard) else cb.page)
    if isinstance(cb, OpenCard):
        await safe_send(context, chat_of(update), text, markup)
        return
    await edit_or_send(context, q.message, chat_of(update), text, markup)


async def history_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE, cb: History) -> None:
    q = update.callback_query
    try:
        contract, entries = await deps(context).svc.history(cb.contract_id, q.from_user.id)
    except DomainError as err:
        await refuse(update, context, err, cb.contract_id)
        return
    await q.answer()
    tz = await viewer_zone(context, None if in_group(update) else q.from_user.id)  # a group reads UTC
    names = await names_of(context, contract)
    with speaking(await shown_in(update, context, contract)):
        text, pages = history_text(contract, entries, names, tz, cb.page)
        markup = history_keyboard(contract, min(cb.page, pages - 1), pages)
    await edit_or_send(context, q.message, chat_of(update), text, markup)


async def invite_button(update: Update, context: ContextTypes.DEFAULT_TYPE, accept: bool, token: str) -> None:
    q = update.callback_query
    d = deps(context)
    try:
        if accept:
            outcome = await d.svc.accept_invite(token, q.from_user.id, d.clock())
        else:
            outcome = await d.svc.decline_invite(token, q.from_user.id, d.clock())
    except DomainError as err:
        await q.answer(why(err)[:200], show_alert=True)
        return
    if accept:
        await q.answer(_("You joined the contract."))
        await after_change(update, context, outcome)
    else:
        await q.answer(_("Declined."))
        await edit_or_send(
            context, q.message, chat_of(update), _("You declined «{title}».").format(title=e(outcome.contract.title))
        )
        await tell_others(context, outcome, None)
