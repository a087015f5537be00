"""Engine set-up for SQLite (WAL, busy timeout, write-locking transactions) and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from pathlib import Path
from typing import Any, cast
from weakref import WeakKeyDictionary, WeakSet

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from . import sqlite_inline
from .sqlite_inline import WalCheckpointer, inline_creator

log = logging.getLogger(__name__)

DEFAULT_SQLITE_FILE = "milestone.sqlite3"
SQLITE_BUSY_TIMEOUT_S = 30
WAL_AUTOCHECKPOINT_PAGES = 10_000


def default_database_url(workdir: str | Path = ".") -> str:
    return f"sqlite+aiosqlite:///{Path(workdir).resolve() / DEFAULT_SQLITE_FILE}"


def normalize_url(url: str) -> str:
    """Accept the plain URLs people paste (postgres://, postgresql://, sqlite://) and pick async drivers."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _is_sqlite_file(url: URL) -> bool:
    """A plain SQLite file URL: these get inline connections (aiosqlite stays for :memory: and URI forms)."""
    return url.get_backend_name() == "sqlite" and bool(url.database) and url.database != ":memory:" and not url.query


_inline_engines: WeakSet[Engine] = WeakSet()


def _inline_usable() -> bool:
    reason = sqlite_inline.unavailable_reason()
    if reason is not None:
        log.warning(
            "IO_SHIMS: the inline SQLite connection does not fit the installed libraries (%s); "
            "using stock aiosqlite instead",
            reason,
        )
    return reason is None


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10, inline: bool = True) -> AsyncEngine:
    """inline: an SQLite file gets the inline connection (sqlite_inline; the IO_SHIMS setting), unless
    the installed aiosqlite / SQLAlchemy no longer fit it (a warning says so). inline=False, :memory:
    and URI forms: SQLAlchemy's stock aiosqlite dialect. PostgreSQL ignores it."""
    url = normalize_url(url)
    if is_sqlite(url):
        parsed = make_url(url)
        inline = inline and _is_sqlite_file(parsed) and _inline_usable()
        extra: dict[str, Any] = (  # inline: a file, so database is set
            {"async_creator": inline_creator(cast(str, parsed.database), busy_timeout_s=SQLITE_BUSY_TIMEOUT_S)}
            if inline
            else {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
        )
        engine = create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=20, **extra)
        _tune_sqlite(engine, busy_timeout_ms=0 if inline else SQLITE_BUSY_TIMEOUT_S * 1000)
        if inline:
            _inline_engines.add(engine.sync_engine)
        return engine
    return create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=20, pool_pre_ping=True)


def _tune_sqlite(engine: AsyncEngine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:  # pragma: no cover - exercised by every SQLite test
        # Take over transaction control from the sqlite3 module so that BEGIN IMMEDIATE is ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # 0 for inline connections: they wait for other processes' locks in asyncio (sqlite_inline).
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        if busy_timeout_ms == 0:
            # Inline: checkpoints are the WalCheckpointer's job (off the event loop); a commit runs
            # one itself only if the WAL reaches ~40 MB, and the file is trimmed back to 64 MB.
            cursor.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
            cursor.execute("PRAGMA journal_size_limit=67108864")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(conn: Connection) -> None:  # pragma: no cover
        # A deferred transaction that reads and then writes can fail with "database is locked" at
        # once (the busy handler can't help a read lock upgrading); IMMEDIATE takes the write lock
        # up front and waits for it (in asyncio for inline connections, see sqlite_inline).
        # A transaction that only reads (`READ_ONLY`) begins deferred: in WAL mode it reads the last
        # commit without waiting for the writer.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY_OPTION) else "BEGIN IMMEDIATE")


READ_ONLY_OPTION = "milestone_read_only"
READ_ONLY = {READ_ONLY_OPTION: True}  # session.connection(execution_options=READ_ONLY): a read, no write lock


def uses_inline(engine: AsyncEngine) -> bool:
    """Whether this engine's connections are inline ones (sqlite_inline) rather than aiosqlite's."""
    return engine.sync_engine in _inline_engines


def start_wal_checkpointer(engine: AsyncEngine, interval_s: float = 1.0) -> WalCheckpointer | None:
    """For an SQLite file on inline connections: checkpoints in a thread (see WalCheckpointer).
    None for PostgreSQL, in-memory SQLite or stock aiosqlite (its commits checkpoint on its thread)."""
    if not uses_inline(engine):
        return None
    return WalCheckpointer(cast(str, engine.url.database), interval_s).start()  # inline: a file


class _NoGate:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


_NO_GATE = _NoGate()
_gates: WeakKeyDictionary[Engine, asyncio.Lock] = WeakKeyDictionary()


def write_gate(engine: AsyncEngine) -> asyncio.Lock | _NoGate:
    """SQLite: one transaction at a time per process, queued in asyncio. Without it, connections of
    one process contend for SQLite's write lock and its busy handler sleeps (1, 2, 5 ... 100 ms)
    while the lock is free again after a millisecond. Other processes still meet the busy timeout.
    PostgreSQL needs none: row locks and the version check do the work."""
    if engine.dialect.name != "sqlite":
        return _NO_GATE
    gate = _gates.get(engine.sync_engine)
    if gate is None:
        gate = _gates[engine.sync_engine] = asyncio.Lock()
    return gate


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


# The ambient transaction's session and its connection (storage/uow.py `ambient`): a turn runs a dozen
# statements on one connection, and asking the session for it each time (a greenlet and the ORM's
# transaction bookkeeping) cost more than most of those statements.
_HELD: ContextVar[list[Any] | None] = ContextVar("held_connection", default=None)


async def connection_of(session: AsyncSession) -> AsyncConnection:
    """`session.connection()`, without asking again inside the ambient transaction while its innermost
    savepoint stays the same. A savepoint begun since is asked for once: the session emits SAVEPOINT
    only when its connection is first asked for, so statements run past the session would run outside it."""
    held = _HELD.get()
    if held is None or held[0] is not session:
        return await session.connection()
    nested = session.sync_session.get_nested_transaction()
    if held[1] is not nested:
        held[1], held[2] = nested, await session.connection()
    conn: AsyncConnection = held[2]
    return conn


def hold_connection(session: AsyncSession, conn: AsyncConnection) -> object:
    """Remember the ambient transaction's connection; returns the token to reset."""
    return _HELD.set([session, session.sync_session.get_nested_transaction(), conn])


def release_connection(token: object) -> None:
    _HELD.reset(token)  # type: ignore[arg-type]
