"""In-process fake of Discord's REST API and gateway, served by one aiohttp app on 127.0.0.1.

The real ``discord.py`` client logs into this server (see :func:`point_discord_at`), so the bot's
Discord adapter runs unmodified: gateway handshake, slash-command sync, interaction callbacks,
follow-ups, messages, threads and DMs. Every REST request is recorded for assertions, and the
fake behaves like Discord where a difference would hide a bug (exact ``application/json`` bodies,
404s for unknown ids, "already acknowledged" errors, intent-gated events and message content).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any
from urllib.parse import unquote

import yarl
from aiohttp import BodyPartReader, WSMsgType, web

from tests.fakes.server import LocalServer

__all__ = [
    "ANNOUNCEMENTS_CHANNEL_ID",
    "APP_ID",
    "BOT_ROLE_ID",
    "BOT_USER_ID",
    "GUILD_ID",
    "OWNER_USER_ID",
    "QA_CHANNEL_ID",
    "QA_FORUM_ID",
    "QA_FORUM_TAGS",
    "SECOND_CHANNEL_ID",
    "SECOND_GUILD_ID",
    "FakeDiscord",
    "Recorded",
    "point_discord_at",
    "pointed_at",
    "shard_of",
]

GUILD_ID = 1000
BOT_ROLE_ID = 1001
APP_ID = 900
BOT_USER_ID = 901
OWNER_USER_ID = 800
QA_CHANNEL_ID = 2001
QA_FORUM_ID = 2002
ANNOUNCEMENTS_CHANNEL_ID = 2003
# Forum tag name -> id; ids are stable so tests can compare ``applied_tags``.
QA_FORUM_TAGS: dict[str, int] = {"Biology": 3001, "Chemistry": 3002, "DP": 3003, "MYP": 3004, "PYP": 3005}
# An optional second guild (see FakeDiscord.add_guild): with two shards, GUILD_ID is on shard 0 and this
# one on shard 1, since Discord puts a guild on shard (guild_id >> 22) % shard_count.
SECOND_GUILD_ID = (1 << 22) | 1000
SECOND_CHANNEL_ID = 2101

_DISCORD_EPOCH_MS = 1_420_070_400_000
_HEARTBEAT_INTERVAL_MS = 41_250
_ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

# Gateway intents (bit positions from Discord's docs) the fake honours when dispatching.
_INTENT_GUILD_MESSAGES = 1 << 9
_INTENT_DIRECT_MESSAGES = 1 << 12
_INTENT_MESSAGE_CONTENT = 1 << 15

# Message flags.
_FLAG_HAS_THREAD = 1 << 5
_FLAG_EPHEMERAL = 1 << 6
_FLAG_LOADING = 1 << 7

# Permissions: what @everyone may do in the guild, and what the bot's managed role adds.
_EVERYONE_PERMISSIONS = (
    (1 << 6)  # add_reactions
    | (1 << 10)  # view_channel
    | (1 << 11)  # send_messages
    | (1 << 14)  # embed_links
    | (1 << 15)  # attach_files
    | (1 << 16)  # read_message_history
    | (1 << 31)  # use_application_commands
    | (1 << 35)  # create_public_threads
    | (1 << 38)  # send_messages_in_threads
)
_BOT_PERMISSIONS = (
    _EVERYONE_PERMISSIONS | (1 << 13) | (1 << 34) | (1 << 36)
)  # + manage_messages, manage_threads, create_private_threads

_MENTION_RE = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION_RE = re.compile(r"<@&(\d+)>")
_API_PREFIX_RE = re.compile(r"^/api/v\d+")


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends a guild's events to."""
    return (guild_id >> 22) % shard_count


def point_discord_at(api_base_url: str, gateway_url: str) -> None:
    """Send discord.py's REST and gateway traffic elsewhere; the only place touching its internals.

    discord.py 2.7 builds every REST URL (bot *and* interaction webhook requests) from the class
    attribute ``Route.BASE`` at ``Route()`` construction time, and a plain ``Client`` connects to
    ``DiscordWebSocket.DEFAULT_GATEWAY`` without asking ``GET /gateway/bot``.
    """
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    Route.BASE = api_base_url.rstrip("/")
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


class pointed_at:
    """Point discord.py at ``fake`` (already started) and restore the previous targets on exit.

    Works with ``with`` and ``async with`` so it composes with ``async with FakeDiscord() as fake``.
    """

    def __init__(self, fake: FakeDiscord) -> None:
        self._fake = fake
        self._saved: tuple[str, yarl.URL] | None = None

    def __enter__(self) -> FakeDiscord:
        from discord.gateway import DiscordWebSocket
        from discord.http import Route

        self._saved = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        point_discord_at(self._fake.api_base_url, self._fake.gateway_url)
        return self._fake

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        from discord.gateway import DiscordWebSocket
        from discord.http import Route

        if self._saved is not None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved
            self._saved = None

    async def __aenter__(self) -> FakeDiscord:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)


@dataclass
class Recorded:
    """One REST request as the fake understood it (path without the ``/api/v10`` prefix)."""

    method: str
    path: str
    json: Any
    query: dict[str, str]
    files: list[str] = field(default_factory=list)


@dataclass
class _Upload:
    filename: str
    content_type: str
    data: bytes


@dataclass
class _Request:
    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[_Upload]
    authorized: bool


@dataclass
class _Interaction:
    """Server-side state of one interaction token, to answer callbacks like Discord does."""

    id: int
    token: str
    type: int
    channel_id: int
    guild_id: int | None
    user_id: int
    message_id: int | None = None  # the component's message, for type 3
    message_ids: list[int] = field(default_factory=list)  # its response and follow-ups, in order
    responded: bool = False
    deferred_thinking: bool = False
    original_message_id: int | None = None
    first_followup_sent: bool = False


@dataclass(eq=False)  # identity semantics: sessions live in a set
class _GatewaySession:
    ws: web.WebSocketResponse
    journal: list[tuple[int, str, dict[str, Any]]]  # the fake's record of (shard id, event, data)
    session_id: str | None = None
    seq: int = 0
    intents: int = 0
    identified: bool = False
    shard: tuple[int, int] = (0, 1)  # [shard_id, shard_count] from IDENTIFY; unsharded is [0, 1]
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def holds(self, guild_id: int | None) -> bool:
        """Whether Discord sends this guild's events here; DMs (no guild) go to shard 0 only."""
        shard_id, count = self.shard
        return shard_id == 0 if guild_id is None else shard_of(guild_id, count) == shard_id

    async def send(self, payload: dict[str, Any]) -> None:
        async with self.send_lock:
            if not self.ws.closed:
                await self.ws.send_str(json.dumps(payload))

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        async with self.send_lock:
            self.seq += 1
            self.journal.append((self.shard[0], event, data))
            if not self.ws.closed:
                await self.ws.send_str(json.dumps({"op": 0, "t": event, "s": self.seq, "d": data}))


class _HTTPError(Exception):
    """Raised by handlers to answer with a Discord-shaped JSON error."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


_RouteHandler = Callable[[_Request, re.Match[str]], Awaitable[web.Response]]


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _json_response(body: Any, status: int = 200) -> web.Response:
    """discord.py only decodes bodies whose Content-Type is exactly ``application/json``."""
    return web.Response(
        body=json.dumps(body).encode(), status=status, headers={"Content-Type": "application/json"}
    )


def _no_content() -> web.Response:
    return web.Response(status=204)


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip().lower() in {"1", "true", "yes"}


class FakeDiscord(LocalServer):
    """Fake Discord: one guild with #qa, a #qa-forum forum and #announcements, plus the bot user.

    Sharding: ``shard_count`` is what ``GET /gateway/bot`` recommends; each gateway session gets
    READY/GUILD_CREATE and guild events only for the guilds its IDENTIFY ``shard`` holds, DM events
    only on shard 0, as Discord does. :meth:`add_guild` adds guilds (e.g. one per shard).
    """

    def __init__(self, *, shard_count: int = 1) -> None:
        self.shard_count = shard_count
        self.identifies: list[dict[str, Any]] = []  # every IDENTIFY payload ("d"), token included
        # Every gateway dispatch: (shard id of the receiving session, event name, data).
        self.dispatched: list[tuple[int, str, dict[str, Any]]] = []
        self.guilds: dict[int, str] = {GUILD_ID: "IB Educator Network"}  # guild id -> name
        self.api_base_url = ""
        self.gateway_url = ""
        self.requests: list[Recorded] = []
        self.commands: list[dict[str, Any]] = []
        self.synced_scope: str | None = None
        self.interaction_callbacks: list[dict[str, Any]] = []
        self.followups: list[dict[str, Any]] = []
        self.messages: dict[int, list[dict[str, Any]]] = {}
        self.threads: list[dict[str, Any]] = []
        self.thread_members: dict[int, list[int]] = {}
        self.attachment_data: dict[
            str, bytes
        ] = {}  # attachment id -> uploaded bytes  # thread id -> user ids added by the bot
        self.users: dict[int, dict[str, Any]] = {}
        self.reactions: list[dict[str, Any]] = []  # {"channel_id", "message_id", "emoji", "added"}
        self.dm_channels: dict[int, dict[str, Any]] = {}  # user id -> DM channel object
        # Discord echoes the bot's own visible messages as MESSAGE_CREATE; tests may switch it off.
        self.echo_own_messages = True
        self.bot_user: dict[str, Any] = {
            **self._user_object(BOT_USER_ID, "iben-bot", None),
            "bot": True,
            "verified": True,
            "mfa_enabled": False,
            "email": None,
            "locale": "en-US",
        }
        self.channels: dict[int, dict[str, Any]] = {
            QA_CHANNEL_ID: self._text_channel(QA_CHANNEL_ID, "qa", 0, "Ask colleagues anything"),
            QA_FORUM_ID: self._forum_channel(QA_FORUM_ID, "qa-forum", 1),
            ANNOUNCEMENTS_CHANNEL_ID: self._text_channel(ANNOUNCEMENTS_CHANNEL_ID, "announcements", 2, None),
        }
        self.roles: dict[int, dict[str, Any]] = self._guild_roles_for(GUILD_ID, BOT_ROLE_ID)
        self._guild_roles: dict[int, dict[int, dict[str, Any]]] = {GUILD_ID: self.roles}
        self._bot_roles: dict[int, int] = {GUILD_ID: BOT_ROLE_ID}  # guild id -> the bot's managed role
        self._global_commands: list[dict[str, Any]] = []
        self._guild_commands: dict[int, list[dict[str, Any]]] = {}
        self._message_index: dict[int, dict[str, Any]] = {}
        self._interactions: dict[str, _Interaction] = {}
        self._sessions: set[_GatewaySession] = set()
        self._resumable: dict[str, _GatewaySession] = {}
        self._identified = asyncio.Event()
        self._changed = asyncio.Condition()
        self._last_id = 0
        self._runner: web.AppRunner | None = None
        self._routes: list[tuple[str, re.Pattern[str], _RouteHandler]] = [
            (method, re.compile(f"^{pattern}$"), handler)
            for method, pattern, handler in [
                ("GET", r"/users/@me", self._get_me),
                ("GET", r"/oauth2/applications/@me", self._get_application),
                ("GET", r"/gateway", self._get_gateway),
                ("GET", r"/gateway/bot", self._get_gateway_bot),
                ("PUT", r"/applications/(?P<app>\d+)/commands", self._put_commands),
                ("GET", r"/applications/(?P<app>\d+)/commands", self._get_commands),
                ("PUT", r"/applications/(?P<app>\d+)/guilds/(?P<guild>\d+)/commands", self._put_commands),
                ("GET", r"/applications/(?P<app>\d+)/guilds/(?P<guild>\d+)/commands", self._get_commands),
                ("POST", r"/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback", self._interaction_callback),
                ("POST", r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)", self._webhook_execute),
                (
                    "GET",
                    r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)",
                    self._webhook_get_message,
                ),
                (
                    "PATCH",
                    r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)",
                    self._webhook_edit_message,
                ),
                (
                    "DELETE",
                    r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)",
                    self._webhook_delete_message,
                ),
                ("GET", r"/channels/(?P<cid>\d+)", self._get_channel),
                ("POST", r"/channels/(?P<cid>\d+)/typing", self._typing),
                ("GET", r"/channels/(?P<cid>\d+)/messages", self._list_messages),
                ("POST", r"/channels/(?P<cid>\d+)/messages", self._create_message),
                ("GET", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", self._get_message),
                ("PATCH", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", self._edit_message),
                ("DELETE", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", self._delete_message),
                ("POST", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)/threads", self._thread_from_message),
                ("POST", r"/channels/(?P<cid>\d+)/threads", self._thread_in_channel),
                ("PUT", r"/channels/(?P<cid>\d+)/thread-members/(?P<uid>\d+)", self._add_thread_member),
                (
                    "PUT",
                    r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)/reactions/(?P<emoji>[^/]+)/@me",
                    self._add_reaction,
                ),
                (
                    "POST",
                    r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)/reactions/(?P<emoji>[^/]+)/@me",
                    self._add_reaction,
                ),
                (
                    "DELETE",
                    r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)/reactions/(?P<emoji>[^/]+)/@me",
                    self._remove_reaction,
                ),
                ("POST", r"/users/@me/channels", self._open_dm),
                ("GET", r"/users/(?P<uid>\d+)", self._get_user),
                ("GET", r"/guilds/(?P<guild>\d+)", self._get_guild),
                ("GET", r"/guilds/(?P<guild>\d+)/channels", self._get_guild_channels),
                ("GET", r"/guilds/(?P<guild>\d+)/members/(?P<uid>\d+)", self._get_member),
            ]
        ]

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Serve on an ephemeral 127.0.0.1 port so parallel runs never collide and nothing leaves."""
        app = web.Application()
        app.router.add_route("GET", "/gateway", self._gateway)
        app.router.add_route("*", "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.api_base_url = f"http://127.0.0.1:{port}/api/v10"
        self.gateway_url = f"ws://127.0.0.1:{port}/gateway"

    async def stop(self) -> None:
        """Close gateway sockets first, otherwise the runner waits for their handlers."""
        for session in list(self._sessions):
            await session.ws.close(code=1001, message=b"fake discord stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ test-facing API

    def add_user(self, user_id: int, name: str, *, global_name: str | None = None) -> None:
        """Register a guild member; unknown ids used in interactions get a default user instead."""
        self.users[user_id] = self._user_object(user_id, name, global_name)

    def add_guild(self, guild_id: int, name: str, *, channels: dict[int, str]) -> None:
        """Another guild the bot is in, with text channels (id -> name); every user is a member.

        Add it before clients connect: sessions get it in READY / GUILD_CREATE if their shard holds it.
        """
        if guild_id in self.guilds or any(c in self.channels for c in channels):
            raise ValueError(f"guild {guild_id} or one of its channels already exists")
        bot_role = guild_id + 1
        self.guilds[guild_id] = name
        self._bot_roles[guild_id] = bot_role
        self._guild_roles[guild_id] = self._guild_roles_for(guild_id, bot_role)
        for position, (channel_id, channel_name) in enumerate(channels.items()):
            self.channels[channel_id] = self._text_channel(
                channel_id, channel_name, position, None, guild_id=guild_id
            )

    def interaction_messages(self, interaction_id: int) -> list[dict[str, Any]]:
        """What the invoker sees for one interaction: its response (once no longer "thinking") and
        follow-ups, in order; empty while it is unanswered."""
        interaction = next((i for i in self._interactions.values() if i.id == interaction_id), None)
        if interaction is None:
            raise AssertionError(f"unknown interaction {interaction_id}")
        messages = [self._message_index[i] for i in interaction.message_ids]
        return [m for m in messages if not int(m.get("flags") or 0) & _FLAG_LOADING]

    def events_for_shard(self, shard_id: int, event: str) -> list[dict[str, Any]]:
        """The data of every ``event`` dispatched to sessions of ``shard_id`` (0 when unsharded)."""
        return [data for shard, name, data in self.dispatched if shard == shard_id and name == event]

    async def wait_until_identified(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until a client has IDENTIFYed and received READY + GUILD_CREATE."""
        try:
            async with asyncio.timeout(timeout):
                await self._identified.wait()
        except TimeoutError:
            raise AssertionError(f"no gateway IDENTIFY within {timeout}s; {self._recent()}") from None

    async def wait_for(
        self,
        predicate: Callable[[FakeDiscord], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> None:
        """Wait until ``predicate(self)`` holds, re-checking whenever the fake records something."""
        async with self._changed:
            try:
                async with asyncio.timeout(timeout):
                    await self._changed.wait_for(lambda: predicate(self))
            except TimeoutError:
                raise AssertionError(f"condition not met within {timeout}s; {self._recent()}") from None

    async def send_reconnect(self) -> None:
        """Ask connected clients to reconnect (op 7); discord.py then RESUMEs via resume_gateway_url."""
        for session in list(self._sessions):
            if session.identified:
                await session.send({"op": 7, "d": None, "s": None, "t": None})

    def get_message(self, message_id: int) -> dict[str, Any] | None:
        """Any message the fake knows about (bot, user, interaction or ephemeral)."""
        return self._message_index.get(message_id)

    async def send_interaction(
        self,
        name: str,
        options: dict[str, str | int] | None = None,
        *,
        user_id: int,
        channel_id: int = QA_CHANNEL_ID,
        locale: str = "en-US",
        subcommand: str | None = None,
    ) -> int:
        """Dispatch a chat-input INTERACTION_CREATE as a user invoking ``/name [subcommand]``.

        ``subcommand`` may be ``"sub"`` or ``"group sub"``. Option types come from the synced command
        definition when available (so USER/CHANNEL/ROLE options get ``resolved`` data), else from
        the Python type (str→3, int→4, bool→5, float→10).
        """
        command = self._find_command(name, self._guild_of(self._require_channel_for_event(channel_id)))
        definitions: list[dict[str, Any]] = list(command.get("options", [])) if command else []
        path = subcommand.split() if subcommand else []
        for part in path:
            definitions = next((list(o.get("options", [])) for o in definitions if o.get("name") == part), [])
        resolved: dict[str, dict[str, Any]] = {}
        leaf_options = [
            self._option_payload(key, value, definitions, resolved) for key, value in (options or {}).items()
        ]
        nested = leaf_options
        for depth, part in reversed(list(enumerate(path))):
            option_type = 1 if depth == len(path) - 1 else 2
            nested = [{"name": part, "type": option_type, "options": nested}]
        data: dict[str, Any] = {
            "id": str(command["id"]) if command else str(self._next_id()),
            "name": name,
            "type": 1,
            "options": nested,
        }
        if command and command.get("guild_id"):
            data["guild_id"] = str(command["guild_id"])
        if resolved:
            data["resolved"] = resolved
        return await self._dispatch_interaction(
            2, data, user_id=user_id, channel_id=channel_id, locale=locale
        )

    async def send_component(
        self,
        custom_id: str,
        *,
        user_id: int,
        channel_id: int = QA_CHANNEL_ID,
        message_id: int,
        locale: str = "en-US",
    ) -> int:
        """Dispatch a button click (INTERACTION_CREATE type 3) on ``message_id``."""
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._dispatch_interaction(
            3, data, user_id=user_id, channel_id=channel_id, locale=locale, message_id=message_id
        )

    async def send_modal_submit(
        self,
        custom_id: str,
        values: dict[str, str],
        *,
        user_id: int,
        channel_id: int = QA_CHANNEL_ID,
        locale: str = "en-US",
    ) -> int:
        """Dispatch a modal submission (INTERACTION_CREATE type 5): one text input per action row."""
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()
        ]
        data = {"custom_id": custom_id, "components": rows}
        return await self._dispatch_interaction(
            5, data, user_id=user_id, channel_id=channel_id, locale=locale
        )

    async def send_reaction(self, channel_id: int, message_id: int, emoji: str, *, user_id: int) -> None:
        """Dispatch MESSAGE_REACTION_ADD as if a user reacted with a unicode emoji."""
        self._ensure_user(user_id)
        guild_id = self._guild_of(self._require_channel_for_event(channel_id))
        data: dict[str, Any] = {
            "user_id": str(user_id),
            "channel_id": str(channel_id),
            "message_id": str(message_id),
            "emoji": {"id": None, "name": emoji},
            "type": 0,
            "burst": False,
            "burst_colors": [],
        }
        if guild_id is not None:
            data.update(guild_id=str(guild_id), member=self._member_object(user_id, guild_id=guild_id))
        intent = 1 << 13 if guild_id is None else 1 << 10  # DIRECT_ / GUILD_MESSAGE_REACTIONS
        if not await self._dispatch("MESSAGE_REACTION_ADD", data, intents=intent, guild_id=guild_id):
            raise AssertionError("no session holding the guild with the message reactions intent")

    def message_with_component(self, custom_id_prefix: str) -> dict[str, Any]:
        """The newest message carrying a component whose custom id starts with the prefix."""
        for message in reversed(list(self._message_index.values())):
            for row in message.get("components") or []:
                for component in row.get("components") or []:
                    if str(component.get("custom_id", "")).startswith(custom_id_prefix):
                        return message
        raise AssertionError(f"no message has a component starting with {custom_id_prefix!r}")

    async def send_message(
        self, channel_id: int, content: str, *, author_id: int, message_id: int | None = None
    ) -> int:
        """Dispatch MESSAGE_CREATE as if a user wrote ``content`` in a channel, thread or DM."""
        channel = self._require_channel(channel_id)
        author = self._ensure_user(author_id)
        message = self._message_object(
            channel_id,
            {"content": content},
            author=author,
            message_id=message_id,
            allow_all_mentions=True,
        )
        self._store_message(message, public=False)
        if channel.get("type") in (10, 11, 12):
            channel["last_message_id"] = message["id"]
            channel["message_count"] = channel.get("message_count", 0) + 1
            channel["total_message_sent"] = channel.get("total_message_sent", 0) + 1
        await self._dispatch_message_create(message)
        return int(message["id"])

    # ------------------------------------------------------------------ objects

    def _next_id(self) -> int:
        """Time-based snowflakes, strictly increasing, so discord.py's created_at looks sane."""
        candidate = (int(time.time() * 1000) - _DISCORD_EPOCH_MS) << 22
        self._last_id = max(candidate, self._last_id + 1)
        return self._last_id

    @staticmethod
    def _user_object(user_id: int, name: str, global_name: str | None) -> dict[str, Any]:
        return {
            "id": str(user_id),
            "username": name,
            "discriminator": "0",
            "global_name": global_name,
            "avatar": None,
            "bot": False,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "primary_guild": None,
            "collectibles": None,
        }

    @staticmethod
    def _role(role_id: int, name: str, position: int, permissions: int, *, managed: bool) -> dict[str, Any]:
        return {
            "id": str(role_id),
            "name": name,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": position,
            "permissions": str(permissions),
            "managed": managed,
            "mentionable": False,
            "flags": 0,
        }

    def _guild_roles_for(self, guild_id: int, bot_role: int) -> dict[int, dict[str, Any]]:
        """A guild's @everyone role (its id is the guild's) and the bot's managed role."""
        return {
            guild_id: self._role(guild_id, "@everyone", 0, _EVERYONE_PERMISSIONS, managed=False),
            bot_role: {
                **self._role(bot_role, "iben-bot", 1, _BOT_PERMISSIONS, managed=True),
                "tags": {"bot_id": str(BOT_USER_ID)},
            },
        }

    @staticmethod
    def _guild_of(channel: dict[str, Any]) -> int | None:
        """The guild of a channel or thread; None for DMs."""
        guild_id = channel.get("guild_id")
        return int(guild_id) if guild_id else None

    def _all_roles(self) -> dict[int, dict[str, Any]]:
        return {rid: role for roles in self._guild_roles.values() for rid, role in roles.items()}

    @staticmethod
    def _text_channel(
        channel_id: int, name: str, position: int, topic: str | None, *, guild_id: int = GUILD_ID
    ) -> dict[str, Any]:
        return {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild_id),
            "name": name,
            "position": position,
            "permission_overwrites": [],
            "parent_id": None,
            "topic": topic,
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "default_auto_archive_duration": 1440,
            "default_thread_rate_limit_per_user": 0,
            "flags": 0,
        }

    @staticmethod
    def _forum_channel(channel_id: int, name: str, position: int) -> dict[str, Any]:
        return {
            "id": str(channel_id),
            "type": 15,
            "guild_id": str(GUILD_ID),
            "name": name,
            "position": position,
            "permission_overwrites": [],
            "parent_id": None,
            "topic": "One post per question",
            "nsfw": False,
            "last_message_id": None,
            "rate_limit_per_user": 0,
            "default_auto_archive_duration": 10080,
            "default_thread_rate_limit_per_user": 0,
            "available_tags": [
                {"id": str(tag_id), "name": tag, "moderated": False, "emoji_id": None, "emoji_name": None}
                for tag, tag_id in QA_FORUM_TAGS.items()
            ],
            "default_reaction_emoji": None,
            "default_sort_order": None,
            "default_forum_layout": 1,
            "flags": 0,
            "template": "",
        }

    def _ensure_user(self, user_id: int) -> dict[str, Any]:
        if user_id == BOT_USER_ID:
            return self.bot_user
        if user_id not in self.users:
            self.add_user(user_id, f"user{user_id}")
        return self.users[user_id]

    def _member_object(
        self, user_id: int, *, with_user: bool = True, guild_id: int = GUILD_ID
    ) -> dict[str, Any]:
        member: dict[str, Any] = {
            "roles": [str(self._bot_roles[guild_id])] if user_id == BOT_USER_ID else [],
            "nick": None,
            "avatar": None,
            "banner": None,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
        }
        if with_user:
            member["user"] = self._ensure_user(user_id)
        return member

    def _guild_object(self, guild_id: int = GUILD_ID) -> dict[str, Any]:
        return {
            "id": str(guild_id),
            "name": self.guilds[guild_id],
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(OWNER_USER_ID),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "preferred_locale": "en-US",
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "application_id": None,
            "features": ["COMMUNITY"],
            "roles": list(self._guild_roles[guild_id].values()),
            "emojis": [],
            "stickers": [],
            "max_members": 500000,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "widget_enabled": False,
            "incidents_data": None,
        }

    def _guild_create_payload(self, guild_id: int = GUILD_ID) -> dict[str, Any]:
        members = [self._member_object(uid, guild_id=guild_id) for uid in [BOT_USER_ID, *self.users]]
        in_guild = [c for c in self.channels.values() if self._guild_of(c) == guild_id]
        return {
            **self._guild_object(guild_id),
            "unavailable": False,
            "large": False,
            "lazy": True,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "member_count": len(members),
            "members": members,
            "channels": [c for c in in_guild if c["type"] in (0, 2, 4, 5, 15, 16)],
            "threads": [
                t for t in in_guild if t["type"] in (10, 11, 12) and not t["thread_metadata"]["archived"]
            ],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "embedded_activities": [],
        }

    def _require_channel(self, channel_id: int) -> dict[str, Any]:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise _HTTPError(404, 10003, "Unknown Channel")
        return channel

    def _require_message(self, channel_id: int, message_id: int) -> dict[str, Any]:
        message = self._message_index.get(message_id)
        if message is None or int(message["channel_id"]) != channel_id:
            raise _HTTPError(404, 10008, "Unknown Message")
        return message

    def _resolve_mentions(
        self, content: str, allowed: dict[str, Any] | None, *, allow_all: bool
    ) -> tuple[list[dict[str, Any]], list[str], bool]:
        """Apply ``allowed_mentions`` like Discord: only permitted mentions end up in the message."""
        parse: list[str] = (
            ["users", "roles", "everyone"] if allowed is None or allow_all else allowed.get("parse", [])
        )
        allowed_users = set() if allowed is None else {str(u) for u in allowed.get("users", [])}
        allowed_roles = set() if allowed is None else {str(r) for r in allowed.get("roles", [])}
        mentions: list[dict[str, Any]] = []
        for raw_id in dict.fromkeys(_MENTION_RE.findall(content)):
            if "users" in parse or raw_id in allowed_users:
                user = self.users.get(int(raw_id)) or (self.bot_user if int(raw_id) == BOT_USER_ID else None)
                if user is not None:
                    mentions.append(user)
        role_mentions = [
            r
            for r in dict.fromkeys(_ROLE_MENTION_RE.findall(content))
            if int(r) in self._all_roles() and ("roles" in parse or r in allowed_roles)
        ]
        everyone = ("@everyone" in content or "@here" in content) and "everyone" in parse
        return mentions, role_mentions, everyone

    def _message_object(
        self,
        channel_id: int,
        body: dict[str, Any],
        *,
        author: dict[str, Any],
        files: list[_Upload] | None = None,
        message_id: int | None = None,
        message_type: int = 0,
        allow_all_mentions: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Build a message object the way Discord returns it from REST (no guild_id/member)."""
        content = body.get("content") or ""
        mentions, role_mentions, everyone = self._resolve_mentions(
            content, body.get("allowed_mentions"), allow_all=allow_all_mentions
        )
        reference = body.get("message_reference")
        if reference and message_type == 0:
            message_type = 19
        message: dict[str, Any] = {
            "id": str(message_id if message_id is not None else self._next_id()),
            "channel_id": str(channel_id),
            "type": message_type,
            "author": author,
            "content": content,
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": bool(body.get("tts", False)),
            "mention_everyone": everyone,
            "mentions": mentions,
            "mention_roles": role_mentions,
            "mention_channels": [],
            "attachments": self._attachments(body, files or []),
            "embeds": [{"type": "rich", **e} for e in body.get("embeds") or []],
            "components": body.get("components") or [],
            "pinned": False,
            "flags": int(body.get("flags") or 0),
            "sticker_items": [],
        }
        if body.get("nonce") is not None:
            message["nonce"] = body["nonce"]
        if body.get("poll"):
            message["poll"] = body["poll"]
        if reference:
            ref_id = int(reference["message_id"])
            message["message_reference"] = {
                "type": 0,
                "message_id": str(ref_id),
                "channel_id": str(reference.get("channel_id") or channel_id),
                "guild_id": reference.get("guild_id"),
            }
            referenced = self._message_index.get(ref_id)
            if referenced is not None:
                message["referenced_message"] = referenced
        channel = self.channels.get(channel_id)
        if channel is not None and channel["type"] in (10, 11, 12):
            message["position"] = channel.get("total_message_sent", 0)
        if extra:
            message.update(extra)
        return message

    def _attachments(self, body: dict[str, Any], files: list[_Upload]) -> list[dict[str, Any]]:
        described = {int(a["id"]): a for a in body.get("attachments") or [] if "id" in a}
        out: list[dict[str, Any]] = []
        for index, upload in enumerate(files):
            attachment_id = self._next_id()
            self.attachment_data[str(attachment_id)] = upload.data
            meta = described.get(index, {})
            out.append(
                {
                    "id": str(attachment_id),
                    "filename": meta.get("filename", upload.filename),
                    "description": meta.get("description"),
                    "content_type": upload.content_type,
                    "size": len(upload.data),
                    "url": f"{self.api_base_url}/attachments/{attachment_id}/{upload.filename}",
                    "proxy_url": f"{self.api_base_url}/attachments/{attachment_id}/{upload.filename}",
                    "flags": 0,
                }
            )
        return out

    def _store_message(self, message: dict[str, Any], *, public: bool) -> None:
        """Index every message; only bot-created channel messages go into ``self.messages``."""
        self._message_index[int(message["id"])] = message
        if public:
            self.messages.setdefault(int(message["channel_id"]), []).append(message)

    @staticmethod
    def _apply_edit(message: dict[str, Any], body: dict[str, Any]) -> None:
        for key in ("content", "components", "flags"):
            if key in body:
                message[key] = body[key] if body[key] is not None else ("" if key == "content" else [])
        if "embeds" in body:
            message["embeds"] = [{"type": "rich", **e} for e in body["embeds"] or []]
        message["edited_timestamp"] = _now_iso()

    def _find_command(self, name: str, guild_id: int | None) -> dict[str, Any] | None:
        guild_commands = self._guild_commands.get(guild_id, []) if guild_id is not None else []
        for command in [*guild_commands, *self._global_commands]:
            if command["name"] == name and command.get("type", 1) == 1:
                return command
        return None

    def _option_payload(
        self,
        name: str,
        value: str | int,
        definitions: list[dict[str, Any]],
        resolved: dict[str, dict[str, Any]],
    ) -> dict[str, Any]:
        definition = next((d for d in definitions if d.get("name") == name), None)
        if definition is not None:
            option_type = int(definition["type"])
        elif isinstance(value, bool):
            option_type = 5
        elif isinstance(value, int):
            option_type = 4
        elif isinstance(value, float):
            option_type = 10
        else:
            option_type = 3
        wire_value: Any = value
        if option_type in (6, 7, 8, 9):  # mentionables travel as snowflake strings plus resolved data
            wire_value = str(value)
            snowflake = int(value)
            if option_type in (6, 9) and (snowflake in self.users or snowflake == BOT_USER_ID):
                resolved.setdefault("users", {})[wire_value] = self._ensure_user(snowflake)
                member = {
                    **self._member_object(snowflake, with_user=False),
                    "permissions": str(_EVERYONE_PERMISSIONS),
                }
                resolved.setdefault("members", {})[wire_value] = member
            elif option_type in (7,) and snowflake in self.channels:
                channel = self.channels[snowflake]
                resolved.setdefault("channels", {})[wire_value] = {
                    **channel,
                    "permissions": str(_EVERYONE_PERMISSIONS),
                }
            elif option_type in (8, 9) and snowflake in self._all_roles():
                resolved.setdefault("roles", {})[wire_value] = self._all_roles()[snowflake]
        elif option_type == 4:
            wire_value = int(value)
        elif option_type == 3:
            wire_value = str(value)
        return {"name": name, "type": option_type, "value": wire_value}

    # ------------------------------------------------------------------ gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        """Speak plain-JSON text frames even if ``compress=zlib-stream`` was asked for.

        discord.py only runs its zlib decompressor on binary frames, so text frames just work.
        """
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        session = _GatewaySession(ws=ws, journal=self.dispatched)
        self._sessions.add(session)
        try:
            await session.send(
                {
                    "op": 10,
                    "d": {"heartbeat_interval": _HEARTBEAT_INTERVAL_MS, "_trace": ["fake"]},
                    "s": None,
                    "t": None,
                }
            )
            async for frame in ws:
                if frame.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    await self._on_gateway_payload(session, json.loads(frame.data))
        finally:
            self._sessions.discard(session)
        return ws

    async def _on_gateway_payload(self, session: _GatewaySession, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        data = payload.get("d")
        if op == 1:  # heartbeat
            await session.send({"op": 11, "d": None, "s": None, "t": None})
        elif op == 2:  # identify
            await self._identify(session, data or {})
        elif op == 6:  # resume
            await self._resume(session, data or {})
        elif op == 8:  # request guild members (only when the client chunks guilds)
            await self._members_chunk(session, data or {})
        # op 3 (presence) and op 4 (voice state) need no answer.

    async def _identify(self, session: _GatewaySession, data: dict[str, Any]) -> None:
        """READY, then GUILD_CREATE for each guild this session's shard holds (all when unsharded)."""
        self.identifies.append(data)
        shard_id, count = (int(n) for n in data.get("shard") or [0, 1])
        if not 0 <= shard_id < count:
            await session.ws.close(code=4010, message=b"Invalid shard.")
            return
        session.shard = (shard_id, count)
        session.session_id = secrets.token_hex(16)
        session.intents = int(data.get("intents", 0))
        session.seq = 0
        session.identified = True
        self._resumable[session.session_id] = session
        held = [guild_id for guild_id in self.guilds if session.holds(guild_id)]
        await session.dispatch(
            "READY",
            {
                "v": 10,
                "user": self.bot_user,
                "guilds": [{"id": str(guild_id), "unavailable": True} for guild_id in held],
                "session_id": session.session_id,
                "session_type": "normal",
                "resume_gateway_url": self.gateway_url,
                "shard": [shard_id, count],
                "application": {"id": str(APP_ID), "flags": self._application_flags()},
                "private_channels": [],
                "relationships": [],
                "presences": [],
                "guild_join_requests": [],
                "geo_ordered_rtc_regions": ["fake"],
                "user_settings": {},
                "auth": {},
                "_trace": ["fake"],
            },
        )
        for guild_id in held:
            await session.dispatch("GUILD_CREATE", self._guild_create_payload(guild_id))
        self._identified.set()
        await self._notify()

    async def _resume(self, session: _GatewaySession, data: dict[str, Any]) -> None:
        previous = self._resumable.get(str(data.get("session_id")))
        if previous is None:
            await session.send({"op": 9, "d": False, "s": None, "t": None})
            return
        session.session_id = previous.session_id
        session.intents = previous.intents
        session.shard = previous.shard
        session.seq = max(previous.seq, int(data.get("seq") or 0))
        session.identified = True
        previous.identified = False
        self._resumable[str(session.session_id)] = session
        await session.dispatch("RESUMED", {"_trace": ["fake"]})
        await self._notify()

    async def _members_chunk(self, session: _GatewaySession, data: dict[str, Any]) -> None:
        guild_id = int(data.get("guild_id") or GUILD_ID)
        wanted = {int(u) for u in data.get("user_ids") or []}
        query = str(data.get("query") or "").lower()
        members = [
            self._member_object(uid, guild_id=guild_id)
            for uid in [BOT_USER_ID, *self.users]
            if (not wanted or uid in wanted) and self._ensure_user(uid)["username"].lower().startswith(query)
        ]
        chunk: dict[str, Any] = {
            "guild_id": str(guild_id),
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        await session.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    async def _dispatch(
        self, event: str, data: dict[str, Any], *, guild_id: int | None, intents: int = 0
    ) -> int:
        """Send an event to every identified session holding ``intents`` and the guild's shard (shard 0
        for DMs); returns how many got it."""
        sent = 0
        for session in list(self._sessions):
            if session.identified and session.holds(guild_id) and session.intents & intents == intents:
                await session.dispatch(event, data)
                sent += 1
        return sent

    async def _dispatch_message_create(self, message: dict[str, Any]) -> None:
        """MESSAGE_CREATE with Discord's intent rules, including MESSAGE_CONTENT stripping."""
        channel = self.channels.get(int(message["channel_id"]), {})
        is_dm = channel.get("type") in (1, 3)
        guild_id = None if is_dm else self._guild_of(channel) or GUILD_ID
        needed = _INTENT_DIRECT_MESSAGES if is_dm else _INTENT_GUILD_MESSAGES
        event = dict(message)
        if guild_id is not None:
            author_id = int(message["author"]["id"])
            event["guild_id"] = str(guild_id)
            event["member"] = self._member_object(author_id, with_user=False, guild_id=guild_id)
            event["mentions"] = [
                {**m, "member": self._member_object(int(m["id"]), with_user=False, guild_id=guild_id)}
                for m in message["mentions"]
            ]
        for session in list(self._sessions):
            if not session.identified or not session.holds(guild_id) or not session.intents & needed:
                continue
            payload = event
            privileged = (
                is_dm
                or int(message["author"]["id"]) == BOT_USER_ID
                or any(int(m["id"]) == BOT_USER_ID for m in message["mentions"])
                or session.intents & _INTENT_MESSAGE_CONTENT
            )
            if not privileged:
                payload = {**event, "content": "", "embeds": [], "attachments": [], "components": []}
                payload.pop("poll", None)
            await session.dispatch("MESSAGE_CREATE", payload)

    async def _dispatch_interaction(
        self,
        interaction_type: int,
        data: dict[str, Any],
        *,
        user_id: int,
        channel_id: int,
        locale: str,
        message_id: int | None = None,
    ) -> int:
        channel = self._require_channel_for_event(channel_id)
        user = self._ensure_user(user_id)
        interaction_id = self._next_id()
        token = f"itoken-{interaction_id}-{secrets.token_urlsafe(8)}"
        is_dm = channel["type"] in (1, 3)
        guild_id = None if is_dm else self._guild_of(channel) or GUILD_ID
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(APP_ID),
            "type": interaction_type,
            "data": data,
            "channel": channel,
            "channel_id": str(channel_id),
            "token": token,
            "version": 1,
            "app_permissions": str(_BOT_PERMISSIONS),
            "locale": locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": _ATTACHMENT_SIZE_LIMIT,
        }
        if guild_id is None:
            payload.update(user=user, context=1, authorizing_integration_owners={"0": "0"})
        else:
            payload.update(
                guild_id=str(guild_id),
                guild={"id": str(guild_id), "locale": "en-US", "features": ["COMMUNITY"]},
                guild_locale="en-US",
                member={
                    **self._member_object(user_id, guild_id=guild_id),
                    "permissions": str(_EVERYONE_PERMISSIONS),
                },
                context=0,
                authorizing_integration_owners={"0": str(guild_id)},
            )
        if message_id is not None:
            message = self._message_index.get(message_id)
            if message is None:  # a message the fake never saw: fabricate a bot message for it
                message = self._message_object(
                    channel_id, {"content": ""}, author=self.bot_user, message_id=message_id
                )
                self._store_message(message, public=False)
            payload["message"] = message
        self._interactions[token] = _Interaction(
            id=interaction_id,
            token=token,
            type=interaction_type,
            channel_id=channel_id,
            guild_id=guild_id,
            user_id=user_id,
            message_id=message_id,
        )
        if not await self._dispatch("INTERACTION_CREATE", payload, guild_id=guild_id):
            raise AssertionError("no identified gateway session (holding the guild) for INTERACTION_CREATE")
        return interaction_id

    def _require_channel_for_event(self, channel_id: int) -> dict[str, Any]:
        channel = self.channels.get(channel_id)
        if channel is None:
            raise AssertionError(f"unknown channel {channel_id}; known: {sorted(self.channels)}")
        return channel

    # ------------------------------------------------------------------ REST plumbing

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        """Parse, route and record one request; records happen after the handler so waiters see effects."""
        match = _API_PREFIX_RE.match(request.path)
        path = request.path[match.end() :] if match else request.path
        body, files = await self._read_body(request)
        parsed = _Request(
            method=request.method,
            path=path,
            query=dict(request.query),
            json=body,
            files=files,
            authorized=request.headers.get("Authorization", "").startswith("Bot "),
        )
        try:
            response = await self._route(parsed, routable=match is not None)
        except _HTTPError as err:
            response = _json_response({"message": err.message, "code": err.code}, status=err.status)
        self.requests.append(
            Recorded(request.method, path, body, dict(request.query), [f.filename for f in files])
        )
        await self._notify()
        return response

    async def _route(self, request: _Request, *, routable: bool) -> web.Response:
        if routable:
            for method, pattern, handler in self._routes:
                m = pattern.match(request.path)
                if m is not None and method == request.method:
                    token_route = request.path.startswith(("/interactions/", "/webhooks/"))
                    if not token_route and not request.authorized:
                        raise _HTTPError(401, 0, "401: Unauthorized")
                    return await handler(request, m)
        raise _HTTPError(404, 0, "404: Not Found")

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[Any, list[_Upload]]:
        """JSON bodies as-is; multipart bodies as their ``payload_json`` part plus uploaded files."""
        if not request.can_read_body:
            return None, []
        if request.content_type.startswith("multipart/"):
            payload: Any = None
            files: list[_Upload] = []
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                if not isinstance(part, BodyPartReader):
                    continue
                raw = await part.read(decode=False)
                if part.name == "payload_json":
                    payload = json.loads(raw.decode())
                else:
                    content_type = part.headers.get("Content-Type", "application/octet-stream")
                    files.append(_Upload(part.filename or "file", content_type, bytes(raw)))
            return payload, files
        raw_text = await request.text()
        if not raw_text:
            return None, []
        try:
            return json.loads(raw_text), []
        except ValueError:
            return raw_text, []

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _recent(self) -> str:
        lines = [f"  {r.method} {r.path} {json.dumps(r.json)[:200]}" for r in self.requests[-15:]]
        return "recent requests:\n" + ("\n".join(lines) if lines else "  (none)")

    @staticmethod
    def _body(request: _Request) -> dict[str, Any]:
        return request.json if isinstance(request.json, dict) else {}

    def _application_flags(self) -> int:
        # GATEWAY_GUILD_MEMBERS_LIMITED | GATEWAY_MESSAGE_CONTENT_LIMITED | APPLICATION_COMMAND_BADGE
        return (1 << 15) | (1 << 19) | (1 << 23)

    # ------------------------------------------------------------------ REST: identity

    async def _get_me(self, request: _Request, m: re.Match[str]) -> web.Response:
        return _json_response(self.bot_user)

    async def _get_application(self, request: _Request, m: re.Match[str]) -> web.Response:
        owner = self._user_object(OWNER_USER_ID, "network-admin", "Network Admin")
        return _json_response(
            {
                "id": str(APP_ID),
                "name": "iben-bot",
                "icon": None,
                "description": "",
                "summary": "",
                "type": None,
                "hook": True,
                "bot_public": False,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "owner": owner,
                "team": None,
                "flags": self._application_flags(),
                "bot": self.bot_user,
                "redirect_uris": [],
                # Non-null would make discord.py warn that the gateway delivers no interactions.
                "interactions_endpoint_url": None,
                "role_connections_verification_url": None,
                "tags": [],
                "install_params": None,
                "integration_types_config": {"0": {}},
                "approximate_guild_count": 1,
                "approximate_user_install_count": 0,
            }
        )

    async def _get_gateway(self, request: _Request, m: re.Match[str]) -> web.Response:
        return _json_response({"url": self.gateway_url})

    async def _get_gateway_bot(self, request: _Request, m: re.Match[str]) -> web.Response:
        return _json_response(
            {
                "url": self.gateway_url,
                "shards": self.shard_count,
                "session_start_limit": {
                    "total": 1000,
                    "remaining": 999,
                    "reset_after": 0,
                    "max_concurrency": 1,
                },
            }
        )

    # ------------------------------------------------------------------ REST: commands

    async def _put_commands(self, request: _Request, m: re.Match[str]) -> web.Response:
        if int(m["app"]) != APP_ID:
            raise _HTTPError(403, 50001, "Missing Access")
        guild = m.groupdict().get("guild")
        if guild is not None and int(guild) not in self.guilds:
            raise _HTTPError(403, 50001, "Missing Access")
        body = request.json if isinstance(request.json, list) else []
        previous = self._guild_commands.get(int(guild), []) if guild else self._global_commands
        previous_ids = {(c["name"], c.get("type", 1)): c["id"] for c in previous}
        echoed: list[dict[str, Any]] = []
        for command in body:
            key = (command["name"], command.get("type", 1))
            echoed.append(
                {
                    "type": 1,
                    "description": "",
                    "options": [],
                    "default_member_permissions": None,
                    "dm_permission": True,
                    "nsfw": False,
                    "name_localizations": None,
                    "description_localizations": None,
                    "contexts": None,
                    "integration_types": [0],
                    **command,
                    "id": previous_ids.get(key, str(self._next_id())),
                    "application_id": str(APP_ID),
                    "version": str(self._next_id()),
                    **({"guild_id": str(guild)} if guild else {}),
                }
            )
        if guild:
            self._guild_commands[int(guild)] = echoed
            self.synced_scope = f"guild:{guild}"
        else:
            self._global_commands = echoed
            self.synced_scope = "global"
        self.commands = echoed
        return _json_response(echoed)

    async def _get_commands(self, request: _Request, m: re.Match[str]) -> web.Response:
        guild = m.groupdict().get("guild")
        return _json_response(self._guild_commands.get(int(guild), []) if guild else self._global_commands)

    # ------------------------------------------------------------------ REST: interactions

    def _interaction_for(
        self, token: str, *, app_id: int | None = None, interaction_id: int | None = None
    ) -> _Interaction:
        interaction = self._interactions.get(token)
        if interaction is None or (interaction_id is not None and interaction.id != interaction_id):
            raise _HTTPError(404, 10062, "Unknown interaction")
        if app_id is not None and app_id != APP_ID:
            raise _HTTPError(404, 10015, "Unknown Webhook")
        return interaction

    async def _interaction_callback(self, request: _Request, m: re.Match[str]) -> web.Response:
        """Answer like Discord with ``?with_response=true``: ``{"interaction": ..., "resource": ...}``."""
        interaction = self._interaction_for(m["token"], interaction_id=int(m["iid"]))
        body = self._body(request)
        callback_type = int(body.get("type", 0))
        data: dict[str, Any] = body.get("data") or {}
        self.interaction_callbacks.append(
            {"interaction_id": interaction.id, "type": callback_type, "data": data}
        )
        if interaction.responded:
            raise _HTTPError(400, 40060, "Interaction has already been acknowledged.")
        interaction.responded = True
        flags = int(data.get("flags") or 0)
        info: dict[str, Any] = {"id": str(interaction.id), "type": interaction.type}
        result: dict[str, Any] = {"interaction": info}
        if callback_type in (4, 5):
            ephemeral = bool(flags & _FLAG_EPHEMERAL)
            thinking = callback_type == 5
            message = self._message_object(
                interaction.channel_id,
                {**data, "content": "" if thinking else data.get("content")},
                author=self.bot_user,
                files=request.files,
                message_type=20 if interaction.type == 2 else 0,
                extra=self._interaction_message_extra(interaction),
            )
            message["flags"] = (flags & _FLAG_EPHEMERAL) | (_FLAG_LOADING if thinking else 0)
            self._store_message(message, public=False)
            interaction.original_message_id = int(message["id"])
            interaction.message_ids.append(int(message["id"]))
            interaction.deferred_thinking = thinking
            info.update(
                response_message_id=message["id"],
                response_message_loading=thinking,
                response_message_ephemeral=ephemeral,
            )
            result["resource"] = {"type": callback_type, "message": message}
            if not ephemeral and not thinking:
                await self._echo(message)
        elif callback_type in (6, 7):
            if interaction.message_id is None:
                raise _HTTPError(
                    400, 50035, "Invalid Form Body (update responses need a component interaction)"
                )
            interaction.original_message_id = interaction.message_id
            interaction.message_ids.append(interaction.message_id)
            message = self._message_index[interaction.message_id]
            if callback_type == 7:
                self._apply_edit(message, data)
                result["resource"] = {"type": 7, "message": message}
            info.update(
                response_message_id=message["id"],
                response_message_loading=False,
                response_message_ephemeral=bool(int(message.get("flags") or 0) & _FLAG_EPHEMERAL),
            )
        elif callback_type == 12:
            result["resource"] = {"type": 12, "activity_instance": {"id": secrets.token_hex(8)}}
        elif callback_type not in (1, 8, 9, 10):
            interaction.responded = False
            raise _HTTPError(400, 50035, f"Invalid Form Body (unknown callback type {callback_type})")
        return _json_response(result)

    def _interaction_message_extra(self, interaction: _Interaction) -> dict[str, Any]:
        user = self._ensure_user(interaction.user_id)
        metadata: dict[str, Any] = {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": user,
            "authorizing_integration_owners": {"0": str(interaction.guild_id or 0)},
        }
        if interaction.message_id is not None:
            metadata["interacted_message_id"] = str(interaction.message_id)
        return {"webhook_id": str(APP_ID), "application_id": str(APP_ID), "interaction_metadata": metadata}

    async def _echo(self, message: dict[str, Any]) -> None:
        if self.echo_own_messages:
            await self._dispatch_message_create(message)

    async def _webhook_execute(self, request: _Request, m: re.Match[str]) -> web.Response:
        """Follow-ups. The first one after a thinking defer replaces the loading message, as Discord does."""
        interaction = self._interaction_for(m["token"], app_id=int(m["app"]))
        body = self._body(request)
        recorded = dict(body)
        if request.files:
            recorded["_files"] = [f.filename for f in request.files]
        self.followups.append(recorded)
        if not interaction.responded:
            raise _HTTPError(404, 10015, "Unknown Webhook")
        flags = int(body.get("flags") or 0)
        original = (
            self._message_index.get(interaction.original_message_id)
            if interaction.original_message_id is not None
            else None
        )
        if interaction.deferred_thinking and not interaction.first_followup_sent and original is not None:
            interaction.first_followup_sent = True
            self._apply_edit(original, {k: v for k, v in body.items() if k != "flags"})
            original["attachments"] = self._attachments(body, request.files)
            original["flags"] = int(original["flags"]) & ~_FLAG_LOADING
            original["edited_timestamp"] = None
            message = original
        else:
            message = self._message_object(
                interaction.channel_id,
                body,
                author=self.bot_user,
                files=request.files,
                extra=self._interaction_message_extra(interaction),
            )
            message["flags"] = flags
            self._store_message(message, public=False)
            interaction.message_ids.append(int(message["id"]))
        if not int(message["flags"]) & _FLAG_EPHEMERAL:
            await self._echo(message)
        if _truthy(request.query.get("wait")):
            return _json_response(message)
        return _no_content()

    def _webhook_message(self, interaction: _Interaction, mid: str) -> dict[str, Any]:
        message_id = interaction.original_message_id if mid == "@original" else int(mid)
        message = self._message_index.get(message_id) if message_id is not None else None
        if message is None:
            raise _HTTPError(404, 10008, "Unknown Message")
        return message

    async def _webhook_get_message(self, request: _Request, m: re.Match[str]) -> web.Response:
        interaction = self._interaction_for(m["token"], app_id=int(m["app"]))
        return _json_response(self._webhook_message(interaction, m["mid"]))

    async def _webhook_edit_message(self, request: _Request, m: re.Match[str]) -> web.Response:
        interaction = self._interaction_for(m["token"], app_id=int(m["app"]))
        body = self._body(request)
        recorded: dict[str, Any] = {**body, "_edit": True}
        if m["mid"] != "@original":
            recorded["_message_id"] = int(m["mid"])
        if request.files:
            recorded["_files"] = [f.filename for f in request.files]
        self.followups.append(recorded)
        message = self._webhook_message(interaction, m["mid"])
        was_loading = bool(int(message.get("flags") or 0) & _FLAG_LOADING)
        self._apply_edit(message, {k: v for k, v in body.items() if k != "flags"})
        if request.files:
            message["attachments"] = self._attachments(body, request.files)
        if was_loading:
            message["flags"] = int(message["flags"]) & ~_FLAG_LOADING
            interaction.first_followup_sent = True
        return _json_response(message)

    async def _webhook_delete_message(self, request: _Request, m: re.Match[str]) -> web.Response:
        interaction = self._interaction_for(m["token"], app_id=int(m["app"]))
        message = self._webhook_message(interaction, m["mid"])
        message["_deleted"] = True
        return _no_content()

    # ------------------------------------------------------------------ REST: channels and messages

    async def _get_channel(self, request: _Request, m: re.Match[str]) -> web.Response:
        return _json_response(self._require_channel(int(m["cid"])))

    async def _typing(self, request: _Request, m: re.Match[str]) -> web.Response:
        self._require_channel(int(m["cid"]))
        return _no_content()

    async def _list_messages(self, request: _Request, m: re.Match[str]) -> web.Response:
        channel_id = int(m["cid"])
        self._require_channel(channel_id)
        limit = int(request.query.get("limit", "50"))
        found = [
            msg
            for msg in self._message_index.values()
            if int(msg["channel_id"]) == channel_id
            and not msg.get("_deleted")
            and not int(msg.get("flags") or 0) & _FLAG_EPHEMERAL
        ]
        found.sort(key=lambda msg: int(msg["id"]), reverse=True)
        return _json_response(found[:limit])

    async def _create_message(self, request: _Request, m: re.Match[str]) -> web.Response:
        channel_id = int(m["cid"])
        channel = self._require_channel(channel_id)
        if channel["type"] in (4, 15, 16):
            raise _HTTPError(400, 50008, "Cannot send messages in a non-text channel")
        body = self._body(request)
        if not (
            body.get("content")
            or body.get("embeds")
            or request.files
            or body.get("components")
            or body.get("sticker_ids")
            or body.get("poll")
        ):
            raise _HTTPError(400, 50006, "Cannot send an empty message")
        if len(body.get("content") or "") > 2000:
            raise _HTTPError(400, 50035, "Invalid Form Body (content: Must be 2000 or fewer in length.)")
        if body.get("enforce_nonce") and body.get("nonce") is not None:
            # Discord: "checked for uniqueness in the past few minutes"; a repeat returns the first
            for earlier in self.messages.get(channel_id, []):
                if earlier.get("nonce") == body["nonce"] and int(earlier["author"]["id"]) == BOT_USER_ID:
                    return _json_response(earlier)
        message = self._message_object(channel_id, body, author=self.bot_user, files=request.files)
        self._store_message(message, public=True)
        channel["last_message_id"] = message["id"]
        if channel["type"] in (10, 11, 12):
            channel["message_count"] = channel.get("message_count", 0) + 1
            channel["total_message_sent"] = channel.get("total_message_sent", 0) + 1
        await self._echo(message)
        return _json_response(message)

    async def _get_message(self, request: _Request, m: re.Match[str]) -> web.Response:
        self._require_channel(int(m["cid"]))
        return _json_response(self._require_message(int(m["cid"]), int(m["mid"])))

    async def _edit_message(self, request: _Request, m: re.Match[str]) -> web.Response:
        message = self._require_message(int(m["cid"]), int(m["mid"]))
        if int(message["author"]["id"]) != BOT_USER_ID:
            raise _HTTPError(403, 50005, "Cannot edit a message authored by another user")
        self._apply_edit(message, self._body(request))
        return _json_response(message)

    async def _delete_message(self, request: _Request, m: re.Match[str]) -> web.Response:
        message = self._require_message(int(m["cid"]), int(m["mid"]))
        message["_deleted"] = True
        return _no_content()

    def _thread_object(
        self, thread_id: int, parent_id: int, body: dict[str, Any], *, thread_type: int
    ) -> dict[str, Any]:
        now = _now_iso()
        return {
            "id": str(thread_id),
            "type": thread_type,
            "guild_id": str(self._guild_of(self.channels[parent_id]) or GUILD_ID),
            "parent_id": str(parent_id),
            "owner_id": str(BOT_USER_ID),
            "name": body["name"],
            "last_message_id": None,
            "message_count": 0,
            "member_count": 1,
            "total_message_sent": 0,
            "rate_limit_per_user": body.get("rate_limit_per_user") or 0,
            "flags": 0,
            "applied_tags": [str(t) for t in body.get("applied_tags") or []],
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": body.get("auto_archive_duration") or 1440,
                "archive_timestamp": now,
                "locked": False,
                "invitable": body.get("invitable", True),
                "create_timestamp": now,
            },
        }

    async def _register_thread(self, thread: dict[str, Any]) -> None:
        self.threads.append(thread)
        self.channels[int(thread["id"])] = thread
        await self._dispatch(
            "THREAD_CREATE", {**thread, "newly_created": True}, guild_id=self._guild_of(thread)
        )

    @staticmethod
    def _require_thread_name(body: dict[str, Any]) -> None:
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            raise _HTTPError(400, 50035, "Invalid Form Body (name: Must be between 1 and 100 in length.)")

    async def _thread_from_message(self, request: _Request, m: re.Match[str]) -> web.Response:
        """Discord gives a thread started from a message the message's id."""
        channel_id, message_id = int(m["cid"]), int(m["mid"])
        channel = self._require_channel(channel_id)
        if channel["type"] not in (0, 5):
            raise _HTTPError(400, 50024, "Cannot execute action on this channel type")
        message = self._require_message(channel_id, message_id)
        body = self._body(request)
        self._require_thread_name(body)
        if message_id in self.channels:
            raise _HTTPError(400, 160004, "A thread has already been created for this message")
        thread = self._thread_object(
            message_id, channel_id, body, thread_type=11 if channel["type"] == 0 else 10
        )
        message["thread"] = thread
        message["flags"] = int(message.get("flags") or 0) | _FLAG_HAS_THREAD
        await self._register_thread(thread)
        return _json_response(thread)

    async def _thread_in_channel(self, request: _Request, m: re.Match[str]) -> web.Response:
        """Forum posts (body has ``message``) or threads without a starter message in text channels."""
        channel_id = int(m["cid"])
        channel = self._require_channel(channel_id)
        body = self._body(request)
        self._require_thread_name(body)
        thread_id = self._next_id()
        if channel["type"] in (15, 16):
            starter_body = body.get("message")
            if not isinstance(starter_body, dict):
                raise _HTTPError(400, 50035, "Invalid Form Body (message: This field is required)")
            known_tags = {t["id"] for t in channel["available_tags"]}
            unknown = [t for t in body.get("applied_tags") or [] if str(t) not in known_tags]
            if unknown:
                raise _HTTPError(400, 50035, f"Invalid Form Body (applied_tags: unknown tags {unknown})")
            thread = self._thread_object(thread_id, channel_id, body, thread_type=11)
            starter = self._message_object(
                thread_id, starter_body, author=self.bot_user, files=request.files, message_id=thread_id
            )
            starter["position"] = 0
            thread.update(last_message_id=starter["id"], message_count=1, total_message_sent=1)
            channel["last_message_id"] = str(thread_id)
            self._store_message(starter, public=True)
            await self._register_thread(thread)
            await self._echo(starter)
            return _json_response({**thread, "message": starter})
        if channel["type"] not in (0, 5):
            raise _HTTPError(400, 50024, "Cannot execute action on this channel type")
        thread_type = int(body.get("type") or 12)
        thread = self._thread_object(thread_id, channel_id, body, thread_type=thread_type)
        await self._register_thread(thread)
        return _json_response(thread)

    async def _add_thread_member(self, request: _Request, m: re.Match[str]) -> web.Response:
        """Only threads take members; a private thread's members are the only ones who see it."""
        thread = self._require_channel(int(m["cid"]))
        if thread["type"] not in (10, 11, 12):
            raise _HTTPError(400, 50024, "Cannot execute action on this channel type")
        if thread["thread_metadata"].get("archived"):
            raise _HTTPError(400, 50083, "Thread is archived")
        members = self.thread_members.setdefault(int(thread["id"]), [])
        user_id = int(m["uid"])
        self._ensure_user(user_id)
        if user_id not in members:
            members.append(user_id)
            thread["member_count"] = len(members) + 1
        return _no_content()

    async def _add_reaction(self, request: _Request, m: re.Match[str]) -> web.Response:
        channel_id, message_id = int(m["cid"]), int(m["mid"])
        message = self._require_message(channel_id, message_id)
        emoji = unquote(m["emoji"])
        self.reactions.append(
            {"channel_id": channel_id, "message_id": message_id, "emoji": emoji, "added": True}
        )
        reactions: list[dict[str, Any]] = message.setdefault("reactions", [])
        name, _, emoji_id = emoji.partition(":")
        existing = next((r for r in reactions if r["emoji"]["name"] == name), None)
        if existing is None:
            reactions.append(
                {
                    "emoji": {"id": emoji_id or None, "name": name},
                    "count": 1,
                    "count_details": {"burst": 0, "normal": 1},
                    "me": True,
                    "me_burst": False,
                    "burst_colors": [],
                }
            )
        elif not existing["me"]:
            existing["me"] = True
            existing["count"] += 1
        return _no_content()

    async def _remove_reaction(self, request: _Request, m: re.Match[str]) -> web.Response:
        channel_id, message_id = int(m["cid"]), int(m["mid"])
        message = self._require_message(channel_id, message_id)
        emoji = unquote(m["emoji"])
        self.reactions.append(
            {"channel_id": channel_id, "message_id": message_id, "emoji": emoji, "added": False}
        )
        name = emoji.partition(":")[0]
        for reaction in message.get("reactions", []):
            if reaction["emoji"]["name"] == name and reaction["me"]:
                reaction["me"] = False
                reaction["count"] -= 1
        message["reactions"] = [r for r in message.get("reactions", []) if r["count"] > 0]
        return _no_content()

    # ------------------------------------------------------------------ REST: users, DMs, guild

    async def _open_dm(self, request: _Request, m: re.Match[str]) -> web.Response:
        recipient = self._body(request).get("recipient_id")
        if recipient is None:
            raise _HTTPError(400, 50035, "Invalid Form Body (recipient_id: This field is required)")
        user_id = int(recipient)
        if user_id not in self.users:
            raise _HTTPError(400, 50033, "Invalid Recipient(s)")
        channel = self.dm_channels.get(user_id)
        if channel is None:
            channel = {
                "id": str(self._next_id()),
                "type": 1,
                "last_message_id": None,
                "flags": 0,
                "recipients": [self.users[user_id]],
            }
            self.dm_channels[user_id] = channel
            self.channels[int(channel["id"])] = channel
        return _json_response(channel)

    async def _get_user(self, request: _Request, m: re.Match[str]) -> web.Response:
        user_id = int(m["uid"])
        if user_id == BOT_USER_ID:
            return _json_response(self.bot_user)
        if user_id not in self.users:
            raise _HTTPError(404, 10013, "Unknown User")
        return _json_response(self.users[user_id])

    def _require_guild(self, guild: str) -> int:
        if int(guild) not in self.guilds:
            raise _HTTPError(404, 10004, "Unknown Guild")
        return int(guild)

    async def _get_guild(self, request: _Request, m: re.Match[str]) -> web.Response:
        return _json_response(self._guild_object(self._require_guild(m["guild"])))

    async def _get_guild_channels(self, request: _Request, m: re.Match[str]) -> web.Response:
        guild_id = self._require_guild(m["guild"])
        return _json_response(
            [
                c
                for c in self.channels.values()
                if self._guild_of(c) == guild_id and c["type"] in (0, 2, 4, 5, 15, 16)
            ]
        )

    async def _get_member(self, request: _Request, m: re.Match[str]) -> web.Response:
        guild_id = self._require_guild(m["guild"])
        user_id = int(m["uid"])
        if user_id != BOT_USER_ID and user_id not in self.users:
            raise _HTTPError(404, 10007, "Unknown Member")
        return _json_response(self._member_object(user_id, guild_id=guild_id))
