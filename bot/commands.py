"""Commands declared once: name, description, typed options or sub-commands, permission, handler;
plus the button actions and forms they use.

Each adapter registers these with its platform (Bolt `app.command`, discord.py `CommandTree`, the
console parser), so a command exists everywhere or nowhere. Slack and the console take a
sub-command as the first word of the text; Discord shows real sub-commands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from bot.port import Form, FormErrors, Reply

if TYPE_CHECKING:
    from bot.context import Context
    from bot.events import ButtonEvent, CommandEvent, FormSubmitEvent


class OptionType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    BOOLEAN = "boolean"


class Permission(StrEnum):
    EVERYONE = "everyone"
    ADMIN = "admin"


Handler = Callable[["CommandEvent", "Context"], Awaitable[Reply]]
FormOpener = Callable[["CommandEvent", "Context"], Awaitable[Form | None]]
ActionHandler = Callable[["ButtonEvent", "Context"], Awaitable[Reply]]
FormHandler = Callable[["FormSubmitEvent", "Context"], Awaitable[Reply | FormErrors]]

SUBCOMMAND = "subcommand"


@dataclass(frozen=True)
class OptionSpec:
    """One typed option; descriptions are message ids, translated where shown."""

    name: str
    description: str
    type: OptionType = OptionType.STRING
    required: bool = True
    max_length: int | None = None


@dataclass(frozen=True)
class SubcommandSpec:
    name: str
    description: str
    options: tuple[OptionSpec, ...] = ()


@dataclass(frozen=True)
class CommandSpec:
    name: str
    description: str
    usage: str
    handler: Handler
    options: tuple[OptionSpec, ...] = ()
    permission: Permission = Permission.EVERYONE
    subcommands: tuple[SubcommandSpec, ...] = ()
    form: FormOpener | None = None  # when it returns a form, the adapter opens it instead of deferring

    def args_from_text(self, text: str) -> dict[str, Any]:
        """Free text (Slack, console) → options: a leading sub-command word, then the rest fills the
        first option."""
        text = text.strip()
        options = self.options
        args: dict[str, Any] = {}
        if self.subcommands:
            word, _, rest = text.partition(" ")
            sub = next((s for s in self.subcommands if s.name == word.lower()), None)
            if sub is None:
                if word:
                    args[SUBCOMMAND] = word.lower()
                return args
            args[SUBCOMMAND] = sub.name
            options, text = sub.options, rest.strip()
        if options and text:
            args[options[0].name] = text
        return args

    def required_options(self, args: dict[str, Any]) -> tuple[OptionSpec, ...]:
        if not self.subcommands:
            return self.options
        sub = next((s for s in self.subcommands if s.name == args.get(SUBCOMMAND)), None)
        return sub.options if sub else ()


@dataclass(frozen=True)
class ActionSpec:
    """A button action: `action` is the id adapters round-trip with the button's value."""

    action: str
    handler: ActionHandler


@dataclass(frozen=True)
class FormSpec:
    form_id: str
    handler: FormHandler


def all_commands() -> tuple[CommandSpec, ...]:
    """Every command the bot offers, in help order."""
    from bot.handlers.ask import ASK
    from bot.handlers.cafe import CAFE
    from bot.handlers.events import EVENTS
    from bot.handlers.forget import FORGET_ME
    from bot.handlers.help import HELP
    from bot.handlers.meetups import MEETUPS
    from bot.handlers.profile import PROFILE
    from bot.handlers.qa_search import QA_SEARCH
    from bot.handlers.qa_stats import QA_STATS
    from bot.handlers.school import SCHOOL_REPORT
    from bot.handlers.solved import SOLVED
    from bot.handlers.whois import WHOIS, WHOIS_EXAMINER

    return (
        ASK,
        SOLVED,
        QA_SEARCH,
        QA_STATS,
        WHOIS_EXAMINER,
        WHOIS,
        PROFILE,
        MEETUPS,
        EVENTS,
        CAFE,
        FORGET_ME,
        SCHOOL_REPORT,
        HELP,
    )


def all_actions() -> tuple[ActionSpec, ...]:
    from bot.handlers.ask import ASK_ACTIONS
    from bot.handlers.cafe import CAFE_ACTIONS
    from bot.handlers.events import EVENT_ACTIONS
    from bot.handlers.forget import FORGET_ACTIONS
    from bot.handlers.meetups import MEETUP_ACTIONS
    from bot.handlers.solved import SOLVE_BUTTON
    from bot.handlers.whois import WHOIS_PAGE

    return (
        WHOIS_PAGE,
        *FORGET_ACTIONS,
        *ASK_ACTIONS,
        SOLVE_BUTTON,
        *MEETUP_ACTIONS,
        *EVENT_ACTIONS,
        *CAFE_ACTIONS,
    )


def all_forms() -> tuple[FormSpec, ...]:
    from bot.handlers.ask import ASK_FORM
    from bot.handlers.events import EVENT_FORM
    from bot.handlers.profile import PROFILE_FORM

    return (PROFILE_FORM, ASK_FORM, EVENT_FORM)
