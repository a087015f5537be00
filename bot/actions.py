"""The bot's one row per action: button, confirmation, answer, news for the other party, history label.

Which actions a person may use is the domain's answer (`Contract.allowed_actions`); this table only
says how each looks. In labels: {t} / {t20} the milestone's title shortened for a button, {as_proposal}
" (proposal)" for a freelancer. In news: {who} the actor, {m} the milestone, {c} the contract, {amt} the
amount, {due} the due date (all escaped). In a confirmation also {title} the contract's title and {other}
the other party's name; in `turn` (the card's "Waiting for Ann to fund «Design»") {m}.

The texts are message ids (marked `N_`), in English; `said(view.label)` (or `result_text`, `event_label`,
`event_news` below) gives them in the language spoken now, to be filled in with `.format(...)`."""

from __future__ import annotations

from dataclasses import dataclass

from domain.actions import RULES, Action

from .i18n import N_, _


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
        N_("Activate & fund «{t}»"),
        N_("Activated; funding recorded (the bot holds no money). The freelancer is told."),
        "activated",
        N_("activated & recorded as funded"),
        N_(
            "🟢 {who} activated and funded {m} ({amt}) in {c}, as recorded in the ledger: the bot holds no money, "
            "the client pays you directly on release. You can start work; submit it when it's ready."
        ),
        turn=N_("fund {m}"),
    ),
    Action.APPROVE: ActionView(
        "apr",
        N_("Approve & release «{t}»"),
        N_("Approved: the release is recorded. Pay the freelancer directly; they confirm when it arrives."),
        "released",
        N_("approved & recorded the release of"),
        N_(
            "✅ {who} approved {m} and released {amt} in {c}, as recorded in the ledger: {who} pays you directly. "
            "Tap <b>Payment received</b> once the money is with you, or <b>Not received</b>."
        ),
        confirm=N_("Release {amt} to {other} for {m}?"),
        confirm_label=N_("Release"),
        turn=N_("review {m}: approve &amp; release, or request changes"),
    ),
    Action.REQUEST_CHANGES: ActionView(
        "chg",
        N_("Request changes"),
        N_("Sent back for changes."),
        "changes_requested",
        N_("requested changes to"),
        N_("🔁 {who} requested changes to {m} in {c}."),
        asks_text=True,
    ),
    Action.REQUEST_REFUND: ActionView(
        "rrq",
        N_("Request refund of «{t}»"),
        N_("Refund requested: the freelancer is asked to accept it."),
        "refund_requested",
        N_("requested a refund of"),
        N_("↩️ {who} requests a refund of {m} ({amt}) in {c}. Accept or decline it."),
        confirm=N_("Ask {other} to refund {amt} for {m}?"),
        confirm_label=N_("Request refund"),
        in_group=False,
    ),
    Action.ACCEPT_PROPOSAL: ActionView(
        "acc",
        N_("Accept proposal «{t}»"),
        N_("Proposal accepted: it joins the order."),
        "proposal_accepted",
        N_("accepted the proposal"),
        N_("✅ {who} accepted your proposal {m} in {c}."),
        row="proposal",
        turn=N_("accept or reject the proposal {m}"),
    ),
    Action.REJECT_PROPOSAL: ActionView(
        "rej",
        N_("Reject"),
        N_("Proposal rejected."),
        "proposal_rejected",
        N_("rejected the proposal"),
        N_("✖️ {who} rejected your proposal {m} in {c}."),
        row="proposal",
    ),
    Action.WITHDRAW_PROPOSAL: ActionView(
        "wdr",
        N_("Withdraw proposal «{t}»"),
        N_("Proposal withdrawn."),
        "proposal_withdrawn",
        N_("withdrew the proposal"),
        N_("↩️ {who} withdrew the proposal {m} in {c}."),
        in_group=False,
    ),
    Action.SUBMIT: ActionView(
        "sub",
        N_("Submit work «{t}»"),
        N_("Submitted."),
        "submitted",
        N_("submitted work for"),
        N_("📤 {who} submitted work for {m} ({amt}) in {c}. Approve &amp; release the payment, or request changes."),
        asks_text=True,
        turn=N_("submit work for {m}"),
    ),
    Action.ACCEPT_REFUND: ActionView(
        "rya",
        N_("Accept refund"),
        N_("Refund accepted, as recorded in the ledger (the bot holds no money)."),
        "refund_accepted",
        N_("accepted the refund of"),
        N_("↩️ {who} accepted the refund of {m} ({amt}) in {c}, as recorded in the ledger (the bot holds no money)."),
        row="refund_answer",
        turn=N_("accept or decline the refund of {m}"),
    ),
    Action.DECLINE_REFUND: ActionView(
        "ryn",
        N_("Decline refund"),
        N_("Refund declined."),
        "refund_declined",
        N_("declined the refund of"),
        N_("{who} declined the refund of {m} in {c}."),
        row="refund_answer",
    ),
    Action.REFUND: ActionView(
        "rfd",
        N_("Refund «{t}»"),
        N_("Refunded, as recorded in the ledger (the bot holds no money)."),
        "refunded",
        N_("refunded"),
        N_("↩️ {who} refunded {m} ({amt}) in {c}, as recorded in the ledger (the bot holds no money)."),
        confirm=N_("Refund {amt} to {other} for {m}?"),
        confirm_label=N_("Refund"),
        in_group=False,
    ),
    Action.KEEP_OPEN: ActionView(
        "keep",
        N_("Keep contract open"),
        N_("The contract stays open: add the next milestone when you're ready."),
        "kept_open",
        N_("kept the contract open"),
        N_("{who} keeps {c} open for more milestones."),
        row="close",
        turn=N_("keep the contract open or end it"),
    ),
    Action.CONFIRM_PAYMENT: ActionView(
        "pyok",
        N_("Payment received «{t20}»"),
        N_("Recorded: you received the payment."),
        "payment_confirmed",
        N_("confirmed receiving the payment for"),
        N_("💵 {who} confirmed receiving your payment of {amt} for {m} in {c}."),
        row="payment_answer",
        confirm=N_("Confirm that {other} paid you {amt} for {m}?"),
        confirm_label=N_("Yes, I received it"),
        in_group=False,
    ),
    Action.PAYMENT_NOT_RECEIVED: ActionView(
        "pyno",
        N_("Not received"),
        N_("Flagged: the client is told the payment hasn't arrived."),
        "payment_not_received",
        N_("flagged as not received: the payment for"),
        N_(
            "⚠️ {who} has not received your payment of {amt} for {m} in {c}. The milestone is flagged until "
            "they confirm it arrived."
        ),
        row="payment_answer",
        confirm=N_("Tell {other} that the {amt} for {m} has not arrived?"),
        confirm_label=N_("Not received"),
        in_group=False,
    ),
    # ----- disagreements (PRODUCT §8); the flows are in bot/flows/disagree.py ---------------------------
    Action.PAY_LESS: ActionView(
        "pless",
        N_("Pay less…"),
        N_("Released less, as recorded in the ledger: pay the freelancer the part released directly."),
        "released_less",
        N_("approved and released less for"),
        N_(
            "✅ {who} approved {m} in {c} but released less than {amt}, as recorded in the ledger: {who} pays you "
            "the part released directly."
        ),
        row="review_more",
        # Asked at the end of the flow, with the amounts: {paid} released, {rest} refunded, {reason}.
        confirm=N_(
            "Release {paid} (of {amt}) to {other} for {m} and refund {rest} to you? Both are recorded in the "
            "ledger: you pay {other} the {paid} directly."
        ),
        confirm_label=N_("Release less"),
        asks_text=True,
        primary=False,
        in_group=False,
    ),
    Action.APPROVE_WITH_BONUS: ActionView(
        "bonus",
        N_("Approve + bonus…"),
        N_("Released, with the bonus recorded."),
        "released_with_bonus",
        N_("approved & released with a bonus"),
        N_("🎁 {who} approved {m} and released {amt} in {c}, with a bonus."),
        row="review_more",
        confirm=N_("Release {amt} to {other} for {m} and add a bonus of {bonus}?"),
        confirm_label=N_("Release + bonus"),
        asks_text=True,
        primary=False,
        in_group=False,
    ),
    Action.PROPOSE_DUE_DATE: ActionView(
        "ddate",
        N_("New due date «{t20}»…"),
        N_("Proposed."),
        "due_date_proposed",
        N_("proposed a new due date for"),
        N_("📅 {who} proposes a new due date for {m} in {c}."),
        asks_text=True,
        in_group=False,  # primary: one tap from a due-soon or overdue reminder
        paged=True,
    ),
    Action.ACCEPT_DUE_DATE: ActionView(
        "ddok",
        N_("Accept new date"),
        N_("New due date accepted: reminders follow it."),
        "due_date_changed",
        N_("accepted the new due date of"),
        N_("📅 {who} accepted the new due date of {m} in {c}."),
        row="due_answer",
        turn=N_("answer the new due date proposed for {m}"),
    ),
    Action.DECLINE_DUE_DATE: ActionView(
        "ddno",
        N_("Keep the old date"),
        N_("Declined: the due date stays."),
        "due_date_declined",
        N_("declined the new due date of"),
        N_("📅 {who} declined the new due date of {m} in {c}: it stays due on {due}."),
        row="due_answer",
    ),
    Action.OPEN_DISPUTE: ActionView(
        "disp",
        N_("Open a dispute «{t20}»…"),
        N_("Dispute opened."),
        "dispute_opened",
        N_("opened a dispute about"),
        N_(
            "⚖️ {who} opened a dispute about {m} ({amt}) in {c}. The automatic release is stopped. Make a "
            "settlement offer: an amount to the freelancer, the rest back to the client."
        ),
        asks_text=True,
        primary=False,
        in_group=False,
    ),
    Action.OFFER_SETTLEMENT: ActionView(
        "doff",
        N_("Offer a split «{t20}»…"),
        N_("Offer sent."),
        "dispute_offer",
        N_("offered a settlement of"),
        N_("⚖️ {who} offers to settle {m} ({amt} held) in {c}."),
        asks_text=True,
        in_group=False,
        turn=N_("make a settlement offer for {m}"),
    ),
    Action.ACCEPT_OFFER: ActionView(
        "dacc",
        N_("Accept offer «{t20}»"),
        N_("Settled: the dispute is closed; the split is recorded in the ledger."),
        "dispute_settled",
        N_("accepted the settlement of"),
        N_(
            "🤝 {who} accepted the settlement of {m} in {c}: the dispute is closed; the split is recorded in the "
            "ledger (the client pays the freelancer's part directly)."
        ),
        row="offer_answer",
        confirm=N_("Settle {m}: {paid} to the freelancer, {rest} back to the client, as {other} offered?"),
        confirm_label=N_("Accept and settle"),
        in_group=False,
        turn=N_("accept or counter the settlement offer for {m}"),
    ),
    Action.COUNTER_OFFER: ActionView(
        "dctr",
        N_("Counter-offer…"),
        N_("Counter-offer sent."),
        "dispute_countered",
        N_("made a counter-offer for"),
        N_("⚖️ {who} counters with a settlement of {m} ({amt} held) in {c}."),
        row="offer_answer",
        asks_text=True,
        in_group=False,
    ),
    Action.DECIDE_DISPUTE: ActionView(
        "ddec",
        N_("Decide the split"),
        N_("Decided: the split is recorded in the ledger; both parties are told."),
        "dispute_decided",
        N_("decided the dispute about"),
        N_(
            "⚖️ An operator decided the dispute about {m} in {c}; the split is recorded in the ledger (the client "
            "pays the freelancer's part directly)."
        ),
        confirm=N_("Decide {m}: {paid} to the freelancer, {rest} back to the client?"),
        confirm_label=N_("Decide"),
        asks_text=True,
        primary=False,
        in_group=False,
    ),
    Action.NEW_INVITE: ActionView(
        "invl", N_("New invite link"), N_("Here is a new invite link."), "", "", "", primary=False, in_group=False
    ),
    Action.EDIT: ActionView(
        "edt",
        N_("Edit «{t20}»"),
        "",
        "milestone_edited",
        N_("edited"),
        N_("✏️ {who} edited milestone {m} in {c}."),
        row="edit",
        asks_text=True,
        primary=False,
        in_group=False,
        paged=True,
    ),
    Action.DELETE: ActionView(
        "del",
        N_("Delete"),
        N_("Milestone deleted."),
        "milestone_deleted",
        N_("deleted"),
        N_("🗑 {who} deleted milestone {m} from {c}."),
        row="edit",
        primary=False,
        in_group=False,
        paged=True,
    ),
    Action.ADD_MILESTONE: ActionView(
        "add",
        N_("Add milestone{as_proposal}"),
        N_("Saved."),
        "milestone_added",
        N_("added"),
        N_("➕ {who} added milestone {m} ({amt}, due {due}) to {c}."),
        asks_text=True,
        primary=False,
        in_group=False,
        turn=N_("add a milestone"),
    ),
    Action.END: ActionView(
        "end",
        N_("End contract"),
        N_("The contract is ended."),
        "contract_ended",
        N_("ended the contract"),
        N_("🏁 {who} ended {c}."),
        row="close",
        confirm=N_(
            "End <b>{title}</b>? Milestones not funded yet are cancelled and the contract accepts no more actions."
        ),
        confirm_label=N_("End contract now"),
        only_beside=Action.KEEP_OPEN,
    ),
}

assert set(ACTIONS) == set(RULES), "every domain action has its row here"  # i18n: ok

# Telegram mode says what happens to real money (PRODUCT §7); ledger mode (the default) is the table above.
TELEGRAM_RESULTS: dict[Action, str] = {
    Action.APPROVE: N_("Approved: the escrow agent owes the freelancer the payout and tells them when it is sent."),
    Action.REFUND: N_("Refunded: the money goes back to the client, who is told when it is sent."),
    Action.ACCEPT_REFUND: N_("Refund accepted: the money goes back to the client, who is told when it is sent."),
    Action.APPROVE_WITH_BONUS: N_("Released: the bonus is invoiced to you."),
    Action.PAY_LESS: N_("Released less; the rest is refunded."),
    Action.ACCEPT_OFFER: N_("Settled: the dispute is closed."),
    Action.DECIDE_DISPUTE: N_("Decided: both parties are told."),
}
TELEGRAM_CONFIRMS: dict[Action, str] = {
    Action.PAY_LESS: N_("Release {paid} (of {amt}) to {other} for {m} and refund {rest} to you?"),
}
TELEGRAM_NEWS: dict[str, str] = {
    "released": N_(
        "✅ {who} approved {m} and released {amt} in {c}. The escrow agent pays it out to you; "
        "you'll be told when it is sent."
    ),
    "auto_released": N_(
        "✅ The review period of {m} in {c} ended, so {amt} was released automatically. The "
        "escrow agent pays it out to the freelancer."
    ),
    "refunded": N_("↩️ {who} refunded {m} ({amt}) in {c}. The money goes back to you; you'll be told when it is sent."),
    "refund_accepted": N_(
        "↩️ {who} accepted the refund of {m} ({amt}) in {c}. The money goes back to you; you'll be told when it is sent."
    ),
    "released_with_bonus": N_(
        "🎁 {who} approved {m} and released {amt} in {c}, with a bonus invoiced to them (not "
        "paid yet). The escrow agent pays the release out to you, and the bonus once it is paid."
    ),
    "released_less": N_("✅ {who} approved {m} in {c} but released less than {amt}."),
    "dispute_settled": N_("🤝 {who} accepted the settlement of {m} in {c}: the dispute is closed."),
    "dispute_decided": N_("⚖️ An operator decided the dispute about {m} in {c}."),
}

# Events that are not a person's action from the table, or a second outcome of one.
EVENTS: dict[str, tuple[str, str]] = {  # event: (history label, news)
    "contract_created": (N_("created the contract"), ""),
    "joined": (N_("joined"), N_("🤝 {who} accepted the invite: {c} is active.")),
    "invite_declined": (N_("declined the invite"), N_("{who} declined the invite to {c}.")),
    "milestone_proposed": (
        N_("proposed"),
        N_(
            "💡 {who} proposes milestone {m} ({amt}, due {due}) in {c}. Accept it to add it to the order, or reject it."
        ),
    ),
    "milestone_cancelled": (N_("cancelled"), ""),
    "auto_released": (
        N_("released automatically (review period over)"),
        N_(
            "✅ The review period of {m} in {c} ended, so {amt} was released automatically, as recorded in the "
            "ledger: the client pays the freelancer directly."
        ),
    ),
    # Telegram mode (PRODUCT §7): real money, held by the bot's owner as escrow agent.
    "paid_and_funded": (
        N_("paid the invoice and funded"),
        N_(
            "🟢 {who} paid {amt} for {m} in {c}: the money is held in escrow. You can start work; submit it when "
            "it's ready."
        ),
    ),
    "payment_unapplied": (N_("paid an invoice that could not be applied (refunded) for"), ""),
    "bonus_paid": (N_("paid the bonus invoice for"), ""),
    "payout_sent": (N_("sent the payout for"), N_("💸 The payout of {amt} for {m} in {c} was sent to you.")),
    "refund_sent": (N_("sent the refund for"), N_("💸 The refund of {amt} for {m} in {c} was sent to you.")),
    "dispute_escalated": (
        N_("sent the dispute to the operators"),
        N_("⚖️ No agreement on {m} in {c} within the dispute period: an operator now decides the split."),
    ),
    "group_linked": (N_("linked a group chat"), N_("🔗 {who} linked {c} to a group chat.")),
    "group_unlinked": (N_("unlinked the group chat"), ""),
    **{v.event: (v.history, v.news) for v in ACTIONS.values() if v.event},
}


def said(text: str | None) -> str:
    """A text of these tables in the language spoken now; an empty one stays empty (gettext would answer
    "" with its catalog's header)."""
    return _(text) if text else ""


def result_text(action: Action, telegram: bool = False) -> str:
    """The answer to a press (a toast), translated; in Telegram mode what happens to the real money."""
    view = ACTIONS[action]
    return said(TELEGRAM_RESULTS.get(action, view.result) if telegram else view.result)


def confirm_text(action: Action, telegram: bool = False) -> str | None:
    """The question an action asks first, as a message id (translated by `texts.confirmation`); in Telegram
    mode its own wording where it has one."""
    view = ACTIONS[action]
    return TELEGRAM_CONFIRMS.get(action, view.confirm) if telegram else view.confirm


def event_label(event: str) -> str:
    """How the history names an event, translated (an unknown one: its code, in words)."""
    return said(EVENTS[event][0]) if event in EVENTS else event.replace("_", " ")


def event_news(event: str, telegram: bool = False) -> str:
    """The news of an event for the other party, translated, to fill in ({who} {m} {c} {amt} {due});
    "" when the event has none."""
    news = EVENTS[event][1] if event in EVENTS else ""
    if telegram:
        news = TELEGRAM_NEWS.get(event, news)
    return said(news)
