"""The ChatPort: everything the core may ask of a chat platform, plus what each platform can do.

Adapters implement it; the core never learns how. Capabilities let the core fall back (for example
Discord bots cannot open group DMs, so a private thread is used) instead of guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from bot.events import Conversation, Platform


class Capability(StrEnum):
    THREADS = "threads"
    FORUM_POSTS = "forum_posts"
    EPHEMERAL = "ephemeral"  # an ephemeral message outside an interaction (Slack chat.postEphemeral)
    DM = "dm"
    GROUP_DM = "group_dm"
    PRIVATE_THREAD = "private_thread"
    REACTIONS = "reactions"
    BUTTONS = "buttons"
    FILES = "files"
    TIME_TOKENS = "time_tokens"  # the client renders a timestamp in each reader's own time zone


@dataclass(frozen=True, slots=True)
class MessageRef:
    """A message the bot posted; `thread` is set when the message is (or starts) a thread."""

    platform: Platform
    channel: str
    message_id: str
    thread: str | None = None
    link: str | None = None


@dataclass(frozen=True, slots=True)
class UserInfo:
    user_id: str
    display_name: str
    locale: str | None = None
    timezone: str | None = None
    email: str | None = None


class ButtonStyle(StrEnum):
    DEFAULT = "default"
    PRIMARY = "primary"
    DANGER = "danger"


@dataclass(frozen=True, slots=True)
class Button:
    """A button under a reply; pressing it sends `action` + `value` back to the core (stateless)."""

    label: str
    action: str
    value: str
    style: ButtonStyle = ButtonStyle.DEFAULT


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    data: bytes
    title: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """What a command or button answers its invoker; ephemeral means only they see it.

    `replace` asks the adapter to update the message whose button was pressed instead of adding one.
    """

    text: str
    ephemeral: bool = True
    buttons: tuple[Button, ...] = ()
    replace: bool = False
    attachment: Attachment | None = None


@dataclass(frozen=True, slots=True)
class FormField:
    name: str
    label: str
    value: str = ""
    placeholder: str = ""
    multiline: bool = False
    required: bool = False
    max_length: int = 200


@dataclass(frozen=True, slots=True)
class Form:
    """A modal (Slack view, Discord modal). At most five fields: Discord's limit applies everywhere."""

    form_id: str
    title: str
    submit_label: str
    fields: tuple[FormField, ...]
    context: str = ""  # opaque; comes back with the submission

    def __post_init__(self) -> None:
        if not 1 <= len(self.fields) <= 5:
            raise ValueError("a form has one to five fields")


@dataclass(frozen=True, slots=True)
class FormErrors:
    """A rejected submission: field name → message. Nothing was saved."""

    errors: dict[str, str]


class ChatPort(Protocol):
    @property
    def platform(self) -> Platform: ...

    @property
    def capabilities(self) -> frozenset[Capability]: ...

    async def post(self, channel: str, text: str) -> MessageRef:
        """Post a top-level message in a channel."""
        ...

    async def open_thread(
        self, channel: str, text: str, *, title: str, tags: Sequence[str] = ()
    ) -> MessageRef:
        """Start a thread whose first message is `text` (a forum post where the channel is a forum)."""
        ...

    async def reply_in_thread(self, thread: MessageRef, text: str) -> MessageRef: ...

    async def ephemeral(self, conversation: Conversation, user_id: str, text: str) -> None:
        """Show `text` to one user only; platforms without it fall back to a DM."""
        ...

    async def dm(self, user_id: str, text: str, buttons: Sequence[Button] = ()) -> MessageRef:
        """A direct message, optionally with buttons (their presses come back as ButtonEvents)."""
        ...

    async def open_group(
        self,
        user_ids: Sequence[str],
        text: str,
        *,
        title: str,
        channel: str | None,
        attachment: Attachment | None = None,
    ) -> MessageRef:
        """One conversation for a few people, started with `text`: a group DM where the platform has
        them (Slack), else a private thread in `channel` with the people added (Discord)."""
        ...

    async def send(
        self,
        where: MessageRef,
        text: str,
        *,
        buttons: Sequence[Button] = (),
        attachment: Attachment | None = None,
    ) -> MessageRef:
        """Another message in a conversation the bot opened (a group DM, a thread)."""
        ...

    async def react(self, message: MessageRef, emoji: str) -> None: ...

    async def lookup_user(self, user_id: str) -> UserInfo | None: ...

    def mention(self, user_id: str) -> str:
        """Markup that notifies exactly this user."""
        ...

    def channel_mention(self, channel: str) -> str:
        """Markup that links to a channel (no notification)."""
        ...

    def escape(self, text: str) -> str:
        """Neutralise user text: no mass mentions, no user/role pings, no markup injection."""
        ...

    def time_token(self, when: datetime, fallback: str) -> str:
        """A timestamp each reader sees in their own zone, or `fallback` where the platform cannot."""
        ...

    def link(self, url: str, label: str) -> str:
        """Markup for a link; the label is raw user text and is escaped here."""
        ...
