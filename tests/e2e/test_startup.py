"""Starting the bot: webhook mode checks its secret on every request; a wrong token ends with a clear message."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request

import pytest

from testkit.process import BotProcess

pytestmark = pytest.mark.e2e
SECRET = "s3cret-Token_42"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebhookBot(BotProcess):
    def __init__(self, *args, port: int) -> None:
        super().__init__(*args)
        self.port = port

    def env(self) -> dict[str, str]:
        env = super().env()
        # The public HTTPS address Telegram would call (through a TLS proxy); the bot listens on loopback.
        env.update(
            WEBHOOK_URL="https://milestone.example/telegram",
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(self.port),
            WEBHOOK_SECRET=SECRET,
        )
        return env

    def start(self) -> None:
        import subprocess
        import sys

        from testkit.process import ROOT

        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot"],
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.tg.wait_for_call("setWebhook", timeout=30)
        self.tg.wait_for(self.listening, timeout=10, description="the webhook server to listen")

    def listening(self) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0


def post(port: int, update: dict, secret: str | None) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/telegram",
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    if secret is not None:
        request.add_header("X-Telegram-Bot-Api-Secret-Token", secret)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never a proxy
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def test_webhook_mode_checks_the_secret_on_every_request(tg, tmp_path):
    port = free_port()
    bot = WebhookBot(tg, tmp_path / "bot.sqlite3", tmp_path / "bot.log", port=port)
    tg.abort_check = bot.died
    bot.start()
    try:
        [call] = tg.calls_of("setWebhook")
        assert call.params["url"] == "https://milestone.example/telegram"
        assert call.params["secret_token"] == SECRET
        ann = tg.user(7001, "Ann", started=True)
        update = {
            "update_id": 1,
            "message": {
                "message_id": 1,
                "date": int(time.time()),
                "chat": {"id": ann.id, "type": "private", "first_name": "Ann"},
                "from": {"id": ann.id, "is_bot": False, "first_name": "Ann"},
                "text": "/start",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        }
        assert post(port, update, None) == 403
        assert post(port, update, "wrong") == 403
        assert tg.messages(ann) == []  # nothing was handled
        assert post(port, update, SECRET) == 200
        tg.wait_for_message(ann, "Hi Ann", timeout=10)
        assert tg.calls_of("getUpdates") == []  # webhook mode: no polling
    finally:
        tg.abort_check = None
        assert bot.stop() == 0
    assert SECRET not in bot.output()


def test_a_wrong_token_ends_with_a_clear_message_not_a_traceback(tg, tmp_path):
    class WrongToken(BotProcess):
        def env(self) -> dict[str, str]:
            env = super().env()
            env["BOT_TOKEN"] = "123456:not-the-right-one"
            return env

    bot = WrongToken(tg, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    import subprocess
    import sys

    from testkit.process import ROOT

    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=ROOT, env=bot.env(), capture_output=True, text=True, timeout=60
    )
    output = result.stdout + result.stderr
    assert result.returncode == 2
    assert "Telegram rejected BOT_TOKEN" in output
    assert "Traceback" not in output
    assert "not-the-right-one" not in output
