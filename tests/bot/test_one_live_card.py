"""One live card per chat (issue 12, point 2; PRODUCT §3): a contract's card is edited in place; when a
newer card of it is sent to the chat (after a submission note, a change reason, Open contract), the one
before it is retired: its text says it was replaced and its buttons go. A press on a stale card shows
the card as it is now."""

from __future__ import annotations

import pytest

from bot.callbacks import Refresh, decode
from bot.texts import CARD_REPLACED
from domain.actions import Action

from .helpers import (
    every_press_is_answered,  # noqa: F401 (a fixture)
    message_by_id,
    open_card,
    story_so_far,
    svc,
)

pytestmark = pytest.mark.usefixtures("every_press_is_answered")


def live_cards(tg, chat) -> list:
    """The chat's messages that carry a card's buttons (its Refresh)."""
    return [m for m in tg.messages(chat) if any(isinstance(decode(data), Refresh) for _, data in m.buttons)]


async def test_a_review_cycle_leaves_one_live_card_in_each_chat(harness, people, tg):
    ann, bob, _ = people
    cid, _ = await story_so_far(harness, ann, bob)  # opened the card, funded, Bob submitted with a note
    assert len(live_cards(tg, ann)) == 1
    assert len(live_cards(tg, bob)) == 1
    await harness.press(ann, live_cards(tg, ann)[0], "Request changes")
    await harness.send(ann, "Please use the brand colours")
    await harness.press(bob, live_cards(tg, bob)[0], "Submit work")
    await harness.send(bob, "New version attached")
    for chat in (ann, bob):
        cards = live_cards(tg, chat)
        assert len(cards) == 1, [m.plain_text[:40] for m in cards]
        assert "Website redesign" in cards[0].plain_text
    # The cards before were retired in place, not left with stale buttons.
    retired = [m for m in tg.messages(bob) if m.plain_text == CARD_REPLACED]
    assert retired and all(m.buttons == [] for m in retired)


async def test_open_contract_again_retires_the_card_before(harness, people, tg):
    ann, bob, _ = people
    cid, _ = await story_so_far(harness, ann, bob)
    first = live_cards(tg, ann)[0]
    await open_card(harness, ann, cid)
    cards = live_cards(tg, ann)
    assert len(cards) == 1 and cards[0].message_id != first.message_id
    assert message_by_id(tg, ann, first.message_id).plain_text == CARD_REPLACED


async def test_a_refused_press_on_a_stale_card_shows_the_card_as_it_is_now(harness, people, tg):
    """End contract on a card that still offers it after the contract moved on (a milestone got funded
    elsewhere): the refusal is answered and the card itself is brought up to date."""
    ann, bob, _ = people
    cid, ms = await story_so_far(harness, ann, bob)
    await svc(harness).perform(Action.APPROVE, ann.id, harness.clock(), milestone_id=ms[0].id)
    card = await open_card(harness, ann, cid)  # now offers Keep open / End contract (all released)
    assert any(label.startswith("End contract") for label, _ in card.buttons), card.buttons
    await svc(harness).perform(Action.ACTIVATE, ann.id, harness.clock(), milestone_id=ms[1].id)  # elsewhere
    edits = card.edit_count
    answer = await harness.press(ann, card, "End contract")
    answer = answer if answer.get("text") else await harness.press(ann, harness.last(ann), "End contract")
    assert answer.get("text"), answer  # the refusal, said
    now = message_by_id(tg, ann, card.message_id)
    assert now.edit_count > edits
    assert not any(label.startswith("End contract") for label, _ in now.buttons), now.buttons
    assert len(live_cards(tg, ann)) == 1


async def test_a_retired_card_that_is_gone_is_left_alone(harness, people, tg):
    """Retiring edits the old card; if Telegram says it is gone (deleted by the person), nothing is sent
    in its place (a card edit that finds its message gone is sent afresh; a retirement is not)."""
    ann, bob, _ = people
    cid, _ = await story_so_far(harness, ann, bob)
    before = len(tg.messages(ann))
    tg.fail_next("editMessageText", 400, "Bad Request: message to edit not found")
    await open_card(harness, ann, cid)
    assert len(tg.messages(ann)) == before + 1  # the new card only; no "replaced" message sent afresh
    assert not any(m.plain_text == CARD_REPLACED for m in tg.messages(ann)[before:])
    assert len(live_cards(tg, ann)) == 2  # the old one could not be retired: a press on it refreshes it


async def test_the_other_partys_live_card_follows_the_change(harness, people, tg):
    ann, bob, _ = people
    cid, _ = await story_so_far(harness, ann, bob)  # Bob submitted after Ann's card was sent
    (card,) = live_cards(tg, ann)
    assert any(label.startswith("Approve") for label, _ in card.buttons), card.buttons
    await harness.press(ann, harness.last(ann), "Approve")
    await harness.press(ann, harness.last(ann), "Release")
    (bobs,) = live_cards(tg, bob)
    assert "released" in bobs.plain_text.lower(), bobs.plain_text


async def test_a_failed_look_at_the_live_card_retires_the_card_at_the_next_try(harness, people, tg, monkeypatch):
    """Before retiring a card the sender reads which card is live; if the database fails that read, the
    retirement waits its next try like a send Telegram could not take (the chat's sending goes on)."""
    from storage import durable

    ann, bob, _ = people
    cid, _ = await story_so_far(harness, ann, bob)
    first = live_cards(tg, ann)[0]
    real, failures = durable.live_card_now, []

    async def failing_once(*args, **kwargs):
        if not failures:
            failures.append(args)
            raise RuntimeError("database is locked")
        return await real(*args, **kwargs)

    monkeypatch.setattr(durable, "live_card_now", failing_once)
    await open_card(harness, ann, cid)
    await harness.app.bot_data["sender"].drain(retries=True)
    assert failures  # the look failed once ...
    assert message_by_id(tg, ann, first.message_id).plain_text == CARD_REPLACED  # ... and the retirement went on
    await harness.press(ann, live_cards(tg, ann)[0], "Refresh")  # and the chat's later messages too
    assert len(live_cards(tg, ann)) == 1
