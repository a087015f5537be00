"""Use cases: load a contract, apply one rule-checked change, store it atomically (R13)."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from .actions import RULES, Action
from .errors import N_, NOT_YOURS, ConcurrentUpdate, DomainError, InviteInvalid, NotFound, Said
from .model import (
    DEFAULT_REVIEW_DAYS,
    Contract,
    FieldChange,
    HistoryEntry,
    Invite,
    LedgerEntry,
    Milestone,
    PaymentMode,
    Role,
    SubmittedFile,
)
from .payments import LimitsProvider, PaymentLimits, check_payment_currency, check_telegram_amount
from .ports import ContractSummary, UnitOfWork, UserProfile

INVITE_TTL = timedelta(days=7)
MAX_ATTEMPTS = 8

T = TypeVar("T")
UowFactory = Callable[[], UnitOfWork]


class Busy(DomainError):
    """Too many simultaneous changes to one contract; the user can simply try again."""


@dataclass
class Outcome:
    """What a change did: its history event, the contract after it, the milestone it touched, who acted."""

    action: str
    contract: Contract
    actor_id: int | None
    milestone: Milestone | None = None
    cancelled: list[Milestone] | None = None
    done: Action | None = None  # the table's action, when a person did one
    invite: Invite | None = None
    changes: tuple[FieldChange, ...] = ()  # an edit's fields, old -> new
    files: tuple[SubmittedFile, ...] = ()  # what a submission carried
    note: str = ""  # the history entry's note (a reason, an offer's amounts), for the news
    said: Said | None = None  # that note, when the domain composed it: to translate (HistoryEntry.said)


@dataclass
class MilestoneDetails:
    """One milestone as its details show it: the contract it belongs to, what happened to it (oldest
    first) and the files submitted with it (in the order they came)."""

    contract: Contract
    milestone: Milestone
    history: list[HistoryEntry]
    files: list[SubmittedFile]


def new_invite_token() -> str:
    # 24 URL-safe characters (144 random bits): fits a /start payload (64 chars, [A-Za-z0-9_-]).
    return secrets.token_urlsafe(18)


class ContractService:
    def __init__(
        self,
        uow_factory: UowFactory,
        *,
        review_days: int = DEFAULT_REVIEW_DAYS,
        invite_ttl: timedelta = INVITE_TTL,
        token_factory: Callable[[], str] = new_invite_token,
        payments: PaymentMode = PaymentMode.LEDGER,
        stars: bool = False,
        limits: LimitsProvider | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.review_days = review_days
        self.payments = payments  # new contracts' money mode (PRODUCT §7)
        self.stars = stars  # telegram mode without a provider token: Telegram Stars (XTR)
        self.limits = limits  # telegram mode with a provider token: Telegram Payments' amount limits
        self.invite_ttl = invite_ttl
        self.token_factory = token_factory

    # ----- contracts and invites -------------------------------------------------------------
    def check_currency(self, currency: str) -> str:
        """The currency, if new contracts may use it in this deployment's money mode."""
        if self.payments is PaymentMode.TELEGRAM:
            check_payment_currency(currency, self.stars)
            if not self.stars:
                limits = self.payment_limits()
                if limits is not None:
                    limits.check_currency(currency)
        return currency

    def payment_limits(self) -> PaymentLimits | None:
        """Telegram Payments' amount limits as last loaded; None when none are (amounts are not checked)."""
        return self.limits.current() if self.limits is not None else None

    def check_payment_amount(self, contract: Contract, amount: int) -> int:
        """`amount` if Telegram Payments takes it for `contract` (telegram mode, fiat: within today's
        limits for its currency); else the refusal. Ledger and Stars contracts are not concerned."""
        return check_telegram_amount(self.payment_limits(), contract.payments, contract.currency, amount)

    async def check_amount_for(self, contract_id: int | None, amount: int) -> int:
        """`check_payment_amount` for a contract by id, as a form checks an amount while it is typed (read
        only when limits are loaded)."""
        if contract_id is None or self.payment_limits() is None:
            return amount
        contract = await self.peek(contract_id)
        return amount if contract is None else self.check_payment_amount(contract, amount)

    async def create_contract(
        self, creator_id: int, role: Role, title: str, currency: str, now: datetime
    ) -> tuple[Contract, Invite]:
        self.check_currency(currency)
        contract = Contract.create(
            creator_id, role, title, currency, now, review_days=self.review_days, payments=self.payments
        )
        async with self.uow_factory() as uow:
            await uow.contracts.add(contract)
            assert contract.id is not None
            invite = Invite(
                token=self.token_factory(),
                contract_id=contract.id,
                created_by=creator_id,
                created_at=now,
                expires_at=now + self.invite_ttl,
            )
            await uow.invites.add(invite)
            await uow.commit()
        return contract, invite

    async def _new_invite(self, contract_id: int, actor_id: int, now: datetime) -> Outcome:
        """A fresh link for a contract still waiting for its other party."""
        async with self.uow_factory() as uow:
            contract = await self._get(uow, contract_id)
            contract.new_invite(actor_id, now)
            invite = Invite(
                token=self.token_factory(),
                contract_id=contract_id,
                created_by=actor_id,
                created_at=now,
                expires_at=now + self.invite_ttl,
            )
            await uow.invites.add(invite)
            await uow.commit()
        return Outcome("", contract, actor_id, done=Action.NEW_INVITE, invite=invite)

    async def preview_invite(self, token: str, user_id: int, now: datetime) -> tuple[Invite, Contract]:
        async with self.uow_factory() as uow:
            return await self._open_invite(uow, token, user_id, now)

    async def _open_invite(self, uow: UnitOfWork, token: str, user_id: int, now: datetime) -> tuple[Invite, Contract]:
        invite = await uow.invites.get(token)
        if invite is None:
            raise InviteInvalid(N_("This invite link is not valid. Ask the other party for a new one."))
        invite.check_can_accept(user_id, now)
        return invite, await self._get(uow, invite.contract_id)

    async def accept_invite(self, token: str, user_id: int, now: datetime) -> Outcome:
        return await self._settle_invite(token, user_id, now, accept=True)

    async def decline_invite(self, token: str, user_id: int, now: datetime) -> Outcome:
        return await self._settle_invite(token, user_id, now, accept=False)

    async def _settle_invite(self, token: str, user_id: int, now: datetime, *, accept: bool) -> Outcome:
        async def change(uow: UnitOfWork) -> Contract:
            _, contract = await self._open_invite(uow, token, user_id, now)
            if accept:
                contract.join(user_id, now)
            else:
                contract.decline_invite(user_id, now)
            # The claim is a conditional update: of two people racing for one link, one wins.
            if not await uow.invites.claim(token, user_id, now):
                raise InviteInvalid(N_("This invite link was already used."))
            return contract

        contract = await self._retrying(change, lambda c: c)
        return Outcome("joined" if accept else "invite_declined", contract, user_id)

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
            raise NotFound(NOT_YOURS)
        return contract_id

    async def contracts_of(self, user_id: int) -> list[ContractSummary]:
        async with self.uow_factory() as uow:
            return await uow.contracts.list_for_user(user_id)

    async def history(self, contract_id: int, viewer_id: int) -> tuple[Contract, list[HistoryEntry]]:
        async with self.uow_factory() as uow:
            contract = await self._get(uow, contract_id)
            contract.require_party(viewer_id)
            return contract, await uow.contracts.history(contract_id)

    async def milestone_details(self, milestone_id: int, viewer_id: int) -> MilestoneDetails:
        """R3: only the parties may see a milestone's details (a stranger learns nothing, not even that it exists)."""
        async with self.uow_factory() as uow:
            contract = await self._load(uow, None, milestone_id)
            contract.require_party(viewer_id)
            assert contract.id is not None
            history = [h for h in await uow.contracts.history(contract.id) if h.milestone_id == milestone_id]
            files = await uow.contracts.files(milestone_id)
        return MilestoneDetails(contract, contract.milestone(milestone_id), history, files)

    async def submitted_file(self, file_id: int, viewer_id: int) -> tuple[Contract, SubmittedFile]:
        """A file submitted with a milestone, for one of the contract's parties to open again."""
        async with self.uow_factory() as uow:
            found = await uow.contracts.file(file_id)
            if found is None or found.milestone_id is None:
                raise NotFound(NOT_YOURS)
            contract = await self._load(uow, None, found.milestone_id)
        contract.require_party(viewer_id)
        return contract, found

    async def ledger(self, contract_id: int) -> list[LedgerEntry]:
        async with self.uow_factory() as uow:
            return await uow.contracts.ledger(contract_id)

    # ----- actions: the one way a person changes a contract ------------------------------------
    async def perform(
        self,
        action: Action,
        actor_id: int,
        now: datetime,
        *,
        milestone_id: int | None = None,
        contract_id: int | None = None,
        **args: Any,
    ) -> Outcome:
        """Do `action` (a row of the table in domain/actions.py) on fresh state, exactly once (R13).
        Milestone actions take `milestone_id`, contract actions `contract_id`; `args` are the action's
        own inputs (a note, a reason, the fields of a milestone)."""
        rule = RULES[action]
        if action is Action.NEW_INVITE:
            assert contract_id is not None
            return await self._new_invite(contract_id, actor_id, now)

        def change(c: Contract) -> Outcome:
            method = getattr(c, rule.method)
            if rule.on_milestone:
                result = method(actor_id=actor_id, milestone_id=milestone_id, now=now, **args)
            else:
                result = method(actor_id=actor_id, now=now, **args)
            self._check_invoiceable(action, c, result, args)
            last = c.new_history[-1] if c.new_history else None
            return Outcome(
                last.action if last else "",
                c,
                actor_id,
                result if isinstance(result, Milestone) else None,
                cancelled=result if isinstance(result, list) else None,
                done=action,
                changes=last.changes if last else (),
                files=tuple(c.new_files),
                note=last.note if last else "",
                said=last.said if last else None,
            )

        if rule.on_milestone:
            return await self.transition(None, change, milestone_id=milestone_id)
        return await self.transition(contract_id, change)

    def _check_invoiceable(self, action: Action, c: Contract, result: object, args: dict[str, Any]) -> None:
        """Telegram mode, fiat: an amount that will be invoiced (a milestone added, its amount edited, a
        proposal accepted, a bonus) must be one Telegram Payments takes; checked after the action's own
        rules (who may, in which state), before anything is stored."""
        if action is Action.APPROVE_WITH_BONUS:
            self.check_payment_amount(c, args["bonus"])
        elif isinstance(result, Milestone) and (
            action in (Action.ADD_MILESTONE, Action.ACCEPT_PROPOSAL)
            or (action is Action.EDIT and args.get("amount") is not None)
        ):
            self.check_payment_amount(c, result.amount)

    async def require(
        self,
        action: Action,
        actor_id: int,
        *,
        milestone_id: int | None = None,
        contract_id: int | None = None,
    ) -> Contract:
        """The contract, if `actor_id` may do `action` now (before asking for its text or a confirmation)."""
        async with self.uow_factory() as uow:
            contract = await self._load(uow, contract_id, milestone_id)
        contract.require(action, actor_id, milestone_id)
        return contract

    async def auto_release(self, milestone_id: int, now: datetime) -> Outcome:
        """R7: the bot itself releases a milestone whose review period is over."""
        return await self.transition(
            None,
            lambda c: Outcome("auto_released", c, None, c.auto_release(milestone_id, now)),
            milestone_id=milestone_id,
        )

    async def operator_dispute(
        self, milestone_id: int, operator_id: int, operators: frozenset[int]
    ) -> MilestoneDetails:
        """An escalated dispute as an operator sees it (both sides' reasons, offers, notes and files), if
        `operator_id` may decide it now."""
        async with self.uow_factory() as uow:
            contract = await self._load(uow, None, milestone_id)
            ms = contract.milestone(milestone_id)
            refused = contract.operator_refusal(Action.DECIDE_DISPUTE, operator_id, ms, operators)
            if refused is not None:
                raise refused
            assert contract.id is not None
            history = [h for h in await uow.contracts.history(contract.id) if h.milestone_id == milestone_id]
            files = await uow.contracts.files(milestone_id)
        return MilestoneDetails(contract, ms, history, files)

    async def escalated_disputes(self, operator_id: int, operators: frozenset[int]) -> list[tuple[Contract, Milestone]]:
        """The disputes waiting for an operator's decision (none for anyone else)."""
        if operator_id not in operators:
            return []
        async with self.uow_factory() as uow:
            ids = await uow.contracts.escalated_dispute_ids()
            out = []
            for mid in ids:
                contract = await self._load(uow, None, mid)
                ms = contract.milestone(mid)
                if contract.operator_refusal(Action.DECIDE_DISPUTE, operator_id, ms, operators) is None:
                    out.append((contract, ms))
        return out

    async def escalate_dispute(self, milestone_id: int, now: datetime, days: int) -> Outcome:
        """PRODUCT §8: a dispute without agreement after `days` goes to the operators (the bot does it)."""
        return await self.transition(
            None,
            lambda c: Outcome("dispute_escalated", c, None, c.escalate_dispute(milestone_id, now, days)),
            milestone_id=milestone_id,
        )

    async def link_group(self, contract_id: int, actor_id: int, chat_id: int | None, now: datetime) -> Outcome:
        def change(c: Contract) -> Outcome:
            c.link_group(actor_id, chat_id, now)
            return Outcome("group_linked" if chat_id else "group_unlinked", c, actor_id)

        return await self.transition(contract_id, change)

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
    async def transition(
        self, contract_id: int | None, change: Callable[[Contract], T], *, milestone_id: int | None = None
    ) -> T:
        """Apply `change` to fresh state and store it only if nobody changed the contract meanwhile.

        A refusal raises before anything is stored. A lost race retries on the new state, where
        the same rule now gives the right answer (e.g. "already released") - so every transition
        happens at most once (R13). With `milestone_id`, its contract is looked up in the same
        transaction.
        """

        async def load(uow: UnitOfWork) -> Contract:
            return await self._load(uow, contract_id, milestone_id)

        return await self._retrying(load, change)

    async def _retrying(self, load: Callable[[UnitOfWork], Awaitable[Contract]], change: Callable[[Contract], T]) -> T:
        """One transaction: load, change, store with the version check; a lost race starts again."""
        for _ in range(MAX_ATTEMPTS):
            async with self.uow_factory() as uow:
                contract = await load(uow)
                result = change(contract)
                try:
                    await uow.contracts.save(contract)
                except ConcurrentUpdate:
                    await uow.rollback()
                    continue
                await uow.commit()
                return result
        raise Busy(N_("The contract is busy right now: please try again."))

    @classmethod
    async def _load(cls, uow: UnitOfWork, contract_id: int | None, milestone_id: int | None) -> Contract:
        """The contract by its id, or as the one holding `milestone_id`."""
        if milestone_id is None:
            assert contract_id is not None
            return await cls._get(uow, contract_id)
        contract = await uow.contracts.get_by_milestone(milestone_id)
        if contract is None:
            raise NotFound(NOT_YOURS)
        return contract

    @staticmethod
    async def _get(uow: UnitOfWork, contract_id: int) -> Contract:
        contract = await uow.contracts.get(contract_id)
        if contract is None:
            raise NotFound(NOT_YOURS)
        return contract
