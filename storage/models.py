"""SQLAlchemy 2 typed tables: users, contracts, milestones, ledger, history, invites, reminders."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, ClassVar

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out on every backend (SQLite stores no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")

        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None

        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)

    if TYPE_CHECKING:
        # Every class here maps one Table; DeclarativeBase types it as any FromClause, which
        # insert()/update()/delete() don't take.
        __table__: ClassVar[Table]


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    first_name: Mapped[str] = mapped_column(String(256), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    timezone: Mapped[str | None] = mapped_column(String(64))
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    started: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Where the escrow agent pays a freelancer (telegram mode); shown only to operators.
    payout_details: Mapped[str | None] = mapped_column(Text)
    # PRODUCT §9: the language chosen in /settings (None: follow Telegram's), and Telegram's language_code
    # as last seen.
    language: Mapped[str | None] = mapped_column(String(16))
    telegram_language: Mapped[str | None] = mapped_column(String(16))


class ContractRow(Base):
    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    client_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    freelancer_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    review_days: Mapped[int] = mapped_column(Integer)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    group_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    kept_open_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payments: Mapped[str] = mapped_column(String(16), default="ledger", server_default="ledger")
    # Optimistic lock of the whole aggregate: every change bumps it with "WHERE version = read".
    version: Mapped[int] = mapped_column(Integer, default=0)


class MilestoneRow(Base):
    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("contract_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(100))
    amount: Mapped[int] = mapped_column(BigInteger)
    due_date: Mapped[date] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    proposed_by: Mapped[int | None] = mapped_column(BigInteger)
    funded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    auto_released: Mapped[bool] = mapped_column(Boolean, default=False)
    revision_count: Mapped[int] = mapped_column(Integer, default=0)
    submission_note: Mapped[str] = mapped_column(Text, default="")
    change_reason: Mapped[str] = mapped_column(Text, default="")
    refund_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Disagreements (PRODUCT §8): a partial release and a bonus, a proposed due date, a dispute and its offers.
    paid_amount: Mapped[int | None] = mapped_column(BigInteger)
    bonus: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    due_change_to: Mapped[date | None] = mapped_column(Date)
    due_change_by: Mapped[int | None] = mapped_column(BigInteger)
    due_change_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispute_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dispute_by: Mapped[int | None] = mapped_column(BigInteger)
    dispute_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    dispute_escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client_offer: Mapped[int | None] = mapped_column(BigInteger)
    client_offer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    freelancer_offer: Mapped[int | None] = mapped_column(BigInteger)
    freelancer_offer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    payment_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invoice_nonce: Mapped[str] = mapped_column(String(32), default="", server_default="")
    bonus_nonce: Mapped[str] = mapped_column(String(32), default="", server_default="")
    bonus_paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class LedgerRow(Base):
    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    reference: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # A Telegram payment's charge: unique, so one charge funds (or is recorded unapplied) exactly once.
    charge_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    provider_charge_id: Mapped[str] = mapped_column(String(255), default="", server_default="")


class HistoryRow(Base):
    __tablename__ = "history_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"))
    milestone_title: Mapped[str] = mapped_column(String(100), default="")
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # A note the domain composed (HistoryEntry.said) as JSON, to show it in the reader's language; NULL:
    # a person's own note, no note, or a row written before 0011 (its note is shown as it is).
    said: Mapped[str | None] = mapped_column(Text)


class SubmittedFileRow(Base):
    """A document or photo sent with a submission: Telegram's file_id, never the file itself."""

    __tablename__ = "submitted_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"), index=True)
    submission: Mapped[int] = mapped_column(Integer)  # 1 = the milestone's first submission
    kind: Mapped[str] = mapped_column(String(16))  # document, photo
    file_id: Mapped[str] = mapped_column(String(255))
    file_unique_id: Mapped[str] = mapped_column(String(64), default="")
    name: Mapped[str] = mapped_column(String(255), default="")
    caption: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int | None] = mapped_column(BigInteger)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class InviteRow(Base):
    __tablename__ = "invites"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(BigInteger)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ConversationRow(Base):
    """python-telegram-bot conversation states and per-user data, so a restart loses nothing."""

    __tablename__ = "bot_state"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


Index("ix_milestones_status_due", MilestoneRow.status, MilestoneRow.due_date)
# The sweep's only entry point: a partial index holding just the milestones with a reminder ahead,
# so its cost follows what is due, not how many milestones exist.
Index(
    "ix_milestones_next_reminder_at",
    MilestoneRow.next_reminder_at,
    sqlite_where=MilestoneRow.next_reminder_at.is_not(None),
    postgresql_where=MilestoneRow.next_reminder_at.is_not(None),
)


class ReminderLogRow(Base):
    """Each reminder planned, sent or skipped: the unique key is what makes a reminder go out once."""

    __tablename__ = "reminder_log"
    # AUTOINCREMENT on SQLite: a reminder found by a sweep must never share its id with a row written later.
    __table_args__ = (
        UniqueConstraint("milestone_id", "kind", "occurrence", "recipient_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    occurrence: Mapped[str] = mapped_column(String(64))
    recipient_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # planned, sending, sent, skipped, failed
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # taken to be sent
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# The sweep's view of what is due: planned reminders by moment. Sent ones leave it, so its size
# follows what is still ahead, not the history.
Index(
    "ix_reminder_log_planned",
    ReminderLogRow.due_at,
    sqlite_where=ReminderLogRow.status == "planned",
    postgresql_where=ReminderLogRow.status == "planned",
)


class InboxRow(Base):
    """Each update Telegram delivered, stored before it is acknowledged; `handled_at` is set in the same
    transaction as the change handling it made, so an update is acted on exactly once."""

    __tablename__ = "inbox"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    person_id: Mapped[int | None] = mapped_column(BigInteger)  # whose updates go in order
    payload: Mapped[str] = mapped_column(Text)  # the update as Telegram sent it (JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))  # handled, failed, too old


# What is still to be handled, per person in order: small, since handled rows leave it.
Index(
    "ix_inbox_unhandled",
    InboxRow.person_id,
    InboxRow.update_id,
    sqlite_where=InboxRow.handled_at.is_(None),
    postgresql_where=InboxRow.handled_at.is_(None),
)


class OutboxRow(Base):
    """A Bot API call a change causes (a reply, news, a card edit, a hint, a reminder), written in the
    change's transaction and delivered by the sender (bot/sender.py)."""

    __tablename__ = "outbox"
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # also the order within a chat
    chat_id: Mapped[int] = mapped_column(BigInteger)
    priority: Mapped[int] = mapped_column(Integer)  # 0 answers the person acting, 1 news, 2 reminders
    method: Mapped[str] = mapped_column(String(32))  # sendMessage, editMessageText
    params: Mapped[str] = mapped_column(Text)  # the call's JSON parameters
    # 403 on news: tell this chat that its recipient can't be reached (the hint's text is ready).
    hint_chat: Mapped[int | None] = mapped_column(BigInteger)
    hint: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # A sender's lease: set before the call, cleared after it. Found set and expired, the call's
    # answer was lost (its process died mid-call): sent again and counted as maybe sent.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # pending, sent, failed
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    maybe_sent: Mapped[int] = mapped_column(Integer, default=0)  # calls whose answer was lost
    error: Mapped[str | None] = mapped_column(String(200))
    # A contract's card (its id): once delivered, it is the chat's live card of that contract, and the one
    # before it is retired. Negative: the retirement of a card of contract -id (an edit that, if the card
    # is gone, needs no fresh message).
    card_contract_id: Mapped[int | None] = mapped_column(Integer)


class LiveCardRow(Base):
    """The message that is a chat's one live card of a contract (PRODUCT §3): a newer card retires it."""

    __tablename__ = "live_cards"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    contract_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    message_id: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[str | None] = mapped_column(String(40))  # of what it shows: an edit to the same is skipped


Index(
    "ix_outbox_pending",
    OutboxRow.chat_id,
    OutboxRow.id,
    sqlite_where=OutboxRow.status == "pending",
    postgresql_where=OutboxRow.status == "pending",
)
# The sender's claim reads pending rows best priority first; the purge finds old rows by date.
Index(
    "ix_outbox_pending_priority",
    OutboxRow.priority,
    OutboxRow.id,
    sqlite_where=OutboxRow.status == "pending",
    postgresql_where=OutboxRow.status == "pending",
)
Index("ix_outbox_created_at", OutboxRow.created_at)
Index("ix_inbox_handled_at", InboxRow.handled_at)
