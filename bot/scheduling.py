"""The scheduler port: the core asks for work at a time; the runtime makes it survive restarts.

`ManualScheduler` is the in-memory implementation for scenario tests and simulations: time moves
only when the test calls `run_due`, so nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

JobRunner = Callable[[str, str, dict[str, Any], datetime], Awaitable[None]]


class SchedulerPort(Protocol):
    async def schedule(self, *, key: str, kind: str, run_at: datetime, payload: dict[str, Any]) -> None:
        """Run job `kind` with `payload` at `run_at`; scheduling the same key again replaces it."""
        ...

    async def cancel(self, key: str) -> None: ...


@dataclass
class PlannedJob:
    key: str
    kind: str
    run_at: datetime
    payload: dict[str, Any]


class ManualScheduler:
    """Jobs wait in a dict until `run_due(now)`; for tests, the console demo and benchmarks."""

    def __init__(self) -> None:
        self.jobs: dict[str, PlannedJob] = {}
        self.runner: JobRunner | None = None

    async def schedule(self, *, key: str, kind: str, run_at: datetime, payload: dict[str, Any]) -> None:
        self.jobs[key] = PlannedJob(key, kind, run_at, dict(payload))

    async def cancel(self, key: str) -> None:
        self.jobs.pop(key, None)

    async def run_due(self, now: datetime) -> int:
        """Run every job due at `now` in time order; returns how many ran."""
        if self.runner is None:
            raise RuntimeError("ManualScheduler has no runner: attach it to a Dispatcher first")
        due = sorted((j for j in self.jobs.values() if j.run_at <= now), key=lambda j: j.run_at)
        for job in due:
            self.jobs.pop(job.key, None)
            await self.runner(job.kind, job.key, job.payload, job.run_at)
        return len(due)
