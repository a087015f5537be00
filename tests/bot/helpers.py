"""Steps shared by the in-process handler tests: set up contracts and milestones the way a user does."""

from __future__ import annotations

import re
from datetime import date

import pytest

from domain.model import LedgerKind

BOT_USERNAME = "milestone_test_bot"
INVITE_RE = re.compile(rf"https://t\.me/{BOT_USERNAME}\?start=(\S+)")


def svc(harness):
    """The domain service the running app uses: to read what is stored, never to bypass a handler under test."""
    return harness.app.bot_data["deps"].svc


def usd(minor: int) -> str:
    """How a USD amount in cents reads for an en_US user: $1,250.50."""
    return f"${minor // 100:,}.{minor % 100:02d}"


def display_date(d: date) -> str:
    return d.strftime("%a %d %b %Y")


def bad_calls(tg) -> list:
    """Every API call the strict fake refused as malformed (400) - a bot bug, whatever the test does."""
    return [c for c in tg.calls if c.status == 400 and "not modified" not in (c.description or "")]


def forge_press(harness, user, message, data: str) -> str:
    """A callback query with arbitrary data on a real bot message, as a modified client could send it."""
    return harness.tg.press(user, message, forged_data=data)


async def press_forged(harness, user, message, data: str) -> dict:
    query_id = forge_press(harness, user, message, data)
    await harness.pump()
    return harness.tg.answer_for(query_id) or {}


async def create_contract(harness, creator, title: str, currency: str = "USD", role: str = "client") -> str:
    """/newcontract through to Create; returns the invite payload from the link the bot gives."""
    await harness.send(creator, "/newcontract")
    asked = await harness.send(creator, title)
    await harness.press(creator, asked, currency)
    await harness.press(creator, harness.last(creator), f"I am the {role}")
    await harness.press(creator, harness.last(creator), "Create")
    found = INVITE_RE.search(harness.last(creator).plain_text)
    assert found, harness.last(creator).plain_text
    return found.group(1)


async def join(harness, joiner, payload: str, accept: bool = True) -> dict:
    invite = await harness.send(joiner, f"/start {payload}")
    return await harness.press(joiner, invite, "Accept" if accept else "Decline")


async def contract_id(harness, user, title: str) -> int:
    matches = [s.id for s in await svc(harness).contracts_of(user.id) if s.title == title]
    assert len(matches) == 1, matches
    return matches[0]


async def setup_contract(harness, client, freelancer, title: str = "Website redesign", currency: str = "USD") -> int:
    payload = await create_contract(harness, client, title, currency, "client")
    await join(harness, freelancer, payload)
    return await contract_id(harness, client, title)


async def open_card(harness, user, cid: int):
    """The contract card as a fresh message (the deep link the bot itself hands out)."""
    return await harness.send(user, f"/start c{cid}")


async def add_milestone(
    harness, user, title: str, amount: str, due: str, description: str | None = None, contract_title: str | None = None
):
    """/addmilestone through to Save; returns the message the Save press left (the edited card)."""
    first = await harness.send(user, "/addmilestone")
    if contract_title is not None:
        await harness.press(user, first, contract_title)
    await harness.send(user, title)
    await harness.send(user, amount)
    asked = await harness.send(user, due)
    if description is None:
        await harness.press(user, asked, "Skip")
    else:
        await harness.send(user, description)
    summary = harness.last(user)
    answer = await harness.press(user, summary, "Save")
    assert answer.get("text") in ("Saved.", "Proposal sent to the client."), (answer, summary.plain_text)
    return message_by_id(harness.tg, user, summary.message_id)


async def milestones(harness, cid: int, viewer) -> list:
    contract = await svc(harness).view(cid, viewer.id)
    return contract.ordered()


async def ledger_sums(harness, cid: int) -> dict[LedgerKind, int]:
    sums = {kind: 0 for kind in LedgerKind}
    for entry in await svc(harness).ledger(cid):
        sums[entry.kind] += entry.amount
    return sums


def message_by_id(tg, chat, message_id: int):
    found = [m for m in tg.messages(chat) if m.message_id == message_id]
    assert found, f"message {message_id} is gone"
    return found[0]


@pytest.fixture
def every_press_is_answered(tg):
    """Every button press gets an answer (the spinner stops), refusals included."""
    yield
    unanswered = set(tg._queries) - set(tg.callback_answers)
    assert unanswered == set(), f"{len(unanswered)} press(es) never answered"


async def story_so_far(harness, ann, bob, tg=None, title: str = "Website redesign") -> tuple[int, list]:
    """A contract with Design funded and submitted, Build waiting."""
    cid = await setup_contract(harness, ann, bob, title=title)
    await add_milestone(harness, ann, "Design", "1500", "in 2 weeks")
    await add_milestone(harness, ann, "Build", "700", "in 3 weeks")
    card = await open_card(harness, ann, cid)
    await harness.press(ann, card, "Activate & fund")
    await harness.press(bob, harness.last(bob), "Submit work")
    await harness.send(bob, "done")
    return cid, await milestones(harness, cid, ann)


async def settle_by_offer(h, client, freelancer, cid: int, to_freelancer: str = "1200") -> dict:
    """The freelancer opens a dispute, the client offers `to_freelancer`, the freelancer accepts and
    settles: the answer to that last press."""
    await h.press(freelancer, await open_card(h, freelancer, cid), "Open a dispute")
    await h.send(freelancer, "client went silent")
    await h.press(client, h.last(client), "Offer a split")
    await h.send(client, to_freelancer)
    await h.press(client, h.last(client), "Skip")
    await h.press(freelancer, h.last(freelancer), "Accept offer")
    return await h.press(freelancer, h.last(freelancer), "Accept and settle")
