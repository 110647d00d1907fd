"""The single entry point for every adapter and the scheduler.

It resolves the reader's language, checks permissions and options, runs the handler, and turns any
failure into a friendly reply: a traceback goes to the log, never to the chat.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Sequence
from contextvars import ContextVar
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot.commands import SUBCOMMAND, CommandSpec, Permission, all_actions, all_forms
from bot.context import Context, Services, UserError
from bot.events import Actor, ButtonEvent, CommandEvent, FormSubmitEvent, MessageEvent, ReactionEvent
from bot.handlers.ask import on_thread_message
from bot.i18n import N_, Translator, pick_locale
from bot.jobs import JOB_HANDLERS, JobFailed
from bot.port import ChatPort, Form, FormErrors, Reply
from bot.safety import storable

log = logging.getLogger(__name__)

MAX_INPUT_CHARS = 4000
RETRY_DELAYS_MINUTES = (1, 5, 15, 60)
R = TypeVar("R")
_CRASHED: ContextVar[bool] = ContextVar("iben_command_crashed", default=False)
CRASH_MESSAGE = N_(
    "Sorry, something went wrong on our side. It has been logged; please try again in a moment."
)


class Dispatcher:
    def __init__(self, services: Services, commands: Sequence[CommandSpec]) -> None:
        self.services = services
        self.commands = {c.name: c for c in commands}
        self.actions = {a.action: a for a in all_actions()}
        self.forms = {f.form_id: f for f in all_forms()}
        self.handled: Counter[str] = Counter()  # "command", "message", "job": for metrics and tests
        self._changed = asyncio.Condition()

    async def _count(self, kind: str) -> None:
        async with self._changed:
            self.handled[kind] += 1
            self._changed.notify_all()

    async def wait_handled(self, kind: str, count: int, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until `count` events of a kind were fully handled (tests; no polling, no sleeps)."""

        async def reached() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: self.handled[kind] >= count)

        try:
            await asyncio.wait_for(reached(), timeout)
        except TimeoutError:
            raise AssertionError(f"only {self.handled[kind]} of {count} {kind} events handled") from None

    def context(self, port: ChatPort, actor: Actor | None = None) -> Context:
        cfg = self.services.config.bot
        locale = pick_locale([actor.locale if actor else None], cfg.default_locale)
        tz = (actor.timezone if actor else None) or cfg.default_timezone
        return Context(self.services, port, Translator(locale), Translator(cfg.default_locale), tz)

    async def command(self, event: CommandEvent, port: ChatPort) -> Reply:
        """Run one command; always returns something to show the invoker."""
        started = time.perf_counter()
        token = _CRASHED.set(False)
        try:
            return await self._command(event, port)
        finally:
            outcome = "error" if _CRASHED.get() else "ok" if event.name in self.commands else "unknown"
            _CRASHED.reset(token)
            name = event.name if event.name in self.commands else "unknown"
            self.services.telemetry.command(
                event.actor.platform.value, name, outcome, time.perf_counter() - started
            )
            await self._count("command")

    async def _command(self, event: CommandEvent, port: ChatPort) -> Reply:
        ctx = self.context(port, event.actor)
        t = ctx.t
        spec = self.commands.get(event.name)
        if spec is None:
            return Reply(
                t.gettext("I don't know the command /{name}. Type /help to see what I can do.").format(
                    name=port.escape(event.name[:40])
                )
            )
        if not self._allowed(spec, event.actor):
            return Reply(t.gettext("Only network admins can use /{name}.").format(name=spec.name))
        too_long = [k for k, v in event.args.items() if isinstance(v, str) and len(v) > MAX_INPUT_CHARS]
        if too_long:
            return Reply(
                t.gettext(
                    "That is {count} characters; please keep it under {limit}. Nothing was posted."
                ).format(count=len(str(event.args[too_long[0]])), limit=MAX_INPUT_CHARS)
            )
        args = {k: storable(v) if isinstance(v, str) else v for k, v in event.args.items()}
        event = replace(event, args=args)  # no NUL or lone surrogate reaches a handler or the database
        if spec.subcommands and event.args.get(SUBCOMMAND) not in (None, *(s.name for s in spec.subcommands)):
            return Reply(t.gettext(spec.usage))
        required = spec.required_options(event.args)
        missing = [o.name for o in required if o.required and not str(event.args.get(o.name, "")).strip()]
        if missing:
            return Reply(t.gettext(spec.usage))
        return await self._guarded(
            None, f"command /{event.name} (event {event.event_id})", ctx, spec.handler(event, ctx)
        )

    def _allowed(self, spec: CommandSpec, actor: Actor) -> bool:
        return spec.permission is Permission.EVERYONE or self.services.config.is_admin(
            actor.platform, actor.user_id
        )

    async def form_for(self, event: CommandEvent, port: ChatPort) -> Form | None:
        """The modal this command opens, if any; the adapter shows it instead of running the command."""
        spec = self.commands.get(event.name)
        if spec is None or spec.form is None or not self._allowed(spec, event.actor):
            return None
        try:
            return await spec.form(event, self.context(port, event.actor))
        except Exception:
            log.exception("opening the form of /%s failed (event %s)", event.name, event.event_id)
            return None

    async def _guarded(self, kind: str | None, what: str, ctx: Context, run: Awaitable[R]) -> R | Reply:
        """Run a handler: a UserError is shown as is, anything else is logged and becomes a plain
        apology; never a traceback in chat."""
        try:
            return await run
        except UserError as exc:
            return Reply(exc.message)
        except Exception:
            log.exception("%s failed", what)
            _CRASHED.set(True)
            return Reply(ctx.t.gettext(CRASH_MESSAGE))
        finally:
            if kind is not None:
                await self._count(kind)

    async def button(self, event: ButtonEvent, port: ChatPort) -> Reply:
        """A pressed button; unknown or stale buttons get a plain explanation."""
        ctx = self.context(port, event.actor)
        spec = self.actions.get(event.action_id)
        if spec is None:
            await self._count("button")
            return Reply(ctx.t.gettext("This button is no longer active. Please run the command again."))
        what = f"button {event.action_id} (event {event.event_id})"
        return await self._guarded("button", what, ctx, spec.handler(event, ctx))

    async def form_submit(self, event: FormSubmitEvent, port: ChatPort) -> Reply | FormErrors:
        """A submitted modal: field errors go back to the form (nothing saved), else a reply."""
        ctx = self.context(port, event.actor)
        spec = self.forms.get(event.form_id)
        if spec is None:
            await self._count("form")
            return Reply(ctx.t.gettext("This form is no longer active. Please run the command again."))
        what = f"form {event.form_id} (event {event.event_id})"
        event = replace(event, values={k: storable(v) for k, v in event.values.items()})
        return await self._guarded("form", what, ctx, spec.handler(event, ctx))

    async def message(self, event: MessageEvent, port: ChatPort) -> None:
        """Messages matter inside threads: a café tablecloth's notes, or a Q&A question's answers."""
        from bot.cafe.engine import on_message as on_cafe_message

        event = replace(event, text=storable(event.text))  # PostgreSQL refuses NUL in kept notes
        try:
            ctx = self.context(port, event.actor)
            if not await on_cafe_message(event, ctx):
                await on_thread_message(event, ctx)
        except Exception:
            log.exception("message handling failed (event %s)", event.event_id)
        finally:
            await self._count("message")

    async def reaction(self, event: ReactionEvent, port: ChatPort) -> None:
        """Reactions matter when the asker's ✅ marks an answer as the solution."""
        from bot.handlers.solved import on_reaction

        ctx = self.context(port, event.actor)
        try:
            await on_reaction(event, ctx)
        except UserError as exc:
            log.info("reaction %s not applied: %s", event.event_id, exc.message)
        except Exception:
            log.exception("reaction handling failed (event %s)", event.event_id)
        finally:
            await self._count("reaction")

    async def run_job(self, kind: str, key: str, payload: dict[str, Any], scheduled_for: datetime) -> None:
        """Scheduled work: same services as commands; a failed send is retried, never dropped."""
        lag = (self.services.clock.now() - scheduled_for).total_seconds()
        outcome = "error"
        try:
            await self._run_job(kind, key, payload, scheduled_for)
            outcome = "ok"
        finally:
            self.services.telemetry.job(kind, lag, outcome)
            await self._count("job")

    async def _run_job(self, kind: str, key: str, payload: dict[str, Any], scheduled_for: datetime) -> None:
        handler = JOB_HANDLERS.get(kind)
        if handler is None:
            log.error("unknown scheduled job kind %r (key %s): skipped", kind, key)
            return
        port = self.services.ports.get(str(payload.get("platform", "")))
        try:
            if port is None:
                raise JobFailed(f"no adapter running for platform {payload.get('platform')!r}")
            await handler(self.context(port), payload, scheduled_for)
        except Exception as exc:
            attempt = int(payload.get("_attempt", 0))
            if attempt >= len(RETRY_DELAYS_MINUTES):
                log.error("scheduled job %s (%s) failed %d times, giving up: %s", key, kind, attempt + 1, exc)
                return
            delay = RETRY_DELAYS_MINUTES[attempt]
            log.warning("scheduled job %s (%s) failed, retrying in %d min: %s", key, kind, delay, exc)
            await self.services.scheduler.schedule(
                key=key,
                kind=kind,
                run_at=self.services.clock.now() + timedelta(minutes=delay),
                payload={**payload, "_attempt": attempt + 1},
            )
