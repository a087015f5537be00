"""One rule for control characters on both databases: refused with the reason before anything is stored."""

from __future__ import annotations

from datetime import date

import pytest

from domain.actions import Action
from domain.errors import InvalidInput
from domain.model import Role, without_control
from domain.ports import UserProfile
from domain.services import ContractService

CLIENT, FREELANCER = 11, 22


@pytest.mark.parametrize("bad", ["Shop\x00", "Shop\x1b[31m", "Sh\x7fop", "Shop\x85"])
async def test_a_title_with_a_control_character_is_refused_on_both_databases(uow, now, bad):
    svc = ContractService(uow)
    with pytest.raises(InvalidInput, match=r"^The title can't contain control characters \(it has U\+00"):
        await svc.create_contract(CLIENT, Role.CLIENT, bad, "USD", now)
    assert await svc.contracts_of(CLIENT) == []


async def test_tabs_and_line_breaks_are_kept_and_a_name_from_telegram_is_cleaned(uow, now):
    svc = ContractService(uow)
    contract, invite = await svc.create_contract(CLIENT, Role.CLIENT, "Shop\tone", "USD", now)
    await svc.accept_invite(invite.token, FREELANCER, now)
    out = await svc.perform(
        Action.ADD_MILESTONE,
        CLIENT,
        now,
        contract_id=contract.id,
        title="M",
        amount=100,
        due_date=date(2026, 12, 31),
        description="line one\nline two\r\n",
        today=now.date(),
    )
    await svc.perform(Action.ACTIVATE, CLIENT, now, milestone_id=out.milestone.id)
    with pytest.raises(InvalidInput):
        await svc.perform(Action.SUBMIT, FREELANCER, now, milestone_id=out.milestone.id, note="done\x00")
    stored = await svc.view(contract.id, CLIENT)
    assert stored.title == "Shop\tone" and stored.milestones[0].description == "line one\nline two\r\n"
    # A person's name comes from Telegram as it is: stored without its control characters.
    await svc.save_profile(UserProfile(id=99, first_name=without_control("Ann\x00\x07")))
    assert (await svc.profile(99)).first_name == "Ann"
