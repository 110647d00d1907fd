"""Commands declared once: name, description, typed options, permission and handler.

Each adapter registers these with its platform (Bolt `app.command`, discord.py `CommandTree`, the
console parser), so a command exists everywhere or nowhere.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.port import Reply

if TYPE_CHECKING:
    from bot.context import Context
    from bot.events import CommandEvent


class OptionType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"


class Permission(StrEnum):
    EVERYONE = "everyone"
    ADMIN = "admin"


Handler = Callable[["CommandEvent", "Context"], Awaitable[Reply]]


@dataclass(frozen=True)
class OptionSpec:
    """One typed option; descriptions are message ids, translated where shown."""

    name: str
    description: str
    type: OptionType = OptionType.STRING
    required: bool = True
    max_length: int | None = None


@dataclass(frozen=True)
class CommandSpec:
    name: str
    description: str
    usage: str
    handler: Handler
    options: tuple[OptionSpec, ...] = ()
    permission: Permission = Permission.EVERYONE

    def args_from_text(self, text: str) -> dict[str, Any]:
        """Free text (Slack, console) → options: the whole text fills the first option."""
        text = text.strip()
        if not self.options or not text:
            return {}
        return {self.options[0].name: text}


def all_commands() -> tuple[CommandSpec, ...]:
    """Every command the bot offers, in help order."""
    from bot.handlers.ask import ASK
    from bot.handlers.help import HELP
    from bot.handlers.whois_examiner import WHOIS_EXAMINER

    return (ASK, WHOIS_EXAMINER, HELP)
