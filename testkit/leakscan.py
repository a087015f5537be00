"""A pytest plugin that looks for English left in another language (PRODUCT §9): a review tool, not a test.

    LEAK_LANG=ru .venv/bin/python -m pytest -q -p testkit.leakscan tests/bot

Every person the fake creates with the default language (English) speaks LEAK_LANG instead, and after
each test everything they were shown (messages, buttons, answers to presses) is searched for our English
sentences (pieces of the catalog's msgids of 16+ characters). Hits go to /tmp/leaks_<lang>.jsonl with the
test and the text. Most tests fail in this mode (they check English texts): only the report counts. A hit
in a test that asks for English on purpose, or about someone the bot never heard from (seeded straight
into the database, so it never learnt their language), is expected.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from babel.messages.pofile import read_po

from testkit import fake_telegram
from tools.catalogs import POT, english_pieces

LANG = os.environ.get("LEAK_LANG", "ru")
REPORT = f"/tmp/leaks_{LANG}.jsonl"

_user = fake_telegram.FakeTelegram.user


def _speaking_user(self: fake_telegram.FakeTelegram, *args: Any, **kwargs: Any) -> Any:
    if kwargs.get("language_code", "en") == "en":
        kwargs["language_code"] = LANG
    return _user(self, *args, **kwargs)


fake_telegram.FakeTelegram.user = _speaking_user  # type: ignore[method-assign]

_press = fake_telegram.FakeTelegram.press


def _labels(prefix: str) -> list[str]:
    """The catalog's labels an English button prefix may stand for, in LEAK_LANG, up to their first
    placeholder ("Approve" -> "Aprobar y liberar «")."""
    from bot.i18n import _, speaking

    with speaking(LANG):
        return [_(mid).split("{")[0] for mid in MSGIDS if mid.startswith(prefix) and len(mid) < 64]


def _pressing_translated(
    self: fake_telegram.FakeTelegram, user: Any, message: Any, prefix: str | None = None, *args: Any, **kwargs: Any
) -> str:
    """A test presses the English label: the same button is found by its translation, so the test's
    story goes on in LEAK_LANG (and everything after it is scanned too)."""
    if prefix is None:
        return _press(self, user, message, prefix, *args, **kwargs)
    try:
        return _press(self, user, message, prefix, *args, **kwargs)
    except AssertionError:
        for label in _labels(prefix):
            if label.strip():
                try:
                    return _press(self, user, message, label, *args, **kwargs)
                except AssertionError:
                    continue
        raise


fake_telegram.FakeTelegram.press = _pressing_translated  # type: ignore[method-assign]


PIECES = english_pieces(16)
with POT.open("rb") as _f:
    MSGIDS = [m.id if isinstance(m.id, str) else m.id[0] for m in read_po(_f) if m.id]


def shown(tg: fake_telegram.FakeTelegram) -> Iterator[str]:
    for chat in list(tg._messages):
        for message in tg.messages(chat):
            yield message.plain_text
            yield from (label for label, _data in message.buttons)
    for answer in tg.callback_answers.values():
        if answer.get("text"):
            yield answer["text"]


@pytest.fixture(autouse=True)
def _scan_for_english(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    tg = request.node.funcargs.get("tg")
    if not isinstance(tg, fake_telegram.FakeTelegram):
        return
    hits = [(piece, text) for text in shown(tg) for piece in PIECES if piece in text]
    if hits:
        with open(REPORT, "a") as out:
            for piece, text in hits:
                out.write(json.dumps({"test": request.node.nodeid, "piece": piece, "text": text[:200]}) + "\n")
