"""What a handler may use: shared services plus the port and language of the current event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bot.clock import Clock
from bot.config import Config
from bot.events import Platform
from bot.i18n import Translator
from bot.port import ChatPort
from bot.scheduling import SchedulerPort
from bot.telemetry import NoTelemetry, Telemetry

if TYPE_CHECKING:
    from bot.directory import DirectoryIndex
    from storage.cafes import CafeRepository
    from storage.deliveries import DeliveryLedger
    from storage.events import EventRepository
    from storage.meetups import MeetupRepository
    from storage.members import MemberRepository
    from storage.questions import QuestionRepository
    from storage.schools import SchoolStaffRepository


class SimilarHit(Protocol):
    """What the /ask flow shows of an earlier question (read-only, so frozen dataclasses fit)."""

    @property
    def question_id(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def permalink(self) -> str | None: ...
    @property
    def solved(self) -> bool: ...
    @property
    def answers(self) -> int: ...


class QuestionFinder(Protocol):
    async def similar(
        self, text: str, *, limit: int = 3, exclude_id: int | None = None
    ) -> Sequence[SimilarHit]: ...


class NoSearch:
    """Used until a search index exists: nothing is ever similar."""

    async def similar(
        self, text: str, *, limit: int = 3, exclude_id: int | None = None
    ) -> Sequence[SimilarHit]:
        return []


@dataclass
class Services:
    """Long-lived dependencies, built once per process; ports are added as adapters start."""

    config: Config
    clock: Clock
    members: MemberRepository
    questions: QuestionRepository
    deliveries: DeliveryLedger
    scheduler: SchedulerPort
    directory: DirectoryIndex
    schools: SchoolStaffRepository
    meetups: MeetupRepository
    events: EventRepository
    cafes: CafeRepository
    finder: QuestionFinder = field(default_factory=NoSearch)
    ports: dict[str, ChatPort] = field(default_factory=dict)
    batches: dict[str, Any] = field(default_factory=dict)  # per-process micro-batchers (bot/batching.py)
    telemetry: Telemetry = field(default_factory=NoTelemetry)


@dataclass(frozen=True)
class Context:
    """Per-event view: `t` speaks the actor's language, `community` the network's default one."""

    services: Services
    port: ChatPort
    t: Translator
    community: Translator
    timezone: str

    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def clock(self) -> Clock:
        return self.services.clock

    def channel(self, purpose: str) -> str | None:
        """The configured channel for a purpose ("qa", "announcements") on this event's platform."""
        platform = self.port.platform
        if platform is Platform.SLACK:
            return self.config.slack.channels.get(purpose)
        if platform is Platform.DISCORD:
            value = self.config.discord.channels.get(purpose)
            return str(value) if value else None
        return purpose  # the console names its channels by purpose


class UserError(Exception):
    """A problem to show the user as is (already translated); never logged as a crash."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
