"""Reminder storage: the changed-milestone query (indexed, SKIP LOCKED), the planned reminders and
their log, whose unique key (milestone, kind, occurrence, recipient) makes each reminder once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, time
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Integer,
    Row,
    Select,
    Update,
    bindparam,
    case,
    exists,
    func,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from domain.model import MilestoneStatus, Role
from domain.reminders import DueRow, LogStatus, Planned, Recipient, ReminderSubject

from .db import connection_of
from .models import ContractRow, MilestoneRow, ReminderLogRow, UserRow

FUNDED = (MilestoneStatus.ACTIVE.value, MilestoneStatus.SUBMITTED.value)
_STATUS = {s.value: s for s in MilestoneStatus}
_PLANNED, _SENDING, _SKIPPED = LogStatus.PLANNED.value, LogStatus.SENDING.value, LogStatus.SKIPPED.value

# Core statements over plain columns: their rows are untyped tuples until read into domain objects.
_AnySelect = Select[*tuple[Any, ...]]
_AnyRow = Row[*tuple[Any, ...]]
# A contract party as the sweep reads them: (user id, role, time zone, quiet start, quiet end, blocked).
_PersonKey = tuple[int, Role, str | None, time | None, time | None, bool, str | None]


@lru_cache(maxsize=2)
def _changed_query(postgres: bool) -> _AnySelect:
    """Milestones changed since they were last planned, oldest change first: a plain index range,
    cheap to plan and to run when (as nearly always) there are none."""
    m = MilestoneRow.__table__
    query = (
        select(m.c.id)
        .where(
            m.c.next_reminder_at.is_not(None), m.c.next_reminder_at <= bindparam("now", type_=m.c.next_reminder_at.type)
        )
        .order_by(m.c.next_reminder_at)
        .limit(bindparam("limit", type_=Integer))
    )
    if postgres:
        # Two bot processes sweeping one database take disjoint milestones.
        query = query.with_for_update(skip_locked=True)
    return query


@lru_cache(maxsize=2)
def _subject_query(postgres: bool) -> _AnySelect:
    """Milestones by id with what the reminder policy needs, in one query.
    Built once: constructing this statement costs more than running it.
    Core columns (not ORM entities): the ORM adds nothing here but per-row overhead."""
    m, c, u = MilestoneRow.__table__, ContractRow.__table__, UserRow.__table__
    cu, fu = u.alias("cu"), u.alias("fu")
    other, nxt, nm = m.alias("other"), m.alias("nxt"), m.alias("nm")
    # A funded milestone is its own answer: look at the contract's others only for the rest.
    has_funded = case(
        (m.c.status.in_(FUNDED), true()),
        else_=exists().where(other.c.contract_id == c.c.id, other.c.status.in_(FUNDED)).correlate(c),
    )
    next_unfunded = (
        select(nxt.c.id)
        .where(nxt.c.contract_id == c.c.id, nxt.c.status == MilestoneStatus.NOT_FUNDED.value)
        .order_by(nxt.c.seq)
        .limit(1)
        .correlate(c)
        .scalar_subquery()
    )
    query = (
        select(
            m.c.id,
            m.c.title,
            m.c.amount,
            m.c.due_date,
            m.c.status,
            m.c.submitted_at,
            m.c.released_at,
            c.c.id,
            c.c.title,
            c.c.currency,
            c.c.review_days,
            c.c.status,
            c.c.client_id,
            c.c.freelancer_id,
            cu.c.timezone,
            cu.c.quiet_start,
            cu.c.quiet_end,
            cu.c.blocked,
            fu.c.timezone,
            fu.c.quiet_start,
            fu.c.quiet_end,
            fu.c.blocked,
            has_funded.label("has_funded"),
            nm.c.id.label("next_id"),
            nm.c.title.label("next_title"),
            m.c.dispute_opened_at,
            m.c.dispute_escalated_at,
            m.c.client_offer_at,
            m.c.freelancer_offer_at,
            m.c.due_change_at,
            m.c.due_change_by,
            # PRODUCT §9: the language each party reads reminders in (chosen, else Telegram's).
            func.coalesce(cu.c.language, cu.c.telegram_language).label("client_language"),
            func.coalesce(fu.c.language, fu.c.telegram_language).label("freelancer_language"),
        )
        .join(c, c.c.id == m.c.contract_id)
        .outerjoin(cu, cu.c.id == c.c.client_id)
        .outerjoin(fu, fu.c.id == c.c.freelancer_id)
        # The next milestone to activate and its title, in the same query (no second round trip).
        .outerjoin(nm, nm.c.id == next_unfunded)
    )
    if postgres:  # one prepared statement for any number of ids
        return query.where(m.c.id == func.any(bindparam("ids", type_=postgresql.ARRAY(Integer))))
    return query.where(m.c.id.in_(bindparam("ids", expanding=True)))


@lru_cache(maxsize=1)
def _due_query() -> _AnySelect:
    """Planned reminders whose moment has come, through the partial index on planned rows: read
    only (each is taken on its own right before it goes out), and nothing but plain columns."""
    log = ReminderLogRow.__table__
    return (
        select(
            log.c.id.label("log_id"), log.c.milestone_id, log.c.kind, log.c.occurrence, log.c.recipient_id, log.c.due_at
        )
        # 'planned' as a literal, not a parameter: only then may a prepared (generic) plan use the
        # partial index, whose condition it must match.
        .where(log.c.status == literal_column("'planned'"), log.c.due_at <= bindparam("now", type_=log.c.due_at.type))
        .order_by(log.c.due_at)
        .limit(bindparam("limit", type_=Integer))
    )


@lru_cache(maxsize=1)
def _look_query() -> _AnySelect:
    """The sweep's first statement, one round trip for its usual answers: has any milestone changed
    since it was planned (one row, with no reminders: "nothing to do"), and the due reminders."""
    m = MilestoneRow.__table__
    changed = exists().where(
        m.c.next_reminder_at.is_not(None), m.c.next_reminder_at <= bindparam("now", type_=m.c.next_reminder_at.type)
    )
    probe = select(changed.label("changed")).subquery("probe")
    due = _due_query().subquery("due")
    return (
        select(probe.c.changed, due.c.log_id, due.c.milestone_id, due.c.kind, due.c.occurrence, due.c.recipient_id)
        .select_from(probe.outerjoin(due, true()))
        .order_by(due.c.due_at)
    )


def _log_updates() -> dict[str, Update]:
    """The per-reminder updates, built once (one of them runs for every reminder sent)."""
    log = ReminderLogRow.__table__
    at = log.c.due_at.type
    one = log.c.id == bindparam("log_id", type_=Integer)
    return {
        "take": update(log)
        .where(one, log.c.status == _PLANNED)
        .values(status=_SENDING, claimed_at=bindparam("now", type_=at)),
        "reschedule": update(log).where(one, log.c.status == _PLANNED).values(due_at=bindparam("at", type_=at)),
        "mark": update(log)
        .where(log.c.id.in_(bindparam("ids", expanding=True)), log.c.status.in_((_PLANNED, _SENDING)))
        .values(status=bindparam("outcome", type_=log.c.status.type), sent_at=bindparam("now", type_=at)),
        "skip": update(log)
        .where(one, log.c.status == _PLANNED)
        .values(status=_SKIPPED, sent_at=bindparam("now", type_=at)),
        "unclaim": update(log)
        .where(one, log.c.status == _SENDING)
        .values(status=_PLANNED, claimed_at=None, due_at=bindparam("at", type_=at)),
    }


_LOG_UPDATES = _log_updates()

_LOG_COLUMNS = "milestone_id, kind, occurrence, recipient_id, status, due_at, claimed_at, sent_at"
_LOG_KEY = "milestone_id, kind, occurrence, recipient_id"

# PostgreSQL: one statement for any number of rows (arrays in, unnest), prepared once by asyncpg.
_PG_PLAN = (
    f"INSERT INTO reminder_log ({_LOG_COLUMNS}) "
    "SELECT m, k, o, r, s, d, NULL::timestamptz, NULL::timestamptz "
    "FROM unnest($1::integer[], $2::varchar[], $3::varchar[], $4::bigint[], $5::varchar[], $6::timestamptz[]) "
    "AS t(m, k, o, r, s, d) "
    f"ON CONFLICT ({_LOG_KEY}) DO NOTHING"
)
_PG_UNPLAN = "DELETE FROM reminder_log WHERE status = 'planned' AND milestone_id = ANY($1::integer[])"
_PG_PLANNED = "UPDATE milestones SET next_reminder_at = NULL WHERE id = ANY($1::integer[])"


@lru_cache(maxsize=16)
def _sqlite_plan(rows: int) -> str:
    """SQLite: one multi-row INSERT per page of rows, its text built once per row count."""
    values = ", ".join(["(?, ?, ?, ?, ?, ?, NULL, NULL)"] * rows)
    return f"INSERT INTO reminder_log ({_LOG_COLUMNS}) VALUES {values} ON CONFLICT ({_LOG_KEY}) DO NOTHING"


@lru_cache(maxsize=16)
def _sqlite_in(sql: str, count: int) -> str:
    return sql.replace("(?)", "(" + ", ".join("?" * count) + ")")


_SQLITE_UNPLAN = "DELETE FROM reminder_log WHERE status = 'planned' AND milestone_id IN (?)"
_SQLITE_PLANNED = "UPDATE milestones SET next_reminder_at = NULL WHERE id IN (?)"


def _utc_binder(connection: AsyncConnection) -> Callable[[datetime | None], object]:
    """The database form of an aware datetime, exactly as the UTCDateTime columns bind it, memoized
    for one statement (reminders share their moments: 09:00 local of the same days)."""
    dialect = connection.dialect
    process = ReminderLogRow.__table__.c.due_at.type.dialect_impl(dialect).bind_processor(dialect)
    seen: dict[datetime, object] = {}

    def bind(value: datetime | None) -> object:
        if value is None:
            return None
        got = seen.get(value)
        if got is None:
            got = seen[value] = process(value) if process is not None else value
        return got

    return bind


def _subject(r: _AnyRow, people: dict[_PersonKey, Recipient]) -> ReminderSubject:
    (
        mid,
        title,
        amount,
        due,
        status,
        submitted_at,
        released_at,
        cid,
        ctitle,
        currency,
        review_days,
        cstatus,
        client_id,
        freelancer_id,
        ctz,
        cqs,
        cqe,
        cblocked,
        ftz,
        fqs,
        fqe,
        fblocked,
        funded,
        next_id,
        next_title,
        dispute_opened_at,
        dispute_escalated_at,
        client_offer_at,
        freelancer_offer_at,
        due_change_at,
        due_change_by,
        clang,
        flang,
    ) = r
    recipients = []
    keys: tuple[_PersonKey, _PersonKey] = (
        (client_id, Role.CLIENT, ctz, cqs, cqe, bool(cblocked), clang),
        (freelancer_id, Role.FREELANCER, ftz, fqs, fqe, bool(fblocked), flang),
    )
    for key in keys:
        if key[0] is not None:
            person = people.get(key)  # one contract party is a recipient of many milestones
            if person is None:
                person = people[key] = Recipient(*key)
            recipients.append(person)
    return ReminderSubject(
        milestone_id=mid,
        title=title,
        amount=amount,
        due_date=due,
        status=_STATUS.get(status) or MilestoneStatus(status),
        submitted_at=submitted_at,
        released_at=released_at,
        contract_id=cid,
        contract_title=ctitle,
        currency=currency,
        review_days=review_days,
        contract_active=cstatus == "active",
        recipients=tuple(recipients),
        has_funded=bool(funded),
        next_unfunded_id=next_id,
        next_unfunded_title=next_title if next_id is not None else "",
        dispute_opened_at=_aware(dispute_opened_at),
        dispute_escalated_at=_aware(dispute_escalated_at),
        client_offer_at=_aware(client_offer_at),
        freelancer_offer_at=_aware(freelancer_offer_at),
        due_change_at=_aware(due_change_at),
        due_change_by=None
        if due_change_by is None
        else (Role.CLIENT if due_change_by == client_id else Role.FREELANCER),
    )


def _aware(at: datetime | None) -> datetime | None:
    """Core columns of UTCDateTime come back aware already; this keeps a naive one (SQLite) UTC too."""
    return at if at is None or at.tzinfo is not None else at.replace(tzinfo=UTC)


def _due_row(row: _AnyRow) -> DueRow:
    return DueRow(
        log_id=row.log_id,
        milestone_id=row.milestone_id,
        kind=row.kind,
        occurrence=row.occurrence,
        recipient_id=row.recipient_id,
    )


async def _no_savepoint() -> None:
    return None


class SqlReminderRepository:
    def __init__(self, session: AsyncSession, writing: Callable[[], Awaitable[None]] = _no_savepoint) -> None:
        self.session = session
        self._writing = writing  # called before the first write (storage/uow.py: the unit of work's savepoint)

    @property
    def _postgres(self) -> bool:
        bind = self.session.bind
        assert bind is not None, "the session is bound to the engine (storage.db.session_factory)"
        return bind.dialect.name == "postgresql"

    async def look(self, now: datetime, limit: int) -> tuple[bool, list[DueRow]]:
        connection = await connection_of(self.session)
        rows = (await connection.execute(_look_query(), {"now": now, "limit": limit})).all()
        return bool(rows[0].changed), [_due_row(row) for row in rows if row.log_id is not None]

    async def due_subjects(self, now: datetime, limit: int) -> list[ReminderSubject]:
        """Milestones changed since they were last planned, with what the policy needs, in one indexed query."""
        connection = await connection_of(self.session)
        postgres = self._postgres
        ids = (await connection.execute(_changed_query(postgres), {"now": now, "limit": limit})).scalars().all()
        if not ids:
            return []
        rows = (await connection.execute(_subject_query(postgres), {"ids": ids})).all()
        people: dict[_PersonKey, Recipient] = {}
        return [_subject(r, people) for r in rows]

    async def subject(self, milestone_id: int) -> ReminderSubject | None:
        connection = await connection_of(self.session)
        row = (await connection.execute(_subject_query(self._postgres), {"ids": [milestone_id]})).first()
        return None if row is None else _subject(row, {})

    async def replan(self, schedule: dict[int, list[Planned]]) -> None:
        """Replace these milestones' planned reminders with `schedule` (reminder, moment, PLANNED
        or SKIPPED) and mark them planned. A reminder already taken, sent or skipped keeps its row
        (ON CONFLICT DO NOTHING on the key).
        Plain driver SQL with values converted once each: SQLAlchemy's per-row parameter handling
        costs more than the database's work here."""
        await self._writing()
        if not schedule:
            return
        connection = await connection_of(self.session)
        utc = _utc_binder(connection)
        mids = list(schedule)
        if self._postgres:
            m: list[int] = []
            k: list[str] = []
            o: list[str] = []
            r: list[int] = []
            st: list[str] = []
            d: list[object] = []
            for mid, items in schedule.items():
                for rem, at, status in items:
                    m.append(mid)
                    k.append(rem.kind.value)
                    o.append(rem.occurrence)
                    r.append(rem.recipient_id)
                    st.append(status.value)
                    d.append(utc(at))
            columns = (m, k, o, r, st, d)
            await connection.exec_driver_sql(_PG_UNPLAN, (mids,))
            if m:
                await connection.exec_driver_sql(_PG_PLAN, columns)
            await connection.exec_driver_sql(_PG_PLANNED, (mids,))
            return
        dialect = connection.dialect
        limit = dialect.insertmanyvalues_max_parameters
        for start in range(0, len(mids), limit):
            ids = tuple(mids[start : start + limit])
            await connection.exec_driver_sql(_sqlite_in(_SQLITE_UNPLAN, len(ids)), ids)
            await connection.exec_driver_sql(_sqlite_in(_SQLITE_PLANNED, len(ids)), ids)
        params: list[tuple[int, str, str, int, str, object]] = []
        for mid, items in schedule.items():
            for rem, at, status in items:
                params.append((mid, rem.kind.value, rem.occurrence, rem.recipient_id, status.value, utc(at)))
        page = max(1, min(dialect.insertmanyvalues_page_size, limit // 6))
        for start in range(0, len(params), page):
            chunk = params[start : start + page]
            await connection.exec_driver_sql(_sqlite_plan(len(chunk)), tuple(v for row in chunk for v in row))

    async def due(self, now: datetime, limit: int) -> list[DueRow]:
        connection = await connection_of(self.session)
        return [_due_row(row) for row in (await connection.execute(_due_query(), {"now": now, "limit": limit})).all()]

    async def _change(self, statement: Update, params: dict[str, Any]) -> int:
        await self._writing()
        connection = await connection_of(self.session)
        return (await connection.execute(statement, params)).rowcount

    async def start_sending(self, log_id: int, now: datetime) -> bool:
        """planned -> sending, only for the one process that finds it still planned."""
        return await self._change(_LOG_UPDATES["take"], {"log_id": log_id, "now": now}) == 1

    async def reschedule(self, log_id: int, at: datetime) -> bool:
        return await self._change(_LOG_UPDATES["reschedule"], {"log_id": log_id, "at": at}) == 1

    async def mark(self, log_ids: list[int], status: LogStatus, now: datetime) -> bool:
        """The outcome of planned or sending reminders; a row already finished keeps its outcome."""
        if not log_ids:
            return False
        return await self._change(_LOG_UPDATES["mark"], {"ids": log_ids, "outcome": status.value, "now": now}) > 0

    async def skip(self, log_id: int, now: datetime) -> bool:
        """A planned reminder that is not to be sent (one another process is sending stays as it is)."""
        return await self._change(_LOG_UPDATES["skip"], {"log_id": log_id, "now": now}) == 1

    async def unclaim(self, log_id: int, not_before: datetime) -> None:
        """Sending failed for a passing reason: the reminder is planned again, due at `not_before`."""
        await self._change(_LOG_UPDATES["unclaim"], {"log_id": log_id, "at": not_before})

    async def touch_user(self, user_id: int, now: datetime) -> None:
        """A changed time zone or quiet hours: re-plan that person's reminders at the next sweep."""
        await self._writing()
        contracts = select(ContractRow.id).where(
            or_(ContractRow.client_id == user_id, ContractRow.freelancer_id == user_id)
        )
        # Correlated, so that the key's index on milestone_id answers it for each of this person's
        # milestones (not a list of every planned reminder there is).
        planned = exists().where(
            ReminderLogRow.milestone_id == MilestoneRow.id, ReminderLogRow.status == literal_column("'planned'")
        )  # the partial index's
        await self.session.execute(
            update(MilestoneRow)
            .where(
                MilestoneRow.contract_id.in_(contracts),
                # funded ones, and any other with reminders ahead (a release's "next milestone
                # waiting") or not planned yet
                or_(MilestoneRow.status.in_(FUNDED), planned, MilestoneRow.next_reminder_at.is_not(None)),
            )
            .values(next_reminder_at=now)
            .execution_options(synchronize_session=False)
        )

    async def log(self, milestone_id: int) -> list[tuple[str, str, int, str]]:
        """(kind, occurrence, recipient, status) of each of the milestone's reminders, oldest first."""
        rows = await self.session.execute(
            select(ReminderLogRow.kind, ReminderLogRow.occurrence, ReminderLogRow.recipient_id, ReminderLogRow.status)
            .where(ReminderLogRow.milestone_id == milestone_id)
            .order_by(ReminderLogRow.id)
        )
        return [(kind, occurrence, recipient_id, status) for kind, occurrence, recipient_id, status in rows.all()]
