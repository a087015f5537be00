"""Message texts: the contract card, notifications and history, with every user string escaped."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from html import escape, unescape

from domain.model import (
    Contract,
    FieldChange,
    HistoryEntry,
    Milestone,
    MilestoneStatus,
    PaymentMode,
    Role,
    SubmittedFile,
)
from domain.money import format_money
from domain.moves import whose_move
from domain.reminders import ReminderSettings
from domain.zones import offset_name

from .actions import ACTIONS, EVENTS, TELEGRAM_NEWS

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
    MilestoneStatus.CANCELLED_AT_END: "⛔ cancelled (contract ended)",
}

HELP = (
    "<b>Milestone bot</b> runs a fixed-price contract milestone by milestone, as on Upwork.\n\n"
    "<b>Who does what</b>\n"
    "• Client: adds milestones, funds them one by one (<i>Activate &amp; fund</i>), approves and releases "
    "the payment or requests changes, and ends the contract.\n"
    "• Freelancer: submits work for the funded milestone, may propose milestones (the client accepts or "
    "rejects them) and may refund.\n"
    "Either of you can start a contract and invite the other.\n\n"
    "<b>Money</b>\n{money_mode}\n\n"
    "<b>The order</b>\n"
    "Milestones are funded strictly in the order they were created, one at a time: the funded one "
    "is released (or refunded) before the next is activated. The client has {review_days} days to "
    "review submitted work; after that it is released automatically.\n\n"
    "<b>Refunds</b>\n"
    "The freelancer can refund a funded milestone at once. The client can request a refund, which the "
    "freelancer accepts or declines. A refund frees the way for the next milestone.\n\n"
    "<b>Reminders</b> (those about due dates at {hour:02d}:00 your time; none in your quiet hours)\n"
    "{reminders}\n\n"
    "<b>Commands</b>\n"
    "• /newcontract — start a contract as the client or the freelancer and invite the other party\n"
    "• /contracts — your contracts; open one to see its card and buttons\n"
    "• /addmilestone — add a milestone (a freelancer's becomes a proposal for the client)\n"
    "• /milestones — the card of a contract\n"
    "• /settings — your time zone and quiet hours for reminders\n"
    "• /cancel — leave what you are doing; nothing is saved\n"
    "• /link — in a group: post a contract's news there too"
)


def _days(values: list[int] | tuple[int, ...]) -> str:
    """(3, 1) -> '3 and 1 days'; (1,) -> '1 day'."""
    words = [str(n) for n in values]
    if len(words) == 1:
        return f"{words[0]} day" + ("" if values[0] == 1 else "s")
    return ", ".join(words[:-1]) + f" and {words[-1]} days"


# One sentence per money mode (PRODUCT §7), in /help and on a contract's first card.
MODE_SENTENCE = {
    PaymentMode.LEDGER: "Ledger mode: the bot holds no money; what you fund and release is only recorded here, "
    "the client pays the freelancer directly, and the freelancer confirms each payment received.",
    PaymentMode.TELEGRAM: "Telegram Payments: the client pays each milestone's invoice in Telegram; the bot's "
    "operator holds the money in escrow and pays it out on release (or back on refund).",
}


def help_text(review_days: int, policy: ReminderSettings, payments: PaymentMode = PaymentMode.LEDGER) -> str:
    """/help: roles, the order rule, refunds and the reminder schedule as the policy has it."""
    review = [n for n in policy.review_days_before if n < review_days]  # as domain.reminders.plan sends them
    lines = [
        f"• Due soon: {_days(policy.due_soon_days)} before the due date (both of you)",
        "• Due today: on the due date (freelancer)",
        f"• Overdue: {_days(policy.overdue_days)} after the due date, while the work is not submitted (both)",
    ]
    if review:
        lines.append(f"• Review waiting: {_days(review)} before the automatic release (client)")
    lines.append(
        f"• Next milestone: {_days(policy.next_waiting_days)} after a release, while the next one "
        "waits to be funded (client)"
    )
    return HELP.format(
        review_days=review_days,
        hour=policy.reminder_hour,
        reminders="\n".join(lines),
        money_mode=e(MODE_SENTENCE[payments]),
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


def zone_label(tz: tzinfo, local: datetime | None = None) -> str:
    """How a zone is named to people: its IANA name ('Europe/Berlin'), 'UTC', or a fixed offset
    ('UTC+03:00'), also for IANA's Etc/GMT±N, whose sign reads backwards (Etc/GMT+2 is UTC-02:00).
    `local`: a moment in `tz` (only a zone without a name needs it). Abbreviations ('CST', 'IST') are
    never used: several zones share each."""
    key = getattr(tz, "key", None)
    if isinstance(key, str) and key and not key.startswith("Etc/"):
        return key
    offset = tz.utcoffset(local if local is not None else datetime(2000, 1, 1, tzinfo=tz))
    return offset_name(offset) if offset else "UTC"


def fmt_time(at: datetime, tz: tzinfo) -> str:
    """THE way the bot shows a moment (card, reminders, news, history, settings): in the viewer's zone
    (a group's: UTC), the zone named: 'Fri 11 Dec 2026, 11:00 (Europe/Berlin)'. A wall time that happens
    twice (the hour the clocks go back) also gets its offset: 'Sun 25 Oct 2026, 02:30 (Europe/Berlin,
    UTC+01:00)'. One function, so a locale-aware one (Babel) can replace it in one place."""
    if at.utcoffset() is None:
        raise ValueError(f"a moment needs a zone: {at!r}")
    local = at.astimezone(tz)
    label = zone_label(tz, local)
    offset = local.utcoffset()
    if offset is not None and local.replace(fold=1 - local.fold).utcoffset() != offset:
        label += f", {offset_name(offset)}"
    return f"{fmt_date(local.date())}, {local:%H:%M} ({label})"


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
    if ms.status is MilestoneStatus.RELEASED and contract.payments is PaymentMode.LEDGER:
        if ms.payment_confirmed_at is not None:
            line += " · 💵 payment received"
        elif ms.payment_flagged_at is not None:
            line += " · ⚠️ payment NOT received (flagged by the freelancer)"
        else:
            line += " · payment not confirmed yet"
    if ms.bonus and contract.payments is PaymentMode.TELEGRAM:
        bonus = money(ms.bonus, contract.currency)
        line += f" · 🎁 bonus {bonus} invoiced, not paid yet" if ms.bonus_invoiced else f" · 🎁 bonus {bonus} paid"
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
    for ms in contract.milestones:  # proposals still open when the contract ended
        if ms.seq is None and ms.status is MilestoneStatus.CANCELLED_AT_END:
            rows.append(("💡", ms))
    return rows


def card_pages(contract: Contract) -> int:
    return max(1, -(-len(card_milestones(contract)) // CARD_PAGE_SIZE))


def card_text(contract: Contract, viewer: Role | None, names: dict[int, str], page: int = 0, tz: tzinfo = UTC) -> str:
    """The card as `viewer` sees it (None: a group), its times in `tz` (the viewer's zone; a group's is UTC)."""
    t = contract.totals()
    cur = contract.currency
    you = f"you are the {viewer.value}" if viewer else "group view"
    client = names.get(contract.client_id or 0, "—")
    freelancer = names.get(contract.freelancer_id or 0, "—")
    head = [
        f"📄 <b>{e(contract.title)}</b> ({e(cur)}) — {you}",
        f"Client: {e(client)} · Freelancer: {e(freelancer)}",
        f"Status: {contract.status.value}",
    ]
    move = turn_line(contract, viewer, names)
    head += [move, ""] if move else [""]
    rows = card_milestones(contract)
    pages = card_pages(contract)
    page = min(max(page, 0), pages - 1)
    body = [milestone_line(contract, ms, num) for num, ms in rows[page * CARD_PAGE_SIZE : (page + 1) * CARD_PAGE_SIZE]]
    if not rows:
        body = ["No milestones yet. Add the first one with <b>Add milestone</b>."]
    if pages > 1:
        body.append(f"(page {page + 1} of {pages})")
    ledger = contract.payments is PaymentMode.LEDGER
    released = money(t.released, cur)
    if ledger and t.released:  # confirmed by the freelancer, or only recorded
        released += f" (received {money(t.confirmed, cur)}, unconfirmed {money(t.released - t.confirmed, cur)})"
    foot = [
        "",
        ("💰 Recorded, not held by the bot: " if ledger else "💰 ")
        + f"Funded {money(t.funded, cur)} · In escrow {money(t.in_escrow, cur)}",
        f"Released {released} · Refunded {money(t.refunded, cur)} · Remaining {money(t.remaining, cur)}",
    ]
    if not t.funded:  # the first card says how money works here
        foot.append(f"ℹ️ {e(MODE_SENTENCE[contract.payments])}")
    funded = contract.funded_milestone()
    release = auto_release_line(contract, funded, tz) if funded else ""
    if release:
        foot.append(release)
    if contract.awaiting_close_decision() and viewer is Role.CLIENT:
        foot.append("All milestones are released. Keep the contract open for more work, or end it?")
    return fit("\n".join(head + body + foot))


def auto_release_line(contract: Contract, ms: Milestone, tz: tzinfo) -> str:
    """R7's deadline for submitted work, in `tz`; empty for a milestone not waiting for review."""
    due = contract.auto_release_at(ms)
    if due is None:
        return ""
    return (
        f"⏳ «{e(ms.title)}» is released automatically on {fmt_time(due, tz)} "
        f"unless the client approves or requests changes."
    )


def turn_line(contract: Contract, viewer: Role | None, names: dict[int, str]) -> str:
    """Whose move it is, as the domain says: "⏳ Waiting for Ann to fund «Design»." or "👉 Your move: …"."""
    move = whose_move(contract, contract.party_id(viewer) if viewer else None)
    if move.role is None:
        return ""
    if not move.actions:
        return f"⏳ Waiting for the {move.role.value} to join: forward them the invite link."
    what = ACTIONS[move.actions[0]].turn.format(m=f"«{e(move.milestone.title)}»" if move.milestone else "")
    if not what:
        return ""
    if move.yours:
        return f"👉 Your move: {what}."
    who = names.get(contract.party_id(move.role) or 0) or f"the {move.role.value}"
    return f"⏳ Waiting for {e(who)} to {what}."


def confirmation(
    template: str, contract: Contract, ms: Milestone | None, other: str, role: Role | None = None, **amounts: int
) -> str:
    """The question a confirmed action asks first, e.g. "Release $500.00 to Bob for «Design»?". With the
    asker's `role`, a settlement offer waiting for them names its split ({paid}, {rest}); `amounts` (minor
    units) name a flow's own figures, e.g. paid=, rest=, bonus=."""
    figures = dict(amounts)
    if ms is not None and role is not None and "paid" not in figures:
        offer = ms.offer_of(role.other)
        if offer is not None:
            figures.update(paid=offer, rest=ms.amount - offer)
    return template.format(
        title=e(contract.title),
        m=f"«{e(ms.title)}»" if ms else "",
        amt=money(ms.amount, contract.currency) if ms else "",
        other=e(other),
        **{k: money(v, contract.currency) for k, v in figures.items()},
    )


FILES_PER_DETAILS_PAGE = 20  # a button each
CAPTION_SHOWN = 200  # a file's caption in the details list (the file itself carries it whole)
MAX_CAPTION = 1024


def file_label(f: SubmittedFile, n: int) -> str:
    """A file as people know it: a document by its name, a photo as 'Photo n' (n: its place among the
    photos of its submission). Plain text (a button label)."""
    return f.name or f"{'Photo' if f.kind == 'photo' else 'File'} {n}"


def file_icon(f: SubmittedFile) -> str:
    return "🖼" if f.kind == "photo" else "📎"


def numbered_files(files: list[SubmittedFile] | tuple[SubmittedFile, ...]) -> list[tuple[SubmittedFile, str]]:
    """Each file with its label; files without a name are numbered within their submission and kind."""
    out: list[tuple[SubmittedFile, str]] = []
    place: dict[tuple[int, str], int] = {}
    for f in files:
        key = (f.submission, f.kind)
        place[key] = place.get(key, 0) + 1
        out.append((f, file_label(f, place[key])))
    return out


def files_line(files: tuple[SubmittedFile, ...]) -> str:
    """'📎 2 files: design.pdf, Photo 2' for the news of a submission."""
    names = ", ".join(e(short(label, 40)) for _, label in numbered_files(files))
    return f"📎 {len(files)} file{'' if len(files) == 1 else 's'}: {names}"


def _clip(text: str, limit: int) -> str:
    """`text` cut to `limit` UTF-16 units (Telegram's count), with an ellipsis if cut."""
    if len(text.encode("utf-16-le")) // 2 <= limit:
        return text
    out = ""
    for ch in text:
        if len((out + ch).encode("utf-16-le")) // 2 > limit - 1:
            break
        out += ch
    return out + "…"


def file_caption(contract: Contract, ms: Milestone, f: SubmittedFile, label: str, position: str = "") -> str:
    """The caption a submitted file is sent with: what it is for, then the freelancer's own caption
    (shortened only if the two together would pass Telegram's 1,024 characters)."""
    head = f"{file_icon(f)} {position + ' · ' if position else ''}<b>{e(label)}</b> for «{e(ms.title)}» in «{e(contract.title)}»"
    if not f.caption:
        return head
    room = MAX_CAPTION - plain_length(head) - 1
    return f"{head}\n{e(_clip(f.caption, room))}" if room > 1 else head


def card_page_of(contract: Contract, ms: Milestone) -> int:
    """The card's page that lists `ms` (0 if the card doesn't list it)."""
    for i, (_, listed) in enumerate(card_milestones(contract)):
        if listed.id == ms.id:
            return i // CARD_PAGE_SIZE
    return 0


@dataclass(frozen=True)
class DetailsPage:
    text: str
    page: int
    pages: int
    files: list[tuple[int, str]]  # the files listed on this page: (file id, button label)


def details_page(
    contract: Contract,
    ms: Milestone,
    entries: list[HistoryEntry],
    files: list[SubmittedFile],
    names: dict[int, str],
    tz: tzinfo,
    page: int,
) -> DetailsPage:
    """One milestone's details: amount, due date, status and revisions, the description, then who did what
    when with every note and reason whole and the files each submission carried. Long details are paged
    (between lines, never inside one), each page within Telegram's limit."""
    status = STATUS_LABEL[ms.status] + (f" · revisions: {ms.revision_count}" if ms.revision_count else "")
    if ms.refund_requested_at is not None:
        status += " · refund requested"
    lines: list[tuple[str, int | None, str]] = [  # (line, a file's id, its button label)
        (f"Amount: {money(ms.amount, contract.currency)} · Due: {fmt_date(ms.due_date)}", None, ""),
        (f"Status: {status}", None, ""),
        (f"Description: {e(ms.description) if ms.description else '—'}", None, ""),
        ("", None, ""),
        ("<b>Who did what</b>", None, ""),
    ]
    by_submission: dict[int, list[tuple[SubmittedFile, str]]] = {}
    for f, label in numbered_files(files):
        by_submission.setdefault(f.submission, []).append((f, label))
    submissions = 0
    for h in entries:
        line = history_line(h, names, tz)  # the note whole: here is where a note is read again
        lines.append((line, None, ""))
        if h.action == "submitted":
            submissions += 1  # the n-th submission carried the files numbered n
            for f, label in by_submission.pop(submissions, []):
                caption = f" — {e(short(f.caption, CAPTION_SHOWN))}" if f.caption else ""
                lines.append((f"    {file_icon(f)} {e(label)}{caption}", f.id, f"{file_icon(f)} {short(label, 30)}"))
    for rest in by_submission.values():  # files whose submission the history doesn't show (not expected)
        for f, label in rest:
            lines.append((f"    {file_icon(f)} {e(label)}", f.id, f"{file_icon(f)} {short(label, 30)}"))
    chunks: list[list[tuple[str, int | None, str]]] = [[]]
    size = shown_files = 0
    budget = MAX_MESSAGE - 300  # the heading: a title of up to 100 characters and the page numbers
    for item in lines:
        length = plain_length(item[0]) + 1
        is_file = item[1] is not None
        if chunks[-1] and (size + length > budget or (is_file and shown_files >= FILES_PER_DETAILS_PAGE)):
            chunks.append([])
            size = shown_files = 0
        chunks[-1].append(item)
        size += length
        shown_files += is_file
    pages = len(chunks)
    page = min(max(page, 0), pages - 1)
    head = f"ℹ️ <b>{e(ms.title)}</b> in «{e(contract.title)}»" + (f" (page {page + 1} of {pages})" if pages > 1 else "")
    body = [line for line, _, _ in chunks[page]]
    buttons = [(file_id, label) for _, file_id, label in chunks[page] if file_id is not None]
    return DetailsPage(fit("\n".join([head, *body]).rstrip()), page, pages, buttons)


def history_line(h: HistoryEntry, names: dict[int, str], tz: tzinfo, note_limit: int | None = None) -> str:
    """One entry: when (in the viewer's zone), who, what, on which milestone, and its note (cut to
    `note_limit` characters, if given)."""
    who = "Bot" if h.actor_id is None else names.get(h.actor_id, str(h.actor_id))
    what = EVENTS[h.action][0] if h.action in EVENTS else h.action.replace("_", " ")
    line = f"{fmt_time(h.at, tz)} — {e(who)} {e(what)}"
    if h.milestone_title:
        line += f" «{e(h.milestone_title)}»"
    if h.note:
        note = h.note if note_limit is None or len(h.note) <= note_limit else h.note[: note_limit - 1] + "…"
        line += f": {e(note)}"
    return line


def history_text(
    contract: Contract, entries: list[HistoryEntry], names: dict[int, str], tz: tzinfo, page: int
) -> tuple[str, int]:
    lines = [history_line(h, names, tz, note_limit=150) for h in entries]
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


_CHANGED_FIELD = {"title": "Title", "amount": "Amount", "due_date": "Due date", "description": "Description"}
OLD_DESCRIPTION_SHOWN = 300  # the new description is shown whole; the old one only to recognise it


def change_lines(changes: tuple[FieldChange, ...], currency: str) -> list[str]:
    """An edit's fields as 'Amount: $1,500.00 → $2,000.00', one line each."""

    def shown(field: str, value: object, limit: int | None = None) -> str:
        if field == "amount" and isinstance(value, int):
            return money(value, currency)
        if field == "due_date" and isinstance(value, date):
            return fmt_date(value)
        if field == "title":
            return f"«{e(value)}»"
        text = str(value)
        if not text:
            return "—"
        return e(text if limit is None or len(text) <= limit else text[: limit - 1] + "…")

    lines = []
    for c in changes:
        old, new = shown(c.field, c.old, OLD_DESCRIPTION_SHOWN), shown(c.field, c.new)
        lines.append(f"{_CHANGED_FIELD.get(c.field, c.field)}: {old} → {new}")
    return lines


def notification(
    event: str,
    contract: Contract,
    ms: Milestone | None,
    actor: str,
    changes: tuple[FieldChange, ...] = (),
    tz: tzinfo = UTC,
    note: str = "",
) -> str:
    """The sentence the other party (and a linked group) gets after a change; an edit says old → new.
    Written per recipient: its times are in `tz`, the recipient's zone (a group's: UTC)."""
    c = f"«{e(contract.title)}»"
    news = EVENTS[event][1] if event in EVENTS else ""
    if contract.payments is PaymentMode.TELEGRAM:
        news = TELEGRAM_NEWS.get(event, news)
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
    if changes:
        text += "\n" + "\n".join(change_lines(changes, contract.currency))
    if ms is not None and event == "submitted":  # until when the client can review
        release = auto_release_line(contract, ms, tz)
        text += f"\n{release}" if release else ""
    if ms is not None:
        text += disagreement_lines(event, ms, note)
    return fit(text)


# PRODUCT §8: what the news of a disagreement adds (the history note carries the amounts and the reason).
_NOTE_LABEL = {
    "released_less": "Released",
    "released_with_bonus": "Recorded",
    "dispute_opened": "Reason",
    "dispute_offer": "Offer",
    "dispute_countered": "Counter-offer",
    "dispute_settled": "Settled",
    "dispute_decided": "Decision",
}


def disagreement_lines(event: str, ms: Milestone, note: str) -> str:
    if event in _NOTE_LABEL and note:
        return f"\n{_NOTE_LABEL[event]}: {e(note)}"
    if event == "due_date_proposed" and ms.due_change_to is not None:
        return f"\nProposed due date: {fmt_date(ms.due_change_to)} (now {fmt_date(ms.due_date)}). Accept it or keep the old date."
    return ""


# What a chat's card of a contract becomes when a newer card of it is delivered (one live card per chat).
CARD_REPLACED = "⬇️ This card was replaced by the one below."
