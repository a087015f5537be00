"""The sender's pace (bot/sender.py Pace) on virtual time: replies never wait behind reminders, reminders
alone keep to the rate, a 429's pause stops everything for its duration.

Pace sleeps with asyncio.sleep; here that sleep (bot.sender's only) runs on a virtual clock that moves
only when every task is waiting, straight to the earliest wake-up, so seconds of pacing take no time."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math

import pytest

import bot.sender
from bot.sender import SPAN, Pace
from bot.turn import Priority

RATE = 10.0  # 10 sends in any SPAN; the reserve is the sender's own (bot.sender.RESERVE)
PERSON = 1001  # a private chat (a group's id is negative and has its own interval)


class VirtualTime:
    """A clock and an asyncio.sleep on it: `run` advances the clock only when every task is asleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        wake = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + max(0.0, seconds), next(self._seq), wake))
        await wake

    async def run(self, *coroutines):
        tasks = [asyncio.ensure_future(c) for c in coroutines]
        while True:
            for _ in range(20):  # let every runnable task go on to its next sleep (or finish)
                await _real_sleep(0)
            if all(t.done() for t in tasks):
                return [t.result() for t in tasks]
            assert self._timers, "deadlock: tasks wait for nothing"
            self.now = max(self.now, self._timers[0][0])
            while self._timers and self._timers[0][0] <= self.now:
                heapq.heappop(self._timers)[2].set_result(None)


_real_sleep = asyncio.sleep


class _AsyncioWithVirtualSleep:
    """bot.sender's `asyncio`, its sleep on virtual time (nothing else in the process is affected)."""

    def __init__(self, sleep) -> None:
        self.sleep = sleep

    def __getattr__(self, name: str):
        return getattr(asyncio, name)


@pytest.fixture
def vt(monkeypatch) -> VirtualTime:
    clock = VirtualTime()
    monkeypatch.setattr(bot.sender, "asyncio", _AsyncioWithVirtualSleep(clock.sleep))
    return clock


async def granted(vt: VirtualTime, pace: Pace, priority: Priority, log: list, label: str, chat: int = PERSON) -> float:
    await pace.acquire(priority, chat)
    log.append((vt.now, label))
    return vt.now


async def test_a_reply_does_not_wait_behind_a_reminder_backlog(vt):
    pace = Pace(RATE, clock=vt)
    at_once = max(1, pace.reserve)
    log: list[tuple[float, str]] = []

    async def replies_later(at: float) -> list[float]:
        await vt.sleep(at)
        asked = vt.now
        # As many replies as the reserve holds, at once: each granted the moment it asks.
        return [await granted(vt, pace, Priority.REPLY, log, "reply") - asked for _ in range(at_once)]

    reminders = [granted(vt, pace, Priority.REMINDER, log, "reminder") for _ in range(40)]
    *_, first, second = await vt.run(*reminders, replies_later(0.0), replies_later(1.55))
    assert first == [0.0] * at_once, "replies waited behind reminders that had taken the bucket down to the reserve"
    assert second == [0.0] * at_once, "replies waited behind a reminder backlog"
    # The reminders did take the bucket down to the reserve, and no further, before the first replies.
    assert sum(1 for at, label in log if label == "reminder" and at == 0.0) == int(RATE) - pace.reserve
    assert any(label == "reminder" and at > 1.55 for at, label in log), "no backlog left at the second replies"


async def test_reminders_alone_never_exceed_the_rate(vt):
    pace = Pace(RATE, clock=vt)
    log: list[tuple[float, str]] = []
    count = 60
    await vt.run(*(granted(vt, pace, Priority.REMINDER, log, "reminder") for _ in range(count)))
    times = sorted(at for at, _ in log)
    burst = int(RATE) - pace.reserve  # the reminders' share of each window
    # In any stretch of time, no more than the burst plus the rate times its length.
    for i, j in itertools.combinations(range(len(times)), 2):
        assert j - i + 1 <= burst + RATE * (times[j] - times[i]) + 1e-6, (i, j, times[i], times[j])
    # Counted as Telegram counts (any one second, by send time): never more than the reminders' share.
    for i, at in enumerate(times):
        assert sum(1 for t in times[i:] if t < at + SPAN - 1e-9) <= burst, (i, at)
    # And no slower either: a full share in every window until all are out.
    assert times[-1] == pytest.approx((math.ceil(count / burst) - 1) * SPAN, abs=0.05)


async def test_a_pause_stops_everything_for_its_duration(vt):
    pace = Pace(RATE, clock=vt)
    log: list[tuple[float, str]] = []
    pace.pause(2.0)  # a 429 said: retry after 2 s
    waiting = [granted(vt, pace, Priority.REPLY, log, "reply") for _ in range(3)]
    waiting += [granted(vt, pace, Priority.NEWS, log, "news", chat=1002) for _ in range(3)]
    waiting += [granted(vt, pace, Priority.REMINDER, log, "reminder", chat=1003) for _ in range(3)]
    waiting += [granted(vt, pace, Priority.NEWS, log, "group news", chat=-100123)]
    await vt.run(*waiting)
    assert min(at for at, _ in log) >= 2.0, sorted(log)
    # A shorter pause asked for during a longer one does not cut it short; a longer one extends it.
    log.clear()
    start = vt.now
    pace.pause(3.0)
    vt.now += 1.0
    pace.pause(1.0)
    await vt.run(granted(vt, pace, Priority.REPLY, log, "reply"))
    assert log[0][0] == pytest.approx(start + 3.0)
    pace.pause(1.0)
    vt.now += 0.5
    pace.pause(2.0)
    await vt.run(granted(vt, pace, Priority.REPLY, log, "reply"))
    assert log[1][0] == pytest.approx(start + 3.0 + 0.5 + 2.0)


async def test_a_send_slow_to_answer_holds_its_place_until_a_span_after_its_answer(vt):
    """Telegram counts a send when it reaches it, somewhere between the call's start and its answer: a
    place is free again only SPAN after the answer, so a slow call can't bunch up with the next ones."""
    pace = Pace(RATE, clock=vt)
    places = [await pace.acquire(Priority.REPLY, PERSON) for _ in range(int(RATE))]
    vt.now = 0.3  # the first call's answer comes back now; the others' at once
    pace.done(places[0])
    for place in places[1:]:
        pace.done(place)
    log: list[tuple[float, str]] = []
    vt.now = 0.0 + SPAN  # a second after they began: the first is still in the window
    await vt.run(granted(vt, pace, Priority.REPLY, log, "next"))
    assert log[0][0] == pytest.approx(0.3 + SPAN)
