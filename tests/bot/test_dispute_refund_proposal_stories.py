"""Three stories an audit found told wrong: a disputed milestone's card promised an automatic release
(PRODUCT §8); submitted work reached the client without Approve & release when a refund request was
pending (PRODUCT §3); a freelancer could not edit their own proposal (R4)."""

from __future__ import annotations

import pytest

from domain.model import MilestoneStatus

from .helpers import (
    add_milestone,
    bad_calls,
    every_press_is_answered,  # noqa: F401 (a fixture)
    message_by_id,
    milestones,
    open_card,
    setup_contract,
    story_so_far,
    svc,
)

pytestmark = pytest.mark.usefixtures("every_press_is_answered")


def labels(message) -> list[str]:
    return [t for t, _ in message.buttons]


def design_line(card) -> str:
    """The card's line of «Design» and its status line under it."""
    lines = card.plain_text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("1. Design"))
    return "\n".join(lines[at : at + 2])


async def test_a_disputed_milestone_says_so_on_the_card_and_promises_no_automatic_release(harness, people):
    h = harness
    ann, bob, _ = people
    cid, _ = await story_so_far(h, ann, bob)
    assert "is released automatically on" in (await open_card(h, ann, cid)).plain_text
    await h.press(ann, await open_card(h, ann, cid), "Open a dispute")
    await h.send(ann, "the logo is not what we agreed")
    for who in (ann, bob):
        card = await open_card(h, who, cid)
        assert "released automatically" not in card.plain_text
        assert "📤 submitted · ⚖️ in dispute" in design_line(card)
    assert bad_calls(h.tg) == []


async def test_work_submitted_after_a_refund_request_reaches_the_client_with_the_review_buttons(harness, people, tg):
    h = harness
    ann, bob, _ = people
    cid = await setup_contract(h, ann, bob)
    await add_milestone(h, ann, "Design", "1500", "in 2 weeks")
    card = await open_card(h, ann, cid)
    await h.press(ann, card, "Activate & fund «Design»")
    await h.press(ann, message_by_id(tg, ann, card.message_id), "Request refund of «Design»")
    await h.press(ann, message_by_id(tg, ann, card.message_id), "Request refund")
    bobs = await open_card(h, bob, cid)
    assert {"Accept refund", "Decline refund"} <= set(labels(bobs))
    await h.press(bob, bobs, "Submit work")
    await h.send(bob, "done after all")
    news = h.last(ann)
    assert "Bob submitted work for «Design»" in news.plain_text
    assert labels(news)[:2] == ["Approve & release «Design»", "Request changes"]
    assert "Your move: review «Design»" in (await open_card(h, ann, cid)).plain_text
    assert "Your move: accept or decline the refund of «Design»" in (await open_card(h, bob, cid)).plain_text
    await h.press(ann, news, "Approve & release")
    await h.press(ann, message_by_id(tg, ann, news.message_id), "Release")
    [design] = await milestones(h, cid, ann)
    assert design.status is MilestoneStatus.RELEASED
    assert bad_calls(tg) == []


async def test_the_freelancer_edits_their_proposal_and_the_client_accepts_it_as_edited(harness, people, tg):
    h = harness
    ann, bob, _ = people
    cid = await setup_contract(h, ann, bob)
    await add_milestone(h, bob, "Logo", "200", "in 2 weeks")
    bobs = await open_card(h, bob, cid)
    assert "Edit «Logo»" in labels(bobs) and "Withdraw proposal «Logo»" in labels(bobs)
    assert "Delete" not in labels(bobs)  # deleting one's own proposal is withdrawing it
    assert not any(t.startswith("Edit") for t in labels(await open_card(h, ann, cid)))  # the client accepts or rejects
    await h.press(bob, bobs, "Edit «Logo»")
    await h.press(bob, h.last(bob), "Amount")
    summary = await h.send(bob, "250")
    ann_count = len(tg.messages(ann))
    answer = await h.press(bob, summary, "Save")
    assert answer["text"] == "Changes saved."
    [news] = tg.messages(ann)[ann_count:]
    assert news.plain_text.startswith("✏️ Bob edited milestone «Logo» in «Website redesign»")
    assert "Amount: $200.00 → $250.00" in news.plain_text
    assert labels(news)[:2] == ["Accept proposal «Logo»", "Reject"]
    await h.press(ann, news, "Accept proposal")
    [logo] = await milestones(h, cid, ann)
    assert (logo.status, logo.amount) == (MilestoneStatus.NOT_FUNDED, 25_000)
    _, history = await svc(h).history(cid, ann.id)
    assert [e.action for e in history if e.action.startswith(("milestone_", "proposal_"))] == [
        "milestone_proposed",
        "milestone_edited",
        "proposal_accepted",
    ]
    assert "Edit «Logo»" not in labels(await open_card(h, bob, cid))  # accepted: the client's to edit now
    assert bad_calls(tg) == []
