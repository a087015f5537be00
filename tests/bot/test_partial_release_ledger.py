"""A partial release (PRODUCT §7, §8): after *Pay less* or a dispute settled in part, what the freelancer is
asked to confirm, what the client is told and what the card shows is the part actually released, never the
milestone's whole amount."""

from __future__ import annotations

import pytest

from .helpers import (
    bad_calls,
    every_press_is_answered,  # noqa: F401 (a fixture)
    open_card,
    settle_by_offer,
    story_so_far,
)
from .test_details_and_files import open_details

pytestmark = pytest.mark.usefixtures("every_press_is_answered")


async def paid_less(h, ann, bob, amount: str = "600") -> int:
    """Design ($1,500.00) submitted; Ann releases only `amount` of it."""
    cid, _ = await story_so_far(h, ann, bob)
    await h.press(ann, await open_card(h, ann, cid), "Pay less…")
    await h.send(ann, amount)
    await h.send(ann, "half the pages are missing")
    await h.press(ann, h.last(ann), "Release less")
    return cid


def design_line(card) -> str:
    return next(line for line in card.plain_text.splitlines() if "Design" in line)


async def test_the_freelancer_confirms_the_part_released_not_the_whole_amount(harness, people, tg):
    h = harness
    ann, bob, _ = people
    cid = await paid_less(h, ann, bob)
    card = await open_card(h, bob, cid)
    assert "$600.00 of $1,500.00 released" in design_line(card)
    await h.press(bob, card, "Payment received")
    question = h.last(bob).plain_text
    assert "Confirm that Ann paid you $600.00 for «Design»?" in question, question
    await h.press(bob, h.last(bob), "Yes, I received it")
    told = tg.last_message(ann).plain_text
    assert "Bob confirmed receiving your payment of $600.00 for «Design»" in told, told
    assert "$1,500.00" not in told
    assert not bad_calls(tg)


async def test_not_received_names_the_part_released(harness, people, tg):
    h = harness
    ann, bob, _ = people
    cid = await paid_less(h, ann, bob)
    await h.press(bob, await open_card(h, bob, cid), "Not received")
    question = h.last(bob).plain_text
    assert "Tell Ann that the $600.00 for «Design» has not arrived?" in question, question
    await h.press(bob, h.last(bob), "Not received")
    told = tg.last_message(ann).plain_text
    assert "has not received your payment of $600.00 for «Design»" in told, told


async def test_a_dispute_settled_in_part_shows_and_confirms_the_part_released(harness, people, tg):
    h = harness
    ann, bob, _ = people
    cid, _ = await story_so_far(h, ann, bob)
    await settle_by_offer(h, ann, bob, cid, "1200")
    card = await open_card(h, ann, cid)
    assert "$1,200.00 of $1,500.00 released" in design_line(card)
    details = await open_details(h, ann, cid, "Design")
    assert "Amount: $1,200.00 of $1,500.00 released" in details.plain_text  # the details page too
    await h.press(bob, await open_card(h, bob, cid), "Payment received")
    assert "Confirm that Ann paid you $1,200.00 for «Design»?" in h.last(bob).plain_text


async def test_a_whole_release_still_shows_the_whole_amount(harness, people, tg):
    h = harness
    ann, bob, _ = people
    cid, _ = await story_so_far(h, ann, bob)
    await h.press(ann, await open_card(h, ann, cid), "Approve & release")
    await h.press(ann, h.last(ann), "Release")
    line = design_line(await open_card(h, ann, cid))
    assert "— $1,500.00 ·" in line and " of " not in line, line
