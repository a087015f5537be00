"""An application shut down on its own (tests, a failed start) leaves no thread or file behind: the WAL
checkpoint thread and its SQLite connection end with it, not only after run_polling's post_shutdown."""

from __future__ import annotations

import os
import threading

from testkit.harness import make_app


async def test_starting_and_shutting_down_leaves_no_thread_or_file_open(tg, db_url, clock):
    async def cycle() -> None:
        app = await make_app(tg, db_url, clock)
        await app.shutdown()
        await app.bot_data["engine"].dispose()

    await cycle()  # the first start creates the database
    files, threads = len(os.listdir("/proc/self/fd")), threading.active_count()
    for _ in range(5):
        await cycle()
    assert len(os.listdir("/proc/self/fd")) <= files  # 3 a cycle (database, WAL, shared memory) before
    assert threading.active_count() <= threads
