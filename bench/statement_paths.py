"""One statement's CPU by the path it takes to SQLite: SQLAlchemy's asyncio API on the bot's inline
connection (what the bot uses), SQLAlchemy's sync API on the same file, and sqlite3 itself; and a
one-row write transaction through an AsyncSession and through an AsyncEngine connection.

Run: .venv/bin/python -m bench.statement_paths [--quick]"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, select
from sqlalchemy import create_engine as create_sync_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storage.db import create_engine, session_factory, write_gate  # noqa: E402

_META = MetaData()
_T = Table("t", _META, Column("id", Integer, primary_key=True), Column("v", String))
_SELECT = select(_T.c.id, _T.c.v).where(_T.c.id == bindparam("i"))
_INSERT = _T.insert().values(v=bindparam("v"))


def _per_call_us(samples: list[float], n: int) -> str:
    return f"{statistics.median(samples) / n * 1e6:6.1f} µs"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    n, rounds = (500, 3) if args.quick else (5000, 5)
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/paths.sqlite3"
        sync = create_sync_engine(f"sqlite:///{path}")
        _META.create_all(sync)
        with sync.begin() as conn:
            conn.execute(_T.insert(), [{"v": "x"}])
        results: dict[str, list[float]] = {}
        with sync.connect() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            for _ in range(rounds):
                start = time.process_time()
                for _ in range(n):
                    conn.execute(_SELECT, {"i": 1}).first()
                results.setdefault("sync", []).append(time.process_time() - start)
                start = time.process_time()
                for _ in range(n):
                    raw.execute("SELECT id, v FROM t WHERE id = ?", (1,)).fetchone()
                results.setdefault("raw", []).append(time.process_time() - start)
        sync.dispose()

        async def asynchronous() -> None:
            engine = create_engine(f"sqlite+aiosqlite:///{path}")
            sessions = session_factory(engine)
            async with engine.connect() as conn:
                for _ in range(rounds):
                    start = time.process_time()
                    for _ in range(n):
                        (await conn.execute(_SELECT, {"i": 1})).first()
                    results.setdefault("async", []).append(time.process_time() - start)
            writes = n // 10
            for _ in range(rounds):
                start = time.process_time()
                for _ in range(writes):
                    async with write_gate(engine), sessions() as session, session.begin():
                        await (await session.connection()).execute(_INSERT, {"v": "y"})
                results.setdefault("session tx", []).append((time.process_time() - start) * 10)
                start = time.process_time()
                for _ in range(writes):
                    async with write_gate(engine), engine.begin() as conn:
                        await conn.execute(_INSERT, {"v": "y"})
                results.setdefault("engine tx", []).append((time.process_time() - start) * 10)
            await engine.dispose()

        asyncio.run(asynchronous())
    print(f"SELECT by primary key, CPU per statement (median of {rounds} rounds of {n}):")
    print(f"  SQLAlchemy asyncio, inline connection (the bot's) {_per_call_us(results['async'], n)}")
    print(f"  SQLAlchemy sync, same file                        {_per_call_us(results['sync'], n)}")
    print(f"  sqlite3 itself                                    {_per_call_us(results['raw'], n)}")
    print("One-row write transaction, CPU each:")
    print(f"  AsyncSession                                      {_per_call_us(results['session tx'], n)}")
    print(f"  AsyncEngine connection                            {_per_call_us(results['engine tx'], n)}")


if __name__ == "__main__":
    main()
