"""The CI check on the catalogs (PRODUCT §9): every string goes through them, every language is complete,
and a translation keeps its msgid's placeholders and HTML tags. Each check is also run against a broken
input once, so a checker that passes everything fails here."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from tools import catalogs


def test_no_string_in_bot_bypasses_the_catalog():
    assert catalogs.check_source() == []


def test_every_language_is_complete_with_matching_placeholders_and_tags():
    assert catalogs.check_catalogs() == []


def test_the_source_check_finds_a_bare_string(tmp_path: Path):
    bad = tmp_path / "handler.py"
    bad.write_text(
        "async def h(update):\n"
        '    await update.message.reply_text("Your contract is saved.")\n'
        '    await update.message.reply_text(_("Your contract is saved."))\n'
        '    await update.message.reply_text(f"Saved {x} milestones")\n'
        '    log.info("contract %s saved", 1)\n'
        '    keyboard = [Btn("Back", callback_data="c:back")]\n'
        '    await update.message.reply_text(_(f"Hello {name}"))\n'
        '    await update.message.reply_text(_("Yes, do it" if sure else "No, leave it"))\n'
    )
    found = [text for _line, text in catalogs.bypassing(bad)]
    assert found == [
        "Your contract is saved.",
        "Saved ",
        "Back",
        "_() of an expression, not a literal",
        "_() of an expression, not a literal",
    ]


def _po(tmp_path: Path, entries: list[tuple], fuzzy: bool = False) -> Path:
    cat = Catalog(locale="ru")
    for mid, mstr in entries:
        cat.add(mid, mstr, flags=("fuzzy",) if fuzzy else ())
    path = tmp_path / "messages.po"
    with path.open("wb") as f:
        write_po(f, cat)
    return path


def test_the_catalog_check_finds_missing_fuzzy_and_mismatched_translations(tmp_path: Path):
    wanted = {"Hi {name}!", "Saved.", "<b>Money</b>", ("{n} day", "{n} days")}
    good = [
        ("Hi {name}!", "Привет, {name}!"),
        ("Saved.", "Сохранено."),
        ("<b>Money</b>", "<b>Деньги</b>"),
        (("{n} day", "{n} days"), ("{n} день", "{n} дня", "{n} дней")),
    ]
    assert catalogs.check_po(_po(tmp_path, good), "ru", wanted) == []
    assert catalogs.check_po(_po(tmp_path, good[1:]), "ru", wanted) == ["ru: missing 'Hi {name}!'"]
    assert "ru: fuzzy 'Saved.'" in catalogs.check_po(_po(tmp_path, good, fuzzy=True), "ru", wanted)
    renamed = [("Hi {name}!", "Привет, {имя}!"), *good[1:]]
    assert catalogs.check_po(_po(tmp_path, renamed), "ru", wanted)[0].startswith("ru: placeholders differ")
    untagged = [*good[:2], ("<b>Money</b>", "Деньги"), good[3]]
    assert catalogs.check_po(_po(tmp_path, untagged), "ru", wanted) == ["ru: HTML tags differ in '<b>Money</b>'"]
    respec = [("Hi {name}!", "Привет, {name:>10}!"), *good[1:]]
    assert catalogs.check_po(_po(tmp_path, respec), "ru", wanted)[0].startswith("ru: placeholders differ")
    empty = [*good[:3], (("{n} day", "{n} days"), ("{n} день", "", "{n} дней"))]
    assert catalogs.check_po(_po(tmp_path, empty), "ru", wanted) == ["ru: untranslated '{n} day'"]
