"""Settings: time zone (buttons or typed) and quiet hours for reminders."""

from __future__ import annotations

from datetime import time
from typing import Any

from telegram import InlineKeyboardButton as Btn
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes

from domain.errors import DomainError, InvalidInput
from domain.model import check_text
from domain.ports import UserProfile

from ..callbacks import Choice, decode
from ..common import deps, user_zone
from ..parsing import parse_quiet_hours, parse_timezone
from ..texts import e, fmt_time, zone_label
from .base import say, text_of
from .draft import END, State, Step

COMMON_ZONES = [
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Moscow",
    "Asia/Kolkata",
    "Asia/Singapore",
    "America/New_York",
    "America/Los_Angeles",
]


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE, prefix: str = "") -> Step:
    user_id = update.effective_user.id
    profile = await deps(context).svc.profile(user_id)
    tz_name, tz = await user_zone(context, user_id)
    now = deps(context).clock()
    named = e(zone_label(tz, now.astimezone(tz)))  # quiet hours and the reminder hour are wall times there
    quiet = "none"
    if profile and profile.quiet_start is not None and profile.quiet_end is not None:
        quiet = f"{profile.quiet_start:%H:%M}–{profile.quiet_end:%H:%M} ({named})"
    rows = [
        [Btn(z, callback_data=Choice("tz", z).encode()) for z in COMMON_ZONES[i : i + 2]]
        for i in range(0, len(COMMON_ZONES), 2)
    ]
    rows.append(
        [
            Btn("Type a time zone", callback_data=Choice("st", "tz").encode()),
            Btn("Quiet hours", callback_data=Choice("st", "quiet").encode()),
        ]
    )
    payout = ""
    if deps(context).settings.payments == "telegram":  # the escrow agent pays freelancers out (PRODUCT §7)
        rows.append([Btn("Payout details", callback_data=Choice("st", "payout").encode())])
        given = "given" if profile and profile.payout_details else "not given yet"
        payout = f"\nPayout details (where the escrow agent pays you; only operators see them): {given}"
    rows.append([Btn("Done", callback_data=Choice("st", "done").encode())])
    text = (
        f"{prefix}⚙️ <b>Settings</b>\nTime zone: {e(tz_name)}\nYour time now: {e(fmt_time(now, tz))}\n"
        f"Quiet hours for reminders: {quiet}\nReminders arrive at {deps(context).settings.reminder_hour:02d}:00 "
        f"({named}). Tap a time zone or type one; type quiet hours like 22:00-08:00.{payout}"
    )
    ok = await say(update, context, text, InlineKeyboardMarkup(rows))
    return State.ST_MENU if ok else END


async def update_profile(update: Update, context: ContextTypes.DEFAULT_TYPE, **changes: Any) -> None:
    """Change the person's settings; their pending reminders are re-planned at the next sweep."""
    svc = deps(context).svc
    profile = await svc.profile(update.effective_user.id) or UserProfile(id=update.effective_user.id)
    for name, value in changes.items():
        setattr(profile, name, value)
    await svc.save_profile(profile, now=deps(context).clock())


def typed_quiet_hours(raw: str) -> tuple[time, time] | None:
    """Quiet hours typed where a zone was expected ("22:00-07:00" at the menu): what the person meant."""
    try:
        return parse_quiet_hours(raw)  # "off" gives None: at the menu that is not a clear wish
    except InvalidInput:
        return None


async def apply_zone(update: Update, context: ContextTypes.DEFAULT_TYPE, raw: str) -> Step:
    """A zone from a button or typed; typed quiet hours are saved as such; anything else is refused with
    the reason and what to type, and asked again."""
    try:
        name = parse_timezone(raw)
    except InvalidInput as err:
        if update.callback_query:
            await update.callback_query.answer(err.reason, show_alert=True)
            return State.ST_MENU
        hours = typed_quiet_hours(raw)
        if hours is not None:
            return await save_quiet(update, context, hours)
        await update.message.reply_text(
            f"{e(err.reason)} For quiet hours (no reminders then), send them like 22:00-08:00. "
            "Send the <b>time zone</b> again, or /cancel."
        )
        return State.ST_TZ
    await update_profile(update, context, timezone=name)
    return await show(update, context, f"Time zone set to {e(name)}.\n\n")


async def zone_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    cb = decode(update.callback_query.data)
    assert isinstance(cb, Choice)
    return await apply_zone(update, context, cb.value)


async def ask_zone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    await say(update, context, "Send your <b>time zone</b>: a name like Europe/Berlin or an offset like UTC+3.")
    return State.ST_TZ


async def got_zone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    return await apply_zone(update, context, text_of(update))


async def ask_quiet(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    await say(update, context, "Send your quiet hours like 22:00-08:00 (no reminders then), or “off”.")
    return State.ST_QUIET


async def got_quiet(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    try:
        hours = parse_quiet_hours(text_of(update))
    except InvalidInput as err:
        await update.message.reply_text(f"{e(err.reason)} Send the quiet hours again, or /cancel.")
        return State.ST_QUIET
    return await save_quiet(update, context, hours)


async def save_quiet(update: Update, context: ContextTypes.DEFAULT_TYPE, hours: tuple[time, time] | None) -> Step:
    start, end = hours if hours else (None, None)
    await update_profile(update, context, quiet_start=start, quiet_end=end)
    return await show(update, context, "Quiet hours saved.\n\n")


PAYOUT_DETAILS_MAX = 500


async def ask_payout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    await update.callback_query.answer()
    await say(
        update,
        context,
        "Send your <b>payout details</b>: where the escrow agent should send your money (e.g. IBAN and name, "
        "or a PayPal address). Only the bot's operators see them. Send “off” to remove them, or /cancel.",
    )
    return State.ST_PAYOUT


async def got_payout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    raw = text_of(update).strip()
    try:
        details = (
            None if raw.lower() == "off" else check_text(raw, "payout details", min_len=1, max_len=PAYOUT_DETAILS_MAX)
        )
    except DomainError as err:
        await update.message.reply_text(f"{e(err.reason)} Send the payout details again, or /cancel.")
        return State.ST_PAYOUT
    await update_profile(update, context, payout_details=details)
    return await show(
        update, context, "Payout details removed.\n\n" if details is None else "Payout details saved.\n\n"
    )


async def done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    await update.callback_query.answer("Saved.")
    if isinstance(update.callback_query.message, Message):  # older than 48 h: nothing to tidy
        await update.callback_query.edit_message_reply_markup(None)
    return END
