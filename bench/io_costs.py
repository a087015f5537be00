"""Supporting figures for benchmarks 1 and 2: what one database statement and one Bot API call cost.

Run: .venv/bin/python -m bench.io_costs [--quick]
- SQLite: `SELECT 1` and a one-row write transaction through SQLAlchemy's asyncio layer, on aiosqlite
  (a worker thread per connection, a hand-over per statement) and on the bot's inline connection
  (storage/sqlite_inline.py). Wall time per operation, median of rounds.
- Bot API: one sendMessage POST to the fake Bot API (in a separate process) through httpx (PTB's
  default transport) and through aiohttp (the bot's, bot/http.py), one at a time and 8 at once. CPU
  time of this process per request, median of rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from storage.db import create_engine  # noqa: E402

TOKEN = "123456:bench-io"


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def sqlite_costs(path: str, inline: bool, n: int) -> tuple[float, float]:
    url = f"sqlite+aiosqlite:///{path}"
    engine = create_engine(url) if inline else create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)"))
    async with engine.connect() as conn:
        for _ in range(50):
            await conn.execute(text("SELECT 1"))
        t = time.perf_counter()
        for _ in range(n):
            await conn.execute(text("SELECT 1"))
        select_ms = (time.perf_counter() - t) * 1000 / n
    t = time.perf_counter()
    for i in range(n // 4):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": f"row {i}"})
    write_ms = (time.perf_counter() - t) * 1000 / (n // 4)
    await engine.dispose()
    return select_ms, write_ms


def start_fake() -> tuple[subprocess.Popen, str]:
    code = (
        f"import sys, time; sys.path.insert(0, {str(ROOT)!r})\n"
        "from testkit.fake_telegram import FakeTelegram\n"
        f"tg = FakeTelegram({TOKEN!r}); tg.__enter__(); tg.user(5, 'A', started=True)\n"
        "print(tg.base_url, flush=True); time.sleep(3600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    return proc, proc.stdout.readline().strip()


async def post_costs(base: str, transport: str, n: int, concurrency: int) -> float:
    from telegram.request import HTTPXRequest, RequestData
    from telegram.request._requestparameter import RequestParameter

    from bot.http import AiohttpRequest

    request = HTTPXRequest(256) if transport == "httpx" else AiohttpRequest(256)
    await request.initialize()
    url = f"{base}/bot{TOKEN}/sendMessage"
    data = RequestData(
        [
            RequestParameter.from_input(k, v)
            for k, v in (("chat_id", 5), ("text", "Fund «Design» <b>now</b>"), ("parse_mode", "HTML"))
        ]
    )

    async def one() -> None:
        await request.post(url, request_data=data)

    try:
        await asyncio.gather(*(one() for _ in range(50)))
        c = cpu_s()
        for _ in range(0, n, concurrency):
            await asyncio.gather(*(one() for _ in range(concurrency)))
        return (cpu_s() - c) * 1000 / n
    finally:
        await request.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    rounds, n = (3, 200) if args.quick else (7, 1000)

    with tempfile.TemporaryDirectory() as tmp:
        res: dict[str, list[tuple[float, float]]] = {"aiosqlite": [], "inline": []}
        for _ in range(rounds):
            for name in res:
                res[name].append(asyncio.run(sqlite_costs(f"{tmp}/{name}.sqlite3", name == "inline", n)))
        print(f"SQLite through SQLAlchemy asyncio (median of {rounds} rounds of {n}):")
        for name, vals in res.items():
            print(
                f"  {name:<10} SELECT 1: {statistics.median(v[0] for v in vals):6.3f} ms   "
                f"one-row write transaction: {statistics.median(v[1] for v in vals):6.3f} ms"
            )

    proc, base = start_fake()
    try:
        print(f"\nBot API sendMessage to the fake server, CPU ms of the caller per request (median of {rounds}):")
        for conc in (1, 8):
            got = {
                t: statistics.median(asyncio.run(post_costs(base, t, n, conc)) for _ in range(rounds))
                for t in ("httpx", "aiohttp")
            }
            print(
                f"  {conc} at a time: httpx (PTB default) {got['httpx']:.2f} ms, aiohttp (the bot's) "
                f"{got['aiohttp']:.2f} ms, ratio {got['httpx'] / got['aiohttp']:.1f}x"
            )
    finally:
        proc.kill()
        proc.wait()


if __name__ == "__main__":
    main()
