"""IO_SHIMS: the inline SQLite connection and the aiohttp transport when on, stock aiosqlite and PTB's
HTTPXRequest when off, and the stock path (with a warning) when a library upgrade moved what a shim needs."""

from __future__ import annotations

import logging
import sys

import aiosqlite
import pytest
from sqlalchemy import text
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.http import AiohttpRequest
from bot.settings import Settings
from storage.db import create_engine, start_wal_checkpointer, uses_inline
from storage.sqlite_inline import InlineConnection

TOKEN = "123456:TEST-token-for-io-modes"


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite+aiosqlite:///{tmp_path / 'io.sqlite3'}"


async def _build(db_url, **settings):
    app = build_application(Settings(bot_token=TOKEN, database_url=db_url, _env_file=None, **settings), updater=False)
    return app, app.bot_data["engine"]


async def _close(app, engine):
    await app.bot.request.shutdown()
    await engine.dispose()


@pytest.mark.parametrize(("value", "expected"), [(None, True), ("", True), ("1", True), ("0", False), ("false", False)])
def test_the_setting_comes_from_the_environment(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("IO_SHIMS", raising=False)
    else:
        monkeypatch.setenv("IO_SHIMS", value)
    assert Settings(_env_file=None).io_shims is expected


async def test_on_the_app_gets_the_inline_engine_and_the_aiohttp_transport(db_url, caplog):
    app, engine = await _build(db_url, io_shims=True)
    try:
        assert uses_inline(engine)
        assert isinstance(app.bot.request, AiohttpRequest)
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.driver_connection, InlineConnection)
    finally:
        await _close(app, engine)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_off_the_app_gets_stock_aiosqlite_and_httpx(db_url, caplog):
    app, engine = await _build(db_url, io_shims=False)
    try:
        assert not uses_inline(engine)
        assert type(app.bot.request) is HTTPXRequest
        async with engine.begin() as conn:
            raw = await conn.get_raw_connection()
            assert isinstance(raw.driver_connection, aiosqlite.Connection)
            assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 30_000
            assert (await conn.execute(text("SELECT 1"))).scalar() == 1
        assert start_wal_checkpointer(engine) is None  # aiosqlite's commits checkpoint on its own thread
    finally:
        await _close(app, engine)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_aiosqlite_without_its_private_attribute_means_stock_aiosqlite_and_a_warning(db_url, caplog):
    with pytest.MonkeyPatch.context() as mp:
        mp.delattr(aiosqlite.Connection, "_conn")  # what SQLAlchemy's adapter reaches for
        engine = create_engine(db_url, inline=True)
    assert not uses_inline(engine)
    assert "aiosqlite.Connection no longer has _conn" in caplog.text
    async with engine.connect() as conn:  # and the stock path works (attribute back)
        assert isinstance((await conn.get_raw_connection()).driver_connection, aiosqlite.Connection)
    await engine.dispose()


def test_an_adapter_needing_what_the_inline_connection_lacks_means_stock_aiosqlite(db_url, monkeypatch, caplog):
    monkeypatch.delattr(InlineConnection, "_tx")
    engine = create_engine(db_url, inline=True)
    assert not uses_inline(engine)
    assert "InlineConnection lacks" in caplog.text and "_tx" in caplog.text


async def test_ptb_without_its_private_module_means_httpx_and_a_warning(db_url, monkeypatch, caplog):
    # As if PTB had dropped telegram._utils.defaultvalue (its own modules keep what they imported).
    monkeypatch.setitem(sys.modules, "telegram._utils.defaultvalue", None)
    app, engine = await _build(db_url, io_shims=True)
    try:
        assert type(app.bot.request) is HTTPXRequest
        assert uses_inline(engine)  # the other shim is unaffected
    finally:
        await _close(app, engine)
    assert "cannot import telegram._utils.defaultvalue" in caplog.text and "HTTPXRequest instead" in caplog.text


async def test_a_transport_that_cannot_be_imported_means_httpx(db_url, monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "bot.http", None)  # the import raises ImportError
    app, engine = await _build(db_url, io_shims=True)
    try:
        assert type(app.bot.request) is HTTPXRequest
    finally:
        await _close(app, engine)
    assert "cannot import it" in caplog.text
