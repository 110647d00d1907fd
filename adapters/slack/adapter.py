"""Slack: registers every core command with Bolt, acks at once, then works and answers via response_url.

Serves Socket Mode (app token) or HTTP mode (`/slack/events` on host:port, signatures checked by Bolt).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.runtime import Runtime
from adapters.slack.port import SlackPort
from bot.commands import CommandSpec
from bot.dispatch import CRASH_MESSAGE
from bot.events import Actor, CommandEvent, Conversation, ConversationKind, MessageEvent, Platform
from bot.i18n import Translator

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class SlackAdapter:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.config.slack
        self.settings = settings
        client = AsyncWebClient(token=settings.bot_token, base_url=settings.api_base_url)
        self.app = AsyncApp(
            client=client,
            signing_secret=settings.signing_secret or None,
            # Socket Mode has no signatures; HTTP mode must verify every request.
            request_verification_enabled=settings.mode == "http",
            raise_error_for_unhandled_request=False,
        )
        self.port = SlackPort(client)
        runtime.attach(self.port)
        for spec in runtime.dispatcher.commands.values():
            self.app.command(f"/{spec.name}")(self._command_listener(spec))
        self.app.event("message")(self._on_message)
        self.app.error(self._on_error)

    async def _actor(self, user_id: str, fallback_name: str) -> Actor:
        info = await self.port.lookup_user(user_id)
        if info is None:
            return Actor(Platform.SLACK, user_id, fallback_name)
        return Actor(Platform.SLACK, user_id, info.display_name, info.locale, info.timezone)

    def _command_listener(self, spec: CommandSpec) -> Any:
        async def listener(ack: Any, command: dict[str, Any], respond: Any) -> None:
            await ack()  # within Slack's 3 s, before any database or API work
            actor = await self._actor(str(command.get("user_id", "")), str(command.get("user_name", "")))
            event = CommandEvent(
                actor=actor,
                conversation=Conversation(
                    Platform.SLACK, str(command.get("team_id", "")), str(command.get("channel_id", ""))
                ),
                name=spec.name,
                args=spec.args_from_text(str(command.get("text", ""))),
                event_id=str(command.get("trigger_id") or f"{command.get('user_id')}:{command.get('text')}"),
                received_at=self.runtime.services.clock.now(),
            )
            reply = await self.runtime.dispatcher.command(event, self.port)
            await respond(text=reply.text, response_type="ephemeral" if reply.ephemeral else "in_channel")

        return listener

    async def _on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """Only human messages count; bots (including us) and edits are ignored."""
        if event.get("bot_id") or event.get("subtype") or not event.get("user"):
            return
        thread_ts = event.get("thread_ts")
        actor = await self._actor(str(event["user"]), str(event["user"]))
        message = MessageEvent(
            actor=actor,
            conversation=Conversation(
                Platform.SLACK,
                str(body.get("team_id", "")),
                str(event.get("channel", "")),
                str(thread_ts) if thread_ts else None,
                ConversationKind.THREAD if thread_ts else ConversationKind.CHANNEL,
            ),
            text=str(event.get("text", "")),
            message_id=str(event.get("ts", "")),
            event_id=str(body.get("event_id", event.get("ts", ""))),
            received_at=self.runtime.services.clock.now(),
        )
        await self.runtime.dispatcher.message(message, self.port)

    async def _on_error(self, error: Exception, body: dict[str, Any], respond: Any = None) -> None:
        """Last resort: log the traceback, tell the user plainly (never the traceback)."""
        log.error("Slack listener failed: %r", error, exc_info=error)
        if respond is not None and body.get("response_url"):
            t = Translator(self.runtime.config.bot.default_locale)
            await respond(
                text=t.gettext(CRASH_MESSAGE),
                response_type="ephemeral",
            )

    def web_app(self) -> web.Application:
        """HTTP mode: one route for commands, events and interactivity, as the manifest declares."""

        async def handle(request: web.Request) -> web.StreamResponse:
            return await to_aiohttp_response(await self.app.async_dispatch(await to_bolt_request(request)))

        app = web.Application()
        app.router.add_post(EVENTS_PATH, handle)
        return app

    async def start_http(self, host: str, port: int) -> tuple[web.AppRunner, int]:
        """Bind the HTTP endpoint; port 0 picks a free one (tests). Returns the runner and the port."""
        runner = web.AppRunner(self.web_app())
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        bound = sockets[0].getsockname()[1] if sockets else port
        return runner, int(bound)

    async def serve_forever(self) -> None:
        if self.settings.mode == "http":
            runner, port = await self.start_http(self.settings.host, self.settings.port)
            log.info("Slack HTTP mode on http://%s:%d%s", self.settings.host, port, EVENTS_PATH)
            try:
                await asyncio.Event().wait()
            finally:
                await runner.cleanup()
        else:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            handler = AsyncSocketModeHandler(self.app, self.settings.app_token)
            log.info("Slack Socket Mode connecting")
            try:
                await handler.start_async()  # type: ignore[no-untyped-call]
            finally:
                await handler.close_async()  # type: ignore[no-untyped-call]
