"""Who may press what, groups, escaping, Telegram's limits and unreachable people (PRODUCT.md 2-3)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.actions import Action
from domain.model import LedgerKind, MilestoneStatus, Role

from .helpers import (
    add_milestone,
    bad_calls,
    create_contract,
    display_date,
    every_press_is_answered,  # noqa: F401 (a fixture)
    ledger_sums,
    message_by_id,
    milestones,
    open_card,
    press_forged,
    setup_contract,
    story_so_far,
    svc,
    usd,
)

pytestmark = pytest.mark.usefixtures("every_press_is_answered")

CALLBACK_DATA_MAX_BYTES = 64
MAX_MESSAGE = 4096


async def snapshot(harness, cid: int, viewer) -> tuple:
    """Everything a press could change: milestone states, ledger and history."""
    contract, history = await svc(harness).history(cid, viewer.id)
    states = [(m.id, m.status, m.title, m.amount, m.due_date, m.seq) for m in contract.milestones]
    return contract.status, contract.group_chat_id, states, await ledger_sums(harness, cid), len(history)


def no_unhandled_errors(caplog) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]


# ----- proposals ----------------------------------------------------------------------------------
async def test_a_freelancer_proposal_joins_the_order_when_accepted(harness, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    await add_milestone(harness, ann, "Design", "1500", "in 2 weeks")

    intro = await harness.send(bob, "/addmilestone")
    assert "proposal" in intro.plain_text
    ann_count = len(tg.messages(ann))
    await harness.send(bob, "Extra page")
    await harness.send(bob, "200")
    asked = await harness.send(bob, "in 3 weeks")
    await harness.press(bob, asked, "Skip")
    answer = await harness.press(bob, harness.last(bob), "Save")
    assert answer["text"] == "Proposal sent to the client."
    [proposal_note] = tg.messages(ann)[ann_count:]
    assert "Bob" in proposal_note.plain_text and "Extra page" in proposal_note.plain_text
    labels = [label for label, _ in proposal_note.buttons]
    assert "Accept proposal «Extra page»" in labels and "Reject" in labels
    bob_card = await open_card(harness, bob, cid)
    assert "Extra page" in bob_card.plain_text and "proposed" in bob_card.plain_text
    assert not any(label.startswith(("Accept", "Reject")) for label, _ in bob_card.buttons)

    # The client adds another milestone before accepting: the proposal goes after it (R5).
    await add_milestone(harness, ann, "Build", "700", "in 3 weeks")
    bob_count = len(tg.messages(bob))
    answer = await harness.press(ann, proposal_note, "Accept proposal")
    assert answer["text"] == "Proposal accepted: it joins the order."
    assert [m.title for m in await milestones(harness, cid, ann)] == ["Design", "Build", "Extra page"]
    card = message_by_id(tg, ann, proposal_note.message_id)
    assert "3. Extra page" in card.plain_text
    assert "accepted your proposal" in tg.messages(bob)[bob_count].plain_text

    # A rejected proposal leaves the order alone.
    ann_count = len(tg.messages(ann))
    await harness.send(bob, "/addmilestone")
    await harness.send(bob, "Gold plating")
    await harness.send(bob, "999")
    asked = await harness.send(bob, "in 4 weeks")
    await harness.press(bob, asked, "Skip")
    await harness.press(bob, harness.last(bob), "Save")
    [proposal_note] = tg.messages(ann)[ann_count:]
    bob_count = len(tg.messages(bob))
    answer = await harness.press(ann, proposal_note, "Reject")
    assert answer["text"] == "Proposal rejected."
    assert [m.title for m in await milestones(harness, cid, ann)] == ["Design", "Build", "Extra page"]
    assert "rejected" in tg.messages(bob)[bob_count].plain_text
    assert "Gold plating" not in message_by_id(tg, ann, proposal_note.message_id).plain_text
    assert bad_calls(tg) == []


# ----- forged and foreign presses ----------------------------------------------------------------
async def test_a_stranger_pressing_forged_buttons_changes_and_learns_nothing(harness, people, tg, caplog):
    ann, bob, eve = people
    cid, (design, build) = await story_so_far(harness, ann, bob, tg)
    before = await snapshot(harness, cid, ann)
    card = await open_card(harness, ann, cid)
    eve_start = await harness.send(eve, "/start")
    eve_count = len(tg.messages(eve))

    forged = [
        "m:apr:1",
        "c:view:1:0",
        "m:act:999999",
        "garbage",
        "m:act:1:2:3",
        f"m:apr:{design.id}",
        f"m:act:{build.id}",
        f"m:sub:{design.id}",
        f"m:chg:{design.id}",
        f"m:edt:{build.id}",
        f"m:del:{build.id}",
        f"m:rfd:{design.id}",
        f"m:acc:{build.id}",
        f"c:hist:{cid}:0",
        f"c:add:{cid}",
        f"c:end:{cid}",
        f"c:endy:{cid}",
        f"c:keep:{cid}",
        f"lnk:set:{cid}",
        "inv:y:not-a-token",
        "m:apr:1'; DROP TABLE milestones;--",
        "c:view:1:9999",
        "m:apr:" + "9" * 40,
        "m:sub:" + "9" * 40,
        "c:add:" + "9" * 19,
        "c:view:" + "9" * 30,
        "pick:1",
        f"pick:{cid}",
    ]
    for data in forged:
        answer = await press_forged(harness, eve, eve_start, data)
        assert answer.get("text"), data  # answered, with a reason
        assert answer["show_alert"], data
    refused = await harness.send(eve, f"/start c{cid}")
    assert "Only the client and the freelancer" in refused.plain_text and refused.buttons == []
    assert await snapshot(harness, cid, ann) == before
    leaked = [m.plain_text for m in tg.messages(eve)[eve_count:]]
    assert not any("Design" in text or "Website" in text for text in leaked), leaked
    assert message_by_id(tg, eve, eve_start.message_id).plain_text == eve_start.plain_text
    # Ann's card shows exactly the same after a refresh.
    await harness.press(ann, card, "Refresh")
    assert message_by_id(tg, ann, card.message_id).plain_text == card.plain_text
    assert bad_calls(tg) == []
    no_unhandled_errors(caplog)


async def test_each_party_is_refused_the_other_partys_buttons(harness, people, tg):
    ann, bob, _ = people
    cid, (design, build) = await story_so_far(harness, ann, bob, tg)
    before = await snapshot(harness, cid, ann)
    bob_card = await open_card(harness, bob, cid)
    for data in [
        f"m:act:{build.id}",
        f"m:apr:{design.id}",
        f"m:chg:{design.id}",
        f"m:del:{build.id}",
        f"m:edt:{build.id}",
        f"m:rrq:{design.id}",
        f"c:end:{cid}",
        f"c:endy:{cid}",
        f"c:keep:{cid}",
    ]:
        answer = await press_forged(harness, bob, bob_card, data)
        assert answer["text"] == "Only the client of this contract can do that.", data
    ann_card = await open_card(harness, ann, cid)
    for data in [f"m:sub:{design.id}", f"m:rfd:{design.id}", f"m:rya:{design.id}"]:
        answer = await press_forged(harness, ann, ann_card, data)
        assert answer["text"] == "Only the freelancer of this contract can do that.", data
    assert await snapshot(harness, cid, ann) == before
    assert bad_calls(tg) == []


async def test_client_edits_and_deletes_unfunded_milestones_only(harness, people, clock, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    for title in ("Design", "Build", "Launch"):
        await add_milestone(harness, ann, title, "100", "tomorrow")
    card = await open_card(harness, ann, cid)
    assert [label for label, _ in card.buttons if label.startswith("Edit")] == [
        "Edit «Design»",
        "Edit «Build»",
        "Edit «Launch»",
    ]

    await harness.press(ann, card, "Edit «Build»")
    asked = harness.last(ann)
    assert "Editing" in asked.plain_text and "Build" in asked.plain_text
    await harness.press(ann, asked, "Due date")
    summary = await harness.send(ann, "in 3 weeks")
    new_due = clock().date() + timedelta(weeks=3)
    assert display_date(new_due) in summary.plain_text
    bob_count = len(tg.messages(bob))
    answer = await harness.press(ann, summary, "Save")
    assert answer["text"] == "Changes saved."
    assert [m.due_date for m in await milestones(harness, cid, ann)][1] == new_due
    assert "edited" in tg.messages(bob)[bob_count].plain_text

    bob_count = len(tg.messages(bob))
    card = await open_card(harness, ann, cid)
    answer = await harness.press(ann, card, callback_data=[d for label, d in card.buttons if label == "Delete"][2])
    assert answer["text"] == "Milestone deleted."
    assert "Launch" not in message_by_id(tg, ann, card.message_id).plain_text
    assert [m.status for m in await milestones(harness, cid, ann)][2] is MilestoneStatus.CANCELLED
    assert "deleted" in tg.messages(bob)[bob_count].plain_text

    # Funded: no Edit/Delete any more, and forged ones are refused.
    card = message_by_id(tg, ann, card.message_id)
    await harness.press(ann, card, "Activate & fund «Design»")
    design = (await milestones(harness, cid, ann))[0]
    card = message_by_id(tg, ann, card.message_id)
    assert "Edit «Design»" not in [label for label, _ in card.buttons]
    for data in (f"m:edt:{design.id}", f"m:del:{design.id}"):
        answer = await press_forged(harness, ann, card, data)
        assert "funded" in answer["text"], data
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.ACTIVE
    assert bad_calls(tg) == []


# ----- groups -------------------------------------------------------------------------------------
async def test_a_linked_group_gets_the_news_and_buttons_work_only_for_their_party(harness, people, tg):
    ann, bob, eve = people
    group = tg.group(-100123, "Team")
    cid = await setup_contract(harness, ann, bob)
    await add_milestone(harness, ann, "Design", "1500", "in 2 weeks")

    told = await harness.send(ann, "/link")
    assert "inside the group" in told.plain_text
    assert "no open contracts" in (await harness.send(eve, "/link", chat=group)).plain_text
    linked = await harness.send(ann, "/link", chat=group)
    assert "Website redesign" in linked.plain_text and "news" in linked.plain_text
    contract = await svc(harness).view(cid, ann.id)
    assert contract.group_chat_id == group.id

    for who in (eve, bob):
        answer = await harness.press(who, linked, "Activate & fund")
        assert answer["text"] == "This button is for the client of «Website redesign».", who.first_name
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.NOT_FUNDED

    group_count = len(tg.messages(group))
    answer = await harness.press(ann, linked, "Activate & fund")
    assert answer["text"].startswith("Activated")
    assert message_by_id(tg, group, linked.message_id).edit_count >= 1
    [news] = tg.messages(group)[group_count:]
    assert "Design" in news.plain_text and usd(150_000) in news.plain_text

    answer = await harness.press(eve, news, "Submit work")
    assert answer["text"] == "This button is for the freelancer of «Website redesign»."
    answer = await harness.press(eve, news, "Open contract")
    assert "Website redesign" in answer["text"] and answer["show_alert"]

    # The freelancer presses Submit in the group: the note is asked in private.
    bob_count = len(tg.messages(bob))
    await harness.press(bob, news, "Submit work")
    assert "note" in tg.messages(bob)[bob_count].plain_text
    group_count = len(tg.messages(group))
    await harness.send(bob, "All done")
    [review] = tg.messages(group)[group_count:]
    assert "All done" in review.plain_text
    answer = await harness.press(eve, review, "Approve & release")
    assert answer["text"] == "This button is for the client of «Website redesign»."
    await harness.press(ann, review, "Approve & release")  # asks first (issue 12)
    answer = await harness.press(ann, message_by_id(tg, group, review.message_id), "Release")
    assert (
        answer["text"]
        == "Approved: the release is recorded. Pay the freelancer directly; they confirm when it arrives."
    )
    assert (await ledger_sums(harness, cid))[LedgerKind.RELEASE] == 150_000
    assert bad_calls(tg) == []


# ----- escaping -----------------------------------------------------------------------------------
PIECES = [
    "<",
    ">",
    "&",
    '"',
    "'",
    "&amp;",
    "<b>",
    "</i>",
    "&lt;",
    "<a href='x'>",
    "🚀",
    "👩‍💻",
    "שלום",
    "مرحبا",
    "\u200f",
    "e\u0301",
    "Ж",
    " ",
    "a",
    "Z",
    "1",
    "#",
    "*_`[",
    "«»",
]
title_text = (
    st.lists(st.sampled_from(PIECES), min_size=1, max_size=40)
    .map("".join)
    .map(lambda s: s.strip()[:100].strip())
    .filter(lambda s: s and not s.startswith("/"))
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(contract_title=title_text, milestone_title=title_text, description=title_text)
async def test_user_text_is_shown_exactly_and_never_breaks_a_message(
    harness, people, contract_title, milestone_title, description
):
    ann, bob, _ = people
    tg = harness.tg
    calls_before = len(tg.calls)
    payload = await create_contract(harness, ann, contract_title)
    assert contract_title in harness.last(ann).plain_text
    invite = await harness.send(bob, f"/start {payload}")
    assert contract_title in invite.plain_text
    ann_count = len(tg.messages(ann))
    await harness.press(bob, invite, "Accept")
    assert contract_title in tg.messages(ann)[ann_count].plain_text
    cid = max(s.id for s in await svc(harness).contracts_of(ann.id) if s.title == contract_title)

    card = await open_card(harness, ann, cid)
    await harness.press(ann, card, "Add milestone")
    await harness.send(ann, milestone_title)
    await harness.send(ann, "1")
    await harness.send(ann, "tomorrow")
    summary = await harness.send(ann, description)
    assert milestone_title in summary.plain_text and description in summary.plain_text
    bob_count = len(tg.messages(bob))
    await harness.press(ann, summary, "Save")
    card = message_by_id(tg, ann, summary.message_id)
    assert milestone_title in card.plain_text and contract_title in card.plain_text
    assert milestone_title in tg.messages(bob)[bob_count].plain_text

    bob_count = len(tg.messages(bob))
    await harness.press(ann, card, "Activate & fund")
    assert milestone_title in tg.messages(bob)[bob_count].plain_text
    await harness.press(ann, message_by_id(tg, ann, card.message_id), "History")
    history = message_by_id(tg, ann, card.message_id)
    assert contract_title in history.plain_text and milestone_title in history.plain_text
    assert [c for c in tg.calls[calls_before:] if c.status == 400] == []
    stored = (await svc(harness).view(cid, ann.id)).milestones[0]
    assert (stored.title, stored.description) == (milestone_title, description)


async def test_peoples_names_with_markup_are_shown_exactly(harness, tg):
    ann = tg.user(3001, "<b>Ann</b> & Co", started=True)
    bob = tg.user(3002, 'Bob "the <i>builder</i>" 🛠', started=True)
    greeting = await harness.send(ann, "/start")
    assert "<b>Ann</b> & Co" in greeting.plain_text
    await harness.send(bob, "/start")
    payload = await create_contract(harness, ann, "Names")
    invite = await harness.send(bob, f"/start {payload}")
    assert ann.first_name in invite.plain_text
    await harness.press(bob, invite, "Accept")
    cid = (await svc(harness).contracts_of(ann.id))[0].id
    assert bob.first_name in tg.messages(ann)[-1].plain_text
    card = await open_card(harness, ann, cid)
    assert ann.first_name in card.plain_text and bob.first_name in card.plain_text
    card = await add_milestone(harness, ann, "Design", "10", "tomorrow")  # the live card now (one per chat)
    assert ann.first_name in tg.messages(bob)[-1].plain_text
    await harness.press(ann, card, "History")
    assert bob.first_name in message_by_id(tg, ann, card.message_id).plain_text
    assert bad_calls(tg) == []


# ----- Telegram's limits --------------------------------------------------------------------------
def assert_within_limits(tg, chats) -> None:
    for chat in chats:
        for message in tg.messages(chat):
            assert len(message.plain_text.encode("utf-16-le")) // 2 <= MAX_MESSAGE
            for _, data in message.buttons:
                assert data is None or len(data.encode()) <= CALLBACK_DATA_MAX_BYTES, data
    assert bad_calls(tg) == []


async def test_a_long_card_is_paged_and_fits(harness, people, clock, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob, "Big & <long> project " + "x" * 70)
    now = clock()
    titles = [f"{n:02d} " + "&<>\"'" * 19 for n in range(1, 26)]  # 98 characters, all escaped in HTML
    for title in titles:
        await svc(harness).perform(
            Action.ADD_MILESTONE,
            ann.id,
            now,
            contract_id=cid,
            title=title,
            amount=100_000_000_00,
            due_date=now.date(),
            description="d" * 2000,
            today=now.date(),
        )
    card = await open_card(harness, ann, cid)
    pages = [card]
    while "▶" in [label for label, _ in pages[-1].buttons]:
        await harness.press(ann, pages[-1], "▶")
        pages.append(message_by_id(tg, ann, card.message_id))
    assert len(pages) == 3
    assert "◀" not in [label for label, _ in pages[0].buttons]
    assert "◀" in [label for label, _ in pages[2].buttons]
    for number, title in enumerate(titles, start=1):
        page = pages[(number - 1) // 10]
        assert f"{number}. {title}" in page.plain_text
        assert sum(f"{number}. {title}" in p.plain_text for p in pages) == 1
    # The Edit buttons belong to the milestones on the page shown.
    edit_labels = [label for label, _ in pages[2].buttons if label.startswith("Edit")]
    assert len(edit_labels) == 5 and edit_labels[0].startswith("Edit «21")
    await harness.press(ann, message_by_id(tg, ann, card.message_id), "◀")
    assert "11. " in message_by_id(tg, ann, card.message_id).plain_text
    assert_within_limits(tg, [ann, bob])


async def test_long_lists_fit_and_nothing_is_lost(harness, people, clock, tg):
    ann, bob, _ = people
    now = clock()
    s = svc(harness)
    await harness.send(ann, "/start")
    titles = [f"{n:02d} " + "&<" * 48 + "!" for n in range(1, 31)]
    for title in titles:
        contract, invite = await s.create_contract(ann.id, Role.CLIENT, title, "USD", now)
        await s.accept_invite(invite.token, bob.id, now)
    listing = await harness.send(ann, "/contracts")
    shown = [listing.plain_text]
    while "▶" in [label for label, _ in tg.messages(ann)[-1].buttons]:
        await harness.press(ann, tg.messages(ann)[-1], "▶")
        shown.append(tg.messages(ann)[-1].plain_text)
    for title in titles:
        assert any(title in text for text in shown), title
    assert "Which contract?" in (await harness.send(ann, "/milestones")).plain_text
    assert "Which contract" in (await harness.send(ann, "/addmilestone")).plain_text
    await harness.send(ann, "/cancel")
    assert_within_limits(tg, [ann, bob])


async def test_every_contract_can_be_picked_with_many_contracts(harness, people, clock, tg):
    ann, bob, _ = people
    now = clock()
    s = svc(harness)
    titles = [f"Job {n:02d}" for n in range(1, 36)]
    for title in titles:
        contract, invite = await s.create_contract(ann.id, Role.CLIENT, title, "USD", now)
        await s.accept_invite(invite.token, bob.id, now)
    for command in ("/milestones", "/addmilestone"):
        picker = await harness.send(ann, command)
        labels = {label for label, _ in picker.buttons}
        while any(label == "▶" for label, _ in picker.buttons):
            await harness.press(ann, picker, "▶")
            picker = message_by_id(tg, ann, picker.message_id)
            labels |= {label for label, _ in picker.buttons}
        assert set(titles) <= labels, command
        await harness.send(ann, "/cancel")


async def test_every_history_entry_is_shown_even_with_long_notes(harness, clock, tg):
    # Telegram allows first names of 64 characters; the history names every actor.
    ann = tg.user(2001, "Ann " + "&" * 60, started=True)
    bob = tg.user(2002, "Bob " + "<" * 60, started=True)
    await harness.send(bob, "/start")
    now = clock()
    s = svc(harness)
    cid = await setup_contract(harness, ann, bob, "H" * 100)
    title = "T" * 100
    outcome = await s.perform(
        Action.ADD_MILESTONE,
        ann.id,
        now,
        contract_id=cid,
        title=title,
        amount=100,
        due_date=now.date(),
        description="",
        today=now.date(),
    )
    ms_id = outcome.milestone.id
    await s.perform(Action.ACTIVATE, ann.id, now, milestone_id=ms_id)
    markers = []
    for n in range(10):
        markers += [f"note{n:02d}", f"reason{n:02d}"]
        await s.perform(Action.SUBMIT, bob.id, now, milestone_id=ms_id, note=f"note{n:02d} " + "n" * 990)
        await s.perform(Action.REQUEST_CHANGES, ann.id, now, milestone_id=ms_id, reason=f"reason{n:02d} " + "r" * 990)
    card = await open_card(harness, ann, cid)
    await harness.press(ann, card, "History")
    history = message_by_id(tg, ann, card.message_id)
    pages = [history.plain_text]
    while "▶" in [label for label, _ in history.buttons]:
        await harness.press(ann, history, "▶")
        history = message_by_id(tg, ann, card.message_id)
        pages.append(history.plain_text)
    text = "\n".join(pages)
    missing = [m for m in markers if m not in text]
    assert missing == []
    assert_within_limits(tg, [ann, bob])


# ----- people the bot can't reach -----------------------------------------------------------------
@pytest.mark.parametrize("how", ["blocked", "never_started"])
async def test_an_unreachable_party_gets_a_hint_to_the_actor_and_the_change_stands(harness, people, tg, how, caplog):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    await add_milestone(harness, ann, "Design", "1500", "in 2 weeks")
    if how == "blocked":
        tg.block_user(bob)
    else:
        tg.user(bob.id, bob.first_name).started = False  # as if Bob had never opened the bot
    card = await open_card(harness, ann, cid)
    ann_count = len(tg.messages(ann))
    answer = await harness.press(ann, card, "Activate & fund")
    assert answer["text"].startswith("Activated")
    [hint] = tg.messages(ann)[ann_count:]
    assert "Bob" in hint.plain_text
    assert f"https://t.me/milestone_test_bot?start=c{cid}" in hint.plain_text
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.ACTIVE
    assert (await ledger_sums(harness, cid))[LedgerKind.FUND] == 150_000
    assert not any("something went wrong" in m.plain_text for m in tg.messages(ann))

    # Bob comes back through the link and can act.
    back = await harness.send(bob, f"/start c{cid}")
    assert "Design" in back.plain_text
    assert any(label.startswith("Submit work") for label, _ in back.buttons)
    no_unhandled_errors(caplog)


async def test_a_group_that_removed_the_bot_breaks_nothing(harness, people, tg, caplog):
    ann, bob, _ = people
    group = tg.group(-100555, "Old team")
    cid = await setup_contract(harness, ann, bob)
    await add_milestone(harness, ann, "Design", "1500", "in 2 weeks")
    await harness.send(ann, "/link", chat=group)
    tg.kick_bot(group)
    card = await open_card(harness, ann, cid)
    bob_count = len(tg.messages(bob))
    answer = await harness.press(ann, card, "Activate & fund")
    assert answer["text"].startswith("Activated")
    assert "Design" in tg.messages(bob)[bob_count].plain_text  # the freelancer still hears of it
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.ACTIVE
    no_unhandled_errors(caplog)


async def test_a_freelancer_withdraws_their_own_proposal(harness, people, tg):
    ann, bob, eve = people
    cid = await setup_contract(harness, ann, bob)
    await add_milestone(harness, bob, "Extra page", "200", "in 3 weeks")
    bob_card = await open_card(harness, bob, cid)
    assert "Withdraw proposal «Extra page»" in [label for label, _ in bob_card.buttons]
    ann_card = await open_card(harness, ann, cid)
    assert not any(label.startswith("Withdraw") for label, _ in ann_card.buttons)

    ann_count = len(tg.messages(ann))
    answer = await harness.press(bob, bob_card, "Withdraw proposal")
    assert answer["text"] == "Proposal withdrawn."
    [news] = tg.messages(ann)[ann_count:]
    assert "Bob withdrew the proposal «Extra page»" in news.plain_text
    assert not any(label.startswith("Accept proposal") for label, _ in news.buttons)
    contract = await svc(harness).view(cid, ann.id)
    assert [m.status for m in contract.milestones] == [MilestoneStatus.CANCELLED]
    assert "Extra page" not in message_by_id(tg, bob, bob_card.message_id).plain_text

    # A second press (a stale copy of the card) is told it already happened; nothing changes twice.
    answer = await press_forged(harness, bob, bob_card, f"m:wdr:{contract.milestones[0].id}")
    assert answer["text"] == "«Extra page» was deleted." and answer["show_alert"]
    history = await open_card(harness, bob, cid)
    answer = await harness.press(bob, history, "History")
    assert "withdrew the proposal «Extra page»" in harness.last(bob).plain_text
