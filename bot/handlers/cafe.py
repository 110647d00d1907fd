"""/cafe: World Café sessions in chat. Admins start one from a template (now, or at a time announced
in advance); members join with a button or /cafe join (as a table host if they volunteer); the host
moves on, pauses, resumes or ends it. Rounds run on the scheduler (bot/cafe/engine.py)."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from bot.cafe import engine
from bot.calendar.fields import parse_channel
from bot.calendar.recurrence import ParseError, parse_start
from bot.commands import SUBCOMMAND, ActionSpec, CommandSpec, OptionSpec, OptionType, SubcommandSpec
from bot.context import Context, UserError
from bot.events import Actor, ButtonEvent, CommandEvent
from bot.i18n import N_
from bot.meetups.timing import zone
from bot.port import MessageRef, Reply
from bot.safety import as_id
from storage.cafes import Participant, SessionRecord

HOST_COMMANDS = ("next", "pause", "resume", "end")
HOST_WORDS = {"host", "hôte", "hote", "anfitrión", "anfitrion", "anfitriona"}


def _seed(platform: str, channel: str, template: str, at: str) -> int:
    digest = hashlib.sha256(f"{platform}:{channel}:{template}:{at}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


async def _list(event: CommandEvent, ctx: Context) -> Reply:
    t = ctx.t
    found = engine.templates(ctx, t.locale)
    if not found:
        return Reply(t.gettext("No café templates are installed."))
    lines = [t.gettext("Café templates (start one with /cafe start <template>):")]
    for template_id, template in found.items():
        minutes = sum(r.minutes for r in template.rounds)
        lines.append(
            f"• `{template_id}`: {ctx.port.escape(template.title)} "
            + t.ngettext(
                "({count} round, {minutes} min)", "({count} rounds, {minutes} min)", len(template.rounds)
            ).format(count=len(template.rounds), minutes=minutes)
        )
    return Reply("\n".join(lines))


def _parse_start_args(ctx: Context, event: CommandEvent) -> tuple[str, str | None, str | None]:
    """Slack/console: "<template> [in #channel] [at <when>]"; Discord: typed options."""
    text = str(event.args.get("template") or "").strip()
    channel = str(event.args.get("channel") or "").strip() or None
    at = str(event.args.get("at") or "").strip() or None
    m = re.match(r"^(\S+)(.*)$", text)
    template_id = m.group(1) if m else ""
    rest = m.group(2) if m else ""
    at_match = re.search(r"\s(?:at|à|a las|el)\s+(.+)$", rest, re.IGNORECASE)
    if at_match:
        at, rest = at_match.group(1), rest[: at_match.start()]
    in_match = re.search(r"\s(?:in|dans|en)\s+(\S+)", rest, re.IGNORECASE)
    if in_match:
        channel = in_match.group(1)
    return template_id.lower(), channel, at


async def _start(event: CommandEvent, ctx: Context) -> Reply:
    t = ctx.t
    template_id, channel_text, at_text = _parse_start_args(ctx, event)
    found = engine.templates(ctx, t.locale)
    template = found.get(template_id)
    if template is None:
        names = ", ".join(found) or "—"
        raise UserError(
            t.gettext("There is no café template '{name}'. Templates: {names}.").format(
                name=ctx.port.escape(template_id[:60]), names=names
            )
        )
    channel = parse_channel(channel_text) if channel_text else ctx.channel("announcements")
    if not channel:
        raise UserError(
            t.gettext(
                "Say where to hold it (in #channel), or set [{platform}.channels] announcements."
            ).format(platform=ctx.port.platform.value)
        )
    platform = ctx.port.platform.value
    if await ctx.services.cafes.current(platform, channel) is not None:
        raise UserError(t.gettext("A café is already open in that channel; /cafe end closes it."))
    now = ctx.clock.now()
    starts_at = None
    if at_text:
        try:
            local, zone_name = parse_start(at_text)
        except ParseError:
            raise UserError(
                t.gettext("Give the start as a date and time, e.g. at 2026-09-09 15:00 Europe/London.")
            ) from None
        starts_at = local.replace(tzinfo=zone(zone_name or ctx.timezone)).astimezone(now.tzinfo)
        if starts_at <= now:
            raise UserError(t.gettext("That time has passed. Nothing was started."))
    session = await ctx.services.cafes.create(
        platform=platform,
        channel=channel,
        template_id=template_id,
        locale=t.locale,
        host_user_id=event.actor.user_id,
        status="scheduled" if starts_at else "open",
        starts_at=starts_at,
        seed=_seed(platform, channel, template_id, now.isoformat()),
        created_at=now,
    )
    lines = [f"☕ *{ctx.port.escape(template.title)}*", ctx.port.escape(template.welcome.strip())]
    if template.backpack:
        lines.append(t.gettext("In our backpack:"))
        lines += [f"• {ctx.port.escape(item)}" for item in template.backpack]
    if starts_at:
        when = ctx.port.time_token(starts_at, t.datetime_in(starts_at, ctx.timezone))
        lines.append(t.gettext("Starts {when}. Join with the button or /cafe join.").format(when=when))
    else:
        lines.append(
            t.gettext("Join with the button or /cafe join; the host starts round 1 with /cafe next.")
        )
    announcement = "\n".join(lines)
    await ctx.port.send(
        MessageRef(ctx.port.platform, channel, ""), announcement, buttons=[engine.join_button(t, session.id)]
    )
    scheduler = ctx.services.scheduler
    payload = {"platform": platform, "session_id": session.id}
    if starts_at:
        await scheduler.schedule(
            key=f"cafe:{session.id}:begin", kind=engine.BEGIN, run_at=starts_at, payload=payload
        )
        reminder = starts_at - timedelta(minutes=ctx.config.cafe.reminder_minutes)
        if reminder > now:
            await scheduler.schedule(
                key=f"cafe:{session.id}:remind", kind=engine.REMIND, run_at=reminder, payload=payload
            )
        return Reply(
            t.gettext("Café #{id} is announced in {channel}; it starts {when}.").format(
                id=session.id,
                channel=ctx.port.channel_mention(channel),
                when=ctx.port.time_token(starts_at, t.datetime_in(starts_at, ctx.timezone)),
            )
        )
    return Reply(
        t.gettext(
            "Café #{id} is open in {channel}. When people have joined, /cafe next starts round 1."
        ).format(id=session.id, channel=ctx.port.channel_mention(channel))
    )


async def _session(ctx: Context) -> SessionRecord:
    session = await ctx.services.cafes.current(ctx.port.platform.value)
    if session is None:
        raise UserError(ctx.t.gettext("No café is open right now. Admins start one with /cafe start."))
    return session


async def join(ctx: Context, actor: Actor, session: SessionRecord, as_host: bool) -> Reply:
    t = ctx.t
    if session.status == "ended":
        return Reply(t.gettext("This café has ended."))
    new = await ctx.services.cafes.join(
        session.id, Participant(actor.user_id, actor.display_name, t.locale, as_host), ctx.clock.now()
    )
    if session.status in ("running", "paused") and new and session.seating:
        seating = [list(map(list, r)) for r in session.seating]
        for round_index in range(session.current_round + 1, len(seating)):
            tables = seating[round_index]
            smallest = min(range(len(tables)), key=lambda i: (len(tables[i]), i))
            tables[smallest].append(actor.user_id)
        await ctx.services.cafes.update(session.id, seating=seating)
        return Reply(
            t.gettext("Welcome! You get a table from the next round; meanwhile, read the tablecloths.")
        )
    if not new:
        return Reply(t.gettext("You are already in this café."))
    if as_host:
        return Reply(
            t.gettext("Welcome! You are a table host: you stay at your table and welcome each new group.")
        )
    return Reply(t.gettext("Welcome! You will get a table when the round starts."))


async def _join(event: CommandEvent, ctx: Context) -> Reply:
    raw = event.args.get("host")
    as_host = raw is True or str(raw or "").strip().lower() in HOST_WORDS
    return await join(ctx, event.actor, await _session(ctx), as_host)


async def handle_join_button(event: ButtonEvent, ctx: Context) -> Reply:
    number = as_id(event.value)
    session = await ctx.services.cafes.get(number) if number is not None else None
    if session is None:
        return Reply(ctx.t.gettext("This button is no longer active. Please run the command again."))
    return await join(ctx, event.actor, session, False)


async def _host_command(event: CommandEvent, ctx: Context, sub: str) -> Reply:
    t = ctx.t
    session = await _session(ctx)
    actor = event.actor
    if actor.user_id != session.host_user_id and not ctx.config.is_admin(actor.platform.value, actor.user_id):
        return Reply(t.gettext("Only the café's host or an admin can use /cafe {name}.").format(name=sub))
    now = ctx.clock.now()
    if sub == "next":
        if session.status in ("open", "scheduled"):
            if not await ctx.services.cafes.participants(session.id):
                return Reply(t.gettext("Nobody has joined yet; share the announcement first."))
            await ctx.services.scheduler.cancel(f"cafe:{session.id}:begin")
            await engine.start_round(ctx, session, 0)
            return Reply(t.gettext("Round 1 has started."))
        if session.status == "paused":
            return Reply(t.gettext("The café is paused; /cafe resume continues it."))
        await engine.cancel_timers(ctx, session)
        await engine.close_round(ctx, session, session.current_round)
        return Reply(t.gettext("Moved on."))
    if sub == "pause":
        if session.status != "running" or session.round_ends_at is None:
            return Reply(t.gettext("Only a running café can be paused."))
        left = max(0, int((session.round_ends_at - now).total_seconds()))
        await engine.cancel_timers(ctx, session)
        await ctx.services.cafes.update(session.id, status="paused", paused_seconds_left=left)
        return Reply(t.gettext("Paused; the round's clock is stopped. /cafe resume continues it."))
    if sub == "resume":
        if session.status != "paused":
            return Reply(t.gettext("The café is not paused."))
        ends = now + timedelta(seconds=session.paused_seconds_left or 60)
        await ctx.services.cafes.update(
            session.id, status="running", round_ends_at=ends, paused_seconds_left=None
        )
        await engine.schedule_timers(ctx, session, session.current_round, ends)
        return Reply(t.gettext("Resumed."))
    # end
    await engine.cancel_timers(ctx, session)
    if session.current_round < 0:
        await ctx.services.cafes.update(session.id, status="ended")
        return Reply(t.gettext("The café was closed before it started."))
    await ctx.services.cafes.close_tables(session.id, session.current_round, now)
    await engine.harvest(ctx, session, session.current_round)
    return Reply(t.gettext("The café has ended; the harvest is posted."))


async def _status(event: CommandEvent, ctx: Context) -> Reply:
    t = ctx.t
    session = await _session(ctx)
    template = engine.template_of(ctx, session)
    people = await ctx.services.cafes.participants(session.id)
    total = len(template.rounds) if template else 0
    lines = [f"☕ *{ctx.port.escape(template.title if template else session.template_id)}*"]
    lines.append(
        t.ngettext("{count} participant", "{count} participants", len(people)).format(count=len(people))
    )
    if session.status in ("scheduled", "open"):
        lines.append(t.gettext("Not started yet."))
    elif session.current_round >= total:
        lines.append(t.gettext("Take-outs round."))
    else:
        lines.append(t.gettext("Round {n} of {total}.").format(n=session.current_round + 1, total=total))
    if session.status == "paused":
        lines.append(t.gettext("Paused."))
    elif session.round_ends_at and session.status == "running":
        lines.append(
            t.gettext("This round ends {when}.").format(
                when=ctx.port.time_token(
                    session.round_ends_at, t.time_in(session.round_ends_at, ctx.timezone)
                )
            )
        )
    if 0 <= session.current_round < len(session.seating):
        for table_index, members in enumerate(session.seating[session.current_round]):
            if event.actor.user_id in members:
                lines.append(t.gettext("You are at table {table}.").format(table=table_index + 1))
    return Reply("\n".join(lines))


async def handle_cafe(event: CommandEvent, ctx: Context) -> Reply:
    sub = event.args.get(SUBCOMMAND) or "status"
    if sub == "start" and not ctx.config.is_admin(event.actor.platform.value, event.actor.user_id):
        return Reply(ctx.t.gettext("Only network admins can use /cafe {name}.").format(name=sub))
    if sub == "list":
        return await _list(event, ctx)
    if sub == "start":
        return await _start(event, ctx)
    if sub == "join":
        return await _join(event, ctx)
    if sub in HOST_COMMANDS:
        return await _host_command(event, ctx, sub)
    return await _status(event, ctx)


CAFE = CommandSpec(
    name="cafe",
    description=N_("World Café sessions: join, status; hosts run the rounds"),
    usage=N_(
        "/cafe list · /cafe join [host] · /cafe status · hosts: /cafe start <template> [in #channel] "
        "[at <time>], /cafe next, /cafe pause, /cafe resume, /cafe end"
    ),
    handler=handle_cafe,
    subcommands=(
        SubcommandSpec("list", N_("The café templates")),
        SubcommandSpec(
            "join",
            N_("Join the open café"),
            (OptionSpec("host", N_("Volunteer as a table host"), OptionType.BOOLEAN, required=False),),
        ),
        SubcommandSpec("status", N_("Round, time left, your table")),
        SubcommandSpec(
            "start",
            N_("Admins: start a café from a template"),
            (
                OptionSpec("template", N_("Template id (see /cafe list)"), max_length=200),
                OptionSpec("channel", N_("Where (default: announcements)"), required=False, max_length=100),
                OptionSpec(
                    "at", N_("When, e.g. 2026-09-09 15:00 Europe/London"), required=False, max_length=80
                ),
            ),
        ),
        SubcommandSpec("next", N_("Host: close this round and open the next")),
        SubcommandSpec("pause", N_("Host: stop the round's clock")),
        SubcommandSpec("resume", N_("Host: restart the round's clock")),
        SubcommandSpec("end", N_("Host: end the café and post the harvest")),
    ),
)

CAFE_ACTIONS = (ActionSpec(engine.JOIN_ACTION, handle_join_button),)
