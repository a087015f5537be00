"""E2E fixtures: the strict fake Bot API on 127.0.0.1 and the bot as a real `python -m bot` process."""

from __future__ import annotations

import pytest

from testkit.fake_telegram import FakeMessage, FakeTelegram, FakeUser
from testkit.process import TOKEN, BotProcess


@pytest.fixture
def tg():
    with FakeTelegram(TOKEN) as fake:
        yield fake


@pytest.fixture
def bot(tg, tmp_path, request):
    """A running bot process; stopped (SIGTERM) after the test, its log tail attached to failures."""
    proc = BotProcess(tg, tmp_path / "bot.sqlite3", tmp_path / "bot.log")
    tg.abort_check = proc.died
    request.node._bot_process = proc
    proc.start()
    yield proc
    tg.abort_check = None
    if proc.proc is not None:
        code = proc.stop()
        assert code == 0, f"the bot exited with {code} on SIGTERM\n{proc.tail()}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    proc: BotProcess | None = getattr(item, "_bot_process", None)
    if proc is not None and report.failed:
        report.sections.append((f"bot process output ({report.when}, last 60 lines)", proc.tail()))


def forge_press(tg: FakeTelegram, user: FakeUser, message: FakeMessage, data: str) -> str:
    """A callback query with data that is NOT on the message (a modified client): the bot must not trust it."""
    return tg.press(user, message, forged_data=data)
