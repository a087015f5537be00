"""Time zones by stored name (domain.zones): one reading of IANA names and UTC offsets for all layers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.parsing import parse_timezone, zone_for
from domain.model import Role
from domain.reminders import Recipient, ReminderKind, ReminderSettings, plan
from domain.zones import UnknownZone, offset_name, parse_offset, zone, zone_named

from .helpers import reminder_subject

SUMMER = datetime(2026, 7, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "offset"),
    [
        ("UTC+03:00", timedelta(hours=3)),  # as stored
        ("UTC-05:30", -timedelta(hours=5, minutes=30)),
        ("UTC+00:00", timedelta(0)),
        ("UTC+14:00", timedelta(hours=14)),
        ("UTC-12:00", -timedelta(hours=12)),
        ("UTC+3", timedelta(hours=3)),  # as people type them
        ("UTC+0530", timedelta(hours=5, minutes=30)),
        ("utc+3", timedelta(hours=3)),
        ("GMT+2", timedelta(hours=2)),  # UTC+2, unlike the IANA Etc/GMT+2
        ("UTC\u22123", -timedelta(hours=3)),  # a typographic minus
        ("+03:00", timedelta(hours=3)),
    ],
)
def test_offsets_become_fixed_zones_named_as_stored(name, offset):
    tz = zone_named(name)
    assert tz.utcoffset(SUMMER) == offset
    assert tz.tzname(SUMMER) == offset_name(offset)
    assert zone_named(offset_name(offset)) == tz


@pytest.mark.parametrize(
    ("name", "offset"),
    [
        ("Europe/Berlin", timedelta(hours=2)),  # summer time
        ("Asia/Kolkata", timedelta(hours=5, minutes=30)),
        ("UTC", timedelta(0)),
        ("Etc/GMT+2", -timedelta(hours=2)),  # the IANA name means UTC-2, and stays so
    ],
)
def test_iana_names_are_zoneinfo(name, offset):
    tz = zone_named(name)
    assert tz == ZoneInfo(name)
    assert SUMMER.astimezone(tz).utcoffset() == offset


@pytest.mark.parametrize(
    "name",
    [
        "Nowhere/Land",
        "",
        "Europe",  # no zone; a directory of tzdata
        "UTC+15",
        "UTC-13",
        "UTC+3:60",
        "UTC+3.5",
        "UTCx",
        "UTC 3",
        "../etc/passwd",
    ],
)
def test_anything_else_is_an_unknown_zone(name):
    with pytest.raises(UnknownZone):
        zone_named(name)
    assert isinstance(UnknownZone(name), ValueError)


def test_parse_offset_tells_no_offset_from_a_bad_one():
    assert parse_offset("Europe/Berlin") is None
    assert parse_offset(" UTC-3 ") == -timedelta(hours=3)
    with pytest.raises(UnknownZone):
        parse_offset("UTC+14:30")


@given(st.integers(-12 * 4, 14 * 4))
def test_every_offset_round_trips_through_its_name(quarters):
    offset = timedelta(minutes=15 * quarters)
    name = offset_name(offset)
    assert parse_offset(name) == offset
    assert zone_named(name).utcoffset(None) == offset
    assert parse_timezone(name) == name  # the bot stores exactly this name


@pytest.mark.parametrize(
    "text",
    [
        "UTC+3",
        "gmt+2",
        "+0530",
        "UTC-05:30",
        "\u22123",
        "utc",
        "europe/berlin",
        "berlin",
        "Etc/GMT+2",
        "Asia/Kolkata",
    ],
)
def test_the_bot_and_the_reminders_read_a_name_alike(text):
    """What a person types is stored as parse_timezone's name; the bot's zone_for and the reminder
    policy's zone then give the same zone for it."""
    stored = parse_timezone(text)
    assert zone(stored, "UTC") == zone_for(text) == zone_named(stored)


def test_a_missing_or_unknown_name_falls_back_to_the_default():
    assert zone(None, "Europe/Berlin") == ZoneInfo("Europe/Berlin")
    assert zone("", "UTC+3").utcoffset(None) == timedelta(hours=3)
    assert zone("Gone/Zone", "Asia/Kolkata") == ZoneInfo("Asia/Kolkata")
    assert zone("Europe", "UTC") == ZoneInfo("UTC")  # the old code raised IsADirectoryError
    with pytest.raises(UnknownZone):  # a bad default is a configuration error, not silently UTC
        zone(None, "Nowhere/Land")


@pytest.mark.parametrize(
    ("name", "offset"),
    [
        ("UTC+0530", timedelta(hours=5, minutes=30)),  # the old reminder code raised ValueError (a 22-day offset)
        ("utc+3", timedelta(hours=3)),  # ... and read these as unknown: the default zone instead
        ("GMT+2", timedelta(hours=2)),
    ],
)
def test_reminder_zones_read_offsets_as_the_bot_does(name, offset):
    """The reminder policy had its own reading of "UTC+..." names: it agreed with the bot only on the
    exact 'UTC+3'/'UTC+03:00' forms. A deployment default such as DEFAULT_TIMEZONE=GMT+2 (which the
    bot's own screens read as UTC+2) sent reminders at 09:00 UTC, or broke the sweep."""
    assert zone(name, "UTC").utcoffset(None) == offset == zone_for(name).utcoffset(None)
    subject = reminder_subject(milestone_id=1, amount=100, contract_id=1, recipients=(Recipient(2, Role.FREELANCER),))
    settings = ReminderSettings(default_timezone=name)  # the freelancer has no zone of their own
    [today] = [r for r in plan(subject, settings) if r.kind is ReminderKind.DUE_TODAY]
    assert today.at == datetime(2026, 12, 10, 9, tzinfo=UTC) - offset


def test_iana_names_that_look_like_offsets_stay_iana_names():
    for name in ("GMT+0", "GMT-0"):
        assert zone_named(name) == ZoneInfo(name) == zone_for(name)
