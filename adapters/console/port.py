"""An in-memory ChatPort: channels and threads are lists of messages a test (or a person) can read."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bot.events import Conversation, Platform
from bot.port import Attachment, Button, Capability, MessageRef, UserInfo
from bot.safety import defuse_mass_mentions


@dataclass
class Posted:
    """One message as the console shows it."""

    channel: str
    text: str
    message_id: str
    thread: str | None = None
    to_user: str | None = None  # set for DMs and ephemeral notes
    ephemeral: bool = False
    title: str | None = None
    reactions: list[str] = field(default_factory=list)
    buttons: tuple[Button, ...] = ()
    audience: tuple[str, ...] = ()  # the people in a group conversation
    attachment: Attachment | None = None


class ConsolePort:
    """Keeps every message; `on_post` lets the REPL print as things happen."""

    platform = Platform.CONSOLE
    capabilities = frozenset(
        {Capability.THREADS, Capability.EPHEMERAL, Capability.DM, Capability.GROUP_DM, Capability.REACTIONS}
    )

    def __init__(self, users: dict[str, UserInfo] | None = None) -> None:
        self.messages: list[Posted] = []
        self.users: dict[str, UserInfo] = dict(users or {})
        self.on_post: Callable[[Posted], None] | None = None
        self._ids = itertools.count(1)

    def _add(self, posted: Posted) -> Posted:
        self.messages.append(posted)
        if self.on_post:
            self.on_post(posted)
        return posted

    def _ref(self, posted: Posted) -> MessageRef:
        return MessageRef(
            self.platform,
            posted.channel,
            posted.message_id,
            posted.thread,
            f"console://{posted.channel}/{posted.message_id}",
        )

    async def post(self, channel: str, text: str) -> MessageRef:
        return self._ref(self._add(Posted(channel, text, f"m{next(self._ids)}")))

    async def open_thread(
        self, channel: str, text: str, *, title: str, tags: Sequence[str] = ()
    ) -> MessageRef:
        mid = f"m{next(self._ids)}"
        return self._ref(self._add(Posted(channel, text, mid, thread=mid, title=title)))

    async def reply_in_thread(self, thread: MessageRef, text: str) -> MessageRef:
        ref = thread.thread or thread.message_id
        return self._ref(self._add(Posted(thread.channel, text, f"m{next(self._ids)}", thread=ref)))

    async def ephemeral(self, conversation: Conversation, user_id: str, text: str) -> None:
        self._add(Posted(conversation.channel, text, f"m{next(self._ids)}", to_user=user_id, ephemeral=True))

    async def dm(self, user_id: str, text: str, buttons: Sequence[Button] = ()) -> MessageRef:
        posted = Posted(f"dm:{user_id}", text, f"m{next(self._ids)}", to_user=user_id, buttons=tuple(buttons))
        return self._ref(self._add(posted))

    async def open_group(
        self,
        user_ids: Sequence[str],
        text: str,
        *,
        title: str,
        channel: str | None,
        attachment: Attachment | None = None,
    ) -> MessageRef:
        """A group transcript: its own channel, named after the people in it."""
        name = "group:" + ",".join(user_ids)
        posted = Posted(
            name, text, f"m{next(self._ids)}", title=title, audience=tuple(user_ids), attachment=attachment
        )
        return self._ref(self._add(posted))

    async def send(
        self,
        where: MessageRef,
        text: str,
        *,
        buttons: Sequence[Button] = (),
        attachment: Attachment | None = None,
    ) -> MessageRef:
        audience = next((m.audience for m in self.messages if m.channel == where.channel and m.audience), ())
        posted = Posted(
            where.channel,
            text,
            f"m{next(self._ids)}",
            thread=where.thread,
            buttons=tuple(buttons),
            audience=audience,
            attachment=attachment,
        )
        return self._ref(self._add(posted))

    async def react(self, message: MessageRef, emoji: str) -> None:
        for posted in self.messages:
            if posted.message_id == message.message_id:
                posted.reactions.append(emoji)

    async def lookup_user(self, user_id: str) -> UserInfo | None:
        return self.users.get(user_id)

    def mention(self, user_id: str) -> str:
        info = self.users.get(user_id)
        return f"@{info.display_name if info else user_id}"

    def channel_mention(self, channel: str) -> str:
        return f"#{channel}"

    def escape(self, text: str) -> str:
        return defuse_mass_mentions(text)

    def time_token(self, when: datetime, fallback: str) -> str:
        return fallback

    def link(self, url: str, label: str) -> str:
        return f"{self.escape(label)} <{url}>"

    # Reading helpers for tests and the REPL.
    def in_channel(self, channel: str) -> list[Posted]:
        return [m for m in self.messages if m.channel == channel and not m.ephemeral]

    def message(self, message_id: str) -> Posted | None:
        return next((m for m in self.messages if m.message_id == message_id), None)

    def groups(self) -> dict[str, list[Posted]]:
        """Group conversations (meet-up groups) by channel, in order."""
        out: dict[str, list[Posted]] = {}
        for m in self.messages:
            if m.channel.startswith("group:"):
                out.setdefault(m.channel, []).append(m)
        return out

    def thread(self, thread_id: str) -> list[Posted]:
        return [m for m in self.messages if m.thread == thread_id]
