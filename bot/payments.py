"""Telegram Payments (PRODUCT §7, PAYMENTS=telegram): the invoice on Activate & fund, the pre-checkout
answer, the successful payment, and Stars refunds.

answerPreCheckoutQuery is called directly during the turn, not through the outbox: Telegram waits at most
10 s for it, the answer changes nothing in the database (so there is nothing it must be committed with), and
an answer that comes late is worthless (retrying it after a restart would only be refused). sendInvoice and
refundStarPayment are recorded in the outbox with the change that causes them (bot/turn.py)."""

from __future__ import annotations

import logging

from telegram import LabeledPrice, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from domain.actions import Action
from domain.errors import DomainError
from domain.model import PaymentMode
from domain.money import STARS
from domain.payment_service import PaymentOutcome, PaymentService, StarRefund
from domain.payments import InvoiceKind
from domain.services import Outcome

from .actions import TELEGRAM_RESULTS, ActionView
from .common import deps, lang_of, render_card, safe_send
from .i18n import _, speaking, why
from .keyboards import notification_keyboard
from .notify import refresh_live_cards
from .texts import e, money, notification, short

log = logging.getLogger(__name__)


def payment_service(context: ContextTypes.DEFAULT_TYPE) -> PaymentService:
    return deps(context).extra["payments"]


def result_text(view: ActionView, action: Action, mode: PaymentMode) -> str:
    """The answer to a press, as this contract's money mode words it: its message id (English), to be
    translated where it is shown (`said`)."""
    if mode is PaymentMode.TELEGRAM:
        return TELEGRAM_RESULTS.get(action, view.result)
    return view.result


async def send_invoice(update: Update, context: ContextTypes.DEFAULT_TYPE, milestone_id: int) -> None:
    """Activate & fund in telegram mode: the client gets an invoice for the milestone (a new one each tap;
    older ones go stale). The domain refuses it exactly as it would refuse the activation."""
    q = update.callback_query
    d = deps(context)
    try:
        invoice = await payment_service(context).issue_invoice(q.from_user.id, milestone_id, d.clock())
    except DomainError as err:
        await q.answer(why(err)[:200], show_alert=True)
        return
    c, ms = invoice.contract, invoice.milestone
    await q.answer(_("Here is the invoice: pay it to fund the milestone."))
    token = d.settings.payment_provider_token
    await context.bot.send_invoice(
        chat_id=q.from_user.id,
        title=short(ms.title, 32),
        # the client pressed: the invoice is in their language (spoken now)
        description=short(
            _("Escrow funding of «{milestone}» in «{contract}», held until you release it.").format(
                milestone=ms.title, contract=c.title
            ),
            255,
        ),
        payload=invoice.payload,
        currency=c.currency,
        prices=[LabeledPrice(short(ms.title, 32), ms.amount)],
        provider_token=None if c.currency == STARS or token is None else token.get_secret_value(),
    )


async def send_bonus_invoice(context: ContextTypes.DEFAULT_TYPE, client_id: int, outcome: Outcome) -> None:
    """Approve + bonus in telegram mode: the milestone is released; the client gets an invoice for the
    bonus (its own payload kind: it can't fund a milestone). Sent through the outbox with the turn."""
    ms = outcome.milestone
    assert ms is not None and ms.id is not None
    d = deps(context)
    lang = await lang_of(context, client_id)  # the payer reads the invoice
    try:
        invoice = await payment_service(context).issue_bonus_invoice(client_id, ms.id, d.clock())
    except DomainError as err:
        with speaking(lang):
            text = _("No bonus invoice: {reason}").format(reason=e(why(err)))
        await safe_send(context, client_id, text)
        return
    c = invoice.contract
    token = d.settings.payment_provider_token
    with speaking(lang):
        title = short(_("Bonus: {milestone}").format(milestone=ms.title), 32)
        description = short(
            _(
                "The bonus you added to «{milestone}» in «{contract}»; the escrow agent pays it out to the freelancer."
            ).format(milestone=ms.title, contract=c.title),
            255,
        )
    await context.bot.send_invoice(
        chat_id=client_id,
        title=title,
        description=description,
        payload=invoice.payload,
        currency=c.currency,
        prices=[LabeledPrice(title, invoice.amount)],
        provider_token=None if c.currency == STARS or token is None else token.get_secret_value(),
    )


async def pre_checkout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ok only if the payload is ours, current and unexpired and the domain lets the payer fund the
    milestone now with this amount and currency; else the reason. Called directly (see the module)."""
    query = update.pre_checkout_query
    d = deps(context)
    refusal = await payment_service(context).pre_checkout(
        query.from_user.id, query.invoice_payload, query.total_amount, query.currency, d.clock()
    )
    try:
        if refusal is None:
            await query.answer(ok=True)
        else:
            await query.answer(ok=False, error_message=why(refusal)[:255])
    except TelegramError as err:  # too late (a restart): Telegram has failed the payment already
        log.warning("could not answer pre-checkout query %s: %s", query.id, err)


async def successful_payment(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Funds the milestone once per charge id; a payment that can't be applied is recorded unapplied and
    refunded (Stars at once, fiat by an operator). Both parties are told."""
    message = update.effective_message
    paid = message.successful_payment
    d = deps(context)
    svc = payment_service(context)
    outcome = await svc.successful_payment(
        message.from_user.id,
        paid.invoice_payload,
        paid.total_amount,
        paid.currency,
        paid.telegram_payment_charge_id,
        paid.provider_payment_charge_id or "",
        d.clock(),
    )
    if outcome.duplicate:
        log.info("payment %s is in the ledger already: nothing to do", paid.telegram_payment_charge_id)
        return
    c, ms = outcome.contract, outcome.milestone
    assert c is not None and ms is not None
    amount = money(paid.total_amount, paid.currency)
    bonus = outcome.kind is InvoiceKind.BONUS
    if outcome.refusal is not None:  # the payer is acting: their language
        how = (
            _("It is refunded to you in Stars now.")
            if outcome.star_refunds
            else _("The escrow agent refunds it to you; you'll be told when it is sent.")
        )
        unapplied = (
            _("⚠️ Your payment of {amount} for the bonus of «{milestone}» could not be applied: {reason} {how}")
            if bonus
            else _("⚠️ Your payment of {amount} for «{milestone}» could not be applied: {reason} {how}")
        )
        await safe_send(
            context,
            message.from_user.id,
            unapplied.format(amount=amount, milestone=e(ms.title), reason=e(why(outcome.refusal)), how=how),
        )
        await send_star_refunds(context, outcome.star_refunds)
        return
    if bonus:
        await bonus_paid(context, outcome, message.from_user.id, paid.total_amount, paid.currency)
        return
    names = await deps(context).svc.names([c.client_id, c.freelancer_id])
    text, markup = await render_card(context, c, message.from_user.id)
    funded = _("✅ Paid {amount}: «{milestone}» is funded.").format(amount=amount, milestone=e(ms.title))
    await safe_send(context, message.from_user.id, f"{funded}\n\n{text}", markup)
    if c.freelancer_id is not None:
        with speaking(await lang_of(context, c.freelancer_id)):
            news = notification("paid_and_funded", c, ms, names.get(message.from_user.id, _("The client")))
            markup = notification_keyboard(c, c.role_of(c.freelancer_id), ms)
        await safe_send(context, c.freelancer_id, news, markup)
    if c.group_chat_id is not None:
        with speaking(await lang_of(context, c.group_chat_id, c)):
            news = notification("paid_and_funded", c, ms, names.get(message.from_user.id, _("The client")))
        await safe_send(context, c.group_chat_id, news)
    await refresh_live_cards(context, c, [(c.freelancer_id, c.freelancer_id), (c.group_chat_id, None)])


async def bonus_paid(
    context: ContextTypes.DEFAULT_TYPE, outcome: PaymentOutcome, payer_id: int, paid: int, currency: str
) -> None:
    """A bonus invoice paid (`paid` in `currency`'s minor units): the client is thanked, the freelancer
    told (the payout is the operators')."""
    c, ms = outcome.contract, outcome.milestone
    assert c is not None and ms is not None
    names = await deps(context).svc.names([c.client_id, c.freelancer_id])
    text, markup = await render_card(context, c, payer_id)
    thanks = _("✅ Paid the bonus of {amount} for «{milestone}»: the escrow agent pays it out to the freelancer.")
    await safe_send(
        context, payer_id, f"{thanks.format(amount=money(paid, currency), milestone=e(ms.title))}\n\n{text}", markup
    )
    if c.freelancer_id is not None:
        with speaking(await lang_of(context, c.freelancer_id)):
            news = _(
                "🎁 {payer} paid the bonus of {amount} for «{milestone}» in «{contract}». The escrow agent "
                "pays it out to you; you'll be told when it is sent."
            ).format(
                payer=e(names.get(payer_id, _("The client"))),
                amount=money(paid, currency),
                milestone=e(ms.title),
                contract=e(c.title),
            )
        await safe_send(context, c.freelancer_id, news)
    await refresh_live_cards(context, c, [(c.freelancer_id, c.freelancer_id), (c.group_chat_id, None)])


async def send_star_refunds(context: ContextTypes.DEFAULT_TYPE, refunds: list[StarRefund]) -> None:
    """refundStarPayment for each (recorded in the outbox with the change that owes it)."""
    for r in refunds:
        await context.bot.refund_star_payment(user_id=r.user_id, telegram_payment_charge_id=r.charge_id)


async def after_refund(context: ContextTypes.DEFAULT_TYPE, outcome: Outcome) -> None:
    """A refund of a Stars-funded milestone goes back to the client at once through refundStarPayment:
    whatever recorded it (a refund, an accepted refund request, pay less, an accepted offer, an operator's
    decision). refundStarPayment gives back a whole charge: a partial refund stays owed on the desk."""
    c = outcome.contract
    if c.payments is not PaymentMode.TELEGRAM or c.currency != STARS or c.id is None:
        return
    if outcome.milestone is None or outcome.milestone.refunded_part <= 0:  # nothing went back to the client
        return
    refunds = await payment_service(context).refund_stars(c.id, deps(context).clock())
    await send_star_refunds(context, refunds)
    for r in refunds:
        with speaking(await lang_of(context, r.user_id)):  # the client, whoever refunded
            text = _("💸 {amount} for your milestone are refunded to you in Stars.").format(
                amount=money(r.amount, STARS)
            )
        await safe_send(context, r.user_id, text)
