"""The escrow agent's desk (PRODUCT §7): operators (OPERATOR_IDS), in a private chat with the bot, see the
money held and the payouts and refunds owed, mark each done with a reference (the party is then told), and
export the ledger as CSV.

Anyone else gets exactly what an unknown command gets (bot/hints.py), so the desk's commands don't reveal
that they exist. More desk sections (e.g. disputes waiting for a decision) plug in through `SECTIONS`."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import re
from collections.abc import Awaitable, Callable

from telegram import InputFile, Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes

from domain.errors import DomainError
from domain.model import LedgerKind
from domain.payment_service import Desk, PaymentService
from domain.payments import Balance

from . import hints
from .actions import event_news
from .common import deps, lang_of, safe_send
from .i18n import _, ngettext, speaking, why
from .texts import e, fit, money
from .turn import current_turn

log = logging.getLogger(__name__)

# A desk section: (context, operator id) -> HTML lines shown under the money (empty: nothing to show).
Section = Callable[[ContextTypes.DEFAULT_TYPE, int], Awaitable[list[str]]]
SECTIONS: list[Section] = []

_CODE = re.compile(r"([pr])(\d{1,9})", re.ASCII)


def is_operator(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    chat = update.effective_chat
    user = update.effective_user
    return (
        user is not None and chat is not None and chat.type == "private" and user.id in deps(context).settings.operators
    )


def operators_only(handler: Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]):
    """Operators in a private chat get the desk; everyone else the answer to an unknown command."""

    async def wrapped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not is_operator(update, context):
            await hints.stray(update, context)
            return
        await handler(update, context)

    return wrapped


def payments(context: ContextTypes.DEFAULT_TYPE) -> PaymentService:
    return deps(context).extra["payments"]


def balance_lines(currency: str, b: Balance) -> list[str]:
    def m(x: int) -> str:
        return money(x, currency)

    return [
        _(
            "<b>{currency}</b>: held {held} (in escrow {in_escrow}, payouts owed {payouts_owed}, "
            "refunds owed {refunds_owed})"
        ).format(
            currency=e(currency),
            held=m(b.held),
            in_escrow=m(b.in_escrow),
            payouts_owed=m(b.payouts_owed),
            refunds_owed=m(b.refunds_owed),
        ),
        "    "
        + _(
            "funded {funded} · released {released} · bonuses paid {bonuses} (paid out {paid_out}) · refunded "
            "{refunded} · unapplied payments {unapplied} · refunds paid {refunds_paid}"
        ).format(
            funded=m(b.funded),
            released=m(b.released),
            bonuses=m(b.bonuses),
            paid_out=m(b.paid_out),
            refunded=m(b.refunded),
            unapplied=m(b.unapplied),
            refunds_paid=m(b.refunds_paid),
        ),
    ]


async def desk_text(context: ContextTypes.DEFAULT_TYPE, desk: Desk, operator_id: int) -> str:
    lines = [_("🏦 <b>Escrow desk</b>"), ""]
    if desk.balances:
        for currency, b in desk.balances.items():
            lines += balance_lines(currency, b)
    else:
        lines.append(_("No money is held: no contract is funded through Telegram Payments."))
    lines += ["", _("<b>Owed</b>")]
    if not desk.items:
        lines.append(_("Nothing: every release and refund is paid out."))
    names = await deps(context).svc.names([item.party_id for item in desk.items])
    for item in desk.items:
        c, owed = item.contract, item.owed
        ms = c.milestone(owed.milestone_id)
        line = (
            _("• <code>{code}</code> Payout {amount} to {who} (id {id}) for «{milestone}» in «{contract}»")
            if owed.kind is LedgerKind.PAYOUT
            else _("• <code>{code}</code> Refund {amount} to {who} (id {id}) for «{milestone}» in «{contract}»")
        )
        who = names.get(item.party_id or 0, "—")
        lines.append(
            line.format(
                code=item.code,
                amount=money(owed.amount, c.currency),
                who=e(who),
                id=item.party_id,
                milestone=e(ms.title),
                contract=e(c.title),
            )
        )
        if owed.kind is LedgerKind.PAYOUT:
            details = e(item.payout_details) if item.payout_details else _("not given yet")
            lines.append("    " + _("Payout details: {details}").format(details=details))
    for section in SECTIONS:
        lines += await section(context, operator_id)
    lines += [
        "",
        _("Mark one done once the money moved: /paid &lt;code&gt; &lt;reference&gt;, e.g. /paid p12 SEPA-2026-0042"),
        _("/ledgercsv: the whole ledger as a CSV file."),
    ]
    return fit("\n".join(lines))


async def desk_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user_id = update.effective_user.id
    desk = await payments(context).desk(user_id, deps(context).settings.operators)
    await update.effective_message.reply_text(await desk_text(context, desk, user_id))


async def paid_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/paid p12 REFERENCE: the payout (p) or refund (r) owed on milestone 12 was sent."""
    args = context.args or []
    found = _CODE.fullmatch(args[0]) if args else None
    reference = " ".join(args[1:]).strip()
    if found is None or not reference:
        await update.effective_message.reply_text(
            _("Send /paid with the code from /desk and the transfer's reference, e.g. /paid p12 SEPA-2026-0042")
        )
        return
    kind = LedgerKind.PAYOUT if found.group(1) == "p" else LedgerKind.REFUND_PAID
    d = deps(context)
    try:
        outcome, party, amount = await payments(context).mark_done(
            update.effective_user.id, d.settings.operators, kind, int(found.group(2)), reference, d.clock()
        )
    except DomainError as err:
        await update.effective_message.reply_text(e(why(err)))
        return
    c, ms = outcome.contract, outcome.milestone
    assert ms is not None
    await update.effective_message.reply_text(
        _(
            "✅ Recorded: {amount} for «{milestone}» in «{contract}» sent, reference {reference}. "
            "The recipient is told."
        ).format(amount=money(amount, c.currency), milestone=e(ms.title), contract=e(c.title), reference=e(reference))
    )
    if party is not None:
        with speaking(await lang_of(context, party)):  # the recipient's news, in their language
            news = event_news(outcome.action).format(
                amt=money(amount, c.currency), m=f"«{e(ms.title)}»", c=f"«{e(c.title)}»"
            )
            news += "\n" + _("Reference: {reference}").format(reference=e(reference))
        await safe_send(context, party, news)
    # The other party learns it too: the money they released (or gave back) actually moved.
    other = c.freelancer_id if party == c.client_id else c.client_id
    if other is not None and other != party:
        names = await deps(context).svc.names([party])
        with speaking(await lang_of(context, other)):
            sent = (
                _("💸 The escrow agent sent the payout of {amount} for «{milestone}» in «{contract}» to {who}.")
                if kind is LedgerKind.PAYOUT
                else _("💸 The escrow agent sent the refund of {amount} for «{milestone}» in «{contract}» to {who}.")
            ).format(
                amount=money(amount, c.currency),
                milestone=e(ms.title),
                contract=e(c.title),
                who=e(names.get(party or 0, _("the other party"))),
            )
        await safe_send(context, other, sent)


CSV_COLUMNS = [  # i18n: ok (a data file's column names stay English)
    "entry_id",
    "at_utc",
    "contract_id",
    "contract_title",
    "payments",
    "currency",
    "milestone_id",
    "milestone_title",
    "kind",
    "amount_minor_units",
    "actor_id",
    "reference",
    "telegram_payment_charge_id",
    "provider_payment_charge_id",
]


def ledger_csv(rows) -> bytes:
    """The ledger as CSV (UTF-8 with BOM, so spreadsheet programs read the titles right); amounts in the
    currency's minor units, exactly as stored."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for contract, entry in rows:
        ms = next((m for m in contract.milestones if m.id == entry.milestone_id), None)
        writer.writerow(
            [
                entry.id,
                entry.at.isoformat(),
                contract.id,
                _cell(contract.title),
                contract.payments.value,
                contract.currency,
                entry.milestone_id,
                _cell(ms.title if ms else ""),
                entry.kind.value,
                entry.amount,
                entry.actor_id if entry.actor_id is not None else "",
                _cell(entry.reference),
                entry.charge_id or "",
                entry.provider_charge_id,
            ]
        )
    return ("\ufeff" + out.getvalue()).encode()


def _cell(text: str) -> str:
    """A text cell a spreadsheet won't run as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def ledger_csv_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The CSV goes out with sendDocument as an upload, which the outbox can't carry (its rows hold JSON
    parameters, not files): it is sent directly, once the turn is committed. A failure is told."""
    d = deps(context)
    user_id = update.effective_user.id
    rows = await payments(context).ledger_export(user_id, d.settings.operators)
    data = ledger_csv(rows)
    name = f"ledger-{d.clock():%Y%m%d-%H%M%S}.csv"
    bot = context.bot
    # Worded now, in the operator's language: the upload runs later, once the turn is committed.
    caption = ngettext("Ledger: {n} entry", "Ledger: {n} entries", len(rows)).format(n=len(rows))
    failed = _("Sorry, I could not send the ledger file. Try /ledgercsv again.")

    async def send() -> None:
        try:
            await bot.send_document(user_id, InputFile(data, filename=name), caption=caption)
        except TelegramError as err:
            log.warning("could not send the ledger CSV: %s", err)
            try:
                await bot.send_message(user_id, failed)
            except TelegramError:
                pass

    turn = current_turn()
    if turn is None:
        await send()
    else:
        tasks: set[asyncio.Task[None]] = context.application.bot_data.setdefault("desk_tasks", set())

        def start() -> None:
            task = asyncio.get_running_loop().create_task(send())
            tasks.add(task)
            task.add_done_callback(tasks.discard)

        turn.committed.append(start)


async def settle(app: Application) -> None:
    """Wait for CSV uploads still on their way (tests)."""
    tasks = app.bot_data.get("desk_tasks", set())
    while tasks:
        await asyncio.gather(*list(tasks), return_exceptions=True)


def install(app: Application) -> None:
    app.add_handler(CommandHandler("desk", operators_only(desk_command)))
    app.add_handler(CommandHandler("paid", operators_only(paid_command)))
    app.add_handler(CommandHandler("ledgercsv", operators_only(ledger_csv_command)))
