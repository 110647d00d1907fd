"""ChatPort over the Slack Web API (any base URL: Slack, a proxy, or a local test server)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import reply_blocks
from bot.delivery import current_delivery
from bot.events import Conversation, Platform
from bot.port import Attachment, Button, Capability, MessageRef, Reply, UserInfo
from bot.safety import defuse_mass_mentions

log = logging.getLogger(__name__)

USER_CACHE_SECONDS = 3600
METADATA_EVENT = "iben_delivery"  # message metadata naming the delivery a scheduled message belongs to
VERIFY_LOOKBACK = 200  # recent messages searched for a delivery left in doubt by a crash


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters, then plain-text mass mentions: `<!channel>` can never form."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return defuse_mass_mentions(text)


class SlackPort:
    platform = Platform.SLACK
    capabilities = frozenset(
        {
            Capability.THREADS,
            Capability.EPHEMERAL,
            Capability.DM,
            Capability.GROUP_DM,
            Capability.REACTIONS,
            Capability.BUTTONS,
            Capability.FILES,
            Capability.TIME_TOKENS,
        }
    )

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._users: dict[str, tuple[float, UserInfo | None]] = {}

    async def _post(self, **kwargs: Any) -> dict[str, Any]:
        """chat.postMessage; scheduled sends carry their delivery tag as message metadata, and a send
        left in doubt by a crash first looks for that tag (bot/delivery.py)."""
        tag = current_delivery()
        if tag is not None:
            mark = tag.next_tag()
            if tag.verify:
                found = await self._find_tagged(str(kwargs["channel"]), kwargs.get("thread_ts"), mark)
                if found is not None:
                    log.info("delivery %s had arrived before the crash; not sent again", mark)
                    return found
            kwargs["metadata"] = {"event_type": METADATA_EVENT, "event_payload": {"delivery": mark}}
        response = await self.client.chat_postMessage(unfurl_links=False, unfurl_media=False, **kwargs)
        return dict(response.data) if isinstance(response.data, dict) else {}

    async def _find_tagged(self, channel: str, thread_ts: Any, mark: str) -> dict[str, Any] | None:
        """The recent message in `channel` (or its thread) carrying delivery tag `mark`, if any."""
        try:
            if thread_ts:
                response = await self.client.conversations_replies(
                    channel=channel, ts=str(thread_ts), include_all_metadata=True, limit=VERIFY_LOOKBACK
                )
            else:
                response = await self.client.conversations_history(
                    channel=channel, include_all_metadata=True, limit=VERIFY_LOOKBACK
                )
        except SlackApiError as exc:
            log.warning("cannot check %s for delivery %s (%s); sending it", channel, mark, exc)
            return None
        for message in response.get("messages") or []:
            payload = (message.get("metadata") or {}).get("event_payload") or {}
            if payload.get("delivery") == mark:
                return {"channel": channel, "ts": message.get("ts")}
        return None

    async def _permalink(self, channel: str, ts: str) -> str | None:
        try:
            response = await self.client.chat_getPermalink(channel=channel, message_ts=ts)
        except SlackApiError:
            return None
        link = response.get("permalink")
        return str(link) if link else None

    async def post(self, channel: str, text: str) -> MessageRef:
        data = await self._post(channel=channel, text=text)
        ts = str(data["ts"])
        return MessageRef(
            self.platform, str(data.get("channel", channel)), ts, None, await self._permalink(channel, ts)
        )

    async def open_thread(
        self, channel: str, text: str, *, title: str, tags: Sequence[str] = ()
    ) -> MessageRef:
        """Slack threads hang off a message: the root message is the thread."""
        data = await self._post(channel=channel, text=text)
        ts = str(data["ts"])
        channel_id = str(data.get("channel", channel))
        return MessageRef(self.platform, channel_id, ts, ts, await self._permalink(channel_id, ts))

    async def reply_in_thread(self, thread: MessageRef, text: str) -> MessageRef:
        thread_ts = thread.thread or thread.message_id
        data = await self._post(channel=thread.channel, thread_ts=thread_ts, text=text)
        return MessageRef(self.platform, thread.channel, str(data["ts"]), thread_ts, None)

    async def ephemeral(self, conversation: Conversation, user_id: str, text: str) -> None:
        kwargs: dict[str, Any] = {"channel": conversation.channel, "user": user_id, "text": text}
        if conversation.thread:
            kwargs["thread_ts"] = conversation.thread
        await self.client.chat_postEphemeral(**kwargs)

    async def dm(self, user_id: str, text: str, buttons: Sequence[Button] = ()) -> MessageRef:
        opened = await self.client.conversations_open(users=[user_id])
        channel = str(opened["channel"]["id"])
        blocks = reply_blocks(Reply(text, buttons=tuple(buttons)))
        data = await self._post(channel=channel, text=text, **({"blocks": blocks} if blocks else {}))
        return MessageRef(self.platform, channel, str(data["ts"]))

    async def open_group(
        self,
        user_ids: Sequence[str],
        text: str,
        *,
        title: str,
        channel: str | None,
        attachment: Attachment | None = None,
    ) -> MessageRef:
        """A group DM (conversations.open with every user), the bot included."""
        opened = await self.client.conversations_open(users=list(user_ids))
        return await self.send(
            MessageRef(self.platform, str(opened["channel"]["id"]), ""), text, attachment=attachment
        )

    async def send(
        self,
        where: MessageRef,
        text: str,
        *,
        buttons: Sequence[Button] = (),
        attachment: Attachment | None = None,
    ) -> MessageRef:
        kwargs: dict[str, Any] = {"channel": where.channel, "text": text}
        if where.thread:
            kwargs["thread_ts"] = where.thread
        blocks = reply_blocks(Reply(text, buttons=tuple(buttons)))
        if blocks:
            kwargs["blocks"] = blocks
        data = await self._post(**kwargs)
        if attachment is not None:
            await self.client.files_upload_v2(
                channel=where.channel,
                content=attachment.data,
                filename=attachment.filename,
                title=attachment.title or attachment.filename,
                thread_ts=where.thread,
            )
        return MessageRef(self.platform, where.channel, str(data["ts"]), where.thread)

    async def react(self, message: MessageRef, emoji: str) -> None:
        await self.client.reactions_add(channel=message.channel, timestamp=message.message_id, name=emoji)

    async def lookup_user(self, user_id: str) -> UserInfo | None:
        """users.info with locale, cached for an hour: one lookup per person, not per command."""
        cached = self._users.get(user_id)
        now = time.monotonic()
        if cached and now - cached[0] < USER_CACHE_SECONDS:
            return cached[1]
        try:
            response = await self.client.users_info(user=user_id, include_locale=True)
        except SlackApiError:
            info = None
        else:
            user = response.get("user") or {}
            profile = user.get("profile") or {}
            info = UserInfo(
                user_id=user_id,
                display_name=profile.get("display_name")
                or user.get("real_name")
                or user.get("name")
                or user_id,
                locale=user.get("locale"),
                timezone=user.get("tz"),
                email=profile.get("email"),
            )
        self._users[user_id] = (now, info)
        return info

    def mention(self, user_id: str) -> str:
        return f"<@{user_id}>"

    def channel_mention(self, channel: str) -> str:
        return f"<#{channel}>"

    def escape(self, text: str) -> str:
        return escape_mrkdwn(text)

    def time_token(self, when: datetime, fallback: str) -> str:
        return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|{escape_mrkdwn(fallback)}>"

    def link(self, url: str, label: str) -> str:
        return f"<{url}|{escape_mrkdwn(label)}>"
