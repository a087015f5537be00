"""Issue 12, point 6: every time of day the bot shows is in the viewer's zone, with the zone named.

Ann (the client) lives in Berlin; Bob (the freelancer) never set a zone, so he sees UTC, named as such;
a group has no zone and sees UTC too. Bob submits at 10:00 UTC on Fri 27 Nov 2026, so the work is
released automatically 14 days later: Fri 11 Dec 2026 at 10:00 UTC, 11:00 in Berlin (CET)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from telegram.ext import CallbackContext

from bot.reminders import run_sweep

from .helpers import (
    add_milestone,
    bad_calls,
    message_by_id,
    open_card,
    setup_contract,
    story_so_far,
)

RELEASE_IN_BERLIN = "Fri 11 Dec 2026, 11:00 (Europe/Berlin)"
RELEASE_IN_UTC = "Fri 11 Dec 2026, 10:00 (UTC)"


async def set_zone(harness, user, zone: str) -> None:
    """/settings, type the zone, Done: as a person sets their zone."""
    menu = await harness.send(user, "/settings")
    await harness.press(user, menu, "Type a time zone")
    shown = await harness.send(user, zone)
    assert "Time zone set to" in shown.plain_text, shown.plain_text
    await harness.press(user, shown, "Done")


async def sweep(harness) -> dict:
    counts = await run_sweep(CallbackContext(harness.app))
    await harness.app.bot_data["sender"].drain()
    return counts


# ----- the card ---------------------------------------------------------------------------------------


async def test_the_card_shows_the_automatic_release_in_each_viewers_zone_with_the_zone_named(harness, people, tg):
    ann, bob, _ = people
    await set_zone(harness, ann, "Europe/Berlin")
    cid, _ = await story_so_far(harness, ann, bob)

    ann_card = (await open_card(harness, ann, cid)).plain_text
    assert f"«Design» is released automatically on {RELEASE_IN_BERLIN} unless the client approves" in ann_card

    # No zone set: UTC, and it says so.
    bob_card = (await open_card(harness, bob, cid)).plain_text
    assert f"«Design» is released automatically on {RELEASE_IN_UTC} unless the client approves" in bob_card

    # A typed offset is named as the offset.
    await set_zone(harness, bob, "UTC+5:30")
    bob_card = (await open_card(harness, bob, cid)).plain_text
    assert "released automatically on Fri 11 Dec 2026, 15:30 (UTC+05:30) unless" in bob_card
    assert bad_calls(tg) == []


async def test_the_card_converts_the_release_moment_not_today_across_a_clock_change(harness, people, clock):
    """Submitted in October (Berlin on summer time, UTC+2), released in November (winter time, UTC+1):
    the card shows the release at its own offset."""
    ann, bob, _ = people
    clock.now = datetime(2026, 10, 20, 10, 0, tzinfo=UTC)
    await set_zone(harness, ann, "Europe/Berlin")
    cid, _ = await story_so_far(harness, ann, bob)
    card = (await open_card(harness, ann, cid)).plain_text
    assert "released automatically on Tue 03 Nov 2026, 11:00 (Europe/Berlin) unless" in card


# ----- the reminder -----------------------------------------------------------------------------------


async def test_the_review_reminder_names_the_release_time_in_the_clients_zone(harness, people, clock):
    ann, bob, _ = people
    await set_zone(harness, ann, "Europe/Berlin")
    await story_so_far(harness, ann, bob)
    clock.now = datetime(2026, 11, 27, 10, 0, tzinfo=UTC) + timedelta(days=7, minutes=1)
    await sweep(harness)
    review = harness.last(ann).plain_text
    assert "waits for your review" in review, review
    assert f"released automatically in 7 days, on {RELEASE_IN_BERLIN}." in review
    assert "your time" not in review  # the zone is named instead


# ----- the history ------------------------------------------------------------------------------------


async def test_the_history_shows_each_entry_in_the_viewers_zone_with_the_zone_named(harness, people):
    ann, bob, _ = people
    await set_zone(harness, ann, "Europe/Berlin")
    cid, _ = await story_so_far(harness, ann, bob)

    await harness.press(ann, await open_card(harness, ann, cid), "History")
    ann_history = harness.last(ann).plain_text
    assert "Fri 27 Nov 2026, 11:00 (Europe/Berlin) — Ann created the contract" in ann_history
    assert "Fri 27 Nov 2026, 11:00 (Europe/Berlin) — Bob submitted work for «Design»" in ann_history

    await harness.press(bob, await open_card(harness, bob, cid), "History")
    bob_history = harness.last(bob).plain_text
    assert "Fri 27 Nov 2026, 10:00 (UTC) — Ann created the contract" in bob_history
    assert "Europe/Berlin" not in bob_history


# ----- news, and a group (which has no zone) -------------------------------------------------------------


async def test_news_is_written_for_each_recipient_and_a_group_sees_utc_named(harness, people, tg):
    ann, bob, _ = people
    group = tg.group(-100321, "Team")
    await set_zone(harness, ann, "Europe/Berlin")
    cid = await setup_contract(harness, ann, bob)
    await add_milestone(harness, ann, "Design", "1500", "in 2 weeks")
    linked = await harness.send(ann, "/link", chat=group)
    await harness.press(ann, await open_card(harness, ann, cid), "Activate & fund")
    group_count = len(tg.messages(group))
    await harness.press(bob, harness.last(bob), "Submit work")
    await harness.send(bob, "done")

    # The submission news tells the client until when she can review, in her zone...
    [ann_news] = [m for m in tg.messages(ann) if "submitted work for «Design»" in m.plain_text]
    assert f"released automatically on {RELEASE_IN_BERLIN}" in ann_news.plain_text
    # ...and the group the same moment in UTC, named, though Ann (in Berlin) linked it.
    [group_news] = [m for m in tg.messages(group)[group_count:] if "submitted work for «Design»" in m.plain_text]
    assert f"released automatically on {RELEASE_IN_UTC}" in group_news.plain_text

    # The group's card and history, whoever presses: UTC.
    await harness.press(ann, linked, "Refresh")
    card = message_by_id(tg, group, linked.message_id)  # edited in place
    assert f"released automatically on {RELEASE_IN_UTC}" in card.plain_text
    await harness.press(ann, card, "History")
    group_history = message_by_id(tg, group, linked.message_id).plain_text
    assert "Fri 27 Nov 2026, 10:00 (UTC) — Ann created the contract" in group_history
    assert "Europe/Berlin" not in group_history
    assert bad_calls(tg) == []


# ----- settings ---------------------------------------------------------------------------------------


async def test_settings_show_the_time_now_quiet_hours_and_reminder_hour_with_the_zone_named(harness, people):
    ann, _, _ = people
    menu = (await harness.send(ann, "/settings")).plain_text
    assert "Your time now: Fri 27 Nov 2026, 10:00 (UTC)" in menu
    assert "Reminders arrive at 09:00 (UTC)" in menu

    await harness.press(ann, harness.last(ann), "Europe/Berlin")
    shown = harness.last(ann)
    assert "Your time now: Fri 27 Nov 2026, 11:00 (Europe/Berlin)" in shown.plain_text
    await harness.press(ann, shown, "Quiet hours")
    shown = (await harness.send(ann, "22:00-08:00")).plain_text
    assert "Quiet hours for reminders: 22:00–08:00 (Europe/Berlin)" in shown
    assert "Reminders arrive at 09:00 (Europe/Berlin)" in shown
