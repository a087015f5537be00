"""Shared fixtures: a migrated database per test on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import itertools
import os
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from bot.settings import Settings
from storage.db import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.uow import uow_factory
from testkit.pg_server import PostgresServer, PostgresUnavailable

REQUIRE_POSTGRES = os.environ.get("REQUIRE_POSTGRES") == "1"
_db_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL server for the whole run; skipped (or failed, in CI) when it can't start."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if url:
        yield url
        return
    try:
        server = PostgresServer().start()
    except PostgresUnavailable as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required here (REQUIRE_POSTGRES=1) but: {exc}")
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    yield server.url()
    server.stop()


async def _fresh_pg_database(admin_url: str) -> str:
    name = f"t{os.getpid()}_{next(_db_counter)}"
    admin = create_engine(admin_url)
    async with admin.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
    admin_url = request.getfixturevalue("pg_server")
    return await _fresh_pg_database(admin_url)


@pytest.fixture
async def engine(database_url):
    eng = create_engine(database_url, inline=Settings(_env_file=None).io_shims)  # IO_SHIMS=0: stock aiosqlite
    await upgrade_to_head(eng)
    yield eng
    await eng.dispose()


@pytest.fixture
def uow(engine):
    """A unit-of-work factory on the migrated test database."""
    return uow_factory(session_factory(engine))


@pytest.fixture
def now():
    return datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def pytest_terminal_summary(terminalreporter):
    """Say how much of the storage suite ran on each database (CI requires PostgreSQL to run)."""
    passed = terminalreporter.stats.get("passed", [])
    on_pg = sum(1 for r in passed if "[postgresql" in r.nodeid)
    on_sqlite = sum(1 for r in passed if "[sqlite" in r.nodeid)
    skipped = sum(1 for r in terminalreporter.stats.get("skipped", []) if "postgresql" in r.nodeid)
    terminalreporter.write_line(
        f"database suites: {on_sqlite} passed on SQLite, {on_pg} passed on PostgreSQL, {skipped} skipped"
    )
