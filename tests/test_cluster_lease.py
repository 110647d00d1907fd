"""One scheduler leader per database, takeover when it dies, and deliveries left in doubt by a crash."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.scheduler import ApschedulerScheduler
from storage.db import Database
from storage.deliveries import Claim, DeliveryLedger
from storage.lease import Lease

NOW = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
LOCK = 4242


@pytest.fixture
async def pg(postgres_url: str) -> AsyncIterator[Database]:
    database = Database(postgres_url)
    await database.upgrade()
    yield database
    await database.dispose()


async def _until(condition: Any, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110  (a condition on another connection)
            await asyncio.sleep(0.02)


async def _noop_change(_leading: bool) -> None:
    pass


@pytest.mark.postgres
async def test_one_leader_and_the_follower_takes_over_when_its_connection_dies(pg: Database) -> None:
    first, second = Lease(pg, lock_id=LOCK, poll_seconds=0.05), Lease(pg, lock_id=LOCK, poll_seconds=0.05)
    changes: list[tuple[str, bool]] = []

    def recorder(name: str) -> Any:
        async def change(leading: bool) -> None:
            changes.append((name, leading))

        return change

    await first.start(recorder("first"), lambda key: None)
    await second.start(recorder("second"), lambda key: None)
    try:
        assert first.is_leader and not second.is_leader
        assert await second.alive([first.instance_key, second.instance_key, 12345]) == {
            first.instance_key,
            second.instance_key,
        }
        assert first._task is not None
        first._task.cancel()  # SIGKILL: the process stops polling and its connection goes
        await first._conn.close()
        await _until(lambda: second.is_leader)
        assert not first.is_leader
        assert ("first", False) in changes and ("second", True) in changes
        assert await second.alive([first.instance_key]) == set()
    finally:
        await first.stop()
        await second.stop()


async def test_a_claim_left_by_a_dead_process_is_taken_over_in_doubt_once(db: Database) -> None:
    """SQLite: every other instance is a previous run of this one; PostgreSQL: its lock is gone."""
    dead = Lease(db, lock_id=LOCK)
    await dead.start(_noop_change, lambda key: None)
    crashed = DeliveryLedger(db, dead)
    assert await crashed.claim("k", "test", NOW) is Claim.NEW
    alive = Lease(db, lock_id=LOCK)
    await alive.start(_noop_change, lambda key: None)
    try:
        ledger = DeliveryLedger(db, alive)
        if not db.is_sqlite:
            assert await ledger.claim("k", "test", NOW) is None  # its owner still runs: hands off
        await dead.stop()
        assert await ledger.claim("k", "test", NOW) is Claim.IN_DOUBT
        assert await ledger.claim("k", "test", NOW) is None  # now ours, and we are alive
        await ledger.mark_sent("k", NOW)
        claims = await ledger.claim_many(["k", "fresh"], "test", NOW)
        assert claims.new == {"fresh"} and not claims.in_doubt
    finally:
        await alive.stop()


@pytest.mark.postgres
async def test_only_the_leader_runs_jobs_and_it_follows_what_followers_schedule(pg: Database) -> None:
    ran: list[tuple[str, str]] = []
    leases = [Lease(pg, lock_id=LOCK, poll_seconds=0.05) for _ in range(2)]
    schedulers = [ApschedulerScheduler(pg, lease) for lease in leases]
    for name, scheduler in zip(("leader", "follower"), schedulers, strict=True):

        async def runner(kind: str, key: str, payload: dict[str, Any], at: datetime, who: str = name) -> None:
            ran.append((who, key))

        scheduler.runner = runner
        await scheduler.start()
    leader, follower = schedulers
    try:
        assert leader.leading and not follower.leading
        soon = datetime.now(UTC) + timedelta(seconds=0.3)
        await follower.schedule(key="a", kind="test", run_at=soon, payload={})
        await follower.schedule(key="b", kind="test", run_at=soon, payload={})
        await follower.cancel("b")
        await _until(lambda: ran)
        await asyncio.sleep(0.5)  # "b" would have run by now
        assert ran == [("leader", "a")]
        assert follower.pending() == []

        later = datetime.now(UTC) + timedelta(seconds=1)
        await follower.schedule(key="c", kind="test", run_at=later, payload={})
        await _until(lambda: [k for k, _ in leader.pending()] == ["c"])
        assert leases[0]._task is not None
        leases[0]._task.cancel()  # the leader dies before "c" is due
        await leases[0]._conn.close()
        await _until(lambda: follower.leading)
        await _until(lambda: len(ran) == 2)
        assert ran[1] == ("follower", "c")
    finally:
        for scheduler, lease in zip(schedulers, leases, strict=True):
            scheduler.shutdown()
            await lease.stop()
