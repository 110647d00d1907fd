"""Shared fixtures: configs on a fresh SQLite file or the machine's PostgreSQL, and a manual clock."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.runtime import Runtime, build_runtime
from bot.clock import ManualClock
from bot.config import Config, build_config
from bot.scheduling import ManualScheduler
from storage.db import Database

POSTGRES_ENV = "IBEN_TEST_POSTGRES_URL"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
START = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)


def make_config(db_url: str, **sections: Any) -> Config:
    return build_config({"database": {"url": db_url}, **sections}, source="test", env={})


async def _reset_postgres(url: str) -> str | None:
    """Empty the test database; returns why it cannot be used, or None."""
    import asyncpg

    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    try:
        conn = await asyncio.wait_for(asyncpg.connect(dsn), timeout=5)
    except Exception as exc:
        return f"no PostgreSQL reachable at {url} ({exc.__class__.__name__}: {exc})"
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()
    return None


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on the embedded default and on PostgreSQL (skipped locally without a server)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'bot.db'}"
    url = os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES)
    problem = await _reset_postgres(url)
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"{problem}; CI must run the PostgreSQL tests ({POSTGRES_ENV})")
        pytest.skip(f"{problem}; set {POSTGRES_ENV} or start PostgreSQL to run this test")
    return url


@pytest.fixture
async def postgres_url() -> str:
    """An emptied PostgreSQL database, for tests that only make sense there (several processes)."""
    url = os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES)
    problem = await _reset_postgres(url)
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"{problem}; CI must run the PostgreSQL tests ({POSTGRES_ENV})")
        pytest.skip(f"{problem}; set {POSTGRES_ENV} or start PostgreSQL to run this test")
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A migrated database on SQLite and on PostgreSQL (see `database_url`)."""
    database = Database(database_url)
    await database.upgrade()
    yield database
    await database.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


@pytest.fixture
async def runtime(sqlite_url: str, clock: ManualClock) -> AsyncIterator[Runtime]:
    """A console-ready runtime on SQLite with a manual clock and scheduler."""
    rt = await build_runtime(make_config(sqlite_url), clock=clock, scheduler=ManualScheduler())
    yield rt
    await rt.close()
