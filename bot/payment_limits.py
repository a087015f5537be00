"""Telegram Payments' per-currency amount limits (PRODUCT §7, telegram mode with a provider token).

Telegram publishes them as currencies.json (PAYMENT_CURRENCIES_URL); they follow exchange rates, so the
bot loads them at start and again every day, and the services ask `LatestLimits.current()` for the last
good copy (domain/payments.py applies them). A load that fails is logged as a warning and changes nothing:
the limits loaded before stay, and before any load succeeds amounts are not checked (Telegram itself still
refuses an invoice outside its limits)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import aiohttp
from telegram.ext import Application, ContextTypes

from domain.payments import PaymentLimits

from .common import utc_now
from .settings import Settings

log = logging.getLogger(__name__)

FETCH_TIMEOUT_S = 5.0  # the whole fetch, connection included: a start never waits longer for it
REFRESH_EVERY = timedelta(days=1)
RETRY_AFTER = timedelta(minutes=15)  # a failed load is tried again this much later (the daily one goes on)
MAX_BYTES = 2_000_000  # Telegram's file is about 40 kB
JOB_NAME = "payment-limits"
RETRY_JOB_NAME = "payment-limits-retry"

Fetch = Callable[[str], Awaitable[bytes]]


async def http_get(url: str) -> bytes:
    """The body of a GET of `url` (aiohttp; the environment's proxy settings apply); an error for a status
    other than 2xx or a body larger than MAX_BYTES."""
    async with (
        aiohttp.ClientSession(trust_env=True) as session,
        session.get(url, headers={"Accept": "application/json"}) as response,  # i18n: ok
    ):
        response.raise_for_status()
        body = bytearray()
        async for chunk in response.content.iter_chunked(65536):
            body += chunk
            if len(body) > MAX_BYTES:
                raise ValueError(f"the answer is larger than {MAX_BYTES} bytes")
        return bytes(body)


class LatestLimits:
    """The limits last loaded from `url` (None until a load succeeds): what the services ask."""

    def __init__(
        self,
        url: str,
        fetch: Fetch = http_get,
        *,
        timeout: float = FETCH_TIMEOUT_S,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.url = url
        self.fetch = fetch
        self.timeout = timeout
        self.clock = clock
        self.limits: PaymentLimits | None = None
        self.loaded_at: datetime | None = None

    def current(self) -> PaymentLimits | None:
        return self.limits

    async def refresh(self) -> bool:
        """Load the file once; on any failure (network, status, time-out, not the expected JSON) log a
        warning and keep what was loaded before. True if new limits were loaded."""
        try:
            async with asyncio.timeout(self.timeout):
                body = await self.fetch(self.url)
            limits = PaymentLimits.from_json(json.loads(body))
        except Exception as err:  # whatever went wrong, the bot goes on with what it has
            # Log text only (for the operator), never a user's:
            reason = str(err) or type(err).__name__
            if isinstance(err, TimeoutError):
                reason = f"no answer within {self.timeout:g} s"  # i18n: ok
            if self.limits is None:
                keeping = "amounts are not checked against them until a load succeeds"  # i18n: ok
            else:
                keeping = f"keeping the limits loaded at {self.loaded_at:%Y-%m-%d %H:%M} UTC"  # i18n: ok
            log.warning(
                "could not load Telegram Payments' currency limits from %s (%s: %s); %s",
                self.url,
                type(err).__name__,
                reason,
                keeping,
            )
            return False
        self.limits, self.loaded_at = limits, self.clock()
        log.info("loaded Telegram Payments' amount limits for %d currencies from %s", len(limits.currencies), self.url)
        return True


def provider_for(settings: Settings, clock: Callable[[], datetime] = utc_now) -> LatestLimits | None:
    """The limits' holder when they apply (telegram mode with a provider token), else None."""
    if not settings.loads_payment_limits:
        return None
    return LatestLimits(settings.payment_currencies_url, timeout=FETCH_TIMEOUT_S, clock=clock)


def of(app: Application) -> LatestLimits | None:
    return app.bot_data["deps"].extra.get("payment_limits")


async def load(app: Application) -> bool:
    """One load; a failed one is tried again RETRY_AFTER later (once pending at a time)."""
    limits = of(app)
    if limits is None:
        return False
    if await limits.refresh():
        return True
    queue = app.job_queue
    if queue is not None and not queue.get_jobs_by_name(RETRY_JOB_NAME):

        async def retry(_context: ContextTypes.DEFAULT_TYPE) -> None:
            await load(app)

        queue.run_once(retry, RETRY_AFTER, name=RETRY_JOB_NAME)
    return False


async def start(app: Application) -> None:
    """At start (post_init): the first load (at most FETCH_TIMEOUT_S), then a refresh every day."""
    if of(app) is None:
        return
    await load(app)
    if app.job_queue is None:
        log.warning("no job queue: Telegram Payments' amount limits are loaded at start only")
        return

    async def refresh(_context: ContextTypes.DEFAULT_TYPE) -> None:
        await load(app)

    app.job_queue.run_repeating(
        refresh,
        interval=REFRESH_EVERY,
        first=REFRESH_EVERY,
        name=JOB_NAME,
        job_kwargs={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
    )
