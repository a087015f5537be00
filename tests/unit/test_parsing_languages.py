"""What people type, read in the language they speak (PRODUCT §9): dates in their words, amounts with
their decimal comma; the refusals carry a message id and its values, the English text unchanged."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.i18n import speaking, why
from bot.parsing import parse_amount, parse_due_date
from domain.errors import InvalidInput

TODAY = dt.date(2026, 3, 10)


@pytest.mark.parametrize(
    ("lang", "text"),
    [("ru", "завтра"), ("es", "mañana"), ("pt_BR", "amanhã"), ("fa", "فردا"), ("ru", "tomorrow")],
)
def test_a_due_date_in_their_words_and_in_english(lang, text):
    with speaking(lang):
        assert parse_due_date(text, TODAY, "UTC") == TODAY + dt.timedelta(days=1)


def test_english_reads_no_other_language():
    with pytest.raises(InvalidInput):
        parse_due_date("завтра", TODAY, "UTC")


@pytest.mark.parametrize("lang", ["ru", "es", "pt_BR"])
def test_digits_alone_are_still_no_date(lang):
    with speaking(lang), pytest.raises(InvalidInput):
        parse_due_date("15", TODAY, "UTC")


@pytest.mark.parametrize("lang", ["en", "ru", "es", "pt_BR", "fa"])
def test_a_decimal_comma_reads_as_decimals(lang):
    with speaking(lang):
        assert parse_amount("1,5", "USD") == 150
        assert parse_amount("1 250,50", "EUR") == 125050


@pytest.mark.parametrize("lang", ["ru", "es", "pt_BR"])
def test_a_comma_and_three_digits_is_asked_where_the_comma_is_decimal(lang):
    with speaking(lang):
        with pytest.raises(InvalidInput) as refused:
            parse_amount("12,345", "USD")
        typed = refused.value.params["typed"]
        assert (refused.value.params["major"], typed) == (12345, "12,35")
        assert parse_amount("12345", "USD") == 1234500 and parse_amount(typed, "USD") == 1235
        assert parse_amount("12,345", "JPY") == 12345  # no decimals: only thousands


def test_in_english_a_comma_and_three_digits_stays_thousands():
    assert parse_amount("12,345", "USD") == 1234500


@pytest.mark.parametrize("lang", ["en", "ru", "es", "pt_BR", "fa"])
@pytest.mark.parametrize("currency", ["USD", "KWD"])
def test_the_example_a_refusal_gives_reads_back(lang, currency):
    with speaking(lang):
        with pytest.raises(InvalidInput) as refused:
            parse_amount("abc", currency)
        assert parse_amount(refused.value.params["example"], currency) > 0


def test_a_refusal_keeps_its_english_text():
    with pytest.raises(InvalidInput) as refused:
        parse_amount("2000000000", "USD")
    err = refused.value
    assert err.msgid == "Amount must be at most {max:,} {code}."
    assert err.reason == str(err) == why(err) == "Amount must be at most 1,000,000,000 USD."
