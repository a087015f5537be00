"""PRODUCT §8 and §9 together: a dispute between a Russian client and a Spanish freelancer, decided by a
Persian operator. Each reads every message and button in their own language (their script only, none
of our English sentences), with money in their own format; the buttons are pressed as each reads them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from telegram.ext import CallbackContext

from bot.actions import ACTIONS
from bot.i18n import babel_locale
from bot.reminders import run_sweep
from domain.actions import Action
from domain.model import LedgerKind, Role
from domain.money import format_money
from testkit.harness import Harness, make_app
from testkit.seed import new_milestone

from .helpers import ledger_sums
from .test_languages import SCRIPT, english_in, prefix, said_to, t


@pytest.fixture
async def h(tg, db_url, clock):
    app = await make_app(tg, db_url, clock, operator_ids="4509", dispute_days=5)
    harness = Harness(app, tg, clock)
    yield harness
    await app.shutdown()
    await app.bot_data["engine"].dispose()


def label(action: Action, lang: str) -> str:
    return prefix(lang, ACTIONS[action].label)


async def test_a_dispute_in_three_languages(h, tg):
    ann = tg.user(4501, "Ann", "ann", language_code="ru", started=True)
    bob = tg.user(4502, "Bob", "bob", language_code="es", started=True)
    olga = tg.user(4509, "Olga", "olga", language_code="fa", started=True)
    for person in (ann, bob, olga):
        await h.send(person, "/start")  # the bot learns their language
    svc = h.app.bot_data["deps"].svc
    now = h.clock()
    contract, invite = await svc.create_contract(ann.id, Role.CLIENT, "Shop", "USD", now)
    await svc.accept_invite(invite.token, bob.id, now)
    design = await new_milestone(
        svc,
        ann.id,
        now,
        contract.id,
        title="Logo",
        amount=150_000,
        due_date=now.date() + timedelta(days=30),
        today=now.date(),
    )
    ms_id = design.milestone.id
    await svc.perform(Action.ACTIVATE, ann.id, now, milestone_id=ms_id)
    await svc.perform(Action.SUBMIT, bob.id, now, milestone_id=ms_id, note="done")

    card = await h.send(ann, f"/start c{contract.id}")
    await h.press(ann, card, label(Action.OPEN_DISPUTE, "ru"))
    await h.send(ann, "logo v1")
    await h.press(bob, h.last(bob), label(Action.OFFER_SETTLEMENT, "es"))
    await h.send(bob, "1400")
    await h.send(bob, "tweak")
    opened = h.clock()
    h.clock.now = opened + timedelta(days=5, seconds=1)
    await run_sweep(CallbackContext(h.app))
    await h.app.bot_data["sender"].drain()
    listed = await h.send(olga, "/disputes")
    await h.press(olga, listed, prefix("fa", "Decide the split"))
    await h.send(olga, "1000")
    await h.send(olga, "redo")
    await h.press(olga, h.last(olga), prefix("fa", ACTIONS[Action.DECIDE_DISPUTE].confirm_label))
    sums = await ledger_sums(h, contract.id)
    assert (sums[LedgerKind.RELEASE], sums[LedgerKind.REFUND]) == (100_000, 50_000)

    for person, lang in ((ann, "ru"), (bob, "es"), (olga, "fa")):
        money = format_money(150_000, "USD", babel_locale(lang))
        shown = said_to(tg, person)
        assert len(shown) > 5, lang
        assert {piece for text in shown for piece in english_in(text)} == set(), lang
        others = [script for other, script in SCRIPT.items() if other != lang]
        assert not any(script.search(text) for text in shown for script in others), (lang, shown)
        if lang in SCRIPT:
            assert all(SCRIPT[lang].search(m.plain_text) for m in tg.messages(person)), lang
        assert any(money in m.plain_text for m in tg.messages(person)), (lang, money, shown)
    decided = t("ru", "Decide the split")
    assert decided != "Decide the split"
