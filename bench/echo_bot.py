"""The baseline for benchmark 1: a minimal python-telegram-bot echo bot (polling, defaults)."""

from __future__ import annotations

import os

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.message.reply_text(update.message.text)


def main() -> None:
    root = os.environ["BOT_API_BASE_URL"].rstrip("/")
    builder = Application.builder().token(os.environ["BOT_TOKEN"]).base_url(f"{root}/bot")
    if os.environ.get("ECHO_TRANSPORT") == "aiohttp":
        # For context only: the same echo on the milestone bot's HTTP transport (the target's
        # baseline is the echo bot with python-telegram-bot's defaults).
        from bot.http import AiohttpRequest

        builder = builder.request(AiohttpRequest(256)).get_updates_request(AiohttpRequest(1))
    app = builder.build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=Update.ALL_TYPES)


if __name__ == "__main__":
    main()
