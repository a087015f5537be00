"""A 429 during a reminder drain: waited out once, without setting off more 429s."""

from __future__ import annotations

import asyncio
from collections import deque

import pytest
from telegram.error import RetryAfter

from bot.flood import FloodAwareRateLimiter
from bot.reminders import PACE_SHARE, Pacer

RATE = 30  # Telegram's overall limit, as the server below enforces it in any 1 s window


async def drain(sends: int, *, pause_on_429: bool) -> tuple[int, int]:
    """`sends` messages through the pacer and the rate limiter, 4 at a time as the bot sends
    reminders, to a server that answers 429 above RATE in any 1 s; the 10th send is refused once
    (as a stall of the event loop makes happen). Returns (429 answers, messages delivered)."""
    loop = asyncio.get_running_loop()
    limiter = FloodAwareRateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=5)
    pacer = Pacer(RATE, PACE_SHARE)
    if pause_on_429:
        limiter.on_retry_after.append(pacer.pause)
    window: deque[float] = deque()
    stats = {"429": 0, "ok": 0, "calls": 0}

    async def server(*_args, **_kwargs):
        now = loop.time()
        stats["calls"] += 1
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= RATE or stats["calls"] == 10:
            stats["429"] += 1
            raise RetryAfter(1)
        window.append(now)
        stats["ok"] += 1
        return True

    semaphore = asyncio.Semaphore(4)

    async def one() -> None:
        async with semaphore:
            await pacer.acquire()
            await limiter.process_request(server, (), {}, "sendMessage", {"chat_id": 1}, None)

    await asyncio.gather(*(one() for _ in range(sends)))
    return stats["429"], stats["ok"]


@pytest.mark.timeout(30)
async def test_after_a_429_the_pacer_pauses_and_no_other_429_follows():
    refused, delivered = await drain(100, pause_on_429=True)
    assert (refused, delivered) == (1, 100)


@pytest.mark.timeout(30)
async def test_without_the_pause_one_429_sets_off_more():
    # What the pause is for: the limiter's retry is one send more than the pacer planned for that
    # second, so at the full rate it is refused again, and so on.
    refused, delivered = await drain(100, pause_on_429=False)
    assert delivered == 100 and refused > 1


async def test_the_limiter_reports_each_429_and_still_retries():
    limiter = FloodAwareRateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=2)
    heard: list[float] = []
    limiter.on_retry_after.append(heard.append)
    answers = iter([RetryAfter(0), "sent"])

    async def call(*_args, **_kwargs):
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 1}, None) == "sent"
    assert heard == [0.0]


async def test_a_pause_reaches_a_sender_already_waiting_for_its_slot():
    loop = asyncio.get_running_loop()
    pacer = Pacer(10, 1.0)  # one every 0.1 s
    await pacer.acquire()
    start = loop.time()
    waiting = asyncio.create_task(pacer.acquire())  # asleep until its slot, 0.1 s from now
    await asyncio.sleep(0.02)
    pacer.pause(0.3)  # a 429 meanwhile: the limiter sends again at ~0.42 s, our next after that
    await waiting
    assert loop.time() - start >= 0.5
    assert list(pacer.recent) == sorted(pacer.recent)
