"""Reminder storage: the due-milestone query (indexed, SKIP LOCKED) and the claim log that makes each reminder once."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import Integer, bindparam, case, delete, exists, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.model import MilestoneStatus, Role
from domain.reminders import Recipient, Reminder, ReminderSubject

from .models import ContractRow, MilestoneRow, ReminderLogRow, UserRow

FUNDED = (MilestoneStatus.ACTIVE.value, MilestoneStatus.SUBMITTED.value)
_STATUS = {s.value: s for s in MilestoneStatus}


@lru_cache(maxsize=2)
def _due_query(postgres: bool):
    """Built once: constructing this statement costs more than running it when nothing is due.
    Core columns (not ORM entities): the ORM adds nothing here but per-row overhead."""
    m, c, u = MilestoneRow.__table__, ContractRow.__table__, UserRow.__table__
    cu, fu = u.alias("cu"), u.alias("fu")
    other, nxt, nm = m.alias("other"), m.alias("nxt"), m.alias("nm")
    # A funded milestone is its own answer: look at the contract's others only for the rest.
    has_funded = case((m.c.status.in_(FUNDED), true()),
                      else_=exists().where(other.c.contract_id == c.c.id, other.c.status.in_(FUNDED)).correlate(c))
    next_unfunded = (
        select(nxt.c.id).where(nxt.c.contract_id == c.c.id, nxt.c.status == MilestoneStatus.NOT_FUNDED.value)
        .order_by(nxt.c.seq).limit(1).correlate(c).scalar_subquery()
    )
    now = bindparam("now", type_=m.c.next_reminder_at.type)
    query = (
        select(m.c.id, m.c.title, m.c.amount, m.c.due_date, m.c.status, m.c.submitted_at, m.c.released_at,
               c.c.id, c.c.title, c.c.currency, c.c.review_days, c.c.status, c.c.client_id, c.c.freelancer_id,
               cu.c.timezone, cu.c.quiet_start, cu.c.quiet_end, cu.c.blocked,
               fu.c.timezone, fu.c.quiet_start, fu.c.quiet_end, fu.c.blocked,
               has_funded.label("has_funded"), nm.c.id.label("next_id"), nm.c.title.label("next_title"))
        .join(c, c.c.id == m.c.contract_id)
        .outerjoin(cu, cu.c.id == c.c.client_id)
        .outerjoin(fu, fu.c.id == c.c.freelancer_id)
        # The next milestone to activate and its title, in the same query (no second round trip).
        .outerjoin(nm, nm.c.id == next_unfunded)
        .where(m.c.next_reminder_at.is_not(None), m.c.next_reminder_at <= now)
        .order_by(m.c.next_reminder_at)
        .limit(bindparam("limit", type_=Integer))
    )
    if postgres:
        # Two bot processes sweeping one database take disjoint milestones.
        query = query.with_for_update(of=m, skip_locked=True)
    return query


@lru_cache(maxsize=1)
def _stale_query():
    log = ReminderLogRow.__table__
    return select(log.c.id, log.c.milestone_id).where(
        log.c.status == "queued", log.c.claimed_at < bindparam("older_than", type_=log.c.claimed_at.type))


_LOG_COLUMNS = "milestone_id, kind, occurrence, recipient_id, status, due_at, claimed_at, sent_at"
_LOG_KEY = "milestone_id, kind, occurrence, recipient_id"
_LOG_RETURNING = "RETURNING id, milestone_id, kind, occurrence, recipient_id"

# PostgreSQL: one statement for any number of rows (arrays in, unnest), prepared once by asyncpg.
_PG_CLAIM = (
    f"INSERT INTO reminder_log ({_LOG_COLUMNS}) "
    "SELECT m, k, o, r, s, d, $7::timestamptz, NULL::timestamptz "
    "FROM unnest($1::integer[], $2::varchar[], $3::varchar[], $4::bigint[], $5::varchar[], $6::timestamptz[]) "
    "AS t(m, k, o, r, s, d) "
    f"ON CONFLICT ({_LOG_KEY}) DO NOTHING {_LOG_RETURNING}"
)
# "id = ANY": the milestones are found through the primary key, never by a scan of the table.
_PG_SET_NEXT = (
    "UPDATE milestones SET next_reminder_at = v.nxt FROM unnest($1::integer[], $2::timestamptz[]) AS v(id, nxt) "
    "WHERE milestones.id = v.id AND milestones.id = ANY($1::integer[])"
)
_SQLITE_SET_NEXT = "UPDATE milestones SET next_reminder_at = ? WHERE id = ?"


@lru_cache(maxsize=16)
def _sqlite_claim(rows: int) -> str:
    """SQLite: one multi-row INSERT per batch (as SQLAlchemy's insertmanyvalues would emit), its text
    built once per row count; sqlite3 keeps the prepared statement."""
    values = ", ".join(["(?, ?, ?, ?, ?, ?, ?, NULL)"] * rows)
    return (f"INSERT INTO reminder_log ({_LOG_COLUMNS}) VALUES {values} "
            f"ON CONFLICT ({_LOG_KEY}) DO NOTHING {_LOG_RETURNING}")


def _utc_binder(connection):
    """The database form of an aware datetime, exactly as the UTCDateTime columns bind it, memoized
    for one statement (reminders share their moments: 09:00 local of the same days)."""
    dialect = connection.dialect
    process = ReminderLogRow.__table__.c.due_at.type.dialect_impl(dialect).bind_processor(dialect)
    seen: dict[datetime, object] = {}

    def bind(value: datetime | None):
        if value is None:
            return None
        got = seen.get(value)
        if got is None:
            got = seen[value] = process(value) if process is not None else value
        return got

    return bind


class SqlReminderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _postgres(self) -> bool:
        return self.session.bind.dialect.name == "postgresql"

    async def due_subjects(self, now: datetime, limit: int) -> list[ReminderSubject]:
        """Milestones whose next look is due, with what the policy needs, in one indexed query."""
        connection = await self.session.connection()
        rows = (await connection.execute(_due_query(self._postgres), {"now": now, "limit": limit})).all()
        out = []
        people: dict[tuple, Recipient] = {}  # one contract party is a recipient of many milestones
        for r in rows:
            (mid, title, amount, due, status, submitted_at, released_at, cid, ctitle, currency, review_days,
             cstatus, client_id, freelancer_id, ctz, cqs, cqe, cblocked, ftz, fqs, fqe, fblocked,
             funded, next_id, next_title) = r
            recipients = []
            for key in ((client_id, Role.CLIENT, ctz, cqs, cqe, bool(cblocked)),
                        (freelancer_id, Role.FREELANCER, ftz, fqs, fqe, bool(fblocked))):
                if key[0] is not None:
                    person = people.get(key)
                    if person is None:
                        person = people[key] = Recipient(*key)
                    recipients.append(person)
            out.append(ReminderSubject(
                milestone_id=mid, title=title, amount=amount, due_date=due,
                status=_STATUS.get(status) or MilestoneStatus(status),
                submitted_at=submitted_at, released_at=released_at, contract_id=cid, contract_title=ctitle,
                currency=currency, review_days=review_days, contract_active=cstatus == "active",
                recipients=tuple(recipients), has_funded=bool(funded), next_unfunded_id=next_id,
                next_unfunded_title=next_title if next_id is not None else "",
            ))
        return out

    async def claim(self, items: list[tuple[int, Reminder, str]], now: datetime) -> dict[tuple, int]:
        """Record reminders; only rows not recorded before are inserted. Returns {key: log id} of
        those this call inserted - the claim: of two sweepers, one wins each key.

        INSERT ... ON CONFLICT DO NOTHING RETURNING, as plain driver SQL with the values converted
        once each: this runs for every claim, and SQLAlchemy's per-row parameter handling cost more
        than the database's work."""
        if not items:
            return {}
        connection = await self.session.connection()
        utc = _utc_binder(connection)
        claimed_at = utc(now)
        won: dict[tuple, int] = {}
        if self._postgres:
            mids, kinds, occurrences, recipients, statuses, dues = [], [], [], [], [], []
            for mid, r, status in items:
                mids.append(mid)
                kinds.append(r.kind.value)
                occurrences.append(r.occurrence)
                recipients.append(r.recipient_id)
                statuses.append(status)
                dues.append(utc(r.at))
            results = [await connection.exec_driver_sql(
                _PG_CLAIM, (mids, kinds, occurrences, recipients, statuses, dues, claimed_at))]
        else:
            dialect = connection.dialect
            page = max(1, min(dialect.insertmanyvalues_page_size, dialect.insertmanyvalues_max_parameters // 7))
            results = []
            for start in range(0, len(items), page):
                chunk = items[start:start + page]
                params: list = []
                for mid, r, status in chunk:
                    params += (mid, r.kind.value, r.occurrence, r.recipient_id, status, utc(r.at), claimed_at)
                results.append(await connection.exec_driver_sql(_sqlite_claim(len(chunk)), tuple(params)))
        for result in results:
            for log_id, mid, kind, occurrence, recipient_id in result.all():
                won[(mid, kind, occurrence, recipient_id)] = log_id
        return won

    async def set_next(self, next_at: dict[int, datetime | None]) -> None:
        if not next_at:
            return
        connection = await self.session.connection()
        utc = _utc_binder(connection)
        if self._postgres:  # one UPDATE ... FROM unnest(arrays)
            await connection.exec_driver_sql(
                _PG_SET_NEXT, (list(next_at), [utc(v) for v in next_at.values()]))
        else:  # sqlite3's executemany: one prepared UPDATE stepped per row, in C
            await connection.exec_driver_sql(_SQLITE_SET_NEXT, [(utc(v), k) for k, v in next_at.items()])

    async def mark(self, log_ids: list[int], status: str, now: datetime) -> None:
        if log_ids:
            await self.session.execute(
                update(ReminderLogRow).where(ReminderLogRow.id.in_(log_ids))
                .values(status=status, sent_at=now).execution_options(synchronize_session=False)
            )

    async def unclaim(self, log_id: int, milestone_id: int, now: datetime) -> None:
        """Sending failed for a passing reason: forget the claim and look again at the next sweep."""
        await self.session.execute(delete(ReminderLogRow).where(ReminderLogRow.id == log_id))
        await self.session.execute(
            update(MilestoneRow).where(MilestoneRow.id == milestone_id)
            .values(next_reminder_at=now).execution_options(synchronize_session=False)
        )

    async def start_sending(self, log_id: int) -> bool:
        """queued -> sending, only for the one process that still holds the claim."""
        result = await self.session.execute(
            update(ReminderLogRow).where(ReminderLogRow.id == log_id, ReminderLogRow.status == "queued")
            .values(status="sending").execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    async def requeue_stale(self, older_than: datetime, now: datetime) -> int:
        """Claims a dead process never began to send go back to the pool. Ones it began ('sending')
        stay: they may have reached Telegram, and a reminder is never sent twice."""
        connection = await self.session.connection()  # Core, built once: it runs at every sweep
        stale = (await connection.execute(_stale_query(), {"older_than": older_than})).all()
        for log_id, mid in stale:
            await self.unclaim(log_id, mid, now)
        return len(stale)

    async def touch_user(self, user_id: int, now: datetime) -> None:
        """A changed time zone or quiet hours: re-plan that person's reminders at the next sweep."""
        contracts = select(ContractRow.id).where(
            or_(ContractRow.client_id == user_id, ContractRow.freelancer_id == user_id))
        await self.session.execute(
            update(MilestoneRow)
            .where(MilestoneRow.contract_id.in_(contracts),
                   or_(MilestoneRow.status.in_(FUNDED), MilestoneRow.next_reminder_at.is_not(None)))
            .values(next_reminder_at=now).execution_options(synchronize_session=False)
        )

    async def log(self, milestone_id: int) -> list[tuple[str, str, int, str]]:
        rows = await self.session.execute(
            select(ReminderLogRow.kind, ReminderLogRow.occurrence, ReminderLogRow.recipient_id, ReminderLogRow.status)
            .where(ReminderLogRow.milestone_id == milestone_id).order_by(ReminderLogRow.id))
        return [tuple(r) for r in rows.all()]

