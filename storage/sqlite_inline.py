"""SQLite for SQLAlchemy's asyncio layer without a thread hop per statement.

aiosqlite runs every call on a worker thread and wakes the event loop when it is done: about 0.65 ms
per statement on the project's VM, most of it the hand-over, while the statement itself (a local file,
WAL, indexed lookups of a few rows) takes tens of microseconds. This module gives SQLAlchemy's
aiosqlite dialect (through its documented ``async_creator`` hook) a connection with the same
coroutine interface that runs each statement right away in the event loop's thread.

What would block the loop is waiting for a lock held by another process. So SQLite's own busy
handler is off (busy_timeout 0) and the waiting happens here, in asyncio: a statement that meets
SQLITE_BUSY where a retry is safe (outside a transaction, which includes BEGIN IMMEDIATE itself, or
a COMMIT) sleeps with asyncio and tries again, up to the busy timeout. Inside a BEGIN IMMEDIATE
transaction on a WAL database no statement waits for a lock: the write lock is already held and
readers never block writers.

The stand-in depends on names that are private on both sides: SQLAlchemy's adapter reaches into
aiosqlite's connection (``_conn``, ``_tx``, ``_connection``) and InlineConnection offers the same.
``unavailable_reason`` checks both against the installed libraries; storage.db falls back to the
stock aiosqlite connection, with a warning, when they no longer match.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import re
import sqlite3
import threading
from collections.abc import Callable, Coroutine
from typing import Any

SQLITE_BUSY = 5
_FIRST_BACKOFF_S = 0.0005
_MAX_BACKOFF_S = 0.02
# aiosqlite.Connection's private names that SQLAlchemy's aiosqlite adapter uses (aiosqlite 0.22.1,
# SQLAlchemy 2.1): should aiosqlite rename them, the adapter follows and InlineConnection no longer fits.
AIOSQLITE_PRIVATE = ("_conn", "_connection", "_tx")


def _is_busy(error: sqlite3.OperationalError) -> bool:
    """Another connection holds the lock (SQLITE_BUSY, "database is locked"). Not SQLITE_LOCKED: a
    conflict within this same connection, which waiting cannot resolve."""
    return getattr(error, "sqlite_errorcode", 0) & 0xFF == SQLITE_BUSY


class InlineCursor:
    __slots__ = ("_owner", "_cursor")

    def __init__(self, owner: InlineConnection) -> None:
        self._owner = owner
        self._cursor = owner._conn.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        await self._owner._run(self._cursor.execute, sql, parameters, retry_sql=sql)
        return self

    async def executemany(self, sql: str, seq_of_parameters: Any) -> InlineCursor:
        # A list, so that a retry after SQLITE_BUSY sees every row again. (SQLAlchemy runs executemany
        # inside a BEGIN IMMEDIATE transaction, where it is never retried; outside one each row
        # would commit on its own and a retry could repeat the rows before the busy one.)
        await self._owner._run(self._cursor.executemany, sql, list(seq_of_parameters), retry_sql=sql)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def setinputsizes(self, *sizes: Any) -> None:
        return None

    async def nextset(self) -> None:
        return None


class _ImmediateQueue:
    """SQLAlchemy's adapter changes isolation_level through aiosqlite's private work queue
    (``_tx.put_nowait((future, function))``); run the function at once instead."""

    __slots__ = ()

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any], Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except Exception as exc:  # pragma: no cover - only if sqlite3 refuses the setting
            future.set_exception(exc)


class InlineConnection:
    """The part of aiosqlite.Connection that SQLAlchemy's aiosqlite dialect uses."""

    _tx = _ImmediateQueue()

    def __init__(self, conn: sqlite3.Connection, busy_timeout_s: float) -> None:
        self._conn = conn
        self._connection: sqlite3.Connection | None = conn  # the dialect checks it before commit / rollback
        self._busy_timeout_s = busy_timeout_s
        self._reading = False  # in a deferred transaction that has run nothing but SELECTs

    async def _run(self, fn: Callable[..., Any], *args: Any, retry_sql: str | None = None) -> Any:
        was_in_transaction = self._conn.in_transaction
        if not was_in_transaction:
            # A plain BEGIN starts a deferred transaction that has only read so far.
            self._reading = retry_sql is not None and retry_sql.strip().upper() == "BEGIN"
        elif retry_sql is not None and retry_sql.lstrip()[:6].upper() != "SELECT":
            self._reading = False
        try:
            return fn(*args)
        except sqlite3.OperationalError as error:
            if not _is_busy(error) or not self._may_retry(retry_sql, was_in_transaction):
                raise
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._busy_timeout_s
        delay = _FIRST_BACKOFF_S
        while True:
            await asyncio.sleep(delay)
            try:
                return fn(*args)
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or loop.time() >= deadline:
                    raise
            delay = min(delay * 2, _MAX_BACKOFF_S)

    def _may_retry(self, sql: str | None, was_in_transaction: bool) -> bool:
        # SQLite: a statement that returned SQLITE_BUSY may be run again if it was outside an explicit
        # transaction or was a COMMIT; inside a transaction the transaction has to be rolled back.
        # (Decided by the state before the statement: should SQLite have rolled the transaction back
        # itself, a retry in autocommit would silently drop the transaction's earlier statements.)
        # A deferred transaction that has only read holds no lock until its first read succeeds: that
        # read may be run again too.
        if not was_in_transaction:
            return True
        head = sql.lstrip()[:6].upper() if sql is not None else ""
        if head == "SELECT" and self._reading and self._conn.in_transaction:
            return True
        return head == "COMMIT" and self._conn.in_transaction

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def execute(self, sql: str, parameters: Any = ()) -> InlineCursor:
        cursor = InlineCursor(self)
        await cursor.execute(sql, parameters)
        return cursor

    async def commit(self) -> None:
        if self._conn.in_transaction:
            await self._run(self._conn.execute, "COMMIT", retry_sql="COMMIT")

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        self._conn.close()
        self._connection = None  # SQLAlchemy's adapter: commit / rollback on a closed one do nothing

    async def create_function(self, *args: Any, **kw: Any) -> None:
        self._conn.create_function(*args, **kw)


@functools.cache
def _adapter_reads() -> frozenset[str]:
    """What SQLAlchemy's aiosqlite adapter reads off the driver connection (``self._connection.<name>``),
    from its source; empty when the source is not installed (the aiosqlite check still runs)."""
    from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_connection

    names: set[str] = set()
    for cls in AsyncAdapt_aiosqlite_connection.__mro__:
        if cls.__module__.startswith("sqlalchemy."):
            try:
                names.update(re.findall(r"self\._connection\.(\w+)", inspect.getsource(cls)))
            except (OSError, TypeError):
                continue
    return frozenset(names)


def unavailable_reason() -> str | None:
    """None when InlineConnection can stand in for aiosqlite's connection with the libraries installed
    here; otherwise why not (a library upgrade moved a private name): the caller then uses aiosqlite."""
    try:
        import aiosqlite
        from sqlalchemy.dialects.sqlite import aiosqlite as _dialect  # noqa: F401
    except ImportError as err:
        return f"cannot import {err.name or err}"
    try:
        probe = aiosqlite.Connection(lambda: None, 64)  # type: ignore[arg-type,return-value]  # never started: no thread, no file
    except Exception as err:  # a changed constructor
        return f"aiosqlite.Connection() failed: {type(err).__name__}: {err}"
    gone = [
        name
        for name in AIOSQLITE_PRIVATE
        if not hasattr(aiosqlite.Connection, name) and name not in getattr(probe, "__dict__", {})
    ]
    if gone:
        return f"aiosqlite.Connection no longer has {', '.join(gone)}"
    inline = InlineConnection(sqlite3.connect(":memory:"), 0)
    try:
        lacking = sorted(name for name in _adapter_reads() if not hasattr(inline, name))
    finally:
        inline.stop()
    if lacking:
        return f"SQLAlchemy's aiosqlite adapter now uses {', '.join(lacking)}, which InlineConnection lacks"
    return None


def inline_creator(
    database: str, *, busy_timeout_s: float, uri: bool = False
) -> Callable[[], Coroutine[Any, Any, InlineConnection]]:
    """An ``async_creator`` for create_async_engine: each call opens one inline connection."""

    async def connect() -> InlineConnection:
        # isolation_level=None: the sqlite3 module never opens transactions on its own; ours start
        # with BEGIN IMMEDIATE (storage.db). timeout=0: waits for other processes happen in _run.
        conn = sqlite3.connect(database, timeout=0, isolation_level=None, uri=uri, check_same_thread=False)
        return InlineConnection(conn, busy_timeout_s)

    return connect


class WalCheckpointer:
    """Copies the WAL back into the database file from a thread of its own, once a second.

    With statements inline, a checkpoint run by a commit (SQLite's automatic one, every 1,000 WAL
    pages by default) would hold the event loop while it writes pages back and fsyncs - tens of
    milliseconds on a large file. A PASSIVE checkpoint never blocks writers or readers; here it
    runs off the loop (sqlite3 releases the GIL while it works), so commits only append to the WAL.
    The automatic checkpoint stays as a safety net at a higher threshold (storage.db)."""

    def __init__(self, database: str, interval_s: float = 1.0) -> None:
        self.database = database
        self.interval_s = interval_s
        self.checkpoints = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-wal-checkpoint", daemon=True)

    def start(self) -> WalCheckpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        conn = sqlite3.connect(self.database, timeout=0, isolation_level=None)
        try:
            while not self._stop.wait(self.interval_s):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.OperationalError:
                    continue  # another checkpoint is running: the next round does it
        finally:
            conn.close()
