"""Money for real (PRODUCT §7): signed invoice payloads, and what the escrow agent owes from the ledger."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from .errors import N_, Amount, InvalidInput
from .model import LedgerEntry, LedgerKind, PaymentMode
from .money import STARS, currency_decimals

INVOICE_TTL = timedelta(hours=24)

# The fiat currencies Telegram Payments takes (core.telegram.org/bots/payments#supported-currencies).
# Their per-currency amount limits change with exchange rates (Telegram publishes them as currencies.json):
# the bot loads them (PaymentLimits below) and refuses an amount outside them before any invoice.
TELEGRAM_FIAT = frozenset(
    "AED AFN ALL AMD ARS AUD AZN BAM BDT BGN BHD BND BOB BRL BYN CAD CHF CLP CNY COP CRC CZK DKK DOP DZD EGP "
    "ETB EUR GBP GEL GHS GTQ HKD HNL HRK HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KRW KZT LBP LKR MAD "
    "MDL MMK MNT MOP MUR MVR MXN MYR MZN NGN NIO NOK NPR NZD PAB PEN PHP PKR PLN PYG QAR RON RSD RUB SAR SEK "
    "SGD SYP THB TJS TRY TTD TWD TZS UAH UGX USD UYU UZS VEF VND YER ZAR".split()  # i18n: ok (ISO codes)
)


def check_payment_currency(currency: str, stars: bool) -> str:
    """Telegram mode: with Stars (no provider token) contracts are in XTR; with a provider token, in a fiat
    currency Telegram Payments supports."""
    if stars and currency != STARS:
        raise InvalidInput(N_("Payments here are in Telegram Stars: the currency must be XTR."))
    if not stars and currency not in TELEGRAM_FIAT:
        raise InvalidInput(
            N_("Telegram Payments doesn't take {currency}: choose e.g. USD, EUR or GBP."), currency=currency
        )
    return currency


@dataclass(frozen=True)
class CurrencyLimit:
    """What Telegram Payments takes in one currency: amounts from `min_amount` to `max_amount` (both in the
    currency's smallest units, both included), counted with `exp` decimals."""

    min_amount: int
    max_amount: int
    exp: int


@dataclass(frozen=True)
class PaymentLimits:
    """Telegram Payments' per-currency amount limits (its currencies.json), as last loaded. They follow
    exchange rates, so the bot loads them (bot/payment_limits.py); the domain only applies them."""

    currencies: Mapping[str, CurrencyLimit]

    @classmethod
    def from_json(cls, data: object) -> PaymentLimits:
        """From the decoded currencies.json: {"USD": {"exp": 2, "min_amount": "100", "max_amount": "1000000",
        ...}, ...} (amounts as strings or integers). An entry that can't be read is left out (its currency
        is then refused); ValueError when nothing can be read."""
        if not isinstance(data, Mapping):
            raise ValueError("currencies.json is not a JSON object")
        found: dict[str, CurrencyLimit] = {}
        for code, entry in data.items():
            if not isinstance(code, str) or not isinstance(entry, Mapping):
                continue
            try:
                low, high, exp = (_whole(entry.get(k)) for k in ("min_amount", "max_amount", "exp"))
            except ValueError:
                continue
            if 0 < low <= high and 0 <= exp <= 4:
                found[code] = CurrencyLimit(low, high, exp)
        if not found:
            raise ValueError("currencies.json names no currency with usable limits")
        return cls(found)

    def check_currency(self, currency: str) -> CurrencyLimit:
        """The currency's limits, if Telegram Payments takes it and counts it as the bot does (the same
        number of decimals: an amount means the same to both); else the refusal."""
        limit = self.currencies.get(currency)
        if limit is None:
            raise InvalidInput(
                N_("Telegram Payments doesn't take {currency}: choose e.g. USD, EUR or GBP."), currency=currency
            )
        if limit.exp != currency_decimals(currency):
            raise InvalidInput(
                N_(
                    "Telegram Payments counts {currency} in other units than this bot does: choose another "
                    "currency, e.g. USD, EUR or GBP."
                ),
                currency=currency,
            )
        return limit

    def check_amount(self, amount: int, currency: str) -> int:
        """`amount` (minor units of `currency`) if Telegram Payments takes it today; else the refusal,
        which names the range in money."""
        limit = self.check_currency(currency)
        if not limit.min_amount <= amount <= limit.max_amount:
            raise InvalidInput(
                N_("Amount must be from {min} to {max}: the range Telegram Payments takes in {currency} today."),
                min=Amount(limit.min_amount, currency),
                max=Amount(limit.max_amount, currency),
                currency=currency,
            )
        return amount


def _whole(value: object) -> int:
    """A whole number given as an int or a string of digits (currencies.json writes amounts as strings)."""
    if isinstance(value, bool):
        raise ValueError("not a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise ValueError("not a whole number")


class LimitsProvider(Protocol):
    """Where the services ask for Telegram Payments' limits: the latest loaded, or None (none loaded yet:
    amounts are not checked)."""

    def current(self) -> PaymentLimits | None: ...


def check_telegram_amount(limits: PaymentLimits | None, payments: PaymentMode, currency: str, amount: int) -> int:
    """Telegram Payments with a provider token (fiat): `amount` inside Telegram's limits for `currency`,
    when they are loaded. Ledger mode and Stars (XTR, their own rules) are not concerned."""
    if limits is not None and payments is PaymentMode.TELEGRAM and currency != STARS:
        limits.check_amount(amount, currency)
    return amount


class InvoiceKind(StrEnum):
    """What an invoice pays: a milestone's escrow funding, or the bonus added when it was approved (PRODUCT
    §8). The kind is signed: a bonus payload never funds a milestone, nor a funding payload pays a bonus."""

    FUND = "m"
    BONUS = "b"


# <kind><milestone>.<nonce>.<expires, unix s>.<signature>: at most 9+1+12+1+10+1+22 = 56 of Telegram's 128 bytes.
_PAYLOAD = re.compile(r"([mb])(\d{1,9})\.([A-Za-z0-9_-]{6,16})\.(\d{1,10})\.([A-Za-z0-9_-]{22})", re.ASCII)


@dataclass(frozen=True)
class InvoiceClaim:
    """What a verified invoice payload says: which milestone, which invoice of it, for how much."""

    milestone_id: int
    nonce: str
    expires_at: int  # unix seconds
    amount: int
    currency: str
    kind: InvoiceKind = InvoiceKind.FUND


def _signature(
    secret: bytes, kind: InvoiceKind, milestone_id: int, nonce: str, expires_at: int, amount: int, currency: str
) -> str:
    # A funding payload signs what it always did; a bonus one signs its kind first (a message no funding
    # payload's starts with), so neither verifies as the other.
    prefix = "" if kind is InvoiceKind.FUND else f"{kind.value}."
    message = f"{prefix}{milestone_id}.{nonce}.{expires_at}.{amount}.{currency}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign_invoice(
    secret: bytes,
    milestone_id: int,
    nonce: str,
    amount: int,
    currency: str,
    now: datetime,
    kind: InvoiceKind = InvoiceKind.FUND,
) -> str:
    """The payload of an invoice: names what it pays (its kind), the milestone and the invoice, signed over
    amount and currency too, so it can't be forged or altered, and expires after INVOICE_TTL."""
    expires_at = int((now + INVOICE_TTL).timestamp())
    sig = _signature(secret, kind, milestone_id, nonce, expires_at, amount, currency)
    return f"{kind.value}{milestone_id}.{nonce}.{expires_at}.{sig}"


def verify_invoice(secret: bytes, payload: str, amount: int, currency: str, now: datetime | None) -> InvoiceClaim:
    """The claim of a payload the bot signed for this `amount` and `currency`; InvalidInput for anything
    else (forged, altered, or, when `now` is given, expired)."""
    m = _PAYLOAD.fullmatch(payload or "")
    if m is None:
        raise InvalidInput(N_("This invoice was not issued by this bot."))
    kind = InvoiceKind(m.group(1))
    milestone_id, nonce, expires_at, sig = int(m.group(2)), m.group(3), int(m.group(4)), m.group(5)
    expected = _signature(secret, kind, milestone_id, nonce, expires_at, amount, currency)
    if not hmac.compare_digest(sig, expected):
        raise InvalidInput(N_("This invoice does not match what the bot issued (amount or currency changed)."))
    if now is not None and now.timestamp() >= expires_at:
        if kind is InvoiceKind.BONUS:
            raise InvalidInput(N_("This bonus invoice has expired."))
        raise InvalidInput(N_("This invoice has expired: tap Activate & fund for a new one."))
    return InvoiceClaim(milestone_id, nonce, expires_at, amount, currency, kind)


# What each kind of money the agent holds turns into once it is paid out.
_OWED_BY = {
    LedgerKind.RELEASE: LedgerKind.PAYOUT,  # to the freelancer
    LedgerKind.BONUS: LedgerKind.PAYOUT,  # a bonus the client paid (telegram mode): to the freelancer too
    LedgerKind.REFUND: LedgerKind.REFUND_PAID,  # to the client
    LedgerKind.UNAPPLIED: LedgerKind.REFUND_PAID,  # to whoever paid
}


@dataclass(frozen=True)
class Owed:
    """Money the escrow agent owes on one milestone: a payout (to the freelancer) or a refund (to the
    client or payer)."""

    kind: LedgerKind  # PAYOUT or REFUND_PAID: what marking it done records
    milestone_id: int
    amount: int


def owed(entries: Iterable[LedgerEntry]) -> list[Owed]:
    """Per milestone: released + bonuses paid - paid out (a payout owed), refunded + unapplied - refunds paid (a refund
    owed). Sums, not entries: a partial release or a second payment add up."""
    due: dict[tuple[LedgerKind, int], int] = {}
    for e in entries:
        ms = e.milestone_id if e.milestone_id is not None else (e.milestone.id if e.milestone else None)
        if ms is None:
            continue
        if e.kind in _OWED_BY:
            key = (_OWED_BY[e.kind], ms)
            due[key] = due.get(key, 0) + e.amount
        elif e.kind in (LedgerKind.PAYOUT, LedgerKind.REFUND_PAID):
            key = (e.kind, ms)
            due[key] = due.get(key, 0) - e.amount
    return [Owed(kind, ms, amount) for (kind, ms), amount in sorted(due.items()) if amount > 0]


@dataclass(frozen=True)
class Balance:
    """A telegram-mode ledger's sums. Invariants: funded = released + refunded + in_escrow; paid_out +
    payouts_owed = released + bonuses (bonuses the client paid, outside escrow); refunds_paid + refunds_owed =
    refunded + unapplied."""

    funded: int
    released: int
    refunded: int
    in_escrow: int
    paid_out: int
    payouts_owed: int
    refunds_paid: int
    refunds_owed: int
    unapplied: int
    bonuses: int = 0

    @property
    def held(self) -> int:
        """Money the agent holds: in escrow plus everything owed and not paid yet."""
        return self.in_escrow + self.payouts_owed + self.refunds_owed


def balance(entries: Iterable[LedgerEntry]) -> Balance:
    entries = list(entries)
    total = {k: 0 for k in LedgerKind}
    for e in entries:
        total[e.kind] += e.amount
    due = owed(entries)
    return Balance(
        funded=total[LedgerKind.FUND],
        released=total[LedgerKind.RELEASE],
        refunded=total[LedgerKind.REFUND],
        in_escrow=total[LedgerKind.FUND] - total[LedgerKind.RELEASE] - total[LedgerKind.REFUND],
        paid_out=total[LedgerKind.PAYOUT],
        payouts_owed=sum(o.amount for o in due if o.kind is LedgerKind.PAYOUT),
        refunds_paid=total[LedgerKind.REFUND_PAID],
        refunds_owed=sum(o.amount for o in due if o.kind is LedgerKind.REFUND_PAID),
        unapplied=total[LedgerKind.UNAPPLIED],
        bonuses=total[LedgerKind.BONUS],
    )
