"""Money for real, end to end (issue 14): the real `python -m bot` process in telegram mode against the fake
Bot API, in Stars and with a provider token: fund by invoice → submit → approve → payout marked done → both
told; the same successful_payment twice funds once; a payment after the contract ended is refunded; kill -9
between a successful_payment and its handling loses nothing; two payments for one milestone fund it once."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from domain.model import PaymentMode, Role
from domain.ports import UserProfile
from domain.services import ContractService
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.uow import uow_factory
from testkit.fake_telegram import FakeMessage, FakeTelegram
from testkit.process import TOKEN, BotProcess
from testkit.seed import new_milestone
from tests.e2e.test_kill9 import KillableBot, RecordingFake
from tests.e2e.test_story import press_ok

pytestmark = pytest.mark.e2e

PROVIDER = "284685063:TEST:ZmFrZS1wcm92aWRlcg"
ANN, BOB, OLGA = 1001, 1002, 9001
MODES = {
    "stars": ({}, "XTR", 250, "250 ⭐"),
    "provider": ({"PAYMENT_PROVIDER_TOKEN": PROVIDER}, "USD", 150_000, "$1,500.00"),
}


def seed_contract(db: Path, currency: str, amount: int, stars: bool) -> tuple[int, int]:
    """Ann (client) and Bob (freelancer) on a telegram-mode contract «Shop» with «Design» not funded yet,
    written the way the bot writes it; Bob's payout details given. Returns (contract id, milestone id)."""

    async def run() -> tuple[int, int]:
        from bot.settings import Settings

        engine = create_engine(f"sqlite+aiosqlite:///{db}", inline=Settings(_env_file=None).io_shims)
        try:
            await upgrade_to_head(engine)
            svc = ContractService(uow_factory(session_factory(engine)), payments=PaymentMode.TELEGRAM, stars=stars)
            now = datetime.now(UTC)
            for uid, name in ((ANN, "Ann"), (BOB, "Bob"), (OLGA, "Olga")):
                details = "IBAN DE89 3704 0044" if uid == BOB else None
                await svc.save_profile(UserProfile(id=uid, first_name=name, started=True, payout_details=details))
            c, invite = await svc.create_contract(ANN, Role.CLIENT, "Shop", currency, now)
            await svc.accept_invite(invite.token, BOB, now)
            today = now.date()
            out = await new_milestone(
                svc, ANN, now, c.id, title="Design", amount=amount, due_date=today + timedelta(days=14), today=today
            )
            assert c.id is not None and out.milestone is not None and out.milestone.id is not None
            return c.id, out.milestone.id
        finally:
            await engine.dispose()

    return asyncio.run(run())


def ledger(db: Path) -> list[tuple[str, int, str | None]]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT kind, amount, charge_id FROM ledger_entries ORDER BY id").fetchall()


def start_bot(tg: FakeTelegram, tmp_path: Path, mode: str, cls=BotProcess) -> tuple[BotProcess, int, int]:
    env, currency, amount, _ = MODES[mode]
    cid, mid = seed_contract(tmp_path / "bot.sqlite3", currency, amount, stars=mode == "stars")
    proc = cls(
        tg,
        tmp_path / "bot.sqlite3",
        tmp_path / "bot.log",
        extra_env={"PAYMENTS": "telegram", "OPERATOR_IDS": str(OLGA), **env},
    )
    proc.start()
    return proc, cid, mid


@pytest.fixture
def people(tg):
    return tg.user(ANN, "Ann", "ann", started=True), tg.user(BOB, "Bob", "bob", started=True)


def invoice(tg: FakeTelegram, ann, cid: int) -> FakeMessage:
    mark = tg.mark()
    tg.send_text(ann, f"/start c{cid}")
    card = tg.wait_for_message(ann, "you are the client", after=mark)
    mark = tg.mark()
    press_ok(tg, ann, card, "Activate & fund «Design»", "Here is the invoice: pay it to fund the milestone.")
    return tg.wait_for(
        lambda: next((m for m in tg.messages(ann) if m.seq > mark and m.media and "invoice" in m.media), None),
        10,
        description="the invoice",
    )


def checkout(tg: FakeTelegram, payer, message: FakeMessage) -> tuple[str, dict]:
    query = tg.start_payment(payer, message)
    answer = tg.wait_for(lambda: tg.pre_checkout_answers.get(query), 10, description="the pre-checkout answer")
    return query, answer


@pytest.fixture
def stopped():
    procs: list[BotProcess] = []
    yield procs
    for proc in procs:
        if proc.proc is not None:
            assert proc.stop() == 0, proc.tail()


@pytest.mark.parametrize("mode", ["stars", "provider"])
def test_fund_by_invoice_submit_approve_payout_and_both_told(tg, tmp_path, people, stopped, mode):
    ann, bob = people
    olga = tg.user(OLGA, "Olga", "olga", started=True)
    proc, cid, mid = start_bot(tg, tmp_path, mode)
    stopped.append(proc)
    _, currency, amount, shown = MODES[mode]
    inv = invoice(tg, ann, cid)
    asked = tg.invoice(inv)
    assert (asked["currency"], asked["total_amount"]) == (currency, amount)
    assert asked["provider_token"] == ("" if mode == "stars" else PROVIDER)
    query, answer = checkout(tg, ann, inv)
    assert answer["ok"] is True, answer
    mark = tg.mark()
    charge = tg.complete_payment(ann, query)
    tg.wait_for_message(ann, f"Paid {shown}: «Design» is funded.", after=mark)
    news = tg.wait_for_message(bob, f"Ann paid {shown} for «Design» in «Shop»: the money is held in escrow", after=mark)
    assert ledger(tmp_path / "bot.sqlite3") == [("fund", amount, charge)]

    mark = tg.mark()
    press_ok(tg, bob, news, "Submit work «Design»")
    tg.wait_for_message(bob, "Design", after=mark)
    mark = tg.mark()
    tg.send_text(bob, "all done")
    review = tg.wait_for_message(ann, "Bob submitted work for «Design»", after=mark)
    mark = tg.mark()
    press_ok(tg, ann, review, "Approve & release «Design»")
    confirm = tg.wait_for_message(ann, f"Release {shown} to Bob for «Design»?", after=mark)
    mark = tg.mark()
    press_ok(tg, ann, confirm, "Release")
    tg.wait_for_message(bob, "The escrow agent pays it out to you", after=mark)

    mark = tg.mark()
    tg.send_text(olga, "/desk")
    desk = tg.wait_for_message(olga, "Escrow desk", after=mark)
    assert f"p{mid} Payout {shown} to Bob" in desk.plain_text and "IBAN DE89 3704 0044" in desk.plain_text
    mark = tg.mark()
    tg.send_text(olga, f"/paid p{mid} WIRE-0001")
    tg.wait_for_message(olga, "Recorded:", after=mark)
    told = tg.wait_for_message(bob, f"The payout of {shown} for «Design» in «Shop» was sent to you.", after=mark)
    assert "Reference: WIRE-0001" in told.plain_text
    tg.wait_for_message(ann, f"The escrow agent sent the payout of {shown} for «Design» in «Shop» to Bob.", after=mark)
    kinds = [(k, a) for k, a, _ in ledger(tmp_path / "bot.sqlite3")]
    assert kinds == [("fund", amount), ("release", amount), ("payout", amount)]

    # The ledger as CSV: uploaded with sendDocument straight after the turn (not through the outbox).
    mark = tg.mark()
    tg.send_text(olga, "/ledgercsv")
    document = tg.wait_for(
        lambda: next((m for m in tg.messages(olga) if m.seq > mark and m.media and "document" in m.media), None),
        10,
        description="the ledger CSV",
    )
    lines = tg.uploads[document.file_id].decode("utf-8-sig").splitlines()
    assert len(lines) == 4 and lines[3].split(",")[8:12] == ["payout", str(amount), str(OLGA), "WIRE-0001"]


def test_the_same_successful_payment_twice_funds_once(tg, tmp_path, people, stopped):
    ann, bob = people
    proc, cid, _ = start_bot(tg, tmp_path, "provider")
    stopped.append(proc)
    query, _ = checkout(tg, ann, invoice(tg, ann, cid))
    mark = tg.mark()
    charge = tg.complete_payment(ann, query)
    tg.wait_for_message(bob, "the money is held in escrow", after=mark)
    tg.complete_payment(ann, query, charge_id=charge)
    tg.wait_until_consumed()
    tg.send_text(ann, "/help")  # one more update behind it: once it is answered, the duplicate was handled
    tg.wait_for_message(ann, "Telegram Payments", after=mark)
    assert ledger(tmp_path / "bot.sqlite3") == [("fund", 150_000, charge)]
    assert sum("held in escrow" in m.plain_text for m in tg.messages(bob)) == 1
    assert "Traceback" not in proc.output()


def test_a_payment_after_the_contract_ended_is_refunded(tg, tmp_path, people, stopped):
    ann, _ = people
    proc, cid, _ = start_bot(tg, tmp_path, "stars")
    stopped.append(proc)
    query, answer = checkout(tg, ann, invoice(tg, ann, cid))
    assert answer["ok"]
    mark = tg.mark()
    tg.send_text(ann, f"/start c{cid}")
    card = tg.wait_for_message(ann, "you are the client", after=mark)
    mark = tg.mark()
    press_ok(tg, ann, card, "End contract")
    asked = tg.wait_for_message(ann, "End Shop?", after=mark)
    press_ok(tg, ann, asked, "End contract now", "The contract is ended.")
    mark = tg.mark()
    charge = tg.complete_payment(ann, query)
    tg.wait_for_message(ann, "could not be applied: This contract has ended", after=mark)
    tg.wait_for(lambda: tg.charges[charge]["refunded"], 10, description="the Stars refund")
    kinds = [(k, a, c) for k, a, c in ledger(tmp_path / "bot.sqlite3")]
    assert kinds == [("unapplied", 250, charge), ("refund_paid", 250, None)]


def test_kill9_between_successful_payment_and_its_handling_loses_nothing(tmp_path, stopped):
    with RecordingFake(TOKEN) as tg:
        ann = tg.user(ANN, "Ann", "ann", started=True)
        bob = tg.user(BOB, "Bob", "bob", started=True)
        proc, cid, _ = start_bot(tg, tmp_path, "stars", cls=KillableBot)
        stopped.append(proc)
        tg.abort_check = None
        inv = invoice(tg, ann, cid)
        query, _ = checkout(tg, ann, inv)
        assert isinstance(proc, KillableBot) and proc.proc is not None
        # Ann's second device opens the payment form too, and its pre-checkout answer is slow: her updates are
        # handled in order, so the successful_payment right behind it is fetched and stored, not handled yet.
        tg.slow_next("answerPreCheckoutQuery", 3.0)
        tg.start_payment(ann, inv)
        tg.arm(proc.proc.pid)  # SIGKILL the moment the process confirms the updates it fetched
        charge = tg.complete_payment(ann, query)
        running = proc.proc
        tg.wait_for(lambda: running.poll() is not None, 15, description="the kill at the confirmation")
        assert tg.disarm(), "killed by the armed SIGKILL"
        proc.reap()
        assert ledger(tmp_path / "bot.sqlite3") == [], "killed before the payment was handled"
        proc.start()  # the inbox has it (stored before it was confirmed): handled now, once
        tg.wait_for_message(bob, "the money is held in escrow", timeout=15)
        tg.wait_for(lambda: ledger(tmp_path / "bot.sqlite3"), 10, description="the funding")
        assert ledger(tmp_path / "bot.sqlite3") == [("fund", 250, charge)]
        assert tg.charges[charge]["refunded"] is False


def test_two_payments_for_one_milestone_at_once_fund_it_once_and_refund_the_other(tg, tmp_path, people, stopped):
    ann, _ = people
    proc, cid, _ = start_bot(tg, tmp_path, "stars")
    stopped.append(proc)
    inv = invoice(tg, ann, cid)
    first, _ = checkout(tg, ann, inv)  # two devices: both pass pre-checkout before either is paid
    second, _ = checkout(tg, ann, inv)
    one = tg.complete_payment(ann, first)
    two = tg.complete_payment(ann, second)
    tg.wait_for(lambda: tg.charges[one]["refunded"] or tg.charges[two]["refunded"], 15, description="a refund")
    rows = ledger(tmp_path / "bot.sqlite3")
    assert sorted(k for k, _, _ in rows) == ["fund", "refund_paid", "unapplied"]
    funded = next(c for k, _, c in rows if k == "fund")
    assert tg.charges[funded]["refunded"] is False and sum(c["refunded"] for c in tg.charges.values()) == 1
