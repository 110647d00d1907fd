"""Pending scheduled work, persisted through the bot's own async engine.

APScheduler's SQLAlchemy job store writes with a blocking driver on the event-loop thread; on SQLite,
when one of our async transactions is open across an await, that write blocks the loop that would
finish the transaction, and both wait until the busy timeout ("database is locked", measured here).
Keeping the rows ourselves means one writer path and no second driver.

On PostgreSQL several processes share the table, and only the scheduler leader runs jobs
(storage/lease.py): every change is NOTIFYed in its own transaction, so the leader picks up a job
another process scheduled or cancelled as soon as it commits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.lease import JOBS_CHANNEL, Lease
from storage.models import ScheduledJob


@dataclass(frozen=True)
class StoredJob:
    key: str
    kind: str
    run_at: datetime
    payload: dict[str, Any]


class JobStore:
    def __init__(self, db: Database, lease: Lease | None = None) -> None:
        self._db = db
        self._lease = lease

    async def _notify(self, session: AsyncSession, key: str) -> None:
        if self._lease is not None and self._lease.shared:
            await session.execute(
                text("SELECT pg_notify(:channel, :payload)"),
                {"channel": JOBS_CHANNEL, "payload": self._lease.notice(key)},
            )

    async def put(self, key: str, kind: str, run_at: datetime, payload: dict[str, Any]) -> None:
        """Insert or replace the job with this key (an upsert: two processes may schedule one key)."""
        insert = sqlite_insert if self._db.is_sqlite else pg_insert
        values = {"key": key, "kind": kind, "run_at": run_at, "payload": json.dumps(payload)}
        stmt = insert(ScheduledJob).values(values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"],
            set_={
                "kind": stmt.excluded.kind,
                "run_at": stmt.excluded.run_at,
                "payload": stmt.excluded.payload,
            },
        )
        async with self._db.sessions() as session, session.begin():
            await session.execute(stmt)
            await self._notify(session, key)

    async def done(self, key: str, run_at: datetime) -> None:
        """Forget a job that ran, unless it was rescheduled meanwhile (a retry keeps its row)."""
        async with self._db.sessions() as session, session.begin():
            await session.execute(
                delete(ScheduledJob).where(ScheduledJob.key == key, ScheduledJob.run_at == run_at)
            )

    async def remove(self, key: str) -> None:
        async with self._db.sessions() as session, session.begin():
            await session.execute(delete(ScheduledJob).where(ScheduledJob.key == key))
            await self._notify(session, key)

    async def get(self, key: str) -> StoredJob | None:
        async with self._db.sessions() as session:
            r = await session.get(ScheduledJob, key)
            return None if r is None else StoredJob(r.key, r.kind, r.run_at, json.loads(r.payload))

    async def all(self) -> list[StoredJob]:
        async with self._db.sessions() as session:
            rows = (await session.execute(select(ScheduledJob).order_by(ScheduledJob.run_at))).scalars()
            return [StoredJob(r.key, r.kind, r.run_at, json.loads(r.payload)) for r in rows]
