"""Normalized, frozen events: what the core sees of Slack, Discord or the console.

Adapters build these from raw platform payloads so that handlers never read platform JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Platform(StrEnum):
    SLACK = "slack"
    DISCORD = "discord"
    CONSOLE = "console"


class ConversationKind(StrEnum):
    CHANNEL = "channel"
    THREAD = "thread"
    DM = "dm"
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class Actor:
    """The person behind an event, as the platform knows them."""

    platform: Platform
    user_id: str
    display_name: str
    locale: str | None = None
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class Conversation:
    """Where an event happened; `thread` is the platform's thread reference when inside one."""

    platform: Platform
    workspace: str
    channel: str
    thread: str | None = None
    kind: ConversationKind = ConversationKind.CHANNEL


@dataclass(frozen=True, slots=True)
class CommandEvent:
    """A slash command: `name` without the slash, `args` as typed options (free text under "text")."""

    actor: Actor
    conversation: Conversation
    name: str
    args: dict[str, Any]
    event_id: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """A plain message; `thread` on the conversation tells replies apart from top-level posts."""

    actor: Actor
    conversation: Conversation
    text: str
    message_id: str
    event_id: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class ReactionEvent:
    actor: Actor
    conversation: Conversation
    message_id: str
    emoji: str
    added: bool
    event_id: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class ButtonEvent:
    actor: Actor
    conversation: Conversation
    action_id: str
    value: str
    message_id: str | None
    event_id: str
    received_at: datetime
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FormSubmitEvent:
    """A submitted modal: the form's id, its fields' values, and the context it was opened with."""

    actor: Actor
    conversation: Conversation
    form_id: str
    values: dict[str, str]
    context: str
    event_id: str
    received_at: datetime


Event = CommandEvent | MessageEvent | ReactionEvent | ButtonEvent | FormSubmitEvent
