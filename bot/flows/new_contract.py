"""New contract: title, currency, which side, then Create; the answer is an invite link."""

from __future__ import annotations

from telegram import InlineKeyboardButton as Btn
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from domain.errors import DomainError, InvalidInput, Term
from domain.model import CONTRACT_TITLE_MAX, PaymentMode, Role, check_text

from ..callbacks import Choice, decode
from ..common import deps, safe_send
from ..i18n import _, why
from ..parsing import normalize_currency
from ..texts import e
from .base import say, text_of
from .draft import END, Draft, DraftGone, Flow, State, Step, drop_draft, keep_draft, load_draft, need_draft

CURRENCIES = ["USD", "EUR", "GBP", "JPY", "CAD", "AUD"]


def current(context: ContextTypes.DEFAULT_TYPE) -> Draft:
    """This flow's draft; a step whose draft was lost goes on with a fresh one (Create says what's missing)."""
    d = load_draft(context)
    return d if d is not None and d.kind is Flow.CONTRACT else Draft(Flow.CONTRACT)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    keep_draft(context, Draft(Flow.CONTRACT))
    ok = await say(
        update,
        context,
        _("Let's set up a contract. What is its <b>title</b>? (1–100 characters, e.g. «Website redesign»)"),
    )
    return State.NC_TITLE if ok else END


async def got_title(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    text = text_of(update)
    d = current(context)
    try:
        check_text(text, Term("title"), min_len=1, max_len=CONTRACT_TITLE_MAX)
    except DomainError as err:
        await update.message.reply_text(
            _("{reason} Send the contract's <b>title</b> again.").format(reason=e(why(err)))
        )
        return State.NC_TITLE
    d.title = text
    keep_draft(context, d)
    rows = [
        [Btn(c, callback_data=Choice("cur", c).encode()) for c in CURRENCIES[:3]],
        [Btn(c, callback_data=Choice("cur", c).encode()) for c in CURRENCIES[3:]],
    ]
    question = _("Which <b>currency</b>? Tap one, or type an ISO code such as CHF.")
    if deps(context).svc.stars and deps(context).svc.payments is PaymentMode.TELEGRAM:  # PRODUCT §7
        rows = [[Btn(_("XTR (Telegram Stars)"), callback_data=Choice("cur", "XTR").encode())]]
        question = _("Payments here are in <b>Telegram Stars</b>: the currency is XTR (whole stars).")
    await update.message.reply_text(question, reply_markup=InlineKeyboardMarkup(rows))
    return State.NC_CURRENCY


async def got_currency(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    q = update.callback_query
    cb = decode(q.data) if q else None
    raw = cb.value if isinstance(cb, Choice) else text_of(update)
    d = current(context)
    try:
        code = deps(context).svc.check_currency(normalize_currency(raw))  # telegram mode: what it can take
    except InvalidInput as err:
        await safe_send(
            context,
            update.effective_user.id,
            _("{reason} Send the <b>currency</b> again.").format(reason=e(why(err))),
        )
        return State.NC_CURRENCY
    d.currency = code
    keep_draft(context, d)
    markup = InlineKeyboardMarkup(
        [
            [Btn(_("I am the client"), callback_data=Choice("role", "client").encode())],
            [Btn(_("I am the freelancer"), callback_data=Choice("role", "freelancer").encode())],
        ]
    )
    await say(update, context, _("Currency: {code}. Which side are you on?").format(code=e(code)), markup)
    return State.NC_ROLE


async def got_role(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    cb = decode(update.callback_query.data)
    d = current(context)
    assert isinstance(cb, Choice)
    d.role = cb.value
    keep_draft(context, d)
    markup = InlineKeyboardMarkup(
        [
            [
                Btn(_("Create"), callback_data=Choice("nc", "create").encode()),
                Btn(_("Cancel"), callback_data=Choice("nc", "cancel").encode()),
            ]
        ]
    )
    if Role(d.role) is Role.CLIENT:
        text = _(
            "New contract <b>{title}</b> in {currency}; you are the <b>client</b>.\n"
            "After you create it I'll give you an invite link for the freelancer."
        )
    else:
        text = _(
            "New contract <b>{title}</b> in {currency}; you are the <b>freelancer</b>.\n"
            "After you create it I'll give you an invite link for the client."
        )
    await say(update, context, text.format(title=e(d.title), currency=e(d.currency)), markup)
    return State.NC_CONFIRM


async def create(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    q = update.callback_query
    svc = deps(context).svc
    try:
        d = need_draft(context, Flow.CONTRACT)
        if d.title is None or d.role is None or not d.currency:
            raise DraftGone
        contract, invite = await svc.create_contract(
            update.effective_user.id, Role(d.role), d.title, d.currency, deps(context).clock()
        )
    except DraftGone:
        await q.answer(_("That draft is incomplete: start again with /newcontract."), show_alert=True)
        drop_draft(context)
        return END
    except DomainError as err:
        await q.answer(why(err), show_alert=True)
        drop_draft(context)
        return END
    drop_draft(context)
    await q.answer(_("Contract created."))
    role = contract.role_of(update.effective_user.id)
    assert role is not None
    link = f"https://t.me/{context.bot.username}?start={invite.token}"
    if role is Role.CLIENT:
        text = _(
            "✅ Contract <b>{title}</b> created.\n\nForward this invite link to the freelancer:\n{link}\n\n"
            "It works once, only for someone else, and expires in 7 days. I'll tell you when they join."
        )
    else:
        text = _(
            "✅ Contract <b>{title}</b> created.\n\nForward this invite link to the client:\n{link}\n\n"
            "It works once, only for someone else, and expires in 7 days. I'll tell you when they join."
        )
    await safe_send(context, update.effective_user.id, text.format(title=e(contract.title), link=link))
    return END
