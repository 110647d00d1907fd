"""/school-report [school]: admins see members as a share of staff per school, with a chart."""

from __future__ import annotations

from bot.catalog import Catalogue
from bot.commands import CommandSpec, OptionSpec, Permission
from bot.context import Context
from bot.events import CommandEvent
from bot.i18n import N_
from bot.port import Attachment, Reply
from bot.school_report import build_report, render_png, render_table
from storage.schools import school_key


async def handle_school_report(event: CommandEvent, ctx: Context) -> Reply:
    t = ctx.t
    staff = {**ctx.config.schools, **await ctx.services.schools.all()}
    rows = build_report(await ctx.services.members.cards(), staff)
    wanted = str(event.args.get("school", "")).strip()
    if wanted:
        rows = [r for r in rows if school_key(r.school) == school_key(wanted)]
        if not rows:
            return Reply(
                t.gettext("No members list the school '{school}'.").format(school=ctx.port.escape(wanted))
            )
    if not rows:
        return Reply(t.gettext("No member lists a school yet, so there is nothing to report."))
    table = render_table(rows, t, catalogue=Catalogue.default())
    return Reply(
        f"```\n{table}\n```",
        attachment=Attachment("school-report.png", render_png(rows, t), t.gettext("School report")),
    )


SCHOOL_REPORT = CommandSpec(
    name="school-report",
    description=N_("Members as a share of staff per school (admins)"),
    usage=N_(
        "/school-report [school]: members as a share of staff against the 20-30% critical mass (admins)"
    ),
    handler=handle_school_report,
    options=(OptionSpec("school", N_("One school only"), required=False, max_length=200),),
    permission=Permission.ADMIN,
)
