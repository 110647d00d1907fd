"""In-process fake of the Slack Web API and of response_url endpoints.

Tests point the real ``slack_sdk`` clients at this server (``AsyncWebClient(base_url=fake.base_url)``)
so the bot's HTTP behaviour is exercised end to end without the internet, and every call is
recorded for assertions.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import WSMsgType, web

from tests.fakes.server import LocalServer

__all__ = ["FakeSlackAPI", "SlackCall"]

# Params that Slack accepts as JSON strings in form-encoded bodies; decoded so tests can assert on
# structure regardless of how the client chose to encode them.
_JSON_STRING_PARAMS = ("blocks", "attachments", "view", "metadata")

_BOT_ID = "B0001"
_TS_BASE_SECONDS = 1_700_000_000

_Handler = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class SlackCall:
    """One recorded Web API request, as the fake understood it."""

    method: str
    params: dict[str, Any]
    token: str | None


def _truthy(value: Any) -> bool:
    """Slack booleans arrive as ``True``, ``"1"`` (slack_sdk GET params) or ``"true"``."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes"}
    return bool(value)


def _decode_json_strings(params: dict[str, Any]) -> None:
    for key in _JSON_STRING_PARAMS:
        value = params.get(key)
        if isinstance(value, str):
            # Malformed values stay as sent so a failing assertion shows them.
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)


def _tz_offset_seconds(tz: str) -> int:
    """Current UTC offset, as Slack reports it (so it shifts with DST like the real API)."""
    offset = datetime.now(ZoneInfo(tz)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


class FakeSlackAPI(LocalServer):
    """aiohttp server mimicking the Slack Web API methods the bot uses.

    Unknown methods answer ``unknown_method`` (and are still recorded) so a test notices when the
    bot starts calling something the fake does not model.
    """

    def __init__(self, *, bot_user_id: str = "UBOT", team_id: str = "T0001") -> None:
        self.bot_user_id = bot_user_id
        self.team_id = team_id
        self.calls: list[SlackCall] = []
        self.responses: list[dict[str, Any]] = []
        self.users: dict[str, dict[str, Any]] = {}
        self.channels: dict[str, dict[str, Any]] = {}
        self.messages: list[dict[str, Any]] = []
        """Messages posted via chat.postMessage (with their ``channel``), updated by chat.update."""
        self.uploads: dict[str, dict[str, Any]] = {}
        """files_upload_v2: file id → {"filename", "data", "title", "channel"} once completed."""
        self.socket_acks: list[dict[str, Any]] = []
        """Socket Mode: every frame the bot sent back (acks carry the envelope_id)."""
        self._sockets: list[web.WebSocketResponse] = []
        self._envelopes = 0
        self._failures: defaultdict[str, deque[str]] = defaultdict(deque)
        self._changed = asyncio.Condition()
        self._ts_counter = 0
        self._view_counter = 0
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._handlers: dict[str, _Handler] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.update": self._chat_update,
            "reactions.add": lambda _params: {},
            "views.open": self._views,
            "views.update": self._views,
            "views.publish": self._views,
            "users.info": self._users_info,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "apps.connections.open": lambda _params: {"url": f"ws://127.0.0.1:{self._port}/socket"},
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Bind an ephemeral port on loopback so parallel tests never collide."""
        if self._runner is not None:
            raise RuntimeError("FakeSlackAPI already started")
        app = web.Application()
        app.router.add_route("GET", "/api/{method}", self._handle_api)
        app.router.add_route("POST", "/api/{method}", self._handle_api)
        app.router.add_route("POST", "/response/{url_id}", self._handle_response_url)
        app.router.add_route("GET", "/socket", self._handle_socket)
        app.router.add_route("POST", "/upload/{file_id}", self._handle_upload)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None
        self._port = None

    @property
    def _origin(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeSlackAPI is not started; use `async with FakeSlackAPI()` or start()")
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """Trailing slash matters: slack_sdk joins method names with ``urljoin``."""
        return f"{self._origin}/api/"

    # ------------------------------------------------------------------ test helpers

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        tz: str = "UTC",
        locale: str = "en-US",
        email: str | None = None,
    ) -> None:
        profile: dict[str, Any] = {
            "display_name": name,
            "display_name_normalized": name,
            "real_name": name,
            "real_name_normalized": name,
        }
        if email is not None:
            profile["email"] = email
        self.users[user_id] = {
            "id": user_id,
            "team_id": self.team_id,
            "name": name,
            "real_name": name,
            "deleted": False,
            "is_bot": False,
            "tz": tz,
            "tz_offset": _tz_offset_seconds(tz),
            "locale": locale,
            "profile": profile,
        }

    def response_url(self, url_id: str) -> str:
        return f"{self._origin}/response/{url_id}"

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [call.params for call in self.calls if call.method == method]

    def fail_next(self, method: str, error: str) -> None:
        """Queue a Slack-style failure (HTTP 200, ``ok: false``) for the next call to ``method``."""
        self._failures[method].append(error)

    # A timeout argument (ASYNC109) keeps call sites one-liners; it is implemented with asyncio.timeout.
    async def wait_for_calls(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        """Wait until ``method`` was called at least ``count`` times; return all its calls so far.

        Needed because bolt acks first and runs listeners concurrently, so the test cannot know
        when the bot's follow-up API calls land.
        """
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: len(self.calls_to(method)) >= count)
        except TimeoutError:
            seen = self.calls_to(method)
            raise AssertionError(
                f"expected {count} call(s) to {method} within {timeout}s, got {len(seen)}: {seen!r}; "
                f"all methods called: {[call.method for call in self.calls]!r}"
            ) from None
        return self.calls_to(method)

    async def wait_for_responses(
        self,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` bodies were POSTed to response_url endpoints; return all of them."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: len(self.responses) >= count)
        except TimeoutError:
            raise AssertionError(
                f"expected {count} response_url POST(s) within {timeout}s, got {len(self.responses)}: "
                f"{self.responses!r}"
            ) from None
        return list(self.responses)

    # ------------------------------------------------------------------ files (upload v2)

    def _files_get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = f"F{len(self.uploads) + 1:04d}"
        self.uploads[file_id] = {"filename": params.get("filename"), "data": b"", "channel": None}
        return {"upload_url": f"{self._origin}/upload/{file_id}", "file_id": file_id}

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        if file_id not in self.uploads:
            return web.Response(status=404, text="no such upload")
        self.uploads[file_id]["data"] = await request.read()
        return web.Response(text="OK - " + str(len(self.uploads[file_id]["data"])))

    def _files_complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files") or []
        if isinstance(files, str):
            files = json.loads(files)
        done = []
        for item in files:
            upload = self.uploads.get(str(item.get("id")))
            if upload is None:
                return {"ok": False, "error": "file_not_found"}
            upload["title"] = item.get("title")
            upload["channel"] = params.get("channel_id")
            done.append({"id": item.get("id"), "title": item.get("title"), "name": upload["filename"]})
        return {"files": done}

    # ------------------------------------------------------------------ Socket Mode

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode as Slack runs it: hello, then envelopes out and acks (with envelope_id) back."""
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0001"}}
        )
        await self._notify()
        try:
            async for frame in socket:
                if frame.type == WSMsgType.TEXT:
                    self.socket_acks.append(json.loads(frame.data))
                    await self._notify()
        finally:
            self._sockets.remove(socket)
            await self._notify()
        return socket

    async def wait_for_socket(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until the bot has opened its Socket Mode connection."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: bool(self._sockets))
        except TimeoutError:
            raise AssertionError(f"no Socket Mode connection within {timeout}s") from None

    async def socket_send(self, envelope_type: str, payload: dict[str, Any]) -> str:
        """Push one envelope (slash_commands, events_api, interactive) to the connected bot."""
        self._envelopes += 1
        envelope_id = f"env-{self._envelopes}"
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": envelope_type,
                "payload": payload,
                "accepts_response_payload": envelope_type != "events_api",
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        return envelope_id

    async def wait_for_socket_acks(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:  # noqa: ASYNC109
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: len(self.socket_acks) >= count)
        except TimeoutError:
            raise AssertionError(f"expected {count} Socket Mode ack(s), got {self.socket_acks!r}") from None
        return list(self.socket_acks)

    # ------------------------------------------------------------------ HTTP plumbing

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    params.update(body)
            else:
                form = await request.post()
                for key, value in form.items():
                    params[key] = value.file.read() if isinstance(value, web.FileField) else value
        _decode_json_strings(params)

        token: str | None = None
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            token = auth.removeprefix("Bearer ")
            params.pop("token", None)
        elif "token" in params:
            token = str(params.pop("token"))

        self.calls.append(SlackCall(method=method, params=params, token=token))
        result = self._dispatch(method, params)
        await self._notify()
        return web.json_response(result)

    def _dispatch(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        failures = self._failures.get(method)
        if failures:
            return {"ok": False, "error": failures.popleft()}
        handler = self._handlers.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method"}
        result = handler(params)
        return result if "ok" in result else {"ok": True, **result}

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        text = await request.text()
        try:
            decoded = json.loads(text)
        except ValueError:
            decoded = None
        body: dict[str, Any] = dict(decoded) if isinstance(decoded, dict) else {"_raw": text}
        body["_url_id"] = request.match_info["url_id"]
        self.responses.append(body)
        await self._notify()
        # Slack answers response_url posts with a bare "ok"; AsyncWebhookClient expects exactly that.
        return web.Response(text="ok", content_type="text/plain")

    # ------------------------------------------------------------------ method handlers

    def _next_ts(self) -> str:
        self._ts_counter += 1
        seconds, fraction = divmod(self._ts_counter * 100, 1_000_000)
        return f"{_TS_BASE_SECONDS + seconds}.{fraction:06d}"

    def _auth_test(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://fake.slack.com/",
            "team": "Fake",
            "user": "iben",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": _BOT_ID,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        message: dict[str, Any] = {
            "type": "message",
            "text": params.get("text", ""),
            "ts": ts,
            "user": self.bot_user_id,
            "bot_id": _BOT_ID,
        }
        if params.get("thread_ts") is not None:
            message["thread_ts"] = str(params["thread_ts"])
        for key in ("blocks", "attachments", "metadata"):
            if key in params:
                message[key] = params[key]
        channel = params.get("channel")
        self.messages.append({**message, "channel": channel})
        return {"channel": channel, "ts": ts, "message": message}

    def _chat_post_ephemeral(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {"message_ts": self._next_ts()}

    def _chat_get_permalink(self, params: dict[str, Any]) -> dict[str, Any]:
        # Answers for any ts, not only stored ones: the bot may link to users' messages that only
        # exist in event payloads the test injected.
        channel = str(params.get("channel", ""))
        ts = str(params.get("message_ts", ""))
        return {
            "channel": channel,
            "permalink": f"https://fake.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel, ts = params.get("channel"), params.get("ts")
        for message in self.messages:
            if message["channel"] == channel and message["ts"] == ts:
                for key in ("text", "blocks", "attachments"):
                    if key in params:
                        message[key] = params[key]
        return {"channel": channel, "ts": ts, "text": params.get("text", "")}

    def _views(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        view_dict: dict[str, Any] = dict(view) if isinstance(view, dict) else {}
        view_id = params.get("view_id")
        if view_id is None:
            self._view_counter += 1
            view_id = f"V{self._view_counter:04d}"
        return {"view": {**view_dict, "id": view_id, "team_id": self.team_id}}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user", "")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        served = json.loads(json.dumps(user))  # deep copy so callers cannot mutate the fixture
        if not _truthy(params.get("include_locale", False)):
            served.pop("locale", None)
        return {"user": served}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("channel"):
            return {"channel": {"id": params["channel"]}}
        users = params.get("users", "")
        user_ids = users if isinstance(users, list) else str(users).split(",")
        people = sorted(u.strip() for u in user_ids if u.strip())
        digest = hashlib.sha256(",".join(people).encode()).hexdigest()[:10].upper()
        return {"channel": {"id": f"{'G' if len(people) > 1 else 'D'}{digest}"}}  # G: a group DM (mpim)

    def _history(self, params: dict[str, Any], keep: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """Newest first, like Slack; metadata only with include_all_metadata."""
        limit = int(params.get("limit") or 100)
        channel = str(params.get("channel", ""))
        found = [m for m in reversed(self.messages) if m.get("channel") == channel and keep(m)][:limit]
        with_metadata = _truthy(params.get("include_all_metadata", False))
        messages = [
            {k: v for k, v in m.items() if k != "channel" and (with_metadata or k != "metadata")}
            for m in found
        ]
        return {"messages": messages, "has_more": False}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._history(params, lambda m: "thread_ts" not in m or m["thread_ts"] == m["ts"])

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        ts = str(params.get("ts", ""))
        return self._history(params, lambda m: m["ts"] == ts or m.get("thread_ts") == ts)

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(params.get("channel", ""))
        if channel_id in self.channels:
            return {"channel": self.channels[channel_id]}
        if channel_id.startswith("D"):
            return {"channel": {"id": channel_id, "is_channel": False, "is_im": True}}
        return {"channel": {"id": channel_id, "name": f"channel-{channel_id.lower()}", "is_channel": True}}
