"""A count or a limit inside a sentence of ours (`Number`) is grouped as its reader's language groups
numbers: "2.000 caracteres" in Spanish (2,000 there reads as 2), "2 000" in Russian; the English text is
unchanged (`reason`: "2,000 characters")."""

from __future__ import annotations

import pickle

import pytest

from bot.i18n import speaking, why
from bot.parsing import parse_amount
from domain.errors import InvalidInput, Number
from domain.model import check_text
from domain.money import validate_amount


def test_a_number_reads_as_english_grouped_it():
    n = Number(1_000_000_000)
    assert str(n) == f"{n}" == f"{n:,}" == "1,000,000,000"
    assert n == 1_000_000_000 and repr(n) == "Number(1000000000)"
    assert pickle.loads(pickle.dumps(n)) == n and type(n + 1) is int


def _too_long() -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        check_text("x" * 2001, "title", min_len=1, max_len=2000)
    return refused.value


def test_english_is_unchanged():
    err = _too_long()
    assert err.msgid == "The {what} must be at most {max} characters (this one has {n})."
    assert err.reason == why(err) == "The title must be at most 2,000 characters (this one has 2,001)."


@pytest.mark.parametrize(
    ("lang", "max_", "n"),
    [("es", "2.000", "2.001"), ("pt_BR", "2.000", "2.001"), ("ru", "2\xa0000", "2\xa0001"), ("fa", "2,000", "2,001")],
)
def test_a_limit_in_the_readers_grouping(lang, max_, n):
    err = _too_long()
    with speaking(lang):
        text = why(err)
    assert max_ in text and n in text and "2,000" not in text.replace(max_, "")


@pytest.mark.parametrize(
    ("lang", "grouped"), [("en", "1,000,000,000"), ("es", "1.000.000.000"), ("ru", "1\xa0000\xa0000\xa0000")]
)
def test_the_largest_amount_in_the_readers_grouping(lang, grouped):
    with pytest.raises(InvalidInput) as by_domain:
        validate_amount(10**15, "USD")
    with pytest.raises(InvalidInput) as typed:  # its message id still says {max:,}: met as well
        parse_amount("2000000000", "USD")
    with speaking(lang):
        assert grouped in why(by_domain.value) and grouped in why(typed.value)
