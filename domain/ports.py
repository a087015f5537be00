"""Abstract repositories and unit of work that storage/ implements (and tests fake)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Protocol

from .model import Contract, ContractStatus, HistoryEntry, Invite, LedgerEntry, PaymentMode, Role, SubmittedFile
from .reminders import DueRow, LogStatus, Planned, ReminderSubject


@dataclass(frozen=True)
class ContractSummary:
    """One line of a user's contract list."""

    id: int
    title: str
    currency: str
    status: ContractStatus
    role: Role
    other_party_id: int | None
    milestone_count: int


@dataclass
class UserProfile:
    id: int
    first_name: str = ""
    username: str | None = None
    timezone: str | None = None  # None: the deployment's default
    quiet_start: time | None = None
    quiet_end: time | None = None
    started: bool = False  # has opened a private chat with the bot
    blocked: bool = False  # Telegram answered 403: don't keep trying
    payout_details: str | None = None  # a freelancer's, for the escrow agent (telegram mode): operators only
    language: str | None = None  # chosen in /settings (PRODUCT §9); None: follow Telegram's
    telegram_language: str | None = None  # Telegram's language_code, as last seen


class ContractRepository(Protocol):
    async def add(self, contract: Contract) -> None: ...

    async def get(self, contract_id: int) -> Contract | None: ...

    async def get_by_milestone(self, milestone_id: int) -> Contract | None: ...

    async def save(self, contract: Contract) -> None:
        """Store changes; raise ConcurrentUpdate if the contract changed since it was read."""

    async def contract_id_for_milestone(self, milestone_id: int) -> int | None: ...

    async def list_for_user(self, user_id: int) -> list[ContractSummary]: ...

    async def history(self, contract_id: int) -> list[HistoryEntry]: ...

    async def ledger(self, contract_id: int) -> list[LedgerEntry]: ...

    async def has_charge(self, charge_id: str) -> bool:
        """A Telegram payment with this charge id is in the ledger already."""

    async def all_ledger(self, mode: PaymentMode | None = None) -> list[tuple[int, LedgerEntry]]:
        """Every ledger entry (of contracts in `mode`) as (contract id, entry), oldest first."""

    async def files(self, milestone_id: int) -> list[SubmittedFile]:
        """The files submitted with a milestone, in the order they came."""

    async def file(self, file_id: int) -> SubmittedFile | None: ...

    async def escalated_dispute_ids(self) -> list[int]:
        """Milestones whose dispute went to the operators and is not decided yet, oldest first."""
        ...


class InviteRepository(Protocol):
    async def add(self, invite: Invite) -> None: ...

    async def get(self, token: str) -> Invite | None: ...

    async def claim(self, token: str, user_id: int, now: datetime) -> bool:
        """Mark used if still unused and unexpired; True only for the one caller that won."""


class UserRepository(Protocol):
    async def get(self, user_id: int) -> UserProfile | None: ...

    async def get_many(self, user_ids: set[int]) -> dict[int, UserProfile]: ...

    async def upsert(self, profile: UserProfile) -> None: ...


class ReminderRepository(Protocol):
    async def look(self, now: datetime, limit: int) -> tuple[bool, list[DueRow]]:
        """(some milestone changed since it was planned?, the due reminders as `due` gives them)."""

    async def due_subjects(self, now: datetime, limit: int) -> list[ReminderSubject]:
        """Milestones changed since they were last planned (locked against other sweepers)."""

    async def subject(self, milestone_id: int) -> ReminderSubject | None:
        """One milestone as the policy sees it now."""

    async def replan(self, schedule: dict[int, list[Planned]]) -> None:
        """Replace these milestones' planned reminders with (reminder, moment, PLANNED or
        SKIPPED); reminders already taken or skipped keep their record."""

    async def due(self, now: datetime, limit: int) -> list[DueRow]:
        """Planned reminders whose moment has come, earliest first."""

    async def start_sending(self, log_id: int, now: datetime) -> bool:
        """planned -> sending, for the one caller that finds it still planned."""

    async def reschedule(self, log_id: int, at: datetime) -> bool: ...

    async def mark(self, log_ids: list[int], status: LogStatus, now: datetime) -> bool: ...

    async def skip(self, log_id: int, now: datetime) -> bool: ...

    async def unclaim(self, log_id: int, not_before: datetime) -> None: ...

    async def touch_user(self, user_id: int, now: datetime) -> None: ...


class UnitOfWork(Protocol):
    # Read-only (properties), so that a unit of work with its own repository classes fits.
    @property
    def contracts(self) -> ContractRepository: ...

    @property
    def invites(self) -> InviteRepository: ...

    @property
    def users(self) -> UserRepository: ...

    @property
    def reminders(self) -> ReminderRepository: ...

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...
