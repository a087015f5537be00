"""The command menu (PRODUCT §9: in each language): published for everyone at start, per Telegram
language, and for a person who chose a language in /settings, in their private chat."""

from __future__ import annotations

import logging

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from .i18n import DEFAULT, LANGUAGES, N_, _, speaking

log = logging.getLogger(__name__)

COMMAND_MENU = [
    ("start", N_("Welcome and main menu")),
    ("help", N_("What the bot does and how")),
    ("newcontract", N_("Start a contract and invite the other party")),
    ("contracts", N_("Your contracts")),
    ("milestones", N_("A contract's milestones and buttons")),
    ("addmilestone", N_("Add (or propose) a milestone")),
    ("settings", N_("Language, time zone and quiet hours")),
    ("cancel", N_("Leave the current step; nothing is saved")),
]


def commands_in(lang: str) -> list[BotCommand]:
    """The command menu in one language (PRODUCT §9)."""
    with speaking(lang):
        return [BotCommand(name, _(description)) for name, description in COMMAND_MENU]


COMMANDS = commands_in(DEFAULT)


async def publish_commands(bot: Bot) -> None:
    """The menu for everyone (English), then one per language we speak, for the people whose Telegram is
    set to it (setMyCommands' language_code: ISO 639-1, so Brazilian Portuguese is published as 'pt')."""
    await bot.set_my_commands(COMMANDS)
    for lang in LANGUAGES:
        if lang != DEFAULT:
            await bot.set_my_commands(commands_in(lang), language_code=lang.split("_")[0])


async def publish_for(bot: Bot, chat_id: int, lang: str | None) -> None:
    """The menu of one private chat after a choice in /settings: in `lang`, or (None: follow Telegram's
    language again) the chat's own menu removed so the per-language one applies. Best effort: the menu
    is a convenience, and a failure changes nothing else."""
    try:
        if lang is None:
            await bot.delete_my_commands(scope=BotCommandScopeChat(chat_id))
        else:
            await bot.set_my_commands(commands_in(lang), scope=BotCommandScopeChat(chat_id))
    except TelegramError as err:
        log.info("could not set the command menu of chat %s: %s", chat_id, err)
