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
        "Activated; funding recorded (the bot holds no money). The freelancer is told.",
        "activated",
        "activated & recorded as funded",
        "🟢 {who} activated and funded {m} ({amt}) in {c}, as recorded in the ledger: the bot holds no money, "
        "the client pays you directly on release. You can start work; submit it when it's ready.",
        turn="fund {m}",
    ),
    Action.APPROVE: ActionView(
        "apr",
        "Approve & release «{t}»",
        "Approved: the release is recorded. Pay the freelancer directly; they confirm when it arrives.",
        "released",
        "approved & recorded the release of",
        "✅ {who} approved {m} and released {amt} in {c}, as recorded in the ledger: {who} pays you directly. "
        "Tap <b>Payment received</b> once the money is with you, or <b>Not received</b>.",
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
    Action.CONFIRM_PAYMENT: ActionView(
        "pyok",
        "Payment received «{t20}»",
        "Recorded: you received the payment.",
        "payment_confirmed",
        "confirmed receiving the payment for",
        "💵 {who} confirmed receiving your payment of {amt} for {m} in {c}.",
        row="payment_answer",
        confirm="Confirm that {other} paid you {amt} for {m}?",
        confirm_label="Yes, I received it",
        in_group=False,
    ),
    Action.PAYMENT_NOT_RECEIVED: ActionView(
        "pyno",
        "Not received",
        "Flagged: the client is told the payment hasn't arrived.",
        "payment_not_received",
        "flagged as not received: the payment for",
        "⚠️ {who} has not received your payment of {amt} for {m} in {c}. The milestone is flagged until "
        "they confirm it arrived.",
        row="payment_answer",
        confirm="Tell {other} that the {amt} for {m} has not arrived?",
        confirm_label="Not received",
        in_group=False,
    ),
    # ----- disagreements (PRODUCT §8); the flows are in bot/flows/disagree.py ---------------------------
    Action.PAY_LESS: ActionView(
        "pless",
        "Pay less…",
        "Released less; the rest is refunded.",
        "released_less",
        "approved and released less for",
        "✅ {who} approved {m} in {c} but released less than {amt}.",
        row="review_more",
        # Asked at the end of the flow, with the amounts: {paid} released, {rest} refunded, {reason}.
        confirm="Release {paid} (of {amt}) to {other} for {m} and refund {rest} to you?",
        confirm_label="Release less",
        asks_text=True,
        primary=False,
        in_group=False,
    ),
    Action.APPROVE_WITH_BONUS: ActionView(
        "bonus",
        "Approve + bonus…",
        "Released, with the bonus recorded.",
        "released_with_bonus",
        "approved & released with a bonus",
        "🎁 {who} approved {m} and released {amt} in {c}, with a bonus.",
        row="review_more",
        confirm="Release {amt} to {other} for {m} and add a bonus of {bonus}?",
        confirm_label="Release + bonus",
        asks_text=True,
        primary=False,
        in_group=False,
    ),
    Action.PROPOSE_DUE_DATE: ActionView(
        "ddate",
        "New due date «{t20}»…",
        "Proposed.",
        "due_date_proposed",
        "proposed a new due date for",
        "📅 {who} proposes a new due date for {m} in {c}.",
        asks_text=True,
        in_group=False,  # primary: one tap from a due-soon or overdue reminder
        paged=True,
    ),
    Action.ACCEPT_DUE_DATE: ActionView(
        "ddok",
        "Accept new date",
        "New due date accepted: reminders follow it.",
        "due_date_changed",
        "accepted the new due date of",
        "📅 {who} accepted the new due date of {m} in {c}.",
        row="due_answer",
        turn="answer the new due date proposed for {m}",
    ),
    Action.DECLINE_DUE_DATE: ActionView(
        "ddno",
        "Keep the old date",
        "Declined: the due date stays.",
        "due_date_declined",
        "declined the new due date of",
        "📅 {who} declined the new due date of {m} in {c}: it stays due on {due}.",
        row="due_answer",
    ),
    Action.OPEN_DISPUTE: ActionView(
        "disp",
        "Open a dispute «{t20}»…",
        "Dispute opened.",
        "dispute_opened",
        "opened a dispute about",
        "⚖️ {who} opened a dispute about {m} ({amt}) in {c}. The automatic release is stopped. Make a "
        "settlement offer: an amount to the freelancer, the rest back to the client.",
        asks_text=True,
        primary=False,
        in_group=False,
    ),
    Action.OFFER_SETTLEMENT: ActionView(
        "doff",
        "Offer a split «{t20}»…",
        "Offer sent.",
        "dispute_offer",
        "offered a settlement of",
        "⚖️ {who} offers to settle {m} ({amt} held) in {c}.",
        asks_text=True,
        in_group=False,
        turn="make a settlement offer for {m}",
    ),
    Action.ACCEPT_OFFER: ActionView(
        "dacc",
        "Accept offer «{t20}»",
        "Settled: the dispute is closed.",
        "dispute_settled",
        "accepted the settlement of",
        "🤝 {who} accepted the settlement of {m} in {c}: the dispute is closed.",
        row="offer_answer",
        confirm="Settle {m}: {paid} to the freelancer, {rest} back to the client, as {other} offered?",
        confirm_label="Accept and settle",
        in_group=False,
        turn="accept or counter the settlement offer for {m}",
    ),
    Action.COUNTER_OFFER: ActionView(
        "dctr",
        "Counter-offer…",
        "Counter-offer sent.",
        "dispute_countered",
        "made a counter-offer for",
        "⚖️ {who} counters with a settlement of {m} ({amt} held) in {c}.",
        row="offer_answer",
        asks_text=True,
        in_group=False,
    ),
    Action.DECIDE_DISPUTE: ActionView(
        "ddec",
        "Decide the split",
        "Decided: both parties are told.",
        "dispute_decided",
        "decided the dispute about",
        "⚖️ An operator decided the dispute about {m} in {c}.",
        confirm="Decide {m}: {paid} to the freelancer, {rest} back to the client?",
        confirm_label="Decide",
        asks_text=True,
        primary=False,
        in_group=False,
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

# Telegram mode says what happens to real money (PRODUCT §7); ledger mode (the default) is the table above.
TELEGRAM_RESULTS: dict[Action, str] = {
    Action.APPROVE: "Approved: the escrow agent owes the freelancer the payout and tells them when it is sent.",
    Action.REFUND: "Refunded: the money goes back to the client, who is told when it is sent.",
    Action.ACCEPT_REFUND: "Refund accepted: the money goes back to the client, who is told when it is sent.",
    Action.APPROVE_WITH_BONUS: "Released: the bonus is invoiced to you.",
}
TELEGRAM_NEWS: dict[str, str] = {
    "released": "✅ {who} approved {m} and released {amt} in {c}. The escrow agent pays it out to you; "
    "you'll be told when it is sent.",
    "auto_released": "✅ The review period of {m} in {c} ended, so {amt} was released automatically. The "
    "escrow agent pays it out to the freelancer.",
    "refunded": "↩️ {who} refunded {m} ({amt}) in {c}. The money goes back to you; you'll be told when it is sent.",
    "refund_accepted": "↩️ {who} accepted the refund of {m} ({amt}) in {c}. The money goes back to you; you'll "
    "be told when it is sent.",
    "released_with_bonus": "🎁 {who} approved {m} and released {amt} in {c}, with a bonus invoiced to them (not "
    "paid yet). The escrow agent pays the release out to you, and the bonus once it is paid.",
}

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
        "✅ The review period of {m} in {c} ended, so {amt} was released automatically, as recorded in the "
        "ledger: the client pays the freelancer directly.",
    ),
    # Telegram mode (PRODUCT §7): real money, held by the bot's owner as escrow agent.
    "paid_and_funded": (
        "paid the invoice and funded",
        "🟢 {who} paid {amt} for {m} in {c}: the money is held in escrow. You can start work; submit it when "
        "it's ready.",
    ),
    "payment_unapplied": ("paid an invoice that could not be applied (refunded) for", ""),
    "bonus_paid": ("paid the bonus invoice for", ""),
    "payout_sent": ("sent the payout for", "💸 The payout of {amt} for {m} in {c} was sent to you."),
    "refund_sent": ("sent the refund for", "💸 The refund of {amt} for {m} in {c} was sent to you."),
    "dispute_escalated": (
        "sent the dispute to the operators",
        "⚖️ No agreement on {m} in {c} within the dispute period: an operator now decides the split.",
    ),
    "group_linked": ("linked a group chat", "🔗 {who} linked {c} to a group chat."),
    "group_unlinked": ("unlinked the group chat", ""),
    **{v.event: (v.history, v.news) for v in ACTIONS.values() if v.event},
}
