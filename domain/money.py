"""Money in integer minor units: currency precision, bounds (R10) and display."""

from __future__ import annotations

from functools import cache, lru_cache

from babel.numbers import format_currency, format_decimal, get_currency_precision, list_currencies

from .errors import N_, Amount, InvalidInput, Number

MAX_MAJOR_UNITS = 1_000_000_000
STARS = "XTR"  # Telegram Stars (PRODUCT §7): not ISO 4217, whole stars only


@cache
def known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def is_currency(code: str) -> bool:
    return code in known_currencies() or code == STARS


def validate_currency(code: str) -> str:
    if not isinstance(code, str) or not is_currency(code):
        raise InvalidInput(N_("Currency must be a 3-letter ISO code such as USD, EUR or JPY."))
    return code


@cache
def currency_decimals(code: str) -> int:
    """Number of minor-unit digits: USD 2, JPY 0, KWD 3 (from CLDR through Babel); Stars 0."""
    return 0 if code == STARS else get_currency_precision(code)


def max_minor_units(currency: str) -> int:
    scale: int = 10 ** currency_decimals(currency)  # typeshed types int ** int as Any (a negative power is a float)
    return MAX_MAJOR_UNITS * scale


def amount_rule(currency: str) -> InvalidInput:
    """The refusal that says how an amount in `currency` is written (its decimals, an example)."""
    decimals = currency_decimals(currency)
    if decimals == 0:
        return InvalidInput(N_("Amount must be a positive whole number, e.g. 1500."))
    example = Amount(1250 * 10**decimals + 5 * 10 ** (decimals - 1), currency, plain=True)  # 1,250.50
    return InvalidInput(
        N_("Amount must be a positive number with at most {decimals} decimals, e.g. 1500 or {example}."),
        decimals=decimals,
        example=example,
    )


def amount_rule_text(currency: str) -> str:
    """`amount_rule` in English (logs, tests); a reader gets `why(amount_rule(currency))`."""
    return amount_rule(currency).reason


def validate_amount(minor: int, currency: str) -> int:
    """R10: positive integer minor units, at most 1,000,000,000 major units."""
    validate_currency(currency)
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise amount_rule(currency)
    if minor <= 0:
        raise InvalidInput(N_("Amount must be greater than zero."))
    if minor > max_minor_units(currency):
        raise InvalidInput(
            N_("Amount must be at most {max} {currency}."), max=Number(MAX_MAJOR_UNITS), currency=currency
        )
    return minor


def format_amount_plain(minor: int, currency: str) -> str:
    """Minor units as '1,250.50' ('5,000' for JPY, '1.500' for KWD); bot.parsing.parse_amount reads it back."""
    decimals = currency_decimals(currency)
    sign = "-" if minor < 0 else ""
    major, fraction = divmod(abs(minor), 10**decimals)
    text = f"{major:,}"
    if decimals:
        text += "." + str(fraction).zfill(decimals)
    return sign + text


@lru_cache(maxsize=4096)  # a card shows the same amounts at every tap; Babel's formatting is not cheap
def format_money(minor: int, currency: str, locale: str = "en_US") -> str:
    """Human display, e.g. $1,250.50 or ¥5,000; exact (Decimal arithmetic, no floats)."""
    from decimal import Decimal

    if currency == STARS:
        return f"{format_decimal(minor, locale=locale)} ⭐"
    decimals = currency_decimals(currency)
    value = Decimal(minor).scaleb(-decimals)
    return format_currency(value, currency, locale=locale, currency_digits=True)
