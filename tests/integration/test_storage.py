"""Repository and unit-of-work suite, run on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select

from domain.actions import Action
from domain.errors import AlreadyDone, DomainError, InviteInvalid, NotAllowed
from domain.model import ContractStatus, LedgerKind, MilestoneStatus, Role
from domain.ports import UserProfile
from domain.services import ContractService
from storage.models import Base, LedgerRow, MilestoneRow
from testkit.seed import new_milestone

CLIENT, FREELANCER = 11, 22
TODAY = date(2026, 11, 27)


async def seeded(uow, now, n_milestones=3):
    svc = ContractService(uow)
    contract, invite = await svc.create_contract(CLIENT, Role.CLIENT, "Shop <&> 🚀", "USD", now)
    await svc.accept_invite(invite.token, FREELANCER, now)
    ids = []
    for i in range(n_milestones):
        out = await new_milestone(
            svc,
            CLIENT,
            now,
            contract.id,
            title=f"M{i} «x» <b>",
            amount=1000 * (i + 1),
            due_date=TODAY + timedelta(days=i),
            description="d & <i>",
            today=TODAY,
        )
        ids.append(out.milestone.id)
    return svc, contract.id, ids


async def test_migrations_match_the_models(engine):
    async with engine.connect() as conn:
        diff = await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata))
    assert diff == []


async def test_round_trip_keeps_every_field_exactly(uow, now):
    svc, cid, ids = await seeded(uow, now)
    contract = await svc.view(cid, FREELANCER)
    assert contract.title == "Shop <&> 🚀" and contract.status is ContractStatus.ACTIVE
    assert contract.created_at == now and contract.created_at.tzinfo is not None
    assert [(m.title, m.amount, m.due_date, m.description, m.seq) for m in contract.ordered()] == [
        (f"M{i} «x» <b>", 1000 * (i + 1), TODAY + timedelta(days=i), "d & <i>", i + 1) for i in range(3)
    ]
    with pytest.raises(NotAllowed):
        await svc.view(cid, 999)


async def test_full_flow_writes_ledger_and_history_in_the_same_transaction(uow, now):
    svc, cid, ids = await seeded(uow, now)
    await svc.perform(Action.ACTIVATE, CLIENT, now, milestone_id=ids[0])
    await svc.perform(Action.SUBMIT, FREELANCER, now, milestone_id=ids[0], note="done")
    await svc.perform(Action.REQUEST_CHANGES, CLIENT, now, milestone_id=ids[0], reason="more")
    await svc.perform(Action.SUBMIT, FREELANCER, now + timedelta(hours=1), milestone_id=ids[0], note="again")
    out = await svc.perform(Action.APPROVE, CLIENT, now + timedelta(hours=2), milestone_id=ids[0])
    assert out.milestone.status is MilestoneStatus.RELEASED
    await svc.perform(Action.ACTIVATE, CLIENT, now, milestone_id=ids[1])
    await svc.perform(Action.REFUND, FREELANCER, now, milestone_id=ids[1])
    fresh = await svc.view(cid, CLIENT)
    ms0 = fresh.milestone(ids[0])
    assert ms0.revision_count == 1 and ms0.submitted_at == now + timedelta(hours=1)
    ledger = await svc.ledger(cid)
    assert [(e.kind, e.amount, e.milestone_id) for e in ledger] == [
        (LedgerKind.FUND, 1000, ids[0]),
        (LedgerKind.RELEASE, 1000, ids[0]),
        (LedgerKind.FUND, 2000, ids[1]),
        (LedgerKind.REFUND, 2000, ids[1]),
    ]
    t = fresh.totals()
    assert (t.funded, t.released, t.refunded, t.in_escrow, t.remaining) == (3000, 1000, 2000, 0, 3000)
    _, history = await svc.history(cid, FREELANCER)
    assert [h.action for h in history] == [
        "contract_created",
        "joined",
        "milestone_added",
        "milestone_added",
        "milestone_added",
        "activated",
        "submitted",
        "changes_requested",
        "submitted",
        "released",
        "activated",
        "refunded",
    ]
    assert history[7].note == "more" and history[7].milestone_id == ids[0]


async def test_refused_action_stores_nothing(uow, now):
    svc, cid, ids = await seeded(uow, now)
    before = await svc.view(cid, CLIENT)
    with pytest.raises(DomainError):
        await svc.perform(Action.ACTIVATE, CLIENT, now, milestone_id=ids[1])
    after = await svc.view(cid, CLIENT)
    assert after.version == before.version
    assert [m.status for m in after.milestones] == [m.status for m in before.milestones]
    assert await svc.ledger(cid) == []


async def test_proposal_gets_its_place_when_accepted(uow, now):
    svc, cid, ids = await seeded(uow, now, n_milestones=1)
    out = await new_milestone(svc, FREELANCER, now, cid, title="Extra", amount=500, due_date=TODAY, today=TODAY)
    pid = out.milestone.id
    assert out.action == "milestone_proposed" and out.milestone.seq is None
    await new_milestone(svc, CLIENT, now, cid, title="Later", amount=700, due_date=TODAY, today=TODAY)
    await svc.perform(Action.ACCEPT_PROPOSAL, CLIENT, now, milestone_id=pid)
    contract = await svc.view(cid, CLIENT)
    assert [m.title for m in contract.ordered()] == ["M0 «x» <b>", "Later", "Extra"]


async def test_contract_list_and_user_profiles(uow, now):
    svc, cid, ids = await seeded(uow, now)
    [summary] = await svc.contracts_of(FREELANCER)
    assert (summary.id, summary.role, summary.other_party_id, summary.milestone_count) == (
        cid,
        Role.FREELANCER,
        CLIENT,
        3,
    )
    assert await svc.contracts_of(12345) == []
    await svc.save_profile(UserProfile(id=CLIENT, first_name="Ann", timezone="Europe/Berlin", started=True))
    p = await svc.profile(CLIENT)
    assert (p.first_name, p.timezone, p.started, p.blocked) == ("Ann", "Europe/Berlin", True, False)
    p.blocked = True
    await svc.save_profile(p)
    assert (await svc.profile(CLIENT)).blocked


async def test_invite_single_use_and_race_has_one_winner(uow, now):
    svc = ContractService(uow)
    contract, invite = await svc.create_contract(CLIENT, Role.CLIENT, "Race", "EUR", now)
    with pytest.raises(InviteInvalid, match="You created"):
        await svc.accept_invite(invite.token, CLIENT, now)
    results = await asyncio.gather(
        *(svc.accept_invite(invite.token, 1000 + i, now) for i in range(10)), return_exceptions=True
    )
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1
    assert all(isinstance(e, InviteInvalid) for e in losers), losers
    fresh = await svc.view(contract.id, CLIENT)
    assert fresh.freelancer_id == winners[0].actor_id
    with pytest.raises(InviteInvalid, match="expired"):
        _, other = await svc.create_contract(CLIENT, Role.CLIENT, "Late", "EUR", now)
        await svc.accept_invite(other.token, FREELANCER, now + timedelta(days=7, seconds=1))


async def test_fifty_concurrent_approvals_release_once(uow, engine, now):
    svc, cid, ids = await seeded(uow, now, n_milestones=1)
    ms = ids[0]
    await svc.perform(Action.ACTIVATE, CLIENT, now, milestone_id=ms)
    await svc.perform(Action.SUBMIT, FREELANCER, now, milestone_id=ms, note="done")

    loop = asyncio.get_running_loop()
    started = loop.time()
    results = await asyncio.gather(
        *(svc.perform(Action.APPROVE, CLIENT, now, milestone_id=ms) for _ in range(50)), return_exceptions=True
    )
    elapsed = loop.time() - started
    released = [r for r in results if not isinstance(r, BaseException)]
    refusals = [r for r in results if isinstance(r, BaseException)]
    assert len(released) == 1
    assert len(refusals) == 49
    assert all(isinstance(r, AlreadyDone) and r.reason == "«M0 «x» <b>» is already released." for r in refusals), {
        type(r).__name__ + ": " + str(r) for r in refusals
    }
    async with engine.connect() as conn:
        n_release = (
            await conn.execute(select(func.count()).select_from(LedgerRow).where(LedgerRow.kind == "release"))
        ).scalar_one()
        status = (await conn.execute(select(MilestoneRow.status).where(MilestoneRow.id == ms))).scalar_one()
    assert n_release == 1 and status == "released"
    print(
        f"\n[{engine.dialect.name}] 50 concurrent approvals: 1 release, {len(refusals)} refusals, {elapsed * 1000:.0f} ms"
    )


async def test_two_processes_racing_different_milestones_keep_r2(uow, now):
    """Activating two different milestones at once can't leave two funded: the contract version serialises."""
    svc, cid, ids = await seeded(uow, now)
    await svc.perform(Action.ACTIVATE, CLIENT, now, milestone_id=ids[0])
    await svc.perform(Action.SUBMIT, FREELANCER, now, milestone_id=ids[0], note="")
    await svc.perform(Action.APPROVE, CLIENT, now, milestone_id=ids[0])
    results = await asyncio.gather(
        *(svc.perform(Action.ACTIVATE, CLIENT, now, milestone_id=ids[1 + i % 2]) for i in range(20)),
        return_exceptions=True,
    )
    ok = [r for r in results if not isinstance(r, BaseException)]
    assert len(ok) == 1
    contract = await svc.view(cid, CLIENT)
    assert sum(m.is_funded for m in contract.milestones) == 1
