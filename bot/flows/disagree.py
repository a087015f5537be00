"""Disagreements (PRODUCT §8): pay less, a bonus, a new due date, a dispute, an offer, an operator's decision.

Each starts with a press of its row in the action table, asks for an amount, a date or a text (or two), and
the money ones end on a confirmation that names the amounts; the domain decides (the same rules as a tap)."""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardButton as Btn
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from domain.actions import Action
from domain.errors import DomainError, InvalidInput, Term
from domain.model import REASON_MAX, Contract, Milestone, PaymentMode, check_text
from domain.services import Outcome

from ..actions import ACTIONS, confirm_text, said
from ..callbacks import Choice, Press, decode
from ..common import answer_press, deps, names_of, render_card, safe_send, user_zone
from ..handlers import refuse_press
from ..i18n import N_, _, why
from ..notify import tell_others
from ..parsing import parse_amount, parse_due_date
from ..payments import after_refund, result_text, send_bonus_invoice
from ..texts import confirmation, e, fmt_date, money
from .base import pressed_contract, say, text_of
from .draft import END, Draft, DraftGone, Flow, State, Step, drop_draft, keep_draft, need_draft

log = logging.getLogger(__name__)

FLOW_ACTIONS = (
    Action.PAY_LESS,
    Action.APPROVE_WITH_BONUS,
    Action.PROPOSE_DUE_DATE,
    Action.OPEN_DISPUTE,
    Action.OFFER_SETTLEMENT,
    Action.COUNTER_OFFER,
    Action.DECIDE_DISPUTE,
)
DONE = {
    Action.PAY_LESS: N_(
        "✅ Released {paid} of {amt} and {rest} refunded to you, as recorded in the ledger: pay the freelancer "
        "the {paid} directly. They are told, with your reason."
    ),
    Action.APPROVE_WITH_BONUS: N_(
        "🎁 Released {amt} with a bonus of {bonus}, as recorded in the ledger: pay the "
        "bonus to the freelancer directly."
    ),
    Action.PROPOSE_DUE_DATE: N_("📅 New due date proposed: the other party is asked to accept it."),
    Action.OPEN_DISPUTE: N_(
        "⚖️ Dispute opened: the automatic release and the reminders of this milestone are "
        "stopped. Make a settlement offer from the card."
    ),
    Action.OFFER_SETTLEMENT: N_("⚖️ Offer sent: {paid} to the freelancer, {rest} back to the client."),
    Action.COUNTER_OFFER: N_("⚖️ Counter-offer sent: {paid} to the freelancer, {rest} back to the client."),
    Action.DECIDE_DISPUTE: N_(
        "⚖️ Decided: {paid} to the freelancer, {rest} back to the client, as recorded in the ledger. Both parties "
        "are told."
    ),
}
# Telegram mode (PRODUCT §7): real money, the bonus is invoiced.
DONE_TELEGRAM = {
    Action.APPROVE_WITH_BONUS: N_(
        "🎁 Released {amt}; the bonus of {bonus} is invoiced to you: pay the invoice to "
        "send it. The escrow agent pays both out to the freelancer."
    ),
    Action.PAY_LESS: N_(
        "✅ Released {paid} of {amt}; {rest} is refunded to you. The freelancer is told, with your reason."
    ),
    Action.DECIDE_DISPUTE: N_("⚖️ Decided: {paid} to the freelancer, {rest} back to the client. Both parties are told."),
}
AMOUNT_AGAIN = N_("{reason} Send the amount again, or /cancel.")
NOT_DONE = N_("Not done: {reason}")


def cancel_row() -> list[Btn]:
    return [Btn(_("Cancel"), callback_data=Choice("dg", "cancel").encode())]


async def bonus_invoice(context: ContextTypes.DEFAULT_TYPE, client_id: int, outcome: Outcome) -> None:
    """Telegram Payments mode: the bonus is invoiced to the client (bot/payments)."""
    await send_bonus_invoice(context, client_id, outcome)


def _operators(context: ContextTypes.DEFAULT_TYPE) -> frozenset[int]:
    return deps(context).settings.operators


async def _target(update: Update, context: ContextTypes.DEFAULT_TYPE) -> tuple[Press, Contract] | None:
    """The pressed action and its contract, if the presser may do it now (an operator's decision is checked
    against OPERATOR_IDS)."""
    q = update.callback_query
    press = decode(q.data)
    assert isinstance(press, Press)
    if press.action is not Action.DECIDE_DISPUTE:
        return await pressed_contract(update, context)
    try:
        found = await deps(context).svc.operator_dispute(press.target, q.from_user.id, _operators(context))
    except DomainError as err:
        await refuse_press(update, context, err, press, refresh=False)
        return None
    return press, found.contract


async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    found = await _target(update, context)
    if found is None:
        return None
    press, contract = found
    ms = contract.milestone(press.target)
    action = press.action
    keep_draft(
        context,
        Draft(
            Flow.DISAGREE,
            contract_id=contract.id,
            milestone_id=ms.id,
            currency=contract.currency,
            action=action.value,
            from_chat=update.effective_chat.id,
        ),
    )
    amt, m = money(ms.amount, contract.currency), f"<b>{e(ms.title)}</b>"
    markup = InlineKeyboardMarkup([cancel_row()])
    if action is Action.PROPOSE_DUE_DATE:
        text = _(
            "{m} is due on {due}. Send the <b>new due date</b>, e.g. 2026-12-31, 31.12.2026, "
            "Dec 31, tomorrow, in 2 weeks or next friday."
        )
        state = State.DG_DATE
    elif action is Action.OPEN_DISPUTE:
        text = _(
            "Opening a dispute about {m} ({amt} held). Send the <b>reason</b> (1–1,000 characters): the other "
            "party, and an operator if it comes to that, read it."
        )
        state = State.DG_TEXT
    elif action is Action.PAY_LESS:
        text = _("How much of {amt} do you release for {m}? Send the <b>amount</b>; the rest is refunded to you.")
        state = State.DG_AMOUNT
    elif action is Action.APPROVE_WITH_BONUS:
        text = _("Releasing {amt} for {m}. Send the <b>bonus</b> you add on top.")
        state = State.DG_AMOUNT
    elif action is Action.DECIDE_DISPUTE:
        text = _(
            "Deciding the dispute about {m} ({amt} held). Send the <b>amount to the freelancer</b> (0 to {amt}); "
            "the rest goes back to the client."
        )
        state = State.DG_AMOUNT
    else:
        text = _(
            "Settling {m} ({amt} held). Send the <b>amount to the freelancer</b> (0 to {amt}); the rest goes back "
            "to the client."
        )
        state = State.DG_AMOUNT
    text = text.format(m=m, amt=amt, due=fmt_date(ms.due_date))
    ok = await say(update, context, text, markup)
    return state if ok else END


def _draft(context: ContextTypes.DEFAULT_TYPE) -> tuple[Draft, Action]:
    d = need_draft(context, Flow.DISAGREE)
    if d.action is None:
        raise DraftGone
    return d, Action(d.action)


async def _gone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    drop_draft(context)
    if update.callback_query:
        await update.callback_query.answer()
    await safe_send(context, update.effective_user.id, _("I lost track of that step: press the button again."))
    return END


async def got_amount(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    user_id = update.effective_user.id
    try:
        d, action = _draft(context)
    except DraftGone:
        return await _gone(update, context)
    text = text_of(update).strip()
    try:
        amount = 0 if text in ("0", "0.00", "0,00") else parse_amount(text, d.currency)
    except InvalidInput as err:
        await safe_send(context, user_id, _(AMOUNT_AGAIN).format(reason=e(why(err))))
        return State.DG_AMOUNT
    try:  # the domain's range for this action, told now rather than at the end
        found = await _contract(context, user_id, action, d)
        found.check_amount(action, found.milestone(d.milestone_id or 0), amount)
        if action is Action.APPROVE_WITH_BONUS:  # invoiced in telegram mode: Telegram Payments' limits
            deps(context).svc.check_payment_amount(found, amount)
    except InvalidInput as err:
        await safe_send(context, user_id, _(AMOUNT_AGAIN).format(reason=e(why(err))))
        return State.DG_AMOUNT
    except DomainError as err:
        drop_draft(context)
        await safe_send(context, user_id, _(NOT_DONE).format(reason=e(why(err))))
        return END
    d.amount = amount
    keep_draft(context, d)
    if action is Action.PAY_LESS:
        await safe_send(
            context,
            user_id,
            _("Why do you release less? Send the <b>reason</b> (1–1,000 characters): the freelancer reads it."),
            InlineKeyboardMarkup([cancel_row()]),
        )
        return State.DG_TEXT
    if action is Action.DECIDE_DISPUTE:
        await safe_send(
            context,
            user_id,
            _("Send the <b>note</b> that explains the decision (1–1,000 characters): both parties read it."),
            InlineKeyboardMarkup([cancel_row()]),
        )
        return State.DG_TEXT
    if action in (Action.OFFER_SETTLEMENT, Action.COUNTER_OFFER):
        await safe_send(
            context,
            user_id,
            _("Add a <b>note</b> for the other party (why this split), or tap Skip."),
            InlineKeyboardMarkup([[Btn(_("Skip"), callback_data=Choice("dg", "skip").encode())], cancel_row()]),
        )
        return State.DG_TEXT
    return await ask_confirm(update, context, d, action)  # the bonus


async def got_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    user_id = update.effective_user.id
    try:
        d, action = _draft(context)
    except DraftGone:
        return await _gone(update, context)
    text = "" if update.callback_query else text_of(update)
    required = action in (Action.OPEN_DISPUTE, Action.PAY_LESS, Action.DECIDE_DISPUTE)
    is_reason = action in (Action.OPEN_DISPUTE, Action.PAY_LESS)
    try:
        check_text(
            text, Term("reason") if is_reason else Term("note"), min_len=1 if required else 0, max_len=REASON_MAX
        )
    except DomainError as err:
        again = _("{reason} Send the <b>reason</b> again.") if is_reason else _("{reason} Send the <b>note</b> again.")
        await safe_send(context, user_id, again.format(reason=e(why(err))))
        return State.DG_TEXT
    d.description = text
    keep_draft(context, d)
    if action in (Action.PAY_LESS, Action.DECIDE_DISPUTE):
        return await ask_confirm(update, context, d, action)
    return await perform(update, context, d, action)


async def got_date(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    user_id = update.effective_user.id
    try:
        d, action = _draft(context)
    except DraftGone:
        return await _gone(update, context)
    tz_name, tz = await user_zone(context, user_id)
    today = deps(context).clock().astimezone(tz).date()
    try:
        d.due = parse_due_date(text_of(update), today, tz_name).isoformat()
    except InvalidInput as err:
        await safe_send(
            context, user_id, _("{reason} Send the new due date again, or /cancel.").format(reason=e(why(err)))
        )
        return State.DG_DATE
    return await perform(update, context, d, action, today=today)


async def _contract(context: ContextTypes.DEFAULT_TYPE, user_id: int, action: Action, d: Draft) -> Contract:
    """The contract, if `user_id` may still do `action` to the draft's milestone."""
    assert d.milestone_id is not None
    svc = deps(context).svc
    if action is Action.DECIDE_DISPUTE:
        return (await svc.operator_dispute(d.milestone_id, user_id, _operators(context))).contract
    return await svc.require(action, user_id, milestone_id=d.milestone_id)


def _figures(d: Draft, ms: Milestone, action: Action) -> dict[str, int]:
    amount = d.amount or 0
    if action is Action.APPROVE_WITH_BONUS:
        return {"bonus": amount}
    return {"paid": amount, "rest": ms.amount - amount}


async def ask_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Draft, action: Action) -> Step:
    """The money ones ask once, naming the amounts (the action table's confirmation)."""
    user_id = update.effective_user.id
    assert d.milestone_id is not None
    try:
        contract = await _contract(context, user_id, action, d)
    except DomainError as err:
        drop_draft(context)
        await safe_send(context, user_id, _(NOT_DONE).format(reason=e(why(err))))
        return END
    ms = contract.milestone(d.milestone_id)
    role = contract.role_of(user_id)
    other = contract.party_id(role.other) if role is not None else None
    names = await names_of(context, contract)
    view = ACTIONS[action]
    template = confirm_text(action, telegram=contract.payments is PaymentMode.TELEGRAM)
    assert template is not None
    question = confirmation(
        template, contract, ms, names.get(other or 0, _("the other party")), None, **_figures(d, ms, action)
    )
    if d.description and action is Action.PAY_LESS:
        question += "\n" + _("Reason: {reason}").format(reason=e(d.description))
    markup = InlineKeyboardMarkup(
        [[Btn(said(view.confirm_label), callback_data=Choice("dg", "ok").encode())], cancel_row()]
    )
    await safe_send(context, user_id, question, markup)
    return State.DG_CONFIRM


async def confirmed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    try:
        d, action = _draft(context)
    except DraftGone:
        return await _gone(update, context)
    return await perform(update, context, d, action)


def _args(d: Draft, action: Action, context: ContextTypes.DEFAULT_TYPE, **extra: Any) -> dict[str, Any]:
    if action is Action.PAY_LESS:
        return {"amount": d.amount, "reason": d.description or ""}
    if action is Action.APPROVE_WITH_BONUS:
        return {"bonus": d.amount}
    if action is Action.PROPOSE_DUE_DATE:
        assert d.due_date is not None
        return {"due_date": d.due_date, "today": extra["today"]}
    if action is Action.OPEN_DISPUTE:
        return {"reason": d.description or ""}
    if action is Action.DECIDE_DISPUTE:
        return {"amount": d.amount, "note": d.description or "", "operators": _operators(context)}
    return {"amount": d.amount, "note": d.description or ""}  # an offer or a counter-offer


async def perform(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Draft, action: Action, **extra: Any) -> Step:
    dd = deps(context)
    user_id = update.effective_user.id
    try:
        outcome = await dd.svc.perform(
            action, user_id, dd.clock(), milestone_id=d.milestone_id, **_args(d, action, context, **extra)
        )
    except DomainError as err:
        if isinstance(err, InvalidInput) and action is not Action.PROPOSE_DUE_DATE and d.amount is not None:
            # An amount out of range: ask it again (the rest of the flow stays).
            d.amount = None
            keep_draft(context, d)
            if update.callback_query:
                await answer_press(update)
            await safe_send(context, user_id, _(AMOUNT_AGAIN).format(reason=e(why(err))))
            return State.DG_AMOUNT
        drop_draft(context)
        if update.callback_query:
            await answer_press(update, why(err)[:200], alert=True)
        await safe_send(context, user_id, _(NOT_DONE).format(reason=e(why(err))))
        return END
    drop_draft(context)
    c = outcome.contract
    await answer_press(update, said(result_text(ACTIONS[action], action, c.payments)))
    ms = outcome.milestone
    assert ms is not None
    figures = {k: money(v, c.currency) for k, v in _figures(d, ms, action).items()}
    done = DONE_TELEGRAM.get(action, DONE[action]) if c.payments is PaymentMode.TELEGRAM else DONE[action]
    await safe_send(context, user_id, _(done).format(amt=money(ms.amount, c.currency), **figures))
    if action is Action.APPROVE_WITH_BONUS and c.payments is PaymentMode.TELEGRAM:
        await bonus_invoice(context, user_id, outcome)
    await after_refund(context, outcome)  # Stars: a whole charge refunded goes back through refundStarPayment
    if c.role_of(user_id) is not None:
        card, markup = await render_card(context, c, user_id)
        await safe_send(context, user_id, card, markup)
    await tell_others(context, outcome, user_id)
    return END
