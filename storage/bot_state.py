"""Key-value store behind the bot's conversation persistence (states and per-user drafts)."""

from __future__ import annotations

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import async_sessionmaker

from .db import write_gate
from .models import ConversationRow


class BotStateStore:
    def __init__(self, sessions: async_sessionmaker) -> None:
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
        table = ConversationRow.__table__
        upserts = [{"kind": k, "key": key, "value": v} for (k, key), v in items.items() if v is not None]
        deletes = [{"k": k, "key_": key} for (k, key), v in items.items() if v is None]
        async with self._gate, self._sessions() as session, session.begin():
            if upserts:
                insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
                stmt = insert(table)
                stmt = stmt.on_conflict_do_update(index_elements=["kind", "key"], set_={"value": stmt.excluded.value})
                await session.execute(stmt, upserts)
            if deletes:
                await session.execute(
                    delete(table).where(table.c.kind == bindparam("k"), table.c.key == bindparam("key_")), deletes)
