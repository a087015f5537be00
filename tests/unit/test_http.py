"""The aiohttp transport for Bot API calls (bot/http.py): what PTB's own transport does, answer by answer."""

from __future__ import annotations

import asyncio
import json
import socket

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, TimedOut

from bot.http import AiohttpRequest
from testkit.fake_telegram import FakeTelegram

TOKEN = "123456:http-test"


@pytest.fixture
def fake():
    with FakeTelegram(TOKEN) as tg:
        yield tg


def make_bot(base_url: str, **kw) -> Bot:
    return Bot(
        TOKEN, base_url=f"{base_url}/bot", request=AiohttpRequest(8, **kw), get_updates_request=AiohttpRequest(1, **kw)
    )


async def test_calls_answers_and_errors_come_through_as_with_ptbs_transport(fake):
    alice = fake.user(501, "Alice", started=True)
    never_started = fake.user(502, "Bob", started=False)
    async with make_bot(fake.base_url) as bot:
        me = await bot.get_me()
        assert me.is_bot
        text = "Fund «Design» <b>now</b> & 🚀 עברית"
        sent = await bot.send_message(alice.id, text)
        assert sent.text == text and fake.last_message(alice).plain_text == text
        with pytest.raises(Forbidden):  # the fake's 403 for someone who never started the bot
            await bot.send_message(never_started.id, "hi")
        with pytest.raises(BadRequest):  # a 400 from the server
            await bot.send_message(alice.id, "x" * 5000)
    assert all(c.status in (200, 400, 403) for c in fake.calls)


async def _answer(writer: asyncio.StreamWriter, result: object) -> None:
    """A Bot API success answer, written by hand."""
    answer = json.dumps({"ok": True, "result": result}).encode()
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
        + str(len(answer)).encode()
        + b"\r\n\r\n"
        + answer
    )
    await writer.drain()


async def _raw_server(handler) -> tuple[asyncio.AbstractServer, str]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


async def test_a_file_upload_goes_as_multipart_with_the_other_parameters():
    seen: dict[str, bytes] = {}

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:  # keep-alive: getMe first, then the upload
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = int(
                next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
                or 0
            )
            body = await reader.readexactly(length)
            if b"/getMe" in head:
                result = {"id": 1, "is_bot": True, "first_name": "Bot", "username": "test_bot"}
            else:
                seen["head"], seen["body"] = head, body
                result = {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}}
            await _answer(writer, result)
        writer.close()

    server, base = await _raw_server(handler)
    async with server, make_bot(base) as bot:
        await bot.send_document(5, document=b"%PDF-1.4 milestone report", filename="report.pdf", caption="Here it is")
    head, body = seen["head"].decode(), seen["body"]
    assert "multipart/form-data" in head and "/sendDocument" in head
    assert b"%PDF-1.4 milestone report" in body and b'filename="report.pdf"' in body and b"Here it is" in body


async def test_a_server_that_never_answers_times_out():
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        await asyncio.sleep(5)
        writer.close()

    server, base = await _raw_server(handler)
    async with server:
        bot = make_bot(base, read_timeout=0.2)
        await bot.request.initialize()  # not bot.initialize(): its getMe would time out too
        try:
            with pytest.raises(TimedOut):
                await bot.send_message(5, "hi")
        finally:
            await bot.request.shutdown()


async def test_an_unreachable_server_is_a_network_error():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    request = AiohttpRequest(1)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
        assert not isinstance(caught.value, TimedOut)
    finally:
        await request.shutdown()


async def test_using_it_before_initialize_is_a_clear_error():
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest(1).do_request("http://127.0.0.1:9/x", "POST")


async def test_a_proxy_from_the_environment_is_used_as_with_ptbs_transport(monkeypatch):
    request_lines: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_lines.append(head.split(b"\r\n", 1)[0])
        await _answer(writer, True)
        writer.close()

    server, base = await _raw_server(proxy)
    monkeypatch.setenv("HTTP_PROXY", base)
    monkeypatch.setenv("http_proxy", base)  # the lower-case one wins where both are set
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    request = AiohttpRequest(1)
    async with server:
        await request.initialize()
        try:
            await request.post(f"http://127.0.0.2:9/bot{TOKEN}/logOut")
        finally:
            await request.shutdown()
    assert request_lines == [f"POST http://127.0.0.2:9/bot{TOKEN}/logOut HTTP/1.1".encode()]


async def test_errors_never_carry_the_token_and_redirects_are_not_followed():
    hits: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        hits.append(head.split(b"\r\n", 1)[0])
        if b"/hang" in head:
            await asyncio.sleep(3)
        else:
            writer.write(b"HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
        writer.close()

    server, base = await _raw_server(handler)
    request = AiohttpRequest(1, connect_timeout=0.1, pool_timeout=0.1, read_timeout=5)
    async with server:
        await request.initialize()
        try:
            status, _ = await request.do_request(f"{base}/bot{TOKEN}/getMe", "POST")
            assert status == 302 and len(hits) == 1  # as with PTB's httpx: a redirect is not followed
            # The only pooled connection hangs; the next call waits for it and times out. aiohttp's
            # own message for that names the URL, token included.
            hanging = asyncio.create_task(request.do_request(f"{base}/bot{TOKEN}/hang", "POST"))
            await asyncio.sleep(0.05)
            with pytest.raises(TimedOut) as caught:
                await request.do_request(f"{base}/bot{TOKEN}/getMe", "POST")
            hanging.cancel()
        finally:
            await request.shutdown()
    err = caught.value
    assert TOKEN not in str(err) and err.__cause__ is None and err.__suppress_context__


def test_the_log_filter_redacts_the_token_in_tracebacks_too():
    import logging

    from bot.app import RedactSecrets

    try:
        raise ValueError(f"Connection timeout to host http://127.0.0.1/bot{TOKEN}/getMe")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "polling failed", (), sys.exc_info())
    RedactSecrets({TOKEN: "<BOT_TOKEN>"}).filter(record)
    text = logging.Formatter().format(record)
    assert TOKEN not in text and "<BOT_TOKEN>" in text and "polling failed" in text


async def test_get_updates_is_asked_again_once_when_the_server_drops_the_connection_a_send_is_not():
    """A kept-alive connection the server closes just as it is reused: getUpdates is safe to repeat,
    so it is asked again once; a sendMessage is not repeated here (the outbox's sender decides)."""
    heads: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            writer.close()
            return
        heads.append(head)
        length = int(
            next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")) or 0
        )
        await reader.readexactly(length)
        if len(heads) == 1 or b"/sendMessage" in head:  # the first getUpdates and any send: dropped unanswered
            writer.close()
            return
        await _answer(writer, [])
        writer.close()  # after answering: the client's kept-alive connection is gone when it next uses it

    server, base = await _raw_server(handler)
    request = AiohttpRequest(1)
    await request.initialize()
    try:
        async with server:
            assert await request.post(f"{base}/bot{TOKEN}/getUpdates") == []
            assert len(heads) == 2  # dropped, then asked again
            with pytest.raises(NetworkError):  # dropped (or sent on the connection the server had closed)
                await request.post(f"{base}/bot{TOKEN}/sendMessage")
            assert sum(b"/sendMessage" in head for head in heads) <= 1  # and not sent again
    finally:
        await request.shutdown()
