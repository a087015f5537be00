"""Unit of work: one database transaction; only it commits."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .reminders import SqlReminderRepository
from .repositories import SqlContractRepository, SqlInviteRepository, SqlUserRepository


class SqlUnitOfWork:
    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> SqlUnitOfWork:
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
            await self.session.close()

    async def commit(self) -> None:
        assert self.session is not None
        await self.session.commit()

    async def rollback(self) -> None:
        assert self.session is not None
        await self.session.rollback()


def uow_factory(sessions: async_sessionmaker):
    return lambda: SqlUnitOfWork(sessions)
