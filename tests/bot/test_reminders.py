"""Reminders delivered by the sweep job in-process: texts, buttons, auto-release, 429 and 403 handling."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from telegram.ext import CallbackContext

from bot.reminders import run_sweep
from domain.actions import Action
from domain.model import MilestoneStatus, Role
from domain.ports import UserProfile
from testkit.seed import new_milestone

UTC = UTC


async def seed(h, client, freelancer, due: date, *, submitted=False):
    svc = h.app.bot_data["deps"].svc
    now = h.clock()
    c, inv = await svc.create_contract(client.id, Role.CLIENT, "Shop", "USD", now)
    await svc.accept_invite(inv.token, freelancer.id, now)
    first = await new_milestone(
        svc, client.id, now, c.id, title="Design <1>", amount=150000, due_date=due, today=now.date()
    )
    second = await new_milestone(
        svc, client.id, now, c.id, title="Build", amount=90000, due_date=due + timedelta(days=30), today=now.date()
    )
    await svc.perform(Action.ACTIVATE, client.id, now, milestone_id=first.milestone.id)
    if submitted:
        await svc.perform(Action.SUBMIT, freelancer.id, now, milestone_id=first.milestone.id, note="done")
    return svc, c.id, first.milestone.id, second.milestone.id


async def sweep(h, retries: bool = False) -> dict:
    """A sweep, then the sender delivers what it queued (retries=True: also what waits to be tried again)."""
    counts = await run_sweep(CallbackContext(h.app))
    await h.app.bot_data["sender"].drain(retries=retries)
    return counts


async def test_due_soon_reaches_both_with_the_right_buttons_once(harness, people):
    h = harness
    ann, bob, _ = people
    await seed(h, ann, bob, date(2026, 12, 4))
    h.clock.now = datetime(2026, 12, 1, 9, 0, 5, tzinfo=UTC)  # 09:00 UTC, three days before
    counts = await sweep(h)
    assert counts["sent"] == 2
    bob_msg = h.last(bob)
    assert "«Design <1>» ($1,500.00) in «Shop» is due in 3 days" in bob_msg.plain_text
    assert any(text.startswith("Submit work") for text, _ in bob_msg.buttons)
    assert "is due in 3 days" in h.last(ann).plain_text
    assert not any(text.startswith("Submit work") for text, _ in h.last(ann).buttons)
    before = len(h.tg.calls_of("sendMessage"))
    assert (await sweep(h))["sent"] == 0  # each reminder once
    h.clock.advance(hours=3)
    assert (await sweep(h))["sent"] == 0
    assert len(h.tg.calls_of("sendMessage")) == before


async def test_reminders_follow_the_recipients_zone(harness, people):
    h = harness
    ann, bob, _ = people
    svc, *_ = await seed(h, ann, bob, date(2026, 12, 4))
    await svc.save_profile(UserProfile(id=bob.id, first_name="Bob", timezone="Asia/Tokyo", started=True), now=h.clock())
    h.clock.now = datetime(2026, 12, 1, 0, 0, 5, tzinfo=UTC)  # 09:00 in Tokyo, 00:00 UTC
    await sweep(h)
    assert "due in 3 days" in h.last(bob).plain_text
    assert h.last(ann) is None or "due in" not in h.last(ann).plain_text


async def test_catch_up_after_downtime_sends_the_latest_only(harness, people):
    h = harness
    ann, bob, _ = people
    await seed(h, ann, bob, date(2026, 12, 4))
    h.clock.now = datetime(2026, 12, 12, 10, 0, tzinfo=UTC)  # the bot was down 10 days
    counts = await sweep(h)
    assert counts["sent"] == 2
    texts = [m.plain_text for m in h.tg.messages(bob) if "overdue" in m.plain_text or "due" in m.plain_text]
    assert texts == ["⚠️ «Design <1>» ($1,500.00) in «Shop» is 8 days overdue: it was due on Fri 04 Dec 2026."]


async def test_review_countdown_then_auto_release_tells_both(harness, people):
    h = harness
    ann, bob, _ = people
    svc, cid, ms, _ = await seed(h, ann, bob, date(2026, 12, 20), submitted=True)
    submitted_at = h.clock()
    h.clock.now = submitted_at + timedelta(days=7, minutes=1)
    await sweep(h)
    review = h.last(ann)
    assert "waits for your review" in review.plain_text and "in 7 days" in review.plain_text
    assert [t for t, _ in review.buttons][:2] == ["Approve & release «Design <1>»", "Request changes"]
    h.clock.now = submitted_at + timedelta(days=14, seconds=1)
    counts = await sweep(h)
    assert counts["released"] == 1
    contract = await svc.view(cid, ann.id)
    assert contract.milestone(ms).status is MilestoneStatus.RELEASED
    assert "released automatically" in h.last(bob).plain_text
    assert "released automatically" in h.last(ann).plain_text
    assert any(t.startswith("Activate") for t, _ in h.last(ann).buttons)
    assert (await sweep(h))["released"] == 0


async def test_next_milestone_waiting_reminds_the_client(harness, people):
    h = harness
    ann, bob, _ = people
    svc, cid, ms, nxt = await seed(h, ann, bob, date(2026, 12, 20), submitted=True)
    await svc.perform(Action.APPROVE, ann.id, h.clock(), milestone_id=ms)
    h.clock.advance(days=1, minutes=1)
    await sweep(h)
    msg = h.last(ann)
    assert "was released 1 day ago" in msg.plain_text and "«Build»" in msg.plain_text
    assert msg.buttons[0] == ("Activate & fund «Build»", f"m:act:{nxt}")


async def test_a_429_leaves_the_reminder_pending_and_a_403_marks_the_person(harness, people):
    h = harness
    ann, bob, _ = people
    await seed(h, ann, bob, date(2026, 12, 4))
    h.clock.now = datetime(2026, 12, 1, 9, 0, 5, tzinfo=UTC)
    h.tg.block_user(bob)
    h.tg.fail_next("sendMessage", 429, retry_after=1)
    counts = await sweep(h, retries=True)  # queued; the sender waits the second Telegram asked for
    assert counts["sent"] == 2
    due_soon = [c for c in h.tg.calls_of("sendMessage") if "is due in 3 days" in c.params["text"]]
    assert sorted(c.status for c in due_soon) == [200, 403, 429]  # one 429, waited out and tried again
    assert sum(1 for c in due_soon if c.ok and int(c.params["chat_id"]) == ann.id) == 1  # once, after the 429
    profile = await h.app.bot_data["deps"].svc.profile(bob.id)
    assert profile.blocked
    assert not any((await sweep(h)).values())  # nothing more: not sent, skipped, held or retried
    assert sum(1 for c in h.tg.calls_of("sendMessage") if c.ok and "is due in 3 days" in c.params["text"]) == 1


async def test_a_network_error_leaves_the_reminder_for_the_next_sweep(harness, people):
    h = harness
    ann, bob, _ = people
    await seed(h, ann, bob, date(2026, 12, 4))
    h.clock.now = datetime(2026, 12, 1, 9, 0, 5, tzinfo=UTC)
    h.tg.drop_next("sendMessage")  # the connection drops without an answer
    first = await sweep(h, retries=True)  # queued; the sender tries the dropped one again
    assert first["sent"] == 2
    due_soon = [c for c in h.tg.calls_of("sendMessage") if c.ok and "is due in 3 days" in c.params["text"]]
    assert sorted(int(c.params["chat_id"]) for c in due_soon) == sorted([ann.id, bob.id])
    assert not any((await sweep(h)).values())


async def test_an_auto_release_claimed_by_a_process_that_died_still_happens(harness, people):
    h = harness
    ann, bob, _ = people
    svc, cid, ms, _ = await seed(h, ann, bob, date(2026, 12, 20), submitted=True)
    h.clock.now = h.clock() + timedelta(days=14, seconds=1)
    service = h.app.bot_data["deps"].extra["reminders"]
    found = [d for d in await service.sweep(h.clock()) if d.kind == "auto_release"]
    # A process found it and got as far as taking it, then died before releasing.
    assert [await service.take(d, h.clock()) for d in found] == ["send"]
    h.clock.advance(seconds=1)  # no lease to wait for: it is still planned
    counts = await sweep(h)
    assert counts["released"] == 1
    assert (await svc.view(cid, ann.id)).milestone(ms).status is MilestoneStatus.RELEASED


async def test_each_reminder_is_in_its_recipients_language(harness, people):
    """PRODUCT §9: the client chose Russian in /settings, the freelancer's Telegram is Spanish: the same
    due-soon reminder reaches each in their own language, with money and dates in their format."""
    from bot.i18n import speaking
    from bot.texts import fmt_date, money

    h = harness
    ann, bob, _ = people
    svc, *_ = await seed(h, ann, bob, date(2026, 12, 4))
    await svc.save_profile(UserProfile(id=ann.id, first_name="Ann", language="ru", started=True), now=h.clock())
    await svc.save_profile(
        UserProfile(id=bob.id, first_name="Bob", telegram_language="es-419", started=True), now=h.clock()
    )
    h.clock.now = datetime(2026, 12, 1, 9, 0, 5, tzinfo=UTC)
    assert (await sweep(h))["sent"] == 2
    for person, lang in ((ann, "ru"), (bob, "es")):
        with speaking(lang):
            amount, due = money(150000, "USD"), fmt_date(date(2026, 12, 4))
        text = h.last(person).plain_text
        assert amount in text and due in text, (lang, text)
        assert "is due in" not in text, text
    assert "3 дня" in h.last(ann).plain_text
    assert "3 días" in h.last(bob).plain_text
