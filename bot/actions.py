"""The bot's one row per action: button, confirmation, answer, news for the other party, history label.

Which actions a person may use is the domain's answer (`Contract.allowed_actions`); this table only
says how each looks. In labels: {t} / {t20} the milestone's title shortened for a button, {as_proposal}
" (proposal)" for a freelancer. In news: {who} the actor, {m} the milestone, {c} the contract, {amt} the
amount, {due} the due date (all escaped). In a confirmation also {title} the contract's title and {other}
the other party's name; in `turn` (the card's "Waiting for Ann to fund «Design»") {m}."""

from __future__ import annotations

from dataclasses import dataclass

from domain.actions import RULES, Action


@dataclass(frozen=True)
class ActionView:
    code: str  # in callback_data; stable, so buttons already in chats keep working
    label: str
    result: str  # the answer to the press (a toast)
    event: str  # the history entry the action writes
    history: str  # how the history names it
    news: str  # what the other party (and a linked group) is told
    row: str = ""  # buttons with the same row (and milestone) share a line
    confirm: str | None = None  # asked before it happens, with a confirm_label button and Back
    confirm_label: str = ""
    asks_text: bool = False  # the press opens a conversation step (a note, a reason, a form)
    primary: bool = True  # also on news and on a group's card (not only on the person's own card)
    in_group: bool = True  # pressable in a group by the party it belongs to
    paged: bool = False  # on the card only for the milestones of the page shown
    only_beside: Action | None = None  # off the person's own card, shown only next to this action
    turn: str = ""  # the move it names, when it is the first of what a contract waits for (domain/moves.py)


ACTIONS: dict[Action, ActionView] = {
    Action.ACTIVATE: ActionView(
        "act",
        "Activate & fund «{t}»",
        "Activated and funded. The freelancer is told.",
        "activated",
        "activated & funded",
        "🟢 {who} activated and funded {m} ({amt}) in {c}. You can start work; submit it when it's ready.",
        turn="fund {m}",
    ),
    Action.APPROVE: ActionView(
        "apr",
        "Approve & release «{t}»",
        "Approved: the payment is released.",
        "released",
        "approved & released",
        "✅ {who} approved {m} and released {amt} in {c}.",
        confirm="Release {amt} to {other} for {m}?",
        confirm_label="Release",
        turn="review {m}: approve &amp; release, or request changes",
    ),
    Action.REQUEST_CHANGES: ActionView(
        "chg",
        "Request changes",
        "Sent back for changes.",
        "changes_requested",
        "requested changes to",
        "🔁 {who} requested changes to {m} in {c}.",
        asks_text=True,
    ),
    Action.REQUEST_REFUND: ActionView(
        "rrq",
        "Request refund of «{t}»",
        "Refund requested: the freelancer is asked to accept it.",
        "refund_requested",
        "requested a refund of",
        "↩️ {who} requests a refund of {m} ({amt}) in {c}. Accept or decline it.",
        confirm="Ask {other} to refund {amt} for {m}?",
        confirm_label="Request refund",
        in_group=False,
    ),
    Action.ACCEPT_PROPOSAL: ActionView(
        "acc",
        "Accept proposal «{t}»",
        "Proposal accepted: it joins the order.",
        "proposal_accepted",
        "accepted the proposal",
        "✅ {who} accepted your proposal {m} in {c}.",
        row="proposal",
        turn="accept or reject the proposal {m}",
    ),
    Action.REJECT_PROPOSAL: ActionView(
        "rej",
        "Reject",
        "Proposal rejected.",
        "proposal_rejected",
        "rejected the proposal",
        "✖️ {who} rejected your proposal {m} in {c}.",
        row="proposal",
    ),
    Action.WITHDRAW_PROPOSAL: ActionView(
        "wdr",
        "Withdraw proposal «{t}»",
        "Proposal withdrawn.",
        "proposal_withdrawn",
        "withdrew the proposal",
        "↩️ {who} withdrew the proposal {m} in {c}.",
        in_group=False,
    ),
    Action.SUBMIT: ActionView(
        "sub",
        "Submit work «{t}»",
        "Submitted.",
        "submitted",
        "submitted work for",
        "📤 {who} submitted work for {m} ({amt}) in {c}. Approve &amp; release the payment, or request changes.",
        asks_text=True,
        turn="submit work for {m}",
    ),
    Action.ACCEPT_REFUND: ActionView(
        "rya",
        "Accept refund",
        "Refund accepted.",
        "refund_accepted",
        "accepted the refund of",
        "↩️ {who} accepted the refund of {m} ({amt}) in {c}.",
        row="refund_answer",
        turn="accept or decline the refund of {m}",
    ),
    Action.DECLINE_REFUND: ActionView(
        "ryn",
        "Decline refund",
        "Refund declined.",
        "refund_declined",
        "declined the refund of",
        "{who} declined the refund of {m} in {c}.",
        row="refund_answer",
    ),
    Action.REFUND: ActionView(
        "rfd",
        "Refund «{t}»",
        "Refunded.",
        "refunded",
        "refunded",
        "↩️ {who} refunded {m} ({amt}) in {c}.",
        confirm="Refund {amt} to {other} for {m}?",
        confirm_label="Refund",
        in_group=False,
    ),
    Action.KEEP_OPEN: ActionView(
        "keep",
        "Keep contract open",
        "The contract stays open: add the next milestone when you're ready.",
        "kept_open",
        "kept the contract open",
        "{who} keeps {c} open for more milestones.",
        row="close",
        turn="keep the contract open or end it",
    ),
    Action.NEW_INVITE: ActionView(
        "invl", "New invite link", "Here is a new invite link.", "", "", "", primary=False, in_group=False
    ),
    Action.EDIT: ActionView(
        "edt",
        "Edit «{t20}»",
        "",
        "milestone_edited",
        "edited",
        "✏️ {who} edited milestone {m} in {c}.",
        row="edit",
        asks_text=True,
        primary=False,
        in_group=False,
        paged=True,
    ),
    Action.DELETE: ActionView(
        "del",
        "Delete",
        "Milestone deleted.",
        "milestone_deleted",
        "deleted",
        "🗑 {who} deleted milestone {m} from {c}.",
        row="edit",
        primary=False,
        in_group=False,
        paged=True,
    ),
    Action.ADD_MILESTONE: ActionView(
        "add",
        "Add milestone{as_proposal}",
        "Saved.",
        "milestone_added",
        "added",
        "➕ {who} added milestone {m} ({amt}, due {due}) to {c}.",
        asks_text=True,
        primary=False,
        in_group=False,
        turn="add a milestone",
    ),
    Action.END: ActionView(
        "end",
        "End contract",
        "The contract is ended.",
        "contract_ended",
        "ended the contract",
        "🏁 {who} ended {c}.",
        row="close",
        confirm="End <b>{title}</b>? Milestones not funded yet are cancelled and the contract accepts no more actions.",
        confirm_label="End contract now",
        only_beside=Action.KEEP_OPEN,
    ),
}

assert set(ACTIONS) == set(RULES), "every domain action has its row here"

# Events that are not a person's action from the table, or a second outcome of one.
EVENTS: dict[str, tuple[str, str]] = {  # event: (history label, news)
    "contract_created": ("created the contract", ""),
    "joined": ("joined", "🤝 {who} accepted the invite: {c} is active."),
    "invite_declined": ("declined the invite", "{who} declined the invite to {c}."),
    "milestone_proposed": (
        "proposed",
        "💡 {who} proposes milestone {m} ({amt}, due {due}) in {c}. Accept it to add it to the order, or reject it.",
    ),
    "milestone_cancelled": ("cancelled", ""),
    "auto_released": (
        "released automatically (review period over)",
        "✅ The review period of {m} in {c} ended, so {amt} was released automatically.",
    ),
    "group_linked": ("linked a group chat", "🔗 {who} linked {c} to a group chat."),
    "group_unlinked": ("unlinked the group chat", ""),
    **{v.event: (v.history, v.news) for v in ACTIONS.values() if v.event},
}
