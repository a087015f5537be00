"""The guided conversations' dispatcher: python-telegram-bot's ConversationHandler, with the person's
step read from the database for each update and written back in the same transaction (bot/turn.py).

PTB's ConversationHandler keeps the steps in memory, read from persistence once at start and written
back on a timer: a crash loses the last second's steps and a second process works from the steps it
read at start. The routing here is the same as PTB's (entry points first when re-entry is allowed,
then the step's handlers, then the fallbacks); only where the step lives differs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telegram import Update
from telegram.ext import Application, BaseHandler, ConversationHandler

from ..turn import current_turn

END = ConversationHandler.END


async def _unused(update: object, context: object) -> None:  # the inner handlers have the callbacks
    return None


class Conversation(BaseHandler[Update, Any, None]):
    def __init__(
        self,
        entry_points: Sequence[BaseHandler[Update, Any, Any]],
        states: dict[Any, Sequence[BaseHandler[Update, Any, Any]]],
        fallbacks: Sequence[BaseHandler[Update, Any, Any]],
        allow_reentry: bool = True,
    ) -> None:
        super().__init__(_unused)
        self.entry_points = list(entry_points)
        self.states = {str(k): list(v) for k, v in states.items()}
        self.fallbacks = list(fallbacks)
        self.allow_reentry = allow_reentry

    @staticmethod
    def _first(handlers: Sequence[BaseHandler[Update, Any, Any]], update: Update) -> tuple[Any, Any] | None:
        for handler in handlers:
            check = handler.check_update(update)
            if check is not None and check is not False:
                return handler, check
        return None

    def check_update(self, update: object) -> tuple[Any, Any] | None:
        if not isinstance(update, Update) or update.effective_user is None:
            return None
        turn = current_turn()
        state = None if turn is None else turn.state
        if state is None or self.allow_reentry:
            found = self._first(self.entry_points, update)
            if found is not None or state is None:
                return found
        return self._first(self.states.get(str(state), []), update) or self._first(self.fallbacks, update)

    async def handle_update(
        self, update: Update, application: Application[Any, Any, Any, Any, Any, Any], check_result: Any, context: Any
    ) -> None:
        handler, check = check_result
        new_state = await handler.handle_update(update, application, check, context)
        turn = current_turn()
        if turn is None:
            return
        if new_state == END:
            turn.state = None
        elif new_state is not None:
            turn.state = str(new_state)
