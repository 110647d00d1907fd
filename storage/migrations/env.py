"""Alembic environment: uses the connection handed over by storage.migrate, or IBEN_BOT_DATABASE_URL."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from storage.models import Base
from storage.qa_search import include_name
from storage.urls import async_url

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=include_name,  # the search index (migration 0004) is not in the models
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = os.environ.get("IBEN_BOT_DATABASE_URL", "sqlite:///iben-bot.db")

    async def main() -> None:
        engine = create_async_engine(async_url(url))
        async with engine.begin() as conn:
            await conn.run_sync(_run)
        await engine.dispose()

    asyncio.run(main())


run_online()
