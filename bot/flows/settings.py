"""Settings: time zone (buttons or typed), quiet hours for reminders, and the language (PRODUCT §9)."""

from __future__ import annotations

from datetime import time
from typing import Any

from telegram import InlineKeyboardButton as Btn
from telegram import InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes

from domain.errors import DomainError, InvalidInput, Term
from domain.model import check_text
from domain.ports import UserProfile

from ..callbacks import Choice, decode
from ..common import deps, language_of, user_zone
from ..i18n import LANGUAGES, _, set_spoken, why
from ..menu import publish_for
from ..parsing import parse_quiet_hours, parse_timezone
from ..texts import e, fmt_time, zone_label
from ..turn import current_turn
from .base import say, text_of
from .draft import END, State, Step

COMMON_ZONES = [  # the zones' own names (IANA), the same in every language
    "UTC",
    "Europe/London",  # i18n: ok
    "Europe/Berlin",  # i18n: ok
    "Europe/Moscow",  # i18n: ok
    "Asia/Kolkata",  # i18n: ok
    "Asia/Singapore",  # i18n: ok
    "America/New_York",  # i18n: ok
    "America/Los_Angeles",  # i18n: ok
]
FOLLOW_TELEGRAM = "auto"  # the language choice that follows Telegram's language_code (stored as None)


async def show(update: Update, context: ContextTypes.DEFAULT_TYPE, prefix: str = "") -> Step:
    user_id = update.effective_user.id
    profile = await deps(context).svc.profile(user_id)
    tz_name, tz = await user_zone(context, user_id)
    now = deps(context).clock()
    named = e(zone_label(tz, now.astimezone(tz)))  # quiet hours and the reminder hour are wall times there
    quiet = _("none")
    if profile and profile.quiet_start is not None and profile.quiet_end is not None:
        quiet = f"{profile.quiet_start:%H:%M}–{profile.quiet_end:%H:%M} ({named})"
    rows = [
        [Btn(z, callback_data=Choice("tz", z).encode()) for z in COMMON_ZONES[i : i + 2]]
        for i in range(0, len(COMMON_ZONES), 2)
    ]
    rows.append(
        [
            Btn(_("Type a time zone"), callback_data=Choice("st", "tz").encode()),
            Btn(_("Quiet hours"), callback_data=Choice("st", "quiet").encode()),
        ]
    )
    payout = ""
    if deps(context).settings.payments == "telegram":  # the escrow agent pays freelancers out (PRODUCT §7)
        rows.append([Btn(_("Payout details"), callback_data=Choice("st", "payout").encode())])
        if profile and profile.payout_details:
            payout = "\n" + _("Payout details (where the escrow agent pays you; only operators see them): given")
        else:
            payout = "\n" + _(
                "Payout details (where the escrow agent pays you; only operators see them): not given yet"
            )
    language = LANGUAGES[language_of(profile)]  # its own name, as the choice shows it
    rows.append([Btn(_("🌐 Language: {name}").format(name=language), callback_data=Choice("st", "lang").encode())])
    rows.append([Btn(_("Done"), callback_data=Choice("st", "done").encode())])
    text = prefix + (
        _(
            "⚙️ <b>Settings</b>\nTime zone: {zone}\nYour time now: {now}\n"
            "Quiet hours for reminders: {quiet}\nReminders arrive at {hour} "
            "({named}). Tap a time zone or type one; type quiet hours like 22:00-08:00."
        ).format(
            zone=e(tz_name),
            now=e(fmt_time(now, tz)),
            quiet=quiet,
            hour=f"{deps(context).settings.reminder_hour:02d}:00",
            named=named,
        )
        + payout
    )
    ok = await say(update, context, text, InlineKeyboardMarkup(rows))
    return State.ST_MENU if ok else END


async def update_profile(update: Update, context: ContextTypes.DEFAULT_TYPE, **changes: Any) -> UserProfile:
    """Change the person's settings; their pending reminders are re-planned at the next sweep."""
    svc = deps(context).svc
    profile = await svc.profile(update.effective_user.id) or UserProfile(id=update.effective_user.id)
    for name, value in changes.items():
        setattr(profile, name, value)
    await svc.save_profile(profile, now=deps(context).clock())
    return profile


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
            await update.callback_query.answer(why(err), show_alert=True)
            return State.ST_MENU
        hours = typed_quiet_hours(raw)
        if hours is not None:
            return await save_quiet(update, context, hours)
        await update.message.reply_text(
            _(
                "{reason} For quiet hours (no reminders then), send them like 22:00-08:00. "
                "Send the <b>time zone</b> again, or /cancel."
            ).format(reason=e(why(err)))
        )
        return State.ST_TZ
    await update_profile(update, context, timezone=name)
    return await show(update, context, _("Time zone set to {zone}.").format(zone=e(name)) + "\n\n")


async def zone_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    cb = decode(update.callback_query.data)
    assert isinstance(cb, Choice)
    return await apply_zone(update, context, cb.value)


async def ask_zone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    await say(update, context, _("Send your <b>time zone</b>: a name like Europe/Berlin or an offset like UTC+3."))
    return State.ST_TZ


async def got_zone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    return await apply_zone(update, context, text_of(update))


async def ask_quiet(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    await say(update, context, _("Send your quiet hours like 22:00-08:00 (no reminders then), or “off”."))
    return State.ST_QUIET


async def got_quiet(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    try:
        hours = parse_quiet_hours(text_of(update))
    except InvalidInput as err:
        await update.message.reply_text(
            _("{reason} Send the quiet hours again, or /cancel.").format(reason=e(why(err)))
        )
        return State.ST_QUIET
    return await save_quiet(update, context, hours)


async def save_quiet(update: Update, context: ContextTypes.DEFAULT_TYPE, hours: tuple[time, time] | None) -> Step:
    start, end = hours if hours else (None, None)
    await update_profile(update, context, quiet_start=start, quiet_end=end)
    return await show(update, context, _("Quiet hours saved.") + "\n\n")


PAYOUT_DETAILS_MAX = 500


async def ask_payout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    await update.callback_query.answer()
    await say(
        update,
        context,
        _(
            "Send your <b>payout details</b>: where the escrow agent should send your money (e.g. IBAN and name, "
            "or a PayPal address). Only the bot's operators see them. Send “off” to remove them, or /cancel."
        ),
    )
    return State.ST_PAYOUT


async def got_payout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    raw = text_of(update).strip()
    try:
        details = (
            None
            if raw.lower() == "off"
            else check_text(raw, Term("payout details"), min_len=1, max_len=PAYOUT_DETAILS_MAX)
        )
    except DomainError as err:
        await update.message.reply_text(
            _("{reason} Send the payout details again, or /cancel.").format(reason=e(why(err)))
        )
        return State.ST_PAYOUT
    await update_profile(update, context, payout_details=details)
    said = _("Payout details removed.") if details is None else _("Payout details saved.")
    return await show(update, context, said + "\n\n")


async def done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    await update.callback_query.answer(_("Saved."))
    if isinstance(update.callback_query.message, Message):  # older than 48 h: nothing to tidy
        await update.callback_query.edit_message_reply_markup(None)
    return END


# ----- the language (PRODUCT §9: Telegram's language_code, changeable here, English as the fallback) ----
async def ask_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    """One button per language, each named in itself (the current choice ticked), Telegram's, and Back."""
    profile = await deps(context).svc.profile(update.effective_user.id)
    chosen = profile.language if profile else None

    def ticked(label: str, on: bool) -> str:
        return f"✓ {label}" if on else label

    rows = [
        [Btn(ticked(name, code == chosen), callback_data=Choice("lang", code).encode())]
        for code, name in LANGUAGES.items()
    ]
    follow = ticked(_("Follow Telegram's language"), chosen is None)
    rows.append([Btn(follow, callback_data=Choice("lang", FOLLOW_TELEGRAM).encode())])
    rows.append([Btn(_("Back"), callback_data=Choice("st", "back").encode())])
    text = _(
        "🌐 <b>Language</b>\nWhich language should I speak to you in? “Follow Telegram's language” uses the "
        "language of your Telegram app, or English if I don't speak it."
    )
    await say(update, context, text, InlineKeyboardMarkup(rows))
    return State.ST_MENU


async def language_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    """A language chosen (or Telegram's followed again): stored, and from this answer on spoken."""
    cb = decode(update.callback_query.data)
    assert isinstance(cb, Choice)
    language = None if cb.value == FOLLOW_TELEGRAM else cb.value
    if language is not None and language not in LANGUAGES:  # a forged or retired code: nothing changes
        await update.callback_query.answer()
        return State.ST_MENU
    user_id = update.effective_user.id
    profile = await update_profile(update, context, language=language)
    spoken = language_of(profile)
    set_spoken(spoken)  # the answer and the settings below are in the new language
    deps(context).chat_langs[user_id] = spoken
    await publish_for(context.bot, user_id, language)  # their command menu too
    # The next update reads the profile again rather than the language remembered with the person (also
    # once this turn commits: remember_user may remember them then, with the language read at its start).
    known = deps(context).known_users

    def forget() -> None:
        known.pop(user_id, None)

    forget()
    turn = current_turn()
    if turn is not None:
        turn.committed.append(forget)
    if language is None:
        said = _("I follow your Telegram app's language: {name}.").format(name=LANGUAGES[spoken])
    else:
        said = _("Language set to {name}.").format(name=LANGUAGES[spoken])
    return await show(update, context, said + "\n\n")
