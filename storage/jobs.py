"""Pending scheduled work, persisted through the bot's own async engine.

APScheduler's SQLAlchemy job store writes with a blocking driver on the event-loop thread; on SQLite,
when one of our async transactions is open across an await, that write blocks the loop that would
finish the transaction, and both wait until the busy timeout ("database is locked", measured here).
Keeping the rows ourselves means one writer path and no second driver.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select

from storage.db import Database
from storage.models import ScheduledJob


@dataclass(frozen=True)
class StoredJob:
    key: str
    kind: str
    run_at: datetime
    payload: dict[str, Any]


class JobStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def put(self, key: str, kind: str, run_at: datetime, payload: dict[str, Any]) -> None:
        """Insert or replace the job with this key."""
        async with self._db.sessions() as session, session.begin():
            job = await session.get(ScheduledJob, key)
            if job is None:
                session.add(ScheduledJob(key=key, kind=kind, run_at=run_at, payload=json.dumps(payload)))
            else:
                job.kind, job.run_at, job.payload = kind, run_at, json.dumps(payload)

    async def done(self, key: str, run_at: datetime) -> None:
        """Forget a job that ran, unless it was rescheduled meanwhile (a retry keeps its row)."""
        async with self._db.sessions() as session, session.begin():
            await session.execute(
                delete(ScheduledJob).where(ScheduledJob.key == key, ScheduledJob.run_at == run_at)
            )

    async def remove(self, key: str) -> None:
        async with self._db.sessions() as session, session.begin():
            await session.execute(delete(ScheduledJob).where(ScheduledJob.key == key))

    async def all(self) -> list[StoredJob]:
        async with self._db.sessions() as session:
            rows = (await session.execute(select(ScheduledJob).order_by(ScheduledJob.run_at))).scalars()
            return [StoredJob(r.key, r.kind, r.run_at, json.loads(r.payload)) for r in rows]
