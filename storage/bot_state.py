"""Key-value store behind the bot's conversation persistence (states and per-user drafts)."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Insert, bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from .db import write_gate
from .models import ConversationRow

_TABLE = ConversationRow.__table__
_DELETE = delete(_TABLE).where(_TABLE.c.kind == bindparam("k"), _TABLE.c.key == bindparam("key_"))


@lru_cache(maxsize=2)
def _upsert(dialect: str) -> Insert:
    """Built once per dialect: it runs after nearly every update a person sends."""
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(_TABLE)
    return stmt.on_conflict_do_update(index_elements=["kind", "key"], set_={"value": stmt.excluded.value})


class BotStateStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._gate = write_gate(sessions.kw["bind"])

    async def load(self, kind: str) -> dict[str, str]:
        async with self._gate, self._sessions() as session:
            rows = (await session.execute(select(ConversationRow).where(ConversationRow.kind == kind))).scalars()
            return {r.key: r.value for r in rows}

    async def put_many(self, items: dict[tuple[str, str], str | None]) -> None:
        """Write (or, for None, delete) several (kind, key) entries in one transaction."""
        if not items:
            return
        upserts = [{"kind": k, "key": key, "value": v} for (k, key), v in items.items() if v is not None]
        deletes = [{"k": k, "key_": key} for (k, key), v in items.items() if v is None]
        async with self._gate, self._sessions() as session, session.begin():
            conn = await session.connection()
            if upserts:
                await conn.execute(_upsert(conn.dialect.name), upserts)
            if deletes:
                await conn.execute(_DELETE, deletes)
