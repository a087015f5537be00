"""The fault matrix (issue 10, "Durable in and out"; PRODUCT.md §6 "Out").

Each Bot API call that an approval, an activation (activate & fund), a submission (Submit work, then
its note) and a request for changes (Request changes, then its reason) makes gets one fault of each
kind, one test id a cell. The calls, as one run of each action shows in `tg.calls`:

    approve   answerCallbackQuery, editMessageText (the client's card), sendMessage news to the freelancer
    activate  answerCallbackQuery, editMessageText (the client's card), sendMessage news to the freelancer
    submit    answerCallbackQuery, sendMessage prompt for the note, sendMessage "Work submitted",
              sendMessage news to the client, sendMessage card to the freelancer
    changes   answerCallbackQuery, sendMessage prompt for the reason, sendMessage "Change request sent",
              sendMessage news to the freelancer, sendMessage card to the client

A submission and a change request edit nothing (the press is answered with a prompt, the typed text with
new messages); the cell ids name the calls answer, edit, prompt, reply, news, card. The contract and the
milestone's state before the action are made through the service; the action itself goes through the
handlers: a press on the actor's contract card (opened with /start c<id>), then the typed text.

The faults, each on exactly one call (the first one matching, armed once the card is open; a retry of
it, or any other call, runs clean):

    500, 502   Telegram's server errors (as FakeTelegram.fail_next answers them)
    drop       the connection closes without an answer (the fake drops it before running the call)
    slow       the call runs, its answer comes SLOW_S late: later than python-telegram-bot's default read
               timeout, sooner than the sender's. Scaled down twenty times to keep the matrix fast: the
               default (5 s, testkit.harness.InProcessRequest.read_timeout, as PTB's HTTPXRequest) is
               PTB_DEFAULT_READ_S = 0.25 s, the sender's (bot.sender.READ_TIMEOUT_S, 30 s) SENDER_READ_S
               = 1.5 s, SLOW_S = 0.5 s. So the press's answer (the only call made with the default
               timeout) times out after 0.25 s though Telegram took it, and each outbox call (made with the
               sender's timeout) is waited for, not repeated. (A repeated edit would not show: Telegram
               answers "message is not modified", which the sender takes as done; the sends would.)
               test_unscaled_slow_press_answer does the press's answer once at the real 5 s.
    429        Too Many Requests, retry_after 1 s
    403        Forbidden (as if blocked). On the other party's news: they are marked unreachable and the
               actor is told. On one of the actor's own messages (an unlikely case: they just pressed): the
               actor is marked unreachable; nobody gets a hint.

Each cell asserts: the change happened exactly once (milestone, ledger and history through the service);
the other party got the news exactly once (successful sendMessage calls to them with the news) - except
for a 403 on that news, where they can't be told and the actor gets the "couldn't message" hint exactly
once instead (and no hint in any other cell); nobody is sent "Sorry, something went wrong" (no call
carries it: neither a press's answer nor a message); an outbox call faulted transiently is delivered
exactly once in the end, one faulted 403 never; the press's answer (best effort, never retried) reaches
Telegram at most once; no call is refused as malformed, and nothing is logged as an error.

After the module a table of the figures is printed: per cell the faulted call's statuses in order, the
news delivered to the other party, the hints sent, the sender's retried and maybe_sent counts, and the
seconds the action took until everything it caused was delivered.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

import bot.sender
from domain.actions import Action
from domain.model import LedgerKind, MilestoneStatus, Role
from testkit.harness import InProcessRequest
from testkit.seed import new_milestone

from .helpers import bad_calls, open_card, svc

APOLOGY = "Sorry, something went wrong"
HINT = "I couldn't message"
PTB_DEFAULT_READ_S = 0.25  # python-telegram-bot's default read timeout (5 s), scaled
SENDER_READ_S = 1.5  # the sender's (bot.sender.READ_TIMEOUT_S, 30 s), scaled
SLOW_S = 0.5  # between the two
NOTE = "Mockups: https://example.com/v1"
REASON = "Please use the brand colours"

FAULTS = ["500", "502", "drop", "slow", "429", "403"]
TRANSIENT = {"500", "502", "drop", "slow", "429"}


@dataclass(frozen=True)
class Target:
    """One Bot API call an action makes: its method, to whom (actor/other), a piece of its text."""

    method: str
    to: str | None = None
    text: str | None = None


# The news each action sends the other party (as in the sendMessage's HTML text).
NEWS = {
    "approve": "Ann approved «Design»",
    "activate": "Ann activated and funded «Design»",
    "submit": "Bob submitted work for «Design»",
    "changes": "Ann requested changes to «Design»",
}
CARD = "📄 <b>Website redesign</b>"
CALLS: dict[str, dict[str, Target]] = {
    "approve": {
        "answer": Target("answerCallbackQuery"),
        "edit": Target("editMessageText", "actor"),
        "news": Target("sendMessage", "other", NEWS["approve"]),
    },
    "activate": {
        "answer": Target("answerCallbackQuery"),
        "edit": Target("editMessageText", "actor"),
        "news": Target("sendMessage", "other", NEWS["activate"]),
    },
    "submit": {
        "answer": Target("answerCallbackQuery"),
        "prompt": Target("sendMessage", "actor", "Send a <b>note</b>"),
        "reply": Target("sendMessage", "actor", "Work submitted"),
        "news": Target("sendMessage", "other", NEWS["submit"]),
        "card": Target("sendMessage", "actor", CARD),
    },
    "changes": {
        "answer": Target("answerCallbackQuery"),
        "prompt": Target("sendMessage", "actor", "What should be changed"),
        "reply": Target("sendMessage", "actor", "Change request sent"),
        "news": Target("sendMessage", "other", NEWS["changes"]),
        "card": Target("sendMessage", "actor", CARD),
    },
}
CELLS = [
    pytest.param(action, call, fault, id=f"{action}-{call}-{fault}")
    for action, calls in CALLS.items()
    for call in calls
    for fault in FAULTS
]

FIGURES: list[dict[str, Any]] = []


@pytest.fixture(scope="module", autouse=True)
def figures_table(request):
    """After the module: one line per cell, the figures the assertions were made on."""
    yield
    if not FIGURES:
        return
    head = f"{'cell':<26} {'faulted call':<22} {'news':>4} {'hint':>4} {'retried':>7} {'maybe':>5} {'s':>5}"
    lines = ["", "fault matrix (faulted call: its statuses in order; 0 = dropped, late = answered after the delay)"]
    lines += [head, "-" * len(head)]
    for f in FIGURES:
        lines.append(
            f"{f['cell']:<26} {f['statuses']:<22} {f['news']:>4} {f['hints']:>4} "
            f"{f['retried']:>7} {f['maybe_sent']:>5} {f['seconds']:>5.1f}"
        )
    passed = sum(1 for f in FIGURES if f["passed"])
    lines.append(f"{passed}/{len(FIGURES)} cells passed, {sum(f['seconds'] for f in FIGURES):.1f} s in the actions")
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        print("\n".join(lines))


@pytest.fixture
def scaled(monkeypatch):
    """The two read timeouts, scaled down twenty times (see the module's docstring)."""
    monkeypatch.setattr(InProcessRequest, "read_timeout", property(lambda self: PTB_DEFAULT_READ_S))
    monkeypatch.setattr(bot.sender, "READ_TIMEOUT_S", SENDER_READ_S)


def arm(tg, method: str, fault: str, slow_s: float = SLOW_S) -> None:
    if fault == "drop":
        tg.drop_next(method)
    elif fault == "slow":
        tg.slow_next(method, slow_s)
    elif fault == "429":
        tg.fail_next(method, 429, retry_after=1)
    else:
        tg.fail_next(method, int(fault))


class Injector:
    """Faults the first call matching `target` (and only it): armed on the fake just before it serves
    that call, so a retry, or another call of the same method, runs clean."""

    def __init__(self, tg, fault: str, target: Target, actor: int, other: int, slow_s: float = SLOW_S) -> None:
        self.tg, self.fault, self.target = tg, fault, target
        self.chats = {"actor": actor, "other": other}
        self.slow_s = slow_s
        self.fired = 0
        self.since = len(tg.calls)  # the calls from here on are the action's
        self._serve: Callable[..., Any] = tg.call_direct_delayed
        tg.call_direct_delayed = self._call  # what testkit.harness.InProcessRequest calls

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        t = self.target
        if method != t.method:
            return False
        if t.to is not None and int(params.get("chat_id", 0)) != self.chats[t.to]:
            return False
        return t.text is None or t.text in str(params.get("text", ""))

    def _call(self, method: str, params: dict[str, Any]):
        if not self.fired and self.matches(method, params):
            self.fired += 1
            arm(self.tg, method, self.fault, self.slow_s)
        return self._serve(method, params)


async def settle(h) -> None:
    """What the updates so far caused, delivered: retries after their backoff or retry_after included."""
    await h.pump()
    await h.app.bot_data["sender"].drain(timeout=20, retries=True)
    await h.app.bot_data["turns"].settle_answers()


async def seed(h, ann, bob, action: str) -> tuple[int, int]:
    """Ann (client) and Bob (freelancer) have opened the bot; their contract «Website redesign» has
    «Design» ($1,500) and «Build» ($700), Design as the action needs it. Through the service: only the
    action under test goes through the handlers."""
    await h.send(ann, "/start")
    await h.send(bob, "/start")
    s, now = svc(h), h.clock()
    contract, invite = await s.create_contract(ann.id, Role.CLIENT, "Website redesign", "USD", now)
    await s.accept_invite(invite.token, bob.id, now)
    today = now.date()
    design = await new_milestone(
        s, ann.id, now, contract.id, title="Design", amount=150_000, due_date=today + timedelta(14), today=today
    )
    await new_milestone(
        s, ann.id, now, contract.id, title="Build", amount=70_000, due_date=today + timedelta(21), today=today
    )
    ms = design.milestone.id
    if action != "activate":
        await s.perform(Action.ACTIVATE, ann.id, now, milestone_id=ms)
    if action in ("approve", "changes"):
        await s.perform(Action.SUBMIT, bob.id, now, milestone_id=ms, note="first try")
    await settle(h)
    return contract.id, ms


async def act(h, ann, bob, action: str, cid: int, fault: Callable[[], Injector]) -> Injector:
    """The action as its person does it: a press on their contract card, then (submit, changes) the text.
    The fault is armed once the card is open (the card is a sendMessage too); for an approval, once it
    asked "Release $1,500.00 to Bob for «Design»?" (issue 12): the faulted press is the confirmed one."""
    actor = bob if action == "submit" else ann
    card = await open_card(h, actor, cid)
    if action == "approve":
        h.tg.press(actor, card, "Approve & release")
        await settle(h)
        card = h.last(actor)
    injector = fault()
    label = {
        "approve": "Release",
        "activate": "Activate & fund",
        "submit": "Submit work",
        "changes": "Request changes",
    }[action]
    h.tg.press(actor, card, label)
    await settle(h)
    if action == "submit":
        h.tg.send_text(actor, NOTE)
    elif action == "changes":
        h.tg.send_text(actor, REASON)
    await settle(h)
    return injector


async def changed_once(h, action: str, cid: int, ms: int, viewer: int) -> None:
    """The change is there, and there once: the milestone, the ledger and the history say so."""
    s = svc(h)
    milestone = (await s.view(cid, viewer)).milestone(ms)
    ledger = [(e.kind, e.amount) for e in await s.ledger(cid)]
    _, history = await s.history(cid, viewer)
    events = [e.action for e in history if e.milestone_id == ms]
    if action == "approve":
        assert milestone.status is MilestoneStatus.RELEASED
        assert sorted(ledger) == sorted([(LedgerKind.FUND, 150_000), (LedgerKind.RELEASE, 150_000)])
        assert events.count("released") == 1
    elif action == "activate":
        assert milestone.status is MilestoneStatus.ACTIVE
        assert ledger == [(LedgerKind.FUND, 150_000)]
        assert events.count("activated") == 1
    elif action == "submit":
        assert (milestone.status, milestone.submission_note) == (MilestoneStatus.SUBMITTED, NOTE)
        assert ledger == [(LedgerKind.FUND, 150_000)]
        assert events.count("submitted") == 1
    else:
        assert (milestone.status, milestone.change_reason) == (MilestoneStatus.ACTIVE, REASON)
        assert milestone.revision_count == 1
        assert ledger == [(LedgerKind.FUND, 150_000)]
        assert events.count("changes_requested") == 1 and events.count("submitted") == 1


def sent_ok(calls, chat: int, text: str) -> int:
    return sum(
        1
        for c in calls
        if c.method == "sendMessage" and c.ok and int(c.params["chat_id"]) == chat and text in c.params["text"]
    )


@pytest.mark.parametrize(("action", "call", "fault"), CELLS)
async def test_fault_matrix(harness, people, tg, scaled, caplog, action, call, fault):
    ann, bob, _ = people
    actor, other = (bob, ann) if action == "submit" else (ann, bob)
    target = CALLS[action][call]
    cid, ms = await seed(harness, ann, bob, action)
    sender = harness.app.bot_data["sender"]
    counts_before = dict(sender.counts)
    figures = {"cell": f"{action}-{call}-{fault}", "passed": False, "statuses": "?", "seconds": 0.0}
    figures.update(news="?", hints="?", retried="?", maybe_sent="?")
    FIGURES.append(figures)

    started = time.monotonic()
    injector = await act(harness, ann, bob, action, cid, lambda: Injector(tg, fault, target, actor.id, other.id))
    figures["seconds"] = time.monotonic() - started
    calls = [c for c in tg.calls[injector.since :] if c.method != "getUpdates"]
    hits = [c for c in calls if injector.matches(c.method, c.params)]
    news = sent_ok(calls, other.id, NEWS[action])
    hints = sent_ok(calls, actor.id, HINT) + sent_ok(calls, other.id, HINT)
    figures.update(
        statuses=",".join("late" if fault == "slow" and i == 0 else str(c.status) for i, c in enumerate(hits)),
        news=news,
        hints=hints,
        retried=sender.counts["retried"] - counts_before["retried"],
        maybe_sent=sender.counts["maybe_sent"] - counts_before["maybe_sent"],
    )

    assert injector.fired == 1, f"the action made no {target}: {[(c.method, c.status) for c in calls]}"
    await changed_once(harness, action, cid, ms, ann.id)
    if call == "news" and fault == "403":
        assert news == 0
        assert sent_ok(calls, actor.id, HINT) == 1, "the actor is told, once, that the other can't be reached"
        assert sent_ok(calls, other.id, HINT) == 0
    else:
        assert news == 1, f"the news reached the other party {news} times"
        assert hints == 0
    said = [str(c.params.get("text", "")) for c in calls]
    assert not any(APOLOGY in text for text in said), [t for t in said if APOLOGY in t]
    delivered = sum(1 for c in hits if c.ok)
    if target.method == "answerCallbackQuery":
        assert delivered <= 1  # best effort: not retried, never twice
    elif fault in TRANSIENT:
        assert delivered == 1, f"{target} delivered {delivered} times: {[c.status for c in hits]}"
    else:
        assert delivered == 0
    assert bad_calls(tg) == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    figures["passed"] = True


async def test_unscaled_slow_press_answer(harness, people, tg):
    """The press's answer 5.5 s late against python-telegram-bot's real default read timeout (5 s): the
    bot waits 5 s for it, in the background, and gives up (Telegram took it; the bot can't know). The
    approval stands, its news went out at once, nothing is repeated and nobody is sent an apology."""
    ann, bob, _ = people
    cid, ms = await seed(harness, ann, bob, "approve")
    started, wall = time.monotonic(), time.time()
    injector = await act(
        harness, ann, bob, "approve", cid, lambda: Injector(tg, "slow", CALLS["approve"]["answer"], ann.id, bob.id, 5.5)
    )
    assert time.monotonic() - started >= 5.0  # settle() waited for the answer's read timeout
    calls = [c for c in tg.calls[injector.since :] if c.method != "getUpdates"]
    assert injector.fired == 1
    await changed_once(harness, "approve", cid, ms, ann.id)
    [news] = [c for c in calls if c.method == "sendMessage" and c.ok and NEWS["approve"] in c.params["text"]]
    assert int(news.params["chat_id"]) == bob.id
    assert news.at - wall < 2.0, "the news waited for the press's slow answer"
    assert [c.status for c in calls if c.method == "answerCallbackQuery"] == [200]  # once: taken, not repeated
    assert not any(APOLOGY in str(c.params.get("text", "")) for c in calls)


@pytest.mark.parametrize("fault", FAULTS)
async def test_only_a_lost_answer_counts_as_maybe_sent(harness, people, tg, scaled, fault):
    """PRODUCT.md §6: a message may arrive twice only where Telegram's answer to it was lost, and that case
    is counted. The approval's news faulted once: only the dropped connection is an answer lost (Telegram
    may have taken the message); a 500 or 502 (bot/sender.py: "5xx" is not lost), a 429 and a 403 are
    Telegram's answers, and the slow answer came within the sender's read timeout."""
    ann, bob, _ = people
    cid, _ = await seed(harness, ann, bob, "approve")
    sender = harness.app.bot_data["sender"]
    before = sender.counts["maybe_sent"]
    await act(harness, ann, bob, "approve", cid, lambda: Injector(tg, fault, CALLS["approve"]["news"], ann.id, bob.id))
    assert sender.counts["maybe_sent"] - before == (1 if fault == "drop" else 0)
