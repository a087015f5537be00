"""The ambient transaction a turn runs in: units of work join it with a savepoint only when they write,
statements run on its connection stay inside the savepoint open when they run, and a read on its own
never waits for the write in progress (SQLite)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import DBAPIError

from domain.ports import UserProfile
from storage import durable
from storage.db import session_factory
from storage.models import InboxRow, UserRow
from storage.uow import SqlUnitOfWork, ambient


def _savepoints(engine) -> list[str]:
    seen: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def count(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("SAVEPOINT"):
            seen.append(statement)

    return seen


async def _ids(sessions, column) -> set[int]:
    async with sessions() as session:
        return set((await session.execute(select(column))).scalars())


async def test_a_unit_of_work_sets_a_savepoint_only_when_it_writes_and_undoes_only_its_own(engine):
    """SQLite: no savepoint for a unit of work that only reads. PostgreSQL: one for each (see below)."""
    sessions = session_factory(engine)
    savepoints = _savepoints(engine)
    lazy = engine.dialect.name == "sqlite"
    async with ambient(sessions):
        async with SqlUnitOfWork(sessions) as uow:  # only reads
            assert await uow.users.get(1) is None
            assert await uow.users.get_many({1, 2}) == {}
        assert len(savepoints) == (0 if lazy else 1)
        async with SqlUnitOfWork(sessions) as uow:
            await uow.users.upsert(UserProfile(id=1, first_name="Kept"))
            await uow.commit()
        async with SqlUnitOfWork(sessions) as uow:
            assert (await uow.users.get(1)).first_name == "Kept"  # a read before the write: no savepoint yet
            await uow.users.upsert(UserProfile(id=2, first_name="Undone"))
            # not committed: rolled back as the unit of work ends, the ambient transaction goes on
        async with SqlUnitOfWork(sessions) as uow:
            await uow.users.upsert(UserProfile(id=3, first_name="Retried"))
            await uow.rollback()  # a lost race: undone, and the next write begins a new savepoint
            await uow.users.upsert(UserProfile(id=4, first_name="Second try"))
            await uow.commit()
        assert len(savepoints) == (4 if lazy else 5)
    assert await _ids(sessions, UserRow.id) == {1, 4}


async def test_a_savepoint_begun_in_the_turn_holds_what_runs_on_the_turns_connection(engine, now):
    """The turn's connection is asked for once, but a savepoint begun since must still enclose the
    statements run on it (the session emits SAVEPOINT only when its connection is next asked for)."""
    sessions = session_factory(engine)
    async with ambient(sessions) as session:
        await durable.ensure_update(session, 1, 7, "{}", now)
        handling = await session.begin_nested()
        await durable.ensure_update(session, 2, 7, "{}", now)
        await handling.rollback()  # the handling failed: what it did is undone
        await durable.ensure_update(session, 3, 7, "{}", now)
        inner = await session.begin_nested()
        await durable.ensure_update(session, 4, 7, "{}", now)
        await inner.commit()
    assert await _ids(sessions, InboxRow.update_id) == {1, 3, 4}


async def test_a_read_on_its_own_does_not_wait_for_the_write_in_progress(engine):
    """The sender's look at a chat's live card reads the last commit; with SQLite it used to take the
    write lock (BEGIN IMMEDIATE) and so waited, backing off, for whatever turn was being written."""
    sessions = session_factory(engine)
    async with ambient(sessions) as session:
        await durable.ensure_update(session, 1, 7, "{}", datetime.now(UTC))  # holds the write lock
        assert await asyncio.wait_for(durable.live_card_now(sessions, 7, 1), timeout=1.0) is None


async def test_a_failed_read_in_a_unit_of_work_leaves_the_turn_usable(engine, now):
    """PostgreSQL aborts a whole transaction on a failed statement unless a savepoint contains it: there a
    unit of work begins its savepoint at once, reads or not. (SQLite keeps the transaction as it was.)"""
    sessions = session_factory(engine)
    async with ambient(sessions) as session:
        await durable.ensure_update(session, 1, 7, "{}", now)
        with pytest.raises(DBAPIError):
            async with SqlUnitOfWork(sessions) as uow:
                assert uow.session is not None
                await uow.session.execute(text("SELECT missing FROM no_such_table"))
        await durable.ensure_update(session, 2, 7, "{}", now)  # the caller went on
    assert await _ids(sessions, InboxRow.update_id) == {1, 2}


async def test_units_of_work_opened_inside_one_another_nest_in_that_order(engine):
    """The outer one reads first and writes after the inner one began writing: its savepoint must still
    enclose the inner one's, or the inner commit would release the outer's too."""
    sessions = session_factory(engine)
    async with ambient(sessions):
        async with SqlUnitOfWork(sessions) as outer:
            assert await outer.users.get(1) is None
            async with SqlUnitOfWork(sessions) as inner:
                await inner.users.upsert(UserProfile(id=1, first_name="Inner"))
                await outer.users.upsert(UserProfile(id=2, first_name="Outer"))
                await inner.commit()
            # the outer one ends without committing: everything inside it is undone
    assert await _ids(sessions, UserRow.id) == set()
