"""APScheduler 3.11 behind the core's SchedulerPort, with pending work persisted in the bot's database.

APScheduler does the timing (an in-memory job store); every job is also a row in `scheduled_jobs`
(storage/jobs.py), written through the bot's own async engine, and reloaded at start, so work survives
a restart. (APScheduler's SQLAlchemy job store writes with a blocking driver on the event-loop thread,
which deadlocks against async SQLite transactions: see storage/jobs.py.) Misfires are never dropped:
a job due while the bot was down runs at start, the core decides what "late" means, and the delivery
ledger makes a repeat impossible.

With a lease (storage/lease.py, PostgreSQL) only the scheduler leader holds jobs in memory and runs
them: on election it loads every stored job, then follows other processes' changes through their
NOTIFYs; on losing the lease it drops them (jobs already running finish; the ledger keeps their sends
single). Followers only write rows.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.scheduling import JobRunner
from storage.db import Database
from storage.jobs import JobStore
from storage.lease import Lease

log = logging.getLogger(__name__)


async def scheduled_job(kind: str, payload: dict[str, Any]) -> None:
    """The callable APScheduler holds; CoreExecutor runs the real work through the core's runner."""
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
    """SchedulerPort: timing by AsyncIOScheduler, persistence by the `scheduled_jobs` table."""

    def __init__(self, db: Database, lease: Lease | None = None) -> None:
        self._lease = lease
        self._store = JobStore(db, lease)
        self._scheduler = AsyncIOScheduler(
            jobstores={"default": MemoryJobStore()},
            executors={"default": CoreExecutor(self)},
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
            timezone=UTC,
        )
        self.runner: JobRunner | None = None
        self.fired: int = 0
        self.leading = lease is None  # without a lease this process is the only one
        self._running: dict[str, datetime] = {}
        self._syncs: set[asyncio.Task[None]] = set()

    async def start(self, *, paused: bool = False) -> None:
        """Start timing; the leader (or a process without a lease) loads every stored job, and those
        overdue run at once."""
        self._scheduler.start(paused=paused)
        if self._lease is None:
            await self._load()
        else:
            await self._lease.start(self.set_leader, self.notice)

    async def _load(self) -> None:
        for job in await self._store.all():
            self._add(job.key, job.kind, job.run_at, job.payload)

    async def set_leader(self, leading: bool) -> None:
        """The lease's callback: take every stored job on election, drop them all when the lease goes."""
        self.leading = leading
        if leading:
            await self._load()
        else:
            self._scheduler.remove_all_jobs()

    def notice(self, key: str) -> None:
        """Another process scheduled or cancelled `key`: read its row and follow it."""
        task = asyncio.get_running_loop().create_task(self._sync(key))
        self._syncs.add(task)
        task.add_done_callback(self._syncs.discard)

    async def _sync(self, key: str) -> None:
        job = await self._store.get(key)
        if not self.leading:
            return
        if job is None:
            if self._scheduler.get_job(key) is not None:
                self._scheduler.remove_job(key)
        elif self._running.get(key) != job.run_at:  # not the run already under way here
            self._add(job.key, job.kind, job.run_at, job.payload)

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def _add(self, key: str, kind: str, run_at: datetime, payload: dict[str, Any]) -> None:
        self._scheduler.add_job(
            scheduled_job,
            trigger="date",
            run_date=run_at.astimezone(UTC),
            id=key,
            replace_existing=True,
            kwargs={"kind": kind, "payload": payload},
        )

    async def schedule(self, *, key: str, kind: str, run_at: datetime, payload: dict[str, Any]) -> None:
        await self._store.put(key, kind, run_at, payload)
        if self.leading:
            self._add(key, kind, run_at, payload)

    async def cancel(self, key: str) -> None:
        await self._store.remove(key)
        job = self._scheduler.get_job(key)
        if job is not None:
            job.remove()

    def pending(self) -> list[tuple[str, datetime]]:
        """(key, next run time) of every job waiting in this process, for status output and tests."""
        return [(j.id, j.next_run_time) for j in self._scheduler.get_jobs()]

    async def fire(self, key: str, kind: str, payload: dict[str, Any], run_time: datetime) -> None:
        if self.runner is None:
            raise RuntimeError("scheduler has no runner")
        self.fired += 1
        self._running[key] = run_time
        try:
            await self.runner(kind, key, payload, run_time)
        finally:
            await self._store.done(key, run_time)  # a job that rescheduled itself keeps its new row
            if self._running.get(key) == run_time:
                del self._running[key]
