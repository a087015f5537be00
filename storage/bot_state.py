"""Key-value store behind the bot's conversation persistence (states and per-user drafts)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import async_sessionmaker

from .models import ConversationRow


class BotStateStore:
    def __init__(self, sessions: async_sessionmaker) -> None:
        self._sessions = sessions

    async def load(self, kind: str) -> dict[str, str]:
        async with self._sessions() as session:
            rows = (await session.execute(select(ConversationRow).where(ConversationRow.kind == kind))).scalars()
            return {r.key: r.value for r in rows}

    async def put_many(self, kind: str, items: dict[str, str | None]) -> None:
        """Write (or, for None, delete) several keys in one transaction."""
        if not items:
            return
        async with self._sessions() as session, session.begin():
            for key, value in items.items():
                if value is None:
                    await session.execute(
                        delete(ConversationRow).where(ConversationRow.kind == kind, ConversationRow.key == key)
                    )
                    continue
                row = await session.get(ConversationRow, (kind, key))
                if row is None:
                    session.add(ConversationRow(kind=kind, key=key, value=value))
                else:
                    row.value = value
