"""Discord: every core command becomes an application command; interactions are deferred at once
(Discord's 3 s) and answered with a follow-up; thread replies feed the core as messages."""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

import discord
from discord import app_commands

from adapters.discord.endpoints import point_at
from adapters.discord.port import NO_PINGS, DiscordPort, split_message
from adapters.runtime import Runtime
from bot.commands import CommandSpec, OptionType
from bot.dispatch import CRASH_MESSAGE
from bot.events import Actor, CommandEvent, Conversation, ConversationKind, MessageEvent, Platform
from bot.i18n import Translator, normalize_locale

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


class DiscordAdapter:
    def __init__(self, runtime: Runtime, *, guild_ready_timeout: float = 2.0) -> None:
        self.runtime = runtime
        self.settings = runtime.config.discord
        point_at(self.settings.api_base_url, self.settings.gateway_url)
        intents = discord.Intents.default()
        self.client = discord.Client(
            intents=intents, allowed_mentions=NO_PINGS, guild_ready_timeout=guild_ready_timeout
        )
        self.tree = app_commands.CommandTree(self.client)
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        self.port = DiscordPort(self.client)
        runtime.attach(self.port)
        for spec in runtime.dispatcher.commands.values():
            self.tree.add_command(self._command(spec))
        self.client.setup_hook = self._setup_hook  # type: ignore[method-assign]
        self.client.event(self.on_message)
        self.ready = asyncio.Event()
        self.client.event(self.on_ready)
        self._connection: asyncio.Task[None] | None = None

    def _command(self, spec: CommandSpec) -> app_commands.Command[Any, Any, None]:
        """An application command whose typed parameters mirror the spec's options."""

        async def callback(interaction: discord.Interaction, /, **options: Any) -> None:
            await self._handle(spec, interaction, options)

        params = [
            inspect.Parameter(
                "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
            )
        ]
        for option in spec.options:
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
            o.name: app_commands.locale_str(o.description) for o in spec.options
        }
        return app_commands.Command(
            name=spec.name, description=app_commands.locale_str(spec.description), callback=callback
        )

    async def _handle(
        self, spec: CommandSpec, interaction: discord.Interaction, options: dict[str, Any]
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # within Discord's 3 s
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
        reply = await self.runtime.dispatcher.command(event, self.port)
        for chunk in split_message(reply.text):
            await interaction.followup.send(chunk, ephemeral=reply.ephemeral, allowed_mentions=NO_PINGS)

    async def _on_tree_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        """Last resort: the log gets the traceback, the member a plain sentence."""
        log.error("Discord command failed: %r", error, exc_info=error)
        text = Translator(normalize_locale(interaction.locale.value)).gettext(CRASH_MESSAGE)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(text, ephemeral=True)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the user about the failure")

    async def _setup_hook(self) -> None:
        await self.tree.set_translator(CatalogTranslator())
        if self.settings.guild_ids:
            for gid in self.settings.guild_ids:
                guild = discord.Object(id=gid)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()

    async def on_ready(self) -> None:
        log.info("Discord connected as %s", self.client.user)
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
