"""The fault drill shared by the CI test and its longer bench variant: real `iben-bot run` processes on
one PostgreSQL database, reminder deliveries due over a window of real time, and the scheduler leader
SIGKILLed again and again. Every message is counted where a user would see it: at the fake Slack API.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import insert

from bot.calendar.reminders import REMIND, reminder_key
from storage.db import Database
from storage.events import EventInput, EventRepository
from storage.jobs import JobStore
from storage.lease import Lease
from storage.models import EventRsvp
from tests.cluster import BotCluster, BotInstance
from tests.fakes.slack_api import FakeSlackAPI

CHANNEL = "CFAULTS"


@dataclass
class DrillResult:
    expected: int
    delivered: int
    lost: list[str]
    duplicated: list[str]
    kills: int
    takeovers: list[float] = field(default_factory=list)  # seconds from SIGKILL to a new leader
    seconds: float = 0.0

    def summary(self) -> str:
        takeover = (
            f"takeover median {statistics.median(self.takeovers):.2f} s, max {max(self.takeovers):.2f} s"
            if self.takeovers
            else "no takeover measured"
        )
        return (
            f"{self.delivered}/{self.expected} deliveries, {len(self.lost)} lost, "
            f"{len(self.duplicated)} duplicated, {self.kills} leader kills, {takeover}, {self.seconds:.0f} s"
        )


def _title(n: int) -> str:
    return f"Fault drill meeting {n:04d}"


async def seed(db: Database, *, events: int, going: int, window: float, lead: float) -> tuple[int, set[str]]:
    """`events` one-off meetings, each with a reminder due in the window (its channel post, and a DM
    to each of `going` members); returns the delivery count and the expected (channel, title) pairs
    of the channel posts."""
    repo = EventRepository(db)
    store = JobStore(db, Lease(db, lock_id=0))  # NOTIFYs, so the running leader picks each job up
    now = datetime.now(UTC)
    first_due = now + timedelta(seconds=lead)
    expected_posts: set[str] = set()
    rsvps: list[dict[str, object]] = []
    for n in range(events):
        due = first_due + timedelta(seconds=window * n / max(events, 1))
        start = (due + timedelta(minutes=61)).replace(second=0, microsecond=0)
        record = await repo.create(
            EventInput(
                platform="slack",
                channel=CHANNEL,
                title=_title(n),
                start_local=start.replace(tzinfo=None),
                timezone="UTC",
                duration_minutes=60,
                reminders=(60,),
                created_by="UADMIN",
            ),
            now,
        )
        rsvps.extend(
            {"event_id": record.id, "original": start, "platform": "slack", "user_id": f"UGO{m:03d}",
             "status": "going", "locale": "en", "answered_at": now}
            for m in range(going)
        )  # fmt: skip
        await store.put(
            reminder_key(record.id, start, 60),
            REMIND,
            due,
            {
                "platform": "slack",
                "event_id": record.id,
                "original": start.isoformat(),
                "start": start.isoformat(),
                "minutes": 60,
            },
        )
        expected_posts.add(_title(n))
    async with db.sessions() as session, session.begin():
        await session.execute(insert(EventRsvp), rsvps)
    return events * (1 + going), expected_posts


async def leader_of(cluster: BotCluster, http: aiohttp.ClientSession) -> BotInstance | None:
    for instance in cluster.instances:
        if not instance.running:
            continue
        try:
            async with http.get(instance.health_url) as response:
                if response.status == 200 and (await response.json())["leader"]:
                    return instance
        except (aiohttp.ClientError, TimeoutError, OSError):
            continue
    return None


async def wait_for_leader(
    cluster: BotCluster,
    http: aiohttp.ClientSession,
    *,
    timeout: float = 20.0,  # noqa: ASYNC109
) -> BotInstance:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await leader_of(cluster, http)
        if found is not None:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"no scheduler leader within {timeout} s\n{cluster.log_tails()}")


def dm_channel(user_id: str) -> str:
    """The DM channel id the fake Slack API gives a one-person conversations.open."""
    return "D" + hashlib.sha256(user_id.encode()).hexdigest()[:10].upper()


def count(fake: FakeSlackAPI, *, events: int, going: int) -> tuple[int, list[str], list[str]]:
    """(messages, lost, duplicated): each meeting's channel post and each DM, by where and what."""
    titles = {_title(n) for n in range(events)}
    seen: Counter[tuple[str, str]] = Counter()
    for message in fake.messages:
        text = str(message.get("text", ""))
        title = text[text.find("Fault drill meeting") :][: len(_title(0))]
        if title in titles:
            seen[(str(message["channel"]), title)] += 1
    where = [CHANNEL, *(dm_channel(f"UGO{m:03d}") for m in range(going))]
    expected = {(channel, title) for title in titles for channel in where}
    lost = sorted(f"{c} {t}" for c, t in expected - set(seen))
    duplicated = sorted(f"{c} {t} x{k}" for (c, t), k in seen.items() if k > 1 or (c, t) not in expected)
    return sum(seen.values()), lost, duplicated


async def drill(
    workdir: Path,
    database_url: str,
    *,
    events: int = 100,
    going: int = 9,
    window: float = 30.0,
    kills: int = 20,
    pause: tuple[float, float] = (0.2, 1.2),
    seed_value: int = 8,
    lead: float = 6.0,
    drain_timeout: float = 60.0,
) -> DrillResult:
    """Two instances; deliveries due over `window` s from `lead` s after seeding; `kills` SIGKILLs of
    whichever leads, each after a random pause, at a moment when it is sending, each followed by a
    restart; then wait until every delivery could have happened."""
    rng = random.Random(seed_value)
    started = time.monotonic()
    db = Database(database_url)
    await db.upgrade()
    takeovers: list[float] = []
    async with (
        FakeSlackAPI() as fake,
        BotCluster(
            workdir,
            database_url=database_url,
            api_base_url=fake.base_url,
            channels={"announcements": CHANNEL},
            extra={"cluster": {"leader_poll_seconds": 0.2}},
        ) as cluster,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http,
    ):
        expected, _ = await seed(db, events=events, going=going, window=window, lead=lead)
        cluster.add()
        cluster.add()
        await cluster.start_all()
        await wait_for_leader(cluster, http)
        for _ in range(kills):
            await asyncio.sleep(rng.uniform(*pause))
            victim = await wait_for_leader(cluster, http)
            await sending(fake)  # a moment when the leader is in the middle of sending
            await asyncio.sleep(rng.uniform(0, 0.01))
            victim.kill()
            killed_at = time.monotonic()
            await victim.wait_exit()
            restart = asyncio.create_task(victim.start())
            await wait_for_leader(cluster, http)
            takeovers.append(time.monotonic() - killed_at)
            await restart
        deadline = time.monotonic() + drain_timeout
        while time.monotonic() < deadline:
            delivered, lost, duplicated = count(fake, events=events, going=going)
            if delivered >= expected and not await _pending(db):
                break
            await asyncio.sleep(0.25)
        delivered, lost, duplicated = count(fake, events=events, going=going)
        if lost or duplicated or delivered != expected:
            print(cluster.log_tails(60))
    await db.dispose()
    return DrillResult(expected, delivered, lost, duplicated, kills, takeovers, time.monotonic() - started)


async def sending(fake: FakeSlackAPI, *, timeout: float = 3.0) -> None:  # noqa: ASYNC109
    """Until a new message arrives at the fake (or `timeout`: nothing is due right now)."""
    seen = len(fake.messages)
    deadline = time.monotonic() + timeout
    while len(fake.messages) == seen and time.monotonic() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.002)


async def _pending(db: Database) -> int:
    from sqlalchemy import func, select

    from storage.models import ScheduledJob

    async with db.sessions() as session:
        stmt = select(func.count()).select_from(ScheduledJob).where(ScheduledJob.kind == REMIND)
        return int((await session.execute(stmt)).scalar_one())
