"""The bot as a real `python -m bot` process against the fake Bot API, its output in one log file."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from bot.settings import Settings
from testkit.fake_telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[1]
# A realistic shape (id:secret) so a leak of either part would show in the log check.
TOKEN = "123456:AAHx9e2eSecretTokenDoNotLog_k3Qz"
START_TIMEOUT = 30.0  # first start imports babel/dateparser and runs the migrations
STOP_TIMEOUT = 15.0
# Variables the bot's settings read: never inherited from the developer's shell.
_BOT_SETTINGS = {
    "BOT_TOKEN",
    "UPDATES_PER_PERSON_BURST",
    "UPDATES_PER_PERSON_PER_SECOND",
    "DATABASE_URL",
    "BOT_API_BASE_URL",
    "DEFAULT_TIMEZONE",
    "REVIEW_DAYS",
    "REMINDER_SWEEP_SECONDS",
    "REMINDER_HOUR",
    "WEBHOOK_URL",
    "WEBHOOK_LISTEN",
    "WEBHOOK_PORT",
    "WEBHOOK_SECRET",
    "LOG_LEVEL",
    "LOG_UPDATES",
    "IO_SHIMS",
    "PAYMENT_CURRENCIES_URL",
}
_PROXIES = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"}


def _tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no output)"
    return "\n".join(text.splitlines()[-lines:]) or "(no output)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class BotProcess:
    """`python -m bot` against the fake; output (stdout and stderr, all runs) goes to one log file.

    database_url: the database to use instead of the SQLite file at db_path (e.g. a PostgreSQL database
    several processes share). extra_env: settings on top of the defaults below (e.g. LOG_LEVEL=DEBUG)."""

    def __init__(
        self,
        tg: FakeTelegram,
        db_path: Path | None,
        log_path: Path,
        *,
        database_url: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        assert db_path is not None or database_url is not None, "a database: db_path or database_url"
        self.tg = tg
        self.db_path = db_path
        self.database_url = database_url or f"sqlite+aiosqlite:///{db_path}"
        self.log_path = log_path
        self.extra_env = dict(extra_env or {})
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.exit_codes: list[int] = []

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k.upper() not in _BOT_SETTINGS and k not in _PROXIES}
        env.update(
            BOT_TOKEN=TOKEN,
            BOT_API_BASE_URL=self.tg.base_url,
            # Telegram Payments' limits (provider mode) from the fake too: a test never reaches the Internet.
            PAYMENT_CURRENCIES_URL=self.tg.currencies_url,
            DATABASE_URL=self.database_url,
            LOG_LEVEL="INFO",
            # Test drivers press faster than people can; the per-person guard has tests of its own.
            UPDATES_PER_PERSON_PER_SECOND="0",
            # The test run's IO_SHIMS (not a .env file's): IO_SHIMS=0 runs the bot on the stock I/O too.
            IO_SHIMS="1" if Settings(_env_file=None).io_shims else "0",
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "the bot is already running"
        # The previous process's long poll (if any) must be gone before we look for the new one.
        self.tg.wait_for(lambda: not self.tg.is_polling, 5.0, description="the old long poll to end")
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"----- bot start #{self.starts} -----\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot"],
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.wait_started()

    def wait_started(self) -> None:
        self.tg.wait_until_polling(timeout=START_TIMEOUT)

    def stop(self) -> int:
        """SIGTERM and wait for the exit (the only waiting on time in these tests); returns the exit code."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
                raise AssertionError(f"the bot did not exit within {STOP_TIMEOUT}s of SIGTERM") from None
        code = self.proc.returncode
        self.exit_codes.append(code)
        self.proc = None
        return code

    def restart(self) -> None:
        code = self.stop()
        assert code == 0, f"the bot exited with {code} on SIGTERM\n{self.tail()}"
        self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def died(self) -> str | None:
        """abort_check for the fake: a reason when the process ended while we still expect answers."""
        if self.proc is not None and self.proc.poll() is not None:
            return f"the bot process exited with code {self.proc.returncode}"
        return None

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def tail(self, lines: int = 60) -> str:
        return _tail(self.log_path, lines)


class WebhookBotProcess(BotProcess):
    """The bot in webhook mode: it registers WEBHOOK_URL (the public HTTPS address Telegram would call,
    through a TLS proxy) with the fake and listens on a loopback port; post() delivers an update there.
    The fake does not push updates to webhooks: tests build them."""

    URL = "https://milestone.example/telegram"

    def __init__(
        self,
        tg: FakeTelegram,
        db_path: Path | None,
        log_path: Path,
        *,
        secret: str,
        port: int | None = None,
        database_url: str | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(tg, db_path, log_path, database_url=database_url, extra_env=extra_env)
        self.secret = secret
        self.port = port or free_port()

    def env(self) -> dict[str, str]:
        env = super().env()
        webhook = {
            "WEBHOOK_URL": self.URL,
            "WEBHOOK_LISTEN": "127.0.0.1",
            "WEBHOOK_PORT": str(self.port),
            "WEBHOOK_SECRET": self.secret,
        }
        env.update({**webhook, **self.extra_env})
        return env

    def wait_started(self) -> None:
        since = len(self.tg.calls)
        self.tg.wait_for_call("setWebhook", timeout=START_TIMEOUT, since=since)
        self.tg.wait_for(self.listening, timeout=10, description="the webhook server to listen")

    def listening(self) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def post(self, update: dict[str, Any], secret: str | None) -> int:
        """POST an update as Telegram would, with this secret header (None: without); the HTTP status."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{urllib.parse.urlsplit(self.URL).path}",
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
