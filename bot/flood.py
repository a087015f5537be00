"""Telegram's flood limit as one shared pace: a 429 pauses the reminder pacer too.

python-telegram-bot's AIORateLimiter waits out a 429 (retry_after) and sends the request again. The
reminder pacer (bot/reminders.py) does not see that retry: it keeps its own pace, so the retried
request is one more in that second than the limit allows, which is answered with another 429, and
so on every couple of seconds until the backlog is drained. This limiter tells listeners about each
429 as it happens, so the pacer can pause and count the retried request as one of its sends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter


def retry_seconds(exc: RetryAfter) -> float:
    value = exc.retry_after
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)


class FloodAwareRateLimiter(AIORateLimiter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.on_retry_after: list[Callable[[float], None]] = []

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):
        async def watched(*a: Any, **k: Any):
            try:
                return await callback(*a, **k)
            except RetryAfter as exc:
                for listener in self.on_retry_after:
                    listener(retry_seconds(exc))
                raise

        return await super().process_request(watched, args, kwargs, endpoint, data, rate_limit_args)
