"""Fixtures for the in-process bot tests: the real Application (testkit.harness) with the fake, on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from testkit.fake_telegram import FakeTelegram
from testkit.harness import TOKEN, Clock, Harness, make_app


@pytest.fixture
def tg():
    return FakeTelegram(TOKEN)


@pytest.fixture
def clock():
    return Clock(datetime(2026, 11, 27, 10, 0, tzinfo=UTC))


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"


@pytest.fixture
async def harness(tg, db_url, clock):
    app = await make_app(tg, db_url, clock)
    h = Harness(app, tg, clock)
    yield h
    await app.shutdown()
    await app.bot_data["engine"].dispose()


@pytest.fixture
def people(tg):
    """Ann the client, Bob the freelancer, Eve a stranger - all have opened the bot."""
    return (
        tg.user(1001, "Ann", "ann", started=True),
        tg.user(1002, "Bob", "bob", started=True),
        tg.user(1003, "Eve", "eve", started=True),
    )


# Telegram mode (tests/bot/test_telegram_payments.py and the money tests after it): Stars, a provider
# token (fiat), the operator.
@pytest.fixture
async def stars(tg, db_url, clock):
    from .test_telegram_payments import money_harness

    h = await money_harness(tg, db_url, clock)
    yield h
    await h.app.shutdown()
    await h.app.bot_data["engine"].dispose()


@pytest.fixture
async def fiat(tg, db_url, clock):
    from .test_telegram_payments import PROVIDER, money_harness

    h = await money_harness(tg, db_url, clock, payment_provider_token=PROVIDER)
    yield h
    await h.app.shutdown()
    await h.app.bot_data["engine"].dispose()


@pytest.fixture
def op(tg):
    from .test_telegram_payments import OPERATOR

    return tg.user(OPERATOR, "Olga", "olga_ops", started=True)


@pytest.fixture
async def with_operator(tg, db_url, clock):
    """Operator 1009 (Olga in the tests); disputes go to the operator after 5 days."""
    app = await make_app(tg, db_url, clock, operator_ids="1009", dispute_days=5)
    h = Harness(app, tg, clock)
    yield h
    await app.shutdown()
    await app.bot_data["engine"].dispose()
