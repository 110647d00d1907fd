"""/whois-examiner <subject>: examiners listed for a subject, with their local time now."""

from __future__ import annotations

from bot.commands import CommandSpec, OptionSpec
from bot.context import Context
from bot.events import CommandEvent
from bot.i18n import N_
from bot.port import Reply
from storage.members import MemberCard

MAX_SHOWN = 10


def member_line(card: MemberCard, ctx: Context) -> str:
    """One directory entry: who (a mention where they are on this platform), what, where, their time now."""
    port = ctx.port
    user_id = card.identities.get(port.platform.value)
    who = port.mention(user_id) if user_id else f"*{port.escape(card.name)}*"
    parts = [", ".join(card.roles)]
    if card.subjects:
        parts.append(", ".join(card.subjects))
    if card.programmes:
        parts.append(", ".join(card.programmes))
    place = ", ".join(x for x in (card.school, card.region) if x)
    if place:
        parts.append(place)
    if card.timezone:
        parts.append(
            ctx.t.gettext("{time} their time ({zone})").format(
                time=ctx.t.time_in(ctx.clock.now(), card.timezone), zone=card.timezone
            )
        )
    return f"• {who}: " + port.escape(" · ".join(p for p in parts if p))


async def handle_whois_examiner(event: CommandEvent, ctx: Context) -> Reply:
    t = ctx.t
    subject = " ".join(str(event.args.get("subject", "")).split())
    members = ctx.services.members
    found = await members.find(role_like="examiner", subject=subject, limit=MAX_SHOWN)
    shown_subject = ctx.port.escape(subject)
    if not found:
        known = await members.distinct_values("subject")
        text = t.gettext("Nobody is listed as an examiner for {subject} yet.").format(subject=shown_subject)
        if known:
            text += "\n" + t.gettext("Subjects with members so far: {subjects}.").format(
                subjects=ctx.port.escape(", ".join(known[:30]))
            )
        text += "\n" + t.gettext("Are you an examiner? Ask a network admin to add you to the directory.")
        return Reply(text)
    total = (
        len(found)
        if len(found) < MAX_SHOWN
        else await members.count_matching(role_like="examiner", subject=subject)
    )
    header = t.ngettext("{count} examiner for {subject}:", "{count} examiners for {subject}:", total).format(
        count=total, subject=shown_subject
    )
    lines = [header, *(member_line(card, ctx) for card in found)]
    if total > MAX_SHOWN:
        lines.append(t.gettext("…and {count} more.").format(count=total - MAX_SHOWN))
    return Reply("\n".join(lines))


WHOIS_EXAMINER = CommandSpec(
    name="whois-examiner",
    description=N_("Find examiners for a subject"),
    usage=N_("/whois-examiner <subject>: find examiners for a subject, e.g. /whois-examiner biology"),
    handler=handle_whois_examiner,
    options=(OptionSpec("subject", N_("The subject, e.g. Biology"), max_length=100),),
)
