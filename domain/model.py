"""Contract aggregate: milestones, their state machine and the order rules (R1-R14)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from .actions import (
    CONTRACT_ACTIONS,
    MILESTONE_ACTIONS,
    RULES,
    Action,
    Allowed,
    contract_state_refusal,
    state_refusal,
)
from .errors import (
    NOT_YOURS,
    ContractClosed,
    DomainError,
    InvalidInput,
    InvalidState,
    InviteInvalid,
    NotAllowed,
    NotFound,
)
from .money import validate_amount, validate_currency
from .states import FUNDED_STATES, UNFUNDED_STATES, ContractStatus, LedgerKind, MilestoneStatus, Role

__all__ = [
    "Action",
    "Allowed",
    "Contract",
    "ContractStatus",
    "FUNDED_STATES",
    "HistoryEntry",
    "Invite",
    "LedgerEntry",
    "LedgerKind",
    "Milestone",
    "MilestoneStatus",
    "Role",
    "SubmittedFile",
    "Totals",
    "UNFUNDED_STATES",
    "check_due_date",
    "check_text",
]

TITLE_MAX = 100
DESCRIPTION_MAX = 2_000
REASON_MAX = 1_000
CONTRACT_TITLE_MAX = 100
DEFAULT_REVIEW_DAYS = 14
FILES_PER_SUBMISSION = 10  # as many as one Telegram album
FILE_KINDS = ("document", "photo")
FILE_NAME_MAX = 255
CAPTION_MAX = 1_024  # Telegram's own limit for a caption
FILE_ID_MAX = 255


# C0 and C1 control characters other than tab and line breaks.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def without_control(text: str) -> str:
    """Text from elsewhere (a Telegram name) with control characters dropped, for storing."""
    return _CONTROL.sub("", text)


def check_text(value: str, what: str, *, min_len: int, max_len: int) -> str:
    """R12: length limits in characters, no control characters; the text itself is kept exactly as typed."""
    if not isinstance(value, str):
        raise InvalidInput(f"The {what} must be text.")
    if min_len and not value.strip():
        raise InvalidInput(f"The {what} can't be empty.")
    if len(value) > max_len:
        raise InvalidInput(f"The {what} must be at most {max_len:,} characters (this one has {len(value):,}).")
    control = _CONTROL.search(value)
    if control is not None:  # invisible, and PostgreSQL refuses U+0000: one rule on both databases
        raise InvalidInput(f"The {what} can't contain control characters (it has U+{ord(control.group()):04X}).")
    return value


def check_due_date(due: date, today: date) -> date:
    """R11: a calendar date in the actor's zone, not in the past when set."""
    if not isinstance(due, date) or isinstance(due, datetime):
        raise InvalidInput("The due date must be a calendar date.")
    if due < today:
        raise InvalidInput("The due date must be today or later.")
    return due


@dataclass
class Milestone:
    id: int | None
    title: str
    amount: int  # minor units of the contract currency
    due_date: date
    description: str
    status: MilestoneStatus
    created_at: datetime
    seq: int | None = None  # place in the activation order; None while only proposed (R5)
    proposed_by: int | None = None
    funded_at: datetime | None = None
    submitted_at: datetime | None = None
    released_at: datetime | None = None
    refunded_at: datetime | None = None
    auto_released: bool = False
    revision_count: int = 0
    submission_note: str = ""
    change_reason: str = ""
    refund_requested_at: datetime | None = None
    # When the reminder sweep should next look at this milestone; any change asks for a look now.
    next_reminder_at: datetime | None = None

    @property
    def is_funded(self) -> bool:
        return self.status in FUNDED_STATES


@dataclass(frozen=True)
class SubmittedFile:
    """A document or photo sent with a submission, kept as Telegram's file_id (nothing is downloaded).
    `submission`: which submission of the milestone it came with (1 = the first; a resubmission after a
    change request is the next)."""

    kind: str  # "document" or "photo"
    file_id: str
    file_unique_id: str = ""
    name: str = ""  # a document's file name; photos have none
    caption: str = ""
    size: int | None = None
    milestone_id: int | None = None
    submission: int = 0
    actor_id: int | None = None
    at: datetime | None = None
    id: int | None = None


def check_files(files: tuple[SubmittedFile, ...] | list[SubmittedFile]) -> None:
    """What one submission may carry: at most FILES_PER_SUBMISSION documents or photos, each with a
    Telegram file id, a name and a caption within limits."""
    if len(files) > FILES_PER_SUBMISSION:
        raise InvalidInput(f"A submission takes at most {FILES_PER_SUBMISSION} files (this one has {len(files)}).")
    for f in files:
        if f.kind not in FILE_KINDS:
            raise InvalidInput("Only documents and photos can be attached.")
        if not f.file_id or len(f.file_id) > FILE_ID_MAX or _CONTROL.search(f.file_id):
            raise InvalidInput("That file can't be attached.")
        check_text(f.name, "file name", min_len=0, max_len=FILE_NAME_MAX)
        check_text(f.caption, "caption", min_len=0, max_len=CAPTION_MAX)


@dataclass
class LedgerEntry:
    kind: LedgerKind
    amount: int
    at: datetime
    milestone: Milestone | None = None
    milestone_id: int | None = None
    actor_id: int | None = None
    id: int | None = None


@dataclass(frozen=True)
class FieldChange:
    """One field an edit changed: 'title', 'amount' (minor units), 'due_date' or 'description'."""

    field: str
    old: str | int | date
    new: str | int | date


@dataclass
class HistoryEntry:
    action: str
    at: datetime
    actor_id: int | None  # None: the bot itself (automatic release)
    note: str = ""
    milestone: Milestone | None = None
    milestone_id: int | None = None
    milestone_title: str = ""
    id: int | None = None
    changes: tuple[FieldChange, ...] = ()  # an edit's old -> new, for the news (not stored: the note names them)


@dataclass(frozen=True)
class Totals:
    funded: int
    in_escrow: int
    released: int
    refunded: int
    remaining: int  # accepted milestones not funded yet


@dataclass
class Invite:
    token: str
    contract_id: int
    created_by: int
    created_at: datetime
    expires_at: datetime
    used_by: int | None = None
    used_at: datetime | None = None

    def check_can_accept(self, user_id: int, now: datetime) -> None:
        if user_id == self.created_by:
            raise InviteInvalid("You created this invite: forward the link to the other party instead.")
        if self.used_at is not None:
            raise InviteInvalid("This invite link was already used.")
        if now >= self.expires_at:
            raise InviteInvalid("This invite link has expired: ask for a new one.")


@dataclass
class Contract:
    id: int | None
    title: str
    currency: str
    status: ContractStatus
    created_by: int
    created_at: datetime
    client_id: int | None = None
    freelancer_id: int | None = None
    review_days: int = DEFAULT_REVIEW_DAYS
    ended_at: datetime | None = None
    group_chat_id: int | None = None
    kept_open_at: datetime | None = None  # the client's answer to "keep open or end?" (R9)
    version: int = 0
    milestones: list[Milestone] = field(default_factory=list)
    # Changes not stored yet; the repository writes them in the same transaction as the contract.
    new_ledger: list[LedgerEntry] = field(default_factory=list, repr=False)
    new_history: list[HistoryEntry] = field(default_factory=list, repr=False)
    new_files: list[SubmittedFile] = field(default_factory=list, repr=False)

    # ----- creation and joining -----------------------------------------------------------
    @classmethod
    def create(
        cls,
        creator_id: int,
        role: Role,
        title: str,
        currency: str,
        now: datetime,
        review_days: int = DEFAULT_REVIEW_DAYS,
    ) -> Contract:
        check_text(title, "title", min_len=1, max_len=CONTRACT_TITLE_MAX)
        validate_currency(currency)
        if review_days < 1:
            raise InvalidInput("The review period must be at least one day.")
        contract = cls(
            id=None,
            title=title,
            currency=currency,
            status=ContractStatus.PENDING,
            created_by=creator_id,
            created_at=now,
            review_days=review_days,
            client_id=creator_id if role is Role.CLIENT else None,
            freelancer_id=creator_id if role is Role.FREELANCER else None,
        )
        contract._log("contract_created", creator_id, now, note=f"as {role.value}")
        return contract

    def join(self, user_id: int, now: datetime) -> Role:
        if self.status is not ContractStatus.PENDING:
            raise InviteInvalid("This contract already has both parties.")
        if user_id in (self.client_id, self.freelancer_id):
            raise InviteInvalid("You are already a party to this contract.")
        if self.client_id is None:
            self.client_id, role = user_id, Role.CLIENT
        else:
            self.freelancer_id, role = user_id, Role.FREELANCER
        self.status = ContractStatus.ACTIVE
        self._log("joined", user_id, now, note=f"as {role.value}")
        return role

    def decline_invite(self, user_id: int, now: datetime) -> None:
        if self.status is not ContractStatus.PENDING:
            raise InviteInvalid("This invite is no longer open.")
        if user_id in (self.client_id, self.freelancer_id):
            raise InviteInvalid("You created this invite: forward the link to the other party instead.")
        self.status = ContractStatus.DECLINED
        self.ended_at = now
        self._log("invite_declined", user_id, now)

    # ----- who and what -------------------------------------------------------------------
    def role_of(self, user_id: int | None) -> Role | None:
        if user_id is None:
            return None
        if user_id == self.client_id:
            return Role.CLIENT
        if user_id == self.freelancer_id:
            return Role.FREELANCER
        return None

    def party_id(self, role: Role) -> int | None:
        return self.client_id if role is Role.CLIENT else self.freelancer_id

    def require_party(self, user_id: int | None) -> Role:
        role = self.role_of(user_id)
        if role is None:
            raise NotAllowed(NOT_YOURS)
        return role

    def require_role(self, user_id: int, role: Role) -> None:
        self.require_party(user_id)
        if self.role_of(user_id) is not role:
            raise NotAllowed(f"Only the {role.value} of this contract can do that.")

    def closed_refusal(self) -> DomainError | None:
        if self.status is ContractStatus.ENDED:
            return ContractClosed("This contract has ended; it accepts no more actions.")
        if self.status is ContractStatus.DECLINED:
            return ContractClosed("This contract was declined; it accepts no actions.")
        if self.status is ContractStatus.PENDING:
            return ContractClosed("The other party hasn't joined this contract yet: share the invite link first.")
        return None

    def require_open(self) -> None:
        refusal = self.closed_refusal()
        if refusal is not None:
            raise refusal

    # ----- the guard of every action --------------------------------------------------------
    def refusal(self, action: Action, actor_id: int | None, ms: Milestone | None = None) -> DomainError | None:
        """Why `actor_id` may not do `action` (to `ms`) now, or None. Checks in this order: a party at
        all (R3: strangers learn nothing), the contract's state (R9), the role (R3), the milestone's
        state (R4, R13), then the action's own rule (e.g. the order, R1/R2)."""
        rule = RULES[action]
        role = self.role_of(actor_id)
        if role is None:
            return NotAllowed(NOT_YOURS)
        closed = contract_state_refusal(rule, self)
        if closed is not None:
            return closed
        if rule.role is not None and role is not rule.role:
            return NotAllowed(f"Only the {rule.role.value} of this contract can do that.")
        if rule.on_milestone:
            assert ms is not None
            refused = state_refusal(rule, ms)
            if refused is not None:
                return refused
        return rule.guard(self, ms) if rule.guard is not None else None

    def require(self, action: Action, actor_id: int | None, milestone_id: int | None = None) -> Milestone | None:
        """Raise the refusal if `actor_id` may not do `action` now; return the milestone it is about."""
        rule = RULES[action]
        ms = None
        if rule.on_milestone:
            self.require_party(actor_id)
            if milestone_id is None:
                raise NotFound("That milestone doesn't exist (any more).")
            ms = self.milestone(milestone_id)
        refused = self.refusal(action, actor_id, ms)
        if refused is not None:
            raise refused
        return ms

    def allowed_actions(self, viewer_id: int | None) -> list[Allowed]:
        """Everything `viewer_id` may do now: contract actions, then each milestone's in card order."""
        if self.role_of(viewer_id) is None:
            return []
        out = [Allowed(a, None) for a in CONTRACT_ACTIONS if self.refusal(a, viewer_id) is None]
        for ms in self.milestones:
            for a in MILESTONE_ACTIONS:
                states = RULES[a].states
                if states is not None and ms.status in states and self.refusal(a, viewer_id, ms) is None:
                    out.append(Allowed(a, ms))
        return out

    def may(self, action: Action, actor_id: int | None, ms: Milestone | None = None) -> bool:
        return self.refusal(action, actor_id, ms) is None

    def milestone(self, milestone_id: int) -> Milestone:
        for ms in self.milestones:
            if ms.id == milestone_id:
                return ms
        raise NotFound("That milestone doesn't exist (any more).")

    def ordered(self) -> list[Milestone]:
        """Accepted milestones in activation order (creation or acceptance order, R1/R5)."""
        return sorted((m for m in self.milestones if m.seq is not None), key=lambda m: m.seq or 0)

    def proposals(self) -> list[Milestone]:
        return sorted(
            (m for m in self.milestones if m.status is MilestoneStatus.PROPOSED),
            key=lambda m: (m.created_at, m.id or 0),
        )

    def funded_milestone(self) -> Milestone | None:
        return next((m for m in self.milestones if m.is_funded), None)

    def next_to_activate(self) -> Milestone | None:
        return next((m for m in self.ordered() if m.status is MilestoneStatus.NOT_FUNDED), None)

    def totals(self) -> Totals:
        funded = released = refunded = in_escrow = remaining = 0
        for m in self.milestones:
            if m.status in FUNDED_STATES:
                in_escrow += m.amount
            elif m.status is MilestoneStatus.RELEASED:
                released += m.amount
            elif m.status is MilestoneStatus.REFUNDED:
                refunded += m.amount
            elif m.status is MilestoneStatus.NOT_FUNDED:
                remaining += m.amount
        funded = in_escrow + released + refunded
        return Totals(funded=funded, in_escrow=in_escrow, released=released, refunded=refunded, remaining=remaining)

    def auto_release_at(self, ms: Milestone) -> datetime | None:
        if ms.status is not MilestoneStatus.SUBMITTED or ms.submitted_at is None:
            return None
        return ms.submitted_at + timedelta(days=self.review_days)

    def awaiting_close_decision(self) -> bool:
        """R9: everything accepted is released (or refunded) and nothing is left to fund."""
        released = [m.released_at for m in self.milestones if m.status is MilestoneStatus.RELEASED and m.released_at]
        return (
            self.status is ContractStatus.ACTIVE
            and bool(released)
            and all(m.status not in FUNDED_STATES | {MilestoneStatus.NOT_FUNDED} for m in self.milestones)
            # Answered "Keep contract open" since the last release: don't ask again.
            and (self.kept_open_at is None or self.kept_open_at < max(released))
        )

    # ----- milestone actions (each: its guard from the table, then its effect) -------------------
    def add_milestone(
        self,
        actor_id: int,
        title: str,
        amount: int,
        due_date: date,
        description: str,
        today: date,
        now: datetime,
    ) -> Milestone:
        """Client: a new milestone at the end of the order. Freelancer: a proposal (R5)."""
        self.require(Action.ADD_MILESTONE, actor_id)
        role = self.require_party(actor_id)
        check_text(title, "title", min_len=1, max_len=TITLE_MAX)
        check_text(description, "description", min_len=0, max_len=DESCRIPTION_MAX)
        validate_amount(amount, self.currency)
        check_due_date(due_date, today)
        ms = Milestone(
            id=None,
            title=title,
            amount=amount,
            due_date=due_date,
            description=description,
            status=MilestoneStatus.PROPOSED,
            created_at=now,
        )
        if role is Role.CLIENT:
            ms.status = MilestoneStatus.NOT_FUNDED
            ms.seq = self._next_seq()
            self._log("milestone_added", actor_id, now, ms)
            self._next_waiting_changed(now)
        else:
            ms.proposed_by = actor_id
            self._log("milestone_proposed", actor_id, now, ms)
        self.milestones.append(ms)
        return ms

    def accept_proposal(self, actor_id: int, milestone_id: int, now: datetime) -> Milestone:
        ms = self._require_ms(Action.ACCEPT_PROPOSAL, actor_id, milestone_id)
        ms.status = MilestoneStatus.NOT_FUNDED
        ms.seq = self._next_seq()  # R5: its place is the moment of acceptance
        self._log("proposal_accepted", actor_id, now, ms)
        self._next_waiting_changed(now)
        return ms

    def reject_proposal(self, actor_id: int, milestone_id: int, now: datetime, reason: str = "") -> Milestone:
        ms = self._require_ms(Action.REJECT_PROPOSAL, actor_id, milestone_id)
        check_text(reason, "reason", min_len=0, max_len=REASON_MAX)
        ms.status = MilestoneStatus.REJECTED
        self._log("proposal_rejected", actor_id, now, ms, reason)
        return ms

    def withdraw_proposal(self, actor_id: int, milestone_id: int, now: datetime) -> Milestone:
        ms = self._require_ms(Action.WITHDRAW_PROPOSAL, actor_id, milestone_id)
        ms.status = MilestoneStatus.CANCELLED
        self._log("proposal_withdrawn", actor_id, now, ms)
        return ms

    def edit_milestone(
        self,
        actor_id: int,
        milestone_id: int,
        now: datetime,
        today: date,
        *,
        title: str | None = None,
        amount: int | None = None,
        due_date: date | None = None,
        description: str | None = None,
    ) -> Milestone:
        ms = self._require_ms(Action.EDIT, actor_id, milestone_id)
        changes: list[FieldChange] = []
        if title is not None:
            check_text(title, "title", min_len=1, max_len=TITLE_MAX)
        if description is not None:
            check_text(description, "description", min_len=0, max_len=DESCRIPTION_MAX)
        if amount is not None:
            validate_amount(amount, self.currency)
        if due_date is not None:
            check_due_date(due_date, today)
        # All checks pass before anything changes: a refused edit leaves the milestone as it was.
        for name, value in (("title", title), ("amount", amount), ("due date", due_date), ("description", description)):
            attr = name.replace(" ", "_")
            if value is not None and getattr(ms, attr) != value:
                changes.append(FieldChange(attr, getattr(ms, attr), value))
                setattr(ms, attr, value)
        if changes:
            note = ", ".join(c.field.replace("_", " ") for c in changes)
            self._log("milestone_edited", actor_id, now, ms, note, changes=tuple(changes))
        return ms

    def delete_milestone(self, actor_id: int, milestone_id: int, now: datetime) -> Milestone:
        ms = self._require_ms(Action.DELETE, actor_id, milestone_id)
        ms.status = MilestoneStatus.CANCELLED
        self._log("milestone_deleted", actor_id, now, ms)
        return ms

    def activate(self, actor_id: int, milestone_id: int, now: datetime) -> Milestone:
        ms = self._require_ms(Action.ACTIVATE, actor_id, milestone_id)
        ms.status = MilestoneStatus.ACTIVE
        ms.funded_at = now
        self.new_ledger.append(LedgerEntry(LedgerKind.FUND, ms.amount, now, milestone=ms, actor_id=actor_id))
        self._log("activated", actor_id, now, ms)
        return ms

    def submit(
        self, actor_id: int, milestone_id: int, note: str, now: datetime, files: tuple[SubmittedFile, ...] = ()
    ) -> Milestone:
        """The freelancer delivers: a note and/or files (documents, photos; links go in the note)."""
        ms = self._require_ms(Action.SUBMIT, actor_id, milestone_id)
        check_text(note, "note", min_len=0, max_len=REASON_MAX)
        check_files(files)
        ms.status = MilestoneStatus.SUBMITTED
        ms.submitted_at = now  # R6: a resubmission restarts the review period
        ms.submission_note = note
        # Only a change request returns a milestone to `active` after its first submission (R6).
        number = ms.revision_count + 1
        self.new_files.extend(
            replace(f, milestone_id=ms.id, submission=number, actor_id=actor_id, at=now, id=None) for f in files
        )
        self._log("submitted", actor_id, now, ms, note)
        return ms

    def approve(self, actor_id: int, milestone_id: int, now: datetime) -> Milestone:
        ms = self._require_ms(Action.APPROVE, actor_id, milestone_id)
        self._release(ms, actor_id, now, automatic=False)
        return ms

    def auto_release(self, milestone_id: int, now: datetime) -> Milestone:
        """R7: the review period passed without approval or a change request."""
        if self.status is not ContractStatus.ACTIVE:
            raise ContractClosed("This contract is not active.")
        ms = self.milestone(milestone_id)
        refused = state_refusal(RULES[Action.APPROVE], ms)
        if refused is not None:
            raise refused
        due = self.auto_release_at(ms)
        assert due is not None
        if now < due:
            raise InvalidState(f"«{ms.title}» is still in its review period.")
        self._release(ms, None, now, automatic=True)
        return ms

    def request_changes(self, actor_id: int, milestone_id: int, reason: str, now: datetime) -> Milestone:
        ms = self._require_ms(Action.REQUEST_CHANGES, actor_id, milestone_id)
        check_text(reason, "reason", min_len=1, max_len=REASON_MAX)
        ms.status = MilestoneStatus.ACTIVE  # R6
        ms.change_reason = reason
        ms.revision_count += 1
        self._log("changes_requested", actor_id, now, ms, reason)
        return ms

    def refund(self, actor_id: int, milestone_id: int, now: datetime) -> Milestone:
        """R8: the freelancer refunds a funded milestone at once."""
        ms = self._require_ms(Action.REFUND, actor_id, milestone_id)
        self._refund(ms, actor_id, now, "refunded")
        return ms

    def request_refund(self, actor_id: int, milestone_id: int, now: datetime) -> Milestone:
        """R8: the client asks; the freelancer accepts or declines."""
        ms = self._require_ms(Action.REQUEST_REFUND, actor_id, milestone_id)
        ms.refund_requested_at = now
        self._log("refund_requested", actor_id, now, ms)
        return ms

    def accept_refund(self, actor_id: int, milestone_id: int, now: datetime) -> Milestone:
        ms = self._require_ms(Action.ACCEPT_REFUND, actor_id, milestone_id)
        self._refund(ms, actor_id, now, "refund_accepted")
        return ms

    def decline_refund(self, actor_id: int, milestone_id: int, now: datetime) -> Milestone:
        ms = self._require_ms(Action.DECLINE_REFUND, actor_id, milestone_id)
        ms.refund_requested_at = None
        self._log("refund_declined", actor_id, now, ms)
        return ms

    # ----- contract actions ----------------------------------------------------------------
    def end(self, actor_id: int, now: datetime) -> list[Milestone]:
        """R9: only with nothing in escrow; what is not funded yet is cancelled."""
        self.require(Action.END, actor_id)
        cancelled = []
        for ms in self.milestones:
            if ms.status in UNFUNDED_STATES:
                ms.status = MilestoneStatus.CANCELLED_AT_END
                cancelled.append(ms)
                self._log("milestone_cancelled", actor_id, now, ms, "contract ended")  # who ended it
        self.status = ContractStatus.ENDED
        self.ended_at = now
        self._log("contract_ended", actor_id, now)
        return cancelled

    def keep_open(self, actor_id: int, now: datetime) -> None:
        self.require(Action.KEEP_OPEN, actor_id)
        self.kept_open_at = now
        self._log("kept_open", actor_id, now)

    def new_invite(self, actor_id: int, now: datetime) -> None:
        """A fresh link for a contract still waiting for its other party (the service stores it)."""
        self.require(Action.NEW_INVITE, actor_id)

    def link_group(self, actor_id: int, chat_id: int | None, now: datetime) -> None:
        self.require_party(actor_id)
        if self.status in (ContractStatus.ENDED, ContractStatus.DECLINED):
            self.require_open()
        self.group_chat_id = chat_id
        self._log("group_linked" if chat_id is not None else "group_unlinked", actor_id, now)

    # ----- internals -------------------------------------------------------------------------
    def _require_ms(self, action: Action, actor_id: int, milestone_id: int) -> Milestone:
        ms = self.require(action, actor_id, milestone_id)
        assert ms is not None
        return ms

    def _next_waiting_changed(self, now: datetime) -> None:
        """ "Next milestone waiting" hangs on the last release: when a next milestone appears (or the
        way is free again after a refund), that release needs a fresh look by the reminder sweep."""
        released = [m for m in self.milestones if m.status is MilestoneStatus.RELEASED and m.released_at]
        if released:
            max(released, key=lambda m: m.released_at or now).next_reminder_at = now

    def _next_seq(self) -> int:
        return max((m.seq for m in self.milestones if m.seq is not None), default=0) + 1

    def _release(self, ms: Milestone, actor_id: int | None, now: datetime, automatic: bool) -> None:
        ms.status = MilestoneStatus.RELEASED
        ms.released_at = now
        ms.auto_released = automatic
        ms.refund_requested_at = None
        self.new_ledger.append(LedgerEntry(LedgerKind.RELEASE, ms.amount, now, milestone=ms, actor_id=actor_id))
        self._log("auto_released" if automatic else "released", actor_id, now, ms)

    def _refund(self, ms: Milestone, actor_id: int, now: datetime, action: str) -> None:
        ms.status = MilestoneStatus.REFUNDED
        ms.refunded_at = now
        ms.refund_requested_at = None
        self.new_ledger.append(LedgerEntry(LedgerKind.REFUND, ms.amount, now, milestone=ms, actor_id=actor_id))
        self._log(action, actor_id, now, ms)
        self._next_waiting_changed(now)

    def _log(
        self,
        action: str,
        actor_id: int | None,
        now: datetime,
        ms: Milestone | None = None,
        note: str = "",
        changes: tuple[FieldChange, ...] = (),
    ) -> None:
        if ms is not None:
            ms.next_reminder_at = now
        self.new_history.append(
            HistoryEntry(
                action=action,
                at=now,
                actor_id=actor_id,
                note=note,
                milestone=ms,
                milestone_title=ms.title if ms else "",
                changes=changes,
            )
        )
