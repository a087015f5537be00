"""Benchmark 1: completed round trips per second, our bot vs a bare echo bot, both real processes.

Run: .venv/bin/python -m bench.throughput [--quick] [--pairs N] [--concurrency C] [--repeats R]
Both bots poll the same strict fake Bot API server on 127.0.0.1. A driver plays client/freelancer
pairs concurrently; a round trip is one user action and the bot's answer to it (a message, an edit
or a button answer). Our bot does the whole milestone flow (create contract, invite, accept, add a
milestone, activate, submit, approve and confirm: 18 round trips per pair); the echo bot answers 18 texts per pair.
A round trip ends when the answer reaches the fake: for our bot (since issue 10) that is after the
update was stored in the inbox, handled in one transaction and its messages delivered from the outbox
by the sender. Each figure is the median of R runs; the ratio is taken within the same repeat.
"""

from __future__ import annotations

import argparse
import os
import re
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

from testkit.fake_telegram import FakeTelegram  # noqa: E402

TOKEN = "123456:bench-throughput"
STEPS = 18
POLL = 0.003


class Driver:
    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg

    def say(self, user, text: str, expect: str = "") -> None:
        """Send a text and wait for the bot's answer in that chat (a new or edited message with `expect`)."""
        mark = self.tg.mark()
        self.tg.send_text(user, text)
        self.wait(user, expect, mark)

    def tap(self, user, label: str, expect: str = "") -> None:
        """Press a button on the newest message that has it; wait for the answer and its message."""
        message = next(m for m in reversed(self.tg.messages(user)) if any(t.startswith(label) for t, _ in m.buttons))
        mark = self.tg.mark()
        qid = self.tg.press(user, message, label)
        self.wait(user, expect, mark)
        self.tg.wait_for(lambda: self.tg.answer_for(qid), timeout=30, poll=POLL)

    def wait(self, user, expect: str, mark: int) -> None:
        self.tg.wait_for_bot_message(user, mark, expect, timeout=30)

    def milestone_flow(self, i: int) -> int:
        tg = self.tg
        client = tg.user(100_000 + 2 * i, f"Client{i}", started=True)
        freelancer = tg.user(100_001 + 2 * i, f"Free{i}", started=True)
        self.say(client, "/newcontract", "title")
        self.say(client, f"Contract {i}", "currency")
        self.tap(client, "USD", "Which side")
        self.tap(client, "I am the client", "New contract")
        self.tap(client, "Create", "invite link")
        token = re.search(r"start=([A-Za-z0-9_-]+)", tg.last_message(client).plain_text).group(1)
        self.say(freelancer, f"/start {token}", "invites you")
        mark = tg.mark()
        self.tap(freelancer, "Accept", "you are the freelancer")
        self.wait(client, "accepted the invite", mark)
        self.say(client, "/addmilestone", "title")
        self.say(client, f"Design {i}", "amount")
        self.say(client, "1,500", "due date")
        self.say(client, "2030-12-31", "description")
        self.tap(client, "Skip", "summary")
        self.tap(client, "Save", "you are the client")
        mark = tg.mark()
        self.tap(client, "Activate", "In escrow $1,500.00")
        self.wait(freelancer, "activated and funded", mark)
        self.tap(freelancer, "Submit work", "note")
        mark = tg.mark()
        self.say(freelancer, "Here it is", "submitted")
        self.wait(client, "submitted work", mark)
        self.tap(client, "Approve", "Release $1,500.00 to")  # asks once (issue 12)
        self.tap(client, "Release", "Released $1,500.00")
        return STEPS

    def echo_flow(self, i: int) -> int:
        user = self.tg.user(200_000 + i, f"Echo{i}", started=True)
        for step in range(STEPS):
            self.say(user, f"hello {i} {step}", f"hello {i} {step}")
        return STEPS


SETUP_CALLS = {"getUpdates", "getMe", "setMyCommands", "deleteWebhook", "close", "logOut"}


def run_once(kind: str, pairs: int, concurrency: int, extra_env: dict[str, str]) -> tuple[float, float]:
    """(round trips per second, Bot API calls per round trip besides polling)."""
    with tempfile.TemporaryDirectory() as tmp, FakeTelegram(TOKEN) as tg:
        env = {
            **os.environ,
            "BOT_TOKEN": TOKEN,
            "BOT_API_BASE_URL": tg.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/bench.sqlite3",
            "LOG_LEVEL": "WARNING",
            **extra_env,
        }
        module = "bot" if kind == "ours" else "bench.echo_bot"
        proc = subprocess.Popen(
            [sys.executable, "-m", module], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            tg.abort_check = lambda: "bot died" if proc.poll() is not None else None
            tg.wait_until_polling(30)
            driver = Driver(tg)
            flow = driver.milestone_flow if kind == "ours" else driver.echo_flow
            if kind == "ours":
                driver.milestone_flow(10_000)  # warm-up: imports, first queries
            calls_before = sum(1 for c in tg.calls if c.method not in SETUP_CALLS)
            start = time.perf_counter()
            with ThreadPoolExecutor(concurrency) as pool:
                done = sum(pool.map(flow, range(pairs)))
            elapsed = time.perf_counter() - start
            calls = sum(1 for c in tg.calls if c.method not in SETUP_CALLS) - calls_before
            bad = [c for c in tg.calls if c.status not in (200, 499)]
            assert not bad, f"the fake refused calls: {[(c.method, c.status, c.description) for c in bad[:3]]}"
            return done / elapsed, calls / done
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(20)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true", help="few pairs, one repeat (under a minute)")
    ap.add_argument("--pairs", type=int, default=None, help="pairs (or echo users) played per run")
    ap.add_argument(
        "--concurrency",
        type=int,
        default=8,
        help="pairs in play at once; the driver and the fake server share one Python process, "
        "and above ~8 they, not the bots, set the pace on a 2-core machine",
    )
    ap.add_argument("--repeats", type=int, default=None)
    args = ap.parse_args()
    pairs = args.pairs or (16 if args.quick else 80)
    conc = args.concurrency
    repeats = args.repeats or (1 if args.quick else 5)
    echo, ours, ratios = [], [], []
    for r in range(repeats):
        e, e_calls = run_once("echo", pairs, conc, {})
        o, o_calls = run_once("ours", pairs, conc, {"SEND_RATE_PER_SECOND": "0"})
        echo.append(e)
        ours.append(o)
        ratios.append(o / e)
        print(
            f"repeat {r + 1}: echo {e:.1f} rt/s ({e_calls:.2f} API calls/rt), ours {o:.1f} rt/s "
            f"({o_calls:.2f} API calls/rt), ratio {o / e:.2f}",
            flush=True,
        )
    lim, _ = run_once("ours", pairs, conc, {})
    echo_aiohttp, _ = run_once("echo", pairs, conc, {"ECHO_TRANSPORT": "aiohttp"})
    print(f"\n{pairs} pairs, {conc} at a time, {repeats} repeats (medians):")
    print(f"  echo bot:                      {statistics.median(echo):7.1f} round trips/s")
    print(f"  milestone bot (no send pace):  {statistics.median(ours):7.1f} round trips/s")
    print(f"  ratio ours / echo:             {statistics.median(ratios):7.2f}   (target >= 0.8)")
    print(f"  Bot API calls per round trip (besides polling): echo {e_calls:.2f}, ours {o_calls:.2f}")
    print(f"  milestone bot with its 30 msg/s send pace on: {lim:.1f} round trips/s (one run)")
    print(
        f"  for context, echo bot on the milestone bot's aiohttp transport: {echo_aiohttp:.1f} round trips/s "
        f"(one run; ours / it = {statistics.median(ours) / echo_aiohttp:.2f})"
    )


if __name__ == "__main__":
    main()
