"""Repositories: map rows to domain objects and store aggregate changes with a version check."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import fields
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import BindParameter, CursorResult, Select, Table, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import Amount, ConcurrentUpdate, Day, Said, Term, Words
from domain.model import (
    Contract,
    ContractStatus,
    HistoryEntry,
    Invite,
    LedgerEntry,
    LedgerKind,
    Milestone,
    MilestoneStatus,
    PaymentMode,
    Role,
    SubmittedFile,
)
from domain.ports import ContractSummary, UserProfile

from .db import connection_of
from .models import ContractRow, HistoryRow, InviteRow, LedgerRow, MilestoneRow, SubmittedFileRow, UserRow

_MS_FIELDS = [f.name for f in fields(Milestone) if f.name != "id"]
_CONTRACT_FIELDS = (
    "title",
    "currency",
    "status",
    "client_id",
    "freelancer_id",
    "review_days",
    "ended_at",
    "group_chat_id",
    "kept_open_at",
    "payments",
)


def _ms_values(ms: Milestone) -> dict[str, Any]:
    values = {name: getattr(ms, name) for name in _MS_FIELDS}
    values["status"] = ms.status.value
    return values


def _ms_from_row(row: MilestoneRow) -> Milestone:
    values = {name: getattr(row, name) for name in _MS_FIELDS}
    values["status"] = MilestoneStatus(row.status)
    return Milestone(id=row.id, **values)


_C, _M = ContractRow.__table__, MilestoneRow.__table__
_LEDGER, _HISTORY = LedgerRow.__table__, HistoryRow.__table__
_FILES = SubmittedFileRow.__table__
# Positions in a row of select(contracts, milestones): rows are read as plain tuples.
_CI = {col.name: i for i, col in enumerate(_C.c)}
_MI = {col.name: len(_C.c) + i for i, col in enumerate(_M.c)}


def _values(table: Table, names: Iterable[str]) -> dict[str, BindParameter[Any]]:
    return {name: bindparam(f"v_{name}", type_=table.c[name].type) for name in names}


# Built once: a tap runs these, and building (and cache-keying) a statement costs more than SQLite
# takes to run it. Core statements on the session's connection, not the ORM's bulk DML path.
_LOAD_BY_CONTRACT = (
    select(_C, _M)
    .select_from(_C.outerjoin(_M, _M.c.contract_id == _C.c.id))
    .where(_C.c.id == bindparam("b_contract"))
    .order_by(_M.c.id)
)
_LOAD_BY_MILESTONE = (
    select(_C, _M)
    .select_from(_C.outerjoin(_M, _M.c.contract_id == _C.c.id))
    .where(_C.c.id == select(_M.c.contract_id).where(_M.c.id == bindparam("b_milestone")).scalar_subquery())
    .order_by(_M.c.id)
)
_CONTRACT_INSERT = (
    insert(_C).values(**_values(_C, (*_CONTRACT_FIELDS, "created_by", "created_at", "version"))).returning(_C.c.id)
)
_CONTRACT_UPDATE = (
    update(_C)
    .where(_C.c.id == bindparam("b_id"), _C.c.version == bindparam("b_version"))
    .values(version=_C.c.version + 1, **_values(_C, _CONTRACT_FIELDS))
)
_MS_INSERT = insert(_M).values(**_values(_M, ("contract_id", *_MS_FIELDS))).returning(_M.c.id)
_MS_UPDATE = update(_M).where(_M.c.id == bindparam("b_id")).values(**_values(_M, _MS_FIELDS))


def _prefixed(values: dict[str, Any]) -> dict[str, Any]:
    return {f"v_{k}": v for k, v in values.items()}


def _said_json(said: Said | None) -> str | None:
    """A history note the domain composed, as stored: {"msgid": ..., "params": {...}}, each parameter
    tagged with its kind (a word of ours, money, a date, a list of words); a plain string (a person's own
    text) or a number as it is."""
    if said is None:
        return None
    msgid, params = said
    return json.dumps({"msgid": msgid, "params": {k: _param_json(v) for k, v in params.items()}}, ensure_ascii=False)


def _param_json(value: Any) -> Any:
    if isinstance(value, Term):
        return {"term": str(value)}
    if isinstance(value, Amount):
        return {"amount": value.minor, "currency": value.currency, "plain": value.plain}
    if isinstance(value, Day):
        return {"day": value.iso}
    if isinstance(value, Words):
        return {"words": list(value.items)}
    if isinstance(value, int):
        return value
    return str(value)


def _said_from_json(text: str | None) -> Said | None:
    if not text:
        return None
    data = json.loads(text)
    return data["msgid"], {k: _param_from_json(v) for k, v in data["params"].items()}


def _param_from_json(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "term" in value:
        return Term(value["term"])
    if "amount" in value:
        return Amount(value["amount"], value["currency"], bool(value.get("plain")))
    if "day" in value:
        return Day(value["day"])
    if "words" in value:
        return Words(tuple(value["words"]))
    raise ValueError(f"unknown note parameter: {value!r}")


# A contract's append-only record: its history or its ledger.
_Entry = TypeVar("_Entry", HistoryRow, LedgerRow)


async def _no_savepoint() -> None:
    return None


class SqlContractRepository:
    def __init__(self, session: AsyncSession, writing: Callable[[], Awaitable[None]] = _no_savepoint) -> None:
        self.session = session
        self._writing = writing  # called before the first write (storage/uow.py: the unit of work's savepoint)
        # What each loaded milestone looked like, so save() writes only what changed.
        self._seen: dict[int, dict[str, Any]] = {}

    async def add(self, contract: Contract) -> None:
        await self._writing()
        values = {name: getattr(contract, name) for name in _CONTRACT_FIELDS}
        values.update(
            status=contract.status.value,
            payments=contract.payments.value,
            created_by=contract.created_by,
            created_at=contract.created_at,
            version=contract.version,
        )
        conn = await connection_of(self.session)
        contract.id = (await conn.execute(_CONTRACT_INSERT, _prefixed(values))).scalar_one()
        await self._write_children(contract)

    async def get(self, contract_id: int) -> Contract | None:
        return await self._load(_LOAD_BY_CONTRACT, {"b_contract": contract_id})

    async def get_by_milestone(self, milestone_id: int) -> Contract | None:
        """The contract a milestone belongs to, loaded in the same single query."""
        return await self._load(_LOAD_BY_MILESTONE, {"b_milestone": milestone_id})

    async def _load(self, statement: Select[*tuple[Any, ...]], params: dict[str, Any]) -> Contract | None:
        # One statement for the whole aggregate: the contract row joined with its milestones.
        conn = await connection_of(self.session)
        rows = (await conn.execute(statement, params)).all()
        if not rows:
            return None
        first = rows[0]
        milestones = []
        mid = _MI["id"]
        for row in rows:
            if row[mid] is None:
                continue
            values = {name: row[_MI[name]] for name in _MS_FIELDS}
            values["status"] = MilestoneStatus(values["status"])
            ms_id: int = row[mid]
            ms = Milestone(id=ms_id, **values)
            self._seen[ms_id] = _ms_values(ms)
            milestones.append(ms)
        c = {name: first[i] for name, i in _CI.items()}
        return Contract(
            id=c["id"],
            title=c["title"],
            currency=c["currency"],
            status=ContractStatus(c["status"]),
            created_by=c["created_by"],
            created_at=c["created_at"],
            client_id=c["client_id"],
            freelancer_id=c["freelancer_id"],
            review_days=c["review_days"],
            ended_at=c["ended_at"],
            group_chat_id=c["group_chat_id"],
            kept_open_at=c["kept_open_at"],
            payments=PaymentMode(c["payments"]),
            version=c["version"],
            milestones=milestones,
        )

    async def save(self, contract: Contract) -> None:
        await self._writing()
        values = {name: getattr(contract, name) for name in _CONTRACT_FIELDS}
        values["status"] = contract.status.value
        values["payments"] = contract.payments.value
        conn = await connection_of(self.session)
        result = await conn.execute(
            _CONTRACT_UPDATE, {"b_id": contract.id, "b_version": contract.version, **_prefixed(values)}
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate(f"contract {contract.id} changed since it was read")
        contract.version += 1
        await self._write_children(contract)

    async def _write_children(self, contract: Contract) -> None:
        conn = await connection_of(self.session)
        for ms in contract.milestones:
            values = _ms_values(ms)
            if ms.id is None:
                ms.id = (
                    await conn.execute(_MS_INSERT, {"v_contract_id": contract.id, **_prefixed(values)})
                ).scalar_one()
            elif self._seen.get(ms.id) != values:
                await conn.execute(_MS_UPDATE, {"b_id": ms.id, **_prefixed(values)})
            self._seen[ms.id] = values
        if contract.new_ledger:
            await conn.execute(
                insert(_LEDGER),
                [
                    dict(
                        contract_id=contract.id,
                        milestone_id=e.milestone.id if e.milestone else e.milestone_id,
                        kind=e.kind.value,
                        amount=e.amount,
                        at=e.at,
                        actor_id=e.actor_id,
                        reference=e.reference,
                        charge_id=e.charge_id,
                        provider_charge_id=e.provider_charge_id,
                    )
                    for e in contract.new_ledger
                ],
            )
            contract.new_ledger.clear()
        if contract.new_history:
            await conn.execute(
                insert(_HISTORY),
                [
                    dict(
                        contract_id=contract.id,
                        milestone_id=e.milestone.id if e.milestone else e.milestone_id,
                        milestone_title=e.milestone_title,
                        actor_id=e.actor_id,
                        action=e.action,
                        note=e.note,
                        at=e.at,
                        said=_said_json(e.said),
                    )
                    for e in contract.new_history
                ],
            )
            contract.new_history.clear()
        if contract.new_files:
            await conn.execute(
                insert(_FILES),
                [
                    dict(
                        milestone_id=f.milestone_id,
                        submission=f.submission,
                        kind=f.kind,
                        file_id=f.file_id,
                        file_unique_id=f.file_unique_id,
                        name=f.name,
                        caption=f.caption,
                        size=f.size,
                        actor_id=f.actor_id,
                        at=f.at,
                    )
                    for f in contract.new_files
                ],
            )
            contract.new_files.clear()

    async def contract_id_for_milestone(self, milestone_id: int) -> int | None:
        return (
            await self.session.execute(select(MilestoneRow.contract_id).where(MilestoneRow.id == milestone_id))
        ).scalar_one_or_none()

    async def list_for_user(self, user_id: int) -> list[ContractSummary]:
        live = MilestoneRow.status.not_in([MilestoneStatus.CANCELLED.value, MilestoneStatus.REJECTED.value])
        count = (
            select(func.count(MilestoneRow.id))
            .where(MilestoneRow.contract_id == ContractRow.id, live)
            .correlate(ContractRow)
            .scalar_subquery()
        )
        rows = (
            await self.session.execute(
                select(ContractRow, count)
                .where(or_(ContractRow.client_id == user_id, ContractRow.freelancer_id == user_id))
                .order_by(ContractRow.id.desc())
            )
        ).all()
        out = []
        for row, n in rows:
            role = Role.CLIENT if row.client_id == user_id else Role.FREELANCER
            other = row.freelancer_id if role is Role.CLIENT else row.client_id
            out.append(ContractSummary(row.id, row.title, row.currency, ContractStatus(row.status), role, other, n))
        return out

    async def _entries(self, row_type: type[_Entry], contract_id: int) -> Sequence[_Entry]:
        """The contract's history or ledger rows, oldest first."""
        statement = select(row_type).where(row_type.contract_id == contract_id).order_by(row_type.id)
        return (await self.session.execute(statement)).scalars().all()

    async def history(self, contract_id: int) -> list[HistoryEntry]:
        return [
            HistoryEntry(
                action=r.action,
                at=r.at,
                actor_id=r.actor_id,
                note=r.note,
                milestone_id=r.milestone_id,
                milestone_title=r.milestone_title,
                id=r.id,
                said=_said_from_json(r.said),
            )
            for r in await self._entries(HistoryRow, contract_id)
        ]

    async def ledger(self, contract_id: int) -> list[LedgerEntry]:
        return [_ledger_entry(r) for r in await self._entries(LedgerRow, contract_id)]

    async def has_charge(self, charge_id: str) -> bool:
        """Whether a Telegram payment with this charge id is in the ledger already (applied or not)."""
        found = await self.session.execute(select(LedgerRow.id).where(LedgerRow.charge_id == charge_id))
        return found.first() is not None

    async def all_ledger(self, mode: PaymentMode | None = None) -> list[tuple[int, LedgerEntry]]:
        """Every ledger entry (of contracts in `mode`), as (contract id, entry), oldest first."""
        statement = select(LedgerRow).order_by(LedgerRow.id)
        if mode is not None:
            statement = statement.join(ContractRow, ContractRow.id == LedgerRow.contract_id).where(
                ContractRow.payments == mode.value
            )
        rows = (await self.session.execute(statement)).scalars().all()
        return [(r.contract_id, _ledger_entry(r)) for r in rows]

    @staticmethod
    def _file(r: SubmittedFileRow) -> SubmittedFile:
        return SubmittedFile(
            kind=r.kind,
            file_id=r.file_id,
            file_unique_id=r.file_unique_id,
            name=r.name,
            caption=r.caption,
            size=r.size,
            milestone_id=r.milestone_id,
            submission=r.submission,
            actor_id=r.actor_id,
            at=r.at,
            id=r.id,
        )

    async def files(self, milestone_id: int) -> list[SubmittedFile]:
        statement = (
            select(SubmittedFileRow).where(SubmittedFileRow.milestone_id == milestone_id).order_by(SubmittedFileRow.id)
        )
        return [self._file(r) for r in (await self.session.execute(statement)).scalars().all()]

    async def file(self, file_id: int) -> SubmittedFile | None:
        row = await self.session.get(SubmittedFileRow, file_id)
        return None if row is None else self._file(row)

    async def escalated_dispute_ids(self) -> list[int]:
        funded = [MilestoneStatus.ACTIVE.value, MilestoneStatus.SUBMITTED.value]
        statement = (
            select(MilestoneRow.id)
            .where(MilestoneRow.dispute_escalated_at.is_not(None), MilestoneRow.status.in_(funded))
            .order_by(MilestoneRow.dispute_escalated_at, MilestoneRow.id)
        )
        return list((await self.session.execute(statement)).scalars().all())


def _ledger_entry(r: LedgerRow) -> LedgerEntry:
    return LedgerEntry(
        kind=LedgerKind(r.kind),
        amount=r.amount,
        at=r.at,
        milestone_id=r.milestone_id,
        actor_id=r.actor_id,
        id=r.id,
        reference=r.reference,
        charge_id=r.charge_id,
        provider_charge_id=r.provider_charge_id,
    )


class SqlInviteRepository:
    def __init__(self, session: AsyncSession, writing: Callable[[], Awaitable[None]] = _no_savepoint) -> None:
        self.session = session
        self._writing = writing

    async def add(self, invite: Invite) -> None:
        await self._writing()
        await self.session.execute(
            insert(InviteRow).values(
                token=invite.token,
                contract_id=invite.contract_id,
                created_by=invite.created_by,
                created_at=invite.created_at,
                expires_at=invite.expires_at,
            )
        )

    async def get(self, token: str) -> Invite | None:
        row = (await self.session.execute(select(InviteRow).where(InviteRow.token == token))).scalar_one_or_none()
        if row is None:
            return None
        return Invite(
            token=row.token,
            contract_id=row.contract_id,
            created_by=row.created_by,
            created_at=row.created_at,
            expires_at=row.expires_at,
            used_by=row.used_by,
            used_at=row.used_at,
        )

    async def claim(self, token: str, user_id: int, now: datetime) -> bool:
        await self._writing()
        result = await self.session.execute(
            update(InviteRow)
            .where(InviteRow.token == token, InviteRow.used_at.is_(None), InviteRow.expires_at > now)
            .values(used_by=user_id, used_at=now)
            .execution_options(synchronize_session=False)
        )
        # An UPDATE's result is a CursorResult; Session.execute is typed for any statement.
        return cast("CursorResult[*tuple[Any, ...]]", result).rowcount == 1


_PROFILE_FIELDS = (
    "first_name",
    "username",
    "timezone",
    "quiet_start",
    "quiet_end",
    "started",
    "blocked",
    "payout_details",
    "language",
    "telegram_language",
)
_U = UserRow.__table__
# Read on most updates (who is this, may they be messaged): built once, run on the connection.
_USER_COLUMNS = [_U.c.id, *(_U.c[name] for name in _PROFILE_FIELDS)]
_USER_GET = select(*_USER_COLUMNS).where(_U.c.id == bindparam("b_id"))
_USERS_GET = select(*_USER_COLUMNS).where(_U.c.id.in_(bindparam("b_ids", expanding=True)))


def _user_upsert(insert_for: Any) -> Any:
    stmt = insert_for(_U).values(id=bindparam("b_id"), **_values(_U, _PROFILE_FIELDS))
    return stmt.on_conflict_do_update(
        index_elements=["id"], set_={name: stmt.excluded[name] for name in _PROFILE_FIELDS}
    )


_USER_UPSERT = {"postgresql": _user_upsert(pg_insert), "sqlite": _user_upsert(sqlite_insert)}


class SqlUserRepository:
    def __init__(self, session: AsyncSession, writing: Callable[[], Awaitable[None]] = _no_savepoint) -> None:
        self.session = session
        self._writing = writing

    async def get(self, user_id: int) -> UserProfile | None:
        conn = await connection_of(self.session)
        row = (await conn.execute(_USER_GET, {"b_id": user_id})).first()
        return None if row is None else self._profile(row)

    async def get_many(self, user_ids: set[int]) -> dict[int, UserProfile]:
        if not user_ids:
            return {}
        conn = await connection_of(self.session)
        rows = (await conn.execute(_USERS_GET, {"b_ids": sorted(user_ids)})).all()
        return {row.id: self._profile(row) for row in rows}

    @staticmethod
    def _profile(row: Any) -> UserProfile:
        return UserProfile(
            id=row.id,
            first_name=row.first_name,
            username=row.username,
            timezone=row.timezone,
            quiet_start=row.quiet_start,
            quiet_end=row.quiet_end,
            started=row.started,
            blocked=row.blocked,
            payout_details=row.payout_details,
            language=row.language,
            telegram_language=row.telegram_language,
        )

    async def upsert(self, profile: UserProfile) -> None:
        """One INSERT … ON CONFLICT: two processes meeting a new person at once both succeed."""
        await self._writing()
        values = {f"v_{name}": getattr(profile, name) for name in _PROFILE_FIELDS}
        conn = await connection_of(self.session)
        await conn.execute(_USER_UPSERT[conn.dialect.name], {"b_id": profile.id, **values})
