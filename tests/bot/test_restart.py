"""A restart keeps half-finished conversations; /settings and the user's time zone (PRODUCT.md 3, 5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.model import MilestoneStatus
from testkit.harness import make_app

from .helpers import (
    add_milestone,
    bad_calls,
    display_date,
    every_press_is_answered,  # noqa: F401 (a fixture)
    milestones,
    open_card,
    setup_contract,
    svc,
    usd,
)

pytestmark = pytest.mark.usefixtures("every_press_is_answered")


async def restart(harness, tg, db_url, clock) -> None:
    """Shut the running app down and start a new one on the same database (no flush: each step is
    committed with the update that took it)."""
    await harness.app.shutdown()
    await harness.app.bot_data["engine"].dispose()
    harness.app = await make_app(tg, db_url, clock)


async def test_add_milestone_continues_after_a_restart(harness, people, tg, db_url, clock):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    await harness.send(ann, "/addmilestone")
    await harness.send(ann, "Design")
    asked = await harness.send(ann, "1,250.50")
    assert "due date" in asked.plain_text

    await restart(harness, tg, db_url, clock)

    asked = await harness.send(ann, "tomorrow")
    assert "description" in asked.plain_text  # the due-date step, answered
    await harness.press(ann, asked, "Skip")
    summary = harness.last(ann)
    due = clock().date() + timedelta(days=1)
    assert "Title: Design" in summary.plain_text and f"Amount: {usd(125_050)}" in summary.plain_text
    assert f"Due date: {display_date(due)}" in summary.plain_text
    answer = await harness.press(ann, summary, "Save")
    assert answer["text"] == "Saved."
    [ms] = await milestones(harness, cid, ann)
    assert (ms.title, ms.amount, ms.due_date) == ("Design", 125_050, due)
    assert bad_calls(tg) == []


async def test_a_submission_note_asked_before_a_restart_is_taken_after_it(harness, people, tg, db_url, clock):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    await add_milestone(harness, ann, "Design", "1500", "in 2 weeks")
    card = await open_card(harness, ann, cid)
    await harness.press(ann, card, "Activate & fund")
    await harness.press(bob, harness.last(bob), "Submit work")
    assert "note" in harness.last(bob).plain_text

    await restart(harness, tg, db_url, clock)

    ann_count = len(tg.messages(ann))
    await harness.send(bob, "Here it is")
    [review] = tg.messages(ann)[ann_count:]
    assert "Here it is" in review.plain_text
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.SUBMITTED
    # The finished conversation is not resumed by a later restart.
    await restart(harness, tg, db_url, clock)
    bob_count = len(tg.messages(bob))
    await harness.send(bob, "stray text")
    assert not any("Work submitted" in m.plain_text for m in tg.messages(bob)[bob_count:])


def local_clock(clock, zone) -> str:
    return clock().astimezone(zone).strftime("%a %d %b %Y, %H:%M")


async def test_settings_sets_the_time_zone_by_button_and_by_typing(harness, people, clock, tg):
    ann, _, _ = people
    menu = await harness.send(ann, "/settings")
    assert "Time zone: UTC" in menu.plain_text
    assert "Europe/Berlin" in [label for label, _ in menu.buttons]

    await harness.press(ann, menu, "Europe/Berlin")
    shown = harness.last(ann)
    assert "Time zone set to Europe/Berlin" in shown.plain_text
    assert f"Your time now: {local_clock(clock, ZoneInfo('Europe/Berlin'))} (Europe/Berlin)" in shown.plain_text
    assert (await svc(harness).profile(ann.id)).timezone == "Europe/Berlin"

    refused = await harness.send(ann, "Mars/Olympus")
    assert "Unknown time zone" in refused.plain_text and "time zone" in refused.plain_text
    assert (await svc(harness).profile(ann.id)).timezone == "Europe/Berlin"

    shown = await harness.send(ann, "UTC+3")
    plus_three = (clock() + timedelta(hours=3)).strftime("%a %d %b %Y, %H:%M")
    assert f"Your time now: {plus_three} (UTC+03:00)" in shown.plain_text

    await harness.press(ann, shown, "Type a time zone")
    assert "time zone" in harness.last(ann).plain_text
    refused = await harness.send(ann, "Mars/Olympus")
    assert "Unknown time zone" in refused.plain_text
    shown = await harness.send(ann, "Europe/Berlin")
    assert "Time zone set to Europe/Berlin" in shown.plain_text
    assert (await svc(harness).profile(ann.id)).timezone == "Europe/Berlin"

    await harness.press(ann, shown, "Quiet hours")
    refused = await harness.send(ann, "25-99")
    assert "quiet hours" in refused.plain_text.lower()
    shown = await harness.send(ann, "22:00-08:00")
    assert "Quiet hours saved" in shown.plain_text and "22:00–08:00" in shown.plain_text

    answer = await harness.press(ann, shown, "Done")
    assert answer["text"] == "Saved."
    assert harness.last(ann).buttons == []
    assert bad_calls(tg) == []


async def test_today_is_the_users_own_date(harness, people, clock, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    clock.now = datetime(2026, 11, 27, 23, 30, tzinfo=UTC)
    tokyo_today = clock().astimezone(ZoneInfo("Asia/Tokyo")).date()
    utc_today = clock().date()
    assert tokyo_today != utc_today  # the point of the test

    await harness.send(ann, "/settings")
    await harness.send(ann, "Asia/Tokyo")
    await harness.press(ann, harness.last(ann), "Done")

    await harness.send(ann, "/addmilestone")
    await harness.send(ann, "Design")
    await harness.send(ann, "100")
    refused = await harness.send(ann, utc_today.isoformat())  # already yesterday in Tokyo
    assert "today or later" in refused.plain_text
    asked = await harness.send(ann, "today")
    await harness.press(ann, asked, "Skip")
    assert f"Due date: {display_date(tokyo_today)}" in harness.last(ann).plain_text
    await harness.press(ann, harness.last(ann), "Save")

    # Bob keeps the default zone (UTC): his "today" is still the 27th.
    await add_milestone(harness, bob, "Extra", "50", "today")
    contract = await svc(harness).view(cid, ann.id)
    dues = {m.title: m.due_date for m in contract.milestones}
    assert dues == {"Design": tokyo_today, "Extra": utc_today}
    assert bad_calls(tg) == []
