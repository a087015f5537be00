"""The inbox of updates and the outbox of messages (see bot/turn.py and bot/sender.py).

Inbox: an update is stored before Telegram's delivery of it is acknowledged; a turn takes the person's
lock, handles their earliest unhandled update and marks it handled in the same transaction as the
change it made. Outbox: the messages a change causes are rows written in that transaction; senders
claim each chat's oldest pending row with a lease, call Telegram, and settle it. A turn may lease its
own rows to its process's sender as it writes them (`add_outgoing(..., lease_to=)`), so that they need
no claim: the sender has them in hand once the turn commits.

Every statement here runs once per update or per message, so each is built once, with bound
parameters, and run on the connection: building a statement and its cache key on every call cost more
than running it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Delete, Insert, and_, bindparam, case, delete, exists, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .db import READ_ONLY, connection_of, write_gate
from .models import ConversationRow, InboxRow, LiveCardRow, OutboxRow

_IN = InboxRow.__table__
_OUT = OutboxRow.__table__
_STATE = ConversationRow.__table__
_CARDS = LiveCardRow.__table__

# The keys python-telegram-bot's persistence used for a person's conversation and data: kept, so a step
# begun before an upgrade goes on after it.
CONVERSATION_KIND = "conv:main"
DATA_KIND = "user_data"
REMINDER_PRIORITY = 2  # bot/turn.py Priority.REMINDER: the lowest


def _by_dialect(build: Any) -> dict[str, Any]:
    return {"postgresql": build(pg_insert), "sqlite": build(sqlite_insert)}


# ----- the statements, built once -------------------------------------------------------------------
_STORE: dict[str, Insert] = _by_dialect(
    lambda ins: (
        ins(_IN)
        .values(
            update_id=bindparam("update_id"),
            person_id=bindparam("person_id"),
            payload=bindparam("payload"),
            received_at=bindparam("received_at"),
        )
        .on_conflict_do_nothing(index_elements=["update_id"])
    )
)
_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_STORED = select(_IN.c.update_id, _IN.c.payload, _IN.c.received_at, _IN.c.handled_at).where(
    _IN.c.update_id == bindparam("update_id")
)
_EARLIEST = (
    select(_IN.c.update_id, _IN.c.payload, _IN.c.received_at)
    .where(_IN.c.person_id == bindparam("person_id"), _IN.c.handled_at.is_(None), _IN.c.update_id < bindparam("before"))
    .order_by(_IN.c.update_id)
    .limit(1)
)
# The update and, in one read, the person's earliest update not handled yet from before it (if any).
_TURN_ROWS = select(_IN.c.update_id, _IN.c.payload, _IN.c.received_at, _IN.c.handled_at).where(
    _IN.c.update_id.in_(
        [
            bindparam("update_id"),
            select(func.min(_IN.c.update_id))
            .where(
                _IN.c.person_id == bindparam("person_id"),
                _IN.c.handled_at.is_(None),
                _IN.c.update_id < bindparam("update_id"),
            )
            .scalar_subquery(),
        ]
    )
)
_MARK = (
    update(_IN)
    .where(_IN.c.update_id == bindparam("b_update_id"), _IN.c.handled_at.is_(None))
    .values(handled_at=bindparam("b_now"), outcome=bindparam("b_outcome"))
)
_UNHANDLED = (
    select(_IN.c.update_id, _IN.c.payload, _IN.c.received_at)
    .where(_IN.c.handled_at.is_(None), _IN.c.received_at < bindparam("before"))
    .order_by(_IN.c.update_id)
    .limit(bindparam("limit"))
)
_LOAD_PERSON = select(_STATE.c.kind, _STATE.c.value).where(
    or_(
        and_(_STATE.c.kind == CONVERSATION_KIND, _STATE.c.key == bindparam("conv_key")),
        and_(_STATE.c.kind == DATA_KIND, _STATE.c.key == bindparam("data_key")),
    )
)
_DELETE_STATE: Delete = delete(_STATE).where(_STATE.c.kind == bindparam("b_kind"), _STATE.c.key == bindparam("b_key"))


def _upsert_state(ins: Any) -> Any:
    stmt = ins(_STATE).values(kind=bindparam("b_kind"), key=bindparam("b_key"), value=bindparam("b_value"))
    return stmt.on_conflict_do_update(index_elements=["kind", "key"], set_={"value": stmt.excluded.value})


_SAVE_STATE: dict[str, Insert] = _by_dialect(_upsert_state)
_OUTGOING_COLUMNS = (
    "chat_id",
    "priority",
    "method",
    "params",
    "hint_chat",
    "hint",
    "created_at",
    "not_before",
    "claimed_by",
    "claimed_until",
    "card_contract_id",
)
_ADD_OUTGOING = _OUT.insert().values(
    {**{c: bindparam(c) for c in _OUTGOING_COLUMNS}, "attempts": 0, "status": "pending", "maybe_sent": 0}
)
_ADD_LEASED = _ADD_OUTGOING.returning(_OUT.c.id, sort_by_parameter_order=True)
# The chats among these that have a message pending which is not leased to this sender: a message
# written now for one of them must wait its turn behind it (it goes through the claim).
_CHATS_WAITING = (
    select(_OUT.c.chat_id)
    .where(
        _OUT.c.status == "pending",
        _OUT.c.chat_id.in_(bindparam("chats", expanding=True)),
        or_(_OUT.c.claimed_by.is_(None), _OUT.c.claimed_by != bindparam("me")),
    )
    .distinct()
)
_EARLIER = _OUT.alias("earlier")
_HEADS = (
    select(
        _OUT.c.id,
        _OUT.c.chat_id,
        _OUT.c.method,
        _OUT.c.params,
        _OUT.c.priority,
        _OUT.c.attempts,
        _OUT.c.hint_chat,
        _OUT.c.hint,
        _OUT.c.claimed_by,
        _OUT.c.card_contract_id,
    )
    .where(
        _OUT.c.status == "pending",
        _OUT.c.not_before <= bindparam("now"),
        or_(_OUT.c.claimed_until.is_(None), _OUT.c.claimed_until < bindparam("now")),
        # One chat's messages in the order written, except that a reminder waiting never holds up an
        # answer or news to the same person (those keep their order among themselves).
        ~exists().where(
            _EARLIER.c.status == "pending",
            _EARLIER.c.chat_id == _OUT.c.chat_id,
            _EARLIER.c.id < _OUT.c.id,
            or_(_EARLIER.c.priority < REMINDER_PRIORITY, _OUT.c.priority >= REMINDER_PRIORITY),
        ),
        _OUT.c.chat_id.not_in(bindparam("busy", expanding=True)),
        _OUT.c.priority < bindparam("below"),
    )
    .order_by(_OUT.c.priority, _OUT.c.id)
    .limit(bindparam("limit"))
)
_TAKE = (
    update(_OUT)
    .where(
        _OUT.c.id.in_(bindparam("ids", expanding=True)),
        _OUT.c.status == "pending",
        or_(_OUT.c.claimed_until.is_(None), _OUT.c.claimed_until < bindparam("now")),
    )
    .values(
        claimed_by=bindparam("me"),
        claimed_until=bindparam("until"),
        # Leased before and never settled: its sender died mid-call, so this call may repeat it.
        maybe_sent=_OUT.c.maybe_sent + case((_OUT.c.claimed_by.is_not(None), 1), else_=0),
    )
    .returning(_OUT.c.id)
)
_SENT = (
    update(_OUT)
    .where(_OUT.c.id.in_(bindparam("ids", expanding=True)), _OUT.c.claimed_by == bindparam("me"))
    .values(
        claimed_by=None,
        claimed_until=None,
        attempts=_OUT.c.attempts + 1,
        status="sent",
        sent_at=bindparam("now"),
    )
)
_LIVE_CARD = select(_CARDS.c.message_id, _CARDS.c.digest).where(
    _CARDS.c.chat_id == bindparam("chat_id"), _CARDS.c.contract_id == bindparam("contract_id")
)


def _card_upsert(ins: Any) -> Any:
    stmt = ins(_CARDS).values(
        chat_id=bindparam("chat_id"),
        contract_id=bindparam("contract_id"),
        message_id=bindparam("message_id"),
        digest=bindparam("digest"),
    )
    return stmt.on_conflict_do_update(
        index_elements=["chat_id", "contract_id"],
        set_={"message_id": stmt.excluded.message_id, "digest": stmt.excluded.digest},
    )


_SET_LIVE_CARD: dict[str, Insert] = _by_dialect(_card_upsert)
_RELEASE = (
    update(_OUT)
    .where(
        _OUT.c.id.in_(bindparam("ids", expanding=True)),
        _OUT.c.claimed_by == bindparam("me"),
        _OUT.c.status == "pending",
    )
    .values(claimed_by=None, claimed_until=None)
)


# ----- inbox -------------------------------------------------------------------------------------------
async def store_update(
    sessions: async_sessionmaker[AsyncSession], update_id: int, person_id: int | None, payload: str, now: datetime
) -> None:
    """Keep an update before it is acknowledged; storing one again (Telegram sent it again) is a no-op."""
    await store_updates(sessions, [(update_id, person_id, payload)], now)


async def store_updates(
    sessions: async_sessionmaker[AsyncSession], updates: Sequence[tuple[int, int | None, str]], now: datetime
) -> None:
    """Keep a batch of updates (one getUpdates answer) in one transaction."""
    if not updates:
        return
    async with write_gate(sessions.kw["bind"]), sessions() as session, session.begin():
        conn = await connection_of(session)
        await conn.execute(
            _STORE[conn.dialect.name],
            [{"update_id": u, "person_id": p, "payload": payload, "received_at": now} for u, p, payload in updates],
        )


async def ensure_update(
    session: AsyncSession, update_id: int, person_id: int | None, payload: str, now: datetime
) -> None:
    conn = await connection_of(session)
    await conn.execute(
        _STORE[conn.dialect.name],
        {"update_id": update_id, "person_id": person_id, "payload": payload, "received_at": now},
    )


async def lock_person(session: AsyncSession, person_id: int | None) -> None:
    """PostgreSQL: one transaction at a time per person, across processes (released at commit).
    SQLite is one process, whose write gate already admits one transaction at a time."""
    conn = await connection_of(session)
    if conn.dialect.name == "postgresql" and person_id is not None:
        await conn.execute(_LOCK, {"k": person_id})


@dataclass(frozen=True, slots=True)
class StoredUpdate:
    update_id: int
    payload: str
    received_at: datetime
    handled: bool


async def stored_update(session: AsyncSession, update_id: int) -> StoredUpdate | None:
    conn = await connection_of(session)
    row = (await conn.execute(_STORED, {"update_id": update_id})).first()
    return None if row is None else StoredUpdate(row[0], row[1], row[2], row[3] is not None)


async def turn_updates(
    session: AsyncSession, update_id: int, person_id: int | None
) -> tuple[StoredUpdate | None, StoredUpdate | None]:
    """The update as stored (None: not stored) and the person's earliest unhandled update from before it
    (None: there is none), in one read: `stored_update` and `earliest_unhandled` together."""
    conn = await connection_of(session)
    this = earlier = None
    for row in (await conn.execute(_TURN_ROWS, {"update_id": update_id, "person_id": person_id})).all():
        found = StoredUpdate(row[0], row[1], row[2], row[3] is not None)
        if found.update_id == update_id:
            this = found
        else:
            earlier = found
    return this, earlier


async def earliest_unhandled(session: AsyncSession, person_id: int | None, before: int) -> StoredUpdate | None:
    """The person's oldest update not handled yet, if it is older than `before` (their order)."""
    if person_id is None:
        return None
    conn = await connection_of(session)
    row = (await conn.execute(_EARLIEST, {"person_id": person_id, "before": before})).first()
    return None if row is None else StoredUpdate(row[0], row[1], row[2], False)


async def mark_handled(session: AsyncSession, update_id: int, outcome: str, now: datetime) -> None:
    """Marks it handled; one handled already keeps its outcome."""
    conn = await connection_of(session)
    await conn.execute(_MARK, {"b_update_id": update_id, "b_now": now, "b_outcome": outcome})


async def unhandled(
    sessions: async_sessionmaker[AsyncSession], received_before: datetime, limit: int = 1000
) -> list[StoredUpdate]:
    """Updates stored but not handled (their process died, or it is still at work on them), oldest first."""
    async with sessions() as session:
        conn = await session.connection(execution_options=READ_ONLY)
        rows = (await conn.execute(_UNHANDLED, {"before": received_before, "limit": limit})).all()
        return [StoredUpdate(r[0], r[1], r[2], False) for r in rows]


async def inbox_counts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        rows = (await session.execute(select(_IN.c.outcome, func.count()).group_by(_IN.c.outcome))).all()
        return {(outcome or "unhandled"): n for outcome, n in rows}


# ----- a person's conversation step and data -----------------------------------------------------------
def _person_keys(person_id: int) -> dict[str, str]:
    return {CONVERSATION_KIND: json.dumps([person_id]), DATA_KIND: str(person_id)}


async def load_person(session: AsyncSession, person_id: int) -> tuple[Any, dict[str, Any]]:
    """The person's conversation state (None: no conversation) and their data, as stored now."""
    keys = _person_keys(person_id)
    conn = await connection_of(session)
    rows = (await conn.execute(_LOAD_PERSON, {"conv_key": keys[CONVERSATION_KIND], "data_key": keys[DATA_KIND]})).all()
    found = {kind: json.loads(value) for kind, value in rows}
    data = found.get(DATA_KIND)
    return found.get(CONVERSATION_KIND), data if isinstance(data, dict) else {}


async def save_person(
    session: AsyncSession,
    person_id: int,
    state: Any,
    data: dict[str, Any] | None,
    *,
    state_changed: bool = True,
    data_changed: bool = True,
) -> None:
    """Write (or delete, for None / empty) the person's conversation state and data (only the one that
    changed, when the caller says which)."""
    conn = await connection_of(session)
    keys = _person_keys(person_id)
    for kind, value, changed in (
        (CONVERSATION_KIND, state, state_changed),
        (DATA_KIND, data or None, data_changed),
    ):
        if not changed:
            continue
        if value is None:
            await conn.execute(_DELETE_STATE, {"b_kind": kind, "b_key": keys[kind]})
        else:
            await conn.execute(
                _SAVE_STATE[conn.dialect.name], {"b_kind": kind, "b_key": keys[kind], "b_value": json.dumps(value)}
            )


# ----- outbox ------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Outgoing:
    """A Bot API call to make once the transaction that wrote it commits."""

    chat_id: int
    method: str
    params: dict[str, Any]
    priority: int
    hint_chat: int | None = None
    hint: str | None = None
    card: int | None = None  # OutboxRow.card_contract_id: a contract's card, or (negative) a card's retirement


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    chat_id: int
    method: str
    params: dict[str, Any]
    priority: int
    attempts: int
    hint_chat: int | None
    hint: str | None
    maybe_sent: bool  # an earlier call's answer was lost: this one may repeat it
    handed: bool = False  # leased by the turn that wrote it (no claim)
    card: int | None = None


def _outgoing_row(o: Outgoing, now: datetime, me: str | None, until: datetime | None) -> dict[str, Any]:
    return {
        "chat_id": o.chat_id,
        "priority": o.priority,
        "method": o.method,
        "params": json.dumps(o.params),
        "hint_chat": o.hint_chat,
        "hint": o.hint,
        "created_at": now,
        "not_before": now,
        "claimed_by": me,
        "claimed_until": until,
        "card_contract_id": o.card,
    }


async def add_outgoing(
    session: AsyncSession,
    items: Sequence[Outgoing],
    now: datetime,
    lease_to: str | None = None,
    lease: timedelta | None = None,
) -> list[Claimed]:
    """Write the messages. With `lease_to`, those to chats with nothing else pending (but what that
    sender holds already) are leased to it and returned: it sends them once this transaction commits,
    with no claim. The others wait for a claim, behind what their chat has pending."""
    if not items:
        return []
    conn = await connection_of(session)
    if lease_to is None or lease is None:
        await conn.execute(_ADD_OUTGOING, [_outgoing_row(o, now, None, None) for o in items])
        return []
    chats = sorted({o.chat_id for o in items})
    waiting = set((await conn.execute(_CHATS_WAITING, {"chats": chats, "me": lease_to})).scalars())
    later = [o for o in items if o.chat_id in waiting]
    if later:
        await conn.execute(_ADD_OUTGOING, [_outgoing_row(o, now, None, None) for o in later])
    mine = [o for o in items if o.chat_id not in waiting]
    if not mine:
        return []
    until = now + lease
    ids = (await conn.execute(_ADD_LEASED, [_outgoing_row(o, now, lease_to, until) for o in mine])).scalars().all()
    return [
        Claimed(i, o.chat_id, o.method, o.params, o.priority, 0, o.hint_chat, o.hint, False, True, o.card)
        for i, o in zip(ids, mine, strict=True)
    ]


async def claim(
    sessions: async_sessionmaker[AsyncSession],
    me: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    busy_chats: Iterable[int] = (),
    below: int | None = None,
) -> list[Claimed]:
    """Each chat's oldest pending message that is due and not leased to a live sender, best priority
    first; leased to `me`. One chat's messages go one at a time, in the order they were written."""
    params = {"now": now, "busy": list(busy_chats), "below": below if below is not None else 1 << 30, "limit": limit}
    async with write_gate(sessions.kw["bind"]), sessions() as session, session.begin():
        conn = await connection_of(session)
        rows = (await conn.execute(_HEADS, params)).all()
        if not rows:
            return []
        taken = set(
            (await conn.execute(_TAKE, {"ids": [r.id for r in rows], "now": now, "me": me, "until": now + lease}))
            .scalars()
            .all()
        )
    # A row another sender took between the read and the update (PostgreSQL) is theirs.
    return [
        Claimed(
            r.id,
            r.chat_id,
            r.method,
            json.loads(r.params),
            r.priority,
            r.attempts,
            r.hint_chat,
            r.hint,
            r.claimed_by is not None,
            card=r.card_contract_id,
        )
        for r in rows
        if r.id in taken
    ]


@dataclass(frozen=True, slots=True)
class Settled:
    id: int
    status: str  # sent, failed, or pending (to be tried again at `not_before`)
    not_before: datetime | None = None
    error: str | None = None
    maybe_sent: bool = False  # the call timed out: Telegram may have acted on it
    card: tuple[int, int, int, str] | None = None  # (chat, contract, message, digest): this card was delivered


async def settle(
    sessions: async_sessionmaker[AsyncSession],
    results: Sequence[Settled],
    now: datetime,
    me: str,
    retire: Callable[[int, int, int], Outgoing] | None = None,
) -> None:
    """Record what the calls did. A card delivered becomes its chat's live card of its contract; the
    live card before it, if another message, is retired (`retire(chat, contract, message)` says how) in
    the same transaction."""
    if not results:
        return
    async with write_gate(sessions.kw["bind"]), sessions() as session, session.begin():
        conn = await connection_of(session)
        retirements = []
        for r in results:
            if r.card is None:
                continue
            chat, contract, message, digest = r.card
            key = {"chat_id": chat, "contract_id": contract}
            live = (await conn.execute(_LIVE_CARD, key)).first()
            before = live[0] if live is not None else None
            if live is not None and tuple(live) == (message, digest):
                continue
            await conn.execute(_SET_LIVE_CARD[conn.dialect.name], {**key, "message_id": message, "digest": digest})
            if before is not None and before != message and retire is not None:
                retirements.append(_outgoing_row(retire(chat, contract, before), now, None, None))
        if retirements:
            await conn.execute(_ADD_OUTGOING, retirements)
        # Only while the lease is ours: a row another sender took over after our lease ran out is theirs.
        sent = [r.id for r in results if r.status == "sent" and r.error is None and not r.maybe_sent]
        if sent:
            await conn.execute(_SENT, {"ids": sent, "me": me, "now": now})
        for r in results:
            if r.status == "sent" and r.error is None and not r.maybe_sent:
                continue
            values: dict[str, Any] = {"claimed_by": None, "claimed_until": None, "attempts": _OUT.c.attempts + 1}
            if r.status == "pending":
                values["not_before"] = r.not_before or now
            else:
                values["status"] = r.status
                values["sent_at"] = now if r.status == "sent" else None
            if r.error is not None:
                values["error"] = r.error[:200]
            if r.maybe_sent:
                values["maybe_sent"] = _OUT.c.maybe_sent + 1
            await conn.execute(update(_OUT).where(_OUT.c.id == r.id, _OUT.c.claimed_by == me).values(**values))


async def live_card(session: AsyncSession, chat_id: int, contract_id: int) -> tuple[int, str | None] | None:
    """The chat's live card of the contract, if one was delivered: its message and the digest of what
    it shows."""
    conn = await connection_of(session)
    row = (await conn.execute(_LIVE_CARD, {"chat_id": chat_id, "contract_id": contract_id})).first()
    return None if row is None else (row[0], row[1])


async def live_card_now(
    sessions: async_sessionmaker[AsyncSession], chat_id: int, contract_id: int
) -> tuple[int, str | None] | None:
    """`live_card` as last committed, read on its own (the sender's): it waits for no write in progress."""
    async with sessions() as session:
        conn = await session.connection(execution_options=READ_ONLY)
        row = (await conn.execute(_LIVE_CARD, {"chat_id": chat_id, "contract_id": contract_id})).first()
        return None if row is None else (row[0], row[1])


async def release(sessions: async_sessionmaker[AsyncSession], ids: Sequence[int], me: str) -> None:
    """Give back claims whose call never began (a stop): pending again at once, not counted as maybe sent."""
    if not ids:
        return
    async with write_gate(sessions.kw["bind"]), sessions() as session, session.begin():
        conn = await connection_of(session)
        await conn.execute(_RELEASE, {"ids": list(ids), "me": me})


async def end_leases(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    """SQLite is one process: at start, every lease is a dead process's, ended now instead of waiting
    (claimed_by stays, so those messages count as maybe sent)."""
    async with write_gate(sessions.kw["bind"]), sessions() as session, session.begin():
        result = await session.execute(
            update(_OUT)
            .where(_OUT.c.status == "pending", _OUT.c.claimed_by.is_not(None))
            .values(claimed_until=now - timedelta(seconds=1))
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


async def next_due(sessions: async_sessionmaker[AsyncSession]) -> datetime | None:
    """When the earliest pending message may go (for the sender's sleep)."""
    async with sessions() as session:  # SQLite: after the turn being written, if any (drain() counts on it)
        due: datetime | None = (
            await session.execute(select(func.min(_OUT.c.not_before)).where(_OUT.c.status == "pending"))
        ).scalar()
        return due


async def outbox_counts(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        rows = (
            await session.execute(
                select(_OUT.c.status, func.count(), func.coalesce(func.sum(_OUT.c.maybe_sent), 0)).group_by(
                    _OUT.c.status
                )
            )
        ).all()
        counts = {status: n for status, n, _ in rows}
        counts["maybe_sent"] = sum(int(m) for _, _, m in rows)
        return counts


async def purge(sessions: async_sessionmaker[AsyncSession], older_than: datetime) -> None:
    """Handled updates and settled messages are kept a while (to recognise Telegram sending an update
    again, and for counts), then deleted."""
    async with write_gate(sessions.kw["bind"]), sessions() as session, session.begin():
        await session.execute(delete(_IN).where(_IN.c.handled_at < older_than))
        await session.execute(delete(_OUT).where(_OUT.c.status != "pending", _OUT.c.created_at < older_than))
