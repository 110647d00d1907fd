"""/qa-stats [days]: how well the network keeps its promise of an answer within six minutes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.catalog import Catalogue
from bot.commands import CommandSpec, OptionSpec
from bot.context import Context
from bot.events import CommandEvent
from bot.i18n import N_
from bot.port import Attachment, Reply
from bot.qa_stats import render_helpers, render_png, render_table
from storage.qa_stats import qa_stats

DEFAULT_DAYS = 30
MAX_DAYS = 365
USAGE = N_("/qa-stats [days]: answered share and time to first answer, by subject, region and language")


def parse_days(value: Any) -> int | None:
    """Days back from the option: blank means the default; anything but a whole 1-365 is None."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return DEFAULT_DAYS
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        days = value
    else:
        text = str(value).strip()
        if not text.isascii() or not text.isdigit():
            return None
        days = int(text)
    return days if 1 <= days <= MAX_DAYS else None


async def handle_qa_stats(event: CommandEvent, ctx: Context) -> Reply:
    t = ctx.t
    days = parse_days(event.args.get("days"))
    if days is None:
        return Reply(t.gettext(USAGE))
    until = ctx.clock.now()
    stats = await qa_stats(ctx.services.members.db, until - timedelta(days=days), until)
    if stats.overall.asked == 0:
        return Reply(
            t.ngettext(
                "No questions were asked in the last {days} day, so there is nothing to measure yet. "
                "Ask one with /ask!",
                "No questions were asked in the last {days} days, so there is nothing to measure yet. "
                "Ask one with /ask!",
                days,
            ).format(days=days)
        )
    catalogue = Catalogue.default()
    table = render_table(stats, t, catalogue=catalogue, escape=ctx.port.escape)
    helpers = render_helpers(
        stats, t, platform=ctx.port.platform.value, mention=ctx.port.mention, escape=ctx.port.escape
    )
    chart = render_png(stats, t, catalogue=catalogue)
    return Reply(
        f"```\n{table}\n```\n{helpers}",
        attachment=Attachment("qa-stats.png", chart, t.gettext("Time to a first answer")),
    )


QA_STATS = CommandSpec(
    name="qa-stats",
    description=N_("How fast questions get answered"),
    usage=USAGE,
    handler=handle_qa_stats,
    options=(OptionSpec("days", N_("How many days back (default 30)"), required=False, max_length=3),),
)
