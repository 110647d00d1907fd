"""APScheduler 3.11 behind the core's SchedulerPort, with its job store in the bot's own database.

Jobs are stored as (kind, payload) only; a small executor hands them to the core's job runner, so the
stored job never needs to pickle a context. Misfires are never dropped here (no grace limit): the core
decides what "late" means, and the delivery ledger makes a repeat impossible.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import create_engine, event

from bot.scheduling import JobRunner
from storage.db import _sqlite_pragmas
from storage.urls import is_sqlite, sync_url

log = logging.getLogger(__name__)

JOBS_TABLE = "scheduled_jobs"


async def scheduled_job(kind: str, payload: dict[str, Any]) -> None:
    """The stored job's callable: a name for APScheduler to persist; CoreExecutor runs the real work."""
    raise RuntimeError("scheduled_job runs only through CoreExecutor")


class CoreExecutor(BaseExecutor):  # type: ignore[misc]
    """Runs each due job as a task on the event loop through the core's runner."""

    def __init__(self, owner: ApschedulerScheduler) -> None:
        super().__init__()
        self._owner = owner
        self._tasks: set[Any] = set()

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        self._loop = scheduler._eventloop

    def shutdown(self, wait: bool = True) -> None:
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        async def run() -> list[JobExecutionEvent]:
            events = []
            for run_time in run_times:
                try:
                    await self._owner.fire(job.id, job.kwargs["kind"], job.kwargs["payload"], run_time)
                except Exception as exc:
                    log.exception("scheduled job %s failed", job.id)
                    tb = sys.exc_info()[2]
                    events.append(
                        JobExecutionEvent(
                            EVENT_JOB_ERROR,
                            job.id,
                            job._jobstore_alias,
                            run_time,
                            exception=exc,
                            traceback=tb,
                        )
                    )
                else:
                    events.append(
                        JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, job._jobstore_alias, run_time)
                    )
            return events

        task = self._loop.create_task(run())
        self._tasks.add(task)

        def done(f: Any) -> None:
            self._tasks.discard(f)
            if not f.cancelled():
                self._run_job_success(job.id, f.result())

        task.add_done_callback(done)


class ApschedulerScheduler:
    """SchedulerPort over AsyncIOScheduler + SQLAlchemyJobStore (sync driver, same database)."""

    def __init__(self, database_url: str) -> None:
        self._engine = create_engine(sync_url(database_url))
        if is_sqlite(database_url):
            event.listen(self._engine, "connect", _sqlite_pragmas)
        self._scheduler = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self._engine, tablename=JOBS_TABLE)},
            executors={"default": CoreExecutor(self)},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        self.runner: JobRunner | None = None
        self.fired: int = 0

    def start(self, *, paused: bool = False) -> None:
        self._scheduler.start(paused=paused)

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._engine.dispose()

    async def schedule(self, *, key: str, kind: str, run_at: datetime, payload: dict[str, Any]) -> None:
        self._scheduler.add_job(
            scheduled_job,
            trigger="date",
            run_date=run_at.astimezone(UTC),
            id=key,
            replace_existing=True,
            kwargs={"kind": kind, "payload": payload},
        )

    async def cancel(self, key: str) -> None:
        job = self._scheduler.get_job(key)
        if job is not None:
            job.remove()

    def pending(self) -> list[tuple[str, datetime]]:
        """(key, next run time) of every stored job, for status output and tests."""
        return [(j.id, j.next_run_time) for j in self._scheduler.get_jobs()]

    async def fire(self, key: str, kind: str, payload: dict[str, Any], run_time: datetime) -> None:
        if self.runner is None:
            raise RuntimeError("scheduler has no runner")
        self.fired += 1
        await self.runner(kind, key, payload, run_time)
