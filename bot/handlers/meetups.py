"""/meetups: join job-alike meet-up rounds, pause, leave, see your status and why you were matched;
admins set the round schedule and read the stats. Rounds themselves run on the scheduler
(bot/meetups/rounds.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from bot.commands import SUBCOMMAND, ActionSpec, CommandSpec, OptionSpec, OptionType, SubcommandSpec
from bot.context import Context, UserError
from bot.events import ButtonEvent, CommandEvent
from bot.handlers.profile import save
from bot.i18n import N_
from bot.meetups.explain import why_matched
from bot.meetups.matching import Reason
from bot.meetups.parsing import (
    CADENCES,
    SIZES,
    JoinOptions,
    ParseError,
    parse_join,
    parse_schedule,
    parse_weeks,
)
from bot.meetups.rounds import ANNOUNCE, MET_ACTION, REASONS, ROUND, plan
from bot.meetups.timing import next_occurrence
from bot.port import Reply
from bot.safety import as_id
from storage.meetups import Participation, ScheduleRecord
from storage.members import MemberCard

_USER_REF = re.compile(r"^<@!?([A-Za-z0-9]+)(?:\|[^>]*)?>$|^@?([\w.-]+)$")
ADMIN_SUBCOMMANDS = ("schedule", "stats")
DAY_NAMES = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)


def _parse_error(ctx: Context, exc: ParseError) -> UserError:
    t = ctx.t
    value = ctx.port.escape(exc.value)
    messages = {
        "cadence": t.gettext("Meet-ups run every 1, 2 or 4 weeks, not '{value}'."),
        "size": t.gettext("A group has 2, 3 or 4 people, not '{value}'."),
        "weeks": t.gettext(
            "Pause for a number of weeks from 1 to 26, e.g. /meetups pause 2 (not '{value}')."
        ),
        "word": t.gettext("I did not understand '{value}'."),
        "zone": t.gettext("'{value}' is not a time zone I know; use a name like Europe/Madrid."),
        "weekday": t.gettext(
            "Say which day, e.g. /meetups schedule every 2 weeks on Tuesday at 15:00 Europe/London."
        ),
        "time": t.gettext(
            "Say at what time, e.g. /meetups schedule every 2 weeks on Tuesday at 15:00 Europe/London."
        ),
    }
    return UserError(messages.get(exc.code, messages["word"]).format(value=value))


def _join_options(ctx: Context, args: dict[str, Any]) -> JoinOptions:
    every, size = args.get("every"), args.get("size")
    if isinstance(every, str) or isinstance(size, str):  # free text from Slack or the console
        text = " ".join(str(v) for v in (every, size) if v is not None)
        try:
            return parse_join(text)
        except ParseError as exc:
            raise _parse_error(ctx, exc) from None
    if every is not None and every not in CADENCES:
        raise _parse_error(ctx, ParseError("cadence", str(every)))
    if size is not None and size not in SIZES:
        raise _parse_error(ctx, ParseError("size", str(size)))
    return JoinOptions(every, size)


async def _me(ctx: Context, event: CommandEvent | ButtonEvent) -> MemberCard | None:
    return await ctx.services.members.get_by_identity(event.actor.platform.value, event.actor.user_id)


def _settings_text(ctx: Context, p: Participation) -> str:
    t = ctx.t
    text = (
        t.gettext("every week, groups of up to {size}")
        if p.cadence_weeks == 1
        else t.gettext("every {count} weeks, groups of up to {size}")
    ).format(count=p.cadence_weeks, size=p.group_size)
    if p.paused_until and p.paused_until > ctx.clock.now():
        text += " · " + t.gettext("paused until {date}").format(
            date=ctx.port.time_token(p.paused_until, t.datetime_in(p.paused_until, ctx.timezone))
        )
    return text


async def _join(event: CommandEvent, ctx: Context) -> Reply:
    t = ctx.t
    options = _join_options(ctx, event.args)
    card = await _me(ctx, event) or await save(ctx, event.actor, {})
    current = await ctx.services.meetups.get(card.member_id)
    cadence = options.cadence_weeks or (current.cadence_weeks if current else 1)
    size = options.group_size or (current.group_size if current else 2)
    new = await ctx.services.meetups.join(
        card.member_id, ctx.port.platform.value, cadence, size, ctx.clock.now()
    )
    joined = await ctx.services.meetups.get(card.member_id)
    assert joined is not None
    lines = [
        (
            t.gettext("You're in! Meet-ups: {settings}.")
            if new
            else t.gettext("Updated. Meet-ups: {settings}.")
        ).format(settings=_settings_text(ctx, joined))
    ]
    lines.append(await _next_round_line(ctx))
    if not (card.roles or card.subjects):
        lines.append(
            t.gettext("Tip: add your roles and subjects (/profile edit) so I can match you with job-alikes.")
        )
    if not card.timezone:
        lines.append(
            t.gettext("Tell me your time zone (/profile set tz=Europe/Madrid) so times fit your working day.")
        )
    return Reply("\n".join(lines))


async def _next_round_line(ctx: Context) -> str:
    t = ctx.t
    schedule = await ctx.services.meetups.schedule(ctx.port.platform.value)
    if schedule is None or schedule.next_round_at is None:
        return t.gettext("No round is scheduled yet; an admin sets the schedule with /meetups schedule.")
    when = schedule.next_round_at
    return t.gettext("Next round: {when}.").format(
        when=ctx.port.time_token(when, t.datetime_in(when, ctx.timezone))
    )


async def _member_or_error(ctx: Context, event: CommandEvent) -> tuple[MemberCard, Participation]:
    card = await _me(ctx, event)
    joined = await ctx.services.meetups.get(card.member_id) if card else None
    if card is None or joined is None:
        raise UserError(ctx.t.gettext("You have not joined meet-ups. /meetups join signs you up."))
    return card, joined


async def _pause(event: CommandEvent, ctx: Context) -> Reply:
    card, _ = await _member_or_error(ctx, event)
    raw = event.args.get("weeks")
    try:
        weeks = raw if isinstance(raw, int) and 1 <= raw <= 26 else parse_weeks(str(raw or ""))
    except ParseError as exc:
        raise _parse_error(ctx, exc) from None
    until = ctx.clock.now() + timedelta(weeks=weeks)
    await ctx.services.meetups.pause(card.member_id, until)
    t = ctx.t
    return Reply(
        t.ngettext(
            "Paused for {count} week, until {date}. /meetups join resumes earlier.",
            "Paused for {count} weeks, until {date}. /meetups join resumes earlier.",
            weeks,
        ).format(count=weeks, date=ctx.port.time_token(until, t.datetime_in(until, ctx.timezone)))
    )


async def _leave(event: CommandEvent, ctx: Context) -> Reply:
    card = await _me(ctx, event)
    if card is None or not await ctx.services.meetups.leave(card.member_id):
        return Reply(ctx.t.gettext("You were not in meet-ups, so nothing changed."))
    return Reply(ctx.t.gettext("You have left meet-ups; no more invitations. /meetups join brings you back."))


async def _status(event: CommandEvent, ctx: Context) -> Reply:
    t = ctx.t
    card = await _me(ctx, event)
    joined = await ctx.services.meetups.get(card.member_id) if card else None
    lines = [await _next_round_line(ctx)]
    if card is None or joined is None:
        lines.append(t.gettext("You have not joined meet-ups. /meetups join signs you up."))
        return Reply("\n".join(lines))
    lines.append(t.gettext("Your settings: {settings}.").format(settings=_settings_text(ctx, joined)))
    avoided = await ctx.services.meetups.avoided_by(card.member_id)
    if avoided:
        lines.append(
            t.ngettext(
                "{count} person on your 'don't match me with' list.",
                "{count} people on your 'don't match me with' list.",
                len(avoided),
            ).format(count=len(avoided))
        )
    history = await ctx.services.meetups.history(card.member_id, limit=3)
    others = {m for _, g in history for m in g.member_ids if m != card.member_id}
    cards = {c.member_id: c for c in await ctx.services.members.cards(sorted(others))}
    sitout = await ctx.services.meetups.last_sitout(card.member_id)
    if sitout is not None and (not history or sitout[0].scheduled_for > history[0][0].scheduled_for):
        lines.append(
            t.gettext("Last round you sat out: {reason}").format(reason=t.gettext(REASONS[Reason(sitout[1])]))
        )
    if history:
        lines.append(t.gettext("Your last groups:"))
    for record, group in history:
        when = ctx.port.time_token(record.scheduled_for, t.datetime_in(record.scheduled_for, ctx.timezone))
        people = [cards[m] for m in group.member_ids if m in cards]
        names = ", ".join(_who(ctx, c) for c in people) or t.gettext("(members who have left)")
        lines.append(f"• {when}: {names}")
        for other in people:
            reasons = why_matched(t, card, other)
            if reasons:
                lines.append(
                    "  "
                    + t.gettext("with {name}: {reasons}").format(
                        name=ctx.port.escape(other.name), reasons=ctx.port.escape("; ".join(reasons))
                    )
                )
    return Reply("\n".join(lines))


def _who(ctx: Context, card: MemberCard) -> str:
    user_id = card.identities.get(ctx.port.platform.value)
    return ctx.port.mention(user_id) if user_id else ctx.port.escape(card.name)


async def _resolve_person(ctx: Context, text: str) -> MemberCard:
    match = _USER_REF.match(text.strip())
    user_id = (match.group(1) or match.group(2)) if match else None
    found = await ctx.services.members.get_by_identity(ctx.port.platform.value, user_id) if user_id else None
    if found is None:
        raise UserError(
            ctx.t.gettext("I can't find '{person}' in the directory; mention them, e.g. @name.").format(
                person=ctx.port.escape(text.strip()[:80])
            )
        )
    return found


async def _avoid(event: CommandEvent, ctx: Context, *, add: bool) -> Reply:
    t = ctx.t
    card = await _me(ctx, event) or await save(ctx, event.actor, {})
    person = str(event.args.get("person") or "").strip()
    meetups = ctx.services.meetups
    if not person:
        avoided = await meetups.avoided_by(card.member_id)
        if not avoided:
            return Reply(
                t.gettext("Your 'don't match me with' list is empty. /meetups avoid @name adds someone.")
            )
        cards = await ctx.services.members.cards(avoided)
        return Reply(
            t.gettext("You are never matched with: {people}.").format(
                people=", ".join(_who(ctx, c) for c in cards)
            )
        )
    other = await _resolve_person(ctx, person)
    if other.member_id == card.member_id:
        raise UserError(t.gettext("You are never matched with yourself."))
    if add:
        await meetups.avoid(card.member_id, other.member_id)
        return Reply(
            t.gettext("Done: you will not be matched with {name}. They are not told.").format(
                name=ctx.port.escape(other.name)
            )
        )
    removed = await meetups.unavoid(card.member_id, other.member_id)
    if not removed:
        return Reply(t.gettext("{name} was not on your list.").format(name=ctx.port.escape(other.name)))
    return Reply(t.gettext("{name} is off your list.").format(name=ctx.port.escape(other.name)))


STOP_WORDS = {"off", "stop", "none", "arrêt", "arret", "parar", "detener"}


async def _schedule(event: CommandEvent, ctx: Context) -> Reply:
    t = ctx.t
    if str(event.args.get("when") or "").strip().lower() in STOP_WORDS:
        platform = ctx.port.platform.value
        if not await ctx.services.meetups.delete_schedule(platform):
            return Reply(t.gettext("No meet-up rounds were scheduled, so nothing changed."))
        for kind in (ROUND, ANNOUNCE):
            await ctx.services.scheduler.cancel(f"{kind}:{platform}")
        return Reply(t.gettext("Meet-up rounds are stopped. Members stay signed up for when they resume."))
    try:
        options = parse_schedule(str(event.args.get("when") or ""))
    except ParseError as exc:
        raise _parse_error(ctx, exc) from None
    platform = ctx.port.platform.value
    channel = options.channel or ctx.channel("announcements")
    if not channel:
        raise UserError(
            t.gettext(
                "Say where to announce rounds (e.g. in #channel), or set [{platform}.channels] announcements "
                "in the bot's config. Nothing was changed."
            ).format(platform=platform)
        )
    zone = options.timezone or ctx.timezone
    first = next_occurrence(options.weekday, options.at_minutes, zone, ctx.clock.now())
    record = ScheduleRecord(
        platform, options.cadence_weeks, options.weekday, options.at_minutes, zone, channel, first
    )
    await ctx.services.meetups.set_schedule(record, ctx.clock.now())
    await plan(ctx, record, first)
    every = (
        t.gettext("every week") if options.cadence_weeks == 1 else t.gettext("every {count} weeks")
    ).format(count=options.cadence_weeks)
    return Reply(
        t.gettext("Meet-up rounds: {every} on {day} at {time} ({zone}). First round: {when}.").format(
            every=every,
            day=t.gettext(DAY_NAMES[options.weekday]),
            time=f"{options.at_minutes // 60:02d}:{options.at_minutes % 60:02d}",
            zone=zone,
            when=ctx.port.time_token(first, t.datetime_in(first, zone)),
        )
    )


async def _stats(event: CommandEvent, ctx: Context) -> Reply:
    t = ctx.t
    raw = event.args.get("days")
    text = str(raw or "").strip()
    days = raw if isinstance(raw, int) else int(text) if re.fullmatch(r"[0-9]{1,5}", text) else 90
    days = max(1, min(days, 3650))
    stats = await ctx.services.meetups.stats(ctx.port.platform.value, ctx.clock.now() - timedelta(days=days))

    def pct(part: int, whole: int) -> str:
        return f"{100 * part / whole:.0f}%" if whole else "—"

    lines = [
        t.ngettext("Meet-ups, last {count} day:", "Meet-ups, last {count} days:", days).format(count=days),
        t.gettext("Rounds: {rounds} · groups: {groups}").format(rounds=stats.rounds, groups=stats.groups),
        t.gettext("Match rate: {rate} ({matched} of {eligible} places)").format(
            rate=pct(stats.matched, stats.eligible), matched=stats.matched, eligible=stats.eligible
        ),
        t.gettext("Met: {rate} of groups that answered ({met} of {answered})").format(
            rate=pct(stats.groups_met, stats.groups_answered),
            met=stats.groups_met,
            answered=stats.groups_answered,
        ),
        t.gettext("Cross-region groups: {rate}").format(rate=pct(stats.cross_region_groups, stats.groups)),
    ]
    return Reply("\n".join(lines))


async def handle_meetups(event: CommandEvent, ctx: Context) -> Reply:
    sub = event.args.get(SUBCOMMAND) or "status"
    if sub in ADMIN_SUBCOMMANDS and not ctx.config.is_admin(event.actor.platform.value, event.actor.user_id):
        return Reply(ctx.t.gettext("Only network admins can use /meetups {name}.").format(name=sub))
    if sub == "join":
        return await _join(event, ctx)
    if sub == "pause":
        return await _pause(event, ctx)
    if sub == "leave":
        return await _leave(event, ctx)
    if sub in ("avoid", "unavoid"):
        return await _avoid(event, ctx, add=sub == "avoid")
    if sub == "schedule":
        return await _schedule(event, ctx)
    if sub == "stats":
        return await _stats(event, ctx)
    return await _status(event, ctx)


async def handle_met(event: ButtonEvent, ctx: Context) -> Reply:
    t = ctx.t
    group_text, _, answer = event.value.partition(":")
    card = await _me(ctx, event)
    group_id = as_id(group_text)
    if group_id is None or answer not in ("yes", "no") or card is None:
        return Reply(t.gettext("This button is not for you."))
    if not await ctx.services.meetups.record_met(group_id, card.member_id, answer, ctx.clock.now()):
        return Reply(t.gettext("This button is not for you."))
    if answer == "yes":
        return Reply(t.gettext("Wonderful, thank you! Glad you met."))
    return Reply(t.gettext("Thanks for telling me. Maybe next round!"))


MEETUPS = CommandSpec(
    name="meetups",
    description=N_("Job-alike meet-ups: join, pause, leave, status"),
    usage=N_(
        "/meetups join [every 1|2|4 weeks] [group size 2-4] · /meetups pause <weeks> · /meetups leave · "
        "/meetups status · /meetups avoid [@name] · /meetups unavoid @name"
    ),
    handler=handle_meetups,
    subcommands=(
        SubcommandSpec(
            "join",
            N_("Join meet-up rounds (or change how often and group size)"),
            (
                OptionSpec("every", N_("Every 1, 2 or 4 weeks"), OptionType.INTEGER, required=False),
                OptionSpec("size", N_("Largest group: 2, 3 or 4 people"), OptionType.INTEGER, required=False),
            ),
        ),
        SubcommandSpec(
            "pause",
            N_("Skip rounds for a few weeks"),
            (OptionSpec("weeks", N_("How many weeks"), OptionType.INTEGER),),
        ),
        SubcommandSpec("leave", N_("Stop meet-up invitations")),
        SubcommandSpec("status", N_("Next round, your settings, your last groups and why")),
        SubcommandSpec(
            "avoid",
            N_("Never match me with someone (or list who)"),
            (OptionSpec("person", N_("The person, as a mention"), required=False, max_length=100),),
        ),
        SubcommandSpec(
            "unavoid",
            N_("Take someone off your 'don't match me with' list"),
            (OptionSpec("person", N_("The person, as a mention"), max_length=100),),
        ),
        SubcommandSpec(
            "schedule",
            N_("Admins: set the round schedule"),
            (OptionSpec("when", N_("e.g. every 2 weeks on Tuesday at 15:00 Europe/London"), max_length=200),),
        ),
        SubcommandSpec(
            "stats",
            N_("Admins: rounds, match rate, met rate, cross-region share"),
            (OptionSpec("days", N_("Period in days (default 90)"), OptionType.INTEGER, required=False),),
        ),
    ),
)

MEETUP_ACTIONS = (ActionSpec(MET_ACTION, handle_met),)
