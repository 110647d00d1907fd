"""The composition root: config → database → services → dispatcher → scheduler, shared by all adapters."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from adapters.metrics import Metrics
from adapters.scheduler import ApschedulerScheduler
from bot.clock import Clock, SystemClock
from bot.commands import all_commands
from bot.config import Config
from bot.context import Services
from bot.directory import DirectoryIndex
from bot.dispatch import Dispatcher
from bot.port import ChatPort
from bot.scheduling import ManualScheduler
from storage.cafes import CafeRepository
from storage.db import Database
from storage.deliveries import DeliveryLedger
from storage.events import EventRepository
from storage.lease import Lease
from storage.meetups import MeetupRepository
from storage.members import MemberRepository
from storage.qa_search import QASearch
from storage.questions import QuestionRepository
from storage.schools import SchoolStaffRepository

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: Config
    db: Database
    services: Services
    dispatcher: Dispatcher
    scheduler: ApschedulerScheduler | ManualScheduler
    lease: Lease
    metrics: Metrics

    def attach(self, port: ChatPort) -> None:
        """Make an adapter's port available to scheduled work for its platform."""
        self.services.ports[port.platform.value] = port

    async def start_scheduler(self, *, paused: bool = False) -> None:
        if isinstance(self.scheduler, ApschedulerScheduler):
            await self.scheduler.start(paused=paused)

    @property
    def leading(self) -> bool:
        """Whether this process runs scheduled work (always, on SQLite or with a manual scheduler)."""
        if isinstance(self.scheduler, ApschedulerScheduler):
            return self.scheduler.leading
        return True

    async def close(self) -> None:
        if isinstance(self.scheduler, ApschedulerScheduler):
            self.scheduler.shutdown()
        await self.lease.stop()
        await self.db.dispose()


async def build_runtime(
    config: Config,
    *,
    clock: Clock | None = None,
    scheduler: ApschedulerScheduler | ManualScheduler | None = None,
) -> Runtime:
    """Open (and migrate) the database and wire the core; the scheduler is not started yet."""
    db = Database(config.database.url)
    await db.upgrade()
    cluster = config.cluster
    lease = Lease(
        db,
        lock_id=cluster.leader_lock_id,
        poll_seconds=cluster.leader_poll_seconds,
        name=cluster.instance_name,
    )
    sched = scheduler if scheduler is not None else ApschedulerScheduler(db, lease)
    members = MemberRepository(db)
    services = Services(
        config=config,
        clock=clock or SystemClock(),
        members=members,
        questions=QuestionRepository(db),
        deliveries=DeliveryLedger(db, lease),
        scheduler=sched,
        directory=DirectoryIndex(members, db),
        schools=SchoolStaffRepository(db),
        meetups=MeetupRepository(db),
        events=EventRepository(db),
        cafes=CafeRepository(db),
        finder=QASearch(db),
    )
    dispatcher = Dispatcher(services, all_commands())
    sched.runner = dispatcher.run_job
    runtime = Runtime(config, db, services, dispatcher, sched, lease, Metrics(config.cluster.instance_name))
    services.telemetry = runtime.metrics
    runtime.metrics.watch(runtime)
    return runtime
