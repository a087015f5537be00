"""Reminder storage: the due-milestone query (indexed, SKIP LOCKED) and the claim log that makes each reminder once."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from sqlalchemy import Integer, bindparam, delete, exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from domain.model import MilestoneStatus, Role
from domain.reminders import Recipient, Reminder, ReminderSubject

from .models import ContractRow, MilestoneRow, ReminderLogRow, UserRow

FUNDED = (MilestoneStatus.ACTIVE.value, MilestoneStatus.SUBMITTED.value)


@lru_cache(maxsize=2)
def _due_query(postgres: bool):
    """Built once: constructing this statement costs more than running it when nothing is due."""
    m, c = MilestoneRow, ContractRow
    cu, fu = aliased(UserRow), aliased(UserRow)
    other, nxt = aliased(MilestoneRow), aliased(MilestoneRow)
    has_funded = exists().where(other.contract_id == c.id, other.status.in_(FUNDED)).correlate(c)
    next_unfunded = (
        select(nxt.id).where(nxt.contract_id == c.id, nxt.status == MilestoneStatus.NOT_FUNDED.value)
        .order_by(nxt.seq).limit(1).correlate(c).scalar_subquery()
    )
    now = bindparam("now", type_=m.next_reminder_at.type)
    query = (
        select(m.id, m.title, m.amount, m.due_date, m.status, m.submitted_at, m.released_at,
               c.id, c.title, c.currency, c.review_days, c.status, c.client_id, c.freelancer_id,
               cu.timezone, cu.quiet_start, cu.quiet_end, cu.blocked,
               fu.timezone, fu.quiet_start, fu.quiet_end, fu.blocked,
               has_funded.label("has_funded"), next_unfunded.label("next_id"))
        .join(c, c.id == m.contract_id)
        .outerjoin(cu, cu.id == c.client_id)
        .outerjoin(fu, fu.id == c.freelancer_id)
        .where(m.next_reminder_at.is_not(None), m.next_reminder_at <= now)
        .order_by(m.next_reminder_at)
        .limit(bindparam("limit", type_=Integer))
    )
    if postgres:
        # Two bot processes sweeping one database take disjoint milestones.
        query = query.with_for_update(of=m, skip_locked=True)
    return query


class SqlReminderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @property
    def _postgres(self) -> bool:
        return self.session.bind.dialect.name == "postgresql"

    async def due_subjects(self, now: datetime, limit: int) -> list[ReminderSubject]:
        """Milestones whose next look is due, with what the policy needs, in one indexed query."""
        m = MilestoneRow
        query = _due_query(self._postgres)
        rows = (await self.session.execute(query, {"now": now, "limit": limit})).all()
        next_ids = {r.next_id for r in rows if r.next_id is not None}
        titles = {}
        if next_ids:
            titles = dict((await self.session.execute(select(m.id, m.title).where(m.id.in_(next_ids)))).all())
        out = []
        for r in rows:
            (mid, title, amount, due, status, submitted_at, released_at, cid, ctitle, currency, review_days,
             cstatus, client_id, freelancer_id, ctz, cqs, cqe, cblocked, ftz, fqs, fqe, fblocked,
             funded, next_id) = r
            recipients = []
            if client_id is not None:
                recipients.append(Recipient(client_id, Role.CLIENT, ctz, cqs, cqe, bool(cblocked)))
            if freelancer_id is not None:
                recipients.append(Recipient(freelancer_id, Role.FREELANCER, ftz, fqs, fqe, bool(fblocked)))
            out.append(ReminderSubject(
                milestone_id=mid, title=title, amount=amount, due_date=due, status=MilestoneStatus(status),
                submitted_at=submitted_at, released_at=released_at, contract_id=cid, contract_title=ctitle,
                currency=currency, review_days=review_days, contract_active=cstatus == "active",
                recipients=tuple(recipients), has_funded=bool(funded), next_unfunded_id=next_id,
                next_unfunded_title=titles.get(next_id, ""),
            ))
        return out

    async def claim(self, items: list[tuple[int, Reminder, str]], now: datetime) -> dict[tuple, int]:
        """Record reminders; only rows not recorded before are inserted. Returns {key: log id} of
        those this call inserted - the claim: of two sweepers, one wins each key."""
        if not items:
            return {}
        insert = pg_insert if self._postgres else sqlite_insert
        won: dict[tuple, int] = {}
        log = ReminderLogRow.__table__  # Core, not the ORM bulk path: this runs for every claim
        stmt = (
            insert(log)
            .on_conflict_do_nothing(index_elements=["milestone_id", "kind", "occurrence", "recipient_id"])
            .returning(log.c.id, log.c.milestone_id, log.c.kind, log.c.occurrence, log.c.recipient_id)
        )
        rows = [
            dict(milestone_id=mid, kind=r.kind.value, occurrence=r.occurrence, recipient_id=r.recipient_id,
                 status=status, due_at=r.at, claimed_at=now, sent_at=None)
            for mid, r, status in items
        ]
        # executemany with RETURNING ("insertmanyvalues"): rows that already existed return nothing.
        for got in (await self.session.execute(stmt, rows)).all():
            won[(got.milestone_id, got.kind, got.occurrence, got.recipient_id)] = got.id
        return won

    async def set_next(self, next_at: dict[int, datetime | None]) -> None:
        if next_at:
            table = MilestoneRow.__table__  # Core executemany: one UPDATE, many parameter sets
            await self.session.execute(
                update(table).where(table.c.id == bindparam("mid")).values(next_reminder_at=bindparam("nxt")),
                [{"mid": k, "nxt": v} for k, v in next_at.items()],
            )

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
        stale = (await self.session.execute(
            select(ReminderLogRow.id, ReminderLogRow.milestone_id)
            .where(ReminderLogRow.status == "queued", ReminderLogRow.claimed_at < older_than)
        )).all()
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

