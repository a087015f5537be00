"""Entry point: `python -m bot` runs the bot with settings from the environment or .env."""

from __future__ import annotations

import sys

from bot.settings import Settings

NO_TOKEN = """\
BOT_TOKEN is not set, so the bot can't connect to Telegram.

Get a token: open Telegram, talk to @BotFather, send /newbot and follow the steps.
Then put it in a file named .env in this directory:

    BOT_TOKEN=123456789:AA...your-token...

(or export BOT_TOKEN in the environment) and run the command again.
See .env.example for every other setting."""  # i18n: ok (the console of whoever runs the bot)


def main() -> int:
    settings = Settings()
    if settings.bot_token is None:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    from bot.app import run

    return run(settings)


if __name__ == "__main__":
    sys.exit(main())
