"""Seeding the database a bot process will use: profiles and contracts with one active milestone each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.settings import Settings
from domain.actions import Action
from domain.model import Role
from domain.ports import UserProfile
from domain.services import ContractService
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.uow import uow_factory


async def seed(db_path, people: list[tuple[int, str, str]], plan) -> dict:
    """Seed the database the bot will use: profiles, then whatever `plan(svc, now)` creates."""
    engine = create_engine(f"sqlite+aiosqlite:///{db_path}", inline=Settings(_env_file=None).io_shims)
    try:
        await upgrade_to_head(engine)
        svc = ContractService(uow_factory(session_factory(engine)))
        for uid, name, tz in people:
            await svc.save_profile(UserProfile(id=uid, first_name=name, timezone=tz, started=True))
        return await plan(svc, datetime.now(UTC))
    finally:
        await engine.dispose()


async def new_milestone(svc, actor, at, contract_id, *, title, amount, due_date, today, description=""):
    """Add a milestone through the service, as the bot's Add button does (the freelancer's is a proposal);
    returns the action's outcome."""
    return await svc.perform(
        Action.ADD_MILESTONE,
        actor,
        at,
        contract_id=contract_id,
        title=title,
        amount=amount,
        due_date=due_date,
        description=description,
        today=today,
    )


async def contract_with(svc, now, client, freelancer, title, due, *, submitted_at=None):
    c, inv = await svc.create_contract(client, Role.CLIENT, title, "USD", now - timedelta(days=20))
    await svc.accept_invite(inv.token, freelancer, now - timedelta(days=20))
    out = await new_milestone(
        svc, client, now - timedelta(days=20), c.id, title=f"{title} work", amount=50000, due_date=due, today=due
    )
    await svc.perform(Action.ACTIVATE, client, now - timedelta(days=20), milestone_id=out.milestone.id)
    if submitted_at is not None:
        await svc.perform(Action.SUBMIT, freelancer, submitted_at, milestone_id=out.milestone.id, note="done")
    return out.milestone.id
