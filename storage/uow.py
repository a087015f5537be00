"""Unit of work: one database transaction; only it commits."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .db import write_gate
from .reminders import SqlReminderRepository
from .repositories import SqlContractRepository, SqlInviteRepository, SqlUserRepository


class SqlUnitOfWork:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._gate = write_gate(sessions.kw["bind"])
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> SqlUnitOfWork:
        await self._gate.__aenter__()
        self.session = self._sessions()
        self.contracts = SqlContractRepository(self.session)
        self.invites = SqlInviteRepository(self.session)
        self.users = SqlUserRepository(self.session)
        self.reminders = SqlReminderRepository(self.session)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.session is not None
        try:
            await self.session.rollback()  # a no-op after commit; undoes anything left half-done
        finally:
            try:
                await self.session.close()
            finally:
                await self._gate.__aexit__(None, None, None)

    async def commit(self) -> None:
        assert self.session is not None
        await self.session.commit()

    async def rollback(self) -> None:
        assert self.session is not None
        await self.session.rollback()


def uow_factory(sessions: async_sessionmaker[AsyncSession]) -> Callable[[], SqlUnitOfWork]:
    return lambda: SqlUnitOfWork(sessions)
