"""PRODUCT §9: the notes the bot writes into a contract's history ("as client", a settlement's split,
the edited fields, a due date's change) are read in the reader's language, money and dates in their
format; a person's own note stays as they wrote it."""

from __future__ import annotations

from datetime import timedelta

from bot.i18n import _, babel_locale, speaking
from domain.actions import Action
from domain.model import Role
from domain.money import format_money
from tests.bot.helpers import message_by_id, svc

# Our English words inside those notes: none may reach a Russian reader.
OURS_IN_ENGLISH = (
    "as client",
    "as freelancer",
    "to the freelancer",
    "to the client",
    "title, amount",
    "$1,000.00",
    "$500.00",
    "$1,500.00",
    "2026-12",
)


def ru(msgid: str) -> str:
    with speaking("ru"):
        return _(msgid)


def rub(minor: int) -> str:
    """A USD amount as a Russian reader reads it: 1 500,00 $."""
    return format_money(minor, "USD", babel_locale("ru"))


async def history_pages(harness, tg, user, contract_id: int) -> list[str]:
    card = await harness.send(user, f"/start c{contract_id}")
    await harness.press(user, card, ru("History"))
    history = message_by_id(tg, user, card.message_id)
    pages = [history.plain_text]
    while "▶" in [label for label, _data in history.buttons]:
        await harness.press(user, history, "▶")
        history = message_by_id(tg, user, card.message_id)
        pages.append(history.plain_text)
    return pages


async def test_the_history_reads_the_bots_own_notes_in_russian(harness, tg, clock):
    ann = tg.user(4501, "Ann", "ann", language_code="ru", started=True)
    bob = tg.user(4502, "Bob", "bob", language_code="ru", started=True)
    await harness.send(ann, "/start")
    await harness.send(bob, "/start")
    now, today = clock(), clock().date()
    s = svc(harness)
    contract, invite = await s.create_contract(ann.id, Role.CLIENT, "Website", "USD", now)
    await s.accept_invite(invite.token, bob.id, now)
    added = await s.perform(
        Action.ADD_MILESTONE,
        ann.id,
        now,
        contract_id=contract.id,
        title="Design",
        amount=100_000,
        due_date=today + timedelta(days=4),
        description="",
        today=today,
    )
    ms = added.milestone.id
    await s.perform(Action.EDIT, ann.id, now, milestone_id=ms, title="Design v2", amount=150_000, today=today)
    await s.perform(Action.ACTIVATE, ann.id, now, milestone_id=ms)
    await s.perform(
        Action.PROPOSE_DUE_DATE, bob.id, now, milestone_id=ms, due_date=today + timedelta(days=8), today=today
    )
    await s.perform(Action.ACCEPT_DUE_DATE, ann.id, now, milestone_id=ms)
    await s.perform(Action.SUBMIT, bob.id, now, milestone_id=ms, note="Готово")
    await s.perform(Action.OPEN_DISPUTE, ann.id, now, milestone_id=ms, reason="Не то")
    await s.perform(Action.OFFER_SETTLEMENT, ann.id, now, milestone_id=ms, amount=100_000, note="Моё предложение")
    await s.perform(Action.ACCEPT_OFFER, bob.id, now, milestone_id=ms)

    text = "\n".join(await history_pages(harness, tg, ann, contract.id))
    assert ru("as client") in text and ru("as freelancer") in text
    assert f"{ru('title')} и {ru('amount')}" in text  # the edited fields, listed the Russian way
    assert "→" in text and "дек. 2026" in text  # 1 Dec → 5 Dec 2026 in Russian dates
    split = f"{rub(100_000)} фрилансеру, {rub(50_000)} клиенту"
    assert f"{split}: Моё предложение" in text  # the offer: ours translated, Ann's own note as she wrote it
    assert text.count(split) == 2  # and the settlement
    assert "Готово" in text and "Не то" in text  # people's own notes, as written
    leaks = [english for english in OURS_IN_ENGLISH if english in text]
    assert leaks == [], (leaks, text)

    # Stored as before: the English note, for old readers and the logs.
    _c, entries = await s.history(contract.id, ann.id)
    notes = {h.action: h.note for h in entries}
    assert notes["contract_created"] == "as client" and notes["joined"] == "as freelancer"
    assert notes["milestone_edited"] == "title, amount"
    assert notes["due_date_changed"] == f"{today + timedelta(days=4)} → {today + timedelta(days=8)}"
    assert notes["dispute_offer"] == "$1,000.00 to the freelancer, $500.00 to the client: Моё предложение"
    assert notes["dispute_settled"] == "$1,000.00 to the freelancer, $500.00 to the client"
