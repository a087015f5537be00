"""Add or edit a milestone: title, amount, due date, description, then a summary with Save / Edit / Cancel."""

from __future__ import annotations

from telegram import InlineKeyboardButton as Btn
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import ContextTypes

from domain.actions import Action
from domain.errors import DomainError, InvalidInput, Term
from domain.model import DESCRIPTION_MAX, TITLE_MAX, Contract, Role, check_text
from domain.money import validate_amount

from ..callbacks import Choice, Pick, PickerPage, decode
from ..common import answer_press, deps, safe_send, user_today, user_zone
from ..handlers import after_change, in_group, picker_items, picker_page, show_picker
from ..i18n import _, why
from ..parsing import parse_amount, parse_due_date
from ..texts import e, fmt_date, money
from .base import pressed_contract, say, text_of
from .draft import END, Draft, DraftGone, Flow, State, Step, drop_draft, keep_draft, need_draft

FIELDS = ["title", "amount", "due", "description"]
ASK = {"title": State.AM_TITLE, "amount": State.AM_AMOUNT, "due": State.AM_DUE, "description": State.AM_DESCRIPTION}


def prompt_for(field: str, d: Draft) -> tuple[str, InlineKeyboardMarkup | None]:
    cur = d.currency
    if field == "title":
        return _("Send the milestone's <b>title</b> (1–100 characters)."), None
    if field == "amount":
        if cur == "JPY":
            return _("Send the <b>amount</b> in {currency}, e.g. 1500.").format(currency=e(cur)), None
        return _("Send the <b>amount</b> in {currency}, e.g. 1500 or 1,250.50.").format(currency=e(cur)), None
    if field == "due":
        return _(
            "Send the <b>due date</b>, e.g. 2026-12-31, 31.12.2026, Dec 31, tomorrow, in 2 weeks or next friday."
        ), None
    return (
        _("Send a <b>description</b> of the work (up to 2,000 characters), or tap Skip."),
        InlineKeyboardMarkup([[Btn(_("Skip"), callback_data=Choice("am", "skip").encode())]]),
    )


async def ask_field(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Draft, field: str, prefix: str = "") -> Step:
    text, markup = prompt_for(field, d)
    ok = await say(update, context, prefix + text, markup)
    return ASK[field] if ok else END


async def draft_gone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    drop_draft(context)
    if update.callback_query:
        await update.callback_query.answer()
    await safe_send(
        context,
        update.effective_user.id,
        _("I lost track of that milestone form: please start it again (nothing was saved)."),
    )
    return END


# ----- how the form starts -------------------------------------------------------------------------
async def add_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    items = await picker_items(context, update.effective_user.id, "add")
    if not items:
        await update.message.reply_text(
            _(
                "You have no active contract yet. Start one with /newcontract, or "
                "open the invite link the other party sent you."
            )
        )
        return END
    if len(items) == 1:
        return await begin_add(update, context, items[0].id)
    await show_picker(update, context, "add", items)
    return State.AM_PICK


async def pick_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    cb = decode(update.callback_query.data)
    assert isinstance(cb, PickerPage)
    await picker_page(update, context, "add", cb.page)
    return State.AM_PICK


async def pick_contract(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    cb = decode(update.callback_query.data)
    assert isinstance(cb, Pick)
    return await begin_add(update, context, cb.contract_id)


async def add_from_card(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    found = await pressed_contract(update, context)
    return None if found is None else await start_form(update, context, found[1])


async def begin_add(update: Update, context: ContextTypes.DEFAULT_TYPE, contract_id: int) -> Step:
    user_id = update.effective_user.id
    try:
        contract = await deps(context).svc.require(Action.ADD_MILESTONE, user_id, contract_id=contract_id)
    except DomainError as err:
        if update.callback_query:
            await update.callback_query.answer(why(err)[:200], show_alert=True)
        else:
            await update.message.reply_text(e(why(err)))
        return END
    return await start_form(update, context, contract)


async def start_form(update: Update, context: ContextTypes.DEFAULT_TYPE, contract: Contract) -> Step:
    user_id = update.effective_user.id
    d = keep_draft(context, Draft(Flow.ADD, contract_id=contract.id, currency=contract.currency))
    if contract.role_of(user_id) is Role.FREELANCER:
        intro = _("New milestone for <b>{title}</b>. It will be a proposal: the client accepts or rejects it.")
    else:
        intro = _("New milestone for <b>{title}</b>.")
    return await ask_field(update, context, d, "title", intro.format(title=e(contract.title)) + "\n")


async def edit_from_card(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    found = await pressed_contract(update, context)
    if found is None:
        return None  # refused: a flow the person is in goes on
    press, contract = found
    ms = contract.milestone(press.target)
    d = Draft(
        Flow.EDIT,
        milestone_id=ms.id,
        contract_id=contract.id,
        currency=contract.currency,
        title=ms.title,
        amount=ms.amount,
        due=ms.due_date.isoformat(),
        description=ms.description,
    )
    d.original = {f: getattr(d, f) for f in FIELDS}
    keep_draft(context, d)
    ok = await say(
        update,
        context,
        _("Editing <b>{title}</b>. What do you want to change?").format(title=e(ms.title)),
        field_keyboard(),
    )
    return State.AM_FIELD if ok else END


def field_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                Btn(_("Title"), callback_data=Choice("am", "f:title").encode()),
                Btn(_("Amount"), callback_data=Choice("am", "f:amount").encode()),
            ],
            [
                Btn(_("Due date"), callback_data=Choice("am", "f:due").encode()),
                Btn(_("Description"), callback_data=Choice("am", "f:description").encode()),
            ],
            [Btn(_("Cancel"), callback_data=Choice("am", "cancel").encode())],
        ]
    )


async def choose_field(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    cb = decode(update.callback_query.data)
    assert isinstance(cb, Choice)
    field = cb.value.removeprefix("f:")
    try:
        d = need_draft(context, Flow.ADD, Flow.EDIT)
    except DraftGone:
        return await draft_gone(update, context)
    d.editing = field
    keep_draft(context, d)
    return await ask_field(update, context, d, field)


async def edit_summary(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    await say(update, context, _("What do you want to change?"), field_keyboard())
    return State.AM_FIELD


# ----- the answers ----------------------------------------------------------------------------------
async def next_step(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Draft, field: str) -> Step:
    editing, d.editing = d.editing, None
    keep_draft(context, d)
    if editing or d.kind is Flow.EDIT:
        return await show_summary(update, context, d)
    for f in FIELDS[FIELDS.index(field) + 1 :]:
        if getattr(d, f) is None:
            return await ask_field(update, context, d, f)
    return await show_summary(update, context, d)


async def show_summary(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Draft, answer: bool = True) -> Step:
    assert d.title is not None and d.amount is not None and d.due_date is not None
    lines = [
        _("<b>Milestone summary</b> (changes)") if d.kind is Flow.EDIT else _("<b>Milestone summary</b>"),
        _("Title: {title}").format(title=e(d.title)),
        _("Amount: {amount}").format(amount=money(d.amount, d.currency)),
        _("Due date: {date}").format(date=fmt_date(d.due_date)),
        _("Description: {description}").format(description=e(d.description) if d.description else "—"),
    ]
    markup = InlineKeyboardMarkup(
        [
            [
                Btn(_("Save"), callback_data=Choice("am", "save").encode()),
                Btn(_("Edit"), callback_data=Choice("am", "edit").encode()),
                Btn(_("Cancel"), callback_data=Choice("am", "cancel").encode()),
            ]
        ]
    )
    await say(update, context, "\n".join(lines), markup, answer=answer)
    return State.AM_SUMMARY


async def got_text(update: Update, context: ContextTypes.DEFAULT_TYPE, field: str, text: str) -> Step:
    """A title or description: checked by the domain's text rule, or asked again with the reason."""
    try:
        d = need_draft(context, Flow.ADD, Flow.EDIT)
    except DraftGone:
        return await draft_gone(update, context)
    try:
        check_text(
            text,
            Term("title") if field == "title" else Term("description"),
            min_len=1 if field == "title" else 0,
            max_len=TITLE_MAX if field == "title" else DESCRIPTION_MAX,
        )
    except DomainError as err:
        return await ask_field(update, context, d, field, e(why(err)) + "\n")
    setattr(d, field, text)
    return await next_step(update, context, d, field)


async def got_title(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    return await got_text(update, context, "title", text_of(update))


async def got_amount(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    try:
        d = need_draft(context, Flow.ADD, Flow.EDIT)
    except DraftGone:
        return await draft_gone(update, context)
    try:
        amount = validate_amount(parse_amount(text_of(update), d.currency), d.currency)
        # Telegram Payments (fiat): within today's limits for the currency, told now rather than at Save.
        d.amount = await deps(context).svc.check_amount_for(d.contract_id, amount)
    except InvalidInput as err:
        return await ask_field(update, context, d, "amount", e(why(err)) + "\n")
    return await next_step(update, context, d, "amount")


async def got_due(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    try:
        d = need_draft(context, Flow.ADD, Flow.EDIT)
    except DraftGone:
        return await draft_gone(update, context)
    tz_name, tz = await user_zone(context, update.effective_user.id)
    today = deps(context).clock().astimezone(tz).date()
    try:
        d.due = parse_due_date(text_of(update), today, tz_name).isoformat()
    except InvalidInput as err:
        return await ask_field(update, context, d, "due", e(why(err)) + "\n")
    return await next_step(update, context, d, "due")


async def got_description(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    return await got_text(update, context, "description", "" if update.callback_query else text_of(update))


# ----- saving ---------------------------------------------------------------------------------------
async def save(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    q = update.callback_query
    dd = deps(context)
    user_id = q.from_user.id
    now = dd.clock()
    today = await user_today(context, user_id)
    try:
        d = need_draft(context, Flow.ADD, Flow.EDIT)
        if d.title is None or d.amount is None or d.due_date is None:
            raise DraftGone
        if d.kind is Flow.EDIT:
            original = d.original or {}
            changed = {k: getattr(d, k) for k in FIELDS if getattr(d, k) != original.get(k)}
            outcome = await dd.svc.perform(
                Action.EDIT,
                user_id,
                now,
                milestone_id=d.milestone_id,
                today=today,
                title=changed.get("title"),
                amount=changed.get("amount"),
                due_date=d.due_date if "due" in changed else None,
                description=changed.get("description"),
            )
        else:
            outcome = await dd.svc.perform(
                Action.ADD_MILESTONE,
                user_id,
                now,
                contract_id=d.contract_id,
                title=d.title,
                amount=d.amount,
                due_date=d.due_date,
                description=d.description or "",
                today=today,
            )
    except DraftGone:
        await q.answer(_("That draft is incomplete: start again."), show_alert=True)
        drop_draft(context)
        return END
    except InvalidInput as err:
        # Nothing was saved; the draft stays so the user can fix it (e.g. a due date now in the past).
        await q.answer(why(err)[:200], show_alert=True)
        await safe_send(context, user_id, _("Not saved: {reason}").format(reason=e(why(err))))
        return await show_summary(update, context, d, answer=False)
    except DomainError as err:
        # The contract or milestone moved on (ended, funded, deleted): this draft can't be saved.
        await q.answer(why(err)[:200], show_alert=True)
        await safe_send(context, user_id, _("Not saved: {reason}").format(reason=e(why(err))))
        drop_draft(context)
        return END
    drop_draft(context)
    word = (
        _("Changes saved.")
        if d.kind is Flow.EDIT
        else (_("Proposal sent to the client.") if outcome.action == "milestone_proposed" else _("Saved."))
    )
    await answer_press(update, word)
    await after_change(update, context, outcome, message=None if in_group(update) else q.message)
    return END
