"""The inline SQLite connection: statements run in the event loop's thread, and waiting for a lock
held by another process happens in asyncio (the loop keeps serving other work meanwhile)."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import storage.db
from domain.model import Role
from domain.services import ContractService
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.sqlite_inline import InlineConnection
from storage.uow import uow_factory


@pytest.fixture
async def sqlite_engine(tmp_path):
    path = tmp_path / "inline.sqlite3"
    eng = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade_to_head(eng)
    yield eng, path
    await eng.dispose()


def _hold_write_lock(path, seconds: float, locked: threading.Event) -> None:
    """Another connection (as another process would) holds SQLite's write lock for a while."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("INSERT INTO users (id, first_name, started, blocked) VALUES (1, 'other', 0, 0)")
    locked.set()
    time.sleep(seconds)
    conn.execute("COMMIT")
    conn.close()


async def test_statements_run_in_the_event_loops_thread(sqlite_engine):
    eng, _ = sqlite_engine
    async with eng.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, InlineConnection)
        before = threading.active_count()
        for _ in range(20):
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
        assert threading.active_count() == before  # no worker thread per connection


async def test_a_lock_held_elsewhere_is_waited_for_in_asyncio_and_the_write_lands(sqlite_engine):
    eng, path = sqlite_engine
    locked = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 0.4, locked))
    holder.start()
    await asyncio.to_thread(locked.wait)

    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    tick_task = asyncio.create_task(ticker())
    svc = ContractService(uow_factory(session_factory(eng)))
    from datetime import UTC, datetime

    started = time.perf_counter()
    contract, _ = await svc.create_contract(2, Role.CLIENT, "Waited for", "USD", datetime(2026, 11, 27, tzinfo=UTC))
    waited = time.perf_counter() - started
    tick_task.cancel()
    await asyncio.to_thread(holder.join)

    assert waited >= 0.2  # it really waited for the other writer
    assert ticks >= 10  # ... and the event loop went on meanwhile (a blocking wait would give ~0)
    async with eng.connect() as conn:
        titles = (await conn.execute(text("SELECT title FROM contracts"))).scalars().all()
        users = (await conn.execute(text("SELECT id FROM users ORDER BY id"))).scalars().all()
    assert titles == ["Waited for"] and 1 in users and contract.id


async def test_a_lock_held_past_the_busy_timeout_fails_cleanly_and_saves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(storage.db, "SQLITE_BUSY_TIMEOUT_S", 0.15)
    path = tmp_path / "timeout.sqlite3"
    eng = create_engine(f"sqlite+aiosqlite:///{path}")
    await upgrade_to_head(eng)
    locked = threading.Event()
    holder = threading.Thread(target=_hold_write_lock, args=(path, 0.6, locked))
    holder.start()
    await asyncio.to_thread(locked.wait)
    try:
        with pytest.raises(OperationalError, match="locked"):
            async with eng.begin() as conn:
                await conn.execute(text("INSERT INTO users (id, first_name, started, blocked) VALUES (2, 'x', 0, 0)"))
    finally:
        await asyncio.to_thread(holder.join)
    async with eng.connect() as conn:
        ids = (await conn.execute(text("SELECT id FROM users"))).scalars().all()
    assert ids == [1]  # the other writer's row only; nothing half-saved from the failed attempt
    await eng.dispose()


def test_only_statements_that_are_safe_to_repeat_are_retried(tmp_path):
    conn = sqlite3.connect(tmp_path / "r.sqlite3", isolation_level=None)
    inline = InlineConnection(conn, busy_timeout_s=1)
    assert inline._may_retry("BEGIN IMMEDIATE", was_in_transaction=False)  # outside a transaction
    conn.execute("BEGIN IMMEDIATE")
    assert inline._may_retry("COMMIT", was_in_transaction=True)
    # inside: the transaction must roll back
    assert not inline._may_retry("INSERT INTO t VALUES (1)", was_in_transaction=True)
    conn.execute("ROLLBACK")
    # a transaction SQLite rolled back by itself is not continued in autocommit
    assert not inline._may_retry("INSERT INTO t VALUES (1)", was_in_transaction=True)
    assert not inline._may_retry("COMMIT", was_in_transaction=True)
    conn.close()


async def test_wal_checkpoints_happen_in_a_thread_not_in_commits(sqlite_engine):
    from storage.db import WAL_AUTOCHECKPOINT_PAGES, start_wal_checkpointer

    eng, path = sqlite_engine
    async with eng.connect() as conn:
        pages = (await conn.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar()
    assert pages == WAL_AUTOCHECKPOINT_PAGES  # commits checkpoint only as a far-off safety net
    checkpointer = start_wal_checkpointer(eng, interval_s=0.05)
    assert checkpointer is not None
    try:
        for i in range(50):
            async with eng.begin() as conn:
                await conn.execute(
                    text("INSERT INTO users (id, first_name, started, blocked) VALUES (:i, 'x', 0, 0)"), {"i": 1000 + i}
                )
        deadline = time.monotonic() + 5
        while checkpointer.checkpoints < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)
        # The database file alone (a copy without its -wal) already holds every row: copied back by
        # the thread, since no commit came near the automatic threshold.
        main_only = path.with_name("main-only.sqlite3")
        shutil.copyfile(path, main_only)
        probe = sqlite3.connect(main_only)
        in_main_file = probe.execute("SELECT count(*) FROM users WHERE id >= 1000").fetchone()[0]
        probe.close()
    finally:
        checkpointer.stop()
    assert checkpointer.checkpoints >= 2 and not checkpointer._thread.is_alive()
    assert in_main_file == 50


def test_only_sqlite_files_get_a_checkpointer():
    from storage.db import start_wal_checkpointer

    assert start_wal_checkpointer(create_engine("postgresql://u:p@127.0.0.1:9/x")) is None


async def test_a_read_that_meets_a_lock_in_a_deferred_transaction_waits_for_it(tmp_path):
    """A read-only transaction begins deferred (plain BEGIN) and takes its lock at its first SELECT; if
    that SELECT is refused (SQLITE_BUSY), it is run again once the lock is free. Once the transaction
    has written, a refused statement is not repeated (the transaction must roll back)."""
    path = tmp_path / "deferred.sqlite3"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE t (x INTEGER)")
    setup.close()
    reader = sqlite3.connect(path, isolation_level=None, timeout=0)
    inline = InlineConnection(reader, busy_timeout_s=5)
    # Another process in exclusive locking mode, mid-write: even readers get SQLITE_BUSY meanwhile.
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO t VALUES (1)")

    def release() -> None:
        time.sleep(0.3)
        holder.execute("COMMIT")
        holder.close()  # exclusive locking mode keeps the lock until the connection goes

    releasing = threading.Thread(target=release)
    releasing.start()
    await inline._run(reader.execute, "BEGIN", retry_sql="BEGIN")
    started = time.perf_counter()
    cursor = await inline._run(reader.execute, "SELECT count(*) FROM t", retry_sql="SELECT count(*) FROM t")
    waited = time.perf_counter() - started
    await asyncio.to_thread(releasing.join)
    assert cursor.fetchone() == (1,) and waited >= 0.1  # it met the lock, waited for it, then read
    reader.execute("INSERT INTO t VALUES (2)")
    inline._reading = False  # as _run records a write
    assert not inline._may_retry("SELECT count(*) FROM t", was_in_transaction=True)
    reader.execute("ROLLBACK")
    reader.close()
