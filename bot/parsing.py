"""Pure parsers for what users type: currencies, amounts, due dates, time zones and quiet hours."""

from __future__ import annotations

import datetime as _dt
import re
import zoneinfo
from functools import cache, lru_cache

from babel import numbers as _babel_numbers

from domain.errors import N_, InvalidInput, Number
from domain.money import (
    MAX_MAJOR_UNITS,
    STARS,
    currency_decimals,
    format_amount_plain,
    format_money,
    is_currency,
    known_currencies,
)
from domain.zones import UnknownZone, offset_name, parse_offset, zone_named

from .i18n import LANGUAGES, babel_locale, spoken

__all__ = [
    "MAX_MAJOR_UNITS",
    "currency_decimals",
    "format_amount_plain",
    "normalize_currency",
    "parse_amount",
    "parse_due_date",
    "parse_quiet_hours",
    "parse_timezone",
    "zone_for",
]

MAX_YEARS_AHEAD = 10

# Invisible marks that set the direction of text (LRM, RLM, the Arabic letter mark, embeddings, overrides,
# isolates): Babel writes an LRM before an amount in Persian ("\u200e$ 1,500.00"), and text copied out of a
# right-to-left message carries them. What a person sends is read without them.
_BIDI_MARKS = dict.fromkeys(map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
# Persian (۰-۹, U+06F0-U+06F9) and Arabic-Indic (٠-٩, U+0660-U+0669) digits, as Persian keyboards type them.
_NATIVE_DIGITS = str.maketrans(
    "\u06f0\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8\u06f9"
    "\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669",
    "0123456789" * 2,
)
# ... and the Arabic decimal and thousands marks (٫ U+066B, ٬ U+066C) as the ASCII ones.
_NATIVE_MARKS = str.maketrans("\u066b\u066c", ".,")
# The languages whose people type amounts in those digits. Elsewhere an amount in them stays refused, as
# before languages (tests/unit/test_parsing.py: "١٢٣" in English).
_NATIVE_DIGIT_LANGUAGES = frozenset({"fa"})


def _as_typed(text: str, *, digits: bool = True, marks: bool = False) -> str:
    """What a person sent, without direction marks; `digits`: Persian and Arabic-Indic digits as ASCII
    ones; `marks`: ٫ and ٬ as '.' and ','."""
    text = text.translate(_BIDI_MARKS)
    if digits:
        text = text.translate(_NATIVE_DIGITS)
    return text.translate(_NATIVE_MARKS) if marks else text


# --------------------------------------------------------------------------- currency


def normalize_currency(text: str) -> str:
    """'usd ' -> 'USD'; anything that is not a known ISO 4217 code is refused."""
    code = text.strip().upper()
    if len(code) != 3 or not is_currency(code):
        raise InvalidInput(N_("Currency must be a 3-letter ISO code such as USD, EUR or JPY."))
    return code


# Narrow symbols people actually type; CLDR's English symbols ("CA$", "R$", ...) are
# added from babel below. A symbol may stand for several currencies ("$").
_NARROW_SYMBOLS: dict[str, tuple[str, ...]] = {
    "$": ("USD", "CAD", "AUD", "NZD", "HKD", "SGD", "MXN", "TWD", "XCD"),
    "US$": ("USD",),
    "€": ("EUR",),
    "£": ("GBP",),
    "¥": ("JPY", "CNY"),
    "￥": ("JPY", "CNY"),  # full-width yen from CJK keyboards
    "₹": ("INR",),
    "₽": ("RUB",),
    "₴": ("UAH",),
    "₺": ("TRY",),
    "₸": ("KZT",),
    "₾": ("GEL",),
    "₼": ("AZN",),
    "₩": ("KRW",),
    "₪": ("ILS",),
    "₫": ("VND",),
    "₱": ("PHP",),
    "₦": ("NGN",),
    "฿": ("THB",),
    "zł": ("PLN",),
    "kč": ("CZK",),
    "kr": ("SEK", "NOK", "DKK", "ISK"),
    "⭐": (STARS,),  # i18n: ok (a symbol) -- how format_money shows Telegram Stars
}


def _symbol_key(symbol: str) -> str:
    """A symbol as looked up: case folded, any run of spaces (Babel's U+202F in "F\u202fCFA") one space,
    and without the emoji variation selector a keyboard may add ("⭐\ufe0f")."""
    return " ".join(symbol.replace("\ufe0f", "").casefold().split())


@cache
def _symbol_table() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for symbol, codes in _NARROW_SYMBOLS.items():
        table.setdefault(_symbol_key(symbol), set()).update(codes)
    # the symbols Babel writes in English and in each language we speak ("JP¥" in Portuguese, "$CA" in
    # Persian, "F CFA"): an amount the bot shows can be sent back as it is
    locales = dict.fromkeys(["en", *(babel_locale(lang) for lang in LANGUAGES)])
    for code in known_currencies():
        for locale in locales:
            symbol = _babel_numbers.get_currency_symbol(code, locale=locale)
            if symbol not in (code, "¤"):
                table.setdefault(_symbol_key(symbol), set()).add(code)
    return {symbol: frozenset(codes) for symbol, codes in table.items()}


def _currencies_named_by(token: str) -> frozenset[str] | None:
    """Which currencies a code or symbol stands for, or None if it names none."""
    code = token.upper()
    if len(code) == 3 and is_currency(code):
        return frozenset({code})
    return _symbol_table().get(_symbol_key(token))


# --------------------------------------------------------------------------- amounts

_SIGN = "+\\-\u2212"  # U+2212 is the typographic minus some keyboards produce
_SPACES = " \u00a0\u202f\u2009"  # space, no-break, narrow no-break, thin: thousands only
# A currency symbol or code around the number: no digit or sign in it, and it neither starts nor ends with
# a space; it may hold a dot or a space inside ("р.", "Esc.", "F CFA"). Unknown ones are refused.
_TOKEN = rf"[^0-9\s{_SIGN}](?:[^0-9{_SIGN}]*[^0-9\s{_SIGN}])?"
_AMOUNT_RE = re.compile(
    rf"(?P<sign>[{_SIGN}])?\s*"
    rf"(?P<pre>{_TOKEN})?\s*"
    rf"(?P<sign2>[{_SIGN}])?\s*"
    # a space inside the number only counts when a digit follows ("300 usd" ends at 300)
    rf"(?P<num>[0-9](?:[0-9.,]|[{_SPACES}](?=[0-9]))*)"
    rf"\s*(?P<post>{_TOKEN})?"
)
_DIGITS_RE = re.compile("[0-9]+")
_SPACE_SPLIT_RE = re.compile(f"[{_SPACES}]")
_MAX_AMOUNT_TEXT = 64  # no real amount is longer; bounds the regex work on pasted junk


@cache
def _separators(locale: str) -> tuple[str, str]:
    """(decimal symbol, group symbol) of a Babel locale: ('.', ',') in en_US, (',', '\u00a0') in ru."""
    return _babel_numbers.get_decimal_symbol(locale), _babel_numbers.get_group_symbol(locale)


def local_plain(minor: int, currency: str, grouped: bool = True) -> str:
    """format_amount_plain written with the separators of the language spoken now ('1 250,50' in
    Russian, '1.250,50' in Spanish; as is in English), for the examples a refusal gives: parse_amount
    reads each of them back."""
    text = format_amount_plain(minor, currency)
    if not grouped:
        text = text.replace(",", "")
    decimal, group = _separators(babel_locale())
    if (decimal, group) == (".", ",") or decimal not in ".," or group not in f".,{_SPACES}":
        return text  # English, or separators parse_amount would not read back
    return "".join(decimal if ch == "." else group if ch == "," else ch for ch in text)


def _amount_format_error(currency: str) -> InvalidInput:
    decimals = currency_decimals(currency)
    if decimals == 0:
        return InvalidInput(N_("Amount must be a positive whole number, e.g. 1500."))
    example = local_plain(1250 * 10**decimals + 5 * 10 ** (decimals - 1), currency)
    return InvalidInput(
        N_("Amount must be a positive number with at most {decimals} decimals, e.g. 1500 or {example}."),
        decimals=decimals,
        example=example,
    )


def _split_number(num: str, decimals: int) -> tuple[str, str] | None:
    """Split '1.250,50' into ('1250', '50'); None when the grouping makes no sense."""
    has_space = any(ch in _SPACES for ch in num)
    commas, dots = num.count(","), num.count(".")
    decimal_sep: str | None = None
    thousands_sep: str | None = " " if has_space else None
    if commas and dots:
        decimal_sep = "," if num.rfind(",") > num.rfind(".") else "."
        thousands_sep = "." if decimal_sep == "," else ","
        if has_space or num.count(decimal_sep) != 1:
            return None
    elif commas or dots:
        sep = "," if commas else "."
        head, _, tail = num.partition(sep)
        if has_space:
            decimal_sep = sep  # spaces already group thousands
        elif commas + dots > 1:
            thousands_sep = sep
        elif len(tail) == 3 and decimals < 3 and not head.startswith("0"):
            thousands_sep = sep  # "1,500" / "1.500": nobody writes 3 decimals of USD
        else:
            decimal_sep = sep

    int_part, fraction = num, ""
    if decimal_sep:
        int_part, _, fraction = num.partition(decimal_sep)
        if not _DIGITS_RE.fullmatch(fraction):
            return None
    if thousands_sep:
        if thousands_sep == " ":
            groups = _SPACE_SPLIT_RE.split(int_part)
        else:
            groups = int_part.split(thousands_sep)
        first, rest = groups[0], groups[1:]
        if not (1 <= len(first) <= 3 and _DIGITS_RE.fullmatch(first) and not first.startswith("0")):
            return None
        if not all(len(g) == 3 and _DIGITS_RE.fullmatch(g) for g in rest):
            return None
        int_part = "".join(groups)
    elif not _DIGITS_RE.fullmatch(int_part):
        return None
    return int_part, fraction


_SEP_THREE_RE = re.compile(r"(?P<head>[1-9][0-9]{0,2})(?P<sep>[.,])(?P<tail>[0-9]{3})")


def _thousands_or_decimals(num: str, currency: str) -> InvalidInput | None:
    """'12.345' in a currency with 1 or 2 decimals: a typo of 12.35, or 12,345 written the European
    way? Read as thousands it would be 1,000 times the other, so the person is asked which one
    (None: the number is not like that). Without decimals (JPY) the dot can only group thousands;
    with 3 (KWD) it is the decimal point. '12,345' is asked the same way where the language spoken
    writes a decimal comma (Russian, Spanish, Portuguese); in English it is 12,345."""
    decimals = currency_decimals(currency)
    found = _SEP_THREE_RE.fullmatch(num)
    if found is None or not 0 < decimals < 3:
        return None
    locale = babel_locale()
    if found["sep"] == "," and _separators(locale)[0] != ",":
        return None
    major = int(found["head"] + found["tail"])
    thousands = major * 10**decimals
    # Rounded half up, on the digits (no floats): 12.345 -> 12.35, 3.999 -> 4.00.
    exact = int(found["head"]) * 1000 + int(found["tail"])  # in thousandths
    rounded = (exact * 10**decimals + 500) // 1000
    return InvalidInput(
        N_("Did you mean {thousands} or {rounded}? Type it as {major} or {typed}."),
        thousands=format_money(thousands, currency, locale),
        rounded=format_money(rounded, currency, locale),
        major=major,
        typed=local_plain(rounded, currency, grouped=False),
    )


def parse_amount(text: str, currency: str) -> int:
    """Read an amount in the contract currency and return integer minor units.

    Accepts "1500", "1,500", "1,250.50", "1 250,50" (space, U+00A0 or U+202F grouping),
    "1.250,50", "1250.5", "$300", "300$", "300 usd", "USD 300", "€ 1.200,00", "¥5000".
    A symbol or code, before or after the number, must name the contract currency; the symbols Babel
    writes in each language we speak are known ("JP¥ 5.000" in Portuguese), so an amount the bot
    shows reads back as it is. Direction marks (Persian's LRM before an amount) are not read. In
    Persian, Persian and Arabic-Indic digits and the marks ٫ (decimal) and ٬ (thousands) read as
    0-9, "." and ","; in the other languages they stay refused.

    Separators: spaces only ever group thousands. If both "," and "." occur, the last
    one is the decimal separator and the other groups thousands. If only one of them
    occurs: several times -> thousands; once and followed by exactly 3 digits ->
    thousands ("1,500" = 1500), unless the currency has 3+ decimals (KWD "1.500" = 1.5)
    or the number starts with 0 ("0.500"); otherwise it is the decimal separator.
    Thousands groups must be 1-3 digits then groups of exactly 3. One exception: a
    single dot followed by exactly 3 digits ("12.345") in a currency with 1 or 2
    decimals is refused with both readings ("Did you mean $12,345.00 or $12.35?"):
    read as thousands, a typo would cost 1,000 times the amount. Without decimals
    (JPY) "12.345" can only be 12,345. Where the language spoken writes a decimal comma
    (Russian, Spanish, Portuguese), "12,345" is asked back the same way; in English it is 12,345.

    Refused: anything else, more decimals than the currency has, zero or negative,
    more than 1,000,000,000 major units. No floats: digits are handled as strings.
    """
    code = currency.strip().upper()
    decimals = currency_decimals(code)
    native = spoken() in _NATIVE_DIGIT_LANGUAGES
    cleaned = _as_typed(text, digits=native, marks=native).strip()
    match = _AMOUNT_RE.fullmatch(cleaned) if len(cleaned) <= _MAX_AMOUNT_TEXT else None
    if match is None or (match["sign"] and match["sign2"]):
        raise _amount_format_error(code)

    for token in (match["pre"], match["post"]):
        if token is None:
            continue
        named = _currencies_named_by(token)
        if named is None:
            raise _amount_format_error(code)
        if code not in named:
            raise InvalidInput(
                N_("This contract is in {code}, so send the amount in {code}, e.g. {example}."),
                code=code,
                example=local_plain(125050 * 10**decimals // 100, code),
            )

    parts = _split_number(match["num"], decimals)
    if parts is None:
        raise _amount_format_error(code)
    int_digits, fraction = parts
    if len(fraction) > decimals:
        raise _amount_format_error(code)
    if (match["sign"] or match["sign2"] or "+") != "+":
        raise InvalidInput(N_("Amount must be greater than zero."))
    ambiguous = _thousands_or_decimals(match["num"], code)
    if ambiguous is not None:
        raise ambiguous
    too_big = InvalidInput(N_("Amount must be at most {max:,} {code}."), max=Number(MAX_MAJOR_UNITS), code=code)
    # length check first: int() of thousands of digits is slow and may be refused
    if len(int_digits.lstrip("0")) > len(str(MAX_MAJOR_UNITS)):
        raise too_big
    minor = int(int_digits) * 10**decimals + int(fraction.ljust(decimals, "0") or "0")
    if minor == 0:
        raise InvalidInput(N_("Amount must be greater than zero."))
    if minor > MAX_MAJOR_UNITS * 10**decimals:
        raise too_big
    return minor


# --------------------------------------------------------------------------- due dates

_DATE_ERROR = N_("I couldn't read that date. Try 2026-12-31, 31.12.2026, Dec 31, tomorrow, in 2 weeks or next friday.")
_MAX_DATE_TEXT = 64  # longer text is not a date; also keeps dateparser's work bounded

_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = (
    r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_ISO_RE = re.compile(r"(?P<year>\d{4})(?P<sep>[-/.])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})")
# day first, always: 31.12.2026, 31/12/2026, 31-12-26, 31.12. or 31/12 (next one)
_DMY_RE = re.compile(r"(?P<day>\d{1,2})(?P<sep>[./-])(?P<month>\d{1,2})(?:(?P=sep)(?P<year>\d{4}|\d{2})?)?")
_MONTH_DAY_RE = re.compile(rf"(?:on\s+)?{_MONTH}\s*{_DAY}(?:,?\s+{_YEAR})?")
_DAY_MONTH_RE = re.compile(rf"(?:on\s+)?(?:the\s+)?{_DAY}\s*(?:of\s+)?{_MONTH},?(?:\s+{_YEAR})?")
_WEEKDAY_RE = re.compile(
    r"(?:(?P<mod>next|this|on|this coming|coming)\s+)?"  # i18n: ok
    r"(?P<weekday>mon|tue|wed|thu|fri|sat|sun)"
    r"(?:(?<=mon)day|(?<=tue)s(?:day)?|(?<=wed)nesday|(?<=thu)r(?:s(?:day)?)?"
    r"|(?<=fri)day|(?<=sat)urday|(?<=sun)day)?\.?"
)
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _years_later(day: _dt.date, years: int) -> _dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February -> 28 February
        return day.replace(year=day.year + years, day=28)


def _next_occurrence(month: int, day: int, today: _dt.date) -> _dt.date | None:
    """The first such month/day on or after today; 29 Feb may be up to 8 years away."""
    for year in range(today.year, today.year + 9):
        try:
            candidate = _dt.date(year, month, day)
        except ValueError:
            continue
        if candidate >= today:
            return candidate
    return None


def _explicit_date(text: str, today: _dt.date) -> _dt.date | None:
    """Numeric and month-name forms; None if text is not one of them."""
    match = (
        _ISO_RE.fullmatch(text)
        or _DMY_RE.fullmatch(text)
        or _MONTH_DAY_RE.fullmatch(text)
        or _DAY_MONTH_RE.fullmatch(text)
    )
    if match is None:
        return None
    raw_month = match["month"]
    month = int(raw_month) if raw_month.isdigit() else _MONTHS[raw_month[:3]]
    day = int(match["day"])
    year_text = match["year"]
    if not year_text:
        found = _next_occurrence(month, day, today)
        if found is None:
            raise InvalidInput(_DATE_ERROR)
        return found
    year = int(year_text) + (2000 if len(year_text) == 2 else 0)
    try:
        return _dt.date(year, month, day)
    except ValueError:  # 31.02.2026: clearly meant as a date, so don't guess further
        raise InvalidInput(_DATE_ERROR) from None


def _weekday_date(text: str, today: _dt.date) -> _dt.date | None:
    match = _WEEKDAY_RE.fullmatch(text)
    if match is None:
        return None
    days_ahead = (_WEEKDAYS.index(match["weekday"]) - today.weekday()) % 7
    if match["mod"] == "next" and days_ahead == 0:
        days_ahead = 7
    return today + _dt.timedelta(days=days_ahead)


def _date_languages() -> list[str]:
    """dateparser's languages: the one spoken now ('pt_BR' -> 'pt'), then English."""
    return list(dict.fromkeys([spoken().split("_")[0], "en"]))


def _dateparser_date(text: str, today: _dt.date, languages: list[str]) -> _dt.date | None:
    import dateparser  # lazy: importing it costs ~0.2 s, and most bot updates never need it

    settings = {
        # noon: no DST transition happens at noon, so "+N days" can't slip a calendar day
        "RELATIVE_BASE": _dt.datetime.combine(today, _dt.time(12)),
        "PREFER_DATES_FROM": "future",
        "DATE_ORDER": "DMY",
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    try:
        result = dateparser.parse(text, languages=languages, settings=settings)
    except Exception:  # dateparser raises assorted errors on odd text; to the user it's unreadable
        return None
    return None if result is None else result.date()


def parse_due_date(text: str, today: _dt.date, tz: str) -> _dt.date:
    """Read a due date as a calendar date; `today` is the user's local date in `tz`.

    Own rules first (fast, no ambiguity): "2026-12-31", "31.12.2026", "31/12/2026",
    "31.12.26", "31.12"; "Dec 31", "31 Dec", "December 31 2026", "Dec 31st, 2026".
    Without a year a date means the next one on or after today ("Dec 31" on Dec 31 is
    today). Weekdays: "friday" / "this friday" / "on friday" = the next Friday on or
    after today (today if it is Friday); "next friday" = the first Friday strictly
    after today. Anything else with letters goes to dateparser ("today", "tomorrow",
    "in 3 days", "in 2 weeks", "day after tomorrow", ...), relative to noon of `today`, read in
    the language spoken now and in English ("завтра", "mañana", "amanhã", "فردا").

    `tz` is not needed for the arithmetic: all of it is on calendar dates, and the
    caller already turned the clock into the local `today` of that zone.
    The result must be between today and 10 years from today.
    """
    del tz  # see docstring: kept so callers state whose "today" this is
    cleaned = " ".join(_as_typed(text).lower().split())
    if not cleaned or len(cleaned) > _MAX_DATE_TEXT:
        raise InvalidInput(_DATE_ERROR)
    result = _explicit_date(cleaned, today) or _weekday_date(cleaned, today)
    languages = _date_languages()
    # Words ("tomorrow", "завтра"; only Latin ones in English) go to dateparser; digits alone
    # ("15", "1500") would be read by it as a day or a year: refuse.
    letters = "[a-z]" if languages == ["en"] else r"[^\W\d_]"
    if result is None and re.search(letters, cleaned):
        result = _dateparser_date(cleaned, today, languages)
    if result is None:
        raise InvalidInput(_DATE_ERROR)
    if result < today:
        raise InvalidInput(N_("The due date must be today or later."))
    if result > _years_later(today, MAX_YEARS_AHEAD):
        raise InvalidInput(N_("The due date must be within {years} years from today."), years=MAX_YEARS_AHEAD)
    return result


# --------------------------------------------------------------------------- time zones

_TZ_ERROR = N_("Unknown time zone. Send a name like Europe/Berlin or an offset like UTC+3.")
# "localtime" is the server's own zone and "Factory" is no real place: never a user's zone
_EXCLUDED_ZONES = frozenset({"localtime", "Factory"})  # i18n: ok


@lru_cache(maxsize=1)
def _zone_names() -> tuple[dict[str, str], dict[str, str]]:
    """(lower-case full name -> name, lower-case unique city -> name)."""
    names = zoneinfo.available_timezones() - _EXCLUDED_ZONES
    by_lower = {name.lower(): name for name in names}
    cities: dict[str, list[str]] = {}
    for name in names:
        # Etc/GMT+3 means UTC-3: never reach it by a bare "GMT+3"
        if "/" in name and not name.startswith("Etc/"):  # i18n: ok
            cities.setdefault(name.rsplit("/", 1)[1].lower(), []).append(name)
    unique_cities = {city: found[0] for city, found in cities.items() if len(found) == 1}
    return by_lower, unique_cities


def parse_timezone(text: str) -> str:
    """Return an IANA name ('Europe/Berlin', any case) or a fixed offset as 'UTC+03:00'.

    Accepts IANA names case-insensitively (spaces for underscores), a city alone when
    only one zone has it ("berlin"), "UTC"/"GMT", and offsets "UTC+3", "GMT+2",
    "UTC-05:30", "+03:00", "+0530" within -12:00..+14:00. "GMT+2" means UTC+2 here,
    unlike the IANA name Etc/GMT+2 (UTC-2), which is returned as itself.
    """
    cleaned = _as_typed(text).strip()
    key = "_".join(cleaned.lower().split())
    by_lower, cities = _zone_names()
    if key in by_lower:
        return by_lower[key]
    try:
        offset = parse_offset(cleaned)  # the one offset grammar, shared with stored names
    except UnknownZone:
        raise InvalidInput(_TZ_ERROR) from None
    if offset is not None:
        return offset_name(offset)
    if key in cities:
        return cities[key]
    raise InvalidInput(_TZ_ERROR)


def zone_for(name: str) -> _dt.tzinfo:
    """A tzinfo for anything parse_timezone accepts: ZoneInfo, or a fixed-offset timezone."""
    return zone_named(parse_timezone(name))


# --------------------------------------------------------------------------- quiet hours

_QUIET_ERROR = N_("I couldn't read those quiet hours. Send them like 22:00-08:00, or off to turn them off.")
_QUIET_OFF = frozenset({"off", "none", "no", "disable", "disabled"})
_TIME = r"(?P<{0}h>\d{{1,2}})(?:[:.h](?P<{0}m>\d{{2}}))?\s*(?P<{0}ap>am|pm|a\.m\.|p\.m\.)?"
_QUIET_RE = re.compile(_TIME.format("a") + r"\s*(?:-|\u2013|\u2014|to|until|till)\s*" + _TIME.format("b"))


def _clock(hour_text: str, minute_text: str | None, ampm: str | None) -> _dt.time | None:
    hour, minute = int(hour_text), int(minute_text or 0)
    if minute >= 60:
        return None
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.startswith("p") else 0)
    elif hour == 24 and minute == 0:
        hour = 0  # "22-24": until midnight
    if hour > 23:
        return None
    return _dt.time(hour, minute)


def parse_quiet_hours(text: str) -> tuple[_dt.time, _dt.time] | None:
    """'22:00-08:00', '22-8', '23:30 - 07:15', '10pm-7am' -> (start, end); 'off'/'none' -> None.

    Start after end means the quiet period runs overnight; equal times are refused.
    """
    cleaned = " ".join(_as_typed(text).lower().split())
    if cleaned in _QUIET_OFF:
        return None
    match = _QUIET_RE.fullmatch(cleaned)
    if match is None:
        raise InvalidInput(_QUIET_ERROR)
    start = _clock(match["ah"], match["am"], match["aap"])
    end = _clock(match["bh"], match["bm"], match["bap"])
    if start is None or end is None:
        raise InvalidInput(_QUIET_ERROR)
    if start == end:
        raise InvalidInput(N_("Quiet hours must start and end at different times, e.g. 22:00-08:00."))
    return start, end
