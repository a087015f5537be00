"""PRODUCT §9: the bot speaks each person's language, with money and dates in their format.

Each story is told by people whose Telegram is set to another language; what they receive is checked
against the catalogs themselves: no sentence of ours reaches them in English (or in the other party's
language), and money reads in their locale."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from bot.actions import ACTIONS
from bot.i18n import LANGUAGES, _, babel_locale, speaking
from domain.actions import Action
from domain.model import Role
from domain.money import format_money
from tests.bot.helpers import INVITE_RE, contract_id, message_by_id, svc
from tools.catalogs import LANGS, LOCALES, english_pieces

TELEGRAM_CODE = {"ru": "ru", "es": "es-419", "pt_BR": "pt-br", "fa": "fa"}
SCRIPT = {"ru": re.compile("[а-яА-Я]"), "fa": re.compile("[\u0600-\u06ff]")}


def t(lang: str, msgid: str) -> str:
    with speaking(lang):
        return _(msgid)


def prefix(lang: str, msgid: str) -> str:
    """A button's label up to its first placeholder, as the person sees it."""
    return t(lang, msgid).split("{")[0].strip()


ENGLISH = english_pieces()


def english_in(text: str) -> list[str]:
    return [f for f in ENGLISH if f in text]


def said_to(tg, user) -> list[str]:
    """Everything the person was shown: messages, their buttons and the answers to their presses."""
    out = []
    for m in tg.messages(user):
        out.append(m.plain_text)
        out += [label for label, _data in m.buttons]
    return out


async def story(harness, tg, ann, bob, lang_a: str, lang_b: str) -> int:
    """The seed's story: a contract, a milestone, funded, submitted, approved and released, the
    payment confirmed; each person pressing the buttons as they read them."""
    await harness.send(ann, "/start")
    await harness.send(bob, "/start")
    await harness.send(ann, "/newcontract")
    asked = await harness.send(ann, "Website redesign")
    await harness.press(ann, asked, "USD")
    await harness.press(ann, harness.last(ann), prefix(lang_a, "I am the client"))
    await harness.press(ann, harness.last(ann), prefix(lang_a, "Create"))
    payload = INVITE_RE.search(harness.last(ann).plain_text)
    assert payload, harness.last(ann).plain_text
    invite = await harness.send(bob, f"/start {payload.group(1)}")
    await harness.press(bob, invite, prefix(lang_b, "Accept"))
    cid = await contract_id(harness, ann, "Website redesign")
    await harness.send(ann, "/addmilestone")
    await harness.send(ann, "Design")
    await harness.send(ann, "1500")
    asked = await harness.send(ann, "in 2 weeks")
    await harness.press(ann, asked, prefix(lang_a, "Skip"))
    summary = harness.last(ann)
    await harness.press(ann, summary, prefix(lang_a, "Save"))
    card = message_by_id(tg, ann, summary.message_id)
    await harness.press(ann, card, prefix(lang_a, ACTIONS[Action.ACTIVATE].label))
    await harness.press(bob, harness.last(bob), prefix(lang_b, ACTIONS[Action.SUBMIT].label))
    await harness.send(bob, "Here it is")
    news = harness.last(ann)
    await harness.press(ann, news, prefix(lang_a, ACTIONS[Action.APPROVE].label))
    confirm = harness.last(ann)
    await harness.press(ann, confirm, prefix(lang_a, ACTIONS[Action.APPROVE].confirm_label))
    await harness.press(bob, harness.last(bob), prefix(lang_b, ACTIONS[Action.CONFIRM_PAYMENT].label))
    return cid


@pytest.mark.parametrize("lang", LANGS)
async def test_the_seed_story_in_each_language(harness, tg, lang):
    ann = tg.user(4001, "Ann", "ann", language_code=TELEGRAM_CODE[lang], started=True)
    bob = tg.user(4002, "Bob", "bob", language_code=TELEGRAM_CODE[lang], started=True)
    cid = await story(harness, tg, ann, bob, lang, lang)
    [design] = (await svc(harness).view(cid, ann.id)).ordered()
    assert design.status.value == "released"
    for person in (ann, bob):
        shown = said_to(tg, person)
        assert len(shown) > 10
        leaks = {f for text in shown for f in english_in(text)}
        assert leaks == set(), (lang, sorted(leaks)[:5])
        if lang in SCRIPT:
            assert all(SCRIPT[lang].search(m.plain_text) for m in tg.messages(person)), lang
    # Money in their locale: $1,500.00 in English reads 1 500,00 $ in Russian, US$ 1.500,00 in Portuguese...
    amount = format_money(150000, "USD", babel_locale(lang))
    assert amount != format_money(150000, "USD")
    assert any(amount in m.plain_text for m in tg.messages(bob)), (amount, [m.plain_text for m in tg.messages(bob)])


async def test_each_party_reads_the_others_news_in_their_own_language(harness, tg):
    ann = tg.user(4101, "Ann", "ann", language_code="ru", started=True)
    bob = tg.user(4102, "Bob", "bob", language_code="fa", started=True)
    await story(harness, tg, ann, bob, "ru", "fa")
    for person, own, other in ((ann, "ru", "fa"), (bob, "fa", "ru")):
        for m in tg.messages(person):
            assert SCRIPT[own].search(m.plain_text), (own, m.plain_text)
            assert not SCRIPT[other].search(m.plain_text), (own, m.plain_text)
        leaks = {f for text in said_to(tg, person) for f in english_in(text)}
        assert leaks == set(), (own, sorted(leaks)[:5])


async def test_english_stays_the_fallback(harness, tg):
    ann = tg.user(4201, "Ann", "ann", language_code="de", started=True)
    bob = tg.user(4202, "Bob", "bob", language_code=None, started=True)
    await story(harness, tg, ann, bob, "en", "en")  # German is not spoken: English, as before languages
    assert "All milestones are released." in harness.last(ann).plain_text
    for person in (ann, bob):
        assert not any(script.search(text) for text in said_to(tg, person) for script in SCRIPT.values())


async def test_the_command_menu_in_each_language(harness, tg):
    english = tg.commands()
    assert [c["command"] for c in english][:3] == ["start", "help", "newcontract"]
    assert english[0]["description"] == "Welcome and main menu"
    for lang in LANGS:
        menu = tg.commands(language_code=lang.split("_")[0])
        assert [c["command"] for c in menu] == [c["command"] for c in english], lang
        for theirs, ours in zip(menu, english, strict=True):
            assert theirs["description"] == t(lang, ours["description"]), lang
            assert theirs["description"] != ours["description"], (lang, ours)


def test_every_language_has_its_own_name():
    assert set(LANGS) | {"en"} == set(LANGUAGES)


def longest_language() -> str:
    """The language whose catalog says the most (the one that pages first)."""

    def size(lang: str) -> int:
        path = LOCALES / lang / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as f:
            po = read_po(f, locale=lang)
        return sum(len(s) for m in po if m.id for s in (m.string if isinstance(m.string, tuple) else (m.string,)))

    return max(LANGS, key=size)


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


async def test_the_4096_character_paging_holds_in_the_longest_language(harness, tg, clock):
    lang = longest_language()
    code = TELEGRAM_CODE[lang]
    ann = tg.user(4301, "Ann " + "&" * 60, "ann", language_code=code, started=True)
    bob = tg.user(4302, "Bob " + "<" * 60, "bob", language_code=code, started=True)
    await harness.send(ann, "/start")
    await harness.send(bob, "/start")
    now = clock()
    s = svc(harness)
    contract, invite = await s.create_contract(ann.id, Role.CLIENT, "Big & <long> project " + "x" * 70, "USD", now)
    await s.accept_invite(invite.token, bob.id, now)
    titles = [f"{n:02d} " + "&<>\"'" * 19 for n in range(1, 26)]
    ids = []
    for title in titles:
        outcome = await s.perform(
            Action.ADD_MILESTONE,
            ann.id,
            now,
            contract_id=contract.id,
            title=title,
            amount=100_000_000_00,
            due_date=now.date(),
            description="d" * 2000,
            today=now.date(),
        )
        ids.append(outcome.milestone.id)
    await s.perform(Action.ACTIVATE, ann.id, now, milestone_id=ids[0])
    for n in range(6):
        await s.perform(Action.SUBMIT, bob.id, now, milestone_id=ids[0], note=f"note{n:02d} " + "n" * 990)
        await s.perform(Action.REQUEST_CHANGES, ann.id, now, milestone_id=ids[0], reason=f"reason{n:02d} " + "r" * 990)
    card = await harness.send(ann, f"/start c{contract.id}")
    pages = [card.plain_text]
    while "▶" in [label for label, _ in card.buttons]:
        await harness.press(ann, card, "▶")
        card = message_by_id(tg, ann, card.message_id)
        pages.append(card.plain_text)
    assert len(pages) == 3, lang
    for number, title in enumerate(titles, start=1):
        assert sum(f"{number}. {title}" in page for page in pages) == 1, (lang, number)
    await harness.press(ann, card, prefix(lang, "History"))
    history = message_by_id(tg, ann, card.message_id)
    shown = [history.plain_text]
    while "▶" in [label for label, _ in history.buttons]:
        await harness.press(ann, history, "▶")
        history = message_by_id(tg, ann, card.message_id)
        shown.append(history.plain_text)
    for n in range(6):
        assert any(f"note{n:02d}" in page for page in shown), (lang, n)
    await harness.send(ann, "/help")
    for person in (ann, bob):
        for m in tg.messages(person):
            assert utf16(m.plain_text) <= 4096, (lang, utf16(m.plain_text))
            assert SCRIPT.get(lang, re.compile(".")).search(m.plain_text) or lang not in SCRIPT


async def test_a_group_reads_its_news_cards_and_details_in_the_clients_language(harness, tg):
    """A linked group is written to in the client's language, whoever presses there: a Persian freelancer
    opening Details on the Russian group's card gets them in Russian; a card the group's next card
    replaces says so in Russian; a mention of the bot stays a plain @name (no direction marks in it)."""
    ann = tg.user(4401, "Ann", "ann", language_code="ru", started=True)
    bob = tg.user(4402, "Bob", "bob", language_code="fa", started=True)
    await story(harness, tg, ann, bob, "ru", "fa")
    group = tg.group(-4400, "Team")
    await harness.send(ann, "/link", chat=group)
    card = await harness.send(ann, "/link", chat=group)  # a second card there: the first is retired
    retired = [m for m in tg.messages(group) if m.message_id != card.message_id and not m.buttons]
    assert any(t("ru", "⬇️ This card was replaced by the one below.") in m.plain_text for m in retired)
    await harness.press(bob, card, prefix("ru", "Details"), chat=group)
    for m in tg.messages(group):
        assert SCRIPT["ru"].search(m.plain_text), m.plain_text
        assert not SCRIPT["fa"].search(m.plain_text + " ".join(label for label, _ in m.buttons)), m.plain_text
    hint = await harness.send(bob, "/newcontract", chat=group)  # private-only: "open @bot"
    assert "@milestone_test_bot" in hint.plain_text, hint.plain_text
