"""Starting the bot, creating a contract, inviting the other party and joining (PRODUCT.md section 3)."""

from __future__ import annotations

import re

import pytest

from domain.model import ContractStatus

from .helpers import (
    INVITE_RE,
    bad_calls,
    create_contract,
    every_press_is_answered,  # noqa: F401 (a fixture)
    join,
    message_by_id,
    svc,
)

pytestmark = pytest.mark.usefixtures("every_press_is_answered")

PAYLOAD_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


async def test_start_greets_and_offers_new_contract_and_my_contracts(harness, people, tg):
    ann, _, _ = people
    greeting = await harness.send(ann, "/start")
    assert "Ann" in greeting.plain_text
    assert len(greeting.plain_text.splitlines()) >= 3
    assert [label for label, _ in greeting.buttons] == ["New contract", "My contracts"]

    answer = await harness.press(ann, greeting, "My contracts")
    assert answer != {}  # the spinner stops
    listing = message_by_id(tg, ann, greeting.message_id)
    assert "no contracts yet" in listing.plain_text
    assert listing.edit_count == 1 and len(tg.messages(ann)) == 1  # in place

    await harness.press(ann, listing, "New contract")
    assert "title" in harness.last(ann).plain_text
    assert bad_calls(tg) == []


async def test_new_contract_by_buttons_gives_a_single_use_invite_link(harness, people, tg):
    ann, _, _ = people
    await harness.send(ann, "/newcontract")
    asked = await harness.send(ann, "Website redesign")
    assert "currency" in asked.plain_text.lower()
    assert {"USD", "EUR", "JPY"} <= {label for label, _ in asked.buttons}

    await harness.press(ann, asked, "EUR")
    roles = harness.last(ann)
    assert "EUR" in roles.plain_text
    await harness.press(ann, roles, "I am the client")
    summary = harness.last(ann)
    assert "Website redesign" in summary.plain_text and "EUR" in summary.plain_text
    assert "client" in summary.plain_text
    assert await svc(harness).contracts_of(ann.id) == []  # nothing before Create

    answer = await harness.press(ann, summary, "Create")
    assert answer["text"] == "Contract created."
    link_message = harness.last(ann)
    found = INVITE_RE.search(link_message.plain_text)
    assert found, link_message.plain_text
    payload = found.group(1)
    assert PAYLOAD_RE.fullmatch(payload) and len(payload) <= 64
    assert "freelancer" in link_message.plain_text  # who to forward it to

    [summary_row] = await svc(harness).contracts_of(ann.id)
    assert (summary_row.title, summary_row.currency, summary_row.status) == (
        "Website redesign",
        "EUR",
        ContractStatus.PENDING,
    )
    # A second contract gets a different, unrelated payload.
    other = await create_contract(harness, ann, "Logo", "USD")
    assert other != payload
    assert bad_calls(tg) == []


async def test_a_too_long_title_is_asked_again_and_groups_are_sent_to_private(harness, people, tg):
    ann, _, _ = people
    group = tg.group(-100777, "Crew")
    hint = await harness.send(ann, "/newcontract", chat=group)
    assert "private chat" in hint.plain_text
    await harness.send(ann, "/newcontract")
    refused = await harness.send(ann, "t" * 101)
    assert "at most 100 characters" in refused.plain_text and "title" in refused.plain_text
    asked = await harness.send(ann, "t" * 100)
    assert "currency" in asked.plain_text.lower()


async def test_typed_currency_code_and_a_bad_code_is_asked_again_with_the_reason(harness, people, tg):
    ann, bob, _ = people
    await harness.send(ann, "/newcontract")
    await harness.send(ann, "Translation")
    refused = await harness.send(ann, "xyz")
    assert "3-letter ISO code" in refused.plain_text
    assert "currency" in refused.plain_text.lower()
    refused = await harness.send(ann, "dollars")
    assert "3-letter ISO code" in refused.plain_text

    roles = await harness.send(ann, "chf")
    assert "CHF" in roles.plain_text
    await harness.press(ann, roles, "I am the freelancer")
    await harness.press(ann, harness.last(ann), "Create")
    payload = INVITE_RE.search(harness.last(ann).plain_text).group(1)
    assert "client" in harness.last(ann).plain_text  # the link goes to the client

    invite = await harness.send(bob, f"/start {payload}")
    assert "Translation" in invite.plain_text and "CHF" in invite.plain_text
    assert "as the client" in invite.plain_text
    await harness.press(bob, invite, "Accept")
    contract = await svc(harness).view((await svc(harness).contracts_of(ann.id))[0].id, ann.id)
    assert (contract.currency, contract.client_id, contract.freelancer_id) == ("CHF", bob.id, ann.id)
    assert bad_calls(tg) == []


async def test_invited_person_accepts_and_both_are_told(harness, people, tg):
    ann, bob, _ = people
    payload = await create_contract(harness, ann, "Mobile app")
    ann_before = len(tg.messages(ann))

    invite = await harness.send(bob, f"/start {payload}")
    assert "Ann" in invite.plain_text and "Mobile app" in invite.plain_text
    assert "as the freelancer" in invite.plain_text
    assert [label for label, _ in invite.buttons] == ["Accept", "Decline"]

    answer = await harness.press(bob, invite, "Accept")
    assert answer["text"] == "You joined the contract."
    card = message_by_id(tg, bob, invite.message_id)  # the invite turned into the contract card
    assert "Mobile app" in card.plain_text and "you are the freelancer" in card.plain_text
    assert "Status: active" in card.plain_text

    told = tg.messages(ann)[ann_before:]
    assert len(told) == 1
    assert "Bob" in told[0].plain_text and "Mobile app" in told[0].plain_text
    assert "accepted" in told[0].plain_text
    [row] = await svc(harness).contracts_of(ann.id)
    assert row.status is ContractStatus.ACTIVE
    assert bad_calls(tg) == []


async def test_creator_cannot_accept_their_own_link(harness, people, tg):
    ann, _, _ = people
    payload = await create_contract(harness, ann, "Own link")
    refused = await harness.send(ann, f"/start {payload}")
    assert "You created this invite" in refused.plain_text
    assert refused.buttons == []
    [row] = await svc(harness).contracts_of(ann.id)
    assert row.status is ContractStatus.PENDING


async def test_a_used_link_is_refused_also_to_someone_holding_its_preview(harness, people, tg):
    ann, bob, eve = people
    payload = await create_contract(harness, ann, "Shared link")
    eve_preview = await harness.send(eve, f"/start {payload}")  # Eve got the link too
    assert "Accept" in [label for label, _ in eve_preview.buttons]

    bob_preview = await harness.send(bob, f"/start {payload}")
    # Bob double-taps Accept: he joins once.
    first = tg.press(bob, bob_preview, "Accept")
    second = tg.press(bob, bob_preview, "Accept")
    await harness.pump()
    assert tg.callback_answers[first]["text"] == "You joined the contract."
    assert "already" in tg.callback_answers[second]["text"]

    refused = await harness.send(eve, f"/start {payload}")
    assert "already used" in refused.plain_text
    answer = await harness.press(eve, eve_preview, "Accept")
    assert "already used" in answer["text"] and answer["show_alert"]
    contract = await svc(harness).view((await svc(harness).contracts_of(ann.id))[0].id, ann.id)
    assert (contract.client_id, contract.freelancer_id) == (ann.id, bob.id)
    assert await svc(harness).contracts_of(eve.id) == []
    assert bad_calls(tg) == []


async def test_a_tampered_payload_is_refused(harness, people):
    ann, bob, _ = people
    payload = await create_contract(harness, ann, "Tamper")
    tampered = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    refused = await harness.send(bob, f"/start {tampered}")
    assert "not valid" in refused.plain_text
    assert refused.buttons == []


async def test_an_invite_expires_after_seven_days(harness, people, clock, tg):
    ann, bob, _ = people
    payload = await create_contract(harness, ann, "Slow start")
    clock.advance(days=6, hours=23)
    preview = await harness.send(bob, f"/start {payload}")
    assert [label for label, _ in preview.buttons] == ["Accept", "Decline"]  # still valid

    clock.advance(hours=2)  # now past 7 days
    answer = await harness.press(bob, preview, "Accept")
    assert "expired" in answer["text"]
    refused = await harness.send(bob, f"/start {payload}")
    assert "expired" in refused.plain_text
    [row] = await svc(harness).contracts_of(ann.id)
    assert row.status is ContractStatus.PENDING
    assert await svc(harness).contracts_of(bob.id) == []


async def test_an_invite_opened_eight_days_later_is_refused(harness, people, clock):
    ann, bob, _ = people
    payload = await create_contract(harness, ann, "Too late")
    clock.advance(days=8)
    refused = await harness.send(bob, f"/start {payload}")
    assert "expired" in refused.plain_text
    assert refused.buttons == []


async def test_decline_tells_the_creator_and_closes_the_link(harness, people, tg):
    ann, bob, eve = people
    payload = await create_contract(harness, ann, "Not for me")
    ann_before = len(tg.messages(ann))
    invite = await harness.send(bob, f"/start {payload}")
    answer = await harness.press(bob, invite, "Decline")
    assert answer["text"] == "Declined."
    assert "declined" in message_by_id(tg, bob, invite.message_id).plain_text

    told = tg.messages(ann)[ann_before:]
    assert len(told) == 1 and "Bob" in told[0].plain_text and "declined" in told[0].plain_text
    assert "Not for me" in told[0].plain_text
    [row] = await svc(harness).contracts_of(ann.id)
    assert row.status is ContractStatus.DECLINED

    refused = await harness.send(eve, f"/start {payload}")
    assert refused.buttons == []
    assert await svc(harness).contracts_of(eve.id) == []


async def test_contracts_command_lists_contracts_and_opens_a_card(harness, people, tg):
    ann, bob, _ = people
    empty = await harness.send(ann, "/contracts")
    assert "no contracts yet" in empty.plain_text
    await join(harness, bob, await create_contract(harness, ann, "Alpha project"))
    await create_contract(harness, ann, "Beta project", "JPY", role="freelancer")

    listing = await harness.send(ann, "/contracts")
    text = listing.plain_text
    assert "Alpha project" in text and "Beta project" in text
    alpha_line = next(line for line in text.splitlines() if "Alpha project" in line)
    beta_line = next(line for line in text.splitlines() if "Beta project" in line)
    assert "client" in alpha_line and "active" in alpha_line
    assert "freelancer" in beta_line and "pending" in beta_line and "JPY" in beta_line
    assert {label for label, _ in listing.buttons} == {"Alpha project", "Beta project"}

    await harness.press(ann, listing, "Alpha project")
    card = message_by_id(tg, ann, listing.message_id)
    assert card.edit_count == 1  # the list became the card, no new message
    assert "Alpha project" in card.plain_text and "Bob" in card.plain_text

    bobs = await harness.send(bob, "/contracts")
    assert "Alpha project" in bobs.plain_text and "Beta project" not in bobs.plain_text
    assert bad_calls(tg) == []


async def test_cancel_in_the_middle_saves_nothing(harness, people, tg):
    ann, _, _ = people
    await harness.send(ann, "/newcontract")
    await harness.send(ann, "Half done")
    cancelled = await harness.send(ann, "/cancel")
    assert "Nothing was saved" in cancelled.plain_text
    count = len(tg.messages(ann))
    await harness.send(ann, "USD")  # no longer answers the currency question
    assert not any("Currency" in m.plain_text for m in tg.messages(ann)[count:])
    assert await svc(harness).contracts_of(ann.id) == []

    # Cancel on the summary, too.
    await harness.send(ann, "/newcontract")
    asked = await harness.send(ann, "Almost")
    await harness.press(ann, asked, "USD")
    await harness.press(ann, harness.last(ann), "I am the client")
    answer = await harness.press(ann, harness.last(ann), "Cancel")
    assert answer["text"] == "Cancelled."
    assert await svc(harness).contracts_of(ann.id) == []

    nothing = await harness.send(ann, "/cancel")
    assert "nothing to cancel" in nothing.plain_text.lower()
