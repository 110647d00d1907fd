"""Which databases a benchmark runs on: a fresh SQLite file, and PostgreSQL when a server answers.

PostgreSQL uses $IBEN_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test) and
EMPTIES that database's public schema first, as the tests do: never point it at data you keep, and
don't run a benchmark while the test suite uses the same database.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

POSTGRES_DEFAULT = "postgresql://postgres@127.0.0.1:5432/test"


async def reset_postgres(url: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


async def database_urls(backends: str, folder: Path, name: str) -> AsyncIterator[tuple[str, str]]:
    """(backend, empty database URL) for each of "sqlite,postgres"; a missing server is skipped."""
    for backend in backends.split(","):
        if backend == "sqlite":
            yield backend, f"sqlite:///{folder / name}.db"
            continue
        url = os.environ.get("IBEN_TEST_POSTGRES_URL", POSTGRES_DEFAULT)
        try:
            await reset_postgres(url)
        except Exception as exc:  # no server: say so, keep the other figures
            print(f"postgres skipped: {exc}")
            continue
        yield backend, url
