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
    N_,
    NOT_YOURS,
    AlreadyDone,
    Amount,
    ContractClosed,
    Day,
    DomainError,
    InvalidInput,
    InvalidState,
    InviteInvalid,
    NotAllowed,
    NotFound,
    Number,
    Said,
    Term,
    Words,
    english,
)
from .money import validate_amount, validate_currency
from .states import (
    FUNDED_STATES,
    UNFUNDED_STATES,
    ContractStatus,
    LedgerKind,
    MilestoneStatus,
    PaymentMode,
    Role,
    role_word,
)

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
    "PaymentMode",
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


# The history notes the domain composes itself (HistoryEntry.said), in words the catalog has.
_AS_ROLE = {Role.CLIENT: N_("as client"), Role.FREELANCER: N_("as freelancer")}
_FIELD_WORD = {
    "title": N_("title"),
    "amount": N_("amount"),
    "due_date": N_("due date"),
    "description": N_("description"),
}
_EDITED = "{fields}"  # i18n: ok (the edited fields, listed: no words of its own to translate)
_DUE_CHANGE = N_("{old} → {new}")


# C0 and C1 control characters other than tab and line breaks.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def without_control(text: str) -> str:
    """Text from elsewhere (a Telegram name) with control characters dropped, for storing."""
    return _CONTROL.sub("", text)


def check_text(value: str, what: str, *, min_len: int, max_len: int) -> str:
    """R12: length limits in characters, no control characters; the text itself is kept exactly as typed."""
    term = Term(what)  # a word of ours ("title"): callers write Term("title") so the catalog has it
    if not isinstance(value, str):
        raise InvalidInput(N_("The {what} must be text."), what=term)
    if min_len and not value.strip():
        raise InvalidInput(N_("The {what} can't be empty."), what=term)
    if len(value) > max_len:
        raise InvalidInput(
            N_("The {what} must be at most {max} characters (this one has {n})."),
            what=term,
            max=Number(max_len),
            n=Number(len(value)),
        )
    control = _CONTROL.search(value)
    if control is not None:  # invisible, and PostgreSQL refuses U+0000: one rule on both databases
        raise InvalidInput(
            N_("The {what} can't contain control characters (it has U+{code:04X})."),
            what=term,
            code=ord(control.group()),
        )
    return value


def check_due_date(due: date, today: date) -> date:
    """R11: a calendar date in the actor's zone, not in the past when set."""
    if not isinstance(due, date) or isinstance(due, datetime):
        raise InvalidInput(N_("The due date must be a calendar date."))
    if due < today:
        raise InvalidInput(N_("The due date must be today or later."))
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
    # Disagreements (PRODUCT §8). A release of less than `amount` (pay less, a dispute's split): what went
    # to the freelancer (the rest was refunded); None: the whole amount. `bonus`: paid on top (not escrow).
    paid_amount: int | None = None
    bonus: int = 0
    # A new due date one party proposed and the other has not answered yet.
    due_change_to: date | None = None
    due_change_by: int | None = None
    due_change_at: datetime | None = None
    # A dispute: open while the milestone is funded and `dispute_opened_at` is set.
    dispute_opened_at: datetime | None = None
    dispute_by: int | None = None
    dispute_reason: str = ""
    dispute_escalated_at: datetime | None = None  # went to the operators
    # Each party's standing settlement offer: the amount to the freelancer (the rest is refunded).
    client_offer: int | None = None
    client_offer_at: datetime | None = None
    freelancer_offer: int | None = None
    freelancer_offer_at: datetime | None = None
    # Ledger mode: the freelancer's word on the client's payment for a release (PRODUCT §7).
    payment_confirmed_at: datetime | None = None
    payment_flagged_at: datetime | None = None  # "Not received": shown to both until confirmed
    # Telegram mode: the nonce of the one invoice that may fund it now ("" none); a newer invoice or the
    # funding itself makes older payloads stale (single-use).
    invoice_nonce: str = ""
    # Telegram mode, a bonus (PRODUCT §8): invoiced to the client at approval; the nonce of its one current
    # invoice ("" none) and when it was paid (None: invoiced, not paid yet).
    bonus_nonce: str = ""
    bonus_paid_at: datetime | None = None

    @property
    def bonus_invoiced(self) -> bool:
        """Telegram mode: a bonus was added and is not paid yet (the card says invoiced, not paid)."""
        return self.bonus > 0 and self.bonus_paid_at is None

    @property
    def is_funded(self) -> bool:
        return self.status in FUNDED_STATES

    @property
    def in_dispute(self) -> bool:
        return self.dispute_opened_at is not None and self.status in FUNDED_STATES

    def offer_of(self, role: Role) -> int | None:
        """The standing settlement offer of `role` (an amount to the freelancer), if any."""
        return self.client_offer if role is Role.CLIENT else self.freelancer_offer

    def offer_at(self, role: Role) -> datetime | None:
        return self.client_offer_at if role is Role.CLIENT else self.freelancer_offer_at

    @property
    def released_part(self) -> int:
        """What went to the freelancer out of escrow (all of `amount` for a plain release)."""
        if self.status is not MilestoneStatus.RELEASED:
            return 0
        return self.amount if self.paid_amount is None else self.paid_amount

    @property
    def refunded_part(self) -> int:
        """What went back to the client (the rest of a partial release, or all of a refund)."""
        if self.status is MilestoneStatus.REFUNDED:
            return self.amount
        if self.status is MilestoneStatus.RELEASED:
            return self.amount - self.released_part
        return 0


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
        raise InvalidInput(
            N_("A submission takes at most {max} files (this one has {n})."), max=FILES_PER_SUBMISSION, n=len(files)
        )
    for f in files:
        if f.kind not in FILE_KINDS:
            raise InvalidInput(N_("Only documents and photos can be attached."))
        if not f.file_id or len(f.file_id) > FILE_ID_MAX or _CONTROL.search(f.file_id):
            raise InvalidInput(N_("That file can't be attached."))
        check_text(f.name, Term("file name"), min_len=0, max_len=FILE_NAME_MAX)
        check_text(f.caption, Term("caption"), min_len=0, max_len=CAPTION_MAX)


@dataclass
class LedgerEntry:
    kind: LedgerKind
    amount: int
    at: datetime
    milestone: Milestone | None = None
    milestone_id: int | None = None
    actor_id: int | None = None
    id: int | None = None
    reference: str = ""  # a payout's or refund's reference (bank transfer id, refundStarPayment …)
    charge_id: str | None = None  # telegram_payment_charge_id of a payment (FUND, UNAPPLIED): unique
    provider_charge_id: str = ""


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
    # A note the domain composed itself ("as client", a split's amounts), as a sentence to translate:
    # `note` is it in English (stored too). None: no note, a person's own note, or a row stored before.
    said: Said | None = None


@dataclass(frozen=True)
class Totals:
    funded: int
    in_escrow: int
    released: int
    refunded: int
    remaining: int  # accepted milestones not funded yet
    bonus: int = 0  # paid on top of releases (outside escrow: not part of funded)
    confirmed: int = 0  # ledger mode: of `released`, what the freelancer confirmed receiving


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
            raise InviteInvalid(N_("You created this invite: forward the link to the other party instead."))
        if self.used_at is not None:
            raise InviteInvalid(N_("This invite link was already used."))
        if now >= self.expires_at:
            raise InviteInvalid(N_("This invite link has expired: ask for a new one."))


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
    payments: PaymentMode = PaymentMode.LEDGER
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
        payments: PaymentMode = PaymentMode.LEDGER,
    ) -> Contract:
        check_text(title, Term("title"), min_len=1, max_len=CONTRACT_TITLE_MAX)
        validate_currency(currency)
        if review_days < 1:
            raise InvalidInput(N_("The review period must be at least one day."))
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
            payments=payments,
        )
        contract._log("contract_created", creator_id, now, said=(_AS_ROLE[role], {}))
        return contract

    def join(self, user_id: int, now: datetime) -> Role:
        if self.status is not ContractStatus.PENDING:
            raise InviteInvalid(N_("This contract already has both parties."))
        if user_id in (self.client_id, self.freelancer_id):
            raise InviteInvalid(N_("You are already a party to this contract."))
        if self.client_id is None:
            self.client_id, role = user_id, Role.CLIENT
        else:
            self.freelancer_id, role = user_id, Role.FREELANCER
        self.status = ContractStatus.ACTIVE
        self._log("joined", user_id, now, said=(_AS_ROLE[role], {}))
        return role

    def decline_invite(self, user_id: int, now: datetime) -> None:
        if self.status is not ContractStatus.PENDING:
            raise InviteInvalid(N_("This invite is no longer open."))
        if user_id in (self.client_id, self.freelancer_id):
            raise InviteInvalid(N_("You created this invite: forward the link to the other party instead."))
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
            raise NotAllowed(N_("Only the {role} of this contract can do that."), role=role_word(role))

    def closed_refusal(self) -> DomainError | None:
        if self.status is ContractStatus.ENDED:
            return ContractClosed(N_("This contract has ended; it accepts no more actions."))
        if self.status is ContractStatus.DECLINED:
            return ContractClosed(N_("This contract was declined; it accepts no actions."))
        if self.status is ContractStatus.PENDING:
            return ContractClosed(N_("The other party hasn't joined this contract yet: share the invite link first."))
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
        need = rule.role_for(ms)
        if need is not None and role is not need:
            return NotAllowed(N_("Only the {role} of this contract can do that."), role=role_word(need))
        if rule.operator:
            return NotAllowed(N_("Only an operator can decide a dispute."))
        if rule.on_milestone:
            assert ms is not None
            refused = state_refusal(rule, ms)
            if refused is not None:
                return refused
        if ms is not None and ms.in_dispute and not rule.in_dispute:  # PRODUCT §8: all else waits
            return InvalidState(N_("«{title}» is in dispute: it waits until the dispute is settled."), title=ms.title)
        if rule.guard is not None:
            refused = rule.guard(self, ms)
            if refused is not None:
                return refused
        if rule.role_guard is not None:
            assert ms is not None
            return rule.role_guard(self, ms, role)
        return None

    def operator_refusal(
        self, action: Action, actor_id: int | None, ms: Milestone, operators: frozenset[int]
    ) -> DomainError | None:
        """Why `actor_id` may not do the operator's `action` to `ms`: not an operator, a party to this
        contract (a dispute is decided by someone else), the contract's or the milestone's state."""
        rule = RULES[action]
        if actor_id is None or actor_id not in operators:
            return NotAllowed(N_("Only an operator can decide a dispute."))
        if self.role_of(actor_id) is not None:
            return NotAllowed(N_("You are a party to this contract: another operator decides its dispute."))
        closed = contract_state_refusal(rule, self)
        if closed is not None:
            return closed
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
                raise NotFound(N_("That milestone doesn't exist (any more)."))
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
        raise NotFound(N_("That milestone doesn't exist (any more)."))

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
        funded = released = refunded = in_escrow = remaining = confirmed = 0
        for m in self.milestones:
            if m.status in FUNDED_STATES:
                in_escrow += m.amount
            elif m.status is MilestoneStatus.RELEASED:
                released += m.released_part
                refunded += m.refunded_part  # a partial release: the rest went back (PRODUCT §8)
                confirmed += m.released_part if m.payment_confirmed_at is not None else 0
            elif m.status is MilestoneStatus.REFUNDED:
                refunded += m.amount
            elif m.status is MilestoneStatus.NOT_FUNDED:
                remaining += m.amount
        funded = in_escrow + released + refunded
        return Totals(
            funded=funded,
            in_escrow=in_escrow,
            released=released,
            refunded=refunded,
            remaining=remaining,
            confirmed=confirmed,
            bonus=sum(  # telegram mode: a bonus counts once the client paid its invoice
                m.bonus
                for m in self.milestones
                if m.status is MilestoneStatus.RELEASED
                and (self.payments is not PaymentMode.TELEGRAM or m.bonus_paid_at is not None)
            ),
        )

    def auto_release_at(self, ms: Milestone) -> datetime | None:
        """R7: when submitted work is released unless the client answers; None when nothing will be, e.g.
        while a dispute holds the automatic release (PRODUCT §8)."""
        if ms.status is not MilestoneStatus.SUBMITTED or ms.submitted_at is None or ms.in_dispute:
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
        check_text(title, Term("title"), min_len=1, max_len=TITLE_MAX)
        check_text(description, Term("description"), min_len=0, max_len=DESCRIPTION_MAX)
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
        check_text(reason, Term("reason"), min_len=0, max_len=REASON_MAX)
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
            check_text(title, Term("title"), min_len=1, max_len=TITLE_MAX)
        if description is not None:
            check_text(description, Term("description"), min_len=0, max_len=DESCRIPTION_MAX)
        if amount is not None:
            validate_amount(amount, self.currency)
        if due_date is not None:
            check_due_date(due_date, today)
        # All checks pass before anything changes: a refused edit leaves the milestone as it was.
        for attr, value in (("title", title), ("amount", amount), ("due_date", due_date), ("description", description)):
            if value is not None and getattr(ms, attr) != value:
                changes.append(FieldChange(attr, getattr(ms, attr), value))
                setattr(ms, attr, value)
        if changes:
            fields = Words(tuple(_FIELD_WORD[c.field] for c in changes))  # "title, due date"
            self._log("milestone_edited", actor_id, now, ms, said=(_EDITED, {"fields": fields}), changes=tuple(changes))
        return ms

    def delete_milestone(self, actor_id: int, milestone_id: int, now: datetime) -> Milestone:
        ms = self._require_ms(Action.DELETE, actor_id, milestone_id)
        ms.status = MilestoneStatus.CANCELLED
        self._log("milestone_deleted", actor_id, now, ms)
        return ms

    def activate(self, actor_id: int, milestone_id: int, now: datetime) -> Milestone:
        ms = self._require_ms(Action.ACTIVATE, actor_id, milestone_id)
        if self.payments is PaymentMode.TELEGRAM:  # the money comes first: paying the invoice funds it
            raise InvalidState(
                N_("«{title}» is funded by paying its invoice: tap Activate & fund for one."), title=ms.title
            )
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
        check_text(note, Term("note"), min_len=0, max_len=REASON_MAX)
        check_files(files)
        ms.status = MilestoneStatus.SUBMITTED
        ms.submitted_at = now  # R6: a resubmission restarts the review period
        ms.submission_note = note
        ms.due_change_to = ms.due_change_by = ms.due_change_at = None  # delivered: a proposed date is moot
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
            raise ContractClosed(N_("This contract is not active."))
        ms = self.milestone(milestone_id)
        refused = state_refusal(RULES[Action.APPROVE], ms)
        if refused is not None:
            raise refused
        if ms.in_dispute:  # PRODUCT §8: a dispute holds the automatic release
            raise InvalidState(N_("«{title}» is in dispute: it is not released automatically."), title=ms.title)
        due = self.auto_release_at(ms)
        assert due is not None
        if now < due:
            raise InvalidState(N_("«{title}» is still in its review period."), title=ms.title)
        self._release(ms, None, now, automatic=True)
        return ms

    def request_changes(self, actor_id: int, milestone_id: int, reason: str, now: datetime) -> Milestone:
        ms = self._require_ms(Action.REQUEST_CHANGES, actor_id, milestone_id)
        check_text(reason, Term("reason"), min_len=1, max_len=REASON_MAX)
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

    def confirm_payment(self, actor_id: int, milestone_id: int, now: datetime) -> Milestone:
        """Ledger mode: the freelancer received the client's payment for a release."""
        ms = self._require_ms(Action.CONFIRM_PAYMENT, actor_id, milestone_id)
        ms.payment_confirmed_at = now
        ms.payment_flagged_at = None
        self._log("payment_confirmed", actor_id, now, ms)
        return ms

    def payment_not_received(self, actor_id: int, milestone_id: int, now: datetime) -> Milestone:
        """Ledger mode: the freelancer says the payment for a release has not arrived: flagged to both."""
        ms = self._require_ms(Action.PAYMENT_NOT_RECEIVED, actor_id, milestone_id)
        ms.payment_flagged_at = now
        self._log("payment_not_received", actor_id, now, ms)
        return ms

    # ----- telegram mode: invoices, payments, the escrow agent's payouts ------------------------
    def issue_invoice(self, actor_id: int, milestone_id: int, nonce: str, now: datetime) -> Milestone:
        """The client asked to fund the next milestone: an invoice with `nonce` is the one that may pay it
        (an older one is stale from now on)."""
        ms = self._require_ms(Action.ACTIVATE, actor_id, milestone_id)
        if self.payments is not PaymentMode.TELEGRAM:
            raise InvalidState(N_("This contract records funding in the ledger; there is no invoice to pay."))
        ms.invoice_nonce = nonce
        return ms

    def payment_refusal(
        self, payer_id: int, milestone_id: int, nonce: str | None, amount: int, currency: str
    ) -> DomainError | None:
        """Why a payment of `amount` `currency` by `payer_id` may not fund the milestone now, or None: the
        payer is the client, the milestone is still the next to fund and unfunded (R1-R4), amount and
        currency match, and (pre-checkout, `nonce` given) the invoice is its current one."""
        try:
            ms = self.milestone(milestone_id)
        except NotFound as err:
            return err
        refused = self.refusal(Action.ACTIVATE, payer_id, ms)
        if refused is not None:
            return refused
        if self.payments is not PaymentMode.TELEGRAM:
            return InvalidState(N_("This contract records funding in the ledger; there is no invoice to pay."))
        if currency != self.currency:
            return InvalidInput(
                N_("This invoice is in {paid}, but «{title}» is in {currency}."),
                paid=currency,
                title=ms.title,
                currency=self.currency,
            )
        if amount != ms.amount:
            return InvalidInput(
                N_("The amount of «{title}» changed since this invoice: ask for a new one."), title=ms.title
            )
        if nonce is not None and (not nonce or nonce != ms.invoice_nonce):
            return InvalidState(
                N_("This invoice for «{title}» was replaced by a newer one: pay the newest."), title=ms.title
            )
        return None

    def apply_payment(
        self,
        payer_id: int,
        milestone_id: int,
        amount: int,
        currency: str,
        charge_id: str,
        provider_charge_id: str,
        now: datetime,
    ) -> DomainError | None:
        """A successful payment: it funds the milestone if it still may (whichever of its invoices it paid:
        the money is taken, so only the rules decide), else it is recorded as unapplied, owed back to the
        payer. Returns why it could not be applied, or None."""
        ms = self.milestone(milestone_id)
        refused = self.payment_refusal(payer_id, milestone_id, None, amount, currency)
        if refused is not None:
            self.new_ledger.append(
                LedgerEntry(
                    LedgerKind.UNAPPLIED,
                    amount,
                    now,
                    milestone=ms,
                    actor_id=payer_id,
                    charge_id=charge_id,
                    provider_charge_id=provider_charge_id,
                )
            )
            self._log("payment_unapplied", payer_id, now, ms, said=(refused.msgid, refused.params))
            return refused
        ms.status = MilestoneStatus.ACTIVE
        ms.funded_at = now
        ms.invoice_nonce = ""  # single-use: no other invoice funds it now
        self.new_ledger.append(
            LedgerEntry(
                LedgerKind.FUND,
                amount,
                now,
                milestone=ms,
                actor_id=payer_id,
                charge_id=charge_id,
                provider_charge_id=provider_charge_id,
            )
        )
        self._log("paid_and_funded", payer_id, now, ms, said=(N_("charge {charge}"), {"charge": charge_id}))
        return None

    def record_settlement(
        self, kind: LedgerKind, milestone_id: int, amount: int, reference: str, actor_id: int | None, now: datetime
    ) -> Milestone:
        """The escrow agent moved money: a payout to the freelancer or a refund to the client of `amount`
        (what is owed, computed by domain.payouts.owed), with its reference."""
        if kind not in (LedgerKind.PAYOUT, LedgerKind.REFUND_PAID):
            raise InvalidInput(N_("Only a payout or a refund can be marked done."))
        if amount <= 0:
            raise AlreadyDone(N_("Nothing is owed there: it was marked done already."))
        check_text(reference, Term("reference"), min_len=1, max_len=200)
        ms = self.milestone(milestone_id)
        self.new_ledger.append(LedgerEntry(kind, amount, now, milestone=ms, actor_id=actor_id, reference=reference))
        self._log("payout_sent" if kind is LedgerKind.PAYOUT else "refund_sent", actor_id, now, ms, reference)
        return ms

    # ----- disagreements (PRODUCT §8) ------------------------------------------------------------
    def amount(self, minor: int) -> Amount:
        """`minor` units of the contract's currency inside a sentence of ours (a refusal, a note)."""
        return Amount(minor, self.currency)

    def _check_split(self, ms: Milestone, amount: int, *, what: Term, low: int, high: int) -> int:
        """An amount of `ms` between `low` and `high` minor units (both included)."""
        if isinstance(amount, bool) or not isinstance(amount, int) or not low <= amount <= high:
            raise InvalidInput(
                N_("The {what} must be between {low} and {high} ({held} is held)."),
                what=what,
                low=self.amount(low),
                high=self.amount(high),
                held=self.amount(ms.amount),
            )
        return amount

    def check_amount(self, action: Action, ms: Milestone, amount: int) -> int:
        """The amount an action of §8 takes, in range: less than all and more than nothing (pay less), a
        bonus within the limits, or 0 to all of it to the freelancer (an offer, a decision)."""
        if action is Action.APPROVE_WITH_BONUS:
            return validate_amount(amount, self.currency)
        if action is Action.PAY_LESS:
            return self._check_split(ms, amount, what=Term("amount to release"), low=1, high=ms.amount - 1)
        return self._check_split(ms, amount, what=Term("amount to the freelancer"), low=0, high=ms.amount)

    def pay_less(self, actor_id: int, milestone_id: int, amount: int, reason: str, now: datetime) -> Milestone:
        """The client approves but releases less than the milestone's amount; the rest is refunded to them.
        A reason is required (the freelancer reads it)."""
        ms = self._require_ms(Action.PAY_LESS, actor_id, milestone_id)
        check_text(reason, Term("reason"), min_len=1, max_len=REASON_MAX)
        self._check_split(ms, amount, what=Term("amount to release"), low=1, high=ms.amount - 1)
        said: Said = (
            N_("{paid} of {amount}, {refunded} refunded: {reason}"),
            {
                "paid": self.amount(amount),
                "amount": self.amount(ms.amount),
                "refunded": self.amount(ms.amount - amount),
                "reason": reason,
            },
        )
        self._settle(ms, amount, actor_id, now, "released_less", said)
        return ms

    def approve_with_bonus(self, actor_id: int, milestone_id: int, bonus: int, now: datetime) -> Milestone:
        """The client approves, releases the whole amount and adds a bonus (outside escrow: in ledger mode
        recorded, paid between the parties)."""
        ms = self._require_ms(Action.APPROVE_WITH_BONUS, actor_id, milestone_id)
        validate_amount(bonus, self.currency)
        ms.bonus = bonus
        if self.payments is PaymentMode.TELEGRAM:
            # Real money: the bonus is invoiced to the client; the ledger has it once it is paid.
            said: Said = (N_("bonus {amount} invoiced, not paid yet"), {"amount": self.amount(bonus)})
        else:
            self.new_ledger.append(LedgerEntry(LedgerKind.BONUS, bonus, now, milestone=ms, actor_id=actor_id))
            said = (N_("bonus {amount}"), {"amount": self.amount(bonus)})
        self._settle(ms, ms.amount, actor_id, now, "released_with_bonus", said)
        return ms

    # Telegram mode: the bonus's invoice and payment.
    def bonus_payment_refusal(
        self, payer_id: int, milestone_id: int, nonce: str | None, amount: int, currency: str
    ) -> DomainError | None:
        """Why a payment of `amount` `currency` by `payer_id` may not pay the bonus of the milestone, or None:
        a telegram-mode contract, the payer is the client, the milestone was released with a bonus not paid
        yet, amount and currency match, and (pre-checkout, `nonce` given) the invoice is its current one."""
        try:
            ms = self.milestone(milestone_id)
        except NotFound as err:
            return err
        if self.payments is not PaymentMode.TELEGRAM:
            return InvalidState(N_("This contract records the bonus in the ledger; there is no invoice to pay."))
        if payer_id != self.client_id:
            return NotAllowed(N_("Only the client of «{title}» pays its bonus."), title=ms.title)
        if ms.bonus <= 0:  # a bonus is only ever added with the release (approve_with_bonus)
            return InvalidState(N_("«{title}» has no bonus to pay."), title=ms.title)
        if ms.bonus_paid_at is not None:
            return AlreadyDone(N_("The bonus for «{title}» is paid already."), title=ms.title)
        if currency != self.currency:
            return InvalidInput(
                N_("This invoice is in {paid}, but «{title}» is in {currency}."),
                paid=currency,
                title=ms.title,
                currency=self.currency,
            )
        if amount != ms.bonus:
            return InvalidInput(
                N_("This invoice is not for the bonus of «{title}» ({bonus})."),
                title=ms.title,
                bonus=self.amount(ms.bonus),
            )
        if nonce is not None and (not nonce or nonce != ms.bonus_nonce):
            return InvalidState(
                N_("This bonus invoice for «{title}» was replaced by a newer one: pay the newest."), title=ms.title
            )
        return None

    def issue_bonus_invoice(self, actor_id: int, milestone_id: int, nonce: str) -> Milestone:
        """The client's invoice for the bonus not paid yet: the one with `nonce` may pay it (older ones are
        stale from now on)."""
        ms = self.milestone(milestone_id)
        refused = self.bonus_payment_refusal(actor_id, milestone_id, None, ms.bonus, self.currency)
        if refused is not None:
            raise refused
        ms.bonus_nonce = nonce
        return ms

    def apply_bonus_payment(
        self,
        payer_id: int,
        milestone_id: int,
        amount: int,
        currency: str,
        charge_id: str,
        provider_charge_id: str,
        now: datetime,
    ) -> DomainError | None:
        """A successful bonus payment: recorded as the bonus (a payout owed to the freelancer) if the bonus
        is still unpaid (whichever of its invoices it paid), else unapplied, owed back to the payer."""
        ms = self.milestone(milestone_id)
        refused = self.bonus_payment_refusal(payer_id, milestone_id, None, amount, currency)
        entry = LedgerEntry(
            LedgerKind.UNAPPLIED if refused is not None else LedgerKind.BONUS,
            amount,
            now,
            milestone=ms,
            actor_id=payer_id,
            charge_id=charge_id,
            provider_charge_id=provider_charge_id,
        )
        self.new_ledger.append(entry)
        if refused is not None:
            self._log("payment_unapplied", payer_id, now, ms, said=(refused.msgid, refused.params))
            return refused
        ms.bonus_paid_at = now
        ms.bonus_nonce = ""  # single-use: no other invoice pays it now
        said = (N_("bonus {amount}, charge {charge}"), {"amount": self.amount(amount), "charge": charge_id})
        self._log("bonus_paid", payer_id, now, ms, said=said)
        return None

    def propose_due_change(
        self, actor_id: int, milestone_id: int, due_date: date, today: date, now: datetime
    ) -> Milestone:
        """Either party proposes a new due date for an active milestone; the other accepts or declines."""
        ms = self._require_ms(Action.PROPOSE_DUE_DATE, actor_id, milestone_id)
        check_due_date(due_date, today)
        if due_date == ms.due_date:
            raise InvalidInput(N_("«{title}» is already due on that date."), title=ms.title)
        ms.due_change_to, ms.due_change_by, ms.due_change_at = due_date, actor_id, now
        self._log("due_date_proposed", actor_id, now, ms, said=_due_change(ms.due_date, due_date))
        return ms

    def accept_due_change(self, actor_id: int, milestone_id: int, now: datetime) -> Milestone:
        ms = self._require_ms(Action.ACCEPT_DUE_DATE, actor_id, milestone_id)
        old, new = ms.due_date, ms.due_change_to
        assert new is not None
        ms.due_date = new
        ms.due_change_to = ms.due_change_by = ms.due_change_at = None
        # The reminders follow the new date: the log marks the milestone for re-planning.
        self._log(
            "due_date_changed",
            actor_id,
            now,
            ms,
            said=_due_change(old, new),
            changes=(FieldChange("due_date", old, new),),
        )
        return ms

    def decline_due_change(self, actor_id: int, milestone_id: int, now: datetime) -> Milestone:
        ms = self._require_ms(Action.DECLINE_DUE_DATE, actor_id, milestone_id)
        proposed = ms.due_change_to
        assert proposed is not None
        ms.due_change_to = ms.due_change_by = ms.due_change_at = None
        self._log("due_date_declined", actor_id, now, ms, said=_due_change(ms.due_date, proposed))
        return ms

    def open_dispute(self, actor_id: int, milestone_id: int, reason: str, now: datetime) -> Milestone:
        """Either party, while the milestone is funded: the automatic release and its reminders stop, and
        the parties exchange settlement offers."""
        ms = self._require_ms(Action.OPEN_DISPUTE, actor_id, milestone_id)
        check_text(reason, Term("reason"), min_len=1, max_len=REASON_MAX)
        ms.dispute_opened_at, ms.dispute_by, ms.dispute_reason = now, actor_id, reason
        ms.dispute_escalated_at = None
        ms.refund_requested_at = None  # the dispute's offers answer that now
        ms.due_change_to = ms.due_change_by = ms.due_change_at = None
        self._clear_offers(ms)
        self._log("dispute_opened", actor_id, now, ms, reason)
        return ms

    def offer_settlement(
        self, actor_id: int, milestone_id: int, amount: int, now: datetime, note: str = ""
    ) -> Milestone:
        ms = self._require_ms(Action.OFFER_SETTLEMENT, actor_id, milestone_id)
        self._offer(ms, actor_id, amount, note, now, "dispute_offer")
        return ms

    def counter_offer(self, actor_id: int, milestone_id: int, amount: int, now: datetime, note: str = "") -> Milestone:
        ms = self._require_ms(Action.COUNTER_OFFER, actor_id, milestone_id)
        self._offer(ms, actor_id, amount, note, now, "dispute_countered")
        return ms

    def accept_offer(self, actor_id: int, milestone_id: int, now: datetime) -> Milestone:
        """The other party's standing offer settles the dispute: its amount released, the rest refunded."""
        ms = self._require_ms(Action.ACCEPT_OFFER, actor_id, milestone_id)
        offer = ms.offer_of(self.require_party(actor_id).other)
        assert offer is not None
        self._settle(ms, offer, actor_id, now, "dispute_settled", self._split_note(ms, offer))
        return ms

    def dispute_deadline(self, ms: Milestone, days: int) -> datetime | None:
        """When an open dispute without agreement goes to the operators (or both are reminded)."""
        if not ms.in_dispute or ms.dispute_opened_at is None:
            return None
        return ms.dispute_opened_at + timedelta(days=days)

    def escalate_dispute(self, milestone_id: int, now: datetime, days: int) -> Milestone:
        """The bot itself: `days` after the dispute was opened without agreement, it goes to the operators."""
        ms = self.milestone(milestone_id)
        if not ms.in_dispute:
            raise InvalidState(N_("«{title}» is not in dispute."), title=ms.title)
        if ms.dispute_escalated_at is not None:
            raise AlreadyDone(N_("The dispute about «{title}» is already with the operators."), title=ms.title)
        deadline = self.dispute_deadline(ms, days)
        assert deadline is not None
        if now < deadline:
            raise InvalidState(N_("The parties of «{title}» still have time to agree."), title=ms.title)
        ms.dispute_escalated_at = now
        self._log("dispute_escalated", None, now, ms)
        return ms

    def decide_dispute(
        self, actor_id: int, milestone_id: int, amount: int, note: str, now: datetime, operators: frozenset[int]
    ) -> Milestone:
        """An operator decides the split of an escalated dispute, with a note both parties read."""
        ms = self.milestone(milestone_id)
        refused = self.operator_refusal(Action.DECIDE_DISPUTE, actor_id, ms, operators)
        if refused is not None:
            raise refused
        check_text(note, Term("note"), min_len=1, max_len=REASON_MAX)
        self._check_split(ms, amount, what=Term("amount to the freelancer"), low=0, high=ms.amount)
        self._settle(ms, amount, actor_id, now, "dispute_decided", self._split_note(ms, amount, note))
        return ms

    def _split_note(self, ms: Milestone, to_freelancer: int, note: str = "") -> Said:
        """A split's history note: "$X to the freelancer, $Y to the client", then the person's note."""
        split = {"to_freelancer": self.amount(to_freelancer), "to_client": self.amount(ms.amount - to_freelancer)}
        if note:
            return N_("{to_freelancer} to the freelancer, {to_client} to the client: {note}"), {**split, "note": note}
        return N_("{to_freelancer} to the freelancer, {to_client} to the client"), split

    def _offer(self, ms: Milestone, actor_id: int, amount: int, note: str, now: datetime, event: str) -> None:
        check_text(note, Term("note"), min_len=0, max_len=REASON_MAX)
        self._check_split(ms, amount, what=Term("amount to the freelancer"), low=0, high=ms.amount)
        if self.require_party(actor_id) is Role.CLIENT:
            ms.client_offer, ms.client_offer_at = amount, now
        else:
            ms.freelancer_offer, ms.freelancer_offer_at = amount, now
        self._log(event, actor_id, now, ms, said=self._split_note(ms, amount, note))

    @staticmethod
    def _clear_offers(ms: Milestone) -> None:
        ms.client_offer = ms.client_offer_at = ms.freelancer_offer = ms.freelancer_offer_at = None

    def _settle(
        self, ms: Milestone, to_freelancer: int, actor_id: int | None, now: datetime, event: str, said: Said
    ) -> None:
        """Close the milestone's escrow exactly: `to_freelancer` released, the rest refunded (either may
        be zero); funded = released + refunded still holds, and the way to the next milestone opens."""
        rest = ms.amount - to_freelancer
        if to_freelancer > 0:
            ms.status = MilestoneStatus.RELEASED
            ms.released_at = now
            ms.auto_released = False
            ms.paid_amount = None if rest == 0 else to_freelancer
            self.new_ledger.append(LedgerEntry(LedgerKind.RELEASE, to_freelancer, now, milestone=ms, actor_id=actor_id))
        else:
            ms.status = MilestoneStatus.REFUNDED
        if rest > 0:
            ms.refunded_at = now
            self.new_ledger.append(LedgerEntry(LedgerKind.REFUND, rest, now, milestone=ms, actor_id=actor_id))
        ms.refund_requested_at = None
        ms.due_change_to = ms.due_change_by = ms.due_change_at = None
        self._clear_offers(ms)
        self._log(event, actor_id, now, ms, said=said)
        self._next_waiting_changed(now)

    # ----- contract actions ----------------------------------------------------------------
    def end(self, actor_id: int, now: datetime) -> list[Milestone]:
        """R9: only with nothing in escrow; what is not funded yet is cancelled."""
        self.require(Action.END, actor_id)
        cancelled = []
        for ms in self.milestones:
            if ms.status in UNFUNDED_STATES:
                ms.status = MilestoneStatus.CANCELLED_AT_END
                cancelled.append(ms)
                self._log("milestone_cancelled", actor_id, now, ms, said=(N_("contract ended"), {}))  # who ended it
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
        ms.due_change_to = ms.due_change_by = ms.due_change_at = None
        self.new_ledger.append(LedgerEntry(LedgerKind.RELEASE, ms.amount, now, milestone=ms, actor_id=actor_id))
        self._log("auto_released" if automatic else "released", actor_id, now, ms)

    def _refund(self, ms: Milestone, actor_id: int, now: datetime, action: str) -> None:
        ms.status = MilestoneStatus.REFUNDED
        ms.refunded_at = now
        ms.refund_requested_at = None
        ms.due_change_to = ms.due_change_by = ms.due_change_at = None
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
        said: Said | None = None,
    ) -> None:
        """One history entry; its note is a person's own text (`note`, kept as written) or a sentence of
        ours (`said`, stored in English as the note too, translated where it is shown)."""
        if ms is not None:
            ms.next_reminder_at = now
        self.new_history.append(
            HistoryEntry(
                action=action,
                at=now,
                actor_id=actor_id,
                note=english(said) if said is not None else note,
                milestone=ms,
                milestone_title=ms.title if ms else "",
                changes=changes,
                said=said,
            )
        )


def _due_change(old: date, new: date) -> Said:
    """A due date's history note: "2026-12-01 → 2026-12-05" (each date in the reader's format)."""
    return _DUE_CHANGE, {"old": Day(old.isoformat()), "new": Day(new.isoformat())}
