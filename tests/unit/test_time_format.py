"""The one way a moment is shown (bot.texts.fmt_time): in the viewer's zone, with the zone named."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.texts import fmt_time, zone_label
from domain.zones import offset_name, zone_named

ZONES = sorted(available_timezones())
SHOWN = re.compile(
    r"(?P<wd>\w{3}) (?P<day>\d{2}) (?P<mon>\w{3}) (?P<year>\d{4}), (?P<hh>\d{2}):(?P<mm>\d{2}) "
    r"\((?P<zone>[^,()]+)(?:, (?P<offset>UTC[+-]\d{2}:\d{2}))?\)"
)


def test_examples():
    at = datetime(2026, 12, 11, 10, 0, tzinfo=UTC)
    assert fmt_time(at, ZoneInfo("Europe/Berlin")) == "Fri 11 Dec 2026, 11:00 (Europe/Berlin)"
    assert fmt_time(at, ZoneInfo("UTC")) == "Fri 11 Dec 2026, 10:00 (UTC)"
    assert fmt_time(at, UTC) == "Fri 11 Dec 2026, 10:00 (UTC)"
    assert fmt_time(at, zone_named("UTC+03:00")) == "Fri 11 Dec 2026, 13:00 (UTC+03:00)"
    assert fmt_time(at, ZoneInfo("Asia/Kolkata")) == "Fri 11 Dec 2026, 15:30 (Asia/Kolkata)"
    # The date is the viewer's: late evening in New York is the day before.
    late = datetime(2026, 12, 11, 2, 0, tzinfo=UTC)
    assert fmt_time(late, ZoneInfo("America/New_York")) == "Thu 10 Dec 2026, 21:00 (America/New_York)"


def test_iana_etc_zones_are_named_by_their_real_offset():
    """IANA's Etc/GMT+2 is two hours *behind* UTC: shown as UTC-02:00, never as a name that reads backwards."""
    at = datetime(2026, 12, 11, 10, 0, tzinfo=UTC)
    assert fmt_time(at, ZoneInfo("Etc/GMT+2")) == "Fri 11 Dec 2026, 08:00 (UTC-02:00)"
    assert fmt_time(at, ZoneInfo("Etc/UTC")) == "Fri 11 Dec 2026, 10:00 (UTC)"


def test_a_wall_time_that_happens_twice_also_gives_the_offset():
    """On 25 Oct 2026 Berlin's clocks go from 03:00 back to 02:00: 02:30 happens twice."""
    berlin = ZoneInfo("Europe/Berlin")
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    second = first + timedelta(hours=1)
    assert fmt_time(first, berlin) == "Sun 25 Oct 2026, 02:30 (Europe/Berlin, UTC+02:00)"
    assert fmt_time(second, berlin) == "Sun 25 Oct 2026, 02:30 (Europe/Berlin, UTC+01:00)"
    assert fmt_time(second + timedelta(hours=1), berlin) == "Sun 25 Oct 2026, 03:30 (Europe/Berlin)"


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        fmt_time(datetime(2026, 12, 11, 10, 0), UTC)


def test_zone_label_alone_for_wall_clock_settings():
    assert zone_label(ZoneInfo("Europe/Berlin")) == "Europe/Berlin"
    assert zone_label(UTC) == "UTC"
    assert zone_label(timezone(timedelta(hours=-5, minutes=-30))) == "UTC-05:30"


moments = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 12, 31), timezones=st.just(UTC)
).flatmap(
    # Any aware datetime: in UTC, or the same instant seen from some other zone or fixed offset.
    lambda at: st.sampled_from(
        [at, at.astimezone(ZoneInfo("Asia/Tokyo")), at.astimezone(timezone(timedelta(hours=-3, minutes=-30)))]
    )
)


@given(at=moments, name=st.sampled_from(ZONES))
def test_any_moment_in_any_zone_shows_that_zones_wall_time_and_names_the_zone(at, name):
    tz = ZoneInfo(name)
    local = at.astimezone(tz)
    shown = fmt_time(at, tz)
    found = SHOWN.fullmatch(shown)
    assert found, shown
    # The wall time shown is the instant converted to the zone (to the minute).
    assert (found["wd"], found["day"], found["mon"], found["year"], found["hh"], found["mm"]) == (
        local.strftime("%a"),
        f"{local.day:02d}",
        local.strftime("%b"),
        f"{local.year:04d}",
        f"{local.hour:02d}",
        f"{local.minute:02d}",
    )
    # The zone is named: by its IANA name, or (for UTC and the Etc/ offsets) by its offset; either way
    # the name leads back to a zone with the same offset at that moment.
    if not name.startswith("Etc/"):
        assert found["zone"] == name
    else:
        assert found["zone"] == ("UTC" if not local.utcoffset() else offset_name(local.utcoffset()))
    named = zone_named(found["zone"])
    assert at.astimezone(named).utcoffset() == local.utcoffset()
    # Where that wall time happens twice, the offset tells which one.
    ambiguous = local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()
    assert (found["offset"] is not None) == ambiguous
    if ambiguous:
        assert found["offset"] == offset_name(local.utcoffset())
