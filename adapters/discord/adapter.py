"""Discord: every core command becomes an application command; interactions are deferred at once
(Discord's 3 s) and answered with a follow-up; thread replies feed the core as messages."""

from __future__ import annotations

import asyncio
import inspect
import io
import logging
import time
from typing import Any, cast

import discord
from discord import app_commands

from adapters.discord.endpoints import point_at
from adapters.discord.port import CUSTOM_ID_PREFIX, NO_PINGS, DiscordPort, button_view, split_message
from adapters.runtime import Runtime
from bot.commands import SUBCOMMAND, CommandSpec, OptionSpec, OptionType
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
from bot.i18n import Translator, normalize_locale
from bot.port import Form, FormErrors, Reply

log = logging.getLogger(__name__)

_PYTHON_TYPES: dict[OptionType, type] = {
    OptionType.STRING: str,
    OptionType.INTEGER: int,
    OptionType.BOOLEAN: bool,
}
_LOCALIZED = (
    app_commands.TranslationContextLocation.command_description,
    app_commands.TranslationContextLocation.parameter_description,
)


class CatalogTranslator(app_commands.Translator):
    """Command and option descriptions in French and Spanish from the same catalogs (names stay)."""

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContext[Any, Any],
    ) -> str | None:
        lang = normalize_locale(locale.value, "")
        if lang in ("", "en") or context.location not in _LOCALIZED:
            return None
        translated = Translator(lang).gettext(string.message)
        return translated[:100] if translated != string.message else None


def _actor(interaction_user: discord.abc.User, locale: discord.Locale | None) -> Actor:
    return Actor(
        Platform.DISCORD,
        str(interaction_user.id),
        getattr(interaction_user, "display_name", None) or interaction_user.name,
        locale.value if locale else None,
        None,
    )


def _log_mistyped(spec: CommandSpec, options: dict[str, Any]) -> None:
    """Discord checks option types against the synced definition; a value of another type means the
    synced commands are stale. The core still answers it (it reads every value as text if need be);
    the warning tells the operator to sync."""
    sub = next((s for s in spec.subcommands if s.name == options.get(SUBCOMMAND)), None)
    for option in sub.options if sub else spec.options:
        value = options.get(option.name)
        expected = _PYTHON_TYPES[option.type]
        if value is not None and (type(value) is not expected):
            log.warning(
                "Discord sent /%s option %s as %s, not %s (commands out of sync?)",
                spec.name,
                option.name,
                type(value).__name__,
                option.type.value,
            )


class DiscordAdapter:
    def __init__(self, runtime: Runtime, *, guild_ready_timeout: float = 2.0) -> None:
        self.runtime = runtime
        self.settings = runtime.config.discord
        point_at(self.settings.api_base_url, self.settings.gateway_url)
        intents = discord.Intents.default()
        # Café notes are the text people write in tablecloth threads (and Q&A answers are kept with
        # their text): the privileged Message Content intent, enabled in the Developer Portal.
        intents.message_content = True
        if self.settings.shard_count:
            # Discord sends a guild's events to shard (guild_id >> 22) % shard_count; this process
            # opens one gateway connection per shard it holds (several processes share the database).
            self.client: discord.Client = discord.AutoShardedClient(
                intents=intents,
                allowed_mentions=NO_PINGS,
                guild_ready_timeout=guild_ready_timeout,
                shard_count=self.settings.shard_count,
                shard_ids=list(self.shards or ()),  # all of them when shard_ids is empty
            )
        else:
            self.client = discord.Client(
                intents=intents, allowed_mentions=NO_PINGS, guild_ready_timeout=guild_ready_timeout
            )
        log.info("Discord: %s", self.shards_text())
        self.tree = app_commands.CommandTree(self.client)
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        self.tree.interaction_check = self._readable  # type: ignore[method-assign]
        self.port = DiscordPort(self.client)
        runtime.attach(self.port)
        for spec in runtime.dispatcher.commands.values():
            self.tree.add_command(self._command(spec))
        self.client.setup_hook = self._setup_hook  # type: ignore[method-assign]
        self.client.event(self.on_message)
        self.client.event(self.on_interaction)
        self.client.event(self.on_raw_reaction_add)
        self.ready = asyncio.Event()
        self.client.event(self.on_ready)
        self._connection: asyncio.Task[None] | None = None

    def _command(self, spec: CommandSpec) -> app_commands.Command[Any, Any, None] | app_commands.Group:
        """An application command (or a group of sub-commands) mirroring the spec."""
        if not spec.subcommands:
            return self._leaf(spec, spec.name, spec.description, spec.options, {})
        group = app_commands.Group(name=spec.name, description=app_commands.locale_str(spec.description))
        for sub in spec.subcommands:
            group.add_command(
                self._leaf(spec, sub.name, sub.description, sub.options, {SUBCOMMAND: sub.name})
            )
        return group

    def _leaf(
        self,
        spec: CommandSpec,
        name: str,
        description: str,
        option_specs: tuple[OptionSpec, ...],
        fixed: dict[str, Any],
    ) -> app_commands.Command[Any, Any, None]:
        """One command whose typed parameters mirror the options."""

        async def callback(interaction: discord.Interaction, /, **options: Any) -> None:
            await self._handle(spec, interaction, {**fixed, **options})

        params = [
            inspect.Parameter(
                "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
            )
        ]
        for option in option_specs:
            annotation: Any = _PYTHON_TYPES[option.type]
            if option.type is OptionType.STRING and option.max_length:
                annotation = app_commands.Range[str, None, option.max_length]
            params.append(
                inspect.Parameter(
                    option.name,
                    inspect.Parameter.POSITIONAL_OR_KEYWORD,
                    annotation=annotation if option.required else annotation | None,
                    default=inspect.Parameter.empty if option.required else None,
                )
            )
        callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        callback.__discord_app_commands_param_description__ = {  # type: ignore[attr-defined]
            o.name: app_commands.locale_str(o.description) for o in option_specs
        }
        return app_commands.Command(
            name=name, description=app_commands.locale_str(description), callback=callback
        )

    async def _handle(
        self, spec: CommandSpec, interaction: discord.Interaction, options: dict[str, Any]
    ) -> None:
        started = time.perf_counter()
        _log_mistyped(spec, options)
        event = CommandEvent(
            actor=_actor(interaction.user, interaction.locale),
            conversation=Conversation(
                Platform.DISCORD, str(interaction.guild_id or ""), str(interaction.channel_id or "")
            ),
            name=spec.name,
            args={k: v for k, v in options.items() if v is not None},
            event_id=str(interaction.id),
            received_at=self.runtime.services.clock.now(),
        )
        if spec.form is not None:  # a modal must be the first response: it cannot follow a defer
            form = await self.runtime.dispatcher.form_for(event, self.port)
            if form is not None:
                await interaction.response.send_modal(self._modal(form))
                return
        await interaction.response.defer(ephemeral=True, thinking=True)  # within Discord's 3 s
        self.runtime.metrics.ack("discord", time.perf_counter() - started)
        reply = await self.runtime.dispatcher.command(event, self.port)
        await self._send(interaction, reply)

    async def _send(self, interaction: discord.Interaction, reply: Reply) -> None:
        """Follow-ups (split at 2,000 characters); buttons and the attachment go on the last one."""
        chunks = split_message(reply.text)
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            kwargs: dict[str, Any] = {"ephemeral": reply.ephemeral, "allowed_mentions": NO_PINGS}
            view = button_view(reply.buttons) if last and reply.buttons else None
            if view is not None:
                kwargs["view"] = view
            if last and reply.attachment is not None:
                kwargs["file"] = discord.File(
                    io.BytesIO(reply.attachment.data), filename=reply.attachment.filename
                )
            await interaction.followup.send(chunk, **kwargs)
            if view is not None:
                view.stop()  # clicks are handled statelessly in on_interaction, even after a restart

    def _modal(self, form: Form) -> discord.ui.Modal:
        adapter = self

        class FormModal(discord.ui.Modal):
            async def on_submit(self, interaction: discord.Interaction) -> None:
                values = {c.custom_id: c.value for c in self.children if isinstance(c, discord.ui.TextInput)}
                await adapter._submit(form, interaction, values)

        modal = FormModal(title=form.title[:45], custom_id=f"{CUSTOM_ID_PREFIX}form:{form.form_id}"[:100])
        for field in form.fields:
            modal.add_item(
                discord.ui.TextInput(
                    label=field.label[:45],
                    custom_id=field.name,
                    default=field.value[:4000] or None,
                    placeholder=field.placeholder[:100] or None,
                    style=discord.TextStyle.paragraph if field.multiline else discord.TextStyle.short,
                    required=field.required,
                    max_length=min(field.max_length, 4000),
                )
            )
        return modal

    async def _submit(self, form: Form, interaction: discord.Interaction, values: dict[str, str]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        event = FormSubmitEvent(
            actor=_actor(interaction.user, interaction.locale),
            conversation=Conversation(
                Platform.DISCORD, str(interaction.guild_id or ""), str(interaction.channel_id or "")
            ),
            form_id=form.form_id,
            values=values,
            context=form.context,
            event_id=str(interaction.id),
            received_at=self.runtime.services.clock.now(),
        )
        result = await self.runtime.dispatcher.form_submit(event, self.port)
        if isinstance(result, FormErrors):  # Discord modals cannot show field errors: list them
            t = Translator(normalize_locale(interaction.locale.value))
            lines = [t.gettext("Nothing was saved:")] + [f"• {k}: {v}" for k, v in result.errors.items()]
            result = Reply("\n".join(lines))
        await self._send(interaction, result)

    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        """Raw, so reactions on messages sent before a restart (not cached) still count."""
        if self.client.user is not None and payload.user_id == self.client.user.id:
            return
        member = payload.member
        name = member.display_name if member is not None else str(payload.user_id)
        event = ReactionEvent(
            actor=Actor(Platform.DISCORD, str(payload.user_id), name),
            conversation=Conversation(Platform.DISCORD, str(payload.guild_id or ""), str(payload.channel_id)),
            message_id=str(payload.message_id),
            emoji=str(payload.emoji),
            added=True,
            event_id=f"{payload.message_id}:{payload.user_id}:{payload.emoji}",
            received_at=self.runtime.services.clock.now(),
        )
        await self.runtime.dispatcher.reaction(event, self.port)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Button presses on our messages (custom ids `iben:<action>:<value>`)."""
        if interaction.type is not discord.InteractionType.component:
            return
        data = cast(dict[str, Any], interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if not custom_id.startswith(CUSTOM_ID_PREFIX):
            return
        action, _, value = custom_id.removeprefix(CUSTOM_ID_PREFIX).partition(":")
        await interaction.response.defer()  # an update of the message the button is on
        event = ButtonEvent(
            actor=_actor(interaction.user, interaction.locale),
            conversation=Conversation(
                Platform.DISCORD, str(interaction.guild_id or ""), str(interaction.channel_id or "")
            ),
            action_id=action,
            value=value,
            message_id=str(interaction.message.id) if interaction.message else None,
            event_id=str(interaction.id),
            received_at=self.runtime.services.clock.now(),
        )
        reply = await self.runtime.dispatcher.button(event, self.port)
        if reply.replace:
            view = button_view(reply.buttons)
            await interaction.edit_original_response(
                content=split_message(reply.text)[0], view=view, allowed_mentions=NO_PINGS
            )
            if view is not None:
                view.stop()
        else:
            await self._send(interaction, reply)

    async def _readable(self, interaction: discord.Interaction) -> bool:
        """An application command without its data would crash inside discord.py's tree: refuse it
        plainly before the tree reads it."""
        if interaction.data:
            return True
        log.warning("Discord sent an application command without its data (interaction %s)", interaction.id)
        t = Translator(normalize_locale(interaction.locale.value))
        text = t.gettext(
            "This command's options did not arrive as I expected, so nothing was done. "
            "Please run it again; if this keeps happening, restart Discord."
        )
        try:
            await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the user about the failure")
        return False

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Last resort: the log gets the traceback, the member a plain sentence. A command or options
        Discord sent that this bot does not have (commands synced by another version) get a clear
        answer and a warning, not the crash apology."""
        t = Translator(normalize_locale(interaction.locale.value))
        if isinstance(error, app_commands.CommandNotFound):
            name = " ".join([*error.parents, error.name])
            log.warning("Discord sent /%s, which this bot does not have (commands out of sync?)", name[:80])
            text = t.gettext("I don't know the command /{name}. Type /help to see what I can do.").format(
                name=self.port.escape(name[:40])
            )
        elif isinstance(error, app_commands.CommandSignatureMismatch | app_commands.TransformerError):
            log.warning("Discord command refused, its options do not match the bot's: %s", error)
            text = t.gettext(
                "This command's options did not arrive as I expected, so nothing was done. "
                "Please run it again; if this keeps happening, restart Discord."
            )
        else:
            log.error("Discord command failed: %r", error, exc_info=error)
            text = t.gettext(CRASH_MESSAGE)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the user about the failure")

    @property
    def shards(self) -> tuple[int, ...] | None:
        """The shard numbers this process holds; None when the bot is not sharded."""
        if not self.settings.shard_count:
            return None
        return self.settings.shard_ids or tuple(range(self.settings.shard_count))

    @property
    def syncs_commands(self) -> bool:
        """Application commands are registered once for the bot: by the process holding shard 0."""
        return self.shards is None or 0 in self.shards

    def shards_text(self) -> str:
        if self.shards is None:
            return "not sharded (one gateway connection)"
        held = ", ".join(str(n) for n in self.shards)
        return f"holding shard{'s' if len(self.shards) > 1 else ''} {held} of {self.settings.shard_count}"

    async def _setup_hook(self) -> None:
        await self.tree.set_translator(CatalogTranslator())
        if not self.syncs_commands:
            log.info("Discord: application commands are synced by the process holding shard 0")
            return
        if self.settings.guild_ids:
            for gid in self.settings.guild_ids:
                guild = discord.Object(id=gid)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()

    async def on_ready(self) -> None:
        log.info("Discord connected as %s, %s", self.client.user, self.shards_text())
        self.ready.set()

    async def on_message(self, message: discord.Message) -> None:
        """Human replies inside threads reach the core; our own echoes and other bots do not."""
        if message.author.bot or not isinstance(message.channel, discord.Thread):
            return
        thread = message.channel
        event = MessageEvent(
            actor=_actor(message.author, None),
            conversation=Conversation(
                Platform.DISCORD,
                str(message.guild.id if message.guild else ""),
                str(thread.parent_id or ""),
                str(thread.id),
                ConversationKind.THREAD,
            ),
            text=message.content,
            message_id=str(message.id),
            event_id=str(message.id),
            received_at=self.runtime.services.clock.now(),
        )
        await self.runtime.dispatcher.message(event, self.port)

    async def start(self, ready_within: float = 30.0) -> None:
        """Log in, connect, sync commands, and return once the gateway says READY."""
        await self.client.login(self.settings.token)
        self._connection = asyncio.create_task(self.client.connect(reconnect=True))
        ready = asyncio.create_task(self.ready.wait())
        done, _ = await asyncio.wait(
            {ready, self._connection}, timeout=ready_within, return_when=asyncio.FIRST_COMPLETED
        )
        if ready not in done:
            ready.cancel()
            if self._connection in done:
                self._connection.result()  # raises the connection error
            raise TimeoutError("Discord did not become ready in time")

    async def close(self) -> None:
        await self.client.close()
        if self._connection is not None:
            await asyncio.gather(self._connection, return_exceptions=True)

    async def serve_forever(self) -> None:
        try:
            await self.client.start(self.settings.token, reconnect=True)
        finally:
            await self.client.close()
