"""Message texts: the contract card, notifications and history, with every user string escaped."""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo
from html import escape, unescape

from domain.model import Contract, HistoryEntry, Milestone, MilestoneStatus, Role
from domain.money import format_money

from .actions import EVENTS

MAX_MESSAGE = 4096
CARD_PAGE_SIZE = 10
HISTORY_PAGE_SIZE = 15

STATUS_LABEL = {
    MilestoneStatus.PROPOSED: "💡 proposed",
    MilestoneStatus.NOT_FUNDED: "⚪ not funded",
    MilestoneStatus.ACTIVE: "🟢 active (funded)",
    MilestoneStatus.SUBMITTED: "📤 submitted",
    MilestoneStatus.RELEASED: "✅ released",
    MilestoneStatus.REFUNDED: "↩️ refunded",
    MilestoneStatus.REJECTED: "✖️ rejected",
    MilestoneStatus.CANCELLED: "🗑 deleted",
}

HELP = (
    "<b>Milestone bot</b> runs a fixed-price contract milestone by milestone, as on Upwork.\n\n"
    "• /newcontract — start a contract as the client or the freelancer and invite the other party\n"
    "• /contracts — your contracts; open one to see its card and buttons\n"
    "• /addmilestone — add a milestone (a freelancer's becomes a proposal for the client)\n"
    "• /milestones — the card of a contract\n"
    "• /settings — your time zone and quiet hours for reminders\n"
    "• /cancel — leave what you are doing; nothing is saved\n"
    "• /link — in a group: post a contract's news there too\n\n"
    "Milestones are funded strictly in the order they were created, one at a time: the funded one "
    "is released (or refunded) before the next is activated. The client has {review_days} days to "
    "review submitted work; after that it is released automatically."
)

WELCOME = (
    "👋 Hi {name}! I keep a fixed-price contract between a client and a freelancer on track.\n"
    "Add milestones, fund them one by one in order, submit work, approve and release.\n"
    "I remind you before due dates and keep the escrow ledger straight."
)


def e(text: object) -> str:
    """Escape user text for Telegram HTML (quotes too, so it is safe inside attributes)."""
    return escape(str(text), quote=True)


def money(amount: int, currency: str) -> str:
    return e(format_money(amount, currency))


def fmt_date(d: date) -> str:
    return d.strftime("%a %d %b %Y")


def fmt_time(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%d %b %Y %H:%M")


def short(text: str, limit: int = 24) -> str:
    """A title shortened for a button label (labels are plain text, not HTML)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def milestone_line(contract: Contract, ms: Milestone, number: int | str) -> str:
    line = (
        f"{number}. <b>{e(ms.title)}</b> — {money(ms.amount, contract.currency)} · due {fmt_date(ms.due_date)}\n"
        f"    {STATUS_LABEL[ms.status]}"
    )
    if ms.revision_count:
        line += f" · revisions: {ms.revision_count}"
    if ms.refund_requested_at is not None:
        line += " · refund requested"
    return line


def card_milestones(contract: Contract) -> list[tuple[str, Milestone]]:
    """Milestones as the card lists them: the order first, then open proposals, then the rest."""
    rows: list[tuple[str, Milestone]] = []
    n = 0
    for ms in contract.ordered():
        if ms.status is MilestoneStatus.CANCELLED:
            continue
        n += 1
        rows.append((str(n), ms))
    for ms in contract.proposals():
        rows.append(("💡", ms))
    return rows


def card_pages(contract: Contract) -> int:
    return max(1, -(-len(card_milestones(contract)) // CARD_PAGE_SIZE))


def card_text(contract: Contract, viewer: Role | None, names: dict[int, str], page: int = 0) -> str:
    t = contract.totals()
    cur = contract.currency
    you = f"you are the {viewer.value}" if viewer else "group view"
    client = names.get(contract.client_id or 0, "—")
    freelancer = names.get(contract.freelancer_id or 0, "—")
    head = [
        f"📄 <b>{e(contract.title)}</b> ({e(cur)}) — {you}",
        f"Client: {e(client)} · Freelancer: {e(freelancer)}",
        f"Status: {contract.status.value}",
        "",
    ]
    rows = card_milestones(contract)
    pages = card_pages(contract)
    page = min(max(page, 0), pages - 1)
    body = [milestone_line(contract, ms, num) for num, ms in rows[page * CARD_PAGE_SIZE : (page + 1) * CARD_PAGE_SIZE]]
    if not rows:
        body = ["No milestones yet. Add the first one with <b>Add milestone</b>."]
    if pages > 1:
        body.append(f"(page {page + 1} of {pages})")
    foot = [
        "",
        f"💰 Funded {money(t.funded, cur)} · In escrow {money(t.in_escrow, cur)}",
        f"Released {money(t.released, cur)} · Refunded {money(t.refunded, cur)} · Remaining {money(t.remaining, cur)}",
    ]
    funded = contract.funded_milestone()
    if funded and funded.status is MilestoneStatus.SUBMITTED:
        due = contract.auto_release_at(funded)
        if due:
            foot.append(
                f"⏳ «{e(funded.title)}» is released automatically on {due.strftime('%d %b %Y %H:%M')} UTC "
                f"unless the client approves or requests changes."
            )
    if contract.awaiting_close_decision() and viewer is Role.CLIENT:
        foot.append("All milestones are released. Keep the contract open for more work, or end it?")
    return fit("\n".join(head + body + foot))


def milestone_detail(contract: Contract, ms: Milestone) -> str:
    parts = [
        f"<b>{e(ms.title)}</b> — {money(ms.amount, contract.currency)}",
        f"Due {fmt_date(ms.due_date)} · {STATUS_LABEL[ms.status]}",
    ]
    if ms.description:
        parts.append(f"\n{e(ms.description)}")
    if ms.submission_note:
        parts.append(f"\nLast note from the freelancer: {e(ms.submission_note)}")
    if ms.change_reason:
        parts.append(f"\nLast change request: {e(ms.change_reason)}")
    return fit("\n".join(parts))


def history_text(
    contract: Contract, entries: list[HistoryEntry], names: dict[int, str], tz: tzinfo, page: int
) -> tuple[str, int]:
    lines = []
    for h in entries:
        who = "Bot" if h.actor_id is None else names.get(h.actor_id, str(h.actor_id))
        what = EVENTS[h.action][0] if h.action in EVENTS else h.action.replace("_", " ")
        line = f"{fmt_time(h.at, tz)} — {e(who)} {e(what)}"
        if h.milestone_title:
            line += f" «{e(h.milestone_title)}»"
        if h.note:
            note = h.note if len(h.note) <= 150 else h.note[:149] + "…"
            line += f": {e(note)}"
        lines.append(line)
    # Pages end at HISTORY_PAGE_SIZE entries or before the text would pass Telegram's limit (long names,
    # titles and notes): fit() would otherwise drop the last entries of a page, and nobody would see them.
    chunks: list[list[str]] = [[]]
    size = 0
    budget = MAX_MESSAGE - 300  # the heading: a title of up to 100 characters and the page numbers
    for line in lines:
        length = plain_length(line) + 1
        if chunks[-1] and (len(chunks[-1]) >= HISTORY_PAGE_SIZE or size + length > budget):
            chunks.append([])
            size = 0
        chunks[-1].append(line)
        size += length
    pages = len(chunks)
    page = min(max(page, 0), pages - 1)
    head = [f"🕓 <b>History of {e(contract.title)}</b> (page {page + 1} of {pages})", ""]
    return fit("\n".join(head + chunks[page])), pages


def plain_text(html_text: str) -> str:
    """The text as Telegram shows it: tags removed, entities decoded."""
    return unescape(re.sub(r"<[^>]*>", "", html_text))


def plain_length(html_text: str) -> int:
    """Length as Telegram counts it: after parsing the HTML, in UTF-16 code units."""
    return len(plain_text(html_text).encode("utf-16-le")) // 2


def fit(text: str) -> str:
    """Last guard for Telegram's 4,096-character limit (pages keep real content well below it)."""
    if plain_length(text) <= MAX_MESSAGE:
        return text
    lines = text.split("\n")
    # Drop whole lines from the end: never cut inside a tag or an entity.
    while lines and plain_length("\n".join(lines) + "\n…") > MAX_MESSAGE:
        lines.pop()
    return "\n".join(lines) + "\n…"


def notification(event: str, contract: Contract, ms: Milestone | None, actor: str) -> str:
    """The sentence the other party (and a linked group) gets after a change."""
    c = f"«{e(contract.title)}»"
    news = EVENTS[event][1] if event in EVENTS else ""
    if not news:
        return fit(f"{e(actor)}: {e(event.replace('_', ' '))} in {c}.")
    text = news.format(
        who=e(actor),
        c=c,
        m=f"«{e(ms.title)}»" if ms else "",
        amt=money(ms.amount, contract.currency) if ms else "",
        due=fmt_date(ms.due_date) if ms else "",
    )
    if ms is not None and event == "changes_requested" and ms.change_reason:
        text += f"\nReason: {e(ms.change_reason)}"
    if ms is not None and event == "submitted" and ms.submission_note:
        text += f"\nNote: {e(ms.submission_note)}"
    # The card lists no descriptions: the other party reads the work to do here.
    if ms is not None and event in ("milestone_added", "milestone_proposed", "activated") and ms.description:
        text += f"\nDescription: {e(ms.description)}"
    return fit(text)
