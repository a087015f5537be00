"""Disputes for the operators (PRODUCT §8): /disputes lists those waiting for a decision, each with both
sides' reasons, offers, notes and files and a Decide button; the desk (bot/desk.py) counts them too.

Only operators (OPERATOR_IDS, in a private chat) get an answer; anyone else gets what an unknown command
gets. The decision itself is the action table's DECIDE_DISPUTE (bot/flows/disagree.py)."""

from __future__ import annotations

from datetime import UTC

from telegram import InlineKeyboardButton as Btn
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CommandHandler, ContextTypes

from domain.actions import Action
from domain.errors import DomainError
from domain.model import Milestone, Role
from domain.services import MilestoneDetails, Outcome

from . import desk
from .actions import event_label
from .callbacks import Press
from .common import deps, lang_of, safe_send
from .details import send_submission
from .i18n import N_, _, ngettext, note_text, speaking
from .texts import e, fit, fmt_time, money

DISPUTE_EVENTS = ("dispute_opened", "dispute_offer", "dispute_countered", "submitted", "changes_requested")
_ROLE = {Role.CLIENT: N_("client"), Role.FREELANCER: N_("freelancer")}
_OFFER = {
    Role.CLIENT: N_("client: {amount} to the freelancer"),
    Role.FREELANCER: N_("freelancer: {amount} to the freelancer"),
}


def decide_keyboard(ms: Milestone) -> InlineKeyboardMarkup:
    assert ms.id is not None
    return InlineKeyboardMarkup(
        [[Btn(_("Decide the split"), callback_data=Press(Action.DECIDE_DISPUTE, ms.id).encode())]]
    )


def dispute_text(found: MilestoneDetails, names: dict[int, str]) -> str:
    """Both sides as an operator reads them: who is who, the reasons, every offer and note, the standing
    offers, and what was submitted."""
    c, ms = found.contract, found.milestone
    client = names.get(c.client_id or 0, _("the client"))
    freelancer = names.get(c.freelancer_id or 0, _("the freelancer"))
    lines = [
        _("⚖️ <b>Dispute</b> about «{milestone}» in «{contract}»: {amount} held.").format(
            milestone=e(ms.title), contract=e(c.title), amount=money(ms.amount, c.currency)
        ),
        _("Client: {client} (id {client_id}) · Freelancer: {freelancer} (id {freelancer_id})").format(
            client=e(client), client_id=c.client_id, freelancer=e(freelancer), freelancer_id=c.freelancer_id
        ),
        "",
    ]
    for h in found.history:
        if h.action not in DISPUTE_EVENTS:
            continue
        who = names.get(h.actor_id or 0, _("the bot"))
        role = c.role_of(h.actor_id)
        label = event_label(h.action)
        note = f": {e(note_text(h.note, h.said))}" if h.note else ""
        lines.append(f"• {fmt_time(h.at, UTC)} {e(who)} ({_(_ROLE[role]) if role else '—'}) {e(label)}{note}")
    standing = [
        _(_OFFER[r]).format(amount=money(offer, c.currency))
        for r in (Role.CLIENT, Role.FREELANCER)
        if (offer := ms.offer_of(r)) is not None
    ]
    lines += [
        "",
        _("Standing offers: {offers}").format(offers="; ".join(standing)) if standing else _("Standing offers: none"),
    ]
    if found.files:
        lines.append(_("Files submitted: {n} (sent below).").format(n=len(found.files)))
    return fit("\n".join(lines))


async def show_dispute(context: ContextTypes.DEFAULT_TYPE, chat_id: int, found: MilestoneDetails) -> None:
    """To an operator, in their language: the one asking (/disputes), or each one told of an escalation
    a party caused."""
    names = await deps(context).svc.names([found.contract.client_id, found.contract.freelancer_id])
    with speaking(await lang_of(context, chat_id)):
        if found.files:
            await send_submission(context, chat_id, found.contract, found.milestone, tuple(found.files))
        text, markup = dispute_text(found, names), decide_keyboard(found.milestone)
    await safe_send(context, chat_id, text, markup)


async def disputes_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    operator = update.effective_user.id
    waiting = await d.svc.escalated_disputes(operator, d.settings.operators)
    if not waiting:
        await update.effective_message.reply_text(_("No dispute waits for a decision."))
        return
    count = len(waiting)
    await update.effective_message.reply_text(
        ngettext("⚖️ {n} dispute waits for a decision:", "⚖️ {n} disputes wait for a decision:", count).format(n=count)
    )
    for _contract, ms in waiting:
        assert ms.id is not None
        try:
            found = await d.svc.operator_dispute(ms.id, operator, d.settings.operators)
        except DomainError:
            continue  # decided meanwhile
        await show_dispute(context, operator, found)


async def tell_operators(context: ContextTypes.DEFAULT_TYPE, outcome: Outcome) -> None:
    """An escalated dispute goes to every operator (but one who is a party to it) with both sides."""
    d = deps(context)
    ms = outcome.milestone
    if ms is None or ms.id is None:
        return
    for operator in sorted(d.settings.operators):
        try:
            found = await d.svc.operator_dispute(ms.id, operator, d.settings.operators)
        except DomainError:
            continue
        await show_dispute(context, operator, found)


async def desk_section(context: ContextTypes.DEFAULT_TYPE, operator_id: int) -> list[str]:
    d = deps(context)
    waiting = await d.svc.escalated_disputes(operator_id, d.settings.operators)
    lines = ["", _("<b>Disputes</b>")]
    if not waiting:
        return lines + [_("None waits for a decision.")]
    for c, ms in waiting:
        lines.append(
            _("• «{milestone}» in «{contract}»: {amount} held").format(
                milestone=e(ms.title), contract=e(c.title), amount=money(ms.amount, c.currency)
            )
        )
    return lines + [_("/disputes shows each with both sides, and decides it.")]


def install(app: Application) -> None:
    app.add_handler(CommandHandler("disputes", desk.operators_only(disputes_command)))
    if desk_section not in desk.SECTIONS:
        desk.SECTIONS.append(desk_section)
