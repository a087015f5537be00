"""What people see (issue 12, points 1, 3, 4, 5, 9): money taps ask once, news carries the buttons of what
it is about, Open contract on a reminder leaves the reminder as it was, milestones cancelled by the end of
the contract stay on the card, and the card says whose move it is."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.callbacks import Press, decode
from domain.actions import Action
from domain.model import LedgerKind, MilestoneStatus

from .helpers import (
    add_milestone,
    bad_calls,
    ledger_sums,
    message_by_id,
    milestones,
    open_card,
    press_forged,
    setup_contract,
    story_so_far,
    svc,
)
from .test_reminders import seed, sweep


def labels(message) -> list[str]:
    return [label for label, _ in message.buttons]


def confirmed_press(message, label: str) -> Press:
    [data] = [d for text, d in message.buttons if text == label]
    press = decode(data)
    assert isinstance(press, Press) and press.confirmed, data
    return press


# ----- 1. money taps ask once, with the amount and the person ---------------------------------------------
async def test_approve_and_release_asks_once_naming_the_amount_and_the_freelancer(harness, people, tg):
    ann, bob, _ = people
    cid, (design, _) = await story_so_far(harness, ann, bob)
    review = harness.last(ann)
    bob_count = len(tg.messages(bob))

    answer = await harness.press(ann, review, "Approve & release «Design»")
    assert not answer.get("show_alert")
    asked = message_by_id(tg, ann, review.message_id)
    assert asked.plain_text == "Release $1,500.00 to Bob for «Design»?"
    assert labels(asked) == ["Release", "Back"]
    assert confirmed_press(asked, "Release") == Press(Action.APPROVE, design.id, confirmed=True)
    # Nothing moved yet: no release, no news.
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.SUBMITTED
    assert (await ledger_sums(harness, cid))[LedgerKind.RELEASE] == 0
    assert len(tg.messages(bob)) == bob_count

    # Back: the card again, nothing changed.
    await harness.press(ann, asked, "Back")
    card = message_by_id(tg, ann, review.message_id)
    assert "you are the client" in card.plain_text
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.SUBMITTED

    await harness.press(ann, card, "Approve & release «Design»")
    answer = await harness.press(ann, message_by_id(tg, ann, review.message_id), "Release")
    assert (
        answer["text"]
        == "Approved: the release is recorded. Pay the freelancer directly; they confirm when it arrives."
    )
    assert (await ledger_sums(harness, cid))[LedgerKind.RELEASE] == 150_000
    assert bad_calls(tg) == []


async def test_the_freelancers_refund_asks_once_naming_the_amount_and_the_client(harness, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    await add_milestone(harness, ann, "Design", "1500", "tomorrow")
    await harness.press(ann, await open_card(harness, ann, cid), "Activate & fund «Design»")
    bob_card = await open_card(harness, bob, cid)

    await harness.press(bob, bob_card, "Refund «Design»")
    asked = message_by_id(tg, bob, bob_card.message_id)
    assert asked.plain_text == "Refund $1,500.00 to Ann for «Design»?"
    assert labels(asked) == ["Refund", "Back"]
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.ACTIVE
    assert (await ledger_sums(harness, cid))[LedgerKind.REFUND] == 0

    answer = await harness.press(bob, asked, "Refund")
    assert answer["text"] == "Refunded, as recorded in the ledger (the bot holds no money)."
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.REFUNDED
    assert bad_calls(tg) == []


async def test_the_clients_refund_request_asks_once_naming_the_amount_and_the_freelancer(harness, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    await add_milestone(harness, ann, "Design", "1500", "tomorrow")
    card = await open_card(harness, ann, cid)
    await harness.press(ann, card, "Activate & fund «Design»")
    bob_count = len(tg.messages(bob))

    await harness.press(ann, message_by_id(tg, ann, card.message_id), "Request refund of «Design»")
    asked = message_by_id(tg, ann, card.message_id)
    assert asked.plain_text == "Ask Bob to refund $1,500.00 for «Design»?"
    assert labels(asked) == ["Request refund", "Back"]
    assert (await milestones(harness, cid, ann))[0].refund_requested_at is None
    assert len(tg.messages(bob)) == bob_count

    answer = await harness.press(ann, asked, "Request refund")
    assert answer["text"].startswith("Refund requested")
    assert (await milestones(harness, cid, ann))[0].refund_requested_at is not None
    assert bad_calls(tg) == []


# ----- 3. news carries the buttons of what it is about ----------------------------------------------------
async def test_proposal_news_carries_only_the_proposals_buttons(harness, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    await add_milestone(harness, ann, "Design", "1500", "tomorrow")
    # Nothing funded: Ann could activate «Design», but the news is about Bob's proposal.
    ann_count = len(tg.messages(ann))
    await add_milestone(harness, bob, "Logo", "200", "in 2 weeks")
    [news] = tg.messages(ann)[ann_count:]
    assert "Bob proposes milestone «Logo»" in news.plain_text
    assert labels(news) == ["Accept proposal «Logo»", "Reject", "Open contract"]

    # Funded: Ann could request a refund of «Design», but again the news is about the proposal.
    await harness.press(ann, await open_card(harness, ann, cid), "Activate & fund «Design»")
    ann_count = len(tg.messages(ann))
    await add_milestone(harness, bob, "Icons", "300", "in 2 weeks")
    [news] = tg.messages(ann)[ann_count:]
    assert labels(news) == ["Accept proposal «Icons»", "Reject", "Open contract"]
    assert bad_calls(tg) == []


async def test_submission_news_carries_the_review_buttons_only(harness, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    await add_milestone(harness, ann, "Design", "1500", "tomorrow")
    await harness.press(ann, await open_card(harness, ann, cid), "Activate & fund «Design»")
    await add_milestone(harness, bob, "Logo", "200", "in 2 weeks")  # a proposal waits for Ann meanwhile
    funded = await open_card(harness, bob, cid)
    ann_count = len(tg.messages(ann))
    await harness.press(bob, funded, "Submit work «Design»")
    await harness.send(bob, "done")
    [news] = tg.messages(ann)[ann_count:]
    assert "Bob submitted work for «Design»" in news.plain_text
    assert labels(news) == ["Approve & release «Design»", "Request changes", "Open contract"]


async def test_release_news_gives_the_client_the_next_step(harness, people, tg, clock):
    """After an automatic release (news to both) the client gets Activate next; the freelancer only whether
    the client's payment arrived (ledger mode, issue 14): the next move is the client's."""
    ann, bob, _ = people
    cid, (design, build) = await story_so_far(harness, ann, bob)
    clock.advance(days=15)
    await sweep(harness)
    [ann_news] = [m for m in tg.messages(ann) if "was released automatically" in m.plain_text]
    [bob_news] = [m for m in tg.messages(bob) if "was released automatically" in m.plain_text]
    assert labels(ann_news) == ["Activate & fund «Build»", "Open contract"]
    assert labels(bob_news) == ["Payment received «Design»", "Not received", "Open contract"]


# ----- 4. Open contract on a reminder opens the card as a new message --------------------------------------
async def test_open_contract_on_a_reminder_leaves_the_reminder_and_sends_the_card(harness, people, tg):
    ann, bob, _ = people
    await seed(harness, ann, bob, date(2026, 12, 4))
    harness.clock.now = datetime(2026, 12, 1, 9, 0, 5, tzinfo=UTC)
    await sweep(harness)
    reminder = harness.last(bob)
    assert "is due in 3 days" in reminder.plain_text
    count = len(tg.messages(bob))

    answer = await harness.press(bob, reminder, "Open contract")
    assert not answer.get("show_alert")
    kept = message_by_id(tg, bob, reminder.message_id)
    assert (kept.plain_text, kept.edit_count, kept.buttons) == (reminder.plain_text, 0, reminder.buttons)
    [card] = tg.messages(bob)[count:]
    assert card.plain_text.startswith("📄 Shop (USD) — you are the freelancer")
    assert bad_calls(tg) == []


# ----- 5. milestones cancelled by the end stay listed; the history names who ended ------------------------
async def test_milestones_cancelled_by_the_end_stay_on_the_card_credited_to_who_ended(harness, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    await add_milestone(harness, ann, "Design", "1500", "tomorrow")
    await add_milestone(harness, ann, "Build", "700", "in 2 weeks")
    await add_milestone(harness, ann, "Launch", "300", "in 3 weeks")
    card = await open_card(harness, ann, cid)
    launch = (await milestones(harness, cid, ann))[2]
    await harness.press(ann, card, callback_data=f"m:del:{launch.id}")  # deleted: gone from the card
    card = message_by_id(tg, ann, card.message_id)
    await harness.press(ann, card, "End contract")
    await harness.press(ann, message_by_id(tg, ann, card.message_id), "End contract now")

    ended = message_by_id(tg, ann, card.message_id).plain_text
    assert "Status: ended" in ended
    assert "1. Design — $1,500.00" in ended and "2. Build — $700.00" in ended
    assert ended.count("cancelled (contract ended)") == 2
    assert "Launch" not in ended
    bob_card = (await open_card(harness, bob, cid)).plain_text
    assert "Design" in bob_card and "Build" in bob_card and "cancelled (contract ended)" in bob_card

    await harness.press(ann, message_by_id(tg, ann, card.message_id), "History")
    history = message_by_id(tg, ann, card.message_id).plain_text
    assert "Ann cancelled «Design»" in history and "Ann cancelled «Build»" in history
    assert "Bot" not in history
    assert "Ann ended the contract" in history
    assert bad_calls(tg) == []


# ----- 9. the card says whose move it is -------------------------------------------------------------------
async def test_the_card_says_whose_move_it_is(harness, people, tg):
    ann, bob, _ = people
    cid = await setup_contract(harness, ann, bob)
    assert "Waiting for Ann to add a milestone" in (await open_card(harness, bob, cid)).plain_text
    await add_milestone(harness, ann, "Design", "1500", "tomorrow")

    bob_card = await open_card(harness, bob, cid)
    assert "Waiting for Ann to fund «Design»" in bob_card.plain_text
    ann_card = await open_card(harness, ann, cid)
    assert "Your move: fund «Design»" in ann_card.plain_text

    await harness.press(ann, ann_card, "Activate & fund «Design»")
    assert "Waiting for Bob to submit work for «Design»" in message_by_id(tg, ann, ann_card.message_id).plain_text
    assert "Your move: submit work for «Design»" in (await open_card(harness, bob, cid)).plain_text

    await harness.press(bob, await open_card(harness, bob, cid), "Submit work «Design»")
    await harness.send(bob, "done")
    assert "Waiting for Ann to review «Design»" in (await open_card(harness, bob, cid)).plain_text
    assert "Your move: review «Design»" in (await open_card(harness, ann, cid)).plain_text


async def test_a_waiting_contract_and_an_answer_owed_say_whose_move(harness, people, tg):
    ann, bob, _ = people
    await harness.send(ann, "/newcontract")
    asked = await harness.send(ann, "Logo")
    await harness.press(ann, asked, "USD")
    await harness.press(ann, harness.last(ann), "I am the client")
    await harness.press(ann, harness.last(ann), "Create")
    [row] = await svc(harness).contracts_of(ann.id)
    assert "Waiting for the freelancer to join" in (await open_card(harness, ann, row.id)).plain_text

    cid = await setup_contract(harness, ann, bob, "Shop")
    await add_milestone(harness, ann, "Design", "1500", "tomorrow")
    await harness.press(ann, await open_card(harness, ann, cid), "Activate & fund «Design»")
    card = await open_card(harness, ann, cid)
    await harness.press(ann, card, "Request refund of «Design»")
    await harness.press(ann, message_by_id(tg, ann, card.message_id), "Request refund")
    assert "Waiting for Bob to accept or decline the refund of «Design»" in (
        message_by_id(tg, ann, card.message_id).plain_text
    )
    await add_milestone(harness, bob, "Logo", "200", "in 2 weeks")
    assert "Your move: accept or decline the refund of «Design»" in (await open_card(harness, bob, cid)).plain_text


async def test_a_stranger_gets_neither_a_card_nor_a_release_through_the_new_buttons(harness, people, tg):
    ann, bob, eve = people
    cid, (design, _) = await story_so_far(harness, ann, bob, title="TOP-SECRET")
    hello = await harness.send(eve, "/start")
    count = len(tg.messages(eve))
    for data in (f"c:open:{cid}", f"m:apry:{design.id}", f"m:rfdy:{design.id}", f"m:rrqy:{design.id}"):
        answer = await press_forged(harness, eve, hello, data)
        assert "TOP-SECRET" not in answer["text"] and answer["show_alert"], data
    assert len(tg.messages(eve)) == count
    assert (await milestones(harness, cid, ann))[0].status is MilestoneStatus.SUBMITTED
