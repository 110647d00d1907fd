"""ChatPort over discord.py. Bots cannot open group DMs or send ephemeral messages outside an
interaction, so those capabilities are absent and the core falls back (private threads, DMs).

Sharded, this client caches only the guilds of its own shards, yet scheduled work runs in whichever
process leads the scheduler: every method also works for channels, threads and users outside the
cache, through REST (a channel is looked up once, then written to as a partial messageable)."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import discord

from bot.delivery import current_delivery, nonce
from bot.events import Conversation, Platform
from bot.port import Attachment, Button, ButtonStyle, Capability, MessageRef, UserInfo
from bot.safety import defuse_mass_mentions

NO_PINGS = discord.AllowedMentions.none()
_MENTION_MARKUP = re.compile(r"<(?=[@#]|/|:|a:)")  # <@id> <@!id> <@&role> <#channel> </cmd:id> emoji
MESSAGE_LIMIT = 2000
THREAD_NAME_LIMIT = 100


CUSTOM_ID_PREFIX = "iben:"
_STYLES = {
    ButtonStyle.DEFAULT: discord.ButtonStyle.secondary,
    ButtonStyle.PRIMARY: discord.ButtonStyle.primary,
    ButtonStyle.DANGER: discord.ButtonStyle.danger,
}


def button_view(buttons: Sequence[Button]) -> discord.ui.View | None:
    """Buttons as a view whose custom ids carry `iben:<action>:<value>` (stateless on restart)."""
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for button in buttons:
        view.add_item(
            discord.ui.Button(
                label=button.label[:80],
                custom_id=f"{CUSTOM_ID_PREFIX}{button.action}:{button.value}"[:100],
                style=_STYLES[button.style],
            )
        )
    return view


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Discord caps a message at 2,000 characters: split on line breaks, hard-cut only giant lines."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    return chunks


class DiscordPort:
    platform = Platform.DISCORD
    capabilities = frozenset(
        {
            Capability.THREADS,
            Capability.FORUM_POSTS,
            Capability.DM,
            Capability.PRIVATE_THREAD,
            Capability.REACTIONS,
            Capability.BUTTONS,
            Capability.FILES,
            Capability.TIME_TOKENS,
        }
    )

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        # Channels and threads outside the cache whose guild we learned (None: a DM channel).
        self._guild_ids: dict[int, int | None] = {}

    def _remember(self, channel: Any) -> None:
        guild = getattr(channel, "guild", None)
        self._guild_ids[channel.id] = guild.id if guild is not None else None

    async def _channel(self, channel_id: str) -> Any:
        """The full channel (its type, forum tags, thread creation): from the cache, else from REST,
        as for a guild another shard holds or a thread that is not cached."""
        channel = self.client.get_channel(int(channel_id))
        if channel is None:
            channel = await self.client.fetch_channel(int(channel_id))
            self._remember(channel)
        return channel

    async def _messageable(self, channel_id: str) -> Any:
        """Somewhere to send or react: the cached channel, else a partial one (REST only the first time,
        to learn its guild for links)."""
        cid = int(channel_id)
        channel = self.client.get_channel(cid)
        if channel is not None:
            return channel
        if cid not in self._guild_ids:
            return await self._channel(channel_id)
        return self.client.get_partial_messageable(cid, guild_id=self._guild_ids[cid])

    def _jump_url(self, message: discord.Message) -> str:
        """discord.py links a message sent through a partial channel of an uncached guild to `@me`."""
        guild_id = message.guild.id if message.guild is not None else self._guild_ids.get(message.channel.id)
        return f"https://discord.com/channels/{guild_id or '@me'}/{message.channel.id}/{message.id}"

    async def _send(
        self, target: Any, text: str, buttons: Sequence[Button] = (), attachment: Attachment | None = None
    ) -> discord.Message:
        first: discord.Message | None = None
        chunks = split_message(text)
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            view = button_view(buttons) if last else None
            kwargs: dict[str, Any] = {"allowed_mentions": NO_PINGS}
            tag = current_delivery()
            if tag is not None:  # Discord refuses a second message with this nonce (enforce_nonce)
                kwargs["nonce"] = nonce(tag.next_tag())
            if view is not None:
                kwargs["view"] = view
            if last and attachment is not None:
                kwargs["file"] = discord.File(io.BytesIO(attachment.data), filename=attachment.filename)
            message = await target.send(chunk, **kwargs)
            if view is not None:
                view.stop()  # presses are handled statelessly by the adapter's on_interaction
            first = first or message
        assert first is not None
        return first

    async def post(self, channel: str, text: str) -> MessageRef:
        message = await self._send(await self._messageable(channel), text)
        return MessageRef(self.platform, channel, str(message.id), None, self._jump_url(message))

    async def open_thread(
        self, channel: str, text: str, *, title: str, tags: Sequence[str] = ()
    ) -> MessageRef:
        """A forum post (with matching tags) in a forum channel; else a thread on a new message."""
        target = await self._channel(channel)
        name = title[:THREAD_NAME_LIMIT] or "…"
        if isinstance(target, discord.ForumChannel):
            wanted = {t.casefold() for t in tags}
            applied = [tag for tag in target.available_tags if tag.name.casefold() in wanted]
            created = await target.create_thread(
                name=name, content=split_message(text)[0], applied_tags=applied, allowed_mentions=NO_PINGS
            )
            self._remember(created.thread)
            return MessageRef(
                self.platform,
                channel,
                str(created.message.id),
                str(created.thread.id),
                created.thread.jump_url,
            )
        message = await self._send(target, text)
        thread = await message.create_thread(name=name)
        self._remember(thread)
        return MessageRef(self.platform, channel, str(message.id), str(thread.id), self._jump_url(message))

    async def reply_in_thread(self, thread: MessageRef, text: str) -> MessageRef:
        target = await self._messageable(thread.thread or thread.channel)
        message = await self._send(target, text)
        return MessageRef(
            self.platform, thread.channel, str(message.id), thread.thread, self._jump_url(message)
        )

    async def ephemeral(self, conversation: Conversation, user_id: str, text: str) -> None:
        """Outside an interaction Discord has no ephemeral messages: a DM is the private fallback."""
        await self.dm(user_id, text)

    async def dm(self, user_id: str, text: str, buttons: Sequence[Button] = ()) -> MessageRef:
        """Any user, cached or not (on another shard's guild): the DM channel comes from REST once."""
        channel = await self.client.create_dm(discord.Object(int(user_id)))
        message = await self._send(channel, text, buttons)
        return MessageRef(self.platform, str(channel.id), str(message.id), None, self._jump_url(message))

    async def open_group(
        self,
        user_ids: Sequence[str],
        text: str,
        *,
        title: str,
        channel: str | None,
        attachment: Attachment | None = None,
    ) -> MessageRef:
        """Bots cannot open group DMs: a private thread in `channel`, with each person added."""
        if not channel:
            raise ValueError("a private thread needs a parent channel")
        parent = await self._channel(channel)
        thread = await parent.create_thread(
            name=title[:THREAD_NAME_LIMIT] or "…", type=discord.ChannelType.private_thread, invitable=False
        )
        self._remember(thread)
        for user_id in user_ids:
            await thread.add_user(discord.Object(int(user_id)))
        message = await self._send(thread, text, attachment=attachment)
        return MessageRef(self.platform, channel, str(message.id), str(thread.id), thread.jump_url)

    async def send(
        self,
        where: MessageRef,
        text: str,
        *,
        buttons: Sequence[Button] = (),
        attachment: Attachment | None = None,
    ) -> MessageRef:
        target = await self._messageable(where.thread or where.channel)
        message = await self._send(target, text, buttons, attachment)
        return MessageRef(
            self.platform, where.channel, str(message.id), where.thread, self._jump_url(message)
        )

    async def react(self, message: MessageRef, emoji: str) -> None:
        channel = await self._messageable(message.thread or message.channel)
        await channel.get_partial_message(int(message.message_id)).add_reaction(emoji)

    async def lookup_user(self, user_id: str) -> UserInfo | None:
        try:
            user = self.client.get_user(int(user_id)) or await self.client.fetch_user(int(user_id))
        except discord.HTTPException:
            return None
        return UserInfo(str(user.id), user.global_name or user.name)

    def mention(self, user_id: str) -> str:
        return f"<@{user_id}>"

    def channel_mention(self, channel: str) -> str:
        return f"<#{channel}>"

    def escape(self, text: str) -> str:
        """No markup from user text survives as a mention, whatever the id length."""
        return defuse_mass_mentions(_MENTION_MARKUP.sub("<\u200b", text))

    def time_token(self, when: datetime, fallback: str) -> str:
        return f"<t:{int(when.timestamp())}:f>"

    def link(self, url: str, label: str) -> str:
        return f"[{discord.utils.escape_markdown(self.escape(label))}]({url})"
