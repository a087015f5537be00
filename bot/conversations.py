"""Guided conversations: new contract, add/edit milestone, submit note, change reason, settings."""

from __future__ import annotations

import logging
from datetime import date

from telegram import InlineKeyboardButton as Btn
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

from domain.errors import DomainError, InvalidInput
from domain.model import CONTRACT_TITLE_MAX, DESCRIPTION_MAX, REASON_MAX, TITLE_MAX, Role, check_text
from domain.money import validate_amount

from .common import deps, render_card, safe_send, user_today, user_zone
from .handlers import after_change, in_group, picker_items, picker_page, private_only, show_picker
from .keyboards import MS_ROLE
from .parsing import (
    InputError,
    normalize_currency,
    parse_amount,
    parse_due_date,
    parse_quiet_hours,
    parse_timezone,
)
from .texts import e, fmt_date, money

log = logging.getLogger(__name__)

END = ConversationHandler.END
NC_TITLE, NC_CURRENCY, NC_ROLE, NC_CONFIRM = "nc_title", "nc_currency", "nc_role", "nc_confirm"
AM_PICK, AM_FIELD, AM_SUMMARY = "am_pick", "am_field", "am_summary"
AM_ASK = {"title": "am_title", "amount": "am_amount", "due": "am_due", "description": "am_description"}
SUB_NOTE, CHG_REASON = "sub_note", "chg_reason"
ST_MENU, ST_TZ, ST_QUIET = "st_menu", "st_tz", "st_quiet"

FIELDS = ["title", "amount", "due", "description"]
FIELD_LABEL = {"title": "Title", "amount": "Amount", "due": "Due date", "description": "Description"}
CURRENCIES = ["USD", "EUR", "GBP", "JPY", "CAD", "AUD"]
COMMON_ZONES = ["UTC", "Europe/London", "Europe/Berlin", "Europe/Moscow", "Asia/Kolkata", "Asia/Singapore",
                "America/New_York", "America/Los_Angeles"]
PRIVATE_TEXT = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE


# ----- talking to the user ------------------------------------------------------------------------
async def say(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str,
              markup: InlineKeyboardMarkup | None = None, answer: bool = True) -> bool:
    """Ask in the user's private chat (also when the button was pressed in a group).

    answer=False: the press was already answered (a query can be answered only once)."""
    q = update.callback_query if answer else None
    sent = await safe_send(context, update.effective_user.id, text, markup)
    if q is not None:
        if sent is None:
            await q.answer(f"Open a private chat with @{context.bot.username} first, then press again.",
                           show_alert=True)
        else:
            await q.answer()
    return sent is not None


def draft(context: ContextTypes.DEFAULT_TYPE) -> dict:
    return context.user_data.setdefault("draft", {})


def drop_draft(context: ContextTypes.DEFAULT_TYPE) -> None:
    context.user_data.pop("draft", None)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    drop_draft(context)
    if update.callback_query:
        await update.callback_query.answer("Cancelled.")
    await safe_send(context, update.effective_user.id, "Cancelled. Nothing was saved.")
    return END


async def use_buttons(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text("Please tap one of the buttons above, or send /cancel to stop.")


# ----- new contract ------------------------------------------------------------------------------
async def new_contract(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    context.user_data["draft"] = {"kind": "contract"}
    ok = await say(update, context, "Let's set up a contract. What is its <b>title</b>? "
                                    "(1–100 characters, e.g. «Website redesign»)")
    return NC_TITLE if ok else END


async def nc_title(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    text = update.message.text
    try:
        check_text(text, "title", min_len=1, max_len=CONTRACT_TITLE_MAX)
    except DomainError as err:
        await update.message.reply_text(f"{e(err.reason)} Send the contract's <b>title</b> again.")
        return NC_TITLE
    draft(context)["title"] = text
    rows = [[Btn(c, callback_data=f"cur:{c}") for c in CURRENCIES[:3]],
            [Btn(c, callback_data=f"cur:{c}") for c in CURRENCIES[3:]]]
    await update.message.reply_text("Which <b>currency</b>? Tap one, or type an ISO code such as CHF.",
                                    reply_markup=InlineKeyboardMarkup(rows))
    return NC_CURRENCY


async def nc_currency(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    q = update.callback_query
    raw = q.data.split(":", 1)[1] if q else update.message.text
    try:
        code = normalize_currency(raw)
    except InputError as err:
        await update.effective_message.reply_text(f"{e(err)} Send the <b>currency</b> again.")
        return NC_CURRENCY
    draft(context)["currency"] = code
    markup = InlineKeyboardMarkup([[Btn("I am the client", callback_data="role:client")],
                                   [Btn("I am the freelancer", callback_data="role:freelancer")]])
    await say(update, context, f"Currency: {e(code)}. Which side are you on?", markup)
    return NC_ROLE


async def nc_role(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    q = update.callback_query
    d = draft(context)
    d["role"] = q.data.split(":", 1)[1]
    other = Role(d["role"]).other.value
    markup = InlineKeyboardMarkup([[Btn("Create", callback_data="nc:create"), Btn("Cancel", callback_data="nc:cancel")]])
    await say(update, context,
              f"New contract <b>{e(d['title'])}</b> in {e(d['currency'])}; you are the <b>{e(d['role'])}</b>.\n"
              f"After you create it I'll give you an invite link for the {other}.", markup)
    return NC_CONFIRM


async def nc_create(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    q = update.callback_query
    d = draft(context)
    svc = deps(context).svc
    try:
        contract, invite = await svc.create_contract(
            update.effective_user.id, Role(d["role"]), d["title"], d["currency"], deps(context).clock())
    except (DomainError, KeyError) as err:
        await q.answer(getattr(err, "reason", "That draft is incomplete: start again with /newcontract."),
                       show_alert=True)
        drop_draft(context)
        return END
    drop_draft(context)
    await q.answer("Contract created.")
    other = Role(contract.role_of(update.effective_user.id)).other.value
    link = f"https://t.me/{context.bot.username}?start={invite.token}"
    await safe_send(
        context, update.effective_user.id,
        f"✅ Contract <b>{e(contract.title)}</b> created.\n\nForward this invite link to the {other}:\n{link}\n\n"
        f"It works once, only for someone else, and expires in 7 days. I'll tell you when they join.")
    return END


# ----- add / edit milestone ---------------------------------------------------------------------
def prompt_for(field: str, d: dict) -> tuple[str, InlineKeyboardMarkup | None]:
    cur = d.get("currency", "")
    if field == "title":
        return "Send the milestone's <b>title</b> (1–100 characters).", None
    if field == "amount":
        example = "1500" if cur == "JPY" else "1500 or 1,250.50"
        return f"Send the <b>amount</b> in {e(cur)}, e.g. {example}.", None
    if field == "due":
        return ("Send the <b>due date</b>, e.g. 2026-12-31, 31.12.2026, Dec 31, tomorrow, in 2 weeks or "
                "next friday."), None
    return ("Send a <b>description</b> of the work (up to 2,000 characters), or tap Skip.",
            InlineKeyboardMarkup([[Btn("Skip", callback_data="am:skip")]]))


async def ask_field(update: Update, context: ContextTypes.DEFAULT_TYPE, field: str, prefix: str = "") -> str:
    text, markup = prompt_for(field, draft(context))
    ok = await say(update, context, prefix + text, markup)
    return AM_ASK[field] if ok else END


async def add_milestone_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    items = await picker_items(context, update.effective_user.id, "add")
    if not items:
        await update.message.reply_text("You have no active contract yet. Start one with /newcontract, or "
                                        "open the invite link the other party sent you.")
        return END
    if len(items) == 1:
        return await begin_add(update, context, items[0].id)
    await show_picker(update, context, "add", items)
    return AM_PICK


async def pick_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    await picker_page(update, context, "add", int(update.callback_query.data.split(":")[2]))
    return AM_PICK


async def pick_contract(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    cid = int(update.callback_query.data.split(":")[1])
    return await begin_add(update, context, cid)


async def add_from_card(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    cid = int(update.callback_query.data.split(":")[2])
    return await begin_add(update, context, cid)


async def begin_add(update: Update, context: ContextTypes.DEFAULT_TYPE, contract_id: int) -> str:
    user_id = update.effective_user.id
    try:
        contract = await deps(context).svc.view(contract_id, user_id)
        contract.require_open()
    except DomainError as err:
        if update.callback_query:
            await update.callback_query.answer(err.reason[:200], show_alert=True)
        else:
            await update.message.reply_text(e(err.reason))
        return END
    context.user_data["draft"] = {"kind": "add", "contract_id": contract_id, "currency": contract.currency}
    intro = f"New milestone for <b>{e(contract.title)}</b>."
    if contract.role_of(user_id) is Role.FREELANCER:
        intro += " It will be a proposal: the client accepts or rejects it."
    return await ask_field(update, context, "title", intro + "\n")


async def edit_from_card(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    q = update.callback_query
    ms_id = int(q.data.split(":")[2])
    user_id = q.from_user.id
    d = deps(context)
    now = d.clock()
    today = await user_today(context, user_id)
    try:
        contract = await d.svc.check(ms_id, lambda c: c.edit_milestone(user_id, ms_id, now, today))
    except DomainError as err:
        await q.answer(err.reason[:200], show_alert=True)
        return END
    ms = contract.milestone(ms_id)
    context.user_data["draft"] = {
        "kind": "edit", "milestone_id": ms_id, "contract_id": contract.id, "currency": contract.currency,
        "title": ms.title, "amount": ms.amount, "due": ms.due_date.isoformat(), "description": ms.description,
        "original": {"title": ms.title, "amount": ms.amount, "due": ms.due_date.isoformat(),
                     "description": ms.description},
    }
    ok = await say(update, context, f"Editing <b>{e(ms.title)}</b>. What do you want to change?", field_keyboard())
    return AM_FIELD if ok else END


def field_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([
        [Btn("Title", callback_data="am:f:title"), Btn("Amount", callback_data="am:f:amount")],
        [Btn("Due date", callback_data="am:f:due"), Btn("Description", callback_data="am:f:description")],
        [Btn("Cancel", callback_data="am:cancel")],
    ])


async def choose_field(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    field = update.callback_query.data.split(":")[2]
    if field not in FIELDS:
        await update.callback_query.answer("This button is no longer valid.", show_alert=True)
        return AM_FIELD
    draft(context)["editing"] = field
    return await ask_field(update, context, field)


async def edit_summary(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    await say(update, context, "What do you want to change?", field_keyboard())
    return AM_FIELD


async def next_step(update: Update, context: ContextTypes.DEFAULT_TYPE, field: str) -> str:
    d = draft(context)
    if d.pop("editing", None) or d.get("kind") == "edit":
        return await show_summary(update, context)
    following = FIELDS[FIELDS.index(field) + 1:]
    for f in following:
        if f not in d:
            return await ask_field(update, context, f)
    return await show_summary(update, context)


async def show_summary(update: Update, context: ContextTypes.DEFAULT_TYPE, answer: bool = True) -> str:
    d = draft(context)
    due = date.fromisoformat(d["due"])
    lines = [
        "<b>Milestone summary</b>" + (" (changes)" if d.get("kind") == "edit" else ""),
        f"Title: {e(d['title'])}",
        f"Amount: {money(d['amount'], d['currency'])}",
        f"Due date: {fmt_date(due)}",
        f"Description: {e(d['description']) if d.get('description') else '—'}",
    ]
    markup = InlineKeyboardMarkup([[Btn("Save", callback_data="am:save"), Btn("Edit", callback_data="am:edit"),
                                    Btn("Cancel", callback_data="am:cancel")]])
    await say(update, context, "\n".join(lines), markup, answer=answer)
    return AM_SUMMARY


async def got_text(update: Update, context: ContextTypes.DEFAULT_TYPE, field: str, text: str) -> str:
    """A title or description: checked by the domain's text rule, or asked again with the reason."""
    try:
        check_text(text, field, min_len=1 if field == "title" else 0,
                   max_len=TITLE_MAX if field == "title" else DESCRIPTION_MAX)
    except DomainError as err:
        return await ask_field(update, context, field, f"{e(err.reason)}\n")
    draft(context)[field] = text
    return await next_step(update, context, field)


async def got_title(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    return await got_text(update, context, "title", update.message.text)


async def got_amount(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    d = draft(context)
    try:
        amount = validate_amount(parse_amount(update.message.text, d["currency"]), d["currency"])
    except (InputError, DomainError) as err:
        return await ask_field(update, context, "amount", f"{e(getattr(err, 'reason', err))}\n")
    d["amount"] = amount
    return await next_step(update, context, "amount")


async def got_due(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    user_id = update.effective_user.id
    tz_name, tz = await user_zone(context, user_id)
    today = deps(context).clock().astimezone(tz).date()
    try:
        due = parse_due_date(update.message.text, today, tz_name)
    except InputError as err:
        return await ask_field(update, context, "due", f"{e(err)}\n")
    draft(context)["due"] = due.isoformat()
    return await next_step(update, context, "due")


async def got_description(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    return await got_text(update, context, "description", "" if update.callback_query else update.message.text)


async def save_milestone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    q = update.callback_query
    d = draft(context)
    dd = deps(context)
    user_id = q.from_user.id
    now = dd.clock()
    today = await user_today(context, user_id)
    try:
        due = date.fromisoformat(d["due"])
        if d.get("kind") == "edit":
            changed = {k: d[k] for k in FIELDS if d[k] != d["original"][k]}
            fields = {"title": changed.get("title"), "amount": changed.get("amount"),
                      "due_date": date.fromisoformat(changed["due"]) if "due" in changed else None,
                      "description": changed.get("description")}
            outcome = await dd.svc.edit_milestone(d["milestone_id"], user_id, now=now, today=today, **fields)
        else:
            outcome = await dd.svc.add_milestone(
                d["contract_id"], user_id, title=d["title"], amount=d["amount"], due_date=due,
                description=d.get("description", ""), today=today, now=now)
    except InvalidInput as err:
        # Nothing was saved; the draft stays so the user can fix it (e.g. a due date now in the past).
        await q.answer(err.reason[:200], show_alert=True)
        await safe_send(context, user_id, f"Not saved: {e(err.reason)}")
        return await show_summary(update, context, answer=False)
    except DomainError as err:
        # The contract or milestone moved on (ended, funded, deleted): this draft can't be saved.
        await q.answer(err.reason[:200], show_alert=True)
        await safe_send(context, user_id, f"Not saved: {e(err.reason)}")
        drop_draft(context)
        return END
    except KeyError:
        await q.answer("That draft is incomplete: start again.", show_alert=True)
        drop_draft(context)
        return END
    drop_draft(context)
    word = {"milestone_added": "Saved.", "milestone_proposed": "Proposal sent to the client.",
            "milestone_edited": "Changes saved."}[outcome.action]
    await q.answer(word)
    await after_change(update, context, outcome, message=None if in_group(update) else q.message)
    return END


# ----- submit work / request changes -----------------------------------------------------------
async def submit_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    return await begin_text_action(update, context, "submit")


async def changes_pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    return await begin_text_action(update, context, "changes")


async def begin_text_action(update: Update, context: ContextTypes.DEFAULT_TYPE, kind: str) -> str:
    q = update.callback_query
    ms_id = int(q.data.split(":")[2])
    user_id = q.from_user.id
    d = deps(context)
    now = d.clock()
    check = (lambda c: c.submit(user_id, ms_id, "", now)) if kind == "submit" else (
        lambda c: c.request_changes(user_id, ms_id, "x", now))
    try:
        contract = await d.svc.check(ms_id, check)
    except DomainError as err:
        from .handlers import refuse

        contract_id = None
        try:
            contract_id = await d.svc.contract_of_milestone(ms_id)
        except DomainError:
            pass
        await refuse(update, context, err, contract_id, MS_ROLE["sub" if kind == "submit" else "chg"])
        return END
    ms = contract.milestone(ms_id)
    context.user_data["draft"] = {"kind": kind, "milestone_id": ms_id, "from_chat": update.effective_chat.id}
    if kind == "submit":
        ok = await say(update, context,
                       f"Submitting work for <b>{e(ms.title)}</b>. Send a <b>note</b> for the client about what "
                       f"you delivered (links welcome), or tap Skip.",
                       InlineKeyboardMarkup([[Btn("Skip", callback_data="sub:skip")],
                                             [Btn("Cancel", callback_data="am:cancel")]]))
        return SUB_NOTE if ok else END
    ok = await say(update, context,
                   f"What should be changed in <b>{e(ms.title)}</b>? Send the <b>reason</b> (1–1,000 characters).",
                   InlineKeyboardMarkup([[Btn("Cancel", callback_data="am:cancel")]]))
    return CHG_REASON if ok else END


async def got_note(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    text = "" if update.callback_query else update.message.text
    return await finish_text_action(update, context, text, SUB_NOTE)


async def got_reason(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    return await finish_text_action(update, context, update.message.text, CHG_REASON)


async def finish_text_action(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, state: str) -> str:
    d = draft(context)
    dd = deps(context)
    user_id = update.effective_user.id
    what = "note" if state == SUB_NOTE else "reason"
    try:
        check_text(text, what, min_len=0 if state == SUB_NOTE else 1, max_len=REASON_MAX)
    except DomainError as err:
        await safe_send(context, user_id, f"{e(err.reason)} Send the <b>{what}</b> again.")
        return state
    try:
        if state == SUB_NOTE:
            outcome = await dd.svc.submit(d["milestone_id"], user_id, text, dd.clock())
        else:
            outcome = await dd.svc.request_changes(d["milestone_id"], user_id, text, dd.clock())
    except DomainError as err:
        drop_draft(context)
        if update.callback_query:
            await update.callback_query.answer(err.reason[:200], show_alert=True)
        await safe_send(context, user_id, f"Not done: {e(err.reason)}")
        return END
    drop_draft(context)
    if update.callback_query:
        await update.callback_query.answer("Submitted." if state == SUB_NOTE else "Sent back for changes.")
    await safe_send(context, user_id, "📤 Work submitted: the client is asked to review it."
                    if state == SUB_NOTE else "🔁 Change request sent to the freelancer.")
    text_card, markup = await render_card(context, outcome.contract, user_id)
    from .notify import notify, unreachable_hint

    await safe_send(context, user_id, text_card, markup)
    unreachable = await notify(context, outcome)
    if unreachable:
        await safe_send(context, user_id, unreachable_hint(context.bot.username, outcome.contract.id, unreachable))
    return END


# ----- settings ------------------------------------------------------------------------------------
async def settings_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    return await show_settings(update, context)


async def show_settings(update: Update, context: ContextTypes.DEFAULT_TYPE, prefix: str = "") -> str:
    user_id = update.effective_user.id
    profile = await deps(context).svc.profile(user_id)
    tz_name, tz = await user_zone(context, user_id)
    local = deps(context).clock().astimezone(tz).strftime("%H:%M")
    quiet = "none"
    if profile and profile.quiet_start is not None and profile.quiet_end is not None:
        quiet = f"{profile.quiet_start:%H:%M}–{profile.quiet_end:%H:%M}"
    rows = [[Btn(z, callback_data=f"tz:{z}") for z in COMMON_ZONES[i:i + 2]] for i in range(0, len(COMMON_ZONES), 2)]
    rows.append([Btn("Type a time zone", callback_data="st:tz"), Btn("Quiet hours", callback_data="st:quiet")])
    rows.append([Btn("Done", callback_data="st:done")])
    text = (f"{prefix}⚙️ <b>Settings</b>\nTime zone: {e(tz_name)} (your time now: {local})\n"
            f"Quiet hours for reminders: {quiet}\nReminders arrive at {deps(context).settings.reminder_hour:02d}:00 "
            f"your time. Tap a time zone or type one.")
    ok = await say(update, context, text, InlineKeyboardMarkup(rows))
    return ST_MENU if ok else END


async def update_profile(update: Update, context: ContextTypes.DEFAULT_TYPE, **changes) -> None:
    """Change the person's settings; their pending reminders are re-planned at the next sweep."""
    from domain.ports import UserProfile

    svc = deps(context).svc
    profile = await svc.profile(update.effective_user.id) or UserProfile(id=update.effective_user.id)
    for name, value in changes.items():
        setattr(profile, name, value)
    await svc.save_profile(profile, now=deps(context).clock())


async def apply_zone(update: Update, context: ContextTypes.DEFAULT_TYPE, raw: str) -> str:
    """A zone from a button or typed; a bad one is refused with the reason and asked again."""
    try:
        name = parse_timezone(raw)
    except InputError as err:
        if update.callback_query:
            await update.callback_query.answer(str(err), show_alert=True)
            return ST_MENU
        await update.message.reply_text(f"{e(err)} Send the <b>time zone</b> again, or /cancel.")
        return ST_TZ
    await update_profile(update, context, timezone=name)
    return await show_settings(update, context, f"Time zone set to {e(name)}.\n\n")


async def zone_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    return await apply_zone(update, context, update.callback_query.data.split(":", 1)[1])


async def ask_zone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    await say(update, context, "Send your <b>time zone</b>: a name like Europe/Berlin or an offset like UTC+3.")
    return ST_TZ


async def got_zone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    return await apply_zone(update, context, update.message.text)


async def ask_quiet(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    await say(update, context, "Send your quiet hours like 22:00-08:00 (no reminders then), or “off”.")
    return ST_QUIET


async def got_quiet(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    try:
        hours = parse_quiet_hours(update.message.text)
    except InputError as err:
        await update.message.reply_text(f"{e(err)} Send the quiet hours again, or /cancel.")
        return ST_QUIET
    start, end = hours if hours else (None, None)
    await update_profile(update, context, quiet_start=start, quiet_end=end)
    return await show_settings(update, context, "Quiet hours saved.\n\n")


async def settings_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    await update.callback_query.answer("Saved.")
    await update.callback_query.edit_message_reply_markup(None)
    return END


# ----- the conversation handler ------------------------------------------------------------------
def build_conversation() -> ConversationHandler:
    text = MessageHandler(PRIVATE_TEXT, use_buttons)
    return ConversationHandler(
        name="main",
        persistent=True,
        per_chat=False,  # keyed by person: a button pressed in a group continues in the private chat
        per_user=True,
        allow_reentry=True,
        entry_points=[
            CommandHandler("newcontract", private_only(new_contract)),
            CallbackQueryHandler(new_contract, pattern=r"^c:new$"),
            CommandHandler("addmilestone", private_only(add_milestone_command)),
            CallbackQueryHandler(add_from_card, pattern=r"^c:add:\d{1,9}$"),
            CallbackQueryHandler(edit_from_card, pattern=r"^m:edt:\d{1,9}$"),
            CallbackQueryHandler(submit_pressed, pattern=r"^m:sub:\d{1,9}$"),
            CallbackQueryHandler(changes_pressed, pattern=r"^m:chg:\d{1,9}$"),
            CommandHandler("settings", private_only(settings_command)),
        ],
        states={
            NC_TITLE: [MessageHandler(PRIVATE_TEXT, nc_title)],
            NC_CURRENCY: [CallbackQueryHandler(nc_currency, pattern=r"^cur:[A-Z]{3}$"),
                          MessageHandler(PRIVATE_TEXT, nc_currency)],
            NC_ROLE: [CallbackQueryHandler(nc_role, pattern=r"^role:(client|freelancer)$"), text],
            NC_CONFIRM: [CallbackQueryHandler(nc_create, pattern=r"^nc:create$"), text],
            AM_PICK: [CallbackQueryHandler(pick_contract, pattern=r"^pick:\d{1,9}$"),
                      CallbackQueryHandler(pick_page, pattern=r"^pg:add:\d{1,4}$"), text],
            AM_ASK["title"]: [MessageHandler(PRIVATE_TEXT, got_title)],
            AM_ASK["amount"]: [MessageHandler(PRIVATE_TEXT, got_amount)],
            AM_ASK["due"]: [MessageHandler(PRIVATE_TEXT, got_due)],
            AM_ASK["description"]: [MessageHandler(PRIVATE_TEXT, got_description),
                                    CallbackQueryHandler(got_description, pattern=r"^am:skip$")],
            AM_FIELD: [CallbackQueryHandler(choose_field, pattern=r"^am:f:[a-z]+$"), text],
            AM_SUMMARY: [CallbackQueryHandler(save_milestone, pattern=r"^am:save$"),
                         CallbackQueryHandler(edit_summary, pattern=r"^am:edit$"), text],
            SUB_NOTE: [MessageHandler(PRIVATE_TEXT, got_note), CallbackQueryHandler(got_note, pattern=r"^sub:skip$")],
            CHG_REASON: [MessageHandler(PRIVATE_TEXT, got_reason)],
            ST_MENU: [CallbackQueryHandler(zone_button, pattern=r"^tz:[A-Za-z0-9_/+:-]{1,60}$"),
                      CallbackQueryHandler(ask_zone, pattern=r"^st:tz$"),
                      CallbackQueryHandler(ask_quiet, pattern=r"^st:quiet$"),
                      CallbackQueryHandler(settings_done, pattern=r"^st:done$"),
                      MessageHandler(PRIVATE_TEXT, got_zone)],
            ST_TZ: [MessageHandler(PRIVATE_TEXT, got_zone)],
            ST_QUIET: [MessageHandler(PRIVATE_TEXT, got_quiet)],
        },
        fallbacks=[
            CommandHandler("cancel", cancel),
            CallbackQueryHandler(cancel, pattern=r"^(am|nc):cancel$"),
        ],
    )

