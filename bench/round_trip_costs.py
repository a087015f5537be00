"""What one round trip of benchmark 1 costs: the bot process's CPU (read from /proc), and, with
--statements, the SQL statements it runs (by kind). Steadier than the round trips per second of
bench.throughput, which follow the VM's drifting speed and the driver's share of the two cores.

Run: .venv/bin/python -m bench.round_trip_costs [--kind ours|echo|echo-aiohttp] [--pairs N] [--repeats R]
     .venv/bin/python -m bench.round_trip_costs --statements      # ours, one run, statements per round trip
The driver and the flows are bench.throughput's (8 pairs at a time, the send pace off)."""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.throughput import TOKEN, Driver  # noqa: E402
from testkit.fake_telegram import FakeTelegram  # noqa: E402

# Run as the bot process with --statements: counts each statement SQLAlchemy sends, dumped on SIGUSR1.
_COUNTING_BOT = """
import collections, json, os, signal, sys
sys.path.insert(0, os.getcwd())
from sqlalchemy import event
from sqlalchemy.engine import Engine
seen = collections.Counter()
@event.listens_for(Engine, "before_cursor_execute")
def _count(conn, cursor, statement, params, context, executemany):
    seen[" ".join(statement.split())[:110]] += 1
def _dump(*_):
    with open(os.environ["STATEMENTS_OUT"], "w") as f:
        json.dump(seen, f)
signal.signal(signal.SIGUSR1, _dump)
from bot.__main__ import main
main()
"""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _statements(proc: subprocess.Popen, out: Path) -> collections.Counter:
    proc.send_signal(signal.SIGUSR1)
    for _ in range(50):
        time.sleep(0.1)
        if out.exists():
            try:
                counted = collections.Counter(json.loads(out.read_text()))
            except ValueError:
                continue  # being written
            out.unlink()
            return counted
    raise RuntimeError("the bot did not report its statements")


def once(kind: str, pairs: int, statements: bool) -> tuple[float, float, float, collections.Counter]:
    """(bot CPU ms per round trip, driver + fake CPU ms per round trip, round trips/s, statements)."""
    with tempfile.TemporaryDirectory() as tmp, FakeTelegram(TOKEN) as tg:
        out = Path(tmp) / "statements.json"
        env = {
            **os.environ,
            "BOT_TOKEN": TOKEN,
            "BOT_API_BASE_URL": tg.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.sqlite3",
            "LOG_LEVEL": "WARNING",
            "SEND_RATE_PER_SECOND": "0",
            "STATEMENTS_OUT": str(out),
        }
        if kind == "echo-aiohttp":
            env["ECHO_TRANSPORT"] = "aiohttp"
        if kind == "ours":
            command = [sys.executable, "-c", _COUNTING_BOT] if statements else [sys.executable, "-m", "bot"]
        else:
            command = [sys.executable, "-m", "bench.echo_bot"]
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            tg.abort_check = lambda: "bot died" if proc.poll() is not None else None
            tg.wait_until_polling(30)
            driver = Driver(tg)
            flow = driver.milestone_flow if kind == "ours" else driver.echo_flow
            flow(10_000)  # warm-up
            before = _statements(proc, out) if statements else collections.Counter()
            bot0, me0, t0 = cpu_seconds(proc.pid), cpu_seconds(os.getpid()), time.perf_counter()
            with ThreadPoolExecutor(8) as pool:
                done = sum(pool.map(flow, range(pairs)))
            bot1, me1, t1 = cpu_seconds(proc.pid), cpu_seconds(os.getpid()), time.perf_counter()
            counted = (_statements(proc, out) - before) if statements else collections.Counter()
            return (bot1 - bot0) / done * 1000, (me1 - me0) / done * 1000, done / (t1 - t0), counted
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=("ours", "echo", "echo-aiohttp"), default="ours")
    ap.add_argument("--pairs", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--statements", action="store_true", help="count SQL statements per round trip (ours)")
    ap.add_argument("--quick", action="store_true", help="8 pairs, one repeat")
    args = ap.parse_args()
    pairs, repeats = (8, 1) if args.quick else (args.pairs, args.repeats)
    if args.statements:
        _, _, _, counted = once("ours", pairs, statements=True)
        done = pairs * 18
        print(f"SQL statements per round trip: {sum(counted.values()) / done:.2f} ({pairs} pairs)")
        for statement, n in counted.most_common(25):
            print(f"  {n / done:5.2f}  {statement}")
        return
    runs = [once(args.kind, pairs, statements=False) for _ in range(repeats)]
    bot = [r[0] for r in runs]
    print(
        f"{args.kind}: bot CPU per round trip {statistics.median(bot):.2f} ms "
        f"(runs {', '.join(f'{b:.2f}' for b in bot)}); driver + fake {statistics.median(r[1] for r in runs):.2f} ms; "
        f"{statistics.median(r[2] for r in runs):.0f} round trips/s ({pairs} pairs, 8 at a time, {repeats} runs)"
    )


if __name__ == "__main__":
    main()
