"""Starting the bot: webhook mode checks its secret on every request; a wrong token, an unreachable database or
a taken webhook port each end with one clear line and exit code 2, no traceback, nothing left open."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

from testkit.process import ROOT, TOKEN, BotProcess, WebhookBotProcess, free_port

pytestmark = pytest.mark.e2e
SECRET = "s3cret-Token_42"


def start_update(update_id: int, user_id: int, first_name: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": first_name},
            "from": {"id": user_id, "is_bot": False, "first_name": first_name},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }


def run_once(bot: BotProcess) -> tuple[int, str]:
    """`python -m bot` with the bot's environment, to its end; its exit code and whole output."""
    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=ROOT, env=bot.env(), capture_output=True, text=True, timeout=90
    )
    return result.returncode, result.stdout + result.stderr


def assert_clean_failure(output: str, *, says: str) -> None:
    """A failed start: says why in a line; no traceback, nothing left open, no token."""
    assert says in output, output
    assert "Traceback" not in output, output
    assert "Unclosed" not in output, output  # aiohttp's "Unclosed client session" / "Unclosed connector"
    assert TOKEN not in output and TOKEN.split(":")[1] not in output, output


def test_webhook_mode_checks_the_secret_on_every_request(tg, tmp_path):
    bot = WebhookBotProcess(tg, tmp_path / "bot.sqlite3", tmp_path / "bot.log", secret=SECRET)
    tg.abort_check = bot.died
    bot.start()
    try:
        [call] = tg.calls_of("setWebhook")
        assert call.params["url"] == "https://milestone.example/telegram"
        assert call.params["secret_token"] == SECRET
        ann = tg.user(7001, "Ann", started=True)
        update = start_update(1, ann.id, "Ann")
        assert bot.post(update, None) == 403
        assert bot.post(update, "wrong") == 403
        assert bot.post(update, SECRET[:-1]) == 403
        assert bot.post(update, SECRET + "x") == 403
        assert bot.post(update, "sécret") == 403  # not ASCII: refused, not a server error
        assert tg.messages(ann) == []  # nothing was handled
        assert bot.post(update, SECRET) == 200
        tg.wait_for_message(ann, "Hi Ann", timeout=10)
        assert tg.calls_of("getUpdates") == []  # webhook mode: no polling
    finally:
        tg.abort_check = None
        assert bot.stop() == 0
    assert SECRET not in bot.output()


def test_a_wrong_token_ends_with_a_clear_message_not_a_traceback(tg, tmp_path):
    bot = BotProcess(
        tg, tmp_path / "bot.sqlite3", tmp_path / "bot.log", extra_env={"BOT_TOKEN": "123456:not-the-right-one"}
    )
    code, output = run_once(bot)
    assert code == 2
    assert_clean_failure(output, says="Telegram rejected BOT_TOKEN")
    assert "not-the-right-one" not in output


def test_an_unreachable_database_ends_with_one_line_naming_its_host(tg, tmp_path):
    closed_port = free_port()  # nothing listens there
    url = f"postgresql://milestone:Pa55-w0rd-never-shown@127.0.0.1:{closed_port}/milestone"
    bot = BotProcess(tg, tmp_path / "bot.sqlite3", tmp_path / "bot.log", extra_env={"DATABASE_URL": url})
    code, output = run_once(bot)
    assert code == 2, output
    assert len(output.strip().splitlines()) == 1, output
    assert_clean_failure(output, says=f"Could not connect to the database server 127.0.0.1:{closed_port}")
    assert "Pa55-w0rd-never-shown" not in output
    assert tg.calls == []  # it stopped before talking to Telegram


def test_a_taken_webhook_port_ends_with_one_line_and_closes_what_it_opened(tg, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        bot = WebhookBotProcess(tg, tmp_path / "bot.sqlite3", tmp_path / "bot.log", secret=SECRET, port=port)
        code, output = run_once(bot)
    assert code == 2, output
    assert_clean_failure(output, says=f"Could not listen for webhook requests on 127.0.0.1:{port}")
    assert SECRET not in output
