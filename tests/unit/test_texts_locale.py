"""Texts in another language (bot/texts.py): dates, times and money in the reader's locale, a person's
own text isolated in a right-to-left language, English unchanged."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.actions import event_label, event_news, result_text, said
from bot.i18n import FSI, PDI, speaking
from bot.texts import e, esc, fmt_date, fmt_time, money
from domain.actions import Action

AT = datetime(2026, 12, 11, 10, 0, tzinfo=UTC)


def test_english_stays_as_it_was():
    with speaking("en"):
        assert fmt_date(date(2026, 12, 11)) == "Fri 11 Dec 2026"
        assert fmt_time(AT, ZoneInfo("Europe/Berlin")) == "Fri 11 Dec 2026, 11:00 (Europe/Berlin)"
        assert money(125050, "USD") == "$1,250.50"
        assert e("<Design>") == "&lt;Design&gt;"


def test_dates_and_money_follow_the_readers_locale():
    with speaking("ru"):
        assert "дек" in fmt_date(date(2026, 12, 11)) and "пт" in fmt_date(date(2026, 12, 11))
        shown = fmt_time(AT, ZoneInfo("Europe/Berlin"))
        assert "11:00" in shown and shown.endswith("(Europe/Berlin)") and "Dec" not in shown
        assert money(125050, "USD") == "1\xa0250,50\xa0$"
    with speaking("es"):
        assert "dic" in fmt_date(date(2026, 12, 11))


def test_a_persons_own_text_is_isolated_in_a_right_to_left_language():
    with speaking("fa"):
        assert e("<Design>") == f"{FSI}&lt;Design&gt;{PDI}"
        assert esc("<Design>") == "&lt;Design&gt;"  # our words, or inside an attribute


def test_empty_table_texts_stay_empty():
    """gettext answers "" with its catalog's header: an empty row text never reaches it."""
    with speaking("ru"):
        assert said("") == "" and said(None) == ""
        assert result_text(Action.EDIT) == ""
        assert event_news("contract_created") == ""
    assert event_label("activated") == "activated & recorded as funded"
    assert event_label("something_new") == "something new"
