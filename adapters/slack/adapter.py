"""Slack: registers every core command with Bolt, acks at once, then works and answers via response_url.

Serves Socket Mode (app token) or HTTP mode (`/slack/events` on host:port, signatures checked by Bolt).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Mapping
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.calendar_feed import calendar_routes
from adapters.metrics import health_routes
from adapters.runtime import Runtime
from adapters.slack.port import SlackPort
from adapters.slack.render import action_name, form_values, form_view, reply_blocks
from bot.commands import CommandSpec
from bot.dispatch import CRASH_MESSAGE
from bot.events import (
    Actor,
    ButtonEvent,
    CommandEvent,
    Conversation,
    ConversationKind,
    FormSubmitEvent,
    MessageEvent,
    Platform,
    ReactionEvent,
)
from bot.i18n import Translator
from bot.port import FormErrors, Reply

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
WORKERS = 16  # commands worked on at once per process; acks never wait for them (real Slack calls take
# 100-300 ms each, so most of that time is waiting, not CPU)


def _bad_timestamp(request: Any) -> bool:
    """True when a Bolt request's X-Slack-Request-Timestamp is missing or not a whole number."""
    values = (getattr(request, "headers", None) or {}).get("x-slack-request-timestamp") or [""]
    return not re.fullmatch(r"-?[0-9]+", str(values[0]).strip())


class SlackAdapter:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        settings = runtime.config.slack
        self.settings = settings
        # One HTTP session for every Web API call and response_url post: without one, slack_sdk opens
        # a new session (and connection) per call, which was most of the CPU a command cost.
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        client = AsyncWebClient(token=settings.bot_token, base_url=settings.api_base_url, session=self.http)
        self.app = AsyncApp(
            client=client,
            signing_secret=settings.signing_secret or None,
            # Socket Mode has no signatures; HTTP mode must verify every request.
            request_verification_enabled=settings.mode == "http",
            raise_error_for_unhandled_request=False,
        )
        self.port = SlackPort(client)
        secret = settings.signing_secret
        self._verifier = SignatureVerifier(secret) if settings.mode == "http" and secret else None
        self._background: set[asyncio.Task[None]] = set()
        self._working = asyncio.Semaphore(WORKERS)
        runtime.attach(self.port)
        for spec in runtime.dispatcher.commands.values():
            self.app.command(f"/{spec.name}")(self._command_listener(spec))
        self.app.command(re.compile(r".*"))(self._on_unknown_command)  # last: only what nothing above took
        self.app.event("message")(self._on_message)
        self.app.event("reaction_added")(self._on_reaction)
        self.app.action(re.compile(r".+"))(self._on_action)
        self.app.view(re.compile(r".+"))(self._on_view)
        self.app.error(self._on_error)

    async def _first_time(self, kind: str, request_id: object) -> bool:
        """Slack retries what it thinks went unanswered, to any instance: the first one to claim the
        request's id in the shared ledger handles it; the others drop the copy (and log it). If the
        instance that claimed it died before answering, the claim is in doubt and the retry runs."""
        if not request_id:
            return True
        services = self.runtime.services
        if await services.deliveries.claim(f"slack.in:{request_id}", f"slack.{kind}", services.clock.now()):
            return True
        log.info("Slack %s %s arrived again (a retry); already handled", kind, request_id)
        return False

    async def _actor(self, user_id: str, fallback_name: str) -> Actor:
        info = await self.port.lookup_user(user_id)
        if info is None:
            return Actor(Platform.SLACK, user_id, fallback_name)
        return Actor(Platform.SLACK, user_id, info.display_name, info.locale, info.timezone)

    def _command_listener(self, spec: CommandSpec) -> Any:
        async def listener(ack: Any, command: dict[str, Any], respond: Any) -> None:
            await ack()  # within Slack's 3 s, before any database or API work
            async with self._working:  # the rest waits its turn, so acks stay quick under load
                await self._run_command(spec, command, self._responder(command.get("response_url"), respond))

        return listener

    async def _run_command(self, spec: CommandSpec, command: dict[str, Any], respond: Any) -> None:
        if not await self._first_time("command", command.get("trigger_id")):
            return  # a retry of a command an instance already has: it answers, once
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
        form = await self.runtime.dispatcher.form_for(event, self.port)
        if form is not None:
            metadata = {"channel": event.conversation.channel}
            await self.port.client.views_open(
                trigger_id=command["trigger_id"], view=form_view(form, metadata)
            )
            return
        reply = await self.runtime.dispatcher.command(event, self.port)
        await self._deliver(reply, respond, actor.user_id)

    def _responder(self, response_url: object, fallback: Any) -> Any:
        """Bolt's `respond`, but over the adapter's shared HTTP session."""
        if not isinstance(response_url, str) or not response_url:
            return fallback

        async def respond(**message: Any) -> None:
            await AsyncWebhookClient(url=response_url, session=self.http).send_dict(message)

        return respond

    async def close(self) -> None:
        await self.http.close()

    async def _deliver(self, reply: Reply, respond: Any, user_id: str, *, replace: bool = False) -> None:
        """Send a reply through response_url; an attachment goes to the user's DM (Slack has no
        ephemeral files)."""
        text = reply.text
        if reply.attachment is not None:
            opened = await self.port.client.conversations_open(users=[user_id])
            await self.port.client.files_upload_v2(
                channel=opened["channel"]["id"],
                content=reply.attachment.data,
                filename=reply.attachment.filename,
                title=reply.attachment.title or reply.attachment.filename,
            )
            note = Translator(self.runtime.config.bot.default_locale)
            text += "\n" + note.gettext("(I sent the file to you in a direct message.)")
        kwargs: dict[str, Any] = {
            "text": text,
            "response_type": "ephemeral" if reply.ephemeral else "in_channel",
        }
        blocks = reply_blocks(Reply(text, buttons=reply.buttons))
        if blocks is not None:
            kwargs["blocks"] = blocks
        if replace:
            kwargs["replace_original"] = True
        await respond(**kwargs)

    async def _on_unknown_command(self, ack: Any, command: dict[str, Any], respond: Any) -> None:
        """A slash command the app manifest has but this code does not (a manifest ahead of the
        deployed bot): the member hears so, and the operator gets a warning."""
        await ack()
        name = str(command.get("command", "")).lstrip("/")
        log.warning("Slack sent /%s, which this bot does not have (app manifest out of date?)", name[:80])
        actor = await self._actor(str(command.get("user_id", "")), str(command.get("user_name", "")))
        event = CommandEvent(
            actor=actor,
            conversation=Conversation(
                Platform.SLACK, str(command.get("team_id", "")), str(command.get("channel_id", ""))
            ),
            name=name,
            args={},
            event_id=str(command.get("trigger_id", "")),
            received_at=self.runtime.services.clock.now(),
        )
        reply = await self.runtime.dispatcher.command(event, self.port)
        await self._deliver(reply, self._responder(command.get("response_url"), respond), actor.user_id)

    async def _on_action(self, ack: Any, body: dict[str, Any], action: dict[str, Any], respond: Any) -> None:
        user = body.get("user") or {}
        if not isinstance(user, dict) or not user.get("id"):
            log.warning("Slack button %r pressed by no user: ignored", action.get("action_id"))
            await ack()
            return
        await ack()
        actor = await self._actor(str(user.get("id", "")), str(user.get("username", "")))
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
        event = ButtonEvent(
            actor=actor,
            conversation=Conversation(
                Platform.SLACK, str((body.get("team") or {}).get("id", "")), str(channel)
            ),
            action_id=action_name(str(action.get("action_id", ""))),
            value=str(action.get("value", "")),
            message_id=str((body.get("container") or {}).get("message_ts") or "") or None,
            event_id=str(body.get("trigger_id") or action.get("action_ts", "")),
            received_at=self.runtime.services.clock.now(),
        )
        reply = await self.runtime.dispatcher.button(event, self.port)
        if not body.get("response_url"):  # a button outside a message: the answer goes by DM
            log.warning("Slack button %s came without a response_url; answering by DM", event.action_id)
            await self.port.dm(actor.user_id, reply.text, reply.buttons)
            return
        respond = self._responder(body.get("response_url"), respond)
        await self._deliver(reply, respond, actor.user_id, replace=reply.replace)

    async def _on_view(self, ack: Any, body: dict[str, Any], view: dict[str, Any]) -> None:
        """A submitted modal: field errors stay in the modal; otherwise close it and tell the user."""
        user = body.get("user") or {}
        if not isinstance(user, dict) or not user.get("id"):
            log.warning("Slack form %r submitted by no user: closed, nothing saved", view.get("callback_id"))
            await ack()
            return
        actor = await self._actor(str(user.get("id", "")), str(user.get("username", "")))
        try:
            metadata = json.loads(view.get("private_metadata") or "{}")
        except json.JSONDecodeError:
            metadata = {}
        if not isinstance(metadata, dict):
            metadata = {}
        channel = str(metadata.get("channel", ""))
        event = FormSubmitEvent(
            actor=actor,
            conversation=Conversation(Platform.SLACK, str((body.get("team") or {}).get("id", "")), channel),
            form_id=str(view.get("callback_id", "")),
            values=form_values(view),
            context=str(metadata.get("context", "")),
            event_id=str(view.get("id", "")) + ":" + str(view.get("hash", "")),
            received_at=self.runtime.services.clock.now(),
        )
        result = await self.runtime.dispatcher.form_submit(event, self.port)
        if isinstance(result, FormErrors):
            await ack(response_action="errors", errors=result.errors)
            return
        await ack()
        try:
            await self.port.ephemeral(event.conversation, actor.user_id, result.text)
        except Exception:  # not in that channel: a DM always reaches them
            await self.port.dm(actor.user_id, result.text)

    async def _on_message(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        """Only human messages count; bots (including us) and edits are ignored."""
        if event.get("bot_id") or event.get("subtype") or not event.get("user"):
            return
        thread_ts = event.get("thread_ts")
        if thread_ts and not await self._first_time("event", body.get("event_id")):
            return  # Slack retried a thread message (an answer, a café note) an instance already took
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

    async def _on_reaction(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        item = event.get("item") or {}
        if item.get("type") != "message" or not event.get("user"):
            return
        actor = await self._actor(str(event["user"]), str(event["user"]))
        reaction = ReactionEvent(
            actor=actor,
            conversation=Conversation(
                Platform.SLACK, str(body.get("team_id", "")), str(item.get("channel", ""))
            ),
            message_id=str(item.get("ts", "")),
            emoji=str(event.get("reaction", "")),
            added=True,
            event_id=str(body.get("event_id", "")),
            received_at=self.runtime.services.clock.now(),
        )
        await self.runtime.dispatcher.reaction(reaction, self.port)

    async def _on_error(
        self, error: Exception, body: dict[str, Any], respond: Any = None, request: Any = None
    ) -> BoltResponse | None:
        """Last resort: log the traceback, tell the user plainly (never the traceback). A request whose
        timestamp header is not a number makes the signature check itself raise: it is a forged or
        broken request, refused with 401 like any other bad signature."""
        if self.settings.mode == "http" and isinstance(error, ValueError) and _bad_timestamp(request):
            log.warning("Slack request refused: its X-Slack-Request-Timestamp is not a number")
            return BoltResponse(status=401, body='{"error": "invalid request"}')
        log.error("Slack listener failed: %r", error, exc_info=error)
        if respond is not None and body.get("response_url"):
            t = Translator(self.runtime.config.bot.default_locale)
            await respond(
                text=t.gettext(CRASH_MESSAGE),
                response_type="ephemeral",
            )
        return None

    def _acks_early(self, body: str, headers: Mapping[str, str]) -> bool:
        """A correctly signed slash command is acked with an empty 200 at once, and Bolt runs it in
        the background. (Bolt would answer only once its listener's ack() is seen, which it checks
        every 10 ms; under load that polling was most of the ack time.) Anything else, including a
        bad signature, goes through Bolt as usual."""
        if "command=" not in body or "payload=" in body or self._verifier is None:
            return False
        try:
            return bool(self._verifier.is_valid_request(body, dict(headers)))
        except ValueError:  # a timestamp that is not a number: Bolt refuses it with 401
            return False

    def _in_background(self, work: Awaitable[Any]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("a Slack command failed after its ack")

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def web_app(self) -> web.Application:
        """HTTP mode: one route for commands, events and interactivity, as the manifest declares."""

        metrics = self.runtime.metrics

        async def handle(request: web.Request) -> web.StreamResponse:
            started = time.perf_counter()
            try:
                bolt_request = await to_bolt_request(request)
                if self._acks_early(bolt_request.raw_body, request.headers):
                    self._in_background(self.app.async_dispatch(bolt_request))
                    response: web.StreamResponse = web.Response(status=200)
                else:
                    response = await to_aiohttp_response(await self.app.async_dispatch(bolt_request))
            except UnicodeDecodeError:
                log.warning("Slack request refused: its body is not valid UTF-8")
                return web.Response(status=400, text="The request body is not valid UTF-8.")
            except (ValueError, KeyError, TypeError, AttributeError) as exc:  # Bolt could not parse it
                log.warning("Slack request refused: it could not be read (%s: %s)", type(exc).__name__, exc)
                return web.Response(status=400, text="The request could not be read.")
            metrics.ack("slack", time.perf_counter() - started)
            return response

        app = web.Application()
        app.router.add_post(EVENTS_PATH, handle)
        app.add_routes(calendar_routes(self.runtime))
        app.add_routes(health_routes(self.runtime))

        async def close_http(_app: web.Application) -> None:
            await self.close()

        app.on_cleanup.append(close_http)
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
                await self.close()
