"""Time zones by name: IANA names and fixed UTC offsets ('UTC+03:00', 'UTC+3') as tzinfo objects."""

from __future__ import annotations

import re
from datetime import timedelta, timezone, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo

MIN_OFFSET = timedelta(hours=-12)
MAX_OFFSET = timedelta(hours=14)

# An offset as people type it ("UTC+3", "gmt-5:30", "+0530", "−3" with a typographic minus) and as
# it is stored ("UTC+03:00"). "GMT+2" is UTC+2 here, unlike the IANA name Etc/GMT+2 (UTC-2).
_OFFSET_RE = re.compile(
    r"(?:(?:utc|gmt)\s*)?(?P<sign>[+\-\u2212])\s*(?P<hours>\d{1,2})(?::?(?P<minutes>\d{2}))?",
    re.IGNORECASE,
)


class UnknownZone(ValueError):
    """Neither a time-zone name nor a UTC offset within -12:00..+14:00."""


def parse_offset(text: str) -> timedelta | None:
    """The UTC offset `text` spells, or None if it is no offset at all. Raise UnknownZone for an
    offset outside -12:00..+14:00 (or with 60 minutes or more)."""
    match = _OFFSET_RE.fullmatch(text.strip())
    if match is None:
        return None
    hours, minutes = int(match["hours"]), int(match["minutes"] or 0)
    offset = timedelta(hours=hours, minutes=minutes)
    if match["sign"] != "+":
        offset = -offset
    if minutes >= 60 or not MIN_OFFSET <= offset <= MAX_OFFSET:
        raise UnknownZone(f"offset out of range: {text!r}")
    return offset


def offset_name(offset: timedelta) -> str:
    """The stored name of a fixed offset: 'UTC+03:00', 'UTC-05:30', 'UTC+00:00'."""
    total = int(offset.total_seconds()) // 60
    sign = "-" if total < 0 else "+"
    return f"UTC{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}"


@lru_cache(maxsize=1024)
def zone_named(name: str) -> tzinfo:
    """The tzinfo for a stored zone name: an IANA name as tzdata spells it ('Europe/Berlin'), or
    else a UTC offset in any form `parse_offset` reads ('UTC+03:00', 'UTC+3'), as a fixed-offset
    zone named by `offset_name`. Raise UnknownZone for anything else. (IANA first: 'GMT+0' and
    'GMT-0' are IANA names too.)"""
    try:
        return ZoneInfo(name)
    # ZoneInfoNotFoundError is a KeyError; ValueError: not a relative path ("", "/etc/x");
    # OSError: a directory of tzdata such as "Europe".
    except (KeyError, ValueError, OSError):
        pass
    offset = parse_offset(name)
    if offset is None:
        raise UnknownZone(f"unknown time zone: {name!r}")
    return timezone(offset, offset_name(offset))


@lru_cache(maxsize=1024)
def zone(name: str | None, default: str) -> tzinfo:
    """A person's zone: `name`, or `default` when they have none or it is unknown (say, a zone
    tzdata no longer has). An unknown `default` raises UnknownZone: a configuration error."""
    if name:
        try:
            return zone_named(name)
        except UnknownZone:
            pass
    return zone_named(default)
