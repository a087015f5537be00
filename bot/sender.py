"""Durable out: the sender delivers the outbox (storage/durable.py) to Telegram.

- Best first: answers to the person acting, then news, then reminders. One chat's messages go one at
  a time in the order they were written; different chats' in parallel.
- Pace: at most SEND_RATE_PER_SECOND overall (a token bucket). Reminders leave `RESERVE` tokens in it,
  so an answer to someone acting never waits behind a reminder backlog; 20 a minute per group.
- Transient faults (5xx, a dropped connection, no answer within the read timeout, 429) leave the
  message pending: tried again with backoff (429: after `retry_after`, and the whole pace pauses).
- Permanent ones are settled at once: 403 / "chat not found" mark the person unreachable and, for
  news, tell the actor (the hint written with it); an edit of a message that is gone sends the text as
  a new message; any other 400 is logged and dropped.
- Each call holds a lease on its row. A row found with an expired lease was being sent by a process
  that died mid-call: Telegram may have acted on it, so sending it again may repeat it. That case, and
  calls whose answer was lost (timeout, dropped connection), are counted in `maybe_sent` and logged.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import time
import uuid
import warnings
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBDeprecationWarning

from storage import durable
from storage.durable import Claimed, Outgoing, Settled
from storage.uow import ambient

from .callbacks import card_digest
from .turn import Priority

log = logging.getLogger(__name__)

# Nothing waits on the sender's answer, so it waits long for a slow one (a slow answer is not a lost
# one: sending again would repeat the message). Only a call with no answer after this is tried again.
READ_TIMEOUT_S = 30.0
LEASE = timedelta(seconds=READ_TIMEOUT_S + 15)
CONCURRENCY = 32
RESERVE = 1  # places in each second reminders leave for answers and news
SPAN = 1.01  # seconds: Telegram's second, with a margin for the time a call takes to reach it
REMINDER_SLOTS = 8  # of the calls in flight, at most this many reminders: answers always find a place
GROUP_INTERVAL_S = 3.0  # Telegram: about 20 messages a minute in one group
POLL_S = 1.0
MAX_ATTEMPTS = 20  # an error that is neither transient nor known to be permanent: given up after this many  # also looks for what other processes wrote, and retries that became due
PURGE_EVERY_S = 600.0
KEEP_SETTLED = timedelta(days=1)


def retry_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22.2+ warns that the int will become a timedelta: both are read
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def backoff(attempts: int) -> timedelta:
    """0.5 s, 1 s, 2 s … up to 60 s between tries of a message Telegram could not take."""
    return timedelta(seconds=min(60.0, 0.5 * 2 ** min(attempts, 7)))


class Pace:
    """At most `rate` sends in any `SPAN` seconds, counted by send time as Telegram counts them (a token
    bucket let a full bucket plus a second's refill go out in one second, and Telegram answered 429).
    A send's place counts from when it began until `SPAN` after its answer came back (`done`): Telegram
    counted it somewhere in between, so a call slow to reach it can't bunch up with later ones.
    Reminders may fill all but `reserve` of those places, so an answer or news never waits for one.
    A 429 stops everything for its `retry_after`. Below 1 a second: one send per 1/rate seconds."""

    def __init__(self, rate: float, reserve: int = RESERVE, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.limit = max(1, int(rate))
        self.span = SPAN if rate >= 1 else 1 / max(rate, 1e-9)
        self.reserve = min(reserve, self.limit - 1)
        self.clock = clock
        self.recent: deque[list[float]] = deque()  # [the time it began, or its answer came back]
        self.paused_until = 0.0
        self.groups: dict[int, float] = {}

    def _prune(self, now: float) -> None:
        while self.recent and self.recent[0][0] <= now - self.span:
            self.recent.popleft()

    def available(self) -> float:
        """Places free now (0 while a 429 pause lasts)."""
        if self.rate <= 0:
            return float("inf")
        now = self.clock()
        self._prune(now)
        return 0.0 if now < self.paused_until else float(self.limit - len(self.recent))

    async def acquire(self, priority: int, chat_id: int) -> list[float] | None:
        """Waits for a place; pass what it returns to `done` when the call's answer comes back."""
        if self.rate <= 0:
            return None
        limit = self.limit - (self.reserve if priority >= Priority.REMINDER else 0)
        while True:
            now = self.clock()
            self._prune(now)
            wait = self.paused_until - now
            if chat_id < 0:
                wait = max(wait, self.groups.get(chat_id, 0.0) - now)
            if len(self.recent) >= limit:  # until enough of the last sends leave the window
                wait = max(wait, self.recent[len(self.recent) - limit][0] + self.span - now)
            if wait <= 0:
                place = [now]
                self.recent.append(place)
                if chat_id < 0:
                    self.groups[chat_id] = now + GROUP_INTERVAL_S
                return place
            await asyncio.sleep(max(wait, 0.001))

    def done(self, place: list[float] | None) -> None:
        """The call's answer came back: its place in the window counts from now."""
        if place is not None:
            place[0] = max(place[0], self.clock())

    def pause(self, seconds: float) -> None:
        self.paused_until = max(self.paused_until, self.clock() + seconds)


# Telegram's 5xx answers, as python-telegram-bot words them: the answer's description, else "<phrase> (<code>)".
_SERVER_ANSWERS = ("(5", "Internal Server Error", "Bad Gateway", "Service Unavailable", "Gateway Timeout")  # i18n: ok


def _answered(err: NetworkError) -> bool:
    """Telegram answered (a 5xx): it did not take the message, so trying again can't repeat it."""
    return any(words in str(err) for words in _SERVER_ANSWERS)


def _fault(err: Exception) -> str:
    return f"{type(err).__name__}: {err}"[:200]


def _gone(err: BadRequest) -> bool:
    """The message to edit no longer exists or can't be edited (too old, deleted)."""
    text = str(err).lower()
    return "message to edit not found" in text or "can't be edited" in text or "message_id_invalid" in text


class Sender:
    def __init__(
        self,
        call: Callable[[str, dict[str, Any], float], Awaitable[Any]],
        sessions: async_sessionmaker[AsyncSession],
        *,
        rate: float,
        on_unreachable: Callable[[int], Awaitable[None]],
        concurrency: int = CONCURRENCY,
        retired_card: Callable[[int], str] = lambda chat: "⬇️ This card was replaced by the one below.",  # i18n: ok
    ) -> None:
        self.call = call
        self.sessions = sessions
        self.pace = Pace(rate)
        self.on_unreachable = on_unreachable
        self.retired_card = retired_card  # what a chat's card becomes when a newer one is delivered, in its language
        self.concurrency = concurrency
        self.me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.lease = LEASE
        self.counts = {"sent": 0, "failed": 0, "retried": 0, "maybe_sent": 0, "fresh": 0, "hints": 0}
        self._wake = asyncio.Event()
        self._inflight: dict[int, asyncio.Task[None]] = {}  # chat -> its send
        self._queued: dict[int, deque[Claimed]] = {}  # chat -> rows handed over, behind its send in flight
        self._giveback: list[int] = []  # handed over, then held back behind a message to try again
        # chat -> its messages this sender will try again (id -> until when it counts them): a message
        # handed over for such a chat goes through the claim, which keeps it behind them.
        self._retrying: dict[int, dict[int, float]] = {}
        # A claimed message (not one handed over) was settled since the last look: its chat's next message,
        # if any, is for the claim now. Handed-over messages need no look (nothing waits behind them in
        # the database that their turn did not hand over too; a reminder is found by the next poll).
        self._look_again = False
        self._priorities: dict[int, int] = {}  # chat -> the priority of its send in flight
        self._settled: list[Settled] = []
        self._unsent: list[int] = []  # claimed, then given up by a stop before their call began
        self._writer: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._idle = asyncio.Event()
        self._last_purge = 0.0

    # ----- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox-sender")

    def kick(self) -> None:
        """Messages wait for a claim: look now, and again once a send ends."""
        self._look_again = True
        self._wake.set()

    def lease_holder(self) -> str | None:
        """Whom a turn may lease its messages to as it writes them (`hand` takes them after the commit):
        this sender while it runs and has room; else None (they wait for a claim)."""
        running = self._task is not None and not self._task.done() and not self._stopping
        return self.me if running and len(self._inflight) < self.concurrency else None

    def hand(self, rows: list[Claimed]) -> None:
        """Messages a committed turn leased to this sender: sent with no claim, each chat's in order."""
        for row in rows:
            if self._stopping:
                self._unsent.append(row.id)  # given back by the stop (or their lease ends by itself)
            elif self._waits_for_retry(row.chat_id):
                self._giveback.append(row.id)
                self._write()
            elif row.chat_id in self._inflight:
                self._queued.setdefault(row.chat_id, deque()).append(row)
            else:
                self._start(row)

    async def stop(self, grace: float) -> None:
        """Stop claiming; calls in flight get `grace` seconds, then are cut off (their rows stay leased:
        the next process sends them again once the lease ends, counted as maybe sent)."""
        self._stopping = True
        self._wake.set()
        deadline = time.monotonic() + grace
        if self._task is not None:
            # The loop ends by itself once a claim in progress is done: cancelled in the middle of one, the
            # rows it leased would have no task to send them or give them back.
            done, _ = await asyncio.wait({self._task}, timeout=grace)
            if not done:
                self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        for rows in self._queued.values():
            self._unsent.extend(row.id for row in rows)  # handed over, their call not begun
        self._queued.clear()
        inflight = list(self._inflight.values())
        if inflight:
            _, late = await asyncio.wait(inflight, timeout=max(0.0, deadline - time.monotonic()))
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
            cut = len(late) - len(self._unsent)
            if cut:
                log.warning("stopping: %d message(s) cut off mid-call; the next start sends them again", cut)
        if self._unsent:
            unsent, self._unsent = self._unsent, []
            try:
                await durable.release(self.sessions, unsent, self.me)
            except Exception:
                log.warning("could not give back %d unsent message(s); their leases end by themselves", len(unsent))
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)  # marks being written now
        await self._flush()

    async def drain(self, timeout: float = 10.0, *, retries: bool = False) -> None:
        """Until nothing is pending and due; retries=True: until nothing is pending at all, messages
        waiting for their next try included (tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._wake.set()
            await asyncio.sleep(0)
            if (
                not self._inflight
                and not self._settled
                and not self._giveback
                and (self._writer is None or self._writer.done())
            ):
                due = await durable.next_due(self.sessions)
                if due is None or (not retries and due > datetime.now(UTC)):
                    return
            await asyncio.sleep(0.002)
        raise TimeoutError("the outbox did not drain")

    # ----- the loop ------------------------------------------------------------------------------
    async def _run(self) -> None:
        if self.sessions.kw["bind"].dialect.name == "sqlite":
            try:
                ended = await durable.end_leases(self.sessions, datetime.now(UTC))
            except Exception:
                log.warning("could not end the leases of an earlier process", exc_info=True)
            else:
                if ended:
                    log.warning("%d message(s) were mid-call when the last process stopped: sending them again", ended)
        while not self._stopping:
            self._wake.clear()  # before looking: a kick from now on is not missed
            try:
                claimed = await self._claim()
            except Exception:
                log.warning("could not read the outbox; trying again", exc_info=True)
                claimed = 0
            if self._stopping:
                break
            if claimed and len(self._inflight) < self.concurrency:
                continue  # there may be more waiting
            # Out of tokens: look again when the next one is due (nothing else would wake the loop then).
            wait = POLL_S if self.pace.rate <= 0 or self.pace.available() >= 1 else min(POLL_S, 1 / self.pace.rate)
            try:
                await asyncio.wait_for(self._wake.wait(), wait)
            except TimeoutError:
                pass
            if time.monotonic() - self._last_purge > PURGE_EVERY_S:
                self._last_purge = time.monotonic()
                try:
                    await durable.purge(self.sessions, datetime.now(UTC) - KEEP_SETTLED)
                except Exception:
                    log.warning("could not purge the inbox and outbox", exc_info=True)

    async def _claim(self) -> int:
        free = self.concurrency - len(self._inflight)
        if self.pace.rate > 0:
            # No more than the pace lets go now: a claimed row waits for its call holding a lease, and a
            # kill then would count it as maybe sent although no call began.
            free = min(free, int(min(self.pace.available(), self.concurrency)))
        if free <= 0:
            return 0
        reminder_room = REMINDER_SLOTS - sum(1 for p in self._priorities.values() if p >= Priority.REMINDER)
        if reminder_room > 0:
            limit, below = min(free, reminder_room), None
        else:  # reminders hold their share of the places: only answers and news now
            limit, below = free, int(Priority.REMINDER)
        rows = await durable.claim(
            self.sessions, self.me, datetime.now(UTC), LEASE, limit, busy_chats=self._inflight.keys(), below=below
        )
        for row in rows:
            if row.maybe_sent:
                self.counts["maybe_sent"] += 1
                log.warning(
                    "message %s to chat %s was being sent by a process that stopped mid-call: sending it "
                    "again (it may arrive twice)",
                    row.id,
                    row.chat_id,
                )
            self._start(row)
        return len(rows) if len(rows) >= limit else 0  # filled every place asked for: look again at once

    def _waits_for_retry(self, chat: int) -> bool:
        retrying = self._retrying.get(chat)
        if retrying is None:
            return False
        now = time.monotonic()
        for row_id in [i for i, until in retrying.items() if until < now]:
            del retrying[row_id]  # another process's sender may have taken it: the claim keeps the order
        if not retrying:
            del self._retrying[chat]
        return bool(retrying)

    def _write(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._flush())

    def _start(self, row: Claimed) -> None:
        retrying = self._retrying.get(row.chat_id)
        if retrying is not None:
            retrying.pop(row.id, None)
            if not retrying:
                del self._retrying[row.chat_id]
        task = asyncio.get_running_loop().create_task(self._send(row))
        self._inflight[row.chat_id] = task
        self._priorities[row.chat_id] = row.priority
        task.add_done_callback(functools.partial(self._done, row.chat_id))

    def _done(self, chat: int, task: asyncio.Task[Any] | None) -> None:
        if self._inflight.get(chat) is task:  # not a later send to the same chat
            del self._inflight[chat]
            self._priorities.pop(chat, None)  # its settle wakes the loop

    # ----- one message ---------------------------------------------------------------------------
    async def _send(self, row: Claimed) -> None:
        """Send the row, then the rows handed over for its chat meanwhile, in order."""
        chat = row.chat_id
        while True:
            try:
                place = await self.pace.acquire(row.priority, chat)
            except asyncio.CancelledError:
                self._unsent.append(row.id)  # stopped before its call began: nothing reached Telegram
                raise
            self._priorities[chat] = row.priority
            try:
                result = await self._deliver(row)
            finally:
                self.pace.done(place)
            self._settled.append(result)
            queued = self._queued.get(chat)
            if result.status == "pending":
                # To be tried again later: what is handed over after it waits its turn behind it (a claim
                # takes the chat's rows in order once it is due).
                until = (result.not_before or datetime.now(UTC)) - datetime.now(UTC) + LEASE
                self._retrying.setdefault(chat, {})[row.id] = time.monotonic() + until.total_seconds()
                if queued:
                    self._giveback.extend(r.id for r in queued)
                    queued.clear()
            if not row.handed or result.status != "sent":
                self._look_again = True
            self._write()
            if not queued or self._stopping:
                self._queued.pop(chat, None)
                if queued:
                    self._unsent.extend(r.id for r in queued)
                # The chat is free from now: a row handed over next starts its own send.
                self._done(chat, asyncio.current_task())
                return
            row = queued.popleft()

    async def _deliver(self, row: Claimed) -> Settled:
        now = datetime.now(UTC)
        if row.card is not None and row.card < 0:
            try:
                live_again = await self._live_again(row)
            except Exception as err:  # the database, for a moment: the retirement waits its next try
                log.info("could not look up the live card for message %s (%s); trying again", row.id, err)
                self.counts["retried"] += 1
                return Settled(row.id, "pending", now + backoff(row.attempts), _fault(err))
            if live_again:
                return Settled(row.id, "sent")  # the card to retire is the live one again: nothing to do
        message_id = row.params.get("message_id")  # an edit's; a send's comes with its answer
        try:
            try:
                answer = await self.call(row.method, row.params, READ_TIMEOUT_S)
                if isinstance(answer, dict) and "message_id" in answer:
                    message_id = answer["message_id"]
            except BadRequest as err:
                if row.method.startswith("edit") and "not modified" in str(err).lower():
                    pass  # it shows this already
                elif row.method == "editMessageText" and _gone(err) and (row.card or 0) >= 0:
                    self.counts["fresh"] += 1  # the card to edit is gone: a fresh one
                    fresh = {k: v for k, v in row.params.items() if k not in ("message_id", "inline_message_id")}
                    answer = await self.call("sendMessage", fresh, READ_TIMEOUT_S)
                    message_id = answer.get("message_id") if isinstance(answer, dict) else None
                elif (row.card or 0) < 0 and _gone(err):
                    return Settled(row.id, "sent")  # a retired card that is gone: nothing to retire
                else:
                    raise
        except RetryAfter as err:
            wait = retry_seconds(err)
            self.pace.pause(wait)
            self.counts["retried"] += 1
            log.info("Telegram asks to slow down for %.0f s; message %s waits", wait, row.id)
            return Settled(row.id, "pending", now + timedelta(seconds=wait), _fault(err))
        except (Forbidden, BadRequest) as err:
            if isinstance(err, Forbidden) or "chat not found" in str(err).lower():
                await self._unreachable(row)
            else:
                log.warning("message %s refused by Telegram (%s): dropped", row.id, err)
            self.counts["failed"] += 1
            return Settled(row.id, "failed", error=_fault(err))
        except (TimedOut, NetworkError) as err:
            # A timeout or a dropped connection may have reached Telegram: the next try may repeat it.
            lost = isinstance(err, TimedOut) or not _answered(err)
            if lost:
                self.counts["maybe_sent"] += 1
            self.counts["retried"] += 1
            log.info("message %s not delivered (%s); trying again", row.id, err)
            return Settled(row.id, "pending", now + backoff(row.attempts), _fault(err), maybe_sent=lost)
        except ChatMigrated as err:
            # A group became a supergroup: its old id takes nothing any more.
            log.warning("message %s not sent: chat %s moved to %s; dropped", row.id, row.chat_id, err.new_chat_id)
            self.counts["failed"] += 1
            return Settled(row.id, "failed", error=_fault(err))
        except TelegramError as err:
            if row.attempts + 1 >= MAX_ATTEMPTS:
                log.warning("message %s failed %d times (%s); dropped", row.id, row.attempts + 1, err)
                self.counts["failed"] += 1
                return Settled(row.id, "failed", error=_fault(err))
            log.warning("message %s failed (%s); trying again", row.id, err)
            self.counts["retried"] += 1
            return Settled(row.id, "pending", now + backoff(row.attempts), _fault(err))
        self.counts["sent"] += 1
        if row.card is not None and row.card > 0 and message_id is not None:
            digest = card_digest(str(row.params.get("text", "")), row.params.get("reply_markup"))
            return Settled(row.id, "sent", card=(row.chat_id, row.card, int(message_id), digest))
        return Settled(row.id, "sent")

    async def _live_again(self, row: Claimed) -> bool:
        """A retirement waits its turn in its chat; meanwhile an edit may have made that message the live
        card again (a refresh written before the retirement was): then it must stay."""
        assert row.card is not None
        live = await durable.live_card_now(self.sessions, row.chat_id, -row.card)
        return live is not None and live[0] == row.params.get("message_id")

    def _retire(self, chat: int, contract: int, message: int) -> Outgoing:
        """A chat's card of a contract, replaced by a newer one: its text says so, its buttons go."""
        params = {"chat_id": chat, "message_id": message, "text": self.retired_card(chat)}
        return Outgoing(chat, "editMessageText", params, Priority.REPLY, card=-contract)

    async def _unreachable(self, row: Claimed) -> None:
        if row.chat_id > 0:
            try:
                await self.on_unreachable(row.chat_id)
            except Exception:
                log.warning("could not mark person %s unreachable", row.chat_id, exc_info=True)
        if row.hint_chat is not None and row.hint:
            self.counts["hints"] += 1
            hint = Outgoing(
                row.hint_chat,
                "sendMessage",
                {"chat_id": row.hint_chat, "text": row.hint, "parse_mode": "HTML"},
                Priority.REPLY,
            )
            async with ambient(self.sessions) as session:
                await durable.add_outgoing(session, [hint], datetime.now(UTC))

    async def _flush(self) -> None:
        while self._settled or self._giveback:
            batch, self._settled = self._settled, []
            giveback, self._giveback = self._giveback, []
            try:
                await durable.settle(self.sessions, batch, datetime.now(UTC), self.me, self._retire)
                await durable.release(self.sessions, giveback, self.me)
            except Exception:
                # The leases end by themselves: these are sent again then (counted as maybe sent).
                log.warning("could not record %d delivered message(s)", len(batch), exc_info=True)
            if self._look_again or giveback:
                self._look_again = False
                self._wake.set()
