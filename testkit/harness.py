"""The real Application driven in-process: updates go through process_update, API calls to the fake."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta

from telegram import Update
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest

from bot.app import _post_init, build_application
from bot.settings import Settings
from storage.db import create_engine
from storage.migrate import upgrade_to_head
from testkit.fake_telegram import FakeTelegram

TOKEN = "123456:TEST-token-for-in-process"


class InProcessRequest(BaseRequest):
    """A request class that never touches the network: each call is served by the fake directly.

    A slow answer (FakeTelegram.slow_next) is waited for as an HTTP client would: up to the read timeout
    (the call's, else `read_timeout`, 5 s as python-telegram-bot's HTTPXRequest); past it, TimedOut
    after that wait, though the call ran (its answer was lost)."""

    def __init__(self, fake: FakeTelegram) -> None:
        self.fake = fake

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float:
        return 5.0

    async def do_request(
        self,
        url,
        method,
        request_data=None,
        read_timeout=None,
        write_timeout=None,
        connect_timeout=None,
        pool_timeout=None,
    ):
        api_method = url.rsplit("/", 1)[1]
        params: dict = dict(request_data.json_parameters) if request_data else {}
        if request_data is not None and request_data.contains_files:
            # An upload (sendDocument with a file): as the fake's HTTP server reads a multipart part.
            for name, part in request_data.multipart_data.items():
                if isinstance(part, tuple):
                    filename, content = part[0], part[1]
                    params[name] = {"filename": filename, "size": len(content), "content": content}
        status, payload, delay = self.fake.call_direct_delayed(api_method, params)
        if status == 0:
            raise NetworkError("connection dropped")
        if delay:
            timeout = self.read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
            if timeout is not None and delay > timeout:
                await asyncio.sleep(timeout)
                raise TimedOut(f"no answer within the read timeout ({timeout:g} s)")
            await asyncio.sleep(delay)
        return status, json.dumps(payload).encode()


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw) -> None:
        self.now += timedelta(**kw)


class Harness:
    def __init__(self, app, tg: FakeTelegram, clock: Clock) -> None:
        self.app, self.tg, self.clock = app, tg, clock
        self.offset = 0

    async def pump(self) -> None:
        while True:
            status, payload = self.tg.call_direct("getUpdates", {"offset": self.offset, "timeout": 0})
            updates = payload["result"]
            if not updates:
                # What the updates caused is in the outbox: delivered before the test looks.
                await self.app.bot_data["turns"].settle_answers()
                await self.app.bot_data["sender"].drain()
                return
            for raw in updates:
                self.offset = raw["update_id"] + 1
                await self.app.process_update(Update.de_json(raw, self.app.bot))

    async def send(self, user, text: str, chat=None):
        self.tg.send_text(user, text, chat=chat)
        await self.pump()
        return self.tg.last_message(chat or user)

    async def press(self, user, message, prefix: str | None = None, chat=None, callback_data=None) -> dict:
        qid = self.tg.press(user, message, prefix, callback_data=callback_data, chat=chat)
        await self.pump()
        return self.tg.answer_for(qid) or {}

    def last(self, chat):
        return self.tg.last_message(chat)

    def texts(self, chat) -> list[str]:
        return [m.plain_text for m in self.tg.messages(chat)]


def in_process_currencies(fake: FakeTelegram):
    """Telegram Payments' limits file fetched from the fake without HTTP (FakeTelegram.currencies_direct): the
    in-process tests never reach the network, core.telegram.org included."""

    async def fetch(url: str) -> bytes:
        status, body, delay = fake.currencies_direct()
        if delay:
            await asyncio.sleep(delay)
        if status == 0:
            raise ConnectionResetError("connection dropped")
        if not 200 <= status < 300:
            raise OSError(f"HTTP {status} from {url}")
        return body

    return fetch


async def make_app(tg, db_url, clock, **settings):
    """The application as the bot builds it, on the fake in-process. Telegram Payments' limits (telegram mode
    with a provider token) come from the fake in-process too, unless `payment_currencies_url` is given (a
    loopback URL: e.g. the fake's own, started, `tg.currencies_url`)."""
    cfg = Settings(bot_token=TOKEN, database_url=db_url, _env_file=None, **settings)
    engine = create_engine(db_url, inline=cfg.io_shims)  # IO_SHIMS from the environment
    await upgrade_to_head(engine)
    app = build_application(
        cfg, clock=clock, engine=engine, request=InProcessRequest(tg), updater=False, rate_limiter=False
    )
    limits = app.bot_data["deps"].extra.get("payment_limits")
    if limits is not None and "payment_currencies_url" not in settings:
        limits.fetch = in_process_currencies(tg)
    await app.initialize()
    await _post_init(app)
    return app
