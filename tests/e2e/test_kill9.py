"""A seeded kill -9 test: the real bot process is SIGKILLed at random moments (at least 20 times) while
people press buttons on many contracts and walk guided conversations; it is restarted after each kill.

Once everything has settled (PRODUCT §6, ARCHITECTURE "Durable in and out"):
- every update the fake delivered is in the inbox, handled exactly once, and each press did its thing once
  (the ledger balances: one fund, then at most one release or refund, per milestone);
- every committed change's news reached the other party; a message arrived twice only where counted
  (duplicated deliveries <= SUM(outbox.maybe_sent));
- no conversation step is lost or applied to the wrong field: each person ends with exactly the contract
  or milestone they typed, and each question was asked once;
- a second Create after a crash makes no second contract.

The kills come three ways: after a random time alive (0–1.2 s); the moment a running process confirms
updates it fetched (a getUpdates offset: Telegram won't send those again, so only the inbox has them);
and the moment a fresh process confirms the backlog of presses that piled up while none ran. Delivered
means carried by a getUpdates answer (the fake keeps an update until an offset above it confirms it).

The plan (who does what, the texts, when each kill lands) comes from random.Random(seed), printed; set
KILL9_SEED to replay or vary it. Thread timing still varies from run to run."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.callbacks import Press, decode
from domain.model import Role
from testkit.fake_telegram import FakeMessage, FakeTelegram, FakeUser
from testkit.process import START_TIMEOUT, TOKEN, BotProcess
from testkit.seed import contract_with, seed

pytestmark = pytest.mark.e2e

DEFAULT_SEED = 20261202
N_BURST = 40  # contracts with a submitted milestone: presses by both parties
N_FORM = 10  # people walking /addmilestone
N_NEW = 10  # people walking /newcontract
N_CREATE = 3  # people who press Create, are killed right after, and press it again
KILLS_A = 12  # during the burst of presses (at least)
KILLS_B = 12  # during the guided conversations (at least; N_CREATE of them right after a Create)
WAVES_A = 6  # the deals begin in this many waves, one every other kill
WAVES_B = 5  # the same for the conversations
AT_CONFIRMATION = 0.35  # the share of kills timed to the moment the process confirms fetched updates
ARMED_START = 0.35  # the share of restarts killed the moment they confirm the backlog
FLOOD = 15  # contracts whose parties both press Refresh while no process runs, before an armed restart
WAIT = 45.0  # for one answer while the bot is being killed again and again
AMOUNT = "$500.00"  # the seeded milestones' amount
DURING = "kills while people were at it"  # someone had not finished (or not begun) what they do
MIDWAY = "kills while someone was mid-way"  # someone had begun and not finished


def kill9_seed() -> int:
    return int(os.environ.get("KILL9_SEED", DEFAULT_SEED))


# ----- the fake and the process, as this test needs them ----------------------------------------------------
class RecordingFake(FakeTelegram):
    """The fake Bot API, also keeping the id of every update it queued (a press returns its query id)."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.queued: list[int] = []
        self._armed: int | None = None  # a bot process to SIGKILL the moment it confirms updates
        self._fired = False

    def arm(self, pid: int) -> None:
        with self._lock:
            self._armed, self._fired = pid, False

    def disarm(self) -> bool:
        """True if the armed kill went off."""
        with self._lock:
            fired, self._armed, self._fired = self._fired, None, False
            return fired

    def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        with self._lock:
            if self._armed is not None and any(u["update_id"] < offset for u in self._updates):
                # The offset confirms updates the process fetched: Telegram won't send them again, and the
                # process dies now, before it has handled them all; the confirmation itself goes through.
                os.kill(self._armed, signal.SIGKILL)
                self._armed, self._fired = None, True
        return super()._api_getUpdates(params)

    def _queue(self, payload: dict[str, Any]) -> int:  # called with the fake's lock held
        update_id = super()._queue(payload)
        self.queued.append(update_id)
        return update_id

    def delivered(self) -> Counter[int]:
        """update_id -> how many getUpdates answers carried it (more than one: it came again after a kill)."""
        return Counter(
            u["update_id"] for c in self.calls_of("getUpdates") if c.ok for u in (c.response or {}).get("result", [])
        )

    def confirmed_below(self) -> int:
        """getUpdates confirms every update below its offset: the fake never delivers those again."""
        return max((int(c.params.get("offset") or 0) for c in self.calls_of("getUpdates")), default=0)


class KillableBot(BotProcess):
    on_spawn: Callable[[int], None] | None = None  # called with the new process's pid before it starts

    def wait_started(self) -> None:
        """Until it long-polls, or died (an armed kill went off while it started)."""
        assert self.proc is not None
        if self.on_spawn is not None:
            self.on_spawn(self.proc.pid)
            self.on_spawn = None
        proc = self.proc
        self.tg.wait_for(
            lambda: self.tg.is_polling or proc.poll() is not None,
            START_TIMEOUT,
            description="the bot to long-poll getUpdates (or die)",
        )

    def kill9(self) -> None:
        assert self.proc is not None
        code = self.proc.poll()
        assert code is None, f"the bot died by itself (exit code {code}) before the kill\n{self.tail()}"
        self.proc.kill()  # SIGKILL: no shutdown, whatever was in flight is cut off
        self.reap()

    def reap(self) -> None:
        assert self.proc is not None
        self.proc.wait(10)
        code = self.proc.returncode
        assert code == -signal.SIGKILL, f"the bot exited with {code}, not by SIGKILL\n{self.tail()}"
        self.exit_codes.append(code)
        self.proc = None


def query(db: Path, sql: str, *args: Any) -> list[tuple]:
    with closing(sqlite3.connect(db, timeout=30)) as conn:
        return conn.execute(sql, args).fetchall()


# ----- what people do ------------------------------------------------------------------------------------------
def seen(tg: FakeTelegram, chat: FakeUser, text: str, after: int = 0) -> list[FakeMessage]:
    """Bot messages in the chat, sent or edited after `after`, that show (or showed before an edit) `text`."""
    return [
        m
        for m in tg.messages(chat)
        if m.seq > after and (text in m.plain_text or any(text in old for old, _ in m.history))
    ]


def wait_msg(tg: FakeTelegram, chat: FakeUser, text: str, after: int) -> FakeMessage:
    """The bot's message containing `text`, sent or edited after `after`; blocking, not polling."""
    return tg.wait_for_bot_message(chat, after, text, timeout=WAIT)


def data_of(message: FakeMessage, label: str) -> str:
    found = [d for text, d in message.buttons if text.startswith(label) and d]
    assert found, f"no button {label!r} on {message.plain_text[:60]!r}: {message.buttons}"
    return found[0]


def tap(tg: FakeTelegram, user: FakeUser, message: FakeMessage, label: str, data: str) -> str:
    """Press the button on the message as it is now; if an edit took it away, the tap the person made on
    the message as it was before (same data: the bot can't tell the two apart)."""
    now = next((m for m in tg.messages(message.chat_id) if m.message_id == message.message_id), message)
    if any(text.startswith(label) and d == data for text, d in now.buttons):
        return tg.press(user, now, label, callback_data=data)
    return tg.press(user, now, forged_data=data)


def think(rng: random.Random) -> None:
    time.sleep(rng.uniform(0.0, 0.35))


class Drivers:
    """People acting in parallel, each in a thread; their failures are collected for the end."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._busy = 0

    def start(self, name: str, go: threading.Event, fn: Callable[..., None], *args: Any) -> None:
        """`fn(*args)` in a thread of its own, once `go` is set."""

        def run() -> None:
            go.wait()
            with self._lock:
                self._busy += 1
            try:
                fn(*args)
            except BaseException as exc:  # noqa: BLE001 - reported at the end, with the traceback
                self.errors.append(f"{name}: {exc}\n{traceback.format_exc(limit=4)}")
            finally:
                with self._lock:
                    self._busy -= 1

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    def busy(self) -> int:
        """People mid-way: begun and not done."""
        with self._lock:
            return self._busy

    def running(self) -> int:
        """People not done (also those who have not begun)."""
        return sum(t.is_alive() for t in self.threads)

    def join(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.0, deadline - time.monotonic()))


class Chaos:
    """Kills the bot process (SIGKILL) and starts it again, keeping count."""

    def __init__(
        self,
        tg: RecordingFake,
        proc: KillableBot,
        db: Path,
        drivers: Drivers,
        rng: random.Random,
        flood: Callable[[], int],
    ) -> None:
        self.tg, self.proc, self.db, self.drivers, self.rng, self.flood = tg, proc, db, drivers, rng, flood
        self.figures: Counter[str] = Counter()

    def kill(self, now: bool = False) -> None:
        """One kill, then a restart: now, after a random time alive, or the moment the process confirms
        updates it fetched (a getUpdates offset: Telegram won't send those again)."""
        busy = self.drivers.running(), self.drivers.busy()
        assert self.proc.proc is not None
        if not now and self.rng.random() < AT_CONFIRMATION:
            self.tg.arm(self.proc.proc.pid)
            deadline = time.monotonic() + 2.0
            while self.proc.proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.005)
            if self.tg.disarm():
                self.proc.reap()
                self.died("kills at a confirmation", busy)
                self.restart()
                return
        elif not now:
            time.sleep(self.rng.uniform(0.0, 0.15) if self.rng.random() < 0.25 else self.rng.uniform(0.15, 1.2))
        self.proc.kill9()
        self.died("kills at a random moment", busy)
        self.restart()

    def restart(self) -> None:
        """Start a process; sometimes armed: killed the moment it confirms the backlog of updates that piled
        up while no process ran (most of them not handled yet). Then another."""
        while True:
            busy = self.drivers.running(), self.drivers.busy()
            armed = self.rng.random() < ARMED_START
            if armed:  # a burst of presses while no process runs: the backlog the next one fetches at once
                self.figures["presses queued while down"] += self.flood()
            self.proc.on_spawn = self.tg.arm if armed else None
            self.proc.start()
            if not self.tg.disarm():
                return
            self.proc.reap()
            self.died("kills at a start's first confirmation", busy)

    def died(self, how: str, busy: tuple[int, int]) -> None:
        self.figures["kills"] += 1
        self.figures[how] += 1
        self.figures[DURING] += busy[0] > 0
        self.figures[MIDWAY] += busy[1] > 0
        # Updates the dead process stored and had not handled; those below the offset it confirmed will
        # not come from Telegram again: only the inbox has them.
        unhandled = [r[0] for r in query(self.db, "SELECT update_id FROM inbox WHERE handled_at IS NULL")]
        confirmed = self.tg.confirmed_below()
        self.figures["unhandled at a kill"] += len(unhandled)
        self.figures["confirmed, unhandled at a kill"] += sum(1 for u in unhandled if u < confirmed)


# ----- (a) the burst of presses --------------------------------------------------------------------------------
class Deal:
    """A seeded contract «K9 nn» whose milestone «K9 nn work» ($500) is submitted, and what is done to it."""

    def __init__(self, i: int, tg: FakeTelegram, kind: str, rng: random.Random) -> None:
        self.i = i
        self.title = f"K9 {i:02d}"
        self.ms = f"{self.title} work"
        self.client = tg.user(10_000 + i, f"Cl{i:02d}", started=True)
        self.freelancer = tg.user(20_000 + i, f"Fr{i:02d}", started=True)
        self.kind = kind  # approve, race, changes or refund
        self.rng = rng
        self.double = rng.random() < 0.5  # the client taps Release (Approve's confirmation) twice
        self.reason = f"Reason {i}: make <it> bigger & bolder"
        self.note = f"Note {i}: v2 at https://example.com/{i}?a=1&b=2"
        self.client_card: FakeMessage | None = None
        self.freelancer_card: FakeMessage | None = None

    @property
    def released_news(self) -> str:
        return f"{self.client.first_name} approved «{self.ms}» and released {AMOUNT}"

    @property
    def refunded_news(self) -> str:
        return f"{self.freelancer.first_name} refunded «{self.ms}» ({AMOUNT})"

    def ask(self, tg: FakeTelegram, user: FakeUser, card: FakeMessage, label: str, question: str) -> str:
        """A money tap asks first (issue 12): the tap, then the question on the card (perhaps already
        replaced by a Refresh pressed meanwhile); the data of its confirm button."""
        mark = tg.mark()
        data = data_of(card, label)
        tap(tg, user, card, label, data)
        tg.wait_for(lambda: seen(tg, user, question, mark), WAIT, poll=0.05, description=f"{self.title}: {question}")
        press = decode(data)
        assert isinstance(press, Press), data
        return replace(press, confirmed=True).encode()

    def act(self, tg: FakeTelegram) -> None:
        assert self.client_card is not None and self.freelancer_card is not None
        rng, client, freelancer = self.rng, self.client, self.freelancer
        release_asked, refund_asked = f"Release {AMOUNT} to", f"Refund {AMOUNT} to"
        mark = tg.mark()
        if self.kind == "approve":
            release = self.ask(tg, client, self.client_card, "Approve & release", release_asked)
            tap(tg, client, self.client_card, "Release", release)
            if self.double:
                tap(tg, client, self.client_card, "Release", release)
            if rng.random() < 0.5:  # the freelancer looks at the history meanwhile
                tap(tg, freelancer, self.freelancer_card, "History", data_of(self.freelancer_card, "History"))
            wait_msg(tg, freelancer, self.released_news, mark)
        elif self.kind == "refund":
            refund = self.ask(tg, freelancer, self.freelancer_card, "Refund", refund_asked)
            tap(tg, freelancer, self.freelancer_card, "Refund", refund)
            wait_msg(tg, client, self.refunded_news, mark)
        elif self.kind == "race":  # both asked, then both confirm at once: one wins, the other is refused
            release = self.ask(tg, client, self.client_card, "Approve & release", release_asked)
            refund = self.ask(tg, freelancer, self.freelancer_card, "Refund", refund_asked)
            presses = [
                lambda: tap(tg, client, self.client_card, "Release", release),
                lambda: tap(tg, freelancer, self.freelancer_card, "Refund", refund),
            ]
            rng.shuffle(presses)
            presses[0]()
            time.sleep(rng.uniform(0.0, 0.05))
            presses[1]()
            tg.wait_for(
                lambda: seen(tg, freelancer, self.released_news, mark) or seen(tg, client, self.refunded_news, mark),
                WAIT,
                poll=0.1,
                description=f"{self.title}: the approval or the refund",
            )
        else:  # changes: a reason typed, the work submitted again with a note, then approved
            tap(tg, client, self.client_card, "Request changes", data_of(self.client_card, "Request changes"))
            wait_msg(tg, client, f"What should be changed in {self.ms}?", mark)
            think(rng)
            mark = tg.mark()
            tg.send_text(client, self.reason)
            wait_msg(tg, client, "Change request sent to the freelancer.", mark)
            back = wait_msg(tg, freelancer, f"{client.first_name} requested changes to «{self.ms}»", mark)
            think(rng)
            mark = tg.mark()
            tg.press(freelancer, back, f"Submit work «{self.ms}»")
            wait_msg(tg, freelancer, f"Submitting work for {self.ms}.", mark)
            think(rng)
            mark = tg.mark()
            tg.send_text(freelancer, self.note)
            wait_msg(tg, freelancer, "Work submitted: the client is asked to review it.", mark)
            told = wait_msg(tg, client, f"{freelancer.first_name} submitted work for «{self.ms}»", mark)
            think(rng)
            mark = tg.mark()
            tg.press(client, told, f"Approve & release «{self.ms}»")
            tg.press(client, wait_msg(tg, client, release_asked, mark), "Release")
            wait_msg(tg, freelancer, self.released_news, mark)


# ----- (b) guided conversations --------------------------------------------------------------------------------
class FormWalker:
    """A client of a seeded active contract adds a milestone: /addmilestone → title → amount → due → description."""

    def __init__(self, i: int, tg: FakeTelegram, rng: random.Random, today: date) -> None:
        self.user = tg.user(30_000 + i, f"Fo{i:02d}", started=True)
        self.partner = tg.user(31_000 + i, f"Pa{i:02d}", started=True)
        self.contract = f"Form {i:02d}"
        self.currency = rng.choice(["USD", "EUR", "GBP", "JPY"])
        self.title = f"Step {i:02d} <&> kept"
        if self.currency == "JPY":
            self.amount = rng.randint(100, 999_999)
            self.typed_amount = str(self.amount)
        else:
            self.amount = rng.randint(100, 99_999_999)
            self.typed_amount = f"{self.amount // 100:,}.{self.amount % 100:02d}"
        self.due = today + timedelta(days=rng.randint(20, 200))
        self.description = f"Described {i}: the <b>whole</b> thing & more" if rng.random() < 0.5 else ""
        self.rng = rng

    def walk(self, tg: FakeTelegram) -> None:
        user, rng = self.user, self.rng
        for typed, asked in (
            ("/addmilestone", "Send the milestone's title"),
            (self.title, f"Send the amount in {self.currency}"),
            (self.typed_amount, "Send the due date"),
            (self.due.isoformat(), "Send a description"),
        ):
            mark = tg.mark()
            tg.send_text(user, typed)
            prompt = wait_msg(tg, user, asked, mark)
            think(rng)
        mark = tg.mark()
        if self.description:
            tg.send_text(user, self.description)
        else:
            tg.press(user, prompt, "Skip")
        summary = wait_msg(tg, user, "Milestone summary", mark)
        assert f"Title: {self.title}" in summary.plain_text, summary.plain_text
        think(rng)
        mark = tg.mark()
        tg.press(user, summary, "Save")
        wait_msg(tg, user, "you are the client", mark)


class ContractWalker:
    """A new person walks /newcontract: title → currency (a button, or typed) → role → Create."""

    CURRENCIES = ["USD", "EUR", "GBP", "JPY", "CAD", "AUD"]

    def __init__(self, uid: int, name: str, tg: FakeTelegram, rng: random.Random) -> None:
        self.user = tg.user(uid, name, started=True)
        self.title = f"New {name} & <co> ✓"
        self.typed_currency = rng.random() < 0.25
        self.currency = rng.choice(["CHF", "NOK"] if self.typed_currency else self.CURRENCIES)
        self.role = rng.choice([Role.CLIENT, Role.FREELANCER])
        self.rng = rng

    def to_summary(self, tg: FakeTelegram) -> FakeMessage:
        user, rng = self.user, self.rng
        mark = tg.mark()
        tg.send_text(user, "/newcontract")
        wait_msg(tg, user, "What is its title?", mark)
        think(rng)
        mark = tg.mark()
        tg.send_text(user, self.title)
        asked = wait_msg(tg, user, "Which currency?", mark)
        think(rng)
        mark = tg.mark()
        if self.typed_currency:
            tg.send_text(user, self.currency)
        else:
            tg.press(user, asked, self.currency)
        asked = wait_msg(tg, user, "Which side are you on?", mark)
        assert asked.plain_text.startswith(f"Currency: {self.currency}."), asked.plain_text
        think(rng)
        mark = tg.mark()
        tg.press(user, asked, f"I am the {self.role.value}")
        summary = wait_msg(tg, user, f"New contract {self.title} in {self.currency}", mark)
        assert f"you are the {self.role.value}" in summary.plain_text, summary.plain_text
        return summary

    def walk(self, tg: FakeTelegram) -> None:
        summary = self.to_summary(tg)
        think(self.rng)
        mark = tg.mark()
        tg.press(self.user, summary, "Create")
        wait_msg(tg, self.user, "Forward this invite link", mark)


# ----- the test ------------------------------------------------------------------------------------------------
def test_kill9_at_random_moments_loses_nothing_and_repeats_nothing(tmp_path):
    seed_value = kill9_seed()
    print(f"\nkill -9 test: seed {seed_value} (replay with KILL9_SEED={seed_value})")
    rng = random.Random(seed_value)
    started_at = time.monotonic()
    today = datetime.now(UTC).date()
    db = tmp_path / "bot.sqlite3"

    with RecordingFake(TOKEN) as tg:
        kinds = ["approve"] * 14 + ["race"] * 8 + ["changes"] * 10 + ["refund"] * 8
        rng.shuffle(kinds)
        deals = [Deal(i, tg, kinds[i], random.Random(f"{seed_value}:deal:{i}")) for i in range(N_BURST)]
        forms = [FormWalker(i, tg, random.Random(f"{seed_value}:form:{i}"), today) for i in range(N_FORM)]
        walkers = [
            ContractWalker(40_000 + i, f"Nw{i:02d}", tg, random.Random(f"{seed_value}:new:{i}")) for i in range(N_NEW)
        ]
        creators = [
            ContractWalker(50_000 + i, f"Cr{i:02d}", tg, random.Random(f"{seed_value}:create:{i}"))
            for i in range(N_CREATE)
        ]
        seed_database(db, deals, forms, today)

        proc = KillableBot(tg, db, tmp_path / "bot.log")
        drivers = Drivers()
        tg.abort_check = proc.died
        proc.start()
        try:
            open_cards(tg, deals)
            setup_updates = len(tg.queued)
            tg.abort_check = None  # the process is killed on purpose from here on
            chaos = Chaos(tg, proc, db, drivers, rng, flood=lambda: refresh_flood(tg, rng.sample(deals, FLOOD)))

            # (a) kills during the burst of presses: the deals begin in waves, a new wave every other kill
            waves = [threading.Event() for _ in range(WAVES_A)]
            for d in deals:
                drivers.start(f"deal {d.title} ({d.kind})", waves[rng.randrange(WAVES_A)], d.act, tg)
            while chaos.figures["kills"] < KILLS_A:
                for wave in waves[: chaos.figures["kills"] // 2 + 1]:
                    wave.set()
                chaos.kill()
            for wave in waves:
                wave.set()
            chaos.figures["people not done after (a)"] = drivers.running()

            # (b) kills during guided conversations, begun in waves likewise; N_CREATE of the kills come right
            # after a Create, and the same Create is pressed again after the restart.
            waves = [threading.Event() for _ in range(WAVES_B)]
            for f in forms:
                drivers.start(f"form {f.contract}", waves[rng.randrange(WAVES_B)], f.walk, tg)
            for w in walkers:
                drivers.start(f"new contract {w.title}", waves[rng.randrange(WAVES_B)], w.walk, tg)
            steps = ["kill"] * (KILLS_B - N_CREATE) + ["create"] * N_CREATE
            rng.shuffle(steps)
            creations = iter(creators)
            for n, step in enumerate(steps):
                for wave in waves[: n // 2 + 1]:
                    wave.set()
                if step == "kill":
                    chaos.kill()
                    continue
                creator = next(creations)
                try:
                    create_killed_and_pressed_again(tg, chaos, creator, rng)
                except AssertionError as exc:
                    drivers.errors.append(f"Create of {creator.title}: {exc}")
            for wave in waves:
                wave.set()

            # Settle: the last process runs on; everyone finishes, every update is handled, the outbox empties.
            tg.abort_check = proc.died
            drivers.join(timeout=120)
            settled = settle(tg, db)
            time.sleep(1.0)  # anything late or repeated would show now
        finally:
            tg.abort_check = None
            if proc.proc is not None:
                code = proc.stop()
                assert code == 0, f"the last bot process exited with {code} on SIGTERM\n{proc.tail()}"
        elapsed = time.monotonic() - started_at

        # ----- the figures ------------------------------------------------------------------------------
        figures = chaos.figures
        delivered = tg.delivered()
        queued = set(tg.queued)
        inbox = dict(query(db, "SELECT update_id, coalesce(outcome, 'unhandled') FROM inbox"))
        outcomes = Counter(inbox.get(u, "not in the inbox") for u in queued)
        rows = query(db, "SELECT method, params, status, maybe_sent FROM outbox")
        maybe_sent = sum(m for *_, m in rows)
        written = Counter(
            (int(json.loads(p)["chat_id"]), json.loads(p)["text"])
            for method, p, _, _ in rows
            if method == "sendMessage"
        )
        arrived = Counter((int(c.params["chat_id"]), c.params["text"]) for c in tg.calls_of("sendMessage") if c.ok)
        lost = {k: n - arrived[k] for k, n in written.items() if arrived[k] < n}
        duplicated = {k: n - written[k] for k, n in arrived.items() if n > written[k]}
        n_duplicated = sum(duplicated.values())
        figures.update(
            {
                "updates": len(queued),
                "of them in the setup (no kills)": setup_updates,
                "fetched more than once": sum(1 for n in delivered.values() if n > 1),
                **{f"inbox {outcome}": n for outcome, n in outcomes.items()},
                "outbox rows": len(rows),
                "messages delivered": sum(arrived.values()),
                "duplicated": n_duplicated,
                "maybe_sent": maybe_sent,
                "process starts": proc.starts,
            }
        )
        print(f"kill -9 figures (seed {seed_value}, {elapsed:.1f} s):")
        for name, value in figures.items():
            print(f"  {name}: {value}")

        # ----- in: every update delivered is handled, exactly once ----------------------------------------
        assert figures["kills"] >= 20 and figures[DURING] >= 20
        assert set(delivered) == queued, f"never delivered: {sorted(queued - set(delivered))[:20]}"
        assert outcomes == Counter({"handled": len(queued)}), (
            f"{outcomes}; not handled: {sorted(u for u in queued if inbox.get(u) != 'handled')[:20]}"
        )

        # ----- out: every message written is delivered; twice only where counted ------------------------------
        statuses = Counter(status for _, _, status, _ in rows)
        assert set(statuses) == {"sent"}, statuses
        assert not lost, f"{len(lost)} message(s) written and never delivered: {list(lost)[:5]}"
        assert n_duplicated <= maybe_sent, f"duplicated {n_duplicated} > maybe_sent {maybe_sent}: {duplicated}"

        assert not drivers.errors, f"{len(drivers.errors)} people got stuck:\n" + "\n".join(drivers.errors[:5])
        assert drivers.running() == 0, "people still waiting after 120 s"
        assert settled, "the inbox or the outbox did not settle"

        check_burst(tg, db, deals)
        check_conversations(db, rows, forms, walkers + creators)
        assert "Unhandled error" not in proc.output(), proc.tail()


def seed_database(db: Path, deals: list[Deal], forms: list[FormWalker], today: date) -> None:
    async def plan(svc, now):
        for d in deals:
            due = today + timedelta(days=40)
            await contract_with(svc, now, d.client.id, d.freelancer.id, d.title, due, submitted_at=now)
        for f in forms:
            _, invite = await svc.create_contract(
                f.user.id, Role.CLIENT, f.contract, f.currency, now - timedelta(days=1)
            )
            await svc.accept_invite(invite.token, f.partner.id, now - timedelta(days=1))
        return {}

    people = [(p.id, p.first_name, "UTC") for d in deals for p in (d.client, d.freelancer)]
    people += [(p.id, p.first_name, "UTC") for f in forms for p in (f.user, f.partner)]
    asyncio.run(seed(db, people, plan))


def open_cards(tg: FakeTelegram, deals: list[Deal]) -> None:
    """Both parties of each deal open its card (before any kill): the buttons they will press."""
    mark = tg.mark()
    for d in deals:
        tg.send_text(d.client, "/milestones")
        tg.send_text(d.freelancer, "/milestones")
    for d in deals:
        d.client_card = tg.wait_for_bot_message(d.client, mark, "you are the client", timeout=30)
        d.freelancer_card = tg.wait_for_bot_message(d.freelancer, mark, "you are the freelancer", timeout=30)


def refresh_flood(tg: FakeTelegram, deals: list[Deal]) -> int:
    """Both parties of these deals press Refresh on their cards; the number of presses."""
    for d in deals:
        for user, card in ((d.client, d.client_card), (d.freelancer, d.freelancer_card)):
            assert card is not None
            tap(tg, user, card, "Refresh", data_of(card, "Refresh"))
    return 2 * len(deals)


def create_killed_and_pressed_again(tg: FakeTelegram, chaos: Chaos, creator: ContractWalker, rng: random.Random):
    """Create, a SIGKILL right after it, a restart, and the same Create button pressed again."""
    summary = creator.to_summary(tg)
    create = data_of(summary, "Create")
    mark = tg.mark()
    tg.press(creator.user, summary, "Create")
    time.sleep(rng.choice([0.0, 0.002, 0.01, 0.03, 0.08]))
    chaos.kill(now=True)
    again = tap(tg, creator.user, summary, "Create", create)
    wait_msg(tg, creator.user, "Forward this invite link", mark)
    answer = tg.wait_for_answer(again, timeout=WAIT)
    assert answer["show_alert"], answer  # refused, whatever the words
    chaos.figures["Creates pressed again after a kill"] += 1


def settle(tg: FakeTelegram, db: Path) -> bool:
    """Every update confirmed and handled, nothing left to send; False if that does not come."""
    try:
        tg.wait_until_consumed(timeout=30)
        tg.wait_for(
            lambda: (
                not query(
                    db,
                    "SELECT (SELECT count(*) FROM inbox WHERE handled_at IS NULL)"
                    " + (SELECT count(*) FROM outbox WHERE status = 'pending')",
                )[0][0]
            ),
            timeout=60,
            poll=0.2,
            description="the inbox handled and the outbox sent",
        )
    except AssertionError:
        return False
    return True


def check_burst(tg: FakeTelegram, db: Path, deals: list[Deal]) -> None:
    """Each press's effect happened once, the ledger balances, and the other party heard of it."""
    ms_rows = query(
        db, "SELECT title, id, status, amount, revision_count, change_reason, submission_note FROM milestones"
    )
    ledger = Counter(query(db, "SELECT milestone_id, kind FROM ledger_entries"))
    funded = dict(query(db, "SELECT milestone_id, sum(amount) FROM ledger_entries WHERE kind = 'fund' GROUP BY 1"))
    history = Counter(query(db, "SELECT milestone_id, action FROM history_entries"))
    for _, mid, status, amount, *_ in ms_rows:
        fund, release, refund = (ledger[(mid, kind)] for kind in ("fund", "release", "refund"))
        assert fund <= 1 and release + refund <= fund, (mid, status, fund, release, refund)
        assert release == (status == "released") and refund == (status == "refunded"), (mid, status, ledger)
        assert funded.get(mid, amount) == amount, (mid, amount, funded)
    by_title = {title: (mid, status, rc, reason, note) for title, mid, status, _, rc, reason, note in ms_rows}
    outcomes: Counter[str] = Counter()
    want = {"approve": {"released"}, "changes": {"released"}, "refund": {"refunded"}, "race": {"released", "refunded"}}
    for d in deals:
        mid, status, revisions, reason, note = by_title[d.ms]
        outcomes[f"{d.kind} → {status}"] += 1
        assert status in want[d.kind], (d.title, d.kind, status)
        if status == "released":
            assert history[(mid, "released")] == 1, (d.title, history)
            assert seen(tg, d.freelancer, d.released_news), f"{d.title}: the freelancer never heard of the release"
        else:
            assert history[(mid, "refunded")] == 1, (d.title, history)
            assert seen(tg, d.client, d.refunded_news), f"{d.title}: the client never heard of the refund"
        if d.kind == "changes":  # the reason and the note each went where they belong, once
            assert (revisions, reason, note) == (1, d.reason, d.note), (d.title, revisions, reason, note)
            assert history[(mid, "changes_requested")] == 1 and history[(mid, "submitted")] == 2, history
        else:
            assert revisions == 0 and history[(mid, "submitted")] == 1, (d.title, revisions, history)
    print("burst outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))


def check_conversations(db: Path, rows: list[tuple], forms: list[FormWalker], walkers: list[ContractWalker]) -> None:
    """Everyone ends with exactly what they typed, and each question was asked once (written once to the
    outbox; a delivery twice is counted with the duplicates)."""
    for f in forms:
        got = query(
            db,
            "SELECT m.title, m.amount, m.due_date, m.description, m.status FROM milestones m"
            " JOIN contracts c ON c.id = m.contract_id WHERE c.title = ?",
            f.contract,
        )
        assert got == [(f.title, f.amount, f.due.isoformat(), f.description, "not_funded")], (f.contract, got)
    for w in walkers:  # one contract each, also for those who pressed Create again after a kill
        got = query(
            db, "SELECT currency, created_by, client_id, freelancer_id, status FROM contracts WHERE title = ?", w.title
        )
        side = (w.user.id, None) if w.role is Role.CLIENT else (None, w.user.id)
        assert got == [(w.currency, w.user.id, *side, "pending")], (w.title, got)
    asked = Counter((int(json.loads(p)["chat_id"]), json.loads(p)["text"]) for m, p, _, _ in rows if m == "sendMessage")

    def times_asked(chat: int, prompt: str) -> int:
        return sum(n for (to, text), n in asked.items() if to == chat and prompt in text)

    for w in walkers:
        for prompt in ("What is its <b>title</b>?", "Which <b>currency</b>?", "Which side are you on?"):
            assert times_asked(w.user.id, prompt) == 1, (w.title, prompt, times_asked(w.user.id, prompt))
        assert times_asked(w.user.id, "New contract <b>") == 1, w.title
    for f in forms:
        for prompt in (
            "the milestone's <b>title</b>",
            "the <b>amount</b>",
            "the <b>due date</b>",
            "<b>description</b>",
            "<b>Milestone summary</b>",
        ):
            assert times_asked(f.user.id, prompt) == 1, (f.contract, prompt, times_asked(f.user.id, prompt))
