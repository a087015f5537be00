"""An amount the bot shows can be sent back as it is (PRODUCT §9): money as Babel writes it in each language
we speak (its symbols: "JP¥" in Portuguese, "$CA" in Persian; Persian's direction mark before the amount)
reads back to the same minor units in that language, and Persian digits and marks read as ASCII ones."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from babel.numbers import get_currency_symbol
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.i18n import LANGUAGES, babel_locale, speaking
from bot.parsing import parse_amount, parse_due_date, parse_quiet_hours, parse_timezone
from bot.texts import money
from domain.errors import InvalidInput
from domain.money import STARS, currency_decimals, known_currencies, max_minor_units

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Every currency the bot knows that Babel writes with a symbol in each language ("¤", the sign of no
# currency, is none), and Telegram Stars.
SHOWN = sorted(
    {c for c in known_currencies() if all(get_currency_symbol(c, babel_locale(lang)) != "¤" for lang in LANGUAGES)}
    | {STARS}
)
BIDI = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
TODAY = dt.date(2026, 3, 10)


def shown(minor: int, currency: str) -> str:
    """money() as the reader reads it (it is HTML-escaped for Telegram)."""
    return html.unescape(money(minor, currency))


@FAST
@given(st.sampled_from(list(LANGUAGES)), st.sampled_from(SHOWN), st.data())
def test_money_as_shown_reads_back_in_its_language(lang, currency, data):
    minor = data.draw(st.integers(1, max_minor_units(currency)), label="minor")
    with speaking(lang):
        assert parse_amount(shown(minor, currency), currency) == minor


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_currency_as_shown_reads_back(lang):
    """Each currency once (the property test above samples them): a symbol Babel writes is known."""
    with speaking(lang):
        for currency in SHOWN:
            minor = 123456789 * 10 ** currency_decimals(currency) // 100
            assert parse_amount(shown(minor, currency), currency) == minor, (lang, currency, shown(minor, currency))


def test_the_symbols_babel_writes_in_each_language():
    with speaking("pt_BR"):
        assert shown(500000, "JPY") == "JP¥\xa0500.000"
        assert parse_amount("JP¥ 500.000", "JPY") == 500000
        assert parse_amount("AU$ 1.234,56", "AUD") == 123456
    with speaking("fa"):
        assert shown(150000, "USD") == "\u200e$\xa01,500.00"
        assert parse_amount("\u200e$\xa01,500.00", "USD") == 150000
        assert parse_amount("$CA 1,500", "CAD") == 150000
    with speaking("ru"):
        assert parse_amount("123\xa0456\xa0F\u202fCFA", "XOF") == 123456  # Babel's narrow space inside
    assert parse_amount("F CFA 1,500", "XOF") == 1500  # a plain space for Babel's narrow one


@pytest.mark.parametrize("lang", list(LANGUAGES))
@pytest.mark.parametrize("mark", list(BIDI))
def test_direction_marks_are_not_read(lang, mark):
    with speaking(lang):
        assert parse_amount(f"{mark}$1,500.00{mark}", "USD") == 150000
        assert parse_amount(f"{mark}1500", "USD") == 150000


def test_a_symbol_of_another_currency_is_still_refused():
    with speaking("pt_BR"), pytest.raises(InvalidInput) as refused:
        parse_amount("JP¥ 500", "USD")
    assert refused.value.msgid.startswith("This contract is in {code}")


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("۱۵۰۰", "USD", 150000),  # Persian digits
        ("١٥٠٠", "USD", 150000),  # Arabic-Indic digits
        ("١٢٣", "USD", 12300),
        ("۱٬۲۵۰٫۵۰", "USD", 125050),  # ٬ groups thousands, ٫ is the decimal mark
        ("۱۲٫۵", "USD", 1250),
        ("۱٬۵۰۰", "USD", 150000),
        ("$۱٬۵۰۰", "USD", 150000),
        ("\u200f۱٬۵۰۰ ریال", "IRR", 1500 * 10 ** currency_decimals("IRR")),
        ("۵٬۰۰۰ ¥", "JPY", 5000),
    ],
)
def test_persian_digits_and_marks_read_in_persian(text, currency, minor):
    with speaking("fa"):
        assert parse_amount(text, currency) == minor


@pytest.mark.parametrize("lang", ["en", "ru", "es", "pt_BR"])
@pytest.mark.parametrize("text", ["۱۵۰۰", "١٢٣", "1٫5", "1٬500"])
def test_persian_digits_stay_unread_in_other_languages(lang, text):
    """As before languages (tests/unit/test_parsing.py: "١٢٣" is refused in English)."""
    with speaking(lang), pytest.raises(InvalidInput):
        parse_amount(text, "USD")


def test_dates_times_and_zones_read_without_direction_marks_and_in_persian_digits():
    with speaking("fa"):
        assert parse_due_date("\u200f۲۰۲۶-۱۲-۳۱\u200e", TODAY, "UTC") == dt.date(2026, 12, 31)
        assert parse_due_date("\u2067فردا\u2069", TODAY, "UTC") == TODAY + dt.timedelta(days=1)
        assert parse_quiet_hours("\u200f۲۲:۰۰-۰۸:۰۰") == (dt.time(22), dt.time(8))
        assert parse_timezone("\u2068UTC+۳\u2069") == "UTC+03:00"
    assert parse_due_date("\u200e31.12.2026", TODAY, "UTC") == dt.date(2026, 12, 31)
    assert parse_timezone("\u200eEurope/Berlin") == "Europe/Berlin"
