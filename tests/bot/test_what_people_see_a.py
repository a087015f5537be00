"""What people see (issue 12, points 10-15): edits say what changed, a 1,000x typo is asked back,
reminders state their facts with the buttons that help, settings understand quiet hours, /help
explains, and the operator can follow what reminders did."""

from __future__ import annotations

import logging
import unicodedata
from datetime import UTC, date, datetime, time, timedelta

from domain.actions import Action
from domain.ports import UserProfile
from domain.reminders import ReminderSettings
from testkit.harness import Harness, make_app

from .helpers import add_milestone, bad_calls, display_date, milestones, open_card, setup_contract, svc
from .test_reminders import seed, sweep

# ----- 10. edits say what changed -------------------------------------------------------------------


async def test_edit_news_shows_old_and_new_for_each_changed_field(harness, people, clock, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    await add_milestone(harness, ann, "Build <1>", "1500", "tomorrow", "Old plan & notes")
    old_due = clock().date() + timedelta(days=1)
    new_due = clock().date() + timedelta(weeks=3)

    card = await open_card(harness, ann, cid)
    await harness.press(ann, card, "Edit «Build <1>»")
    await harness.press(ann, harness.last(ann), "Title")
    summary = await harness.send(ann, "Build <2>")
    for field, typed in (("Amount", "2,000"), ("Due date", "in 3 weeks"), ("Description", "New plan")):
        await harness.press(ann, summary, "Edit")
        await harness.press(ann, harness.last(ann), field)
        summary = await harness.send(ann, typed)
    bob_count = len(tg.messages(bob))
    answer = await harness.press(ann, summary, "Save")
    assert answer["text"] == "Changes saved."

    news = tg.messages(bob)[bob_count].plain_text
    assert news.startswith("✏️ Ann edited milestone «Build <2>» in «Website redesign»")
    assert "Title: «Build <1>» → «Build <2>»" in news
    assert "Amount: $1,500.00 → $2,000.00" in news
    assert f"Due date: {display_date(old_due)} → {display_date(new_due)}" in news
    assert "Description: Old plan & notes → New plan" in news
    assert bad_calls(tg) == []


async def test_edit_news_names_only_what_changed(harness, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    await add_milestone(harness, ann, "Build", "1500", "tomorrow")
    card = await open_card(harness, ann, cid)
    await harness.press(ann, card, "Edit «Build»")
    await harness.press(ann, harness.last(ann), "Amount")
    summary = await harness.send(ann, "1,750.50")
    bob_count = len(tg.messages(bob))
    await harness.press(ann, summary, "Save")
    news = tg.messages(bob)[bob_count].plain_text
    assert "Amount: $1,500.00 → $1,750.50" in news
    assert "Title:" not in news and "Due date:" not in news and "Description:" not in news


# ----- 11. a typo becomes 1,000x --------------------------------------------------------------------


async def test_a_dot_and_three_digits_in_usd_is_asked_back_not_read_as_thousands(harness, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    await harness.send(ann, "/addmilestone")
    await harness.send(ann, "Design")
    asked = await harness.send(ann, "12.345")
    assert "Did you mean $12,345.00 or $12.35? Type it as 12345 or 12.35." in asked.plain_text
    assert "amount" in asked.plain_text  # the same question again: the user types it anew
    asked = await harness.send(ann, "3.999")
    assert "Did you mean $3,999.00 or $4.00? Type it as 3999 or 4.00." in asked.plain_text
    asked = await harness.send(ann, "12.35")
    assert "due date" in asked.plain_text
    await harness.press(ann, await harness.send(ann, "tomorrow"), "Skip")
    await harness.press(ann, harness.last(ann), "Save")
    assert [m.amount for m in await milestones(harness, cid, ann)] == [1235]
    assert bad_calls(tg) == []


# ----- 12. reminders short of facts -----------------------------------------------------------------


def _labels(message) -> list[str]:
    return [label for label, _ in message.buttons]


async def test_next_milestone_reminder_gives_its_amount_and_due_date(harness, people):
    h = harness
    ann, bob, _ = people
    due = date(2026, 12, 20)
    svc_, _, ms, nxt = await seed(h, ann, bob, due, submitted=True)
    await svc_.perform(Action.APPROVE, ann.id, h.clock(), milestone_id=ms)
    h.clock.advance(days=1, minutes=1)
    await sweep(h)
    text = h.last(ann).plain_text
    assert "«Build» ($900.00, due " + display_date(due + timedelta(days=30)) + ")" in text
    assert h.last(ann).buttons[0] == ("Activate & fund «Build»", f"m:act:{nxt}")


async def test_clients_due_soon_and_overdue_reminders_carry_request_refund(harness, people):
    h = harness
    ann, bob, _ = people
    await seed(h, ann, bob, date(2026, 12, 4))
    h.clock.now = datetime(2026, 12, 1, 9, 0, 5, tzinfo=UTC)  # three days before
    await sweep(h)
    soon = h.last(ann)
    assert "is due in 3 days" in soon.plain_text
    assert "Request refund of «Design <1>»" in _labels(soon) and "Open contract" in _labels(soon)
    assert not any(label.startswith(("Submit", "Approve")) for label in _labels(soon))

    h.clock.now = datetime(2026, 12, 5, 9, 0, 5, tzinfo=UTC)  # a day late
    await sweep(h)
    late = h.last(ann)
    assert "1 day overdue" in late.plain_text
    assert "Request refund of «Design <1>»" in _labels(late) and "Open contract" in _labels(late)
    bob_late = h.last(bob)
    assert "1 day overdue" in bob_late.plain_text
    assert "Submit work «Design <1>»" in _labels(bob_late)
    assert not any(label.startswith("Request refund") for label in _labels(bob_late))


async def test_reminder_buttons_are_what_the_domain_allows_now(harness, people):
    """A refund already requested: the client's overdue reminder offers no second request, and the
    freelancer's offers the answer to it (the domain's guards, not a rule of the bot's own)."""
    h = harness
    ann, bob, _ = people
    svc_, _, ms, _ = await seed(h, ann, bob, date(2026, 12, 4))
    await svc_.perform(Action.REQUEST_REFUND, ann.id, h.clock(), milestone_id=ms)
    h.clock.now = datetime(2026, 12, 5, 9, 0, 5, tzinfo=UTC)
    await sweep(h)
    late = h.last(ann)
    assert "1 day overdue" in late.plain_text
    assert not any(label.startswith("Request refund") for label in _labels(late))
    assert "Open contract" in _labels(late)
    bob_labels = _labels(h.last(bob))
    assert "Accept refund" in bob_labels and "Decline refund" in bob_labels
    assert not any(label.startswith("Refund «") for label in bob_labels)  # refused while a request waits


async def test_every_reminder_kind_starts_with_an_emoji(harness, people):
    h = harness
    ann, bob, _ = people
    svc_, _, ms, _ = await seed(h, ann, bob, date(2026, 12, 4))
    texts: list[str] = []
    for moment in (
        datetime(2026, 12, 1, 9, 0, 5, tzinfo=UTC),  # due soon
        datetime(2026, 12, 4, 9, 0, 5, tzinfo=UTC),  # due today
        datetime(2026, 12, 5, 9, 0, 5, tzinfo=UTC),  # overdue
    ):
        h.clock.now = moment
        before = len(h.tg.messages(ann)), len(h.tg.messages(bob))
        await sweep(h)
        texts += [m.plain_text for m in h.tg.messages(ann)[before[0] :] + h.tg.messages(bob)[before[1] :]]
    await svc_.perform(Action.SUBMIT, bob.id, h.clock(), milestone_id=ms, note="done")
    submitted = h.clock()
    h.clock.now = submitted + timedelta(days=7, minutes=1)  # review waiting
    before = len(h.tg.messages(ann))
    await sweep(h)
    texts += [m.plain_text for m in h.tg.messages(ann)[before:]]
    h.clock.now = submitted + timedelta(days=14, seconds=1)  # automatic release
    before = len(h.tg.messages(ann))
    await sweep(h)
    texts += [m.plain_text for m in h.tg.messages(ann)[before:]]
    h.clock.advance(days=1, minutes=1)  # next milestone waiting
    before = len(h.tg.messages(ann))
    await sweep(h)
    texts += [m.plain_text for m in h.tg.messages(ann)[before:]]
    kinds = ["due in 3 days", "due today", "overdue", "waits for your review", "released automatically", "ago"]
    for kind in kinds:
        assert any(kind in t for t in texts), (kind, texts)
    assert [t for t in texts if unicodedata.category(t[0]) != "So"] == []


# ----- 13. settings: quiet hours typed at the menu ----------------------------------------------------


async def test_quiet_hours_typed_at_the_settings_menu_are_saved(harness, people, tg):
    ann, _, _ = people
    await harness.send(ann, "/settings")
    shown = await harness.send(ann, "22:00-07:00")
    assert "Unknown time zone" not in shown.plain_text
    assert "Quiet hours saved" in shown.plain_text and "22:00–07:00" in shown.plain_text
    profile = await svc(harness).profile(ann.id)
    assert (profile.quiet_start, profile.quiet_end) == (time(22), time(7))
    assert profile.timezone is None  # the zone is untouched

    # At the time-zone prompt too: quiet hours are not a zone, and nothing is lost.
    await harness.press(ann, shown, "Type a time zone")
    shown = await harness.send(ann, "23:30-06:45")
    assert "Quiet hours saved" in shown.plain_text and "23:30–06:45" in shown.plain_text
    assert bad_calls(tg) == []


async def test_text_that_is_neither_a_zone_nor_quiet_hours_says_what_to_type(harness, people):
    ann, _, _ = people
    await harness.send(ann, "/settings")
    refused = await harness.send(ann, "Mars/Olympus")
    assert "Unknown time zone" in refused.plain_text
    assert "Europe/Berlin" in refused.plain_text and "22:00-08:00" in refused.plain_text


# ----- 14. /help -------------------------------------------------------------------------------------


def _days(values: tuple[int, ...]) -> str:
    *first, last = [str(n) for n in values]
    return (", ".join(first) + " and " + last) if first else last


async def test_help_explains_roles_order_refunds_and_the_reminder_schedule(harness, people, tg):
    ann, _, _ = people
    shown = (await harness.send(ann, "/help")).plain_text
    assert "runs a fixed-price contract milestone by milestone" in shown
    assert "Client" in shown and "Freelancer" in shown and "funds" in shown and "submits work" in shown
    assert "in the order they were created" in shown
    assert "refund" in shown.lower() and "accepts or declines" in shown
    policy = ReminderSettings()
    assert f"Due soon: {_days(policy.due_soon_days)} days before the due date" in shown
    assert f"Overdue: {_days(policy.overdue_days)} days after the due date" in shown
    assert f"{_days(policy.review_days_before)} days before the automatic release" in shown
    assert f"{_days(policy.next_waiting_days)} days after a release" in shown
    assert "at 09:00 your time" in shown
    assert "14 days" in shown  # the review period
    assert bad_calls(tg) == []


async def test_help_takes_the_reminder_hour_from_the_settings(tg, db_url, clock, people):
    ann, _, _ = people
    app = await make_app(tg, db_url, clock, reminder_hour=8)
    try:
        shown = (await Harness(app, tg, clock).send(ann, "/help")).plain_text
        assert "at 08:00 your time" in shown
    finally:
        await app.shutdown()
        await app.bot_data["engine"].dispose()


# ----- 15. the operator can see what reminders did ----------------------------------------------------


async def test_each_reminder_sent_or_skipped_is_one_info_line_without_personal_text(harness, people, caplog):
    h = harness
    ann, bob, _ = people
    svc_, _, ms, _ = await seed(h, ann, bob, date(2026, 12, 4))
    await sweep(h)  # planned ahead, nothing due yet
    # Bob blocked the bot meanwhile (as the sender finds out): his reminder is skipped, Ann's sent.
    await svc_.save_profile(UserProfile(id=bob.id, first_name="Bob", started=True, blocked=True))
    h.clock.now = datetime(2026, 12, 1, 9, 0, 5, tzinfo=UTC)
    with caplog.at_level(logging.INFO, logger="bot.reminders"):
        counts = await sweep(h)
    assert counts["sent"] == 1 and counts["skipped"] == 1
    lines = [r for r in caplog.records if r.name == "bot.reminders"]
    assert all(r.levelno == logging.INFO for r in lines)
    messages = [r.getMessage() for r in lines]
    sent = [m for m in messages if "decision=sent" in m]
    skipped = [m for m in messages if "decision=skipped" in m]
    assert len(sent) == 1 and f"recipient={ann.id}" in sent[0] and "kind=due_soon" in sent[0]
    assert f"milestone={ms}" in sent[0]
    assert len(skipped) == 1 and f"recipient={bob.id}" in skipped[0] and "reason=blocked" in skipped[0]
    for m in messages:
        assert "\n" not in m
        for personal in ("Design", "Shop", "Ann", "Bob", "1,500"):
            assert personal not in m, m
