"""A dot followed by three digits (issue 12, point 11): in a currency with decimals it is asked back,
never silently read as thousands; where the currency has no decimals it can only mean thousands."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.parsing import currency_decimals, format_amount_plain, parse_amount
from domain.errors import InvalidInput
from domain.money import format_money

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TWO_DECIMALS = ["USD", "EUR", "GBP"]
heads = st.integers(1, 999)  # what comes before the dot: 1-3 digits, no leading zero
tails = st.integers(0, 999).map(lambda n: f"{n:03d}")  # exactly three digits after it


@pytest.mark.parametrize(
    ("text", "currency", "question"),
    [
        ("12.345", "USD", "Did you mean $12,345.00 or $12.35? Type it as 12345 or 12.35."),
        ("3.999", "USD", "Did you mean $3,999.00 or $4.00? Type it as 3999 or 4.00."),
        ("1.500", "USD", "Did you mean $1,500.00 or $1.50? Type it as 1500 or 1.50."),
        ("10.555", "USD", "Did you mean $10,555.00 or $10.56? Type it as 10555 or 10.56."),
        ("$12.345", "USD", "Did you mean $12,345.00 or $12.35? Type it as 12345 or 12.35."),
        ("12.345 usd", "USD", "Did you mean $12,345.00 or $12.35? Type it as 12345 or 12.35."),
        ("1.500", "EUR", "Did you mean €1,500.00 or €1.50? Type it as 1500 or 1.50."),
        ("999.999", "GBP", "Did you mean £999,999.00 or £1,000.00? Type it as 999999 or 1000.00."),
    ],
)
def test_a_dot_and_three_digits_is_asked_back(text, currency, question):
    with pytest.raises(InvalidInput) as refused:
        parse_amount(text, currency)
    assert str(refused.value) == question


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("1,250.50", "USD", 125050),
        ("1 250,50", "EUR", 125050),
        ("1.250,50", "EUR", 125050),
        ("1,500", "USD", 150000),
        ("12345", "USD", 1234500),
        ("12,345", "USD", 1234500),  # a comma and three digits stays thousands
        ("1.000.000", "EUR", 100000000),  # several dots can only group thousands
        ("12.35", "USD", 1235),
        ("12.3", "USD", 1230),
        ("12.345", "JPY", 12345),  # no decimals: the dot can only group thousands
        ("5.000", "JPY", 5000),
        ("1.500", "KWD", 1500),  # three decimals: the dot is the decimal point (1.5 KWD)
    ],
)
def test_unambiguous_forms_read_as_before(text, currency, minor):
    assert parse_amount(text, currency) == minor


def _readings(head: int, tail: str, currency: str) -> tuple[int, int]:
    """The two things 'head.tail' can mean, in minor units: thousands, and a rounded decimal."""
    decimals = currency_decimals(currency)
    thousands = (head * 1000 + int(tail)) * 10**decimals
    decimal = Decimal(f"{head}.{tail}").quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return thousands, int(decimal.scaleb(decimals))


@FAST
@given(heads, tails, st.sampled_from(TWO_DECIMALS))
def test_dot_three_digits_names_both_readings_and_each_typed_form_reads_back(head, tail, currency):
    with pytest.raises(InvalidInput) as refused:
        parse_amount(f"{head}.{tail}", currency)
    thousands, decimal = _readings(head, tail, currency)
    question = str(refused.value)
    assert question.startswith(
        f"Did you mean {format_money(thousands, currency)} or {format_money(decimal, currency)}?"
    )
    typed = question.split("Type it as ", 1)[1].removesuffix(".").split(" or ")
    assert [parse_amount(t, currency) for t in typed] == [thousands, decimal]


@FAST
@given(heads, tails)
def test_without_decimals_a_dot_and_three_digits_is_thousands(head, tail):
    assert parse_amount(f"{head}.{tail}", "JPY") == head * 1000 + int(tail)


@FAST
@given(heads, tails, st.sampled_from(TWO_DECIMALS))
def test_a_comma_and_three_digits_is_still_thousands(head, tail, currency):
    assert parse_amount(f"{head},{tail}", currency) == (head * 1000 + int(tail)) * 100


@FAST
@given(st.integers(1, 10**11), st.sampled_from(TWO_DECIMALS + ["JPY", "KWD"]))
def test_what_the_bot_shows_is_never_asked_back(minor, currency):
    # format_amount_plain always writes every decimal ("1,500.00"), so it is never ambiguous.
    minor = min(minor, 10**9 * 10 ** currency_decimals(currency))
    assert parse_amount(format_amount_plain(minor, currency), currency) == minor
