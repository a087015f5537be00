"""The update processor and the per-person guard (bot/concurrency.py), without the bot around them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User

from bot.concurrency import PersonGuard, PerUserUpdateProcessor, Verdict


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def message_from(person: int, update_id: int) -> Update:
    user = User(person, f"P{person}", is_bot=False)
    chat = Chat(person, Chat.PRIVATE)
    return Update(update_id, message=Message(update_id, date=datetime.now(UTC), chat=chat, from_user=user, text="hi"))


def test_the_guard_allows_a_burst_then_the_rate_and_notifies_once_per_flood():
    clock = FakeClock()
    guard = PersonGuard(burst=3, rate=2.0, clock=clock)
    verdicts = [guard.admit(7) for _ in range(6)]
    assert verdicts == [Verdict.HANDLE] * 3 + [Verdict.DROP_AND_NOTIFY, Verdict.DROP, Verdict.DROP]
    clock.now += 0.5  # one token back at 2 a second
    assert [guard.admit(7), guard.admit(7)] == [Verdict.HANDLE, Verdict.DROP]  # still the same flood: no notice
    assert guard.admit(8) is Verdict.HANDLE  # someone else is not affected
    clock.now += 1.5  # the bucket is full again: a new flood gets a new notice
    assert [guard.admit(7) for _ in range(4)] == [Verdict.HANDLE] * 3 + [Verdict.DROP_AND_NOTIFY]


def test_the_guard_forgets_idle_people():
    clock = FakeClock()
    guard = PersonGuard(burst=20, rate=5.0, clock=clock)
    for person in range(10_000):
        guard.admit(person)
    assert len(guard) == 10_000
    clock.now += 3.9
    guard.admit(1)  # seen again: kept (and moved to the back)
    clock.now += 0.2  # everyone else idle for 4.1 s > burst/rate = 4 s: their buckets are full, i.e. forgotten
    guard.admit(10_001)
    assert len(guard) == 2
    clock.now += 10
    guard.admit(10_002)
    assert len(guard) == 1


async def test_a_flood_waits_on_its_own_lock_and_leaves_the_slots_to_everyone_else():
    """Eve's 30 updates are stuck (her first one never finishes); with only 4 slots, Ann's update still
    runs at once. It would not if Eve's queue sat in slots while waiting for her own lock."""
    processor = PerUserUpdateProcessor(4)
    release = asyncio.Event()
    done: list[str] = []

    async def slow() -> None:
        await release.wait()
        done.append("eve")

    async def quick() -> None:
        done.append("ann")

    eve = [asyncio.create_task(processor.process_update(message_from(1, i), slow())) for i in range(30)]
    await asyncio.sleep(0)
    ann = asyncio.create_task(processor.process_update(message_from(2, 100), quick()))
    await asyncio.wait_for(asyncio.shield(ann), timeout=2)
    assert done == ["ann"]
    assert processor.current_concurrent_updates == 1  # Eve's first update; her other 29 hold no slot
    release.set()
    await asyncio.gather(*eve)
    assert done.count("eve") == 30


async def test_a_dropped_update_is_never_run_and_takes_no_slot():
    clock = FakeClock()
    processor = PerUserUpdateProcessor(2, PersonGuard(burst=2, rate=1.0, clock=clock))
    ran: list[int] = []

    async def handle(i: int) -> None:
        ran.append(i)

    # Updates without a bot attached: the notice cannot be sent, which the processor shrugs off.
    await asyncio.gather(*(processor.process_update(message_from(1, i), handle(i)) for i in range(5)))
    assert ran == [0, 1]
    assert processor.current_concurrent_updates == 0
