"""Who this process is and whether it leads the scheduler: PostgreSQL advisory locks on one connection.

Every process holds a session-level advisory lock on (INSTANCE_SPACE, its instance key) for as long as
it lives; the scheduler leader also holds the single key `[cluster] leader_lock_id`. PostgreSQL drops
both the moment the process's connection goes (a crash, SIGKILL, a network cut), so
- a follower that polls `pg_try_advisory_lock` takes over within one poll interval, and
- "is the process that claimed this delivery still alive?" is one `pg_try_advisory_xact_lock`.
The leader also LISTENs for job changes other processes make (storage/jobs.py NOTIFYs them).

On SQLite (one process by design) this process is always the leader and the only one alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from sqlalchemy import text

from storage.db import Database
from storage.urls import async_url

log = logging.getLogger(__name__)

INSTANCE_SPACE = 0x1BE  # the first key of every instance's two-key advisory lock
JOBS_CHANNEL = "iben_jobs"

LeaderChange = Callable[[bool], Awaitable[None]]
JobNotice = Callable[[str], None]


def _dsn(url: str) -> str:
    return async_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class Lease:
    """This process's identity and scheduler leadership (see the module docstring)."""

    def __init__(self, db: Database, *, lock_id: int, poll_seconds: float = 1.0, name: str = "") -> None:
        self._db = db
        self.lock_id = lock_id
        self.poll_seconds = poll_seconds
        self.instance_key = secrets.randbelow(2**31 - 1) + 1
        self.name = f"{name} (instance {self.instance_key})" if name else f"instance {self.instance_key}"
        self._stopping = False
        self.is_leader = db.is_sqlite
        self.takeovers = 0
        self._conn: Any = None
        self._task: asyncio.Task[None] | None = None
        self._on_change: LeaderChange | None = None
        self._on_notice: JobNotice | None = None

    @property
    def shared(self) -> bool:
        """True when other processes may share the database (PostgreSQL)."""
        return not self._db.is_sqlite

    async def start(self, on_change: LeaderChange, on_notice: JobNotice) -> None:
        """Take the instance lock, try once for leadership at once, then keep trying in the background."""
        self._on_change, self._on_notice = on_change, on_notice
        if not self.shared:
            await on_change(True)
            return
        await self._step()
        self._task = asyncio.create_task(self._loop(), name="leader-lease")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._drop(step_down=True)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            await self._step()

    async def _step(self) -> None:
        """One poll: (re)connect, try for leadership, or check that the leader's connection lives."""
        import asyncpg  # type: ignore[import-untyped]

        try:
            if self._conn is None or self._conn.is_closed():
                await self._drop(step_down=True)
                self._conn = await asyncio.wait_for(asyncpg.connect(_dsn(self._db.url)), timeout=10)
                self._conn.add_termination_listener(self._terminated)
                await self._conn.execute("SELECT pg_advisory_lock($1, $2)", INSTANCE_SPACE, self.instance_key)
            if not self.is_leader:
                if await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", self.lock_id):
                    await self._conn.add_listener(JOBS_CHANNEL, self._notified)
                    self.takeovers += 1
                    self.is_leader = True
                    log.info("%s now leads the scheduler", self.name)
                    if self._on_change is not None:
                        await self._on_change(True)
            else:
                await asyncio.wait_for(self._conn.fetchval("SELECT 1"), timeout=max(self.poll_seconds, 1))
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("lost the database lease connection (%s); retrying", exc)
            await self._drop(step_down=True)

    def _terminated(self, _conn: Any) -> None:
        if self.is_leader and not self._stopping:
            log.warning("the leader's lease connection closed; stepping down")
            asyncio.get_running_loop().create_task(self._drop(step_down=True))

    def _notified(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        origin, _, key = payload.partition(":")
        if origin != str(self.instance_key) and self._on_notice is not None:
            self._on_notice(key)

    async def _drop(self, *, step_down: bool) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), timeout=2)
        if step_down and self.is_leader and self.shared:
            self.is_leader = False
            if self._stopping:
                log.info("%s stops and hands the scheduler over", self.name)
            else:
                log.warning("%s no longer leads the scheduler", self.name)
            if self._on_change is not None:
                await self._on_change(False)

    async def alive(self, owners: Iterable[int | None]) -> set[int]:
        """Which of these instance keys belong to a process that is still running."""
        wanted = {o for o in owners if o is not None}
        if not self.shared:
            return wanted & {self.instance_key}
        living: set[int] = set()
        async with self._db.engine.connect() as conn, conn.begin():
            for owner in sorted(wanted):
                if owner == self.instance_key:
                    living.add(owner)
                    continue
                probe = text("SELECT pg_try_advisory_xact_lock(:space, :owner)")
                got = (await conn.execute(probe, {"space": INSTANCE_SPACE, "owner": owner})).scalar()
                if not got:
                    living.add(owner)  # its process still holds the lock
        return living

    def notice(self, key: str) -> str:
        """The NOTIFY payload for a job change made here (the leader ignores its own)."""
        return f"{self.instance_key}:{key}"
