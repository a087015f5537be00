"""A dispute through the real bot process (PRODUCT §8): opened by the client's taps, an offer and a
counter-offer, the escalation after DISPUTE_DAYS, the operator's decision, both parties told, and the next
milestone activated.

The process runs on the real clock and a day can't pass in a test: once the offers are exchanged, the test
moves only the dispute's opening time back by DISPUTE_DAYS (1 day) in the bot's database and marks the
milestone changed (next_reminder_at = now, as any change marks it and as bench.sweep_scale does), so the
next sweep plans the escalation as due."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.settings import Settings
from domain.actions import Action
from domain.model import Role
from storage.db import create_engine
from storage.models import MilestoneRow
from testkit.process import BotProcess
from testkit.seed import new_milestone, seed

pytestmark = pytest.mark.e2e


async def open_a_day_earlier(db, milestone_id: int) -> None:
    """Only the dispute's opening time goes back a day; the row is marked changed for the sweep to plan it."""
    engine = create_engine(f"sqlite+aiosqlite:///{db}", inline=Settings(_env_file=None).io_shims)
    try:
        async with engine.begin() as conn:
            opened = (
                await conn.execute(select(MilestoneRow.dispute_opened_at).where(MilestoneRow.id == milestone_id))
            ).scalar_one()
            assert opened is not None, "the dispute was opened through the process"
            await conn.execute(
                update(MilestoneRow)
                .where(MilestoneRow.id == milestone_id)
                .values(dispute_opened_at=opened - timedelta(days=1), next_reminder_at=datetime.now(UTC))
            )
    finally:
        await engine.dispose()


class DisputeBot(BotProcess):
    def env(self) -> dict[str, str]:
        env = super().env()
        env.update(REMINDER_SWEEP_SECONDS="0.3", OPERATOR_IDS="509", DISPUTE_DAYS="1")
        return env


def test_dispute_counter_offer_escalation_decision_and_the_next_milestone(tg, tmp_path):
    ann, bob = tg.user(501, "Ann", started=True), tg.user(502, "Bob", started=True)
    olga = tg.user(509, "Olga", started=True)
    ids: list[int] = []

    async def plan(svc, now):
        c, inv = await svc.create_contract(ann.id, Role.CLIENT, "Logo", "USD", now - timedelta(days=3))
        await svc.accept_invite(inv.token, bob.id, now - timedelta(days=3))
        for title, amount in (("Design", 150_000), ("Build", 70_000)):
            out = await new_milestone(
                svc,
                ann.id,
                now - timedelta(days=3),
                c.id,
                title=title,
                amount=amount,
                due_date=now.date() + timedelta(days=30),
                today=now.date(),
            )
            ids.append(out.milestone.id)
        design = ids[0]
        await svc.perform(Action.ACTIVATE, ann.id, now - timedelta(days=3), milestone_id=design)
        await svc.perform(Action.SUBMIT, bob.id, now - timedelta(days=2), milestone_id=design, note="mockups v1")
        return c.id

    asyncio.run(seed(tmp_path / "bot.sqlite3", [(u.id, u.first_name, "UTC") for u in (ann, bob, olga)], plan))
    proc = DisputeBot(tg, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    tg.abort_check = proc.died
    proc.start()
    try:
        # Ann opens the dispute from her card, with a reason; Bob is told.
        tg.send_text(ann, "/milestones")
        card = tg.wait_for_message(ann, "you are the client", timeout=20)
        tg.press(ann, card, "Open a dispute")
        tg.wait_for_message(ann, "Send the reason", timeout=20)
        tg.send_text(ann, "the logo is wrong")
        tg.wait_for_message(bob, "opened a dispute about «Design»", timeout=20)
        # Ann offers a split from her card.
        mark = tg.mark()
        tg.send_text(ann, "/milestones")
        card = tg.wait_for_message(ann, "you are the client", timeout=20, after=mark)
        tg.press(ann, card, "Offer a split")
        tg.wait_for_message(ann, "Send the amount to the freelancer", timeout=20)
        tg.send_text(ann, "500")
        note = tg.wait_for_message(ann, "Add a note", timeout=20)
        tg.press(ann, note, "Skip")
        tg.wait_for_message(bob, "Offer: $500.00 to the freelancer, $1,000.00 to the client", timeout=20)
        # Bob counters the client's offer from his card.
        tg.send_text(bob, "/milestones")
        card = tg.wait_for_message(bob, "you are the freelancer", timeout=20)
        assert any(label.startswith("Counter-offer") for label, _ in card.buttons), card.buttons
        tg.press(bob, card, "Counter-offer")
        tg.wait_for_message(bob, "Send the amount to the freelancer", timeout=20)
        tg.send_text(bob, "1200")
        tg.wait_for_message(bob, "Add a note", timeout=20)
        tg.send_text(bob, "the mockups are all done")
        tg.wait_for_message(ann, "Counter-offer: $1,200.00 to the freelancer, $300.00 to the client", timeout=20)
        assert not tg.messages(olga), "nothing goes to the operator before DISPUTE_DAYS"
        # A day passes for the dispute only: its opening time moves back by DISPUTE_DAYS.
        asyncio.run(open_a_day_earlier(tmp_path / "bot.sqlite3", ids[0]))
        # No agreement within DISPUTE_DAYS: the operator gets both sides; the parties are told.
        case = tg.wait_for_message(olga, "Dispute about «Design» in «Logo»", timeout=90)
        assert "the logo is wrong" in case.plain_text and "the mockups are all done" in case.plain_text
        assert "mockups v1" in case.plain_text
        tg.wait_for_message(ann, "an operator now decides", timeout=20)
        tg.wait_for_message(bob, "an operator now decides", timeout=20)
        # The operator decides the split with a note.
        tg.press(olga, case, "Decide the split")
        tg.wait_for_message(olga, "Send the amount to the freelancer", timeout=20)
        tg.send_text(olga, "1000")
        tg.wait_for_message(olga, "Send the note", timeout=20)
        tg.send_text(olga, "the logo needs a redo; the rest is delivered")
        question = tg.wait_for_message(olga, "$1,000.00 to the freelancer, $500.00 back to the client?", timeout=20)
        tg.press(olga, question, "Decide")
        for party in (ann, bob):
            told = tg.wait_for_message(party, "An operator decided the dispute about «Design»", timeout=20)
            assert "the logo needs a redo" in told.plain_text
        news = tg.wait_for_message(ann, "An operator decided the dispute about «Design»", timeout=5)
        # The way to the next milestone is open: Ann activates it from the news.
        tg.press(ann, news, "Activate & fund «Build»")
        tg.wait_for_message(bob, "activated and funded «Build»", timeout=20)
    finally:
        tg.abort_check = None
        code = proc.stop()
    assert code == 0, proc.tail()
