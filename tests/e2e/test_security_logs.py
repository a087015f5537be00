"""What a DEBUG-level log holds: never the bot token or the webhook secret; with LOG_UPDATES off (the default)
no message text either, neither people's nor the bot's."""

from __future__ import annotations

import pytest

from testkit.process import TOKEN, BotProcess, WebhookBotProcess
from tests.e2e.test_startup import SECRET, start_update
from tests.e2e.test_story import create_contract

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("log_updates", ["false", "true"])
def test_a_debug_log_in_webhook_mode_holds_neither_the_token_nor_the_secret(tg, tmp_path, log_updates):
    bot = WebhookBotProcess(
        tg,
        tmp_path / "bot.sqlite3",
        tmp_path / "bot.log",
        secret=SECRET,
        extra_env={"LOG_LEVEL": "DEBUG", "LOG_UPDATES": log_updates},
    )
    tg.abort_check = bot.died
    bot.start()
    try:
        assert tg.calls_of("setWebhook")[0].params["secret_token"] == SECRET
        ann = tg.user(7001, "Ann", started=True)
        assert bot.post(start_update(1, ann.id, "Ann"), SECRET + "-and-more") == 403  # PTB logs a wrong one
        assert bot.post(start_update(1, ann.id, "Ann"), SECRET) == 200
        tg.wait_for_message(ann, "Hi Ann", timeout=10)
    finally:
        tg.abort_check = None
        assert bot.stop() == 0
    log = bot.output()
    assert "DEBUG telegram.ext.ExtBot: Calling Bot API endpoint `setWebhook`" in log  # it did log at DEBUG
    assert "Request had the wrong secret token" in log
    assert TOKEN not in log
    assert TOKEN.split(":")[1] not in log
    assert SECRET not in log
    if log_updates == "true":  # every parameter logged: the secret's place is marked
        assert "'secret_token': '<WEBHOOK_SECRET>'" in log


def test_with_log_updates_off_a_debug_log_holds_no_message_text(tg, tmp_path):
    bot = BotProcess(tg, tmp_path / "bot.sqlite3", tmp_path / "bot.log", extra_env={"LOG_LEVEL": "DEBUG"})
    tg.abort_check = bot.died
    bot.start()
    try:
        quintessa = tg.user(7101, "Quintessa", started=True)
        create_contract(tg, quintessa, "Zebra-Quokka-7731 logo redesign")
        assert any("Zebra-Quokka-7731" in m.plain_text for m in tg.messages(quintessa))
    finally:
        tg.abort_check = None
        assert bot.stop() == 0
    log = bot.output()
    assert "Call to Bot API endpoint `getUpdates` finished with return value" in log  # it did log at DEBUG
    for text in ("Zebra-Quokka-7731", "Quintessa", "/newcontract", "Which currency?", "Contract created"):
        assert text not in log, f"{text!r} is in the DEBUG log"
    assert "contents hidden" in log
    assert TOKEN.split(":")[1] not in log
