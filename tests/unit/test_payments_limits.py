"""Telegram Payments' per-currency amount limits (issue 14, PRODUCT §7): read from Telegram's currencies.json,
an amount outside [min, max] refused with the range in money, a currency missing from the file or counted
with other decimals than the bot's refused; Stars and ledger mode untouched."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInput
from domain.model import PaymentMode
from domain.payments import CurrencyLimit, PaymentLimits, check_telegram_amount

# As Telegram publishes them (amounts as strings, other fields ignored).
FILE = {
    "USD": {
        "code": "USD",
        "title": "United States Dollar",
        "symbol": "$",
        "native": "$",
        "thousands_sep": ",",
        "decimal_sep": ".",
        "symbol_left": True,
        "space_between": False,
        "exp": 2,
        "min_amount": "100",
        "max_amount": "1000000",
    },
    "EUR": {"code": "EUR", "exp": 2, "min_amount": "93", "max_amount": "930000"},
    "JPY": {"code": "JPY", "exp": 0, "min_amount": 150, "max_amount": 1500000},  # ints are taken too
    "KWD": {"code": "KWD", "exp": 2, "min_amount": "31", "max_amount": "310000"},  # the bot counts 3 decimals
}


@pytest.fixture
def limits() -> PaymentLimits:
    return PaymentLimits.from_json(FILE)


def test_the_file_is_read_into_min_max_and_decimals_per_currency(limits):
    assert limits.currencies["USD"] == CurrencyLimit(100, 1_000_000, 2)
    assert limits.currencies["EUR"] == CurrencyLimit(93, 930_000, 2)
    assert limits.currencies["JPY"] == CurrencyLimit(150, 1_500_000, 0)
    assert set(limits.currencies) == {"USD", "EUR", "JPY", "KWD"}


def test_an_entry_that_cant_be_read_is_left_out_and_an_unreadable_file_is_an_error():
    data = {
        "USD": FILE["USD"],
        "AAA": {"exp": 2, "min_amount": "ten", "max_amount": "1000"},
        "BBB": {"exp": 2, "min_amount": "500", "max_amount": "100"},  # min above max
        "CCC": {"exp": 2, "min_amount": "1.5", "max_amount": "100"},
        "DDD": {"exp": 2, "max_amount": "100"},
        "EEE": "not an object",
        "FFF": {"exp": True, "min_amount": "1", "max_amount": "100"},
    }
    assert set(PaymentLimits.from_json(data).currencies) == {"USD"}
    for bad in ([], "USD", None, {}, {"AAA": data["AAA"]}):
        with pytest.raises(ValueError):
            PaymentLimits.from_json(bad)


def test_amounts_from_min_to_max_both_included_are_taken(limits):
    for amount in (100, 101, 150_000, 999_999, 1_000_000):
        assert limits.check_amount(amount, "USD") == amount
    assert limits.check_amount(150, "JPY") == 150


@pytest.mark.parametrize("amount", [1, 99, 1_000_001, 50_000_000])
def test_an_amount_outside_the_range_is_refused_with_the_range_in_money(limits, amount):
    with pytest.raises(InvalidInput) as refused:
        limits.check_amount(amount, "USD")
    err = refused.value
    assert err.reason == "Amount must be from $1.00 to $10,000.00: the range Telegram Payments takes in USD today."
    assert err.msgid == ("Amount must be from {min} to {max}: the range Telegram Payments takes in {currency} today.")
    assert err.params == {"min": "$1.00", "max": "$10,000.00", "currency": "USD"}


def test_the_range_is_the_currencys_own(limits):
    with pytest.raises(InvalidInput, match=r"from €0\.93 to €9,300\.00: .* in EUR today"):
        limits.check_amount(930_001, "EUR")
    with pytest.raises(InvalidInput, match=r"from ¥150 to ¥1,500,000: .* in JPY today"):
        limits.check_amount(149, "JPY")
    assert limits.check_amount(930_000, "EUR") == 930_000


def test_a_currency_missing_from_the_file_is_refused(limits):
    for check in (lambda: limits.check_currency("CHF"), lambda: limits.check_amount(10_000, "CHF")):
        with pytest.raises(InvalidInput) as refused:
            check()
        assert refused.value.reason == "Telegram Payments doesn't take CHF: choose e.g. USD, EUR or GBP."


def test_a_currency_counted_with_other_decimals_than_the_bots_is_refused(limits):
    # KWD has 3 decimals for the bot (CLDR), 2 in this file: 1000 would be 1.000 KWD here and 10.00 there.
    for check in (lambda: limits.check_currency("KWD"), lambda: limits.check_amount(10_000, "KWD")):
        with pytest.raises(InvalidInput) as refused:
            check()
        assert refused.value.reason == (
            "Telegram Payments counts KWD in other units than this bot does: choose another currency, "
            "e.g. USD, EUR or GBP."
        )
    odd = PaymentLimits.from_json({"USD": {**FILE["USD"], "exp": 0}})
    with pytest.raises(InvalidInput, match="other units"):
        odd.check_amount(150_000, "USD")
    assert limits.check_currency("USD") == CurrencyLimit(100, 1_000_000, 2)


def test_only_telegram_fiat_is_checked_and_only_once_limits_are_loaded(limits):
    with pytest.raises(InvalidInput):
        check_telegram_amount(limits, PaymentMode.TELEGRAM, "USD", 5_000_000)
    # Ledger mode holds no money; Stars have their own rules; nothing loaded: nothing to check against.
    assert check_telegram_amount(limits, PaymentMode.LEDGER, "USD", 5_000_000) == 5_000_000
    assert check_telegram_amount(limits, PaymentMode.TELEGRAM, "XTR", 5_000_000) == 5_000_000
    assert check_telegram_amount(None, PaymentMode.TELEGRAM, "USD", 5_000_000) == 5_000_000
    assert check_telegram_amount(limits, PaymentMode.TELEGRAM, "USD", 150_000) == 150_000
