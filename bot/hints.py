"""Messages no handler took (stray text, an unknown command, a file outside Submit work): a one-line hint."""

from __future__ import annotations

import re

from telegram import Message, Update
from telegram.ext import ContextTypes

from .handlers import in_group
from .i18n import _
from .keyboards import start_keyboard
from .texts import esc

_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]{3,32}))?")


def _command(message: Message) -> tuple[str, str] | None:
    """(command, the bot it names or '') when the message starts with a command."""
    found = _COMMAND.match(message.text or "")
    return (found.group(1), found.group(2) or "") if found else None


def _addressed(message: Message, username: str) -> bool:
    """In a group, a message meant for this bot: a command naming it, a mention, or a reply to it."""
    me = username.lower()
    command = _command(message)
    if command is not None:
        return command[1].lower() == me
    text = (message.text or message.caption or "").lower()
    replied = message.reply_to_message
    return f"@{me}" in text or (
        replied is not None
        and replied.from_user is not None
        and replied.from_user.is_bot
        and (replied.from_user.username or "").lower() == me
    )


async def stray(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anything a person sent that no command or step took. In a private chat: one line with the main
    buttons. In a group: nothing, unless it was meant for the bot (a group is not to be spammed)."""
    message = update.message
    if message is None:
        return
    username = context.bot.username
    if in_group(update):
        if _addressed(message, username):
            await message.reply_text(
                _("In a group I only understand /link. Everything else works in a private chat with me: @{bot}").format(
                    bot=esc(username)
                )
            )
        return
    command = _command(message)
    if command is not None:
        text = _("I don't know /{command}: use the buttons below, or /help for what I can do.").format(
            command=esc(command[0])
        )
    elif message.document is not None or message.photo:
        text = _("To send files with your work, press <b>Submit work</b> on the contract's card first (/help).")
    else:
        text = _("I didn't get that: use the buttons below, or /help for what I can do.")
    await message.reply_text(text, reply_markup=start_keyboard())
