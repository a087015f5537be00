"""Self-tests of the fake Bot API server: plain HTTP against it, plus one python-telegram-bot round trip."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import socket
import threading
import time

import httpx
import pytest

from testkit.fake_telegram import (
    BLOCKED,
    BUTTON_DATA_INVALID,
    CANT_INITIATE,
    CHAT_NOT_FOUND,
    CONFLICT_POLL,
    EDIT_NOT_FOUND,
    NOT_MODIFIED,
    QUERY_INVALID,
    TEXT_BUTTONS_UNALLOWED,
    TEXT_EMPTY,
    TEXT_TOO_LONG,
    UNSUPPORTED_PARSE_MODE,
    FakeTelegram,
)

TOKEN = "123456:TEST-fake-token"


@pytest.fixture
def server():
    with FakeTelegram(TOKEN) as fake:
        yield fake


@pytest.fixture
def api(server):
    # trust_env=False: never route 127.0.0.1 through a proxy from the environment.
    with httpx.Client(base_url=f"{server.base_url}/bot{TOKEN}/", trust_env=False, timeout=10) as client:

        def call(method: str, **params):
            """POST like python-telegram-bot does: form fields, nested values JSON-encoded."""
            form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in params.items()}
            response = client.post(method, data=form)
            body = response.json()
            assert response.status_code == (200 if body["ok"] else body["error_code"])
            return body

        call.client = client
        yield call


def keyboard(*buttons):
    return {"inline_keyboard": [[{"text": text, "callback_data": data} for text, data in buttons]]}


@pytest.fixture
def alice(server):
    user = server.user(1001, "Alice", "alice")
    server.send_text(user, "/start")
    return user


def test_get_me_and_routing(server, api):
    me = api("getMe")["result"]
    assert me["id"] == 123456 and me["is_bot"] is True and me["username"] == "milestone_test_bot"
    assert me["can_join_groups"] is True

    with httpx.Client(trust_env=False) as client:
        wrong = client.post(f"{server.base_url}/bot999:wrong/getMe")
        assert wrong.status_code == 401
        assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
        unknown = client.post(f"{server.base_url}/bot{TOKEN}/sendTelepathy")
        assert unknown.status_code == 404
        assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        # Method names are case-insensitive; JSON bodies and query strings work too.
        assert client.get(f"{server.base_url}/bot{TOKEN}/getme").json()["ok"] is True
        assert client.get(f"{server.base_url}/bot{TOKEN}/getUpdates?timeout=0").json() == {"ok": True, "result": []}
        server.user(7, "Bob", started=True)
        sent = client.post(f"{server.base_url}/bot{TOKEN}/sendMessage", json={"chat_id": 7, "text": "hi"})
        assert sent.json()["result"]["text"] == "hi"


def test_long_poll_returns_update_queued_after_poll_started(server, api, alice):
    first = api("getUpdates", timeout=0)["result"]
    assert [u["message"]["text"] for u in first] == ["/start"]
    assert first[0]["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert first[0]["message"]["chat"] == {"id": 1001, "type": "private", "first_name": "Alice", "username": "alice"}
    offset = first[-1]["update_id"] + 1

    result = {}

    def poll():
        started = time.monotonic()
        result["body"] = api("getUpdates", offset=offset, timeout=5)
        result["took"] = time.monotonic() - started

    poller = threading.Thread(target=poll)
    poller.start()
    server.wait_for(lambda: server.pending_updates() == 0, timeout=2, description="the /start update confirmed")
    time.sleep(0.15)
    update_id = server.send_text(alice, "hello there")
    poller.join(timeout=5)
    assert [u["update_id"] for u in result["body"]["result"]] == [update_id]
    assert 0.1 < result["took"] < 2

    # Without confirming, the update is delivered again; a higher offset drops it for good.
    assert api("getUpdates", offset=offset)["result"][0]["update_id"] == update_id
    assert api("getUpdates", offset=update_id + 1)["result"] == []
    assert server.pending_updates() == 0
    assert api("getUpdates", offset=offset)["result"] == []


def test_long_poll_times_out_and_limit_is_honoured(server, api, alice):
    for n in range(3):
        server.send_text(alice, f"m{n}")
    batch = api("getUpdates", limit=2)["result"]
    assert [u["message"]["text"] for u in batch] == ["/start", "m0"]
    api("getUpdates", offset=batch[-1]["update_id"] + 1, limit=1)
    assert server.pending_updates() == 2
    last = server.send_text(alice, "m3")
    api("getUpdates", offset=last + 1)
    started = time.monotonic()
    assert api("getUpdates", timeout=1)["result"] == []
    assert 0.9 < time.monotonic() - started < 1.8


def test_second_poll_terminates_the_first_with_conflict(server, api):
    result = {}
    poller = threading.Thread(target=lambda: result.update(body=api("getUpdates", timeout=5)))
    poller.start()
    server.wait_until_polling(timeout=1)
    assert api("getUpdates", timeout=0)["ok"] is True
    poller.join(timeout=3)
    assert result["body"]["error_code"] == 409 and result["body"]["description"] == CONFLICT_POLL


def test_abandoned_long_poll_is_logged_as_499(server):
    with socket.create_connection(("127.0.0.1", int(server.base_url.rsplit(":", 1)[1]))) as raw:
        raw.sendall(f"GET /bot{TOKEN}/getUpdates?timeout=5 HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        server.wait_until_polling(timeout=1)
    call = server.wait_for_call("getUpdates", timeout=1)
    assert call.status == 499 and not server.is_polling
    assert server.stats["errors"] == 0


def test_drop_pending_updates_on_delete_webhook(server, api, alice):
    assert server.pending_updates() == 1
    assert api("deleteWebhook", drop_pending_updates=True)["result"] is True
    assert server.pending_updates() == 0
    assert api("getWebhookInfo")["result"]["url"] == ""


def test_html_is_parsed_strictly(server, api, alice):
    ok = api(
        "sendMessage",
        chat_id=1001,
        text="<b>Bold <i>both</i></b> and <a href='https://x.org'>link</a>",
        parse_mode="HTML",
    )
    message = ok["result"]
    assert message["text"] == "Bold both and link"
    assert message["entities"] == [
        {"type": "bold", "offset": 0, "length": 9},
        {"type": "italic", "offset": 5, "length": 4},
        {"type": "text_link", "offset": 14, "length": 4, "url": "https://x.org"},
    ]
    assert server.last_message(1001).plain_text == "Bold both and link"
    assert server.last_message(1001).text.startswith("<b>Bold")

    for bad, detail in [
        ("<x>hi</x>", 'Unsupported start tag "x" at byte offset 0'),
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>crossed</b></i>", 'Unmatched end tag at byte offset 13, expected "</i>", found "</b>"'),
        ("Tom & Jerry", 'Unescaped "&" at byte offset 4: write it as &amp;'),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ]:
        body = api("sendMessage", chat_id=1001, text=bad, parse_mode="HTML")
        assert body["error_code"] == 400
        assert body["description"] == f"Bad Request: can't parse entities: {detail}"

    escaped = api("sendMessage", chat_id=1001, text="1 &lt; 2 &amp;&amp; &quot;q&quot; &#33;&#x21;", parse_mode="HTML")
    assert escaped["result"]["text"] == '1 < 2 && "q" !!'
    # Without parse_mode the same characters are just text.
    assert api("sendMessage", chat_id=1001, text="Tom & <Jerry>")["result"]["text"] == "Tom & <Jerry>"
    assert api("sendMessage", chat_id=1001, text="<b> </b>", parse_mode="HTML")["description"] == TEXT_EMPTY
    assert api("sendMessage", chat_id=1001, text="")["description"] == TEXT_EMPTY


def test_markdown_parse_modes_are_refused_not_guessed(server, api, alice):
    # The bot sends HTML only; a Markdown request would be a bug, so the fake refuses it loudly.
    sent = api("sendMessage", chat_id=1001, text="plain")["result"]
    for mode in ("MarkdownV2", "Markdown"):
        body = api("sendMessage", chat_id=1001, text="*bold*", parse_mode=mode)
        assert body["error_code"] == 400 and body["description"] == UNSUPPORTED_PARSE_MODE
        body = api("editMessageText", chat_id=1001, message_id=sent["message_id"], text="*bold*", parse_mode=mode)
        assert body["error_code"] == 400 and body["description"] == UNSUPPORTED_PARSE_MODE
    assert server.last_message(1001).text == "plain"


def test_length_limit_counts_utf16_units_after_parsing(api, alice):
    emoji = "\U0001f600"  # two UTF-16 code units
    assert api("sendMessage", chat_id=1001, text=emoji * 2048)["ok"] is True
    assert api("sendMessage", chat_id=1001, text=emoji * 2048 + "a")["description"] == TEXT_TOO_LONG
    assert api("sendMessage", chat_id=1001, text="a" * 4097)["description"] == TEXT_TOO_LONG
    # 4096 characters once "&lt;" is decoded, although the raw text is four times as long.
    assert api("sendMessage", chat_id=1001, text="<b>" + "&lt;" * 4096 + "</b>", parse_mode="HTML")["ok"] is True
    assert api("sendMessage", chat_id=1001, text="&lt;" * 4097, parse_mode="HTML")["description"] == TEXT_TOO_LONG
    sent = api("sendMessage", chat_id=1001, text="short")["result"]
    edit = api("editMessageText", chat_id=1001, message_id=sent["message_id"], text="b" * 4097)
    assert edit["description"] == "Bad Request: MESSAGE_TOO_LONG"


def test_inline_keyboard_validation(api, alice):
    assert api("sendMessage", chat_id=1001, text="x", reply_markup=keyboard(("ok", "d" * 64)))["ok"] is True
    assert api("sendMessage", chat_id=1001, text="x", reply_markup=keyboard(("ok", "é" * 32)))["ok"] is True
    for data in ["d" * 65, "é" * 33]:
        body = api("sendMessage", chat_id=1001, text="x", reply_markup=keyboard(("too long", data)))
        assert body["description"] == BUTTON_DATA_INVALID
    text_only = {"inline_keyboard": [[{"text": "lonely"}]]}
    assert api("sendMessage", chat_id=1001, text="x", reply_markup=text_only)["description"] == TEXT_BUTTONS_UNALLOWED
    two_actions = {"inline_keyboard": [[{"text": "t", "callback_data": "a", "url": "https://x.org"}]]}
    assert api("sendMessage", chat_id=1001, text="x", reply_markup=two_actions)["error_code"] == 400
    empty_text = {"inline_keyboard": [[{"text": "", "callback_data": "a"}]]}
    assert api("sendMessage", chat_id=1001, text="x", reply_markup=empty_text)["error_code"] == 400
    echoed = api("sendMessage", chat_id=1001, text="x", reply_markup=keyboard(("A", "a"), ("B", "b")))["result"]
    assert echoed["reply_markup"] == keyboard(("A", "a"), ("B", "b"))


def test_who_the_bot_may_write_to(server, api, alice):
    server.user(2002, "Carol")
    body = api("sendMessage", chat_id=2002, text="hello")
    assert (body["error_code"], body["description"]) == (403, CANT_INITIATE)
    server.block_user(alice)
    body = api("sendMessage", chat_id=1001, text="hello")
    assert (body["error_code"], body["description"]) == (403, BLOCKED)
    assert api("sendChatAction", chat_id=1001, action="typing")["error_code"] == 403
    server.send_text(alice, "I'm back")  # writing again unblocks
    assert api("sendMessage", chat_id=1001, text="hello")["ok"] is True
    assert api("sendMessage", chat_id=424242, text="hello")["description"] == CHAT_NOT_FOUND
    assert api("sendMessage", chat_id=-100, text="hello")["description"] == CHAT_NOT_FOUND
    server.group(-100, "Project room")
    group_message = api("sendMessage", chat_id=-100, text="hello group")["result"]
    assert group_message["chat"] == {"id": -100, "type": "group", "title": "Project room"}
    assert group_message["from"]["is_bot"] is True
    update_id = server.send_text(alice, "/status@milestone_test_bot now", chat=-100)
    update = api("getUpdates")["result"][-1]
    assert update["update_id"] == update_id
    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 26}]
    assert update["message"]["chat"]["type"] == "group"


def test_edits(server, api, alice):
    sent = api(
        "sendMessage", chat_id=1001, text="<b>Step 1</b>", parse_mode="HTML", reply_markup=keyboard(("Go", "go"))
    )
    mid = sent["result"]["message_id"]
    same = api(
        "editMessageText",
        chat_id=1001,
        message_id=mid,
        text="<b>Step 1</b>",
        parse_mode="HTML",
        reply_markup=keyboard(("Go", "go")),
    )
    assert same["description"] == NOT_MODIFIED
    # Same text but no reply_markup: Telegram removes the keyboard, so that is a change.
    edited = api("editMessageText", chat_id=1001, message_id=mid, text="<b>Step 1</b>", parse_mode="HTML")["result"]
    assert "reply_markup" not in edited and "edit_date" in edited
    assert api("editMessageReplyMarkup", chat_id=1001, message_id=mid)["description"] == NOT_MODIFIED
    assert api("editMessageReplyMarkup", chat_id=1001, message_id=mid, reply_markup=keyboard(("Again", "again")))["ok"]
    stored = server.last_message(alice)
    assert stored.edit_count == 2 and stored.buttons == [("Again", "again")]
    assert stored.history[0] == ("Step 1", keyboard(("Go", "go")))

    assert api("editMessageText", chat_id=1001, message_id=999, text="x")["description"] == EDIT_NOT_FOUND
    user_message_id = server.user_messages(alice)[0].message_id
    assert api("editMessageText", chat_id=1001, message_id=user_message_id, text="x")["error_code"] == 400
    assert api("deleteMessage", chat_id=1001, message_id=mid)["result"] is True
    assert api("editMessageText", chat_id=1001, message_id=mid, text="x")["description"] == EDIT_NOT_FOUND
    assert api("deleteMessage", chat_id=1001, message_id=mid)["error_code"] == 400
    assert server.messages(alice) == []


def test_callback_queries(server, api, alice):
    sent = api(
        "sendMessage",
        chat_id=1001,
        text="Approve?",
        reply_markup=keyboard(("✅ Approve", "ok:1"), ("❌ Reject", "no:1")),
    )
    message = server.last_message(alice)
    assert message.message_id == sent["result"]["message_id"]
    query_id = server.press(alice, message, "❌")
    update = api("getUpdates")["result"][-1]["callback_query"]
    assert update["id"] == query_id and update["data"] == "no:1" and update["message"]["text"] == "Approve?"
    assert api("answerCallbackQuery", callback_query_id=query_id, text="Rejected", show_alert=True)["ok"] is True
    assert server.wait_for_answer(query_id, timeout=1)["text"] == "Rejected"
    assert server.callback_answers[query_id]["show_alert"] is True
    assert api("answerCallbackQuery", callback_query_id=query_id)["description"] == QUERY_INVALID
    assert api("answerCallbackQuery", callback_query_id="12345")["description"] == QUERY_INVALID
    assert server.press(alice, message.message_id, callback_data="ok:1") != query_id
    with pytest.raises(AssertionError, match=r"buttons: \[\('✅ Approve', 'ok:1'\), \('❌ Reject', 'no:1'\)\]"):
        server.press(alice, message, "Maybe")


def test_injected_429_and_other_faults(server, api, alice):
    server.fail_next("sendMessage", 429, retry_after=3)
    body = api("sendMessage", chat_id=1001, text="x")
    assert body == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    assert api("sendMessage", chat_id=1001, text="x")["ok"] is True
    server.fail_next("editMessageText", 400, "Bad Request: something odd", count=2)
    for _ in range(2):
        assert (
            api("editMessageText", chat_id=1001, message_id=1, text="y")["description"] == "Bad Request: something odd"
        )
    server.drop_next("getMe")
    with pytest.raises(httpx.TransportError):
        api.client.post("getMe")
    assert api("getMe")["ok"] is True
    assert server.stats["too_many_requests"] == 1
    assert [c.status for c in server.calls_of("getMe")] == [0, 200]


def test_rate_limit_counts_429s(server, api, alice):
    server.group(-5, "Other chat")
    server.set_rate_limit(5)
    answers = [api("sendMessage", chat_id=chat, text="x") for chat in [1001, -5] * 4]
    assert [a["ok"] for a in answers] == [True] * 5 + [False] * 3
    assert answers[-1]["parameters"] == {"retry_after": 1}
    assert server.stats["too_many_requests"] == 3
    time.sleep(1.05)
    assert api("sendMessage", chat_id=1001, text="x")["ok"] is True
    server.set_rate_limit(None)
    assert all(api("sendMessage", chat_id=1001, text="x")["ok"] for _ in range(6))


def test_commands_are_validated_and_recorded(server, api):
    commands = [{"command": "start", "description": "Start"}, {"command": "new_contract", "description": "New"}]
    assert api("setMyCommands", commands=commands)["result"] is True
    assert api("getMyCommands")["result"] == commands
    assert server.commands() == commands
    assert (
        api("setMyCommands", commands=[{"command": "Start", "description": "x"}])["description"]
        == "Bad Request: BOT_COMMAND_INVALID"
    )
    assert api("setMyCommands", commands=[{"command": "a" * 33, "description": "x"}])["error_code"] == 400
    assert api("setMyCommands", commands=[{"command": "ok", "description": ""}])["error_code"] == 400
    assert api("setMyCommands", commands=[{"command": "ok", "description": "d" * 257}])["error_code"] == 400
    assert api("setMyDescription", description="Milestones")["result"] is True
    assert api("setMyShortDescription", short_description="Short")["result"] is True


def test_waiting_helpers(server, api, alice):
    mark = server.mark()
    threading.Timer(0.1, lambda: api("sendMessage", chat_id=1001, text="Contract #1 created")).start()
    found = server.wait_for_message(alice, "#1 created", timeout=2, after=mark)
    assert found.plain_text == "Contract #1 created"
    api("editMessageText", chat_id=1001, message_id=found.message_id, text="Contract #1 signed")
    assert server.wait_for_message(alice, "signed", timeout=1).edit_count == 1
    with pytest.raises(AssertionError) as failure:
        server.wait_for_message(alice, "never", timeout=0.2)
    assert "recent Bot API calls" in str(failure.value) and "editMessageText -> 200" in str(failure.value)
    server.abort_check = lambda: "bot process exited with code 1"
    started = time.monotonic()
    with pytest.raises(AssertionError, match="aborted: bot process exited"):
        server.wait_for(lambda: False, timeout=5)
    assert time.monotonic() - started < 1


@pytest.mark.filterwarnings(
    "ignore::telegram.warnings.PTBDeprecationWarning"
)  # RetryAfter's own int-vs-timedelta notice
def test_python_telegram_bot_talks_to_it(server, alice):
    from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
    from telegram.error import BadRequest, Forbidden, RetryAfter

    server.user(3003, "Stranger")

    async def scenario():
        async with Bot(TOKEN, base_url=server.api_url) as bot:
            me = await bot.get_me()
            assert me.username == "milestone_test_bot" and me.id == 123456
            updates = await bot.get_updates(timeout=dtm.timedelta(seconds=1))
            assert updates[0].message.text == "/start" and updates[0].message.from_user.id == alice.id
            markup = InlineKeyboardMarkup([[InlineKeyboardButton("Accept", callback_data="accept:7")]])
            sent = await bot.send_message(alice.id, "<b>Offer</b> &amp; terms", parse_mode="HTML", reply_markup=markup)
            assert sent.text == "Offer & terms" and sent.reply_markup == markup and sent.from_user.is_bot
            query_id = server.press(alice, sent.message_id, "Acc")
            updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=dtm.timedelta(seconds=1))
            query = updates[0].callback_query
            assert query.id == query_id and query.data == "accept:7" and query.message.message_id == sent.message_id
            assert await query.answer("Accepted")
            edited = await bot.edit_message_text("Offer accepted", chat_id=alice.id, message_id=sent.message_id)
            assert edited.text == "Offer accepted" and edited.edit_date is not None
            with pytest.raises(BadRequest, match="(?i)message is not modified"):
                await bot.edit_message_text("Offer accepted", chat_id=alice.id, message_id=sent.message_id)
            with pytest.raises(BadRequest, match="(?i)can.t parse entities"):
                await bot.send_message(alice.id, "<p>nope</p>", parse_mode="HTML")
            with pytest.raises(Forbidden, match="can't initiate"):
                await bot.send_message(3003, "hi")
            server.fail_next("sendMessage", 429, retry_after=2)
            with pytest.raises(RetryAfter) as retry:
                await bot.send_message(alice.id, "later")
            assert "Retry in 2" in str(retry.value)
            await bot.get_updates(offset=updates[-1].update_id + 1, timeout=dtm.timedelta(seconds=0))

    asyncio.run(scenario())
    assert server.callback_answers[next(iter(server.callback_answers))]["text"] == "Accepted"
    assert server.pending_updates() == 0
    assert [m.plain_text for m in server.messages(alice)] == ["Offer accepted"]


def test_get_updates_is_answered_when_the_process_has_many_files_open(server, alice, api):
    """A long test session may hold over a thousand descriptors: the connection the fake serves then gets a
    number past select()'s limit (1024), and its check for a client gone must still work (it answered
    every getUpdates by dropping the connection)."""
    import os
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(2048, hard), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        api.client.close()  # the next call opens a new connection: its descriptor is past 1024
        with httpx.Client(base_url=f"{server.base_url}/bot{TOKEN}/", trust_env=False, timeout=10) as client:
            body = client.post("getUpdates", data={"timeout": "0"}).json()
        assert body["ok"] and body["result"][0]["message"]["text"] == "/start"
    finally:
        for fd in held:
            os.close(fd)
