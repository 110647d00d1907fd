"""Micro-batching: work submitted in the same event-loop pass runs together.

A burst of scheduled jobs due at the same instant (a thousand meeting reminders at 15:00) arrives as
that many tasks in one pass. Each submits its item and waits; one flush reads and writes the database
for all of them at once, so the cost is a few round trips instead of several per item (measured in
bench/reminders.py). Each item still gets its own outcome, so a failure retries only that job.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
Runner = Callable[[Sequence[T]], Awaitable[Sequence[BaseException | None]]]


class MicroBatch(Generic[T]):
    def __init__(self, run: Runner[T], *, limit: int = 500) -> None:
        self._run = run
        self._limit = limit
        self._pending: list[tuple[T, asyncio.Future[None]]] = []
        self._scheduled = False
        self._flushes: set[asyncio.Task[None]] = set()

    async def submit(self, item: T) -> None:
        """Queue `item`; returns when its batch ran, raising the item's own failure if it had one."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        self._pending.append((item, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._start)
        await future

    def _start(self) -> None:
        self._scheduled = False
        items, self._pending = self._pending, []
        task = asyncio.ensure_future(self._flush(items))
        self._flushes.add(task)
        task.add_done_callback(self._flushes.discard)

    async def _flush(self, items: list[tuple[T, asyncio.Future[None]]]) -> None:
        for start in range(0, len(items), self._limit):
            chunk = items[start : start + self._limit]
            try:
                outcomes: Sequence[BaseException | None] = await self._run([item for item, _ in chunk])
            except Exception as exc:  # the whole batch failed: every item retries
                outcomes = [exc] * len(chunk)
            for (_, future), outcome in zip(chunk, outcomes, strict=True):
                if future.done():
                    continue
                if outcome is None:
                    future.set_result(None)
                else:
                    future.set_exception(outcome)
