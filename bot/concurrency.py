"""Update processing: different people's updates run concurrently, one person's strictly in order, and
no one person can take more than their share (a token bucket per person, see PersonGuard)."""

from __future__ import annotations

import asyncio
import enum
import inspect
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import BaseUpdateProcessor

from .i18n import N_, _, pick, speaking
from .turn import person_of

if TYPE_CHECKING:
    from .settings import Settings

log = logging.getLogger(__name__)

NOTICE = N_(
    "You are sending faster than I can answer, so I skipped some of your last messages and button "
    "presses. Please wait a few seconds, then send again what you need."
)


def telegram_language(update: object) -> str | None:
    """The language of a dropped update's sender as Telegram says it (no handler ran for it, so nothing
    set the language spoken; None: English)."""
    user = update.effective_user if isinstance(update, Update) else None
    return pick(user.language_code) if user is not None and user.language_code else None


def _for_the_bot(update: object) -> bool:
    """What counts against a person's limit: presses, private messages and commands. Group chatter the
    bot happens to see (privacy mode off, or the bot an admin) is not theirs to ration."""
    if not isinstance(update, Update) or update.callback_query is not None:
        return True
    message = update.message
    if message is None:
        return False  # edits, member changes…: dropped before any handler anyway
    return message.chat.type == "private" or (message.text or "").startswith("/")


class Verdict(enum.Enum):
    HANDLE = "handle"
    DROP = "drop"
    DROP_AND_NOTIFY = "drop and notify"  # i18n: ok; the first update dropped since the person's bucket was last full


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float  # when `tokens` was last brought up to date
    notified: bool = False


class PersonGuard:
    """A token bucket per person: `burst` updates at once, then `rate` a second; the rest is dropped.

    A person is told once per flood: the notice flag resets when their bucket has filled up again. A
    bucket untouched for burst/rate seconds is full, i.e. the same as none, so it is forgotten: the map
    holds only the people seen in the last burst/rate seconds (4 s by default), kept in the order they
    were last seen so the idle ones are dropped from the front in O(1) each."""

    def __init__(self, burst: int, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if burst < 1 or rate <= 0:
            raise ValueError("a person's burst must be at least 1 and their rate above 0")
        self.burst, self.rate, self.clock = float(burst), rate, clock
        self.idle_after = burst / rate
        self._buckets: OrderedDict[int, _Bucket] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings) -> PersonGuard | None:
        """The guard the settings ask for; None when UPDATES_PER_PERSON_PER_SECOND is 0 (turned off)."""
        if settings.updates_per_person_per_second <= 0:
            return None
        return cls(settings.updates_per_person_burst, settings.updates_per_person_per_second)

    def __len__(self) -> int:
        return len(self._buckets)

    def admit(self, person: int) -> Verdict:
        now = self.clock()
        self._forget_idle(now)
        bucket = self._buckets.get(person)
        if bucket is None:
            bucket = self._buckets[person] = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            self._buckets.move_to_end(person)
            if bucket.tokens >= self.burst:
                bucket.notified = False
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return Verdict.HANDLE
        if bucket.notified:
            return Verdict.DROP
        bucket.notified = True
        return Verdict.DROP_AND_NOTIFY

    def _forget_idle(self, now: float) -> None:
        buckets = self._buckets
        while buckets:
            person, oldest = next(iter(buckets.items()))
            if now - oldest.at < self.idle_after:
                return
            del buckets[person]


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Conversations are keyed by person, so a person's updates must not overlap (a title and the
    amount typed right after it); everyone else's may. One lock per person with updates in flight.

    The order matters for fairness: first the guard (an update over the person's limit is dropped
    without waiting for anything), then the person's lock, and only then one of the
    `max_concurrent_updates` slots. A person's own queue therefore waits on their lock, not in a slot,
    and a flood never holds the slots everyone else needs."""

    def __init__(
        self,
        max_concurrent_updates: int,
        guard: PersonGuard | None = None,
        on_drop: Callable[[object], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self.guard = guard
        self.on_drop = on_drop  # a dropped update is settled (the inbox marks it), never handled later
        self.exempt: Callable[[object], bool] = lambda _update: False  # e.g. an update a recovery put back
        # The language the notice is written in (the app may know the person's own choice).
        self.language_of: Callable[[object], str | None] = telegram_language
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._busy = 0
        self._locks: dict[int | None, list] = {}  # key -> [lock, updates holding or waiting]

    @property
    def current_concurrent_updates(self) -> int:
        return self._busy

    # PTB's own process_update takes a slot and then calls do_process_update, which is too late for
    # the guard and the per-person wait. It is marked @final for type checkers only; Application
    # calls `update_processor.process_update(update, coroutine)` for every update, which is this.
    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:  # type: ignore[misc]
        key = person_of(update)
        if self.guard is not None and key is not None and _for_the_bot(update) and not self.exempt(update):
            verdict = self.guard.admit(key)
            if verdict is not Verdict.HANDLE:
                if inspect.iscoroutine(coroutine):
                    coroutine.close()  # never awaited on purpose
                await self._refuse(update, verdict)
                if self.on_drop is not None:
                    await self.on_drop(update)
                return
        entry = self._locks.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0], self._slots:
                self._busy += 1
                try:
                    await self.do_process_update(update, coroutine)
                finally:
                    self._busy -= 1
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                self._locks.pop(key, None)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine

    async def _refuse(self, update: object, verdict: Verdict) -> None:
        """A dropped press is always answered (with the notice, as a toast), or the person's button
        would spin; anything else gets the notice as a private message once per flood."""
        if not isinstance(update, Update):
            return
        user = update.effective_user
        with speaking(self.language_of(update)):
            notice = _(NOTICE)
        if verdict is Verdict.DROP_AND_NOTIFY:
            log.info("person %s is over the update limit: their excess updates are dropped", user.id if user else "?")
        try:
            if update.callback_query is not None:
                await update.callback_query.answer(notice)
            elif verdict is Verdict.DROP_AND_NOTIFY and user is not None and not user.is_bot:
                await update.get_bot().send_message(user.id, notice)
        except (TelegramError, RuntimeError) as err:  # blocked, never started, a query too old: nothing to do
            log.debug("could not tell person %s they are over the limit: %s", user.id if user else "?", err)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
