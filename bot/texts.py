"""Message texts: the contract card, notifications and history, with every user string escaped."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from html import escape, unescape

from babel.dates import format_skeleton

from domain.errors import Said
from domain.model import (
    Contract,
    ContractStatus,
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

from .actions import ACTIONS, event_label, event_news, said
from .i18n import DEFAULT, N_, _, babel_locale, isolate, locale_of, ngettext, note_text, spoken

MAX_MESSAGE = 4096
CARD_PAGE_SIZE = 10
HISTORY_PAGE_SIZE = 15

STATUS_LABEL = {
    MilestoneStatus.PROPOSED: N_("💡 proposed"),
    MilestoneStatus.NOT_FUNDED: N_("⚪ not funded"),
    MilestoneStatus.ACTIVE: N_("🟢 active (funded)"),
    MilestoneStatus.SUBMITTED: N_("📤 submitted"),
    MilestoneStatus.RELEASED: N_("✅ released"),
    MilestoneStatus.REFUNDED: N_("↩️ refunded"),
    MilestoneStatus.REJECTED: N_("✖️ rejected"),
    MilestoneStatus.CANCELLED: N_("🗑 deleted"),
    MilestoneStatus.CANCELLED_AT_END: N_("⛔ cancelled (contract ended)"),
}

HELP = N_(
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
    "is released (or refunded) before the next is activated. The client has {review_period} to "
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
    """(3, 1) -> '3 and 1 days'; (1,) -> '1 day'. After a list English says "days"; a language whose
    plural agrees with the nearest number takes the form of the last one."""
    if len(values) == 1:
        return ngettext("{n} day", "{n} days", values[0]).format(n=values[0])
    first = ", ".join(str(n) for n in values[:-1])
    return ngettext("{first} and {n} days", "{first} and {n} days", values[-1]).format(first=first, n=values[-1])


# One sentence per money mode (PRODUCT §7), in /help and on a contract's first card.
MODE_SENTENCE = {
    PaymentMode.LEDGER: N_(
        "Ledger mode: the bot holds no money; what you fund and release is only recorded here, "
        "the client pays the freelancer directly, and the freelancer confirms each payment received."
    ),
    PaymentMode.TELEGRAM: N_(
        "Telegram Payments: the client pays each milestone's invoice in Telegram; the bot's "
        "operator holds the money in escrow and pays it out on release (or back on refund)."
    ),
}


def help_text(review_days: int, policy: ReminderSettings, payments: PaymentMode = PaymentMode.LEDGER) -> str:
    """/help: roles, the order rule, refunds and the reminder schedule as the policy has it."""
    review = [n for n in policy.review_days_before if n < review_days]  # as domain.reminders.plan sends them
    lines = [
        _("• Due soon: {days} before the due date (both of you)").format(days=_days(policy.due_soon_days)),
        _("• Due today: on the due date (freelancer)"),
        _("• Overdue: {days} after the due date, while the work is not submitted (both)").format(
            days=_days(policy.overdue_days)
        ),
    ]
    if review:
        lines.append(_("• Review waiting: {days} before the automatic release (client)").format(days=_days(review)))
    lines.append(
        _("• Next milestone: {days} after a release, while the next one waits to be funded (client)").format(
            days=_days(policy.next_waiting_days)
        )
    )
    return _(HELP).format(
        review_period=ngettext("{n} day", "{n} days", review_days).format(n=review_days),
        hour=policy.reminder_hour,
        reminders="\n".join(lines),
        money_mode=esc(_(MODE_SENTENCE[payments])),
    )


WELCOME = N_(
    "👋 Hi {name}! I keep a fixed-price contract between a client and a freelancer on track.\n"
    "Add milestones, fund them one by one in order, submit work, approve and release.\n"
    "I remind you before due dates and keep the escrow ledger straight."
)


def welcome_text(name: str) -> str:
    """/start's greeting, in the language spoken now; `name` is the person's first name (escaped here)."""
    return _(WELCOME).format(name=e(name))


def e(text: object) -> str:
    """Escape a person's own text (a title, a name, a note) for Telegram HTML, quotes too; in a
    right-to-left language it is isolated, so it keeps its own direction inside the sentence. Not for
    an HTML attribute (the isolates would be part of it): use `esc` there."""
    return isolate(escape(str(text), quote=True))


def esc(text: object) -> str:
    """Escape for Telegram HTML without isolating: our own words, and text inside an attribute."""
    return escape(str(text), quote=True)


def money(amount: int, currency: str) -> str:
    """An amount in the reader's locale ($1,250.50 in English)."""
    return esc(format_money(amount, currency, babel_locale()))


def fmt_date(d: date) -> str:
    """'Fri 11 Dec 2026' in English; in another language its own medium date with the weekday."""
    if spoken() == DEFAULT:
        return d.strftime("%a %d %b %Y")
    return _babel_date(d, babel_locale())


@lru_cache(maxsize=4096)  # a card shows the same dates at every tap; Babel's formatting is not cheap
def _babel_date(d: date, locale: str) -> str:
    return format_skeleton("yMMMEd", d, locale=locale)


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
    if spoken() == DEFAULT:
        return f"{fmt_date(local.date())}, {local:%H:%M} ({label})"
    loc = babel_locale()
    pattern = locale_of(spoken()).datetime_formats["medium"].replace("'", "")  # '{1}, {0}': date, time
    return f"{pattern.format(format_skeleton('Hm', local, locale=loc), fmt_date(local.date()))} ({label})"


def short(text: str, limit: int = 24) -> str:
    """A title shortened for a button label (labels are plain text, not HTML)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def status_text(ms: Milestone) -> str:
    """The milestone's status with its revisions, a pending refund request and an open dispute:
    '📤 submitted · revisions: 2 · ⚖️ in dispute'."""
    status = _(STATUS_LABEL[ms.status])
    if ms.revision_count:
        status += " · " + _("revisions: {count}").format(count=ms.revision_count)
    if ms.refund_requested_at is not None:
        status += " · " + _("refund requested")
    if ms.in_dispute:  # PRODUCT §8: it waits for the dispute, not for the review period
        status += " · " + _("⚖️ in dispute")
    return status


def amount_text(contract: Contract, ms: Milestone) -> str:
    """The milestone's amount, with the part released when less was released (pay less, a split)."""
    amount = money(ms.amount, contract.currency)
    if ms.status is MilestoneStatus.RELEASED and ms.released_part != ms.amount:
        return _("{released} of {amount} released").format(
            released=money(ms.released_part, contract.currency), amount=amount
        )
    return amount


def milestone_line(contract: Contract, ms: Milestone, number: int | str) -> str:
    amount = amount_text(contract, ms)
    line = _("{number}. <b>{title}</b> — {amount} · due {due}").format(
        number=number, title=e(ms.title), amount=amount, due=fmt_date(ms.due_date)
    )
    line += f"\n    {status_text(ms)}"
    if ms.status is MilestoneStatus.RELEASED and contract.payments is PaymentMode.LEDGER:
        if ms.payment_confirmed_at is not None:
            line += " · " + _("💵 payment received")
        elif ms.payment_flagged_at is not None:
            line += " · " + _("⚠️ payment NOT received (flagged by the freelancer)")
        else:
            line += " · " + _("payment not confirmed yet")
    if ms.bonus and contract.payments is PaymentMode.TELEGRAM:
        bonus = money(ms.bonus, contract.currency)
        line += " · " + (
            _("🎁 bonus {bonus} invoiced, not paid yet") if ms.bonus_invoiced else _("🎁 bonus {bonus} paid")
        ).format(bonus=bonus)
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


CONTRACT_STATUS = {
    ContractStatus.PENDING: N_("pending"),
    ContractStatus.ACTIVE: N_("active"),
    ContractStatus.ENDED: N_("ended"),
    ContractStatus.DECLINED: N_("declined"),
}
_YOU_ARE = {Role.CLIENT: N_("you are the client"), Role.FREELANCER: N_("you are the freelancer")}
_THE_ROLE = {Role.CLIENT: N_("the client"), Role.FREELANCER: N_("the freelancer")}


def card_text(contract: Contract, viewer: Role | None, names: dict[int, str], page: int = 0, tz: tzinfo = UTC) -> str:
    """The card as `viewer` sees it (None: a group), its times in `tz` (the viewer's zone; a group's is UTC)."""
    t = contract.totals()
    cur = contract.currency
    you = _(_YOU_ARE[viewer]) if viewer else _("group view")
    client = contract.client_id is not None and contract.client_id in names
    freelancer = contract.freelancer_id is not None and contract.freelancer_id in names
    head = [
        f"📄 <b>{e(contract.title)}</b> ({esc(cur)}) — {you}",
        _("Client: {client} · Freelancer: {freelancer}").format(
            client=e(names[contract.client_id or 0]) if client else "—",
            freelancer=e(names[contract.freelancer_id or 0]) if freelancer else "—",
        ),
        _("Status: {status}").format(status=_(CONTRACT_STATUS[contract.status])),
    ]
    move = turn_line(contract, viewer, names)
    head += [move, ""] if move else [""]
    rows = card_milestones(contract)
    pages = card_pages(contract)
    page = min(max(page, 0), pages - 1)
    body = [milestone_line(contract, ms, num) for num, ms in rows[page * CARD_PAGE_SIZE : (page + 1) * CARD_PAGE_SIZE]]
    if not rows:
        body = [_("No milestones yet. Add the first one with <b>Add milestone</b>.")]
    if pages > 1:
        body.append(_("(page {page} of {pages})").format(page=page + 1, pages=pages))
    ledger = contract.payments is PaymentMode.LEDGER
    released = money(t.released, cur)
    if ledger and t.released:  # confirmed by the freelancer, or only recorded
        released = _("{released} (received {received}, unconfirmed {unconfirmed})").format(
            released=released, received=money(t.confirmed, cur), unconfirmed=money(t.released - t.confirmed, cur)
        )
    funded = (
        _("💰 Recorded, not held by the bot: Funded {funded} · In escrow {in_escrow}")
        if ledger
        else _("💰 Funded {funded} · In escrow {in_escrow}")
    )
    foot = [
        "",
        funded.format(funded=money(t.funded, cur), in_escrow=money(t.in_escrow, cur)),
        _("Released {released} · Refunded {refunded} · Remaining {remaining}").format(
            released=released, refunded=money(t.refunded, cur), remaining=money(t.remaining, cur)
        ),
    ]
    if not t.funded:  # the first card says how money works here
        foot.append(f"ℹ️ {esc(_(MODE_SENTENCE[contract.payments]))}")
    held = contract.funded_milestone()
    release = auto_release_line(contract, held, tz) if held else ""
    if release:
        foot.append(release)
    if contract.awaiting_close_decision() and viewer is Role.CLIENT:
        foot.append(_("All milestones are released. Keep the contract open for more work, or end it?"))
    return fit("\n".join(head + body + foot))


def auto_release_line(contract: Contract, ms: Milestone, tz: tzinfo) -> str:
    """R7's deadline for submitted work, in `tz`; empty for a milestone not waiting for review."""
    due = contract.auto_release_at(ms)
    if due is None:
        return ""
    return _("⏳ «{title}» is released automatically on {at} unless the client approves or requests changes.").format(
        title=e(ms.title), at=fmt_time(due, tz)
    )


def turn_line(contract: Contract, viewer: Role | None, names: dict[int, str]) -> str:
    """Whose move it is, as the domain says: "⏳ Waiting for Ann to fund «Design»." or "👉 Your move: …"."""
    move = whose_move(contract, contract.party_id(viewer) if viewer else None)
    if move.role is None:
        return ""
    if not move.actions:
        if move.role is Role.CLIENT:
            return _("⏳ Waiting for the client to join: forward them the invite link.")
        return _("⏳ Waiting for the freelancer to join: forward them the invite link.")
    what = said(ACTIONS[move.actions[0]].turn).format(m=f"«{e(move.milestone.title)}»" if move.milestone else "")
    if not what:
        return ""
    if move.yours:
        return _("👉 Your move: {what}.").format(what=what)
    name = names.get(contract.party_id(move.role) or 0)
    who = e(name) if name else esc(_(_THE_ROLE[move.role]))
    return _("⏳ Waiting for {who} to {what}.").format(who=who, what=what)


# The freelancer's word on the client's payment (ledger mode): its news names the part released.
PAYMENT_EVENTS = ("payment_confirmed", "payment_not_received")


def released_or_amount(ms: Milestone) -> int:
    """What a released milestone's payment is (less than its amount after pay less or a split); else its amount."""
    return ms.released_part if ms.status is MilestoneStatus.RELEASED else ms.amount


def confirmation(
    template: str, contract: Contract, ms: Milestone | None, other: str, role: Role | None = None, **amounts: int
) -> str:
    """The question a confirmed action asks first, e.g. "Release $500.00 to Bob for «Design»?": `template`
    is the action table's (its msgid: translated here, so a caller passes `view.confirm` as it is). With the
    asker's `role`, a settlement offer waiting for them names its split ({paid}, {rest}); `amounts` (minor
    units) name a flow's own figures, e.g. paid=, rest=, bonus=. On a released milestone (the freelancer's
    word on the payment) {amt} is the part released."""
    figures = dict(amounts)
    if ms is not None and role is not None and "paid" not in figures:
        offer = ms.offer_of(role.other)
        if offer is not None:
            figures.update(paid=offer, rest=ms.amount - offer)
    return said(template).format(
        title=e(contract.title),
        m=f"«{e(ms.title)}»" if ms else "",
        amt=money(released_or_amount(ms), contract.currency) if ms else "",
        other=e(other),
        **{k: money(v, contract.currency) for k, v in figures.items()},
    )


FILES_PER_DETAILS_PAGE = 20  # a button each
CAPTION_SHOWN = 200  # a file's caption in the details list (the file itself carries it whole)
MAX_CAPTION = 1024


def file_label(f: SubmittedFile, n: int) -> str:
    """A file as people know it: a document by its name, a photo as 'Photo n' (n: its place among the
    photos of its submission). Plain text (a button label)."""
    if f.name:
        return f.name
    return (_("Photo {n}") if f.kind == "photo" else _("File {n}")).format(n=n)


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
    names = ", ".join(e(short(label, 40)) for _f, label in numbered_files(files))
    return ngettext("📎 {n} file: {names}", "📎 {n} files: {names}", len(files)).format(n=len(files), names=names)


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
    what = _("<b>{file}</b> for «{milestone}» in «{contract}»").format(
        file=e(label), milestone=e(ms.title), contract=e(contract.title)
    )
    head = f"{file_icon(f)} {position} · {what}" if position else f"{file_icon(f)} {what}"
    if not f.caption:
        return head
    room = MAX_CAPTION - plain_length(head) - 1
    return f"{head}\n{e(_clip(f.caption, room))}" if room > 1 else head


def card_page_of(contract: Contract, ms: Milestone) -> int:
    """The card's page that lists `ms` (0 if the card doesn't list it)."""
    for i, (_num, listed) in enumerate(card_milestones(contract)):
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
    amount = _("Amount: {amount} · Due: {due}").format(amount=amount_text(contract, ms), due=fmt_date(ms.due_date))
    lines: list[tuple[str, int | None, str]] = [  # (line, a file's id, its button label)
        (amount, None, ""),
        (_("Status: {status}").format(status=status_text(ms)), None, ""),
        (_("Description: {text}").format(text=e(ms.description) if ms.description else "—"), None, ""),
        ("", None, ""),
        (_("<b>Who did what</b>"), None, ""),
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
    head = _("ℹ️ <b>{milestone}</b> in «{contract}»").format(milestone=e(ms.title), contract=e(contract.title))
    if pages > 1:
        head += " " + _("(page {page} of {pages})").format(page=page + 1, pages=pages)
    body = [line for line, _id, _label in chunks[page]]
    buttons = [(file_id, label) for _line, file_id, label in chunks[page] if file_id is not None]
    return DetailsPage(fit("\n".join([head, *body]).rstrip()), page, pages, buttons)


def history_line(h: HistoryEntry, names: dict[int, str], tz: tzinfo, note_limit: int | None = None) -> str:
    """One entry: when (in the viewer's zone), who, what, on which milestone, and its note (cut to
    `note_limit` characters, if given)."""
    who = esc(_("Bot")) if h.actor_id is None else e(names.get(h.actor_id, str(h.actor_id)))
    what = esc(event_label(h.action))
    if h.milestone_title:
        # One sentence, so a language can put the milestone where its word order wants it (Persian: first).
        what = _("{who} {what} {m}").format(who=who, what=what, m=f"«{e(h.milestone_title)}»")
    else:
        what = f"{who} {what}"
    line = f"{fmt_time(h.at, tz)} — {what}"
    if h.note:
        note = note_text(h.note, h.said)  # a note of ours in the reader's language; a person's as written
        note = note if note_limit is None or len(note) <= note_limit else note[: note_limit - 1] + "…"
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
    head = [
        _("🕓 <b>History of {title}</b> (page {page} of {pages})").format(
            title=e(contract.title), page=page + 1, pages=pages
        ),
        "",
    ]
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


_CHANGED_FIELD = {
    "title": N_("Title"),
    "amount": N_("Amount"),
    "due_date": N_("Due date"),
    "description": N_("Description"),
}
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
        field = _(_CHANGED_FIELD[c.field]) if c.field in _CHANGED_FIELD else c.field
        lines.append(f"{field}: {old} → {new}")
    return lines


def notification(
    event: str,
    contract: Contract,
    ms: Milestone | None,
    actor: str,
    changes: tuple[FieldChange, ...] = (),
    tz: tzinfo = UTC,
    note: str = "",
    said: Said | None = None,
) -> str:
    """The sentence the other party (and a linked group) gets after a change; an edit says old → new.
    Written per recipient: its times are in `tz`, the recipient's zone (a group's: UTC). `note`: the
    history entry's note, `said` that note as the domain composed it (then it is read translated)."""
    c = f"«{e(contract.title)}»"
    news = event_news(event, telegram=contract.payments is PaymentMode.TELEGRAM)
    if not news:
        # An event without news of its own: named by its code in English (as always), by its history label otherwise.
        what = event.replace("_", " ") if spoken() == DEFAULT else event_label(event)
        return fit(_("{who}: {what} in {c}.").format(who=e(actor), what=esc(what), c=c))
    text = news.format(
        who=e(actor),
        c=c,
        m=f"«{e(ms.title)}»" if ms else "",
        amt=money(released_or_amount(ms) if event in PAYMENT_EVENTS else ms.amount, contract.currency) if ms else "",
        due=fmt_date(ms.due_date) if ms else "",
    )
    if ms is not None and event == "changes_requested" and ms.change_reason:
        text += "\n" + _("Reason: {reason}").format(reason=e(ms.change_reason))
    if ms is not None and event == "submitted" and ms.submission_note:
        text += "\n" + _("Note: {note}").format(note=e(ms.submission_note))
    # The card lists no descriptions: the other party reads the work to do here.
    if ms is not None and event in ("milestone_added", "milestone_proposed", "activated") and ms.description:
        text += "\n" + _("Description: {text}").format(text=e(ms.description))
    if changes:
        text += "\n" + "\n".join(change_lines(changes, contract.currency))
    if ms is not None and event == "submitted":  # until when the client can review
        release = auto_release_line(contract, ms, tz)
        text += f"\n{release}" if release else ""
    if ms is not None:
        text += disagreement_lines(event, ms, note_text(note, said))
    return fit(text)


# PRODUCT §8: what the news of a disagreement adds (the history note carries the amounts and the reason).
_NOTE_LABEL = {
    "released_less": N_("Released"),
    "released_with_bonus": N_("Recorded"),
    "dispute_opened": N_("Reason"),
    "dispute_offer": N_("Offer"),
    "dispute_countered": N_("Counter-offer"),
    "dispute_settled": N_("Settled"),
    "dispute_decided": N_("Decision"),
}


def disagreement_lines(event: str, ms: Milestone, note: str) -> str:
    if event in _NOTE_LABEL and note:
        return f"\n{_(_NOTE_LABEL[event])}: {e(note)}"
    if event == "due_date_proposed" and ms.due_change_to is not None:
        return "\n" + _("Proposed due date: {new} (now {due}). Accept it or keep the old date.").format(
            new=fmt_date(ms.due_change_to), due=fmt_date(ms.due_date)
        )
    return ""


# What a chat's card of a contract becomes when a newer card of it is delivered (one live card per chat).
# A message id: whoever edits the old card translates it in that chat's language (`_(CARD_REPLACED)`).
CARD_REPLACED = N_("⬇️ This card was replaced by the one below.")
