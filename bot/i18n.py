"""Languages (PRODUCT §9): gettext catalogs managed with Babel, each message in its reader's language.

The catalogs are standard gettext `.po` files under `bot/locales/<lang>/LC_MESSAGES/messages.po`
(`pybabel extract/update/compile`, configured in `babel.cfg` and run by `tools/catalogs.py`). They are
read at start with Babel and compiled in memory, so a fresh checkout needs no build step; fuzzy entries
are left out, as `pybabel compile` leaves them out.

Which language a text is written in is the language *spoken now*: a context variable that each update
sets to the person acting (bot/common.py `remember_user`) and that `speaking(lang)` switches for the
texts written to someone else (the other party's news, their card, a reminder). `_`, `ngettext` and the
formatters read it, so a text is built in its recipient's language without threading a parameter
through every function. English is the fallback: the msgids are the English texts.
"""

from __future__ import annotations

import contextvars
import gettext
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_skeleton
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

from domain.errors import N_, Amount, Day, DomainError, Number, Said, Term, Words
from domain.money import format_money

__all__ = [
    "N_",
    "_",
    "ngettext",
    "speaking",
    "spoken",
    "why",
    "told",
    "note_text",
    "LANGUAGES",
    "pick",
    "babel_locale",
    "is_rtl",
]

LOCALES = Path(__file__).parent / "locales"
DEFAULT = "en"

# The languages the bot speaks, each named in itself (as /settings offers them), English first.
LANGUAGES: dict[str, str] = {  # i18n: ok (each in itself)
    "en": "English",
    "ru": "Русский",
    "es": "Español",
    "pt_BR": "Português (Brasil)",
    "fa": "فارسی",
}
# The locale money, dates and times are formatted in. English stays en_US, as before languages.
_BABEL = {"en": "en_US"}
_RTL = {"fa", "ar", "he"}

# Unicode isolates (FSI … PDI): a person's own text (an English title in a Persian message) keeps its
# own direction without reordering the sentence around it.
FSI, PDI = "\u2068", "\u2069"

_spoken: contextvars.ContextVar[str] = contextvars.ContextVar("spoken", default=DEFAULT)


@cache
def catalog(lang: str) -> gettext.NullTranslations:
    """The language's translations, compiled in memory from its .po (English: the msgids themselves)."""
    path = LOCALES / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as f:
        po = read_po(f, locale=lang)
    buf = BytesIO()
    write_mo(buf, po, use_fuzzy=False)
    buf.seek(0)
    return Translations(fp=buf)


def pick(code: str | None) -> str:
    """A Telegram language_code (IETF: 'ru', 'pt-br', 'es-419') or a stored choice -> a language we
    speak: the exact one, else the same base language, else English."""
    if not code:
        return DEFAULT
    norm = code.replace("-", "_")
    for lang in LANGUAGES:
        if lang.lower() == norm.lower():
            return lang
    base = norm.split("_")[0].lower()
    for lang in LANGUAGES:
        if lang.split("_")[0].lower() == base:
            return lang
    return DEFAULT


def spoken() -> str:
    return _spoken.get()


def set_spoken(lang: str) -> None:
    """For the rest of this update (bot/common.py `remember_user`): the person acting's language."""
    _spoken.set(lang)


@contextmanager
def speaking(lang: str | None) -> Iterator[str]:
    """Texts built inside are in `lang` (None: as spoken now): `with speaking(await lang_of(ctx, uid)):`."""
    if lang is None:
        yield _spoken.get()
        return
    token = _spoken.set(lang)
    try:
        yield lang
    finally:
        _spoken.reset(token)


def _(message: str) -> str:
    """The message in the language spoken now ("" stays "": gettext would answer the catalog's header)."""
    return catalog(_spoken.get()).gettext(message) if message else message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The plural form for n the language's catalog says (its Plural-Forms), e.g. '{n} day' / '{n} days'."""
    return catalog(_spoken.get()).ngettext(singular, plural, n)


def babel_locale(lang: str | None = None) -> str:
    """The Babel locale money, dates and times are formatted in for `lang` (default: spoken now)."""
    lang = lang or _spoken.get()
    return _BABEL.get(lang, lang)


@cache
def locale_of(lang: str) -> Locale:
    return Locale.parse(babel_locale(lang))


def is_rtl(lang: str | None = None) -> bool:
    return (lang or _spoken.get()).split("_")[0] in _RTL


def isolate(text: str) -> str:
    """A person's own text inside a sentence: isolated in a right-to-left language, as it is otherwise."""
    return f"{FSI}{text}{PDI}" if is_rtl() else text


def why(err: DomainError) -> str:
    """A domain refusal in the language spoken now: its sentence translated, then filled in; a `Term`
    parameter (a word of ours) is translated too, an `Amount` is money in the reader's locale, anything
    else (the person's own text) is kept."""
    return told((err.msgid, err.params))


def told(said: Said) -> str:
    """A sentence the domain composed (a refusal, a history note) in the language spoken now."""
    msgid, params = said
    if not params:
        return _(msgid)
    return _(msgid).format(**_fill(params))


def note_text(note: str, said: Said | None) -> str:
    """A history note as its reader reads it: the domain's own sentence (`said`) in their language; a
    person's own note, or a note stored before notes were kept as sentences, as it was written."""
    if said is None or _spoken.get() == DEFAULT:
        return note  # English: the stored note is that sentence, filled in
    return told(said)


def _fill(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _value(v) for k, v in params.items()}


def _value(v: Any) -> Any:
    """A parameter of a domain sentence in the language spoken now (words of ours translated, money and
    dates in its locale); anything else (a person's own text, a number) as it is."""
    if isinstance(v, Term):
        return _(v)
    if isinstance(v, Amount):
        if v.plain:
            from .parsing import local_plain  # bot.parsing imports this module

            return local_plain(v.minor, v.currency)
        return format_money(v.minor, v.currency, babel_locale())
    if isinstance(v, Number):
        return v if _spoken.get() == DEFAULT else _number(int(v), babel_locale())
    if isinstance(v, Day):
        return v.iso if _spoken.get() == DEFAULT else _day(v.iso, babel_locale())
    if isinstance(v, Words):
        words = [_(w) for w in v.items]
        return str(v) if _spoken.get() == DEFAULT else format_list(words, locale=babel_locale())
    if isinstance(v, str):
        return isolate(v)  # a person's own text (a title, a reason): its own direction in a right-to-left sentence
    return v


class _Grouped(str):
    """A number already grouped as the reader's language groups it ("2.000"): a "{max:,}" written for the
    English number is met as it is (a str alone refuses the ',')."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        return format(str(self), spec.replace(",", ""))


@lru_cache(maxsize=1024)
def _number(n: int, locale: str) -> _Grouped:
    """A `Number` in that locale's digits and grouping (Babel): 2.000 in Spanish, 2 000 in Russian."""
    return _Grouped(format_decimal(n, locale=locale))


@lru_cache(maxsize=1024)
def _day(iso: str, locale: str) -> str:
    """A date as bot/texts.py fmt_date writes it in that locale (weekday, day, month, year)."""
    return format_skeleton("yMMMEd", date.fromisoformat(iso), locale=locale)
