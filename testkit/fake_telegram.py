"""Strict fake Telegram Bot API server on 127.0.0.1 for the bot's tests and benchmarks (HTML parse mode only)."""

from __future__ import annotations

import copy
import email.parser
import email.policy
import json
import math
import re
import select
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

__all__ = [
    "ApiError",
    "Call",
    "EntityParseError",
    "FakeGroup",
    "FakeMessage",
    "FakeTelegram",
    "FakeUser",
    "parse_html",
    "utf16_len",
]

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_ANSWER_LENGTH = 200
CALLBACK_DATA_MAX_BYTES = 64

# Exact descriptions the real Bot API answers with.
TEXT_EMPTY = "Bad Request: message text is empty"
TEXT_TOO_LONG = "Bad Request: message is too long"
EDIT_TEXT_TOO_LONG = "Bad Request: MESSAGE_TOO_LONG"
CHAT_NOT_FOUND = "Bad Request: chat not found"
CANT_INITIATE = "Forbidden: bot can't initiate conversation with a user"
BLOCKED = "Forbidden: bot was blocked by the user"
KICKED = "Forbidden: bot was kicked from the group chat"
EDIT_NOT_FOUND = "Bad Request: message to edit not found"
CANT_EDIT = "Bad Request: message can't be edited"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
DELETE_NOT_FOUND = "Bad Request: message to delete not found"
CANT_DELETE = "Bad Request: message can't be deleted"
REPLY_NOT_FOUND = "Bad Request: message to be replied not found"
WRONG_FILE_ID = "Bad Request: wrong file identifier/HTTP URL specified"
FILE_TYPE_MISMATCH = "Bad Request: type of file mismatch"
CAPTION_TOO_LONG = "Bad Request: message caption is too long"
NO_TEXT_TO_EDIT = "Bad Request: there is no text in the message to edit"
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
BUTTON_DATA_INVALID = "Bad Request: BUTTON_DATA_INVALID"
BUTTON_URL_INVALID = "Bad Request: BUTTON_URL_INVALID"
TEXT_BUTTONS_UNALLOWED = (
    "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
)
UNSUPPORTED_PARSE_MODE = "Bad Request: unsupported parse_mode in this fake"
MARKUP_JSON_INVALID = "Bad Request: can't parse reply keyboard markup JSON object"
BOT_COMMAND_INVALID = "Bad Request: BOT_COMMAND_INVALID"
CONFLICT_POLL = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)

_CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
_INLINE_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
# Parameters that clients send as JSON-encoded strings inside form bodies.
_JSON_PARAMS = {
    "reply_markup",
    "commands",
    "allowed_updates",
    "link_preview_options",
    "reply_parameters",
    "entities",
    "caption_entities",
    "scope",
    "media",
    "prices",
}
# Telegram's default when allowed_updates was never set.
_DEFAULT_EXCLUDED_UPDATES = {"chat_member", "message_reaction", "message_reaction_count"}
# Telegram Payments' limits file, as the fake serves it; its faults are injected under this "method" name.
CURRENCIES_PATH = "/currencies.json"
CURRENCIES_METHOD = "currencies.json"
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")
_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram counts offsets and limits in."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class ApiError(Exception):
    """An error answer: HTTP status = error_code, like the real Bot API."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        """The answer's body, as the real Bot API words it."""
        payload: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            payload["parameters"] = self.parameters
        return payload


def _bad(description: str) -> ApiError:
    return ApiError(400, "Bad Request: " + description)


class _ClientGone(Exception):
    """The client closed the connection while a long poll waited (a cancelled request)."""


class EntityParseError(Exception):
    """Malformed formatted text; the message matches TDLib's wording."""


# ---------------------------------------------------------------------------------------------------------------
# Formatted text parsing
# ---------------------------------------------------------------------------------------------------------------

_HTML_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
}
_HTML_TAGS = set(_HTML_TYPES) | {"blockquote"}
_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HEX = set("0123456789abcdefABCDEF")
_SPACES = " \t\n\r\f\v"


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _decode_html_entity(s: str, i: int, require_semicolon: bool) -> tuple[str | None, int]:
    """Decode the character reference at s[i] == '&'; (None, i) when it is not one."""
    n = len(s)
    j = i + 1
    if j < n and s[j] == "#":
        j += 1
        if j < n and s[j] in "xX":
            j += 1
            start = j
            while j < n and s[j] in _HEX:
                j += 1
            base = 16
        else:
            start = j
            while j < n and s[j].isascii() and s[j].isdigit():
                j += 1
            base = 10
        digits = s[start:j]
        if not digits or len(digits) > 8:
            return None, i
        code = int(digits, base)
        if code == 0 or code > 0x10FFFF:
            return None, i
        if 0xD800 <= code <= 0xDFFF:
            raise EntityParseError(
                "Text contains invalid Unicode characters after decoding HTML entities, "
                "check for unmatched surrogate code units"
            )
        char = chr(code)
    else:
        start = j
        while j < n and s[j].isascii() and s[j].isalpha():
            j += 1
        char = _NAMED_HTML_ENTITIES.get(s[start:j])
        if char is None:
            return None, i
    if j < n and s[j] == ";":
        j += 1
    elif require_semicolon:
        return None, i
    return char, j


def _looks_like_url(text: str) -> bool:
    return bool(text) and not any(c in _SPACES for c in text) and ("." in text or "://" in text)


def _normalize_url(url: str) -> str:
    return url if "://" in url or url.startswith("tg:") or url.startswith("mailto:") else "http://" + url


def parse_html(html: str, strict_ampersand: bool = True) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML the way TDLib does; returns (plain text, entities in UTF-16 units).

    With strict_ampersand an '&' that does not start "&lt;", "&gt;", "&amp;", "&quot;" or "&#NN;"/"&#xNN;"
    is an error; real Telegram keeps it literally, but a bot that forgets to escape user input breaks on '<'
    anyway, so the fake catches the missing escaping early.
    """
    out: list[str] = []
    u16 = 0
    nested: list[tuple[str, Any, int, int, int]] = []  # tag, argument, utf16 offset, len(out), byte offset
    entities: list[dict[str, Any]] = []
    i, n = 0, len(html)

    def fail(message: str) -> EntityParseError:
        return EntityParseError(message)

    def emit(chunk: str) -> None:
        nonlocal u16
        out.append(chunk)
        u16 += utf16_len(chunk)

    def unescape_amp(at: int) -> tuple[str, int]:
        char, j = _decode_html_entity(html, at, strict_ampersand)
        if char is not None:
            return char, j
        if strict_ampersand:
            raise fail(f'Unescaped "&" at byte offset {_byte_offset(html, at)}: write it as &amp;')
        return "&", at + 1

    while i < n:
        c = html[i]
        if c == "&":
            char, i = unescape_amp(i)
            emit(char)
            continue
        if c != "<":
            j = i + 1
            while j < n and html[j] not in "&<":
                j += 1
            emit(html[i:j])
            i = j
            continue
        begin = i
        begin_bytes = _byte_offset(html, begin)
        i += 1
        if i >= n or html[i] != "/":
            while i < n and html[i] not in _SPACES and html[i] != ">":
                i += 1
            if i >= n:
                raise fail(f"Unclosed start tag at byte offset {begin_bytes}")
            tag = html[begin + 1 : i].lower()
            if tag not in _HTML_TAGS:
                raise fail(f'Unsupported start tag "{tag}" at byte offset {begin_bytes}')
            attributes: dict[str, str] = {}
            while True:
                while i < n and html[i] in _SPACES:
                    i += 1
                if i >= n:
                    raise fail(f'Unclosed start tag "{tag}" at byte offset {begin_bytes}')
                if html[i] == ">":
                    break
                name_begin = i
                while i < n and html[i] not in _SPACES and html[i] not in "=>":
                    i += 1
                name = html[name_begin:i].lower()
                if not name:
                    raise fail(f'Empty attribute name in the tag "{tag}" at byte offset {begin_bytes}')
                while i < n and html[i] in _SPACES:
                    i += 1
                if i >= n:
                    raise fail(f'Unclosed start tag "{tag}" at byte offset {begin_bytes}')
                if html[i] != "=":
                    attributes.setdefault(name, "")
                    continue
                i += 1
                while i < n and html[i] in _SPACES:
                    i += 1
                if i >= n:
                    raise fail(f'Unclosed start tag "{tag}" at byte offset {begin_bytes}')
                if html[i] not in "'\"":
                    token_begin = i
                    while i < n and ((html[i].isascii() and html[i].isalnum()) or html[i] in ".-"):
                        i += 1
                    value = html[token_begin:i].lower()
                    if i >= n or (html[i] not in _SPACES and html[i] != ">"):
                        raise fail(f"Unexpected end of name token at byte offset {_byte_offset(html, token_begin)}")
                else:
                    quote = html[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and html[i] != quote:
                        if html[i] == "&":
                            char, i = unescape_amp(i)
                            chars.append(char)
                        else:
                            chars.append(html[i])
                            i += 1
                    i += 1
                    if i >= n:
                        raise fail(f"Unclosed start tag at byte offset {begin_bytes}")
                    value = "".join(chars)
                attributes[name] = value
            i += 1
            argument: Any = None
            if tag == "a":
                argument = attributes.get("href")
            elif tag == "code":
                css = attributes.get("class", "")
                argument = css[len("language-") :] if css.startswith("language-") else None
            elif tag == "span":
                if attributes.get("class") != "tg-spoiler":
                    raise fail(f'Tag "span" must have class "tg-spoiler" at byte offset {begin_bytes}')
            elif tag == "tg-emoji":
                emoji_id = attributes.get("emoji-id", "")
                if not (emoji_id.isascii() and emoji_id.isdigit()) or int(emoji_id) == 0:
                    raise fail("Invalid custom emoji identifier specified")
                argument = emoji_id
            elif tag == "blockquote":
                argument = "expandable" in attributes
            nested.append((tag, argument, u16, len(out), begin_bytes))
            continue
        # An end tag.
        if not nested:
            raise fail(f"Unexpected end tag at byte offset {begin_bytes}")
        i += 1
        end_begin = i
        while i < n and html[i] not in _SPACES and html[i] != ">":
            i += 1
        end_name = html[end_begin:i].lower()
        while i < n and html[i] in _SPACES:
            i += 1
        if i >= n or html[i] != ">":
            raise fail(f"Unclosed end tag at byte offset {begin_bytes}")
        i += 1
        tag, argument, offset, out_index, _ = nested.pop()
        if end_name and end_name != tag:
            raise fail(f'Unmatched end tag at byte offset {begin_bytes}, expected "</{tag}>", found "</{end_name}>"')
        length = u16 - offset
        if length <= 0:
            continue
        if tag == "blockquote":
            entities.append(
                {"type": "expandable_blockquote" if argument else "blockquote", "offset": offset, "length": length}
            )
        elif tag == "a":
            url = argument if argument else "".join(out[out_index:])
            if _looks_like_url(url) or (argument and not any(ch in _SPACES for ch in url)):
                entities.append({"type": "text_link", "offset": offset, "length": length, "url": _normalize_url(url)})
        elif tag == "tg-emoji":
            entities.append({"type": "custom_emoji", "offset": offset, "length": length, "custom_emoji_id": argument})
        elif tag == "code":
            entity = {"type": "code", "offset": offset, "length": length}
            if argument:
                entity["_language"] = argument
            entities.append(entity)
        else:
            entities.append({"type": _HTML_TYPES[tag], "offset": offset, "length": length})
    if nested:
        raise fail(f'Can\'t find end tag corresponding to start tag "{nested[-1][0]}"')
    return "".join(out), _merge_pre_code(entities)


def _merge_pre_code(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """<pre><code class="language-x"> becomes one pre entity with a language, as in the Bot API."""
    result = []
    for entity in entities:
        language = entity.pop("_language", None)
        if language:
            twin = next(
                (
                    e
                    for e in entities
                    if e["type"] == "pre" and e["offset"] == entity["offset"] and e["length"] == entity["length"]
                ),
                None,
            )
            if twin is not None:
                twin["language"] = language
                continue
        result.append(entity)
    return sorted(result, key=lambda e: (e["offset"], -e["length"]))


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram strips leading and trailing whitespace from message texts; entities follow."""
    stripped = text.strip(_SPACES)
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip(_SPACES))])
    size = utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(size, entity["offset"] + entity["length"] - lead)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result


# ---------------------------------------------------------------------------------------------------------------
# Test-side objects
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class FakeUser:
    """A person talking to the bot; their private chat has the same id."""

    id: int
    first_name: str
    username: str | None = None
    last_name: str | None = None
    language_code: str | None = "en"
    started: bool = False
    blocked: bool = False

    @property
    def chat_id(self) -> int:
        return self.id

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        if self.language_code:
            data["language_code"] = self.language_code
        return data

    def chat_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class FakeGroup:
    """A basic group (negative id) the bot is a member of."""

    id: int
    title: str
    bot_is_member: bool = True

    @property
    def chat_id(self) -> int:
        return self.id

    def chat_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": "group", "title": self.title}


@dataclass
class FakeMessage:
    """A message as the server stores it; `text` is what was sent (markup included), `plain_text` what users see."""

    chat_id: int
    message_id: int
    date: int
    text: str
    plain_text: str
    entities: list[dict[str, Any]] = field(default_factory=list)
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None  # inline keyboards only: they belong to the message
    other_markup: dict[str, Any] | None = None  # reply keyboard / remove / force reply sent along
    from_bot: bool = True
    from_user_id: int | None = None
    reply_to_message_id: int | None = None
    edit_count: int = 0
    edit_date: int | None = None
    deleted: bool = False
    history: list[tuple[str, dict[str, Any] | None]] = field(default_factory=list)  # previous (plain_text, markup)
    seq: int = 0  # server event counter at the last send/edit, see FakeTelegram.mark()
    # A document or photo message: {"document": {...}} or {"photo": [sizes]}; its caption is text/plain_text.
    media: dict[str, Any] | None = None
    media_group_id: str | None = None

    @property
    def file_id(self) -> str | None:
        """The file a document or photo message carries (a photo's largest size), else None."""
        if not self.media:
            return None
        if "document" in self.media:
            return self.media["document"]["file_id"]
        return self.media["photo"][-1]["file_id"]

    @property
    def button_rows(self) -> list[list[tuple[str, str | None]]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [[(button.get("text", ""), button.get("callback_data")) for button in row] for row in rows]

    @property
    def buttons(self) -> list[tuple[str, str | None]]:
        """(text, callback_data) of every inline button, row by row; callback_data is None for URL buttons."""
        return [button for row in self.button_rows for button in row]


@dataclass
class Call:
    """One API request as the server saw it."""

    method: str
    params: dict[str, Any]
    status: int  # HTTP status answered; 0: dropped on purpose (drop_next); 499: the client hung up first
    response: dict[str, Any] | None
    at: float

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def description(self) -> str | None:
        return (self.response or {}).get("description")


@dataclass
class _Fault:
    remaining: int
    code: int | None  # None: drop the connection without answering (unless `delay`)
    description: str = ""
    parameters: dict[str, Any] | None = None
    delay: float = 0.0  # > 0: the call runs, its answer comes this many seconds later (slow_next)


# ---------------------------------------------------------------------------------------------------------------
# HTTP plumbing
# ---------------------------------------------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128
    fake: FakeTelegram


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx expects
    disable_nagle_algorithm = True  # headers and body go out in two writes; avoid the 40 ms delayed-ACK stall
    server_version = "FakeTelegramBotAPI/1.0"
    sys_version = ""
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # silence per-request stderr noise
        pass

    def handle(self) -> None:
        fake = self.server.fake
        fake._track_connection(self.connection, True)
        try:
            super().handle()
        except (ConnectionError, TimeoutError, OSError):
            pass
        finally:
            fake._track_connection(self.connection, False)

    def do_GET(self) -> None:
        self.server.fake._serve(self)

    do_POST = do_GET

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""


def _parse_params(handler: _Handler, query: str) -> dict[str, Any]:
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    body = handler.read_body()
    content_type = handler.headers.get("Content-Type", "")
    kind = content_type.split(";")[0].strip().lower()
    if not body:
        return params
    if kind == "application/json":
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise _bad("can't parse JSON object") from exc
        if not isinstance(data, dict):
            raise _bad("can't parse JSON object")
        params.update(data)
    elif kind == "multipart/form-data":
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if name:
                params[name] = (
                    {"filename": filename, "size": len(payload), "content": payload}
                    if filename
                    else payload.decode("utf-8")
                )
    else:
        # x-www-form-urlencoded, also the default when no content type is given.
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    for key in _JSON_PARAMS & params.keys():
        value = params[key]
        if isinstance(value, str):
            try:
                params[key] = json.loads(value)
            except ValueError as exc:
                if key == "reply_markup":
                    raise ApiError(400, MARKUP_JSON_INVALID) from exc
                raise _bad(f"can't parse {key} JSON object") from exc
    return params


def _int_param(params: dict[str, Any], name: str, default: int | None = None, error: str | None = None) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    try:
        return int(float(value)) if isinstance(value, float) else int(str(value).strip())
    except ValueError:
        try:
            return int(float(str(value)))
        except ValueError as exc:
            raise ApiError(400, error or f"Bad Request: invalid {name} specified") from exc


def _bool_param(params: dict[str, Any], name: str, default: bool = False) -> bool:
    value = params.get(name)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1")


def _str_param(params: dict[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else str(value)


# ---------------------------------------------------------------------------------------------------------------
# The server
# ---------------------------------------------------------------------------------------------------------------


class FakeTelegram:
    """A strict in-process fake of the Bot API; the bot talks HTTP to it, tests drive it through methods.

    Every public method is thread-safe: the HTTP server runs in its own threads while tests call in.
    """

    def __init__(
        self,
        token: str,
        bot_username: str = "milestone_test_bot",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_first_name: str = "Milestone Test Bot",
        strict_html_ampersand: bool = True,
        callback_query_timeout: float | None = None,
    ):
        if host != "127.0.0.1":
            raise ValueError("the fake server only binds to 127.0.0.1")
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        prefix = token.split(":", 1)[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 7000000001
        self.strict_html_ampersand = strict_html_ampersand
        self.callback_query_timeout = callback_query_timeout  # seconds; None = queries never expire
        # Set by a test harness to fail waits at once, e.g. when the bot process died: returns a reason or None.
        self.abort_check: Callable[[], str | None] | None = None

        self._host, self._port = host, port
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()
        self._local = threading.local()  # the connection of the request this thread serves
        self._cond = threading.Condition(self._lock)
        self._connections: set[socket.socket] = set()
        self._stopping = False

        self._users: dict[int, FakeUser] = {}
        self._groups: dict[int, FakeGroup] = {}
        self._messages: dict[int, dict[int, FakeMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 100001
        self._allowed_updates: list[str] | None = None
        self._poll_generation = 0
        self._waiting_polls = 0
        self._webhook_url = ""
        self._queries: dict[str, dict[str, Any]] = {}  # issued callback queries
        self._next_query = 0
        self._callback_answers: dict[str, dict[str, Any]] = {}
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._descriptions: dict[tuple[str, str], str] = {}
        self._calls: list[Call] = []
        self._faults: dict[str, deque[_Fault]] = {}
        self._rate_limit: float | None = None
        self._rate_methods = {"sendmessage"}
        self._rate_window: deque[float] = deque()
        self._stats: Counter[str] = Counter()
        self._seq = 0
        self._files: dict[str, dict[str, Any]] = {}  # file_id -> {"kind": "document" | "photo", ...}
        self._next_file = 0
        self.uploads: dict[str, bytes] = {}  # file_id -> the bytes of a document the bot uploaded
        # Payments: invoices sent ((chat, message) -> what it asks), pre-checkout queries and their answers,
        # charges made (charge id -> {user_id, amount, currency, refunded}).
        self._invoices: dict[tuple[int, int], dict[str, Any]] = {}
        self._pre_checkouts: dict[str, dict[str, Any]] = {}
        self.pre_checkout_answers: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self._next_charge = 0
        # Telegram Payments' amount limits, served at /currencies.json as core.telegram.org serves its
        # file (a test sets them; None: 404) and applied to fiat invoices as Telegram does.
        self._currencies: dict[str, dict[str, Any]] | None = None
        self.currencies_requests = 0

        self._methods: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {}
        for name in (
            "getMe",
            "logOut",
            "close",
            "getUpdates",
            "setWebhook",
            "deleteWebhook",
            "getWebhookInfo",
            "setMyCommands",
            "getMyCommands",
            "deleteMyCommands",
            "setMyDescription",
            "getMyDescription",
            "setMyShortDescription",
            "getMyShortDescription",
            "setMyName",
            "getMyName",
            "sendMessage",
            "sendDocument",
            "sendPhoto",
            "editMessageText",
            "editMessageReplyMarkup",
            "deleteMessage",
            "answerCallbackQuery",
            "sendChatAction",
            "getChat",
            "sendInvoice",
            "answerPreCheckoutQuery",
            "refundStarPayment",
        ):
            self._methods[name.lower()] = (name, getattr(self, "_api_" + name))

    # -- lifecycle --------------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    @property
    def api_url(self) -> str:
        """What python-telegram-bot wants as base_url: it appends the token itself."""
        return f"{self.base_url}/bot"

    def start(self) -> FakeTelegram:
        if self._httpd is not None:
            return self
        self._stopping = False
        self._httpd = _HTTPServer((self._host, self._port), _Handler)
        self._httpd.fake = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-telegram", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()  # release long polls
        self._httpd.shutdown()
        self._httpd.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _track_connection(self, connection: socket.socket, opened: bool) -> None:
        with self._lock:
            if opened:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    # -- request dispatch -------------------------------------------------------------------------------------

    def _serve(self, handler: _Handler) -> None:
        parts = urlsplit(handler.path)
        if parts.path == CURRENCIES_PATH:
            self._serve_currencies(handler)
            return
        match = re.fullmatch(r"/bot([^/]*)/([^/]*)", parts.path)
        method = match[2] if match else parts.path
        params: dict[str, Any] = {}
        delay = 0.0
        try:
            params = _parse_params(handler, parts.query)
            if not match or not match[2]:
                raise ApiError(404, "Not Found")
            if match[1] != self.token:
                raise ApiError(401, "Unauthorized")
            method, function = self._method(method)
            delay = self._take_fault(method, handler, params)
            if delay is None:
                return
            self._check_rate(method)
            self._local.connection = handler.connection
            result = function(params)
            status, payload = 200, {"ok": True, "result": result}
        except _ClientGone:
            # Nobody reads the answer, and Telegram's 409 for a superseded poll would only be noise here.
            self._record(method, params, 499, None)
            handler.close_connection = True
            return
        except ApiError as error:
            status, payload = error.code, error.payload()
        self._record(method, params, status, payload)
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        if delay:
            time.sleep(delay)  # done already; the answer is late
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            handler.close_connection = True  # the client went away (e.g. a cancelled long poll)

    def call_direct(self, method: str, raw_params: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        """Serve one API call without HTTP (for in-process handler tests); same checks and faults.

        Returns (status, payload); status 0 stands for a dropped connection. A slow answer (slow_next)
        blocks this thread for its delay: an event loop's caller should use call_direct_delayed.
        """
        status, payload, delay = self.call_direct_delayed(method, raw_params)
        if delay:
            time.sleep(delay)
        return status, payload

    def call_direct_delayed(self, method: str, raw_params: dict[str, Any]) -> tuple[int, dict[str, Any] | None, float]:
        """call_direct without the wait: (status, payload, seconds until the answer is due, from slow_next)."""
        params = dict(raw_params)
        delay = 0.0
        try:
            for key in _JSON_PARAMS & params.keys():
                if isinstance(params[key], str):
                    try:
                        params[key] = json.loads(params[key])
                    except ValueError as exc:
                        raise ApiError(400, MARKUP_JSON_INVALID) from exc
            method, function = self._method(method)
            fault = self._pop_fault(method)
            if fault is not None and fault.delay:
                delay = fault.delay
            elif fault is not None:
                if fault.code is None:
                    self._record(method, params, 0, None)
                    return 0, None, 0.0
                raise ApiError(fault.code, fault.description, fault.parameters)
            self._check_rate(method)
            status, payload = 200, {"ok": True, "result": function(params)}
        except ApiError as error:
            status, payload = error.code, error.payload()
        self._record(method, params, status, payload)
        return status, payload, delay

    def _method(self, name: str) -> tuple[str, Callable[[dict[str, Any]], Any]]:
        """A Bot API method by name, case-insensitive as Telegram's: (its proper name, its implementation)."""
        entry = self._methods.get(name.lower())
        if entry is None:
            raise ApiError(404, "Not Found")
        return entry

    def _record(self, method: str, params: dict[str, Any], status: int, payload: dict[str, Any] | None) -> None:
        with self._lock:
            self._calls.append(Call(method, params, status, payload, time.time()))
            self._stats["requests"] += 1
            self._stats[f"status_{status}"] += 1
            if status not in (200, 499):
                self._stats["errors"] += 1
            if status == 429:
                self._stats["too_many_requests"] += 1

    def _client_gone(self) -> bool:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            return False
        try:
            # poll, not select: select() can't take a descriptor numbered 1024 or more (ValueError), and
            # a process with many files open (a long test session) would then see every client as gone.
            poller = select.poll()
            poller.register(connection, select.POLLIN)
            readable = poller.poll(0)
            return bool(readable) and connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _pop_fault(self, method: str):
        """The next injected fault for this method (or for any method), used up by one call."""
        with self._lock:
            for key in (method.lower(), "*"):
                queue = self._faults.get(key)
                if queue:
                    fault = queue[0]
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        queue.popleft()
                    return fault
        return None

    def _take_fault(self, method: str, handler: _Handler, params: dict[str, Any]) -> float | None:
        """Apply the next injected fault: None when the connection was dropped, else the seconds the
        answer is to be held back (0.0 without a slow fault); an error fault raises its ApiError."""
        fault = self._pop_fault(method)
        if fault is None:
            return 0.0
        if fault.delay:
            return fault.delay
        if fault.code is None:
            self._record(method, params, 0, None)
            handler.close_connection = True
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return None
        raise ApiError(fault.code, fault.description, fault.parameters)

    def _check_rate(self, method: str) -> None:
        with self._lock:
            if self._rate_limit is None or method.lower() not in self._rate_methods:
                return
            window = max(1.0, 1.0 / self._rate_limit)
            allowed = max(1, int(self._rate_limit * window + 1e-9))
            now = time.monotonic()
            while self._rate_window and self._rate_window[0] <= now - window:
                self._rate_window.popleft()
            if len(self._rate_window) >= allowed:
                retry_after = max(1, math.ceil(self._rate_window[0] + window - now))
                raise ApiError(429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after})
            self._rate_window.append(now)

    # -- shared helpers (call with the lock held) ----------------------------------------------------------------

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_first_name, "username": self.bot_username}

    def _chat_dict(self, chat_id: int) -> dict[str, Any]:
        if chat_id in self._groups:
            return self._groups[chat_id].chat_dict()
        return self._users[chat_id].chat_dict()

    def _resolve_chat(self, params: dict[str, Any], for_sending: bool = True) -> int:
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad("chat_id is empty")
        if isinstance(raw, str) and raw.strip().startswith("@"):
            raise ApiError(400, CHAT_NOT_FOUND)  # users and private groups have no public @name
        chat_id = _int_param(params, "chat_id", error=CHAT_NOT_FOUND)
        assert chat_id is not None
        if chat_id in self._groups:
            if not self._groups[chat_id].bot_is_member:
                raise ApiError(403, KICKED)
            return chat_id
        user = self._users.get(chat_id)
        if user is None:
            raise ApiError(400, CHAT_NOT_FOUND)
        if for_sending:
            if user.blocked:
                raise ApiError(403, BLOCKED)
            if not user.started:
                raise ApiError(403, CANT_INITIATE)
        elif not user.started and not self._messages.get(chat_id):
            raise ApiError(400, CHAT_NOT_FOUND)
        return chat_id

    def _formatted(self, params: dict[str, Any], *, editing: bool) -> tuple[str, str, list[dict[str, Any]], str | None]:
        """Validate text/parse_mode/entities; returns (raw text, plain text, entities, parse mode)."""
        raw = params.get("text")
        text = "" if raw is None else raw if isinstance(raw, str) else str(raw)
        parse_mode = _str_param(params, "parse_mode") or None
        if parse_mode is not None and parse_mode.lower() in ("markdownv2", "markdown"):
            raise ApiError(400, UNSUPPORTED_PARSE_MODE)  # real Telegram accepts these; the bot only sends HTML
        if parse_mode is not None and parse_mode.lower() != "html":
            raise _bad("unsupported parse_mode")
        entities: list[dict[str, Any]] = []
        try:
            if parse_mode is None:
                plain = text
                given = params.get("entities") or []
                if not isinstance(given, list):
                    raise _bad("can't parse entities JSON object")
                entities = [dict(e) for e in given if isinstance(e, dict)]
            else:
                plain, entities = parse_html(text, self.strict_html_ampersand)
        except EntityParseError as exc:
            raise _bad(f"can't parse entities: {exc}") from exc
        plain, entities = _trim(plain, entities)
        if not plain:
            raise ApiError(400, TEXT_EMPTY)
        if utf16_len(plain) > MAX_MESSAGE_LENGTH:
            raise ApiError(400, EDIT_TEXT_TOO_LONG if editing else TEXT_TOO_LONG)
        return text, plain, entities, parse_mode

    def _markup(self, params: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """Validate reply_markup; returns (inline keyboard markup or None, other markup or None)."""
        markup = params.get("reply_markup")
        if markup is None or markup == "":
            return None, None
        if not isinstance(markup, dict):
            raise ApiError(400, MARKUP_JSON_INVALID)
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad('can\'t parse inline keyboard markup: Field "inline_keyboard" must be of type Array')
            clean_rows = []
            for row in rows:
                clean_row = []
                for button in row:
                    clean_row.append(self._inline_button(button))
                if clean_row:
                    clean_rows.append(clean_row)
            return ({"inline_keyboard": clean_rows} if clean_rows else None), None
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad('can\'t parse keyboard markup: Field "keyboard" must be of type Array')
            for row in rows:
                for button in row:
                    label = (
                        button if isinstance(button, str) else button.get("text") if isinstance(button, dict) else None
                    )
                    if not isinstance(label, str) or not label:
                        raise _bad("can't parse keyboard button: Text must be non-empty")
            return None, markup
        if markup.get("remove_keyboard") or markup.get("force_reply"):
            return None, markup
        raise ApiError(400, MARKUP_JSON_INVALID)

    @staticmethod
    def _inline_button(button: Any) -> dict[str, Any]:
        if not isinstance(button, dict):
            raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        if "text" not in button:
            raise _bad("can't parse inline keyboard button: Can't find field \"text\"")
        if not isinstance(button["text"], str):
            raise _bad('can\'t parse inline keyboard button: Field "text" must be of type String')
        if not button["text"].strip():
            raise _bad("can't parse inline keyboard button: Text must be non-empty")
        clean = {k: v for k, v in button.items() if v is not None}
        actions = [k for k in _INLINE_BUTTON_ACTIONS if k in clean and clean[k] != ""]
        if not actions:
            raise ApiError(400, TEXT_BUTTONS_UNALLOWED)
        if len(actions) > 1:
            raise _bad(
                "can't parse inline keyboard button: exactly one of the optional fields must be used, got "
                + ", ".join(actions)
            )
        if "callback_data" in clean:
            data = clean["callback_data"]
            if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= CALLBACK_DATA_MAX_BYTES:
                raise ApiError(400, BUTTON_DATA_INVALID)
        if "url" in clean:
            url = clean["url"]
            parsed = urlsplit(url) if isinstance(url, str) else None
            if (
                parsed is None
                or parsed.scheme not in ("http", "https", "tg")
                or not (parsed.netloc or parsed.scheme == "tg")
            ):
                raise ApiError(400, BUTTON_URL_INVALID)
        return clean

    def _new_message_id(self, chat_id: int) -> int:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        return message_id

    def _store_new(self, chat_id: int, **fields: Any) -> FakeMessage:
        """A new message in `chat_id` (the chat's next id, sent now, the next event number), stored."""
        message = FakeMessage(
            chat_id=chat_id, message_id=self._new_message_id(chat_id), date=int(time.time()), seq=self._bump(), **fields
        )
        self._messages.setdefault(chat_id, {})[message.message_id] = message
        return message

    def _bump(self) -> int:
        # Callers hold the lock and store the message before releasing it, so waiters woken here
        # (they need the lock back first) always find the new or edited message.
        self._seq += 1
        self._cond.notify_all()
        return self._seq

    def _message_dict(self, message: FakeMessage, with_reply: bool = True) -> dict[str, Any]:
        sender = self._bot_user() if message.from_bot else self._users[message.from_user_id].to_dict()  # type: ignore[index]
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": sender,
            "chat": self._chat_dict(message.chat_id),
            "date": message.date,
        }
        if message.media is not None:
            data.update(copy.deepcopy(message.media))
            if message.plain_text:
                data["caption"] = message.plain_text
            if message.entities:
                data["caption_entities"] = copy.deepcopy(message.entities)
            if message.media_group_id:
                data["media_group_id"] = message.media_group_id
        else:
            data["text"] = message.plain_text
        if message.entities and message.media is None:
            data["entities"] = copy.deepcopy(message.entities)
        if message.reply_markup:
            data["reply_markup"] = copy.deepcopy(message.reply_markup)
        if message.edit_date:
            data["edit_date"] = message.edit_date
        if with_reply and message.reply_to_message_id is not None:
            replied = self._messages.get(message.chat_id, {}).get(message.reply_to_message_id)
            if replied is not None and not replied.deleted:
                data["reply_to_message"] = self._message_dict(replied, with_reply=False)
        return data

    def _queue(self, payload: dict[str, Any]) -> int:
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates.append({"update_id": update_id, **payload})
        self._cond.notify_all()
        return update_id

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        elif offset < 0:
            self._updates = self._updates[offset:]

    def _allowed(self, update: dict[str, Any]) -> bool:
        kind = next((key for key in update if key != "update_id"), "")
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _DEFAULT_EXCLUDED_UPDATES

    # -- Bot API methods ---------------------------------------------------------------------------------------

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_logOut(self, params: dict[str, Any]) -> bool:
        return True

    def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = _int_param(params, "offset")
        limit = min(100, max(1, _int_param(params, "limit", 100) or 100))
        timeout = max(0, _int_param(params, "timeout", 0) or 0)
        allowed = params.get("allowed_updates")
        with self._cond:
            if self._webhook_url:
                raise ApiError(409, CONFLICT_WEBHOOK)
            if isinstance(allowed, list):
                self._allowed_updates = [str(kind) for kind in allowed]
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()  # an older long poll answers 409, like Telegram
            if offset is not None:
                self._confirm(offset)
            deadline = time.monotonic() + timeout
            while True:
                if self._stopping:
                    return []
                if self._client_gone():
                    raise _ClientGone
                if generation != self._poll_generation:
                    raise ApiError(409, CONFLICT_POLL)
                self._updates = [u for u in self._updates if self._allowed(u)]  # filtered ones are gone for good
                if self._updates:
                    return copy.deepcopy(self._updates[:limit])
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._waiting_polls += 1
                try:
                    self._cond.wait(min(remaining, 0.2))  # wake now and then to notice a vanished client
                finally:
                    self._waiting_polls -= 1

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        url = _str_param(params, "url") or ""
        if url and not url.startswith("https://"):
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        with self._cond:
            self._webhook_url = url
            if _bool_param(params, "drop_pending_updates"):
                self._updates.clear()
            if isinstance(params.get("allowed_updates"), list):
                self._allowed_updates = [str(kind) for kind in params["allowed_updates"]]
            self._poll_generation += 1
            self._cond.notify_all()
        return True

    def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        with self._cond:
            self._webhook_url = ""
            if _bool_param(params, "drop_pending_updates"):
                self._updates.clear()
        return True

    def _api_getWebhookInfo(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            info: dict[str, Any] = {
                "url": self._webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
            if self._allowed_updates:
                info["allowed_updates"] = list(self._allowed_updates)
            return info

    @staticmethod
    def _scope_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise _bad("can't parse BotCommandScope JSON object")
        return json.dumps(scope, sort_keys=True), _str_param(params, "language_code") or ""

    def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands") or []
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands specified")
        clean = []
        for command in commands:
            if not isinstance(command, dict) or "command" not in command:
                raise _bad("can't parse BotCommand: Can't find field \"command\"")
            if "description" not in command:
                raise _bad("can't parse BotCommand: Can't find field \"description\"")
            name, description = str(command["command"]), str(command["description"])
            if not _BOT_COMMAND_NAME_RE.fullmatch(name):
                raise ApiError(400, BOT_COMMAND_INVALID)
            if not description.strip():
                raise _bad("command description must be non-empty")
            if len(description) > 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": description})
        key = self._scope_key(params)
        with self._lock:
            self._commands[key] = clean
        return True

    def _api_getMyCommands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        key = self._scope_key(params)
        with self._lock:
            return copy.deepcopy(self._commands.get(key, []))

    def _api_deleteMyCommands(self, params: dict[str, Any]) -> bool:
        key = self._scope_key(params)
        with self._lock:
            self._commands.pop(key, None)
        return True

    def _set_text_setting(self, params: dict[str, Any], name: str, limit: int) -> bool:
        value = _str_param(params, name) or ""
        if len(value) > limit:
            raise _bad(f"{name} is too long")
        with self._lock:
            self._descriptions[(name, _str_param(params, "language_code") or "")] = value
        return True

    def _get_text_setting(self, params: dict[str, Any], name: str) -> dict[str, str]:
        with self._lock:
            return {name: self._descriptions.get((name, _str_param(params, "language_code") or ""), "")}

    def _api_setMyDescription(self, params: dict[str, Any]) -> bool:
        return self._set_text_setting(params, "description", 512)

    def _api_getMyDescription(self, params: dict[str, Any]) -> dict[str, str]:
        return self._get_text_setting(params, "description")

    def _api_setMyShortDescription(self, params: dict[str, Any]) -> bool:
        return self._set_text_setting(params, "short_description", 120)

    def _api_getMyShortDescription(self, params: dict[str, Any]) -> dict[str, str]:
        return self._get_text_setting(params, "short_description")

    def _api_setMyName(self, params: dict[str, Any]) -> bool:
        return self._set_text_setting(params, "name", 64)

    def _api_getMyName(self, params: dict[str, Any]) -> dict[str, str]:
        result = self._get_text_setting(params, "name")
        return {"name": result["name"] or self.bot_first_name}

    def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            chat_id = self._resolve_chat(params)
            raw, plain, entities, parse_mode = self._formatted(params, editing=False)
            inline, other = self._markup(params)
            reply_to = None
            reply = params.get("reply_parameters")
            if isinstance(reply, dict) or params.get("reply_to_message_id") not in (None, ""):
                reply = reply if isinstance(reply, dict) else {"message_id": params.get("reply_to_message_id")}
                reply_to = _int_param(reply, "message_id")
                target = self._messages.get(chat_id, {}).get(reply_to or 0)
                if target is None or target.deleted:
                    if not (
                        _bool_param(reply, "allow_sending_without_reply")
                        or _bool_param(params, "allow_sending_without_reply")
                    ):
                        raise ApiError(400, REPLY_NOT_FOUND)
                    reply_to = None
            message = self._store_new(
                chat_id,
                text=raw,
                plain_text=plain,
                entities=entities,
                parse_mode=parse_mode,
                reply_markup=inline,
                other_markup=other,
                reply_to_message_id=reply_to,
            )
            return self._message_dict(message)

    def _caption(self, params: dict[str, Any]) -> tuple[str, str, list[dict[str, Any]], str | None]:
        """Validate caption/parse_mode (an empty caption is fine); returns (raw, plain, entities, parse mode)."""
        raw = params.get("caption")
        text = "" if raw is None else raw if isinstance(raw, str) else str(raw)
        if not text:
            return "", "", [], None
        shown = dict(params, text=text, entities=params.get("caption_entities"))
        try:
            return self._formatted(shown, editing=False)
        except ApiError as error:
            if error.description in (TEXT_TOO_LONG, TEXT_EMPTY):
                if error.description == TEXT_EMPTY:
                    return "", "", [], None
                raise ApiError(400, CAPTION_TOO_LONG) from error
            raise

    def _send_file(self, params: dict[str, Any], kind: str) -> dict[str, Any]:
        """sendDocument / sendPhoto by file_id (the bot re-sends what a person sent; nothing uploaded)."""
        with self._lock:
            chat_id = self._resolve_chat(params)
            given = params.get(kind)
            if given is None or given == "":
                raise _bad(f"there is no {kind} in the request")
            if isinstance(given, dict) and kind == "document":  # an upload (multipart/form-data)
                given = self._store_upload(given)
            elif not isinstance(given, str):
                raise _bad("file uploads are not supported by this fake: send a file_id")
            known = self._files.get(given)
            if known is None:
                raise ApiError(400, WRONG_FILE_ID)
            if known["kind"] != kind:
                raise ApiError(400, FILE_TYPE_MISMATCH)
            raw, plain, entities, parse_mode = self._caption(params)
            if utf16_len(plain) > MAX_CAPTION_LENGTH:
                raise ApiError(400, CAPTION_TOO_LONG)
            inline, other = self._markup(params)
            message = self._store_new(
                chat_id,
                text=raw,
                plain_text=plain,
                entities=entities,
                parse_mode=parse_mode,
                reply_markup=inline,
                other_markup=other,
                media=copy.deepcopy(known["media"]),
            )
            return self._message_dict(message)

    def _store_upload(self, upload: dict[str, Any]) -> str:
        """A document the bot uploads: a file name and 1 byte to 50 MB (Telegram's limit for bots)."""
        name, content = upload.get("filename"), upload.get("content")
        size = upload.get("size", len(content) if isinstance(content, bytes) else 0)
        if not name:
            raise _bad("file name is empty")
        if not 0 < size <= 50 * 1024 * 1024:
            raise _bad("file must be non-empty" if not size else "Request Entity Too Large")
        file_id, unique = self._new_file_id("BQACAgIAA")
        media = {"document": {"file_id": file_id, "file_unique_id": unique, "file_name": name, "file_size": size}}
        self._files[file_id] = {"kind": "document", "media": media}
        self.uploads[file_id] = content if isinstance(content, bytes) else b""
        return file_id

    # -- payments ---------------------------------------------------------------------------------------------

    def _api_sendInvoice(self, params: dict[str, Any]) -> dict[str, Any]:
        """An invoice as Telegram checks it: title 1-32, description 1-255, payload 1-128 bytes, a currency;
        Stars (XTR): no provider token and exactly one price; otherwise a provider token. Amounts: positive
        integers in the currency's smallest unit."""
        with self._lock:
            chat_id = self._resolve_chat(params)
            title = _str_param(params, "title") or ""
            description = _str_param(params, "description") or ""
            payload = _str_param(params, "payload") or ""
            currency = _str_param(params, "currency") or ""
            token = _str_param(params, "provider_token") or ""
            prices = params.get("prices")
            if not 1 <= len(title) <= 32:
                raise _bad("INVOICE_TITLE_INVALID" if title else "title is empty")
            if not 1 <= len(description) <= 255:
                raise _bad("INVOICE_DESCRIPTION_INVALID" if description else "description is empty")
            if not 1 <= len(payload.encode()) <= 128:
                raise _bad("INVOICE_PAYLOAD_INVALID" if payload else "payload is empty")
            if not re.fullmatch(r"[A-Z]{3}", currency):
                raise _bad("CURRENCY_INVALID")
            if not isinstance(prices, list) or not prices:
                raise _bad("can't parse prices JSON object")
            for price in prices:
                if not isinstance(price, dict) or not price.get("label") or not isinstance(price.get("amount"), int):
                    raise _bad("can't parse prices JSON object")
            total = sum(p["amount"] for p in prices)
            if currency == "XTR":
                if token:
                    raise _bad("PAYMENT_PROVIDER_INVALID")
                if len(prices) != 1:
                    raise _bad("STARS_INVOICE_INVALID")
            elif not token:
                raise _bad("PAYMENT_PROVIDER_INVALID")
            if total <= 0:
                raise _bad("CURRENCY_TOTAL_AMOUNT_INVALID")
            limits = (self._currencies or {}).get(currency) if currency != "XTR" else None
            if limits is not None and not int(limits["min_amount"]) <= total <= int(limits["max_amount"]):
                raise _bad("CURRENCY_TOTAL_AMOUNT_INVALID")
            inline, other = self._markup(params)
            invoice = {
                "title": title,
                "description": description,
                "start_parameter": _str_param(params, "start_parameter") or "",
                "currency": currency,
                "total_amount": total,
            }
            message = self._store_new(
                chat_id, text="", plain_text="", reply_markup=inline, other_markup=other, media={"invoice": invoice}
            )
            self._invoices[(chat_id, message.message_id)] = {**invoice, "payload": payload, "provider_token": token}
            return self._message_dict(message)

    def _api_answerPreCheckoutQuery(self, params: dict[str, Any]) -> bool:
        query_id = _str_param(params, "pre_checkout_query_id") or ""
        with self._lock:
            query = self._pre_checkouts.get(query_id)
            if query is None or query_id in self.pre_checkout_answers or time.monotonic() - query["at"] > 10:
                raise ApiError(400, QUERY_INVALID)
            if "ok" not in params:
                raise _bad('parameter "ok" is required')
            ok = _bool_param(params, "ok")
            error = _str_param(params, "error_message")
            if not ok and not error:
                raise _bad("ERROR_MESSAGE_EMPTY")
            self.pre_checkout_answers[query_id] = {"ok": ok, "error_message": error, "at": time.time()}
            self._cond.notify_all()
            return True

    def _api_refundStarPayment(self, params: dict[str, Any]) -> bool:
        user_id = _int_param(params, "user_id")
        charge_id = _str_param(params, "telegram_payment_charge_id") or ""
        with self._lock:
            charge = self.charges.get(charge_id)
            if charge is None or charge["currency"] != "XTR" or charge["user_id"] != user_id:
                raise _bad("CHARGE_NOT_FOUND")
            if charge["refunded"]:
                raise _bad("CHARGE_ALREADY_REFUNDED")
            charge["refunded"] = True
            self._cond.notify_all()
            return True

    # -- Telegram Payments' currency limits (core.telegram.org/bots/payments/currencies.json) ------------------

    @property
    def currencies_url(self) -> str:
        return f"{self.base_url}{CURRENCIES_PATH}"

    def set_currencies(self, currencies: dict[str, dict[str, Any]] | None) -> None:
        """What /currencies.json serves from now on (None: 404), and the limits sendInvoice applies."""
        with self._lock:
            self._currencies = copy.deepcopy(currencies)

    def currencies_direct(self) -> tuple[int, bytes, float]:
        """GET /currencies.json without HTTP: (status, body, seconds until the answer is due). Faults are
        injected with the method name "currencies.json" (fail_next, drop_next, slow_next); status 0 stands
        for a dropped connection."""
        with self._lock:
            self.currencies_requests += 1
            queue = self._faults.get(CURRENCIES_METHOD)
            fault = None
            if queue:
                fault = queue[0]
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.popleft()
            if fault is not None and not fault.delay:
                if fault.code is None:
                    return 0, b"", 0.0
                return fault.code, f"<html><body>{fault.code} {fault.description}</body></html>".encode(), 0.0
            delay = fault.delay if fault is not None else 0.0
            if self._currencies is None:
                return 404, b"<html><body>404 Not Found</body></html>", delay
            return 200, json.dumps(self._currencies, ensure_ascii=False).encode("utf-8"), delay

    def _serve_currencies(self, handler: _Handler) -> None:
        status, body, delay = self.currencies_direct()
        if status == 0:
            handler.close_connection = True
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if delay:
            time.sleep(delay)
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json" if status == 200 else "text/html")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            handler.close_connection = True

    def invoice(self, message: FakeMessage) -> dict[str, Any]:
        """What an invoice message asks (title, currency, total_amount, payload, provider_token)."""
        with self._lock:
            return dict(self._invoices[(message.chat_id, message.message_id)])

    def start_payment(self, user: int | FakeUser, message: FakeMessage, *, total_amount: int | None = None) -> str:
        """The user taps Pay on an invoice: a pre_checkout_query is queued; returns its id."""
        with self._cond:
            payer = self._user(user)
            invoice = self._invoices[(message.chat_id, message.message_id)]
            self._next_query += 1
            query_id = str(5_000_000_000_000_000 + self._next_query)
            amount = invoice["total_amount"] if total_amount is None else total_amount
            self._pre_checkouts[query_id] = {"at": time.monotonic(), "invoice": invoice, "amount": amount}
            self._queue(
                {
                    "pre_checkout_query": {
                        "id": query_id,
                        "from": payer.to_dict(),
                        "currency": invoice["currency"],
                        "total_amount": amount,
                        "invoice_payload": invoice["payload"],
                    }
                }
            )
            return query_id

    def complete_payment(self, user: int | FakeUser, query_id: str, *, charge_id: str | None = None) -> str:
        """Telegram charges after an ok pre-checkout answer: a successful_payment message from the user is
        queued; returns the telegram_payment_charge_id (pass `charge_id` to deliver the same one again)."""
        with self._cond:
            payer = self._user(user)
            query = self._pre_checkouts[query_id]
            answer = self.pre_checkout_answers.get(query_id)
            if charge_id is None:
                if answer is None or not answer["ok"]:
                    raise AssertionError(f"pre-checkout {query_id} was not answered ok: {answer}")
                self._next_charge += 1
                charge_id = f"tg_charge_{self._next_charge:06d}"
                invoice = query["invoice"]
                self.charges[charge_id] = {
                    "user_id": payer.id,
                    "amount": query["amount"],
                    "currency": invoice["currency"],
                    "refunded": False,
                    "provider_charge_id": "" if invoice["currency"] == "XTR" else f"prov_{self._next_charge:06d}",
                    "payload": invoice["payload"],
                }
            charge = self.charges[charge_id]
            message = self._store_new(
                payer.id,
                text="",
                plain_text="",
                from_bot=False,
                from_user_id=payer.id,
                media={
                    "successful_payment": {
                        "currency": charge["currency"],
                        "total_amount": charge["amount"],
                        "invoice_payload": charge["payload"],
                        "telegram_payment_charge_id": charge_id,
                        "provider_payment_charge_id": charge["provider_charge_id"],
                    }
                },
            )
            self._queue({"message": self._message_dict(message)})
            return charge_id

    def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_file(params, "document")

    def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_file(params, "photo")

    def _editable(self, params: dict[str, Any]) -> FakeMessage:
        if params.get("inline_message_id"):
            raise ApiError(400, EDIT_NOT_FOUND)  # the fake never sends inline messages
        chat_id = self._resolve_chat(params, for_sending=False)
        user = self._users.get(chat_id)
        if user is not None and user.blocked:
            raise ApiError(403, BLOCKED)
        message_id = _int_param(params, "message_id", error=EDIT_NOT_FOUND)
        if message_id is None:
            raise _bad("message identifier is not specified")
        message = self._messages.get(chat_id, {}).get(message_id)
        if message is None or message.deleted:
            raise ApiError(400, EDIT_NOT_FOUND)
        if not message.from_bot:
            raise ApiError(400, CANT_EDIT)
        return message

    def _apply_edit(
        self,
        message: FakeMessage,
        raw: str,
        plain: str,
        entities: list[dict[str, Any]],
        parse_mode: str | None,
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        if plain == message.plain_text and entities == message.entities and markup == message.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        message.history.append((message.plain_text, copy.deepcopy(message.reply_markup)))
        message.text, message.plain_text, message.entities, message.parse_mode = raw, plain, entities, parse_mode
        message.reply_markup = markup
        message.edit_count += 1
        message.edit_date = int(time.time())
        message.seq = self._bump()
        return self._message_dict(message)

    def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            message = self._editable(params)
            if message.media is not None:
                raise ApiError(400, NO_TEXT_TO_EDIT)  # a caption is changed with editMessageCaption
            raw, plain, entities, parse_mode = self._formatted(params, editing=True)
            inline, _ = self._markup(params)  # no reply_markup removes the keyboard, as on Telegram
            return self._apply_edit(message, raw, plain, entities, parse_mode, inline)

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            message = self._editable(params)
            inline, other = self._markup(params)
            if other is not None:
                raise _bad("inline keyboard expected")
            return self._apply_edit(
                message, message.text, message.plain_text, message.entities, message.parse_mode, inline
            )

    def _api_deleteMessage(self, params: dict[str, Any]) -> bool:
        with self._lock:
            chat_id = self._resolve_chat(params, for_sending=False)
            message_id = _int_param(params, "message_id", error=DELETE_NOT_FOUND)
            message = self._messages.get(chat_id, {}).get(message_id or 0)
            if message is None or message.deleted:
                raise ApiError(400, DELETE_NOT_FOUND)
            if not message.from_bot and chat_id in self._groups:
                raise ApiError(400, CANT_DELETE)  # the fake bot is never a group admin
            message.deleted = True
            message.seq = self._bump()
            return True

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        query_id = _str_param(params, "callback_query_id") or ""
        text = _str_param(params, "text")
        with self._lock:
            query = self._queries.get(query_id)
            if query is None or query_id in self._callback_answers:
                raise ApiError(400, QUERY_INVALID)
            if self.callback_query_timeout is not None and time.monotonic() - query["at"] > self.callback_query_timeout:
                raise ApiError(400, QUERY_INVALID)
            if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
                raise _bad("MESSAGE_TOO_LONG")
            self._callback_answers[query_id] = {
                "text": text,
                "show_alert": _bool_param(params, "show_alert"),
                "url": _str_param(params, "url"),
                "cache_time": _int_param(params, "cache_time", 0),
                "at": time.time(),
            }
            self._cond.notify_all()
            return True

    def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self._resolve_chat(params)
            if _str_param(params, "action") not in _CHAT_ACTIONS:
                raise _bad("wrong parameter action in request")
            return True

    def _api_getChat(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            chat_id = self._resolve_chat(params, for_sending=False)
            return {
                **self._chat_dict(chat_id),
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }

    # -- fault injection -------------------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """The next `count` calls of `method` ("*" = any method) answer this error instead of running."""
        if error_code == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = {
                400: "Bad Request: injected failure",
                403: "Forbidden: injected failure",
                409: CONFLICT_POLL,
                429: f"Too Many Requests: retry after {retry_after}",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(error_code, f"Error {error_code}")
        parameters = {"retry_after": retry_after} if retry_after is not None else None
        with self._lock:
            self._faults.setdefault(method.lower(), deque()).append(_Fault(count, error_code, description, parameters))

    def drop_next(self, method: str, count: int = 1) -> None:
        """The next `count` calls of `method` get their connection closed without an answer (a network error)."""
        with self._lock:
            self._faults.setdefault(method.lower(), deque()).append(_Fault(count, None))

    def slow_next(self, method: str, seconds: float, count: int = 1) -> None:
        """The next `count` calls of `method` ("*" = any method) run, but their answer comes `seconds` later
        (in-process, testkit.harness.InProcessRequest waits, and past its read timeout raises TimedOut)."""
        if seconds <= 0:
            raise ValueError("seconds must be positive")
        with self._lock:
            self._faults.setdefault(method.lower(), deque()).append(_Fault(count, None, delay=seconds))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def set_rate_limit(self, per_second: float | None, methods: Iterable[str] = ("sendMessage",)) -> None:
        """Answer 429 to calls of `methods` beyond `per_second` in any sliding window (all chats together)."""
        if per_second is not None and per_second <= 0:
            raise ValueError("per_second must be positive or None")
        with self._lock:
            self._rate_limit = per_second
            self._rate_methods = {m.lower() for m in methods}
            self._rate_window.clear()

    def block_user(self, user_id: int | FakeUser) -> None:
        """The user blocks the bot: sends and edits to them answer 403 until they write again."""
        with self._lock:
            self._user(user_id).blocked = True

    def unblock_user(self, user_id: int | FakeUser) -> None:
        with self._lock:
            self._user(user_id).blocked = False

    def kick_bot(self, chat: int | FakeGroup) -> None:
        with self._lock:
            self._group(chat).bot_is_member = False

    @property
    def stats(self) -> dict[str, int]:
        """Counters: requests, errors, too_many_requests, status_<code>."""
        with self._lock:
            return {"requests": 0, "errors": 0, "too_many_requests": 0, **self._stats}

    # -- test-side API: people and chats ---------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        *,
        last_name: str | None = None,
        language_code: str | None = "en",
        started: bool = False,
    ) -> FakeUser:
        """Register a person (or return the one already registered under that id)."""
        if user_id <= 0:
            raise ValueError("user ids are positive")
        with self._lock:
            existing = self._users.get(user_id)
            if existing is not None:
                return existing
            user = FakeUser(user_id, first_name, username, last_name, language_code, started=started)
            self._users[user_id] = user
            return user

    def group(self, chat_id: int, title: str) -> FakeGroup:
        """Register a basic group (negative id) with the bot in it."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        with self._lock:
            existing = self._groups.get(chat_id)
            if existing is not None:
                return existing
            group = FakeGroup(chat_id, title)
            self._groups[chat_id] = group
            return group

    def _user(self, user: int | FakeUser) -> FakeUser:
        user_id = user.id if isinstance(user, FakeUser) else user
        if user_id not in self._users:
            raise AssertionError(f"user {user_id} is not registered; call server.user(...) first")
        return self._users[user_id]

    def _group(self, chat: int | FakeGroup) -> FakeGroup:
        chat_id = chat.id if isinstance(chat, FakeGroup) else chat
        if chat_id not in self._groups:
            raise AssertionError(f"group {chat_id} is not registered; call server.group(...) first")
        return self._groups[chat_id]

    @staticmethod
    def _chat_id(chat: int | FakeUser | FakeGroup | FakeMessage) -> int:
        return chat.chat_id if isinstance(chat, FakeUser | FakeGroup | FakeMessage) else int(chat)

    # -- test-side API: incoming updates --------------------------------------------------------------------

    def send_text(
        self, user: int | FakeUser, text: str, chat: int | FakeGroup | None = None, *, reply_to: int | None = None
    ) -> int:
        """Queue a text message from `user` (private chat unless `chat` is a group); returns the update_id."""
        with self._cond:
            sender = self._user(user)
            chat_id = sender.id if chat is None else self._group(chat).id
            if chat_id == sender.id:
                sender.started = True  # writing to a bot starts (and unblocks) it
                sender.blocked = False
            entities = []
            command = _COMMAND_RE.match(text)
            if command:
                entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group())})
            message = self._store_new(
                chat_id,
                text=text,
                plain_text=text,
                entities=entities,
                from_bot=False,
                from_user_id=sender.id,
                reply_to_message_id=reply_to,
            )
            return self._queue({"message": self._message_dict(message)})

    def _new_file_id(self, prefix: str) -> tuple[str, str]:
        """A fresh (file_id, file_unique_id), shaped like Telegram's."""
        self._next_file += 1
        n = self._next_file
        return f"{prefix}AAxkBAAI{n:06d}{'x' * 40}{n:04d}", f"AgAD{n:06d}"

    def send_document(
        self,
        user: int | FakeUser,
        file_name: str = "report.pdf",
        caption: str | None = None,
        chat: int | FakeGroup | None = None,
        *,
        mime_type: str = "application/pdf",
        file_size: int = 12_345,
        media_group_id: str | None = None,
    ) -> int:
        """Queue a document message from `user` (with an optional caption); returns the update_id. Its
        file_id is known to the fake from then on, so the bot may send it again with sendDocument."""
        with self._cond:
            file_id, unique = self._new_file_id("BQACAgIAA")
            document = {
                "file_id": file_id,
                "file_unique_id": unique,
                "file_name": file_name,
                "mime_type": mime_type,
                "file_size": file_size,
            }
            media = {"document": document}
            self._files[file_id] = {"kind": "document", "media": media}
            return self._queue_media(user, chat, media, caption, media_group_id)

    def send_photo(
        self,
        user: int | FakeUser,
        caption: str | None = None,
        chat: int | FakeGroup | None = None,
        *,
        media_group_id: str | None = None,
    ) -> int:
        """Queue a photo message (three sizes, each its own file_id, as Telegram sends them)."""
        with self._cond:
            sizes = []
            for width, height in ((90, 60), (320, 213), (1280, 853)):
                file_id, unique = self._new_file_id("AgACAgIAA")
                sizes.append(
                    {
                        "file_id": file_id,
                        "file_unique_id": unique,
                        "width": width,
                        "height": height,
                        "file_size": width * 50,
                    }
                )
            media = {"photo": sizes}
            for size in sizes:
                self._files[size["file_id"]] = {"kind": "photo", "media": media}
            return self._queue_media(user, chat, media, caption, media_group_id)

    def _queue_media(
        self,
        user: int | FakeUser,
        chat: int | FakeGroup | None,
        media: dict[str, Any],
        caption: str | None,
        media_group_id: str | None,
    ) -> int:
        if caption is not None and not 0 < utf16_len(caption) <= MAX_CAPTION_LENGTH:
            raise ValueError("a caption is 1-1024 characters")
        sender = self._user(user)
        chat_id = sender.id if chat is None else self._group(chat).id
        if chat_id == sender.id:
            sender.started = True
            sender.blocked = False
        message = self._store_new(
            chat_id,
            text=caption or "",
            plain_text=caption or "",
            from_bot=False,
            from_user_id=sender.id,
            media=copy.deepcopy(media),
            media_group_id=media_group_id,
        )
        return self._queue({"message": self._message_dict(message)})

    def send_update(self, payload: dict[str, Any]) -> int:
        """Queue any update body (without update_id); returns the update_id."""
        with self._cond:
            return self._queue(copy.deepcopy(payload))

    def press(
        self,
        user: int | FakeUser,
        message: FakeMessage | int,
        button_text_prefix: str | None = None,
        callback_data: str | None = None,
        chat: int | FakeGroup | None = None,
        *,
        forged_data: str | None = None,
    ) -> str:
        """Queue a callback_query for an inline button of a bot message; returns the callback query id.

        `message` is a FakeMessage or a message_id (in `chat`, by default the user's private chat).
        The button is found by text prefix or exact callback_data; with neither, the only callback button.
        `forged_data` sends that data instead, whatever the buttons are (a modified client).
        """
        with self._cond:
            presser = self._user(user)
            if isinstance(message, FakeMessage):
                chat_id, message_id = message.chat_id, message.message_id
            else:
                chat_id = presser.id if chat is None else self._chat_id(chat)
                message_id = int(message)
            stored = self._messages.get(chat_id, {}).get(message_id)
            if stored is None or stored.deleted or not stored.from_bot:
                raise AssertionError(f"no bot message {message_id} in chat {chat_id} to press a button on")
            candidates = [b for b in stored.buttons if b[1] is not None]
            if forged_data is not None:
                candidates = [("forged", forged_data)]
            elif button_text_prefix is not None:
                candidates = [b for b in candidates if b[0].startswith(button_text_prefix)]
            if callback_data is not None and forged_data is None:
                candidates = [b for b in candidates if b[1] == callback_data]
            selector = button_text_prefix is not None or callback_data is not None or forged_data is not None
            if not candidates or (not selector and len(candidates) > 1):
                wanted = f"text prefix {button_text_prefix!r}, callback_data {callback_data!r}"
                raise AssertionError(
                    f"cannot pick a button ({wanted}) on message {message_id} in chat {chat_id} "
                    f"{stored.plain_text[:60]!r}; buttons: {stored.buttons}"
                )
            self._next_query += 1
            query_id = str(4_000_000_000_000_000 + self._next_query)
            self._queries[query_id] = {"at": time.monotonic(), "chat_id": chat_id, "message_id": message_id}
            self._queue(
                {
                    "callback_query": {
                        "id": query_id,
                        "from": presser.to_dict(),
                        "message": self._message_dict(stored),
                        "chat_instance": str(abs(chat_id) * 7919 + self.bot_id),
                        "data": candidates[0][1],
                    }
                }
            )
            return query_id

    @property
    def is_polling(self) -> bool:
        """Whether a getUpdates long poll is waiting right now (the bot is up and idle)."""
        with self._lock:
            return self._waiting_polls > 0

    def wait_until_polling(self, timeout: float = 10.0) -> None:
        self.wait_for(lambda: self.is_polling, timeout, description="the bot to long-poll getUpdates")

    def pending_updates(self) -> int:
        """Updates queued but not yet confirmed by the bot (through a later getUpdates offset)."""
        with self._lock:
            return len(self._updates)

    # -- test-side API: inspection ----------------------------------------------------------------------------

    def messages(self, chat_id: int | FakeUser | FakeGroup, include_deleted: bool = False) -> list[FakeMessage]:
        """Copies of the bot's messages in a chat, oldest first."""
        with self._lock:
            stored = self._messages.get(self._chat_id(chat_id), {})
            return [
                copy.deepcopy(m) for _, m in sorted(stored.items()) if m.from_bot and (include_deleted or not m.deleted)
            ]

    def wait_for_bot_message(
        self, chat_id: int | FakeUser | FakeGroup, after: int, contains: str = "", timeout: float = 10.0
    ) -> FakeMessage:
        """Block (no polling) until a bot message in the chat sent or edited after `after` (a mark())
        contains `contains`; cheap enough for load drivers with many threads."""
        target = self._chat_id(chat_id)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for m in self._messages.get(target, {}).values():
                    if m.from_bot and m.seq > after and contains in m.plain_text:
                        return copy.deepcopy(m)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no bot message containing {contains!r} in chat {target} in {timeout}s")
                self._cond.wait(remaining)

    def last_message(self, chat_id: int | FakeUser | FakeGroup) -> FakeMessage | None:
        found = self.messages(chat_id)
        return found[-1] if found else None

    def user_messages(self, chat_id: int | FakeUser | FakeGroup) -> list[FakeMessage]:
        """Copies of messages people sent in a chat (through send_text)."""
        with self._lock:
            stored = self._messages.get(self._chat_id(chat_id), {})
            return [copy.deepcopy(m) for _, m in sorted(stored.items()) if not m.from_bot]

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_of(self, method: str) -> list[Call]:
        method = method.lower()
        with self._lock:
            return [c for c in self._calls if c.method.lower() == method]

    @property
    def callback_answers(self) -> dict[str, dict[str, Any]]:
        """query id -> the answerCallbackQuery parameters (text, show_alert, url, cache_time, at)."""
        with self._lock:
            return copy.deepcopy(self._callback_answers)

    def commands(self, scope: dict[str, Any] | None = None, language_code: str = "") -> list[dict[str, str]]:
        """The commands the bot set for a scope (default scope by default)."""
        key = json.dumps(scope or {"type": "default"}, sort_keys=True), language_code
        with self._lock:
            return copy.deepcopy(self._commands.get(key, []))

    def mark(self) -> int:
        """A point in time for wait_for_message(after=...): later sends and edits have a higher seq."""
        with self._lock:
            return self._seq

    # -- test-side API: waiting ------------------------------------------------------------------------------

    def recent_calls_dump(self, count: int = 15) -> str:
        lines = []
        for call in self.calls[-count:]:
            if call.ok:
                detail = ""
                if call.method in ("sendMessage", "editMessageText"):
                    detail = repr(str(call.params.get("text", ""))[:80])
            else:
                detail = call.description or ("client hung up" if call.status == 499 else "connection dropped")
            lines.append(f"  {call.method} -> {call.status} {detail}".rstrip())
        return "\n".join(lines) or "  (no calls)"

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 10.0, poll: float = 0.02, description: str = ""
    ) -> Any:
        """Poll `predicate` until it returns something truthy and return that; exceptions count as falsy."""
        deadline = time.monotonic() + timeout
        last_error: BaseException | None = None
        while True:
            try:
                value = predicate()
            except Exception as exc:  # noqa: BLE001 - e.g. an attribute of a message that is not there yet
                value, last_error = None, exc
            if value:
                return value
            reason = self.abort_check() if self.abort_check is not None else None
            if reason or time.monotonic() >= deadline:
                what = description or getattr(predicate, "__name__", "condition")
                cause = f"\nlast error in predicate: {last_error!r}" if last_error else ""
                stop = f"aborted: {reason}" if reason else f"timed out after {timeout:.1f}s"
                raise AssertionError(
                    f"{stop} waiting for {what}{cause}\nrecent Bot API calls:\n{self.recent_calls_dump()}"
                )
            time.sleep(poll)

    def wait_for_message(
        self, chat_id: int | FakeUser | FakeGroup, contains: str, timeout: float = 10.0, *, after: int | None = None
    ) -> FakeMessage:
        """The first bot message in the chat whose plain text contains `contains` (new or edited).

        With `after` (from mark()) only messages sent or edited later count.
        """
        target = self._chat_id(chat_id)

        def find() -> FakeMessage | None:
            for message in self.messages(target):
                if contains in message.plain_text and (after is None or message.seq > after):
                    return message
            return None

        def texts() -> str:
            return "; ".join(repr(m.plain_text[:60]) for m in self.messages(target)[-5:]) or "none"

        try:
            return self.wait_for(find, timeout, description=f"a bot message containing {contains!r} in chat {target}")
        except AssertionError as exc:
            raise AssertionError(f"{exc}\nlast bot messages in chat {target}: {texts()}") from None

    def answer_for(self, query_id: str) -> dict[str, Any] | None:
        """The answerCallbackQuery parameters for one query, or None while unanswered."""
        with self._lock:
            return copy.deepcopy(self._callback_answers.get(query_id))

    def wait_for_answer(self, query_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The answerCallbackQuery parameters the bot gave for a query from press()."""
        return self.wait_for(
            lambda: self.answer_for(query_id), timeout, description=f"an answer to callback query {query_id}"
        )

    def wait_for_call(
        self, method: str, timeout: float = 10.0, *, since: int = 0, predicate: Callable[[Call], bool] | None = None
    ) -> Call:
        """The first call of `method` at index >= since in `calls` (matching `predicate` if given)."""

        def find() -> Call | None:
            for call in self.calls[since:]:
                if call.method.lower() == method.lower() and (predicate is None or predicate(call)):
                    return call
            return None

        return self.wait_for(find, timeout, description=f"a {method} call")

    def wait_until_consumed(self, timeout: float = 10.0) -> None:
        """Wait until the bot has confirmed every queued update."""
        self.wait_for(lambda: self.pending_updates() == 0, timeout, description="the bot to confirm all updates")

    def __repr__(self) -> str:
        where = self.base_url if self._httpd is not None else "stopped"
        return f"<FakeTelegram @{self.bot_username} {where}>"
