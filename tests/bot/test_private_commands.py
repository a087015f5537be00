"""Commands that show someone's contracts stay in private chats; odd /start payloads are refused politely."""

from __future__ import annotations

from domain.model import Role


async def test_contracts_and_milestones_are_not_listed_in_a_group(harness, people, tg):
    ann, bob, _ = people
    svc = harness.app.bot_data["deps"].svc
    contract, invite = await svc.create_contract(ann.id, Role.CLIENT, "Secret deal", "USD", harness.clock())
    await svc.accept_invite(invite.token, bob.id, harness.clock())
    group = tg.group(-100777, "Team")
    for command in ("/contracts", "/milestones"):
        reply = await harness.send(ann, command, chat=group)
        assert "private chat" in reply.plain_text
        assert all("Secret deal" not in m.plain_text for m in tg.messages(group))


async def test_odd_start_payloads_get_a_clear_answer(harness, people, tg):
    ann, _, _ = people
    for payload in ("c" + "9" * 25, "c²", "c", "x" * 64):
        reply = await harness.send(ann, f"/start {payload}")
        assert "went wrong" not in reply.plain_text, payload
        assert reply.plain_text
    assert all(c.status == 200 for c in tg.calls if c.method == "sendMessage")


async def test_a_pending_contract_offers_a_new_invite_link_that_works(harness, people, tg, clock):
    import re

    ann, bob, _ = people
    svc = harness.app.bot_data["deps"].svc
    contract, old = await svc.create_contract(ann.id, Role.CLIENT, "Later", "EUR", clock())
    clock.advance(days=8)  # the first link has expired
    card = await harness.send(ann, f"/start c{contract.id}")
    answer = await harness.press(ann, card, "New invite link")
    assert answer["text"] == "Here is a new invite link."
    token = re.search(r"start=([A-Za-z0-9_-]+)", harness.last(ann).plain_text).group(1)
    assert token != old.token
    invite = await harness.send(bob, f"/start {token}")
    await harness.press(bob, invite, "Accept")
    assert (await svc.view(contract.id, bob.id)).freelancer_id == bob.id
