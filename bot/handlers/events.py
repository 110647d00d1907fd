"""/events: the community calendar. Everyone lists upcoming meetings (in their own time zone) and
RSVPs with buttons; admins add, edit, cancel or move meetings, and everyone going hears of it.
Reminders run on the scheduler (bot/calendar/reminders.py)."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.calendar.fields import EventDraft, check_series, split_fields, validate
from bot.calendar.ical import CalendarEntry, calendar_bytes
from bot.calendar.recurrence import Occurrence, ParseError, occurrences, parse_start
from bot.calendar.reminders import before_text, occurrence_at, plan_event, series_of, unplan, when_text
from bot.commands import SUBCOMMAND, ActionSpec, CommandSpec, FormSpec, OptionSpec, OptionType, SubcommandSpec
from bot.context import Context, UserError
from bot.events import Actor, ButtonEvent, CommandEvent, FormSubmitEvent
from bot.i18n import N_, Translator
from bot.meetups.timing import zone as tz_of
from bot.port import Attachment, Button, ButtonStyle, Form, FormErrors, FormField, Reply
from bot.safety import as_id, clip
from storage.events import EventInput, EventRecord, Rsvp

log = logging.getLogger(__name__)

RSVP_ACTION = "events.rsvp"
FORM_ID = "event"
ADMIN_SUBCOMMANDS = ("add", "edit", "cancel", "move")
LIST_SIZE = 5
STATUSES = {"going": N_("going"), "maybe": N_("maybe"), "no": N_("not going")}
MAX_TIMESTAMP = 32_503_680_000  # the year 3000: a button's occurrence time beyond it is forged


def _upcoming(ctx: Context, events: list[EventRecord], days: int) -> list[tuple[EventRecord, Occurrence]]:
    now = ctx.clock.now()
    found = [
        (event, occurrence)
        for event in events
        for occurrence in occurrences(series_of(event), now, now + timedelta(days=days), limit=50)
    ]
    return sorted(found, key=lambda pair: (pair[1].start, pair[0].id))


def _line(ctx: Context, number: int, event: EventRecord, occurrence: Occurrence, going: int) -> str:
    t = ctx.t
    parts = [
        f"{number}. {when_text(ctx, t, event, occurrence.start)}",
        f"*{ctx.port.escape(event.title)}*",
        t.gettext("{minutes} min").format(minutes=event.duration_minutes),
        ctx.port.channel_mention(event.channel),
        t.ngettext("{count} going", "{count} going", going).format(count=going),
    ]
    text = " · ".join(parts)
    if occurrence.moved:
        text += " " + t.gettext("(moved)")
    if event.breakouts:
        text += "\n   " + t.gettext("Breakouts: {groups}").format(
            groups=ctx.port.escape(", ".join(event.breakouts))
        )
    return text


async def _list(event: CommandEvent, ctx: Context) -> Reply:
    t = ctx.t
    events = await ctx.services.events.active(ctx.port.platform.value)
    upcoming = _upcoming(ctx, events, ctx.config.events.list_days)[:LIST_SIZE]
    if not upcoming:
        return Reply(t.gettext("No upcoming events. Admins add them with /events add."))
    lines = [t.gettext("Upcoming events (times in your own time zone):")]
    buttons: list[Button] = []
    for number, (record, occurrence) in enumerate(upcoming, 1):
        going = len(await ctx.services.events.rsvps(record.id, occurrence.original, "going"))
        lines.append(_line(ctx, number, record, occurrence, going))
        value = f"{record.id}:{int(occurrence.original.timestamp())}"
        buttons += [
            Button(
                t.gettext("{n}: going").format(n=number), RSVP_ACTION, f"{value}:going", ButtonStyle.PRIMARY
            ),
            Button(t.gettext("{n}: maybe").format(n=number), RSVP_ACTION, f"{value}:maybe"),
            Button(t.gettext("{n}: not going").format(n=number), RSVP_ACTION, f"{value}:no"),
        ]
    lines.append(t.gettext("Answer with the buttons; /events mine lists yours."))
    return Reply("\n".join(lines), buttons=tuple(buttons))


async def _mine(event: CommandEvent, ctx: Context) -> Reply:
    t = ctx.t
    now = ctx.clock.now()
    mine = await ctx.services.events.mine(
        ctx.port.platform.value, event.actor.user_id, now - timedelta(days=1)
    )
    lines: list[tuple[datetime, str]] = []
    for rsvp in mine:
        record = await ctx.services.events.get(rsvp.event_id)
        occurrence = occurrence_at(record, rsvp.original) if record and record.cancelled_at is None else None
        if record is None or occurrence is None or occurrence.end < now:
            continue
        status = t.gettext(STATUSES[rsvp.status])
        when = when_text(ctx, t, record, occurrence.start)
        lines.append((occurrence.start, f"• {when} · *{ctx.port.escape(record.title)}* · {status}"))
    if not lines:
        return Reply(
            t.gettext("You have not said you are going to anything yet. /events lists what is coming.")
        )
    return Reply("\n".join([t.gettext("Your events:"), *(text for _, text in sorted(lines))]))


async def handle_rsvp(event: ButtonEvent, ctx: Context) -> Reply:
    t = ctx.t
    parts = event.value.split(":")
    event_id, stamp = (as_id(parts[0]), as_id(parts[1])) if len(parts) == 3 else (None, None)
    if event_id is None or stamp is None or stamp > MAX_TIMESTAMP or parts[2] not in STATUSES:
        return Reply(t.gettext("This button is no longer active. Please run the command again."))
    record = await ctx.services.events.get(event_id)
    original = datetime.fromtimestamp(stamp, tz=ctx.clock.now().tzinfo)
    occurrence = occurrence_at(record, original) if record and record.cancelled_at is None else None
    if record is None or occurrence is None:
        return Reply(t.gettext("That meeting was cancelled or changed; /events shows what is coming."))
    status = parts[2]
    await ctx.services.events.rsvp(
        Rsvp(record.id, original, ctx.port.platform.value, event.actor.user_id, status, t.locale),
        ctx.clock.now(),
    )
    when = when_text(ctx, t, record, occurrence.start)
    title = ctx.port.escape(record.title)
    if status == "going":
        reminders = ", ".join(before_text(t, m) for m in record.reminders)
        text = t.gettext("You're going to {title} on {when}.").format(title=title, when=when)
        if reminders:
            text += " " + t.gettext("I'll remind you: {reminders}.").format(reminders=reminders)
        return Reply(text)
    if status == "maybe":
        return Reply(t.gettext("Noted as maybe for {title} on {when}.").format(title=title, when=when))
    return Reply(t.gettext("Noted: not going to {title} on {when}.").format(title=title, when=when))


# -- admin ------------------------------------------------------------------------------------------


def _form(t: Translator, record: EventRecord | None) -> Form:
    start = ""
    repeat = ""
    if record is not None:
        start = f"{record.start_local:%Y-%m-%d %H:%M} {record.timezone}"
        repeat = record.rrule or "; ".join(d.isoformat() for d in record.dates)
    fields = (
        FormField("title", t.gettext("Title"), record.title if record else "", required=True, max_length=200),
        FormField(
            "start",
            t.gettext("First start (date, time, zone)"),
            start,
            placeholder="2026-09-09 15:00 Europe/London",
            required=True,
            max_length=100,
        ),
        FormField(
            "repeat",
            t.gettext("Repeat (a rule, or a list of dates)"),
            repeat,
            placeholder=t.gettext("monthly on the second Wednesday"),
            max_length=1000,
        ),
        FormField(
            "duration", t.gettext("Duration"), str(record.duration_minutes) if record else "60", max_length=20
        ),
        FormField(
            "description",
            t.gettext("Description"),
            record.description if record else "",
            multiline=True,
            max_length=2000,
        ),
    )
    title = t.gettext("Edit event") if record else t.gettext("New event")
    return Form(FORM_ID, title, t.gettext("Save"), fields, context=str(record.id) if record else "")


async def open_form(event: CommandEvent, ctx: Context) -> Form | None:
    sub = event.args.get(SUBCOMMAND)
    if not ctx.config.is_admin(event.actor.platform.value, event.actor.user_id):
        return None  # the command itself answers with the refusal
    if sub == "add" and not str(event.args.get("fields") or "").strip():
        return _form(ctx.t, None)
    if sub == "edit":
        number = as_id(str(event.args.get("event") or ""))
        if number is not None and not str(event.args.get("fields") or "").strip():
            record = await ctx.services.events.get(number)
            return _form(ctx.t, record) if record else None
    return None


def _merged(ctx: Context, draft: EventDraft, base: EventRecord | None, actor: Actor) -> EventInput:
    """The event as it will be saved: the draft's values over the current event (or the defaults)."""
    cfg = ctx.config.events
    channel = draft.channel or (base.channel if base else ctx.channel("announcements"))
    if not channel:
        raise UserError(
            ctx.t.gettext(
                "Say in which channel (channel=#name), or set [{platform}.channels] announcements in the "
                "bot's config. Nothing was saved."
            ).format(platform=ctx.port.platform.value)
        )
    start = draft.start or (base.start_local if base else None)
    if start is None:
        raise UserError(ctx.t.gettext("An event needs a start, e.g. start=2026-09-09 15:00 Europe/London."))
    title = draft.title or (base.title if base else "")
    if not title:
        raise UserError(ctx.t.gettext("An event needs a title, e.g. title=Coordinators chat."))
    repeat_given = draft.dates is not None
    return EventInput(
        platform=ctx.port.platform.value,
        channel=channel,
        title=title,
        start_local=start,
        timezone=draft.timezone or (base.timezone if base else ctx.timezone),
        duration_minutes=draft.duration_minutes or (base.duration_minutes if base else 60),
        description=draft.description
        if draft.description is not None
        else (base.description if base else ""),
        rrule=draft.rrule if repeat_given else (base.rrule if base else None),
        dates=(draft.dates or ()) if repeat_given else (base.dates if base else ()),
        breakouts=draft.breakouts if draft.breakouts is not None else (base.breakouts if base else ()),
        reminders=draft.reminders
        if draft.reminders is not None
        else (base.reminders if base else cfg.reminders),
        created_by=base.created_by if base else actor.user_id,
    )


async def _save(
    ctx: Context, actor: Actor, fields: dict[str, str], base: EventRecord | None
) -> Reply | FormErrors:
    t = ctx.t
    draft = validate(
        fields, t, default_timezone=base.timezone if base else ctx.timezone, escape=ctx.port.escape
    )
    if draft.errors:
        return FormErrors(draft.errors)
    data = _merged(ctx, draft, base, actor)
    problem = check_series(data.start_local, data.timezone, data.rrule, data.dates, t, ctx.port.escape)
    if problem:
        return FormErrors({"repeat": problem})
    now = ctx.clock.now()
    if base is None:
        record = await ctx.services.events.create(data, now)
    else:
        updated = await ctx.services.events.update(base.id, data, now)
        assert updated is not None
        record = updated
    await plan_event(ctx, record, now)
    following = occurrences(series_of(record), now, now + timedelta(days=3650), limit=1)
    if base is not None:
        await _notify(ctx, record, None, "changed")
    verb = t.gettext("Saved event #{id}: {title}.") if base else t.gettext("Created event #{id}: {title}.")
    lines = [verb.format(id=record.id, title=ctx.port.escape(record.title))]
    if following:
        lines.append(t.gettext("Next: {when}.").format(when=when_text(ctx, t, record, following[0].start)))
    else:
        lines.append(t.gettext("It has no upcoming date."))
    lines.append(
        t.gettext("Channel: {channel} · reminders: {reminders}").format(
            channel=ctx.port.channel_mention(record.channel),
            reminders=", ".join(before_text(t, m) for m in record.reminders) or t.gettext("none"),
        )
    )
    return Reply("\n".join(lines))


def _errors_text(t: Translator, errors: dict[str, str]) -> str:
    return "\n".join([t.gettext("Nothing was saved:"), *(f"• {k}: {v}" for k, v in errors.items())])


async def _add(event: CommandEvent, ctx: Context) -> Reply:
    fields, unknown = split_fields(str(event.args.get("fields") or ""))
    if unknown:
        raise UserError(_unknown_keys(ctx, unknown))
    result = await _save(ctx, event.actor, fields, None)
    return Reply(_errors_text(ctx.t, result.errors)) if isinstance(result, FormErrors) else result


def _unknown_keys(ctx: Context, unknown: list[str]) -> str:
    return ctx.t.gettext(
        "I don't know the field(s) {keys}. Use title, start, repeat, duration, channel, reminders, "
        "breakouts, description. Nothing was saved."
    ).format(keys=ctx.port.escape(", ".join(unknown)))


async def _record(ctx: Context, args: dict[str, Any], *rest_keys: str) -> tuple[EventRecord, str]:
    raw = args.get("event")
    rest = " ".join(str(args.get(k) or "") for k in rest_keys).strip()
    if isinstance(raw, str):
        word, _, tail = raw.strip().partition(" ")
        raw, rest = word.lstrip("#"), f"{tail} {rest}".strip()
    record = None
    if raw is not None and re.fullmatch(r"[0-9]{1,9}", str(raw)):
        record = await ctx.services.events.get(int(str(raw)))
    if record is None or record.platform != ctx.port.platform.value or record.cancelled_at is not None:
        raise UserError(
            ctx.t.gettext("There is no event #{id}. /events lists them with their numbers.").format(
                id=ctx.port.escape(str(raw or "")[:20])
            )
        )
    return record, rest


async def _edit(event: CommandEvent, ctx: Context) -> Reply:
    record, rest = await _record(ctx, event.args, "fields")
    fields, unknown = split_fields(rest)
    if unknown:
        raise UserError(_unknown_keys(ctx, unknown))
    if not fields:
        return Reply(ctx.t.gettext(EVENTS.usage))
    result = await _save(ctx, event.actor, fields, record)
    return Reply(_errors_text(ctx.t, result.errors)) if isinstance(result, FormErrors) else result


def _find_by_date(ctx: Context, record: EventRecord, text: str) -> Occurrence:
    """The occurrence on a local date ("2026-10-14", "14 October 2026") of the event's zone."""
    try:
        local, _ = parse_start(f"{text.strip()} 00:00" if ":" not in text else text)
    except ParseError:
        raise UserError(
            ctx.t.gettext("'{value}' is not a date I can read; try 2026-09-09 or 9 September 2026.").format(
                value=ctx.port.escape(text.strip()[:40])
            )
        ) from None
    now = ctx.clock.now()
    for occurrence in occurrences(
        series_of(record), now - timedelta(days=1), now + timedelta(days=800), limit=2000
    ):
        if occurrence.start.astimezone(tz_of(record.timezone)).date() == local.date():
            return occurrence
    raise UserError(
        ctx.t.gettext("Event #{id} has no meeting on {date}.").format(
            id=record.id, date=local.date().isoformat()
        )
    )


async def _cancel(event: CommandEvent, ctx: Context) -> Reply:
    t = ctx.t
    record, rest = await _record(ctx, event.args, "date")
    now = ctx.clock.now()
    if not rest:
        await ctx.services.events.cancel_series(record.id, now)
        notified = await _notify(ctx, record, None, "cancelled")
        for occurrence in occurrences(
            series_of(record), now, now + timedelta(days=ctx.config.events.plan_days)
        ):
            await unplan(ctx, record, occurrence.original)
        return Reply(
            t.ngettext(
                "Cancelled every meeting of {title}; {count} person going was told.",
                "Cancelled every meeting of {title}; {count} people going were told.",
                notified,
            ).format(title=ctx.port.escape(record.title), count=notified)
        )
    occurrence = _find_by_date(ctx, record, rest)
    await ctx.services.events.change(record.id, occurrence.original, "cancelled", None, now)
    await unplan(ctx, record, occurrence.original)
    notified = await _notify(ctx, record, occurrence, "cancelled")
    return Reply(
        t.ngettext(
            "Cancelled {title} on {when}; {count} person going was told.",
            "Cancelled {title} on {when}; {count} people going were told.",
            notified,
        ).format(
            title=ctx.port.escape(record.title),
            when=when_text(ctx, t, record, occurrence.start),
            count=notified,
        )
    )


async def _move(event: CommandEvent, ctx: Context) -> Reply:
    t = ctx.t
    record, rest = await _record(ctx, event.args, "date")
    if event.args.get("to"):  # Discord: typed options
        match = [rest, str(event.args["to"])]
    else:
        match = re.split(r"\s+(?:to|à|au|a|->|→)\s+", rest, maxsplit=1, flags=re.IGNORECASE)
    if len(match) != 2:
        return Reply(t.gettext(EVENTS.usage))
    occurrence = _find_by_date(ctx, record, match[0])
    try:
        local, zone = parse_start(match[1])
    except ParseError:
        raise UserError(
            t.gettext("Give the new start as a date and time, e.g. 2026-10-21 16:00 Europe/London.")
        ) from None
    new_start = local.replace(tzinfo=tz_of(zone or record.timezone)).astimezone(ctx.clock.now().tzinfo)
    now = ctx.clock.now()
    if new_start <= now:
        raise UserError(t.gettext("The new start is in the past. Nothing was changed."))
    await ctx.services.events.change(record.id, occurrence.original, "moved", new_start, now)
    moved = await ctx.services.events.get(record.id)
    assert moved is not None
    await plan_event(ctx, moved, now)
    moved_occurrence = replace(occurrence, start=new_start, moved=True)
    notified = await _notify(ctx, moved, moved_occurrence, "moved", old_start=occurrence.start)
    return Reply(
        t.ngettext(
            "Moved {title} to {when}; {count} person going was told.",
            "Moved {title} to {when}; {count} people going were told.",
            notified,
        ).format(
            title=ctx.port.escape(record.title), when=when_text(ctx, t, record, new_start), count=notified
        )
    )


async def _notify(
    ctx: Context,
    record: EventRecord,
    occurrence: Occurrence | None,
    change: str,
    *,
    old_start: datetime | None = None,
) -> int:
    """DM everyone going to the affected meeting(s); returns how many people were told."""
    now = ctx.clock.now()
    if occurrence is not None:
        going = await ctx.services.events.rsvps(record.id, occurrence.original, "going")
    else:
        going = await ctx.services.events.going_after(record.id, now)
    told: set[str] = set()
    for rsvp in going:
        if rsvp.platform != record.platform or rsvp.user_id in told:
            continue
        t = Translator(rsvp.locale)
        title = ctx.port.escape(record.title)
        if change == "moved" and occurrence is not None and old_start is not None:
            text = t.gettext("📅 {title} on {old} has moved to {new}.").format(
                title=title,
                old=when_text(ctx, t, record, old_start),
                new=when_text(ctx, t, record, occurrence.start),
            )
        elif change == "cancelled" and occurrence is not None:
            text = t.gettext("📅 {title} on {when} is cancelled.").format(
                title=title, when=when_text(ctx, t, record, occurrence.start)
            )
        elif change == "cancelled":
            text = t.gettext("📅 {title} is cancelled: no more meetings.").format(title=title)
        else:
            text = t.gettext("📅 {title} has changed; /events shows the new details.").format(title=title)
        try:
            await ctx.port.dm(rsvp.user_id, text)
            told.add(rsvp.user_id)
        except Exception:
            log.exception("change notice to %s failed", rsvp.user_id)
    return len(told)


async def _export(event: CommandEvent, ctx: Context) -> Reply:
    data = await calendar_file(ctx, ctx.port.platform.value, None)
    return Reply(
        ctx.t.gettext(
            "The calendar file holds every meeting of the next year; open it in your calendar app."
        ),
        attachment=Attachment("iben-events.ics", data, ctx.t.gettext("Community calendar")),
    )


async def calendar_file(ctx: Context, platform: str, channel: str | None, days: int = 365) -> bytes:
    """Every meeting of the next `days` as an .ics (also used by the CLI and the HTTP feed)."""
    return await export_ics(ctx.services, platform, channel, ctx.clock.now(), days)


async def export_ics(
    services: Any, platform: str | None, channel: str | None, now: datetime, days: int = 365
) -> bytes:
    entries: list[CalendarEntry] = []
    for record in await services.events.active(platform, channel):
        for occurrence in occurrences(
            series_of(record), now - timedelta(days=1), now + timedelta(days=days), limit=1000
        ):
            description = record.description
            if record.breakouts:
                description += ("\n\n" if description else "") + "Breakouts: " + ", ".join(record.breakouts)
            entries.append(
                CalendarEntry(
                    uid=f"event-{record.id}-{occurrence.original:%Y%m%dT%H%M%SZ}@iben-bot",
                    title=clip(record.title, 200),
                    description=description,
                    start=occurrence.start,
                    end=occurrence.end,
                    location=f"{record.platform} #{record.channel}",
                    sequence=record.sequence,
                )
            )
    name = "IB Educator Network" + (f" #{channel}" if channel else "")
    return calendar_bytes(entries, name=name, stamp=now)


async def handle_events(event: CommandEvent, ctx: Context) -> Reply:
    sub = event.args.get(SUBCOMMAND) or "list"
    if sub in ADMIN_SUBCOMMANDS and not ctx.config.is_admin(event.actor.platform.value, event.actor.user_id):
        return Reply(ctx.t.gettext("Only network admins can use /events {name}.").format(name=sub))
    handlers = {
        "list": _list,
        "mine": _mine,
        "add": _add,
        "edit": _edit,
        "cancel": _cancel,
        "move": _move,
        "export": _export,
    }
    return await handlers[sub](event, ctx)


async def submit_form(event: FormSubmitEvent, ctx: Context) -> Reply | FormErrors:
    if not ctx.config.is_admin(event.actor.platform.value, event.actor.user_id):
        return Reply(ctx.t.gettext("Only network admins can use /events {name}.").format(name="add"))
    number = as_id(event.context)
    base = await ctx.services.events.get(number) if number is not None else None
    fields = {
        k: v for k, v in event.values.items() if k in ("title", "start", "repeat", "duration", "description")
    }
    if base is None and not fields.get("repeat", "").strip():
        fields.pop("repeat", None)
    return await _save(ctx, event.actor, fields, base)


EVENTS = CommandSpec(
    name="events",
    description=N_("Community meetings: list, RSVP, your events"),
    usage=N_(
        "/events · /events mine · admins: /events add title=… start=2026-09-09 15:00 Europe/London "
        "repeat=monthly on the second Wednesday duration=60 · /events edit <n> field=… · "
        "/events cancel <n> [date] · /events move <n> <date> to <new start> · /events export"
    ),
    handler=handle_events,
    form=open_form,
    subcommands=(
        SubcommandSpec("list", N_("Upcoming meetings, with RSVP buttons")),
        SubcommandSpec("mine", N_("Meetings you said you are going to")),
        SubcommandSpec("export", N_("Download the calendar (.ics)")),
        SubcommandSpec(
            "add",
            N_("Admins: create a meeting (a form, or fields)"),
            (
                OptionSpec(
                    "fields", N_("title=… start=… repeat=… duration=…"), required=False, max_length=1500
                ),
            ),
        ),
        SubcommandSpec(
            "edit",
            N_("Admins: change a meeting"),
            (
                OptionSpec("event", N_("The event's number"), OptionType.INTEGER),
                OptionSpec(
                    "fields", N_("title=… start=… repeat=… duration=…"), required=False, max_length=1500
                ),
            ),
        ),
        SubcommandSpec(
            "cancel",
            N_("Admins: cancel one date, or every meeting"),
            (
                OptionSpec("event", N_("The event's number"), OptionType.INTEGER),
                OptionSpec("date", N_("Only this date (optional)"), required=False, max_length=40),
            ),
        ),
        SubcommandSpec(
            "move",
            N_("Admins: move one date"),
            (
                OptionSpec("event", N_("The event's number"), OptionType.INTEGER),
                # Optional for the dispatcher: Slack and the console type "<n> <date> to <start>" as one text.
                OptionSpec("date", N_("The date to move"), required=False, max_length=40),
                OptionSpec("to", N_("The new start, e.g. 2026-10-21 16:00"), required=False, max_length=60),
            ),
        ),
    ),
)

EVENT_ACTIONS = (ActionSpec(RSVP_ACTION, handle_rsvp),)
EVENT_FORM = FormSpec(FORM_ID, submit_form)
