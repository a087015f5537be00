"""Bot API requests over aiohttp instead of python-telegram-bot's default httpx transport.

PTB lets the HTTP layer be swapped through its documented `telegram.request.BaseRequest` interface.
Measured on the project's VM against the fake Bot API (testkit/fake_telegram.py): one POST costs
about 3 ms of CPU through httpx/httpcore/anyio and about 0.4 ms through aiohttp (C HTTP parser, no
per-request scan of the connection pool). Every button press costs two or three Bot API calls (the
answer, the card edit, the other party's message), so this is the largest single cost of a round trip.

Requests are sent as PTB's HTTPXRequest sends them: POST, form-encoded parameters (values
JSON-encoded by PTB), multipart when a file is uploaded, PTB's User-Agent, redirects not followed,
HTTP_PROXY / HTTPS_PROXY / ALL_PROXY / NO_PROXY from the environment (read once, at initialize: aiohttp's
own trust_env would re-read them, and ~/.netrc, in a worker thread for every request). Timeouts:
connect_timeout -> sock_connect, read_timeout -> sock_read, pool_timeout + connect_timeout -> connect
(aiohttp counts the wait for a free pooled connection in it). aiohttp has no write timeout: an upload
(multipart) gets an overall limit of connect + pool + media write + read timeouts instead.

aiohttp puts the request URL - which holds the bot token - into some exception messages; errors are
re-raised without it (and without the chained original, whose text would carry it into tracebacks).

It tells PTB's "not passed" timeouts by their class, DefaultValue, from PTB's private
telegram._utils. bot.app uses this transport only when `unavailable_reason()` finds that and the rest
of what it needs in the installed PTB and aiohttp (else PTB's HTTPXRequest, with a warning), and only
with the IO_SHIMS setting on.
"""

from __future__ import annotations

import importlib
import inspect
import re
import urllib.request

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

_TOKEN_IN_URL = re.compile(r"/bot[^/\s'\"]+")


def unavailable_reason() -> str | None:  # i18n: ok (for the logs)
    """None when AiohttpRequest works with the installed PTB and aiohttp; otherwise why not."""
    try:
        defaults = importlib.import_module("telegram._utils.defaultvalue")
    except ImportError as err:
        return f"cannot import {err.name or err}"
    if getattr(defaults, "DefaultValue", None) is not DefaultValue:
        return "telegram._utils.defaultvalue.DefaultValue is gone"
    if not isinstance(BaseRequest.DEFAULT_NONE, DefaultValue):
        return "PTB's BaseRequest.DEFAULT_NONE is no longer a DefaultValue"
    if inspect.isabstract(AiohttpRequest):
        return f"PTB's BaseRequest now also requires {', '.join(sorted(AiohttpRequest.__abstractmethods__))}"
    if not hasattr(aiohttp, "ConnectionTimeoutError"):
        return "aiohttp has no ConnectionTimeoutError (3.10+)"
    return None


def _redacted(err: BaseException) -> str:
    return _TOKEN_IN_URL.sub("/bot<BOT_TOKEN>", f"aiohttp.{type(err).__name__}: {err}")


def _sum_or_none(*parts: float | None) -> float | None:
    """An overall limit made of several phases: none if any phase is unlimited."""
    return None if any(p is None for p in parts) else sum(parts)  # type: ignore[arg-type]


class AiohttpRequest(BaseRequest):
    __slots__ = (
        "_connect_timeout",
        "_media_write_timeout",
        "_pool_size",
        "_pool_timeout",
        "_proxies",
        "_proxy_for",
        "_read_timeout",
        "_session",
        "_write_timeout",
    )

    def __init__(
        self,
        connection_pool_size: int = 256,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str] = {}
        self._proxy_for: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._proxies = urllib.request.getproxies_environment()
            self._proxy_for.clear()
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},  # i18n: ok
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    def _proxy(self, url: str) -> str | None:
        """The environment's proxy for this URL's scheme and host (None: direct), looked up once."""
        if not self._proxies:
            return None
        target = URL(url)
        key = (target.scheme, target.host or "")
        if key not in self._proxy_for:
            proxy = self._proxies.get(target.scheme) or self._proxies.get("all")
            bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # public, not in typeshed
            if proxy and bypass(target.host or "", self._proxies):
                proxy = None
            self._proxy_for[key] = proxy
        return self._proxy_for[key]

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout=BaseRequest.DEFAULT_NONE,
        write_timeout=BaseRequest.DEFAULT_NONE,
        connect_timeout=BaseRequest.DEFAULT_NONE,
        pool_timeout=BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        if isinstance(read_timeout, DefaultValue):
            read_timeout = self._read_timeout
        if isinstance(connect_timeout, DefaultValue):
            connect_timeout = self._connect_timeout
        if isinstance(pool_timeout, DefaultValue):
            pool_timeout = self._pool_timeout

        data: aiohttp.FormData | dict[str, str] | None = None
        total = None
        if request_data is not None:
            files = request_data.multipart_data
            if files:
                if isinstance(write_timeout, DefaultValue):
                    write_timeout = self._media_write_timeout
                form = aiohttp.FormData(quote_fields=False)
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mimetype) in files.items():
                    form.add_field(name, content, filename=filename, content_type=mimetype)
                data = form
                total = _sum_or_none(connect_timeout, pool_timeout, write_timeout, read_timeout)
            else:
                data = request_data.json_parameters

        timeout = aiohttp.ClientTimeout(
            total=total,
            connect=_sum_or_none(connect_timeout, pool_timeout),
            sock_connect=connect_timeout,
            sock_read=read_timeout,
        )
        try:
            try:
                async with self._session.request(
                    method, url, data=data, timeout=timeout, allow_redirects=False, proxy=self._proxy(url)
                ) as response:
                    return response.status, await response.read()
            except aiohttp.ServerDisconnectedError:
                if not url.endswith("/getUpdates"):
                    raise
                # A kept-alive connection the server closed just as it was reused: getUpdates is safe to
                # ask again (a send is not: the sender decides, counting it as maybe sent).
                async with self._session.request(
                    method, url, data=data, timeout=timeout, allow_redirects=False, proxy=self._proxy(url)
                ) as response:
                    return response.status, await response.read()
        except TimeoutError as err:
            if isinstance(err, aiohttp.ConnectionTimeoutError):
                raise TimedOut(
                    "Timed out while connecting to the Bot API (or waiting for a free "
                    "connection); the request was not sent."
                ) from None
            raise TimedOut(f"Timed out ({_redacted(err)})") from None
        except aiohttp.ClientError as err:
            raise NetworkError(_redacted(err)) from None
