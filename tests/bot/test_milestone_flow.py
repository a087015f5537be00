"""Adding milestones and running them through activate, submit, review and release (PRODUCT.md 2-3)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.model import ContractStatus, LedgerKind, MilestoneStatus

from .helpers import (
    INVITE_RE,
    add_milestone,
    bad_calls,
    display_date,
    every_press_is_answered,  # noqa: F401 (a fixture)
    join,
    ledger_sums,
    message_by_id,
    milestones,
    open_card,
    press_forged,
    setup_contract,
    svc,
    usd,
)

pytestmark = pytest.mark.usefixtures("every_press_is_answered")


def today_of(clock) -> date:
    return clock().date()  # the default zone is UTC


def next_weekday_after(day: date, weekday: int) -> date:
    ahead = (weekday - day.weekday()) % 7
    return day + timedelta(days=ahead or 7)


async def each_refused(harness, user, asked_again: str, answers: list[tuple[str, str]]) -> None:
    """Each typed answer is refused with its reason, and the same question is asked again."""
    for typed, reason in answers:
        refused = await harness.send(user, typed)
        assert reason in refused.plain_text, typed
        assert asked_again in refused.plain_text, typed


async def start_adding(harness, user, title="Design"):
    await harness.send(user, "/addmilestone")
    return await harness.send(user, title)


# ----- the add-milestone conversation ---------------------------------------------------------------
async def test_amounts_and_dates_as_people_type_them(harness, people, clock, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    today = today_of(clock)
    added = [
        ("Design", "1500", 150_000, "2026-12-31", date(2026, 12, 31), "Wireframes & <mockups>"),
        ("Build", "1,250.50", 125_050, "tomorrow", today + timedelta(days=1), None),
        ("Launch", "$300", 30_000, "in 2 weeks", today + timedelta(weeks=2), None),
    ]
    for title, amount, _, due, _, description in added:
        await add_milestone(harness, ann, title, amount, due, description)

    stored = await milestones(harness, cid, ann)
    assert [(m.title, m.amount, m.due_date, m.status) for m in stored] == [
        (title, minor, due_date, MilestoneStatus.NOT_FUNDED) for title, _, minor, _, due_date, _ in added
    ]
    assert stored[0].description == "Wireframes & <mockups>" and stored[1].description == ""

    card = await open_card(harness, ann, cid)
    lines = card.plain_text.splitlines()
    for number, (title, _, minor, _, due_date, _) in enumerate(added, start=1):
        line = next(i for i, text in enumerate(lines) if text.startswith(f"{number}. {title}"))
        assert usd(minor) in lines[line] and display_date(due_date) in lines[line]
    assert f"Remaining {usd(sum(a[2] for a in added))}" in card.plain_text
    assert bad_calls(tg) == []


@pytest.mark.parametrize("typed", ["2026-12-31", "31.12.2026", "Dec 31", "tomorrow", "in 2 weeks", "next friday"])
async def test_due_date_forms(harness, people, clock, typed):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    today = today_of(clock)
    expected = {
        "2026-12-31": date(2026, 12, 31),
        "31.12.2026": date(2026, 12, 31),
        "Dec 31": date(today.year, 12, 31),
        "tomorrow": today + timedelta(days=1),
        "in 2 weeks": today + timedelta(days=14),
        "next friday": next_weekday_after(today, 4),
    }[typed]
    await start_adding(harness, ann)
    await harness.send(ann, "100")
    asked = await harness.send(ann, typed)
    assert "description" in asked.plain_text
    await harness.press(ann, asked, "Skip")
    summary = harness.last(ann)
    assert f"Due date: {display_date(expected)}" in summary.plain_text
    await harness.press(ann, summary, "Save")
    [ms] = await milestones(harness, cid, ann)
    assert ms.due_date == expected


async def test_bad_input_asks_the_same_question_again_with_the_reason(harness, people, clock, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    await harness.send(ann, "/addmilestone")
    refused = await harness.send(ann, "x" * 101)
    assert "at most 100 characters" in refused.plain_text and "title" in refused.plain_text
    title = "y" * 100
    asked = await harness.send(ann, title)
    assert "amount" in asked.plain_text

    await each_refused(
        harness,
        ann,
        "Send the amount",
        [
            ("abc", "at most 2 decimals"),
            ("-5", "greater than zero"),
            ("10.555.1", "at most 2 decimals"),
            ("0", "greater than zero"),
        ],
    )

    # Looking at the contract mid-flow: nothing is saved, and the flow goes on afterwards.
    card = await harness.send(ann, "/milestones")
    assert "No milestones yet" in card.plain_text
    asked = await harness.send(ann, "1500")
    assert "due date" in asked.plain_text

    await each_refused(
        harness,
        ann,
        "Send the due date",
        [
            ("yesterday", "today or later"),
            ("2020-01-01", "today or later"),
            ("blah", "couldn't read that date"),
        ],
    )
    due = today_of(clock) + timedelta(days=1)
    asked = await harness.send(ann, due.isoformat())
    await harness.send(ann, "d" * 2001)
    refused = harness.last(ann)
    assert "at most 2,000 characters" in refused.plain_text
    await harness.send(ann, "The work")
    summary = harness.last(ann)
    assert [label for label, _ in summary.buttons] == ["Save", "Edit", "Cancel"]
    assert await milestones(harness, cid, ann) == []  # nothing before Save

    await harness.press(ann, summary, "Save")
    [ms] = await milestones(harness, cid, ann)
    assert (ms.title, ms.amount, ms.due_date, ms.description) == (title, 150_000, due, "The work")
    assert bad_calls(tg) == []


async def test_edit_on_the_summary_changes_one_field(harness, people, clock):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    await start_adding(harness, ann, "Desing")
    await harness.send(ann, "1500")
    await harness.send(ann, "tomorrow")
    await harness.send(ann, "All pages")
    summary = harness.last(ann)

    await harness.press(ann, summary, "Edit")
    fields = harness.last(ann)
    assert [label for label, _ in fields.buttons][:4] == ["Title", "Amount", "Due date", "Description"]
    await harness.press(ann, fields, "Amount")
    summary = await harness.send(ann, "2,000")
    assert f"Amount: {usd(200_000)}" in summary.plain_text and "Title: Desing" in summary.plain_text
    await harness.press(ann, summary, "Edit")
    await harness.press(ann, harness.last(ann), "Title")
    summary = await harness.send(ann, "Design")
    assert "Title: Design" in summary.plain_text and f"Amount: {usd(200_000)}" in summary.plain_text

    await harness.press(ann, summary, "Save")
    [ms] = await milestones(harness, cid, ann)
    expected = ("Design", 200_000, today_of(clock) + timedelta(days=1), "All pages")
    assert (ms.title, ms.amount, ms.due_date, ms.description) == expected


async def test_cancel_saves_nothing(harness, people):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    await start_adding(harness, ann)
    await harness.send(ann, "1500")
    asked = await harness.send(ann, "tomorrow")
    await harness.press(ann, asked, "Skip")
    answer = await harness.press(ann, harness.last(ann), "Cancel")
    assert answer["text"] == "Cancelled."
    assert "Nothing was saved" in harness.last(ann).plain_text
    assert await milestones(harness, cid, ann) == []

    await start_adding(harness, ann)
    cancelled = await harness.send(ann, "/cancel")
    assert "Nothing was saved" in cancelled.plain_text
    await harness.send(ann, "1500")  # no longer an answer to anything
    assert await milestones(harness, cid, ann) == []


async def test_with_several_contracts_addmilestone_asks_which(harness, people, tg):
    ann, bob, _ = people
    first = await setup_contract(harness, ann, bob, "First job")
    second = await setup_contract(harness, ann, bob, "Second job")
    asked = await harness.send(ann, "/addmilestone")
    assert "Which contract" in asked.plain_text
    assert {label for label, _ in asked.buttons} == {"First job", "Second job"}
    await harness.press(ann, asked, "Second job")
    assert "Second job" in harness.last(ann).plain_text and "title" in harness.last(ann).plain_text
    await harness.send(ann, "Only here")
    await harness.send(ann, "10")
    asked = await harness.send(ann, "tomorrow")
    await harness.press(ann, asked, "Skip")
    await harness.press(ann, harness.last(ann), "Save")
    assert [m.title for m in await milestones(harness, second, ann)] == ["Only here"]
    assert await milestones(harness, first, ann) == []

    await add_milestone(harness, ann, "Via helper", "20", "tomorrow", contract_title="First job")
    assert [m.title for m in await milestones(harness, first, ann)] == ["Via helper"]
    assert bad_calls(tg) == []


async def test_the_freelancer_reads_the_description_of_the_work(harness, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    bob_count = len(tg.messages(bob))
    await add_milestone(harness, ann, "Design", "1500", "tomorrow", "Three pages & a <logo>")
    assert "Three pages & a <logo>" in tg.messages(bob)[bob_count].plain_text
    bob_count = len(tg.messages(bob))
    await harness.press(ann, await open_card(harness, ann, cid), "Activate & fund")
    assert "Three pages & a <logo>" in tg.messages(bob)[bob_count].plain_text


async def test_amount_precision_and_bounds_follow_the_currency(harness, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob, "Tokyo job", "JPY")
    await start_adding(harness, ann)
    refused = await harness.send(ann, "12.5")
    assert "whole number" in refused.plain_text
    refused = await harness.send(ann, "$300")
    assert "JPY" in refused.plain_text
    refused = await harness.send(ann, "1000000001")
    assert "at most 1,000,000,000 JPY" in refused.plain_text
    asked = await harness.send(ann, "1,500")
    assert "due date" in asked.plain_text
    asked = await harness.send(ann, "tomorrow")
    await harness.press(ann, asked, "Skip")
    assert f"Amount: ¥{1500:,}" in harness.last(ann).plain_text
    await harness.press(ann, harness.last(ann), "Save")
    [ms] = await milestones(harness, cid, ann)
    assert ms.amount == 1500  # yen have no minor unit
    assert bad_calls(tg) == []


async def test_double_taps_save_create_and_fund_only_once(harness, people, tg):
    ann, bob, _ = people
    await harness.send(ann, "/newcontract")
    asked = await harness.send(ann, "Twice")
    await harness.press(ann, asked, "USD")
    await harness.press(ann, harness.last(ann), "I am the client")
    summary = harness.last(ann)
    first, second = tg.press(ann, summary, "Create"), tg.press(ann, summary, "Create")
    await harness.pump()
    assert tg.callback_answers[first]["text"] == "Contract created."
    assert tg.callback_answers[second]["text"]
    assert len(await svc(harness).contracts_of(ann.id)) == 1
    payload = INVITE_RE.search([m for m in tg.messages(ann) if INVITE_RE.search(m.plain_text)][0].plain_text)
    await join(harness, bob, payload.group(1))
    cid = (await svc(harness).contracts_of(ann.id))[0].id

    await start_adding(harness, ann)
    await harness.send(ann, "10")
    asked = await harness.send(ann, "tomorrow")
    await harness.press(ann, asked, "Skip")
    summary = harness.last(ann)
    first, second = tg.press(ann, summary, "Save"), tg.press(ann, summary, "Save")
    await harness.pump()
    assert tg.callback_answers[first]["text"] == "Saved."
    assert len(await milestones(harness, cid, ann)) == 1

    card = await open_card(harness, ann, cid)
    first, second = tg.press(ann, card, "Activate & fund"), tg.press(ann, card, "Activate & fund")
    await harness.pump()
    assert tg.callback_answers[first]["text"].startswith("Activated")
    assert "funded" in tg.callback_answers[second]["text"]
    assert (await ledger_sums(harness, cid))[LedgerKind.FUND] == 1000
    assert bad_calls(tg) == []


async def test_a_change_request_needs_a_reason_of_at_most_1000_characters(harness, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    await add_milestone(harness, ann, "Design", "1500", "tomorrow")
    await harness.press(ann, await open_card(harness, ann, cid), "Activate & fund")
    await harness.press(bob, harness.last(bob), "Submit work")
    await harness.press(bob, harness.last(bob), "Skip")  # a note is optional
    review = harness.last(ann)
    await harness.press(ann, review, "Request changes")
    refused = await harness.send(ann, "r" * 1001)
    assert "at most 1,000 characters" in refused.plain_text and "reason" in refused.plain_text
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.SUBMITTED
    await harness.send(ann, "r" * 1000)
    [ms] = await milestones(harness, cid, ann)
    assert (ms.status, ms.change_reason, ms.revision_count) == (MilestoneStatus.ACTIVE, "r" * 1000, 1)


async def test_refunds_free_the_way_and_keep_the_ledger_balanced(harness, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    await add_milestone(harness, ann, "Design", "1500", "tomorrow")
    await add_milestone(harness, ann, "Build", "700", "tomorrow")
    card = await open_card(harness, ann, cid)
    await harness.press(ann, card, "Activate & fund «Design»")
    # R9: no ending with money in escrow.
    card = message_by_id(tg, ann, card.message_id)
    assert "End contract" not in [label for label, _ in card.buttons]
    answer = await press_forged(harness, ann, card, f"c:end:{cid}")
    assert "release or refund it before ending" in answer["text"]

    # R8: the client asks, the freelancer accepts.
    bob_count = len(tg.messages(bob))
    await harness.press(ann, card, "Request refund of «Design»")  # a money tap asks first (issue 12)
    answer = await harness.press(ann, message_by_id(tg, ann, card.message_id), "Request refund")
    assert answer["text"].startswith("Refund requested")
    [asked] = tg.messages(bob)[bob_count:]
    assert {"Accept refund", "Decline refund"} <= {label for label, _ in asked.buttons}
    answer = await harness.press(bob, asked, "Decline refund")
    assert answer["text"] == "Refund declined."
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.ACTIVE
    card = message_by_id(tg, ann, card.message_id)
    asked = await open_card(harness, ann, cid)
    await harness.press(ann, asked, "Request refund of «Design»")
    await harness.press(ann, message_by_id(tg, ann, asked.message_id), "Request refund")
    ann_count = len(tg.messages(ann))
    answer = await harness.press(bob, tg.messages(bob)[-1], "Accept refund")
    assert answer["text"] == "Refund accepted, as recorded in the ledger (the bot holds no money)."
    assert "refund" in tg.messages(ann)[ann_count].plain_text
    design = (await milestones(harness, cid, ann))[0]
    assert design.status is MilestoneStatus.REFUNDED

    # The way is free for the next one; the freelancer refunds it at once.
    card = await open_card(harness, ann, cid)
    await harness.press(ann, card, "Activate & fund «Build»")
    bob_card = await open_card(harness, bob, cid)
    await harness.press(bob, bob_card, "Refund «Build»")
    answer = await harness.press(bob, message_by_id(tg, bob, bob_card.message_id), "Refund")
    assert answer["text"] == "Refunded, as recorded in the ledger (the bot holds no money)."
    sums = await ledger_sums(harness, cid)
    assert sums[LedgerKind.FUND] == sums[LedgerKind.REFUND] + sums[LedgerKind.RELEASE] == 220_000
    card = await open_card(harness, ann, cid)
    assert f"Refunded {usd(220_000)}" in card.plain_text and f"In escrow {usd(0)}" in card.plain_text
    assert bad_calls(tg) == []


# ----- the whole story on the card ------------------------------------------------------------------
async def submit(harness, bob, message, note: str) -> None:
    answer = await harness.press(bob, message, "Submit work")
    assert answer != {}
    asked = harness.last(bob)
    assert "note" in asked.plain_text
    await harness.send(bob, note)
    after = harness.tg.messages(bob)[-2:]  # the confirmation, then the card
    assert "Work submitted" in after[0].plain_text and "submitted" in after[1].plain_text


async def test_the_seed_story_on_the_card(harness, people, clock, tg):
    ann, bob, eve = people
    cid = await setup_contract(harness, ann, bob, "Website redesign")
    plan = [("Design", "1500", 150_000), ("Build", "1,250.50", 125_050), ("Launch", "$300", 30_000)]
    for title, typed, _ in plan:
        await add_milestone(harness, ann, title, typed, "in 2 weeks")
    design, build, launch = await milestones(harness, cid, ann)
    total = sum(minor for _, _, minor in plan)

    card = await open_card(harness, ann, cid)
    ann_count = len(tg.messages(ann))
    assert [label for label, _ in card.buttons if label.startswith("Activate")] == ["Activate & fund «Design»"]

    # R1: out of order.
    answer = await press_forged(harness, ann, card, f"m:act:{build.id}")
    assert answer["text"] == "Milestones are activated in the order they were created: activate «Design» first."
    assert [m.status for m in await milestones(harness, cid, ann)] == [MilestoneStatus.NOT_FUNDED] * 3

    bob_count = len(tg.messages(bob))
    answer = await harness.press(ann, card, "Activate & fund «Design»")
    assert answer["text"].startswith("Activated; funding recorded")
    card = message_by_id(tg, ann, card.message_id)
    edits = card.edit_count
    assert edits >= 1 and len(tg.messages(ann)) == ann_count  # edited in place, nothing new
    assert f"Funded {usd(150_000)}" in card.plain_text and f"In escrow {usd(150_000)}" in card.plain_text
    assert f"Remaining {usd(total - 150_000)}" in card.plain_text
    [funded_note] = tg.messages(bob)[bob_count:]
    assert "Design" in funded_note.plain_text and usd(150_000) in funded_note.plain_text
    assert any(label.startswith("Submit work") for label, _ in funded_note.buttons)

    # R2: the next one waits for the release of the funded one.
    answer = await press_forged(harness, ann, card, f"m:act:{build.id}")
    assert answer["text"] == "Release «Design» before activating the next milestone."
    assert (await milestones(harness, cid, ann))[1].status is MilestoneStatus.NOT_FUNDED

    # Submit, request changes with a reason, resubmit.
    ann_count = len(tg.messages(ann))
    await submit(harness, bob, funded_note, "Mockups: https://example.com/v1")
    review = tg.messages(ann)[ann_count:]
    assert len(review) == 1 and "Mockups: https://example.com/v1" in review[0].plain_text
    labels = [label for label, _ in review[0].buttons]
    assert "Approve & release «Design»" in labels and "Request changes" in labels

    bob_count = len(tg.messages(bob))
    await harness.press(ann, review[0], "Request changes")
    assert "reason" in harness.last(ann).plain_text
    await harness.send(ann, "Please use the brand colours")
    [changes_note] = tg.messages(bob)[bob_count:]
    assert "Please use the brand colours" in changes_note.plain_text
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.ACTIVE

    ann_count = len(tg.messages(ann))
    await submit(harness, bob, changes_note, "v2 with the brand colours")
    [review] = tg.messages(ann)[ann_count:]
    assert "v2 with the brand colours" in review.plain_text

    # R13: a double tap on Approve (confirmed: issue 12) releases once.
    await harness.press(ann, review, "Approve & release")
    confirm = message_by_id(tg, ann, review.message_id)
    first = tg.press(ann, confirm, "Release")
    second = tg.press(ann, confirm, "Release")
    await harness.pump()
    assert (
        tg.callback_answers[first]["text"]
        == "Approved: the release is recorded. Pay the freelancer directly; they confirm when it arrives."
    )
    assert "already released" in tg.callback_answers[second]["text"]
    sums = await ledger_sums(harness, cid)
    assert (sums[LedgerKind.FUND], sums[LedgerKind.RELEASE]) == (150_000, 150_000)
    released_card = message_by_id(tg, ann, review.message_id)
    assert f"Released {usd(150_000)}" in released_card.plain_text
    assert "revisions: 1" in released_card.plain_text
    assert any(usd(150_000) in m.plain_text and "released" in m.plain_text for m in tg.messages(bob))

    # The remaining two, each from the card the last release left.
    card = released_card
    for ms, (_, _, minor) in zip((build, launch), plan[1:], strict=True):
        edits = card.edit_count
        bob_count = len(tg.messages(bob))
        await harness.press(ann, card, f"Activate & fund «{ms.title}»")
        assert message_by_id(tg, ann, card.message_id).edit_count > edits
        funded_note = tg.messages(bob)[bob_count]
        ann_count = len(tg.messages(ann))
        await submit(harness, bob, funded_note, f"{ms.title} done")
        [review] = tg.messages(ann)[ann_count:]
        await harness.press(ann, review, "Approve & release")
        await harness.press(ann, message_by_id(tg, ann, review.message_id), "Release")
        card = message_by_id(tg, ann, review.message_id)
        assert usd(minor) in card.plain_text

    # After the last release: keep open or end.
    assert f"Funded {usd(total)}" in card.plain_text and f"Released {usd(total)}" in card.plain_text
    assert f"In escrow {usd(0)}" in card.plain_text and f"Remaining {usd(0)}" in card.plain_text
    labels = [label for label, _ in card.buttons]
    assert "Keep contract open" in labels and "End contract" in labels
    bob_count = len(tg.messages(bob))
    answer = await harness.press(ann, card, "Keep contract open")
    assert "stays open" in answer["text"]
    assert "open" in tg.messages(bob)[bob_count].plain_text
    [row] = await svc(harness).contracts_of(ann.id)
    assert row.status is ContractStatus.ACTIVE

    card = message_by_id(tg, ann, card.message_id)
    labels = [label for label, _ in card.buttons]
    assert "Keep contract open" not in labels and "End contract" in labels  # answered: not asked again
    assert "Add milestone" in labels
    await harness.press(ann, card, "End contract")
    confirm = message_by_id(tg, ann, card.message_id)
    assert "End" in confirm.plain_text and "Website redesign" in confirm.plain_text
    assert [label for label, _ in confirm.buttons] == ["End contract now", "Back"]
    assert (await svc(harness).contracts_of(ann.id))[0].status is ContractStatus.ACTIVE  # not yet
    bob_count = len(tg.messages(bob))
    answer = await harness.press(ann, confirm, "End contract now")
    assert answer["text"] == "The contract is ended."
    ended = message_by_id(tg, ann, card.message_id)
    assert "Status: ended" in ended.plain_text
    assert not any(label.startswith(("Activate", "Add", "End", "Keep")) for label, _ in ended.buttons)
    assert "ended" in tg.messages(bob)[bob_count].plain_text

    # An ended contract accepts nothing, whatever button is pressed.
    answer = await press_forged(harness, ann, ended, f"c:add:{cid}")
    assert "ended" in answer["text"]
    answer = await press_forged(harness, ann, ended, f"c:endy:{cid}")
    assert "ended" in answer["text"]
    answer = await press_forged(harness, bob, tg.messages(bob)[-1], f"m:sub:{launch.id}")
    assert "ended" in answer["text"]
    assert "no active contract" in (await harness.send(ann, "/addmilestone")).plain_text
    sums = await ledger_sums(harness, cid)
    assert (sums[LedgerKind.FUND], sums[LedgerKind.RELEASE], sums[LedgerKind.REFUND]) == (total, total, 0)

    # History: the timeline of everything above, in order, over its pages.
    await harness.press(ann, ended, "History")
    history = message_by_id(tg, ann, card.message_id)
    pages = [history.plain_text]
    while any(label == "▶" for label, _ in history.buttons):
        await harness.press(ann, history, "▶")
        history = message_by_id(tg, ann, card.message_id)
        pages.append(history.plain_text)
    timeline = "\n".join(pages)
    expected = [
        "Ann created the contract",
        "Bob joined",
        "Ann added «Design»",
        "Ann added «Build»",
        "Ann added «Launch»",
        "Ann activated & recorded as funded «Design»",
        "Bob submitted work for «Design»: Mockups: https://example.com/v1",
        "Ann requested changes to «Design»: Please use the brand colours",
        "Bob submitted work for «Design»: v2 with the brand colours",
        "Ann approved & recorded the release of «Design»",
        "Ann activated & recorded as funded «Build»",
        "Ann approved & recorded the release of «Launch»",
        "Ann kept the contract open",
        "Ann ended the contract",
    ]
    positions = [timeline.find(entry) for entry in expected]
    assert -1 not in positions, [e for e, p in zip(expected, positions, strict=True) if p == -1]
    assert positions == sorted(positions)
    assert bad_calls(tg) == []
