"""Use cases: load a contract, apply one rule-checked change, store it atomically (R13)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypeVar

from .errors import ConcurrentUpdate, DomainError, InviteInvalid, NotFound
from .model import DEFAULT_REVIEW_DAYS, Contract, HistoryEntry, Invite, LedgerEntry, Milestone, Role
from .ports import ContractSummary, UnitOfWork, UserProfile
from .reminders import Reminder, ReminderKind, ReminderSettings, ReminderSubject, sweep_plan

INVITE_TTL = timedelta(days=7)
MAX_ATTEMPTS = 8

T = TypeVar("T")
UowFactory = Callable[[], UnitOfWork]


class Busy(DomainError):
    """Too many simultaneous changes to one contract; the user can simply try again."""


@dataclass
class Outcome:
    """What a change did: the contract after it, the milestone it touched, and who acted."""

    action: str
    contract: Contract
    actor_id: int | None
    milestone: Milestone | None = None
    cancelled: list[Milestone] | None = None


def new_invite_token() -> str:
    # 24 URL-safe characters (144 random bits): fits a /start payload (64 chars, [A-Za-z0-9_-]).
    return secrets.token_urlsafe(18)


class ContractService:
    def __init__(
        self, uow_factory: UowFactory, *, review_days: int = DEFAULT_REVIEW_DAYS,
        invite_ttl: timedelta = INVITE_TTL, token_factory: Callable[[], str] = new_invite_token,
    ) -> None:
        self.uow_factory = uow_factory
        self.review_days = review_days
        self.invite_ttl = invite_ttl
        self.token_factory = token_factory

    # ----- contracts and invites -------------------------------------------------------------
    async def create_contract(
        self, creator_id: int, role: Role, title: str, currency: str, now: datetime
    ) -> tuple[Contract, Invite]:
        contract = Contract.create(creator_id, role, title, currency, now, review_days=self.review_days)
        async with self.uow_factory() as uow:
            await uow.contracts.add(contract)
            assert contract.id is not None
            invite = Invite(
                token=self.token_factory(), contract_id=contract.id, created_by=creator_id,
                created_at=now, expires_at=now + self.invite_ttl,
            )
            await uow.invites.add(invite)
            await uow.commit()
        return contract, invite

    async def new_invite(self, contract_id: int, actor_id: int, now: datetime) -> Invite:
        """A fresh link for a contract still waiting for its other party."""
        async with self.uow_factory() as uow:
            contract = await self._get(uow, contract_id)
            contract.require_party(actor_id)
            if contract.status.value != "pending":
                raise InviteInvalid("This contract already has both parties.")
            invite = Invite(
                token=self.token_factory(), contract_id=contract_id, created_by=actor_id,
                created_at=now, expires_at=now + self.invite_ttl,
            )
            await uow.invites.add(invite)
            await uow.commit()
        return invite

    async def preview_invite(self, token: str, user_id: int, now: datetime) -> tuple[Invite, Contract]:
        async with self.uow_factory() as uow:
            invite = await uow.invites.get(token)
            if invite is None:
                raise InviteInvalid("This invite link is not valid. Ask the other party for a new one.")
            invite.check_can_accept(user_id, now)
            contract = await self._get(uow, invite.contract_id)
            return invite, contract

    async def accept_invite(self, token: str, user_id: int, now: datetime) -> Outcome:
        return await self._settle_invite(token, user_id, now, accept=True)

    async def decline_invite(self, token: str, user_id: int, now: datetime) -> Outcome:
        return await self._settle_invite(token, user_id, now, accept=False)

    async def _settle_invite(self, token: str, user_id: int, now: datetime, *, accept: bool) -> Outcome:
        for _ in range(MAX_ATTEMPTS):
            async with self.uow_factory() as uow:
                invite = await uow.invites.get(token)
                if invite is None:
                    raise InviteInvalid("This invite link is not valid. Ask the other party for a new one.")
                invite.check_can_accept(user_id, now)
                contract = await self._get(uow, invite.contract_id)
                if accept:
                    contract.join(user_id, now)
                else:
                    contract.decline_invite(user_id, now)
                # The claim is a conditional update: of two people racing for one link, one wins.
                if not await uow.invites.claim(token, user_id, now):
                    raise InviteInvalid("This invite link was already used.")
                try:
                    await uow.contracts.save(contract)
                except ConcurrentUpdate:
                    await uow.rollback()
                    continue
                await uow.commit()
                return Outcome("joined" if accept else "invite_declined", contract, user_id)
        raise Busy("The contract is busy right now: please try again.")

    # ----- reading ---------------------------------------------------------------------------
    async def view(self, contract_id: int, viewer_id: int) -> Contract:
        async with self.uow_factory() as uow:
            contract = await self._get(uow, contract_id)
            contract.require_party(viewer_id)  # R3: nobody else may view
            return contract

    async def peek(self, contract_id: int) -> Contract | None:
        """The contract without a viewer check: only for wording a refusal (e.g. its title)."""
        async with self.uow_factory() as uow:
            return await uow.contracts.get(contract_id)

    async def contract_of_milestone(self, milestone_id: int) -> int:
        async with self.uow_factory() as uow:
            contract_id = await uow.contracts.contract_id_for_milestone(milestone_id)
        if contract_id is None:
            raise NotFound("That milestone doesn't exist (any more).")
        return contract_id

    async def contracts_of(self, user_id: int) -> list[ContractSummary]:
        async with self.uow_factory() as uow:
            return await uow.contracts.list_for_user(user_id)

    async def history(self, contract_id: int, viewer_id: int) -> tuple[Contract, list[HistoryEntry]]:
        async with self.uow_factory() as uow:
            contract = await self._get(uow, contract_id)
            contract.require_party(viewer_id)
            return contract, await uow.contracts.history(contract_id)

    async def ledger(self, contract_id: int) -> list[LedgerEntry]:
        async with self.uow_factory() as uow:
            return await uow.contracts.ledger(contract_id)

    # ----- milestone changes -------------------------------------------------------------------
    async def add_milestone(
        self, contract_id: int, actor_id: int, *, title: str, amount: int, due_date: date,
        description: str, today: date, now: datetime,
    ) -> Outcome:
        def change(c: Contract) -> Outcome:
            ms = c.add_milestone(actor_id, title, amount, due_date, description, today, now)
            return Outcome("milestone_added" if ms.seq is not None else "milestone_proposed", c, actor_id, ms)

        return await self.transition(contract_id, change)

    async def edit_milestone(
        self, milestone_id: int, actor_id: int, *, now: datetime, today: date, **fields: object
    ) -> Outcome:
        return await self._on_milestone(
            milestone_id, "milestone_edited", actor_id,
            lambda c: c.edit_milestone(actor_id, milestone_id, now, today, **fields),  # type: ignore[arg-type]
        )

    async def delete_milestone(self, milestone_id: int, actor_id: int, now: datetime) -> Outcome:
        return await self._on_milestone(
            milestone_id, "milestone_deleted", actor_id, lambda c: c.delete_milestone(actor_id, milestone_id, now)
        )

    async def accept_proposal(self, milestone_id: int, actor_id: int, now: datetime) -> Outcome:
        return await self._on_milestone(
            milestone_id, "proposal_accepted", actor_id, lambda c: c.accept_proposal(actor_id, milestone_id, now)
        )

    async def reject_proposal(self, milestone_id: int, actor_id: int, now: datetime, reason: str = "") -> Outcome:
        return await self._on_milestone(
            milestone_id, "proposal_rejected", actor_id,
            lambda c: c.reject_proposal(actor_id, milestone_id, now, reason),
        )

    async def activate(self, milestone_id: int, actor_id: int, now: datetime) -> Outcome:
        return await self._on_milestone(
            milestone_id, "activated", actor_id, lambda c: c.activate(actor_id, milestone_id, now)
        )

    async def submit(self, milestone_id: int, actor_id: int, note: str, now: datetime) -> Outcome:
        return await self._on_milestone(
            milestone_id, "submitted", actor_id, lambda c: c.submit(actor_id, milestone_id, note, now)
        )

    async def approve(self, milestone_id: int, actor_id: int, now: datetime) -> Outcome:
        return await self._on_milestone(
            milestone_id, "released", actor_id, lambda c: c.approve(actor_id, milestone_id, now)
        )

    async def auto_release(self, milestone_id: int, now: datetime) -> Outcome:
        return await self._on_milestone(
            milestone_id, "auto_released", None, lambda c: c.auto_release(milestone_id, now)
        )

    async def request_changes(self, milestone_id: int, actor_id: int, reason: str, now: datetime) -> Outcome:
        return await self._on_milestone(
            milestone_id, "changes_requested", actor_id,
            lambda c: c.request_changes(actor_id, milestone_id, reason, now),
        )

    async def refund(self, milestone_id: int, actor_id: int, now: datetime) -> Outcome:
        return await self._on_milestone(
            milestone_id, "refunded", actor_id, lambda c: c.refund(actor_id, milestone_id, now)
        )

    async def request_refund(self, milestone_id: int, actor_id: int, now: datetime) -> Outcome:
        return await self._on_milestone(
            milestone_id, "refund_requested", actor_id, lambda c: c.request_refund(actor_id, milestone_id, now)
        )

    async def accept_refund(self, milestone_id: int, actor_id: int, now: datetime) -> Outcome:
        return await self._on_milestone(
            milestone_id, "refund_accepted", actor_id, lambda c: c.accept_refund(actor_id, milestone_id, now)
        )

    async def decline_refund(self, milestone_id: int, actor_id: int, now: datetime) -> Outcome:
        return await self._on_milestone(
            milestone_id, "refund_declined", actor_id, lambda c: c.decline_refund(actor_id, milestone_id, now)
        )

    # ----- contract changes ------------------------------------------------------------------
    async def end_contract(self, contract_id: int, actor_id: int, now: datetime) -> Outcome:
        def change(c: Contract) -> Outcome:
            cancelled = c.end(actor_id, now)
            return Outcome("contract_ended", c, actor_id, cancelled=cancelled)

        return await self.transition(contract_id, change)

    async def keep_open(self, contract_id: int, actor_id: int, now: datetime) -> Outcome:
        def change(c: Contract) -> Outcome:
            c.keep_open(actor_id, now)
            return Outcome("kept_open", c, actor_id)

        return await self.transition(contract_id, change)

    async def link_group(self, contract_id: int, actor_id: int, chat_id: int | None, now: datetime) -> Outcome:
        def change(c: Contract) -> Outcome:
            c.link_group(actor_id, chat_id, now)
            return Outcome("group_linked" if chat_id else "group_unlinked", c, actor_id)

        return await self.transition(contract_id, change)

    async def check(self, milestone_id: int, change: Callable[[Contract], object]) -> Contract:
        """Apply `change` to a copy and throw it away: tells whether the action would be allowed now."""
        async with self.uow_factory() as uow:
            contract = await uow.contracts.get_by_milestone(milestone_id)
        if contract is None:
            raise NotFound("That milestone doesn't exist (any more).")
        change(contract)
        return contract

    # ----- users -------------------------------------------------------------------------------
    async def names(self, user_ids: list[int | None]) -> dict[int, str]:
        """Display names of people (first name, else @username, else the id)."""
        wanted = {u for u in user_ids if u is not None}
        if not wanted:
            return {}
        async with self.uow_factory() as uow:
            profiles = await uow.users.get_many(wanted)
        out: dict[int, str] = {}
        for uid in wanted:
            p = profiles.get(uid)
            name = (p.first_name or (f"@{p.username}" if p.username else "")) if p else ""
            out[uid] = name or f"user {uid}"
        return out

    async def profile(self, user_id: int) -> UserProfile | None:
        async with self.uow_factory() as uow:
            return await uow.users.get(user_id)

    async def save_profile(self, profile: UserProfile, now: datetime | None = None) -> None:
        """Store a profile; with `now`, a zone or quiet-hours change re-plans that person's reminders."""
        async with self.uow_factory() as uow:
            await uow.users.upsert(profile)
            if now is not None:
                await uow.reminders.touch_user(profile.id, now)
            await uow.commit()

    # ----- the one way a contract changes ------------------------------------------------------
    async def transition(self, contract_id: int | None, change: Callable[[Contract], T], *,
                         milestone_id: int | None = None) -> T:
        """Apply `change` to fresh state and store it only if nobody changed the contract meanwhile.

        A refusal raises before anything is stored. A lost race retries on the new state, where
        the same rule now gives the right answer (e.g. "already released") - so every transition
        happens at most once (R13). With `milestone_id`, its contract is looked up in the same
        transaction.
        """
        for _ in range(MAX_ATTEMPTS):
            async with self.uow_factory() as uow:
                if milestone_id is not None:
                    contract = await uow.contracts.get_by_milestone(milestone_id)
                    if contract is None:
                        raise NotFound("That milestone doesn't exist (any more).")
                else:
                    assert contract_id is not None
                    contract = await self._get(uow, contract_id)
                result = change(contract)
                try:
                    await uow.contracts.save(contract)
                except ConcurrentUpdate:
                    await uow.rollback()
                    continue
                await uow.commit()
                return result
        raise Busy("The contract is busy right now: please try again.")

    async def _on_milestone(
        self, milestone_id: int, action: str, actor_id: int | None, change: Callable[[Contract], Milestone]
    ) -> Outcome:
        return await self.transition(
            None, lambda c: Outcome(action, c, actor_id, change(c)), milestone_id=milestone_id
        )

    @staticmethod
    async def _get(uow: UnitOfWork, contract_id: int) -> Contract:
        contract = await uow.contracts.get(contract_id)
        if contract is None:
            raise NotFound("That contract doesn't exist.")
        return contract


@dataclass
class DueReminder:
    """A planned reminder whose moment has come. The sweep finds it; `ReminderService.take` then
    checks it against the milestone as it is at that moment and fills in `subject` and `reminder`."""

    log_id: int
    milestone_id: int
    kind: str
    occurrence: str
    recipient_id: int
    subject: ReminderSubject | None = None
    reminder: Reminder | None = None

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.kind, self.occurrence, self.recipient_id)


class ReminderService:
    """Reminders are planned ahead: whenever a milestone changes (or a party changes their time zone
    or quiet hours) the sweep writes all its reminders as 'planned' rows, each with its moment. At
    each sweep the rows whose moment has come are read; each is then taken on its own, right before
    it goes out ('planned' -> 'sending', one conditional UPDATE: of two processes one wins) after a
    fresh check against the milestone. A reminder taken is never sent again (at most once); one not
    yet taken when the process dies is simply still planned and goes out after the restart."""

    def __init__(self, uow_factory: UowFactory, settings: ReminderSettings | None = None, *,
                 batch: int = 500, plan_batch: int = 100) -> None:
        self.uow_factory = uow_factory
        self.settings = settings or ReminderSettings()
        self.batch = batch
        # Changed milestones planned per transaction: a mass change (say, someone with many contracts
        # moves time zone) is planned in short steps, the event loop free in between.
        self.plan_batch = plan_batch

    async def sweep(self, now: datetime) -> list[DueReminder]:
        """Plan the milestones changed since the last sweep, then return up to `batch` reminders
        whose moment has come, earliest first."""
        while True:
            async with self.uow_factory() as uow:
                reminders = uow.reminders
                any_changed, rows = await reminders.look(now, self.batch)  # usually all there is to do
                changed = await reminders.due_subjects(now, self.plan_batch) if any_changed else []
                more = len(changed) == self.plan_batch
                if changed:
                    await reminders.replan(
                        {s.milestone_id: sweep_plan(s, now, self.settings).schedule() for s in changed})
                    rows = [] if more else await reminders.due(now, self.batch)  # with what just became due
                await uow.commit()
            if not more:
                return [DueReminder(*row) for row in rows]

    async def take(self, due: DueReminder, now: datetime) -> str:
        """Right before a reminder goes out: check it against the milestone as it is now.
        "send": it is this process's to send (marked 'sending'; an automatic release stays
        'planned' until done, as the domain refuses a second release); "wait": held (quiet hours);
        "skip": no longer true, superseded or the recipient blocked the bot; "gone": taken or
        re-planned meanwhile."""
        async with self.uow_factory() as uow:
            reminders = uow.reminders
            subject = await reminders.subject(due.milestone_id)
            if subject is None:
                verdict, what = "skip", None
            else:
                verdict, what = sweep_plan(subject, now, self.settings).decide(due.key)
            if verdict == "send":
                due.subject, due.reminder = subject, what
                if due.kind != ReminderKind.AUTO_RELEASE and not await reminders.start_sending(due.log_id, now):
                    verdict = "gone"
            elif verdict == "wait":
                if not await reminders.reschedule(due.log_id, what):
                    verdict = "gone"
            elif not await reminders.skip(due.log_id, now):
                verdict = "gone"
            await uow.commit()
            return verdict

    async def finished(self, log_ids: list[int], status: str, now: datetime) -> None:
        """sent, failed (e.g. the person blocked the bot: not retried) or skipped."""
        async with self.uow_factory() as uow:
            await uow.reminders.mark(log_ids, status, now)
            await uow.commit()

    async def retry_later(self, due: DueReminder, now: datetime, after: timedelta = timedelta(0)) -> None:
        """Sending failed for a passing reason: planned again, due `after` from now (Telegram's
        retry_after for a 429)."""
        async with self.uow_factory() as uow:
            await uow.reminders.unclaim(due.log_id, now + after)
            await uow.commit()
