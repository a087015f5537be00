"""Bot API requests over aiohttp instead of python-telegram-bot's default httpx transport.

PTB lets the HTTP layer be swapped through its documented `telegram.request.BaseRequest` interface.
Measured on the project's VM against the fake Bot API (tests/e2e/fake_telegram.py): one POST costs
about 3 ms of CPU through httpx/httpcore/anyio and about 0.4 ms through aiohttp (C HTTP parser, no
per-request scan of the connection pool). Every button press costs two or three Bot API calls (the
answer, the card edit, the other party's message), so this is the largest single cost of a round trip.

Requests are sent exactly as PTB's HTTPXRequest sends them: POST, form-encoded parameters (values
JSON-encoded by PTB), multipart when a file is uploaded, PTB's User-Agent. Timeouts map to aiohttp's:
connect_timeout -> sock_connect, read_timeout -> sock_read, pool_timeout + connect_timeout -> connect
(aiohttp counts the wait for a free pooled connection in it). aiohttp has no write timeout; a stalled
write is caught by the read timeout that follows it.
"""

from __future__ import annotations

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    __slots__ = ("_connect_timeout", "_pool_size", "_pool_timeout", "_read_timeout", "_session", "_write_timeout",
                 "_media_write_timeout")

    def __init__(self, connection_pool_size: int = 256, *, read_timeout: float | None = 5.0,
                 write_timeout: float | None = 5.0, connect_timeout: float | None = 5.0,
                 pool_timeout: float | None = 1.0, media_write_timeout: float | None = 20.0) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size, ttl_dns_cache=300),
                headers={"User-Agent": self.USER_AGENT},
                # Like httpx (PTB's default): HTTP_PROXY / HTTPS_PROXY / NO_PROXY from the environment.
                trust_env=True,
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

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
        if request_data is not None:
            files = request_data.multipart_data
            if files:
                form = aiohttp.FormData(quote_fields=False)
                for name, value in request_data.json_parameters.items():
                    form.add_field(name, value)
                for name, (filename, content, mimetype) in files.items():
                    form.add_field(name, content, filename=filename, content_type=mimetype)
                data = form
            else:
                data = request_data.json_parameters

        connect = None if connect_timeout is None and pool_timeout is None else (
            (connect_timeout or 0) + (pool_timeout or 0))
        timeout = aiohttp.ClientTimeout(total=None, connect=connect, sock_connect=connect_timeout,
                                        sock_read=read_timeout)
        try:
            async with self._session.request(method, url, data=data, timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as err:
            if isinstance(err, aiohttp.ConnectionTimeoutError):
                raise TimedOut("Timed out while connecting to the Bot API (or waiting for a free "
                               "connection); the request was not sent.") from err
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err
