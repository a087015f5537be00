"""A history note the domain composed (HistoryEntry.said) is stored with its English text and read back
whole, its parameters' kinds kept (money, a word of ours, a date, a person's own text); run on SQLite and
on a real PostgreSQL server."""

from __future__ import annotations

from datetime import date, timedelta

from domain.actions import Action
from domain.errors import Amount, Day, Words
from domain.model import Role
from domain.services import ContractService
from testkit.seed import new_milestone

CLIENT, FREELANCER = 11, 22
TODAY = date(2026, 11, 27)


async def test_a_composed_note_is_stored_and_read_back_whole(uow, now):
    svc = ContractService(uow)
    contract, invite = await svc.create_contract(CLIENT, Role.CLIENT, "Shop", "USD", now)
    await svc.accept_invite(invite.token, FREELANCER, now)
    out = await new_milestone(
        svc, CLIENT, now, contract.id, title="Design", amount=150_000, due_date=TODAY, description="", today=TODAY
    )
    ms = out.milestone.id
    later = TODAY + timedelta(days=1)
    await svc.perform(Action.EDIT, CLIENT, now, milestone_id=ms, title="Design 2", due_date=later, today=TODAY)
    await svc.perform(Action.ACTIVATE, CLIENT, now, milestone_id=ms)
    await svc.perform(Action.SUBMIT, FREELANCER, now, milestone_id=ms, note="«done» & <b>")
    await svc.perform(Action.OPEN_DISPUTE, CLIENT, now, milestone_id=ms, reason="Late")
    offered = await svc.perform(
        Action.OFFER_SETTLEMENT, CLIENT, now, milestone_id=ms, amount=100_000, note="Fair — ½ «ok» ✓"
    )
    assert offered.said is not None and offered.note.endswith("Fair — ½ «ok» ✓")
    _c, history = await svc.history(contract.id, FREELANCER)
    said = {h.action: h.said for h in history}
    assert said["contract_created"] == ("as client", {}) and said["joined"] == ("as freelancer", {})
    assert said["milestone_edited"] == ("{fields}", {"fields": Words(("title", "due date"))})
    assert said["submitted"] is None and said["dispute_opened"] is None  # people's own notes
    msgid, params = said["dispute_offer"]
    assert msgid == "{to_freelancer} to the freelancer, {to_client} to the client: {note}"
    assert params == {
        "to_freelancer": Amount(100_000, "USD"),
        "to_client": Amount(50_000, "USD"),
        "note": "Fair — ½ «ok» ✓",
    }
    assert isinstance(params["to_client"], Amount) and params["to_client"].minor == 50_000
    assert type(params["note"]) is str  # the person's own text: kept, never translated
    assert said["dispute_offer"] == offered.said
    notes = {h.action: h.note for h in history}
    assert notes["dispute_offer"] == "$1,000.00 to the freelancer, $500.00 to the client: Fair — ½ «ok» ✓"
    assert notes["submitted"] == "«done» & <b>"


async def test_a_due_date_note_and_a_refusal_note_keep_their_kinds(uow, now):
    svc = ContractService(uow)
    contract, invite = await svc.create_contract(CLIENT, Role.CLIENT, "Shop", "USD", now)
    await svc.accept_invite(invite.token, FREELANCER, now)
    out = await new_milestone(
        svc, CLIENT, now, contract.id, title="Design", amount=1_000, due_date=TODAY, description="", today=TODAY
    )
    ms = out.milestone.id
    await svc.perform(Action.ACTIVATE, CLIENT, now, milestone_id=ms)
    later = TODAY + timedelta(days=5)
    await svc.perform(Action.PROPOSE_DUE_DATE, FREELANCER, now, milestone_id=ms, due_date=later, today=TODAY)
    _c, history = await svc.history(contract.id, CLIENT)
    proposed = history[-1]
    assert proposed.note == "2026-11-27 → 2026-12-02"
    assert proposed.said == ("{old} → {new}", {"old": Day("2026-11-27"), "new": Day("2026-12-02")})
    assert isinstance(proposed.said[1]["old"], Day)
