"""The inbox of updates and the outbox of messages (see bot/turn.py and bot/sender.py).

Inbox: an update is stored before Telegram's delivery of it is acknowledged; a turn takes the person's
lock, handles their earliest unhandled update and marks it handled in the same transaction as the
change it made. Outbox: the messages a change causes are rows written in that transaction; senders
claim each chat's oldest pending row with a lease, call Telegram, and settle it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .db import write_gate
from .models import ConversationRow, InboxRow, OutboxRow

_IN = InboxRow.__table__
_OUT = OutboxRow.__table__
_STATE = ConversationRow.__table__

# The keys python-telegram-bot's persistence used for a person's conversation and data: kept, so a step
# begun before an upgrade goes on after it.
CONVERSATION_KIND = "conv:main"
DATA_KIND = "user_data"


def _insert(session_or_dialect: str) -> Any:
    return pg_insert if session_or_dialect == "postgresql" else sqlite_insert


# ----- inbox -------------------------------------------------------------------------------------------
async def store_update(
    sessions: async_sessionmaker[AsyncSession], update_id: int, person_id: int | None, payload: str, now: datetime
) -> None:
    """Keep an update before it is acknowledged; storing one again (Telegram sent it again) is a no-op."""
    async with write_gate(sessions.kw["bind"]), sessions() as session, session.begin():
        await ensure_update(session, update_id, person_id, payload, now)


async def ensure_update(
    session: AsyncSession, update_id: int, person_id: int | None, payload: str, now: datetime
) -> None:
    conn = await session.connection()
    stmt = _insert(conn.dialect.name)(_IN).values(
        update_id=update_id, person_id=person_id, payload=payload, received_at=now
    )
    await conn.execute(stmt.on_conflict_do_nothing(index_elements=["update_id"]))


async def lock_person(session: AsyncSession, person_id: int | None) -> None:
    """PostgreSQL: one transaction at a time per person, across processes (released at commit).
    SQLite is one process, whose write gate already admits one transaction at a time."""
    conn = await session.connection()
    if conn.dialect.name == "postgresql" and person_id is not None:
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": person_id})


@dataclass(frozen=True, slots=True)
class StoredUpdate:
    update_id: int
    payload: str
    received_at: datetime
    handled: bool


async def stored_update(session: AsyncSession, update_id: int) -> StoredUpdate | None:
    row = (
        await session.execute(
            select(_IN.c.update_id, _IN.c.payload, _IN.c.received_at, _IN.c.handled_at).where(
                _IN.c.update_id == update_id
            )
        )
    ).first()
    return None if row is None else StoredUpdate(row[0], row[1], row[2], row[3] is not None)


async def earliest_unhandled(session: AsyncSession, person_id: int | None, before: int) -> StoredUpdate | None:
    """The person's oldest update not handled yet, if it is older than `before` (their order)."""
    if person_id is None:
        return None
    row = (
        await session.execute(
            select(_IN.c.update_id, _IN.c.payload, _IN.c.received_at)
            .where(_IN.c.person_id == person_id, _IN.c.handled_at.is_(None), _IN.c.update_id < before)
            .order_by(_IN.c.update_id)
            .limit(1)
        )
    ).first()
    return None if row is None else StoredUpdate(row[0], row[1], row[2], False)


async def mark_handled(session: AsyncSession, update_id: int, outcome: str, now: datetime) -> None:
    """Marks it handled; one handled already keeps its outcome."""
    await session.execute(
        update(_IN)
        .where(_IN.c.update_id == update_id, _IN.c.handled_at.is_(None))
        .values(handled_at=now, outcome=outcome)
    )


async def unhandled(
    sessions: async_sessionmaker[AsyncSession], received_before: datetime, limit: int = 1000
) -> list[StoredUpdate]:
    """Updates stored but not handled (their process died, or it is still at work on them), oldest first."""
    async with sessions() as session:
        rows = (
            await session.execute(
                select(_IN.c.update_id, _IN.c.payload, _IN.c.received_at)
                .where(_IN.c.handled_at.is_(None), _IN.c.received_at < received_before)
                .order_by(_IN.c.update_id)
                .limit(limit)
            )
        ).all()
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
    rows = (
        await session.execute(
            select(_STATE.c.kind, _STATE.c.value).where(
                or_(*(and_(_STATE.c.kind == kind, _STATE.c.key == key) for kind, key in keys.items()))
            )
        )
    ).all()
    found = {kind: json.loads(value) for kind, value in rows}
    data = found.get(DATA_KIND)
    return found.get(CONVERSATION_KIND), data if isinstance(data, dict) else {}


async def save_person(session: AsyncSession, person_id: int, state: Any, data: dict[str, Any] | None) -> None:
    """Write (or delete, for None / empty) the person's conversation state and data."""
    conn = await session.connection()
    keys = _person_keys(person_id)
    for kind, value in ((CONVERSATION_KIND, state), (DATA_KIND, data or None)):
        if value is None:
            await conn.execute(delete(_STATE).where(_STATE.c.kind == kind, _STATE.c.key == keys[kind]))
        else:
            stmt = _insert(conn.dialect.name)(_STATE).values(kind=kind, key=keys[kind], value=json.dumps(value))
            await conn.execute(
                stmt.on_conflict_do_update(index_elements=["kind", "key"], set_={"value": stmt.excluded.value})
            )


# ----- outbox ------------------------------------------------------------------------------------------
REMINDER_PRIORITY = 2  # bot/turn.py Priority.REMINDER: the lowest


@dataclass(slots=True)
class Outgoing:
    """A Bot API call to make once the transaction that wrote it commits."""

    chat_id: int
    method: str
    params: dict[str, Any]
    priority: int
    hint_chat: int | None = None
    hint: str | None = None


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


async def add_outgoing(session: AsyncSession, items: Sequence[Outgoing], now: datetime) -> None:
    if not items:
        return
    await session.execute(
        _OUT.insert(),
        [
            {
                "chat_id": o.chat_id,
                "priority": o.priority,
                "method": o.method,
                "params": json.dumps(o.params),
                "hint_chat": o.hint_chat,
                "hint": o.hint,
                "created_at": now,
                "not_before": now,
                "attempts": 0,
                "status": "pending",
                "maybe_sent": 0,
            }
            for o in items
        ],
    )


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
    earlier = _OUT.alias("earlier")
    heads = (
        select(_OUT)
        .where(
            _OUT.c.status == "pending",
            _OUT.c.not_before <= now,
            or_(_OUT.c.claimed_until.is_(None), _OUT.c.claimed_until < now),
            # One chat's messages in the order written, except that a reminder waiting never holds up an
            # answer or news to the same person (those keep their order among themselves).
            ~exists().where(
                earlier.c.status == "pending",
                earlier.c.chat_id == _OUT.c.chat_id,
                earlier.c.id < _OUT.c.id,
                or_(earlier.c.priority < REMINDER_PRIORITY, _OUT.c.priority >= REMINDER_PRIORITY),
            ),
        )
        .order_by(_OUT.c.priority, _OUT.c.id)
        .limit(limit)
    )
    busy = set(busy_chats)
    if busy:
        heads = heads.where(_OUT.c.chat_id.not_in(busy))
    if below is not None:
        heads = heads.where(_OUT.c.priority < below)
    out: list[Claimed] = []
    async with write_gate(sessions.kw["bind"]), sessions() as session, session.begin():
        rows = (await session.execute(heads)).mappings().all()
        for row in rows:
            lost = row["claimed_by"] is not None  # leased before and never settled: its sender died mid-call
            taken = await session.execute(
                update(_OUT)
                .where(
                    _OUT.c.id == row["id"],
                    _OUT.c.status == "pending",
                    or_(_OUT.c.claimed_until.is_(None), _OUT.c.claimed_until < now),
                )
                .values(claimed_by=me, claimed_until=now + lease, maybe_sent=_OUT.c.maybe_sent + (1 if lost else 0))
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another sender took it first
            out.append(
                Claimed(
                    row["id"],
                    row["chat_id"],
                    row["method"],
                    json.loads(row["params"]),
                    row["priority"],
                    row["attempts"],
                    row["hint_chat"],
                    row["hint"],
                    lost,
                )
            )
    return out


@dataclass(frozen=True, slots=True)
class Settled:
    id: int
    status: str  # sent, failed, or pending (to be tried again at `not_before`)
    not_before: datetime | None = None
    error: str | None = None
    maybe_sent: bool = False  # the call timed out: Telegram may have acted on it


async def settle(
    sessions: async_sessionmaker[AsyncSession], results: Sequence[Settled], now: datetime, me: str
) -> None:
    if not results:
        return
    async with write_gate(sessions.kw["bind"]), sessions() as session, session.begin():
        for r in results:
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
            # Only while the lease is ours: a row another sender took over after our lease ran out is theirs.
            await session.execute(update(_OUT).where(_OUT.c.id == r.id, _OUT.c.claimed_by == me).values(**values))


async def release(sessions: async_sessionmaker[AsyncSession], ids: Sequence[int], me: str) -> None:
    """Give back claims whose call never began (a stop): pending again at once, not counted as maybe sent."""
    async with write_gate(sessions.kw["bind"]), sessions() as session, session.begin():
        await session.execute(
            update(_OUT)
            .where(_OUT.c.id.in_(ids), _OUT.c.claimed_by == me, _OUT.c.status == "pending")
            .values(claimed_by=None, claimed_until=None)
        )


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
    async with sessions() as session:
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
