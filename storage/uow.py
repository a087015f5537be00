"""Unit of work: one database transaction; only it commits.

Inside an ambient transaction (`ambient`, opened for each update the bot handles and each reminder it
queues) a unit of work joins it as a savepoint: its commit releases the savepoint and its failure
rolls back to it, while the outer transaction commits everything the update did at once (the change,
the conversation step, the messages to send, the update marked handled)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar

from sqlalchemy.ext.asyncio import AsyncSession, AsyncSessionTransaction, async_sessionmaker

from .db import hold_connection, release_connection, write_gate
from .reminders import SqlReminderRepository
from .repositories import SqlContractRepository, SqlInviteRepository, SqlUserRepository

_AMBIENT: ContextVar[AsyncSession | None] = ContextVar("ambient_session", default=None)


@asynccontextmanager
async def ambient(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One transaction for everything done inside (units of work join it); committed if the block
    ends normally, rolled back if it raises. SQLite: the process's write gate is held throughout."""
    if _AMBIENT.get() is not None:
        raise RuntimeError("an ambient transaction is already open in this task")
    async with write_gate(sessions.kw["bind"]), sessions() as session:
        token = _AMBIENT.set(session)
        try:
            async with session.begin():
                held = hold_connection(session, await session.connection())
                try:
                    yield session
                finally:
                    release_connection(held)
        finally:
            _AMBIENT.reset(token)


def ambient_session() -> AsyncSession | None:
    return _AMBIENT.get()


_OPEN = "milestone_units_of_work"  # session.info: the units of work open in the ambient transaction, outermost first


class SqlUnitOfWork:
    """Inside an ambient transaction on SQLite, the savepoint begins with the first write: a unit of work
    that only reads (a profile, a contract to show) costs no SAVEPOINT and no ROLLBACK TO. (A failed
    statement leaves an SQLite transaction as it was, so a read needs no savepoint to fail in.) On
    PostgreSQL a failed statement aborts the whole transaction unless a savepoint contains it, so there
    every unit of work begins its savepoint at once. Units of work opened inside one another get their
    savepoints in the order they were opened, whichever writes first."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._gate = write_gate(sessions.kw["bind"])
        self.session: AsyncSession | None = None
        self._outer: AsyncSession | None = None
        self._savepoint: AsyncSessionTransaction | None = None

    def _repositories(self, session: AsyncSession) -> None:
        self.session = session
        self.contracts = SqlContractRepository(session, self._writing)
        self.invites = SqlInviteRepository(session, self._writing)
        self.users = SqlUserRepository(session, self._writing)
        self.reminders = SqlReminderRepository(session, self._writing)

    async def _writing(self) -> None:
        if self._outer is not None and self._savepoint is None:
            self._savepoint = await self._outer.begin_nested()

    async def __aenter__(self) -> SqlUnitOfWork:
        outer = _AMBIENT.get()
        if outer is not None:
            self._outer = outer
            self._repositories(outer)
            opened: list[SqlUnitOfWork] = outer.info.setdefault(_OPEN, [])
            for enclosing in opened:  # theirs first: this one's savepoint must be inside theirs
                await enclosing._writing()
            opened.append(self)
            if self._sessions.kw["bind"].dialect.name != "sqlite":
                await self._writing()
            return self
        await self._gate.__aenter__()
        self._repositories(self._sessions())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.session is not None
        if self._outer is not None:
            opened: list[SqlUnitOfWork] = self._outer.info.get(_OPEN, [])
            if self in opened:
                opened.remove(self)
            if self._savepoint is not None and self._savepoint.is_active:
                await self._savepoint.rollback()  # undoes anything left half-done; the outer goes on
            return
        try:
            await self.session.rollback()  # a no-op after commit; undoes anything left half-done
        finally:
            try:
                await self.session.close()
            finally:
                await self._gate.__aexit__(None, None, None)

    async def commit(self) -> None:
        assert self.session is not None
        if self._outer is not None:
            if self._savepoint is not None:
                await self._savepoint.commit()  # the outer transaction commits it with the rest
                self._savepoint = None
            return
        await self.session.commit()

    async def rollback(self) -> None:
        assert self.session is not None
        if self._outer is not None:
            if self._savepoint is not None:
                await self._savepoint.rollback()
                self._savepoint = None  # the next write begins another
            self.session.expire_all()  # what was read before is read again (another process may have changed it)
            return
        await self.session.rollback()


def uow_factory(sessions: async_sessionmaker[AsyncSession]) -> Callable[[], SqlUnitOfWork]:
    return lambda: SqlUnitOfWork(sessions)
