"""Durable in: each update is a turn, one database transaction.

    Telegram ──► inbox (stored before it is acknowledged) ──► turn: the person's conversation step read
    fresh, the handlers run, the messages they send recorded as outbox rows, the step written back, the
    update marked handled ── ONE transaction ──► the press answered (best effort), the sender woken.

Handlers keep python-telegram-bot's calls (`reply_text`, `edit_text`, `send_message`, `q.answer`):
during a turn the bot records them instead of calling Telegram (`RecordingBot`), so nothing a change
causes can be lost to a crash or a Bot API fault between the change and its messages, and no Telegram
call holds the transaction open. Outside a turn (the sender, start-up calls) the bot calls Telegram."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram.error import TelegramError
from telegram.ext import Application, ExtBot
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from storage import durable
from storage.durable import Claimed, Outgoing
from storage.uow import ambient

from .callbacks import card_of

log = logging.getLogger(__name__)


class Priority(IntEnum):
    """What goes out first: the answer to the person acting, then news for others, then reminders."""

    REPLY = 0
    NEWS = 1
    REMINDER = 2


# Calls recorded during a turn; anything else (getMe, setMyCommands…) goes to Telegram as it is.
# sendInvoice and refundStarPayment (PRODUCT §7) take JSON parameters only, so the outbox carries them: an
# invoice or a Stars refund is sent once the change it belongs to is committed, and retried after faults.
# A sendDocument *upload* can't be carried (its file is not a JSON parameter): bot/desk.py sends the ledger
# CSV itself after the turn.
_SENDS = {"sendMessage", "sendDocument", "sendPhoto", "sendInvoice", "refundStarPayment"}
_EDITS = {"editMessageText", "editMessageReplyMarkup"}


TOO_OLD = "too old"  # i18n: ok (an update's outcome in the inbox and the counts)


def person_of(update: object) -> int | None:
    """Whose updates these are: one person's are handled in order (their conversation is keyed by them)."""
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return None


@dataclass
class Turn:
    """What one update's handling has done so far; committed as one transaction."""

    update: Update | None  # None: the bot's own work (a reminder, an automatic release)
    session: AsyncSession
    person: int | None
    chat: int | None
    priority: Priority = Priority.NEWS  # of messages not to the person acting
    state: Any = None  # the person's conversation step (None: not in a conversation)
    data: dict[str, Any] = field(default_factory=dict)  # the person's draft
    outbox: list[Outgoing] = field(default_factory=list)
    answer: dict[str, Any] | None = None  # answerCallbackQuery's parameters, sent right after commit
    failed: BaseException | None = None
    committed: list[Callable[[], None]] = field(default_factory=list)  # run once the turn is committed
    handed: list[Claimed] = field(default_factory=list)  # its messages leased to this process's sender
    _hint: tuple[int, str] | None = None

    def record(self, method: str, params: dict[str, Any]) -> None:
        chat_id = int(params["chat_id"]) if "chat_id" in params else (self.chat or 0)
        ours = method in _EDITS or chat_id in (self.chat, self.person)
        hint_chat, hint = self._hint or (None, None)
        card = None
        if method in ("sendMessage", "editMessageText") and "reply_markup" in params:
            markup = params["reply_markup"]
            card = card_of(json.loads(markup) if isinstance(markup, str) else markup)
        self.outbox.append(
            Outgoing(chat_id, method, params, Priority.REPLY if ours else self.priority, hint_chat, hint, card)
        )

    @contextmanager
    def unreachable_hint(self, chat_id: int, text: str) -> Iterator[None]:
        """Messages recorded inside: if Telegram says their recipient blocked the bot (403), `chat_id`
        is told `text` (the actor learns the other party can't be reached)."""
        self._hint = (chat_id, text)
        try:
            yield
        finally:
            self._hint = None

    def fail(self, err: BaseException) -> None:
        """The handling raised: what it recorded is dropped with its transaction; only what is recorded
        from now on (the apology) goes out."""
        self.failed = err
        self.outbox.clear()
        self.answer = None


_TURN: ContextVar[Turn | None] = ContextVar("turn", default=None)


def current_turn() -> Turn | None:
    return _TURN.get()


def _json_parameters(data: dict[str, Any]) -> dict[str, Any]:
    return RequestData([RequestParameter.from_input(k, v) for k, v in data.items()]).json_parameters


class RecordingBot(ExtBot):
    """During a turn, sends and edits become outbox rows and the press's answer waits for the commit;
    the handler gets the answer Telegram would give (a message, or True for an edit)."""

    async def _do_post(
        self,
        endpoint: str,
        data: dict[str, Any],
        *,
        read_timeout: Any = DEFAULT_NONE,
        write_timeout: Any = DEFAULT_NONE,
        connect_timeout: Any = DEFAULT_NONE,
        pool_timeout: Any = DEFAULT_NONE,
    ) -> Any:
        turn = _TURN.get()
        if turn is None or not (endpoint in _SENDS or endpoint in _EDITS or endpoint == "answerCallbackQuery"):
            result = await super()._do_post(
                endpoint,
                data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
            if endpoint == "getUpdates" and self._raw_updates is not None:  # kept for the inbox (get_updates)
                self._raw_updates.clear()
                if isinstance(result, list):
                    self._raw_updates.update(
                        (u["update_id"], u) for u in result if isinstance(u, dict) and "update_id" in u
                    )
            return result
        params = _json_parameters(data)
        if endpoint == "answerCallbackQuery":
            if turn.answer is None:  # Telegram takes one answer per press
                turn.answer = params
            return True
        turn.record(endpoint, params)
        if endpoint in _EDITS or endpoint == "refundStarPayment":
            return True  # as for an inline message: the handler keeps the message it had
        chat_id = int(params["chat_id"])
        return {
            "message_id": 0,  # not known until it is sent; nothing reads it
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
            "text": "",
        }

    _on_updates: Callable[[tuple[Update, ...], dict[int, Any]], Awaitable[None]] | None = None
    _raw_updates: dict[int, Any] | None = None  # the last getUpdates answer as Telegram sent it, by update_id

    def store_updates_with(self, store: Callable[[tuple[Update, ...], dict[int, Any]], Awaitable[None]]) -> None:
        """Each getUpdates answer is stored in the inbox by `store` (in one transaction) before it
        reaches the update queue (whose `put` then finds each update stored already). `store` gets the
        updates as Telegram sent them too: storing that JSON costs far less than serialising the objects."""
        with self._unfrozen():
            self._on_updates = store
            self._raw_updates = {}

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        updates = await super().get_updates(*args, **kwargs)
        raw = self._raw_updates
        if updates and self._on_updates is not None and raw is not None:
            try:
                await self._on_updates(updates, dict(raw))
            finally:
                raw.clear()
        return updates

    async def call(self, method: str, params: dict[str, Any], read_timeout: float | None = None) -> Any:
        """The sender's call: the recorded parameters as they are, straight to Telegram."""
        return await super()._do_post(
            method, dict(params), read_timeout=read_timeout if read_timeout is not None else DEFAULT_NONE
        )


@asynccontextmanager
async def background_turn(
    sessions: async_sessionmaker[AsyncSession], priority: Priority, wake_sender: Callable[[], None]
) -> AsyncIterator[Turn]:
    """The bot's own work as a turn: its change and the messages it sends commit together."""
    now = datetime.now(UTC)
    async with ambient(sessions) as session:
        turn = Turn(None, session, None, None, priority)
        token = _TURN.set(turn)
        try:
            yield turn
        finally:
            _TURN.reset(token)
        await durable.add_outgoing(session, turn.outbox, now)
    if turn.outbox:
        wake_sender()


class DurableQueue(asyncio.Queue):
    """Application.update_queue: an update is stored in the inbox before `put` returns, i.e. before
    python-telegram-bot acknowledges it (polling: the next getUpdates offset; webhook: the 200)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        super().__init__()
        self.sessions = sessions
        self._stored: set[int] = set()  # stored with their getUpdates batch, not yet put

    async def store_batch(self, updates: tuple[Update, ...], raw: dict[int, Any] | None = None) -> None:
        """Polling: one getUpdates answer stored in one transaction (RecordingBot.store_updates_with),
        as Telegram sent it where known. If that fails, each is stored by `put`, which tries until it
        succeeds."""
        now = datetime.now(UTC)
        raw = raw or {}
        rows = [
            (u.update_id, person_of(u), json.dumps(raw[u.update_id] if u.update_id in raw else u.to_dict()))
            for u in updates
        ]
        try:
            await durable.store_updates(self.sessions, rows, now)
        except Exception as err:
            log.warning("could not store %d update(s) together (%s); storing them one by one", len(rows), err)
            return
        self._stored.update(u.update_id for u in updates)

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and item.update_id in self._stored:
            self._stored.discard(item.update_id)
        elif isinstance(item, Update):
            payload = json.dumps(item.to_dict())
            # Until it is stored, nothing acknowledges it. A database that fails is tried again here:
            # python-telegram-bot's polling would end for good on an error from this call (webhook mode:
            # the request waits, and Telegram sends the update again if it gives up first).
            wait = 0.5
            while True:
                try:
                    await durable.store_update(
                        self.sessions, item.update_id, person_of(item), payload, datetime.now(UTC)
                    )
                    break
                except Exception as err:
                    log.warning("could not store update %s (%s); trying again in %.1f s", item.update_id, err, wait)
                    await asyncio.sleep(wait)
                    wait = min(wait * 2, 10.0)
        await super().put(item)

    def discard_waiting(self) -> int:
        """At shutdown: updates not begun stay in the inbox for the next process; they leave the queue."""
        n = 0
        while True:
            try:
                item = self.get_nowait()
            except asyncio.QueueEmpty:
                return n
            if isinstance(item, Update):
                n += 1
                self.task_done()
            else:  # the stop signal goes back
                self.put_nowait(item)
                self.task_done()
                return n


def _age(update: Update, received_at: datetime, now: datetime) -> timedelta:
    """How long ago the person did this: a message's own date, else when the bot received it."""
    message = update.effective_message if update.message is not None else None
    sent = message.date if message is not None and message.date is not None else received_at
    return now - min(sent, received_at)


class TurnRunner:
    """Runs each update as a turn (see the module's docstring), the person's earlier ones first."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        max_age: timedelta,
        wake_sender: Callable[[], None] = lambda: None,
        sender: Any = None,
    ) -> None:
        self.sessions = sessions
        self.max_age = max_age
        self.wake_sender = wake_sender
        # bot/sender.py's Sender: a turn leases its messages to it as it writes them, and hands them over
        # once it commits (no claim needed). None: they wait for a claim.
        self.sender = sender
        self.counts = {"handled": 0, "failed": 0, TOO_OLD: 0, "again": 0, "left": 0}
        self._answers: set[asyncio.Task[None]] = set()
        self.stopping = False  # set by a stop: updates not begun stay in the inbox for the next process
        self.requeued: set[int] = set()  # put back by a recovery: already counted by the per-person guard

    async def handle(self, app: Application, update: Update, process: Callable[[Update], Awaitable[None]]) -> None:
        person = person_of(update)
        try:
            while not self.stopping:
                done = await self._one(app, update, person, process)
                if done:
                    return
            self.counts["left"] += 1
        finally:
            self.requeued.discard(update.update_id)

    async def _one(
        self, app: Application, update: Update, person: int | None, process: Callable[[Update], Awaitable[None]]
    ) -> bool:
        """Handle the person's earliest unhandled update; True once `update` itself is handled."""
        now = datetime.now(UTC)
        turn: Turn | None = None
        current = update
        async with ambient(self.sessions) as session:
            await durable.lock_person(session, person)
            stored, earlier = await durable.turn_updates(session, update.update_id, person)
            if stored is None:  # not through the queue (tests drive process_update directly)
                await durable.ensure_update(session, update.update_id, person, json.dumps(update.to_dict()), now)
                stored = durable.StoredUpdate(update.update_id, "", now, False)
            elif stored.handled:
                self.counts["again"] += 1
                return True  # Telegram sent it again, or another process got to it first
            if earlier is not None:  # the person's earlier update, stored by a process that died or is slower
                current, stored = Update.de_json(json.loads(earlier.payload), app.bot), earlier
            age = _age(current, stored.received_at, now)
            if age > self.max_age:
                log.warning(
                    "update %s dropped: it is %d min old, older than INBOX_MAX_AGE_MINUTES (%d): its "
                    "person has moved on and a press that old can't be answered",
                    current.update_id,
                    age.total_seconds() // 60,
                    self.max_age.total_seconds() // 60,
                )
                await durable.mark_handled(session, current.update_id, TOO_OLD, now)
                self.counts[TOO_OLD] += 1
                return current is update
            turn = Turn(current, session, person, current.effective_chat.id if current.effective_chat else person)
            if person is not None:
                turn.state, turn.data = await durable.load_person(session, person)
                state_before, data_before = turn.state, json.dumps(turn.data, sort_keys=True, default=str)
            # The handling in a savepoint: if it fails, it is undone and the update is marked failed with
            # the apology in the same transaction, the person's lock still held (no other process can
            # take the update in between).
            handling = await session.begin_nested()
            token = _TURN.set(turn)
            try:
                await process(current)
            finally:
                _TURN.reset(token)
            if turn.failed is not None:
                await handling.rollback()
                turn.handed = await self._write_outbox(session, turn, now)
                await durable.mark_handled(session, current.update_id, "failed", now)
                self.counts["failed"] += 1
            else:
                await handling.commit()
                if person is not None:
                    state_changed = turn.state != state_before
                    data_changed = json.dumps(turn.data, sort_keys=True, default=str) != data_before
                    if state_changed or data_changed:
                        await durable.save_person(
                            session,
                            person,
                            turn.state,
                            turn.data,
                            state_changed=state_changed,
                            data_changed=data_changed,
                        )
                turn.handed = await self._write_outbox(session, turn, now)
                await durable.mark_handled(session, current.update_id, "handled", now)
                self.counts["handled"] += 1
        await self._after_commit(app, turn)
        return current is update

    async def _write_outbox(self, session: AsyncSession, turn: Turn, now: datetime) -> list[Claimed]:
        holder = self.sender.lease_holder() if self.sender is not None and turn.outbox else None
        if holder is None:
            await durable.add_outgoing(session, turn.outbox, now)
            return []
        return await durable.add_outgoing(session, turn.outbox, now, lease_to=holder, lease=self.sender.lease)

    def exempt(self, update: object) -> bool:
        """An update a recovery put back was counted by the per-person guard when it first came."""
        return isinstance(update, Update) and update.update_id in self.requeued

    async def dropped(self, update: object) -> None:
        """An update the per-person guard dropped: settled, so no recovery handles it later (one already
        handled keeps its outcome)."""
        if isinstance(update, Update):
            now = datetime.now(UTC)
            async with ambient(self.sessions) as session:
                if await durable.stored_update(session, update.update_id) is None:
                    await durable.ensure_update(
                        session, update.update_id, person_of(update), json.dumps(update.to_dict()), now
                    )
                await durable.mark_handled(session, update.update_id, "dropped", now)

    async def _after_commit(self, app: Application, turn: Turn | None) -> None:
        if turn is None:
            return
        if turn.failed is None:
            for done in turn.committed:
                done()
        if turn.handed:
            self.sender.hand(turn.handed)
        if len(turn.outbox) > len(turn.handed):
            self.wake_sender()  # some wait for a claim
        if turn.answer is not None:
            # Not awaited here: a slow answer must not hold up the person's next update.
            task = asyncio.get_running_loop().create_task(self._answer(app, turn.answer))
            self._answers.add(task)
            task.add_done_callback(self._answers.discard)

    @staticmethod
    async def _answer(app: Application, params: dict[str, Any]) -> None:
        try:
            await app.bot.call("answerCallbackQuery", params)
        except TelegramError as err:  # best effort: the change stands, the spinner stops by itself
            log.info("could not answer a button press (%s); what it did stands", err)

    async def settle_answers(self) -> None:
        """Wait for the answers to presses still on their way (a test's view, a clean stop)."""
        while self._answers:
            await asyncio.gather(*list(self._answers), return_exceptions=True)

    async def recover(self, app: Application, older_than: timedelta = timedelta(0)) -> int:
        """Updates stored but never handled (their process died) go back into the queue, in order (a
        person's later one handles their earlier ones first anyway)."""
        rows = await durable.unhandled(self.sessions, datetime.now(UTC) - older_than)
        for row in rows:
            # Straight into the queue: it is stored already.
            self.requeued.add(row.update_id)
            asyncio.Queue.put_nowait(app.update_queue, Update.de_json(json.loads(row.payload), app.bot))
        if rows:
            log.info("%d stored update(s) not handled yet: handling them now", len(rows))
        return len(rows)


class DurableApplication(Application):
    """python-telegram-bot's Application with each update handled as a turn, and a prompt stop."""

    async def process_update(self, update: object) -> None:
        runner: TurnRunner | None = self.bot_data.get("turns")
        if runner is None or not isinstance(update, Update) or current_turn() is not None:
            await super().process_update(update)
            return
        try:
            await runner.handle(self, update, super().process_update)
        except Exception:
            # The database failed around the handling (the handling's own errors are the turn's): the
            # update stays unhandled in the inbox and a recovery tries it again; no apology, since it may
            # yet take effect.
            log.exception("update %s could not be handled now; it stays in the inbox", update.update_id)

    async def stop(self) -> None:
        """Stop taking work: updates not begun stay in the inbox (the next process handles them),
        those in flight finish, the sender gets what is left of the grace period."""
        queue = self.update_queue
        if isinstance(queue, DurableQueue):
            left = queue.discard_waiting()
            if left:
                log.info("stopping: %d update(s) not begun are left to the next start", left)
        self.bot_data["stopping"] = True  # the reminder sweep stops between batches
        runner = self.bot_data.get("turns")
        if runner is not None:
            runner.stopping = True
        await super().stop()
        on_stop = self.bot_data.get("on_stop")
        if on_stop is not None:
            await on_stop()

    async def shutdown(self) -> None:
        sender = self.bot_data.get("sender")
        if sender is not None:
            await sender.stop(0)  # stopped already after a run; in tests, never started by `stop`
        checkpointer = self.bot_data.get("checkpointer")
        if checkpointer is not None:
            # Its thread and SQLite connection end with the application (post_shutdown runs only after
            # run_polling / run_webhook; an application shut down on its own, as in tests, kept them).
            checkpointer.stop()
        await super().shutdown()
