"""Tells the other party (and a linked group) about each change, with the buttons they now need."""

from __future__ import annotations

import logging

from telegram.error import TelegramError
from telegram.ext import ContextTypes

from domain.model import Contract, Role
from domain.services import Outcome
from storage import durable

from .callbacks import card_digest
from .common import deps, lang_of, names_of, render_card, safe_send, viewer_zone
from .i18n import _, speaking
from .keyboards import notification_keyboard
from .texts import e, files_line, fit, notification
from .turn import current_turn

log = logging.getLogger(__name__)


def recipients(outcome: Outcome) -> list[Role]:
    """The other party; both when the bot itself acted (automatic release)."""
    c = outcome.contract
    actor_role = c.role_of(outcome.actor_id)
    if actor_role is None:
        return [Role.CLIENT, Role.FREELANCER]
    return [actor_role.other]


async def notify(
    context: ContextTypes.DEFAULT_TYPE, outcome: Outcome, to_group: bool = True, hint_chat: int | None = None
) -> list[str]:
    """Send the news; return the names of parties known to be unreachable (never started / blocked).
    hint_chat: should Telegram refuse the news later (403), this chat gets the hint."""
    c = outcome.contract
    if not outcome.action:
        return []  # nothing happened that anyone needs to hear (e.g. an edit that changed nothing)
    names = await names_of(context, c)
    if outcome.actor_id is not None and outcome.actor_id not in names:
        # Someone who is not a party (yet): e.g. the invited person who declined.
        names.update(await deps(context).svc.names([outcome.actor_id]))

    async def text_for(chat: int | None) -> str:
        """The news as this recipient reads it: in their language, its times in their zone (None, a
        group: UTC). Called inside `speaking(...)` for them."""
        tz = await viewer_zone(context, chat)
        actor = names.get(outcome.actor_id, _("The bot")) if outcome.actor_id is not None else _("The bot")
        text = notification(
            outcome.action, c, outcome.milestone, actor, outcome.changes, tz=tz, note=outcome.note, said=outcome.said
        )
        return fit(f"{text}\n{files_line(outcome.files)}") if outcome.files else text

    unreachable = []
    for role in recipients(outcome):
        user_id = c.party_id(role)
        if user_id is None:
            continue
        with speaking(await lang_of(context, user_id)):
            text = await text_for(user_id)
            markup = notification_keyboard(c, role, outcome.milestone)
        turn = current_turn()
        if turn is not None and hint_chat is not None and c.id is not None:
            name = names.get(user_id, str(user_id))
            with turn.unreachable_hint(hint_chat, unreachable_hint(context.bot.username, c.id, [name])):
                sent = await safe_send(context, user_id, text, markup)
        else:
            sent = await safe_send(context, user_id, text, markup)
        if sent is None:
            unreachable.append(names.get(user_id, str(user_id)))
    if to_group and c.group_chat_id is not None:
        with speaking(await lang_of(context, c.group_chat_id, c)):
            text = await text_for(None)
            markup = notification_keyboard(c, None, outcome.milestone)
        try:
            if await safe_send(context, c.group_chat_id, text, markup) is None:
                log.info("could not post to the linked group of contract %s", c.id)
        except TelegramError as err:  # e.g. the group became a supergroup (ChatMigrated)
            log.warning("could not post to the linked group of contract %s: %s", c.id, err)
    others = [(c.party_id(role), c.party_id(role)) for role in recipients(outcome)]
    await refresh_live_cards(context, c, [*others, *([(c.group_chat_id, None)] if to_group else [])])
    return unreachable


async def refresh_live_cards(
    context: ContextTypes.DEFAULT_TYPE, contract: Contract, chats: list[tuple[int | None, int | None]]
) -> None:
    """Each (chat, viewer)'s live card of the contract (one live card per chat), edited to show the
    contract as it is now. A card gone meanwhile is sent afresh by the sender."""
    turn = current_turn()
    if turn is None or contract.id is None:
        return
    for chat, viewer in chats:
        if chat is None:
            continue
        live = await durable.live_card(turn.session, chat, contract.id)
        if live is None:
            continue
        message_id, shows = live
        with speaking(await lang_of(context, chat, contract)):
            text, markup = await render_card(context, contract, viewer)
        if card_digest(text, markup) != shows:  # else Telegram would answer "message is not modified"
            await context.bot.edit_message_text(text, chat_id=chat, message_id=message_id, reply_markup=markup)


async def tell_others(
    context: ContextTypes.DEFAULT_TYPE, outcome: Outcome, actor_chat: int | None, to_group: bool = True
) -> None:
    """The news to the others; if one of them can't be reached, the actor gets a link to share."""
    unreachable = await notify(context, outcome, to_group=to_group, hint_chat=actor_chat)
    if unreachable and actor_chat is not None:
        assert outcome.contract.id is not None
        await safe_send(context, actor_chat, unreachable_hint(context.bot.username, outcome.contract.id, unreachable))


def unreachable_hint(bot_username: str, contract_id: int, names: list[str]) -> str:
    who = ", ".join(e(n) for n in names)
    return _(
        "⚠️ I couldn't message {who}: they haven't started me or have blocked me. Share this link "
        "with them so they can open the contract: {link}"
    ).format(who=who, link=f"https://t.me/{bot_username}?start=c{contract_id}")
