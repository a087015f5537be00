"""PRODUCT §9: the bot speaks the person's language: Telegram's language_code, changeable in /settings,
English as the fallback. Ann picks Русский in /settings; Dan, whose Telegram is in Spanish, picks Русский
and then follows Telegram's language again.

The assertions name no translated text (the catalogs are filled in later): they read the stored choice,
the buttons (each language is named in itself) and the language the next update is spoken in."""

from __future__ import annotations

from bot.i18n import LANGUAGES
from bot.menu import commands_in

from .helpers import bad_calls, forge_press


def deps(harness):
    return harness.app.bot_data["deps"]


async def spoken_next(harness, user) -> str:
    """The language the bot speaks to `user` in their next update (remember_user keeps it with them)."""
    await harness.send(user, "/help")
    return deps(harness).known_users[user.id][5]


async def open_language_choice(harness, user):
    menu = await harness.send(user, "/settings")
    await harness.press(user, menu, callback_data="st:lang")
    return harness.last(user)


async def test_picking_russian_in_settings_stores_it_and_the_bot_speaks_it_from_then_on(harness, people, tg):
    ann, _, _ = people
    menu = await harness.send(ann, "/settings")
    assert ("🌐 Language: English", "st:lang") in menu.buttons

    choice = await open_language_choice(harness, ann)
    names = [text.removeprefix("✓ ") for text, _ in choice.buttons]
    assert names[: len(LANGUAGES)] == list(LANGUAGES.values())  # each language named in itself
    assert [data for _, data in choice.buttons] == [f"lang:{code}" for code in LANGUAGES] + ["lang:auto", "st:back"]
    assert ("✓ Follow Telegram's language", "lang:auto") in choice.buttons  # nothing chosen yet

    await harness.press(ann, choice, "Русский")
    profile = await deps(harness).svc.profile(ann.id)
    assert profile.language == "ru"
    shown = harness.last(ann)
    assert shown.message_id != choice.message_id and "⚙️" in shown.plain_text  # the settings again
    language_button = [text for text, data in shown.buttons if data == "st:lang"]
    assert len(language_button) == 1 and language_button[0].endswith("Русский")

    assert await spoken_next(harness, ann) == "ru"
    again = await open_language_choice(harness, ann)
    assert ("✓ Русский", "lang:ru") in again.buttons  # the choice is ticked
    assert bad_calls(tg) == []


async def test_following_telegrams_language_again_forgets_the_choice(harness, tg):
    dan = tg.user(1004, "Dan", "dan", language_code="es-419", started=True)
    assert await spoken_next(harness, dan) == "es"  # Telegram's language, as near as the bot speaks it

    choice = await open_language_choice(harness, dan)
    await harness.press(dan, choice, "Русский")
    assert (await deps(harness).svc.profile(dan.id)).language == "ru"
    assert await spoken_next(harness, dan) == "ru"
    # Their private chat's command menu follows the choice (Telegram's per-language menus can't).
    chat_menu = tg.commands(scope={"type": "chat", "chat_id": dan.id})
    assert [c["description"] for c in chat_menu] == [c.description for c in commands_in("ru")]
    assert chat_menu != tg.commands()

    choice = await open_language_choice(harness, dan)
    await harness.press(dan, choice, callback_data="lang:auto")
    assert (await deps(harness).svc.profile(dan.id)).language is None
    shown = harness.last(dan)
    assert [text for text, data in shown.buttons if data == "st:lang"][0].endswith("Español")
    assert await spoken_next(harness, dan) == "es"
    assert tg.commands(scope={"type": "chat", "chat_id": dan.id}) == []  # the per-language menu again
    assert bad_calls(tg) == []


async def test_back_returns_to_the_settings_and_changes_nothing(harness, people, tg):
    ann, _, _ = people
    choice = await open_language_choice(harness, ann)
    for forged in ("lang:xx", "lang:de_DE", "lang:auto2"):  # not a language the bot speaks: nothing changes
        forge_press(harness, ann, choice, forged)
        await harness.pump()
    assert (await deps(harness).svc.profile(ann.id)).language is None
    assert harness.last(ann).message_id == choice.message_id
    await harness.press(ann, choice, callback_data="st:back")
    shown = harness.last(ann)
    assert "⚙️" in shown.plain_text and ("🌐 Language: English", "st:lang") in shown.buttons
    assert (await deps(harness).svc.profile(ann.id)).language is None
    assert bad_calls(tg) == []


async def test_a_failing_command_menu_call_changes_nothing_else(harness, tg):
    """The chat's own menu is a convenience: a 500, a dropped connection or a 429 on setMyCommands leaves
    the choice stored and answered, with no apology."""
    dan = tg.user(1005, "Dan", "dan", language_code="es", started=True)
    for fault in ("500", "drop", "429"):
        choice = await open_language_choice(harness, dan)
        if fault == "drop":
            tg.drop_next("setMyCommands")
        else:
            tg.fail_next("setMyCommands", int(fault), retry_after=1 if fault == "429" else None)
        await harness.press(dan, choice, "Русский")
        assert (await deps(harness).svc.profile(dan.id)).language == "ru", fault
        shown = harness.last(dan)
        assert [text for text, data in shown.buttons if data == "st:lang"][0].endswith("Русский"), fault
        assert not any("Sorry" in m.plain_text for m in tg.messages(dan)), fault
        choice = await open_language_choice(harness, dan)
        await harness.press(dan, choice, callback_data="lang:auto")
