"""python-telegram-bot persistence in the bot's database: conversations and drafts survive restarts."""

from __future__ import annotations

import asyncio
import json
from copy import deepcopy

from telegram.ext import BasePersistence, PersistenceInput

from storage.bot_state import BotStateStore


def _key(key: tuple[int | str, ...]) -> str:
    return json.dumps(list(key))


class DatabasePersistence(BasePersistence):
    """Stores user_data and conversation states as JSON rows (no pickle files next to the code)."""

    def __init__(self, store: BotStateStore, update_interval: float = 1.0) -> None:
        super().__init__(
            store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=True, callback_data=False),
            update_interval=update_interval,
        )
        self.store = store
        self._user_data: dict[int, dict] | None = None
        self._conversations: dict[str, dict] = {}
        # PTB hands over each changed person and conversation separately; they are gathered here
        # and written in one transaction, whatever the number of people.
        self._pending: dict[tuple[str, str], str | None] = {}
        self._writer: asyncio.Task | None = None

    def _put(self, kind: str, key: str, value: str | None) -> None:
        self._pending[(kind, key)] = value
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_pending())

    async def _write_pending(self) -> None:
        await asyncio.sleep(0)  # let the rest of this round of updates arrive first
        while self._pending:
            batch, self._pending = self._pending, {}
            await self.store.put_many(batch)

    async def get_user_data(self) -> dict[int, dict]:
        if self._user_data is None:
            raw = await self.store.load("user_data")
            self._user_data = {int(k): json.loads(v) for k, v in raw.items()}
        return deepcopy(self._user_data)

    async def update_user_data(self, user_id: int, data: dict) -> None:
        if self._user_data is None:
            self._user_data = {}
        if self._user_data.get(user_id) == data:
            return
        self._user_data[user_id] = deepcopy(data)
        self._put("user_data", str(user_id), json.dumps(data, default=str) if data else None)

    async def drop_user_data(self, user_id: int) -> None:
        if self._user_data is not None:
            self._user_data.pop(user_id, None)
        self._put("user_data", str(user_id), None)

    async def refresh_user_data(self, user_id: int, user_data: dict) -> None:
        pass

    async def get_conversations(self, name: str) -> dict:
        raw = await self.store.load(f"conv:{name}")
        conversations = {tuple(json.loads(k)): json.loads(v) for k, v in raw.items()}
        self._conversations[name] = dict(conversations)
        return conversations

    async def update_conversation(self, name: str, key: tuple[int | str, ...], new_state: object | None) -> None:
        known = self._conversations.setdefault(name, {})
        if known.get(key) == new_state:
            return
        known[key] = new_state
        self._put(f"conv:{name}", _key(key), None if new_state is None else json.dumps(new_state))

    # Not stored: chat data, bot data and arbitrary callback data (callback data is compact text).
    async def get_chat_data(self) -> dict:
        return {}

    async def update_chat_data(self, chat_id: int, data: dict) -> None:
        pass

    async def drop_chat_data(self, chat_id: int) -> None:
        pass

    async def refresh_chat_data(self, chat_id: int, chat_data: dict) -> None:
        pass

    async def get_bot_data(self) -> dict:
        return {}

    async def update_bot_data(self, data: dict) -> None:
        pass

    async def refresh_bot_data(self, bot_data: dict) -> None:
        pass

    async def get_callback_data(self):
        return None

    async def update_callback_data(self, data) -> None:
        pass

    async def flush(self) -> None:
        """At shutdown: everything handed over is written before the process exits."""
        if self._writer is not None:
            await self._writer
        if self._pending:
            batch, self._pending = self._pending, {}
            await self.store.put_many(batch)
