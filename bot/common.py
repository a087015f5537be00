"""What every handler needs: services, the clock, the user's zone, safe send/edit helpers."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo

from telegram import InlineKeyboardMarkup, MaybeInaccessibleMessage, Message, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from domain.model import Contract, without_control
from domain.ports import UserProfile
from domain.services import ContractService
from domain.zones import zone

from .i18n import DEFAULT, _, pick, set_spoken, speaking
from .keyboards import card_keyboard
from .parsing import zone_for
from .settings import Settings
from .texts import CARD_REPLACED, card_text, plain_text
from .turn import current_turn

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    svc: ContractService
    settings: Settings
    clock: Callable[[], datetime] = utc_now
    # Profiles already stored this run: saves a write per update for people we know.
    # Who wrote lately: (first name, username, started, until when this is trusted, blocked, language,
    # Telegram's language_code).
    known_users: dict[int, tuple] = field(default_factory=dict)
    name_cache: dict[int, tuple[str, float]] = field(default_factory=dict)
    chat_langs: dict[int, str] = field(default_factory=dict)  # chat -> the language last written there
    extra: dict = field(default_factory=dict)

    def language_seen(self, update: object) -> str | None:
        """The language of someone whose update no handler runs for (dropped over the limit): their
        /settings choice as seen this run, else Telegram's language_code (None: English)."""
        user = update.effective_user if isinstance(update, Update) else None
        if user is None:
            return None
        seen = self.known_users.get(user.id)
        return seen[5] if seen is not None else pick(user.language_code)

    def card_replaced(self, chat_id: int) -> str:
        """What a chat's replaced card says (the sender writes it, outside any update, with no read): in
        the language the chat was last written to in this process (the newer card's), else English."""
        with speaking(self.chat_langs.get(chat_id, DEFAULT)):
            return _(CARD_REPLACED)

    async def mark_unreachable(self, user_id: int) -> None:
        """Telegram said 403 (blocked, or never started): remembered until they write to the bot again."""
        profile = await self.svc.profile(user_id) or UserProfile(id=user_id)
        if not profile.blocked:
            profile.blocked = True
            await self.svc.save_profile(profile)
        self.known_users.pop(user_id, None)


def deps(context: ContextTypes.DEFAULT_TYPE) -> Deps:
    return context.application.bot_data["deps"]


async def user_zone(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> tuple[str, tzinfo]:
    d = deps(context)
    profile = await d.svc.profile(user_id)
    name = (profile.timezone if profile and profile.timezone else None) or d.settings.default_timezone
    return name, zone_for(name)


async def viewer_zone(context: ContextTypes.DEFAULT_TYPE, viewer_id: int | None) -> tzinfo:
    """The zone a message's times are shown in: the person's (the configured default when they set none,
    or theirs is no longer known); a group's (None) is UTC, named as such: its members live in different
    zones, and no one's zone is right for all."""
    if viewer_id is None:
        return UTC
    d = deps(context)
    profile = await d.svc.profile(viewer_id)
    return zone(profile.timezone if profile else None, d.settings.default_timezone)


async def user_today(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> date:
    """R11: 'today' is the calendar date in the acting user's time zone."""
    _, tz = await user_zone(context, user_id)
    return deps(context).clock().astimezone(tz).date()


async def remember_user(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Keep each person's name (for cards) and whether they opened a private chat (for messages)."""
    user = update.effective_user
    if user is None or user.is_bot:
        set_spoken(DEFAULT)
        return
    chat = update.effective_chat
    private = chat is not None and chat.type == "private"
    d = deps(context)
    seen = d.known_users.get(user.id)
    key = (user.first_name, user.username, private or (seen[2] if seen else False))
    # Kept a minute: another process may have marked them unreachable meanwhile (PostgreSQL), and a
    # private message from them must then clear that.
    if seen is not None and seen[:3] == key and seen[3] > time.monotonic() and seen[6] == (user.language_code or None):
        set_spoken(seen[5])  # what the bot says in this update is in their language (PRODUCT §9)
        if private:
            d.chat_langs[user.id] = seen[5]
        return
    profile = await d.svc.profile(user.id) or UserProfile(id=user.id)
    profile.first_name = without_control(user.first_name or "")
    profile.username = user.username
    profile.telegram_language = user.language_code or None
    set_spoken(language_of(profile))
    if private:
        d.chat_langs[user.id] = language_of(profile)
    if private:
        profile.started = True
        profile.blocked = False  # they are talking to us again
    await d.svc.save_profile(profile)
    d.name_cache.pop(user.id, None)
    remembered = (
        profile.first_name,
        profile.username,
        profile.started,
        time.monotonic() + NAME_TTL_S,
        profile.blocked,
        language_of(profile),
        profile.telegram_language,
    )
    turn = current_turn()
    if turn is None:
        d.known_users[user.id] = remembered
    else:  # only once it is stored: a turn rolled back stores nothing
        turn.committed.append(lambda: d.known_users.__setitem__(user.id, remembered))


NAME_TTL_S = 60.0


def language_of(profile: UserProfile | None) -> str:
    """PRODUCT §9: the language chosen in /settings, else Telegram's language_code, else English."""
    if profile is None:
        return DEFAULT
    return pick(profile.language or profile.telegram_language)


async def lang_of(context: ContextTypes.DEFAULT_TYPE, chat_id: int | None, contract: Contract | None = None) -> str:
    """The language a message to this chat is written in: a person's own (no read for someone seen
    within the minute); a group's is its contract's client's (a group has no language of its own);
    None (no chat) or anyone unknown: English."""
    if chat_id is None:
        return DEFAULT
    d = deps(context)
    person = chat_id
    if chat_id < 0:
        if contract is None or contract.client_id is None:
            return DEFAULT
        person = contract.client_id
    seen = d.known_users.get(person)
    if seen is not None and seen[3] > time.monotonic():
        lang = seen[5]
    else:
        lang = language_of(await d.svc.profile(person))
    d.chat_langs[chat_id] = lang  # for what the sender writes there later (card_replaced)
    return lang


async def names_of(context: ContextTypes.DEFAULT_TYPE, contract: Contract) -> dict[int, str]:
    """Display names of both parties; cached briefly, since a card and its notifications need them
    several times per tap and names rarely change (remember_user drops a changed one)."""
    d = deps(context)
    now = time.monotonic()
    out, missing = {}, []
    for uid in (contract.client_id, contract.freelancer_id):
        if uid is None:
            continue
        cached = d.name_cache.get(uid)
        if cached and cached[1] > now:
            out[uid] = cached[0]
        else:
            missing.append(uid)
    if missing:
        fresh = await d.svc.names(list(missing))
        for uid, name in fresh.items():
            d.name_cache[uid] = (name, now + NAME_TTL_S)
        out.update(fresh)
    return out


async def render_card(context, contract: Contract, viewer_id: int | None, page: int = 0):
    role = contract.role_of(viewer_id) if viewer_id is not None else None
    names = await names_of(context, contract)
    tz = await viewer_zone(context, viewer_id)
    return card_text(contract, role, names, page, tz), card_keyboard(contract, role, page)


async def answer_press(update: Update, text: str | None = None, alert: bool = False) -> None:
    """Answer a button press after a change is made: best effort, as the change stands whatever
    Telegram says to the answer (a lost answer only stops the spinner early)."""
    q = update.callback_query
    if q is None:
        return
    try:
        await q.answer(text, show_alert=alert)
    except TelegramError as err:
        log.info("could not answer a button press (%s); the change stands", err)


async def edit_or_send(
    context: ContextTypes.DEFAULT_TYPE,
    message: MaybeInaccessibleMessage | None,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> Message | None:
    """Edit the message in place; if it can't be edited, send a new one. 'Not modified' is fine."""
    if not isinstance(message, Message):
        message = None  # none, or too old for the bot to see: a new message instead
    if message is not None and shows_already(message, text, markup):
        return message  # Telegram would refuse the edit as "message is not modified"
    if message is not None:
        try:
            edited = await message.edit_text(text, reply_markup=markup)
            return edited if isinstance(edited, Message) else message  # True: an inline message
        except BadRequest as err:
            if "not modified" in str(err).lower():
                return message
            log.info("edit failed (%s); sending a new message", err)
    return await safe_send(context, chat_id, text, markup)


def shows_already(message: Message, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """Whether the message already shows this text (as Telegram would render it) and these buttons."""
    plain = plain_text(text).strip()
    current = getattr(message, "reply_markup", None) or InlineKeyboardMarkup([])
    return getattr(message, "text", None) == plain and current == (markup or InlineKeyboardMarkup([]))


async def known_unreachable(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> bool:
    """During an update: the person blocked the bot, or is the person acting and has never opened a
    private chat with it (a message recorded for them now could never be delivered)."""
    turn = current_turn()
    if turn is None or chat_id <= 0:
        return False
    if chat_id == turn.person == turn.chat:
        return False  # they are writing to us in their private chat right now
    d = deps(context)
    seen = d.known_users.get(chat_id)
    if seen is not None and seen[3] > time.monotonic():  # seen within the minute: no read (a send's hot path)
        started, blocked = seen[2], seen[4]
    else:
        profile = await d.svc.profile(chat_id)
        started, blocked = (profile.started, profile.blocked) if profile is not None else (False, False)
    return blocked or (chat_id == turn.person and not started)


async def safe_send(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> Message | None:
    """Send; a person who never started the bot (or blocked it) is marked, never crashes the handler.

    During an update the message is recorded for the sender (bot/turn.py), so Telegram's answer is not
    known yet. None then means the person is known to be unreachable: they blocked the bot, or they are
    the person acting and have never opened a private chat with it (each private update marks that).
    A 403 found later is handled by the sender."""
    if await known_unreachable(context, chat_id):
        return None
    try:
        return await context.bot.send_message(chat_id, text, reply_markup=markup)
    except Forbidden:
        if chat_id > 0:
            await mark_blocked(context, chat_id)
        return None
    except BadRequest as err:
        if "chat not found" in str(err).lower():
            if chat_id > 0:
                await mark_blocked(context, chat_id)
            return None
        raise


async def mark_blocked(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> None:
    await deps(context).mark_unreachable(user_id)
