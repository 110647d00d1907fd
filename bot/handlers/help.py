"""/help: what the bot does and every command, in the reader's language."""

from __future__ import annotations

from bot.commands import CommandSpec, Permission
from bot.context import Context
from bot.events import CommandEvent
from bot.i18n import N_
from bot.port import Reply


async def handle_help(event: CommandEvent, ctx: Context) -> Reply:
    from bot.commands import all_commands

    t = ctx.t
    lines = [
        t.gettext(
            "I connect IB educators around the world: ask the network a question, find examiners "
            "and other experts, and meet job-alike colleagues in regular meet-ups."
        ),
        "",
        t.gettext("Commands:"),
    ]
    is_admin = ctx.config.is_admin(event.actor.platform, event.actor.user_id)
    for spec in all_commands():
        if spec.permission is Permission.ADMIN and not is_admin:
            continue
        lines.append(f"• {t.gettext(spec.usage)}")
    return Reply("\n".join(lines))


HELP = CommandSpec(
    name="help",
    description=N_("What this bot does and how to use it"),
    usage=N_("/help: this list"),
    handler=handle_help,
)
