"""Event reminders as scheduled work: 24 h and 1 h before each occurrence (per event), in the event's
channel and by DM to everyone going.

Reminders are planned `plan_days` ahead (a daily job per platform extends the horizon), keyed by the
occurrence's identity, so re-planning replaces instead of adding. When a reminder runs it checks the
occurrence still exists at the time it was planned for (an edit or a move re-plans it), is not more
than `grace_minutes` behind (else it is skipped and logged), and marks itself "(late)" past
`late_after_seconds`. Every send claims a delivery key first, so a restart or a replay never repeats.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from bot.batching import MicroBatch
from bot.calendar.recurrence import Occurrence, Series, occurrences
from bot.context import Context
from bot.delivery import tagged
from bot.i18n import Translator
from bot.safety import clip
from storage.deliveries import Claim
from storage.events import EventRecord

log = logging.getLogger(__name__)

REMIND = "events.remind"
PLAN = "events.plan"
STAMP = "%Y%m%dT%H%M%SZ"
MARK_EVERY = 50  # sends marked in the ledger per round trip


def series_of(event: EventRecord) -> Series:
    return Series(
        start=event.start_local,
        timezone=event.timezone,
        duration_minutes=event.duration_minutes,
        rrule=event.rrule,
        dates=event.dates,
        cancelled=event.cancelled,
        moved=event.moved,
    )


def reminder_key(event_id: int, original: datetime, minutes: int) -> str:
    return f"{REMIND}:{event_id}:{original.strftime(STAMP)}:{minutes}"


async def plan_event(ctx: Context, event: EventRecord, now: datetime) -> int:
    """Put the reminders of the next `plan_days` on the scheduler; returns how many."""
    if event.cancelled_at is not None or not event.reminders:
        return 0
    horizon = now + timedelta(days=ctx.config.events.plan_days)
    reach = timedelta(minutes=max(event.reminders))
    planned = 0
    for occurrence in occurrences(series_of(event), now, horizon + reach):
        for minutes in event.reminders:
            at = occurrence.start - timedelta(minutes=minutes)
            if at < now or at > horizon:
                continue
            await ctx.services.scheduler.schedule(
                key=reminder_key(event.id, occurrence.original, minutes),
                kind=REMIND,
                run_at=at,
                payload={
                    "platform": event.platform,
                    "event_id": event.id,
                    "original": occurrence.original.isoformat(),
                    "start": occurrence.start.isoformat(),
                    "minutes": minutes,
                },
            )
            planned += 1
    await ctx.services.scheduler.schedule(
        key=f"{PLAN}:{event.platform}",
        kind=PLAN,
        run_at=now + timedelta(days=1),
        payload={"platform": event.platform},
    )
    return planned


async def unplan(ctx: Context, event: EventRecord, original: datetime) -> None:
    for minutes in event.reminders:
        await ctx.services.scheduler.cancel(reminder_key(event.id, original, minutes))


async def run_plan(ctx: Context, payload: dict[str, Any], scheduled_for: datetime) -> None:
    """Daily: extend every active event's reminders to the horizon (and plan the next run)."""
    platform = str(payload["platform"])
    now = ctx.clock.now()
    for event in await ctx.services.events.active(platform):
        await plan_event(ctx, event, now)
    await ctx.services.scheduler.schedule(
        key=f"{PLAN}:{platform}", kind=PLAN, run_at=now + timedelta(days=1), payload={"platform": platform}
    )


def before_text(t: Translator, minutes: int) -> str:
    if minutes % 1440 == 0:
        days = minutes // 1440
        return t.ngettext("in {count} day", "in {count} days", days).format(count=days)
    if minutes % 60 == 0:
        hours = minutes // 60
        return t.ngettext("in {count} hour", "in {count} hours", hours).format(count=hours)
    return t.ngettext("in {count} minute", "in {count} minutes", minutes).format(count=minutes)


def when_text(ctx: Context, t: Translator, event: EventRecord, start: datetime) -> str:
    """A native time token (each reader's own zone) with the event's local time as the fallback."""
    return ctx.port.time_token(start, t.datetime_in(start, event.timezone))


def occurrence_at(event: EventRecord, original: datetime, start: datetime | None = None) -> Occurrence | None:
    """The occurrence whose identity is `original`, if it exists and starts at `start` (by default
    where it is now: moved or not). Looks only at that minute, not the whole series."""
    start = start or event.moved.get(original, original)
    window = occurrences(series_of(event), start, start + timedelta(minutes=1), limit=50)
    return next((o for o in window if o.original == original), None)


Item = tuple[Context, dict[str, Any], datetime]


async def run_reminder(ctx: Context, payload: dict[str, Any], scheduled_for: datetime) -> None:
    """One due reminder; reminders due together are sent as one batch (see bot/batching.py)."""
    batch = ctx.services.batches.get(REMIND)
    if batch is None:
        batch = ctx.services.batches[REMIND] = MicroBatch(run_reminders, limit=2000)
    await batch.submit((ctx, payload, scheduled_for))


async def run_reminders(items: Sequence[Item]) -> list[BaseException | None]:
    """Due reminders in a few round trips: one read of the events, one of those going, one claim of
    every delivery key, the sends, one mark. A failed channel post fails (and so retries) only its own
    reminder; a failed DM is logged and its key released."""
    services = items[0][0].services
    now = services.clock.now()
    outcomes: list[BaseException | None] = [None] * len(items)
    events = await services.events.get_many([int(payload["event_id"]) for _, payload, _ in items])
    due: list[tuple[int, Context, EventRecord, Occurrence, int, bool, str]] = []
    for index, (ctx, payload, scheduled_for) in enumerate(items):
        event = events.get(int(payload["event_id"]))
        original = datetime.fromisoformat(str(payload["original"]))
        planned_start = datetime.fromisoformat(str(payload["start"]))
        minutes = int(payload["minutes"])
        if event is None or event.cancelled_at is not None:
            continue
        occurrence = occurrence_at(event, original, planned_start)
        if occurrence is None:
            continue  # cancelled or moved since: the move planned its own reminders
        behind = ctx.clock.now() - scheduled_for
        settings = ctx.config.events
        if behind > timedelta(minutes=settings.grace_minutes):
            log.warning(
                "reminder %s skipped: %s behind its time (grace %d min)",
                reminder_key(event.id, original, minutes),
                behind,
                settings.grace_minutes,
            )
            continue
        late = behind > timedelta(seconds=settings.late_after_seconds)
        key = f"{reminder_key(event.id, original, minutes)}:{planned_start.strftime(STAMP)}"
        due.append((index, ctx, event, occurrence, minutes, late, key))
    going = await services.events.going_many([(event.id, occ.original) for _, _, event, occ, _, _, _ in due])
    sends: list[tuple[str, int, Callable[[], Awaitable[Any]]]] = []
    for index, ctx, event, occurrence, minutes, late, key in due:
        text = reminder_text(ctx, ctx.community, event, occurrence, minutes, late=late)
        sends.append((f"{key}:channel", index, partial(ctx.port.post, event.channel, text)))
        for rsvp in going[(event.id, occurrence.original)]:
            if rsvp.platform != event.platform:
                continue
            personal = reminder_text(
                ctx, Translator(rsvp.locale), event, occurrence, minutes, late=late, going=True
            )
            sends.append((f"{key}:dm:{rsvp.user_id}", -1, partial(ctx.port.dm, rsvp.user_id, personal)))
    sends.sort(key=lambda send: send[1] < 0)  # every channel post first, then the DMs
    claimed = await services.deliveries.claim_many([key for key, _, _ in sends], REMIND, now)
    sent: list[str] = []
    for key, index, send in sends:
        claim = claimed.get(key)
        if claim is None:
            continue  # sent before (a replay, another leader)
        try:
            with tagged(key, verify=claim is Claim.IN_DOUBT):
                await send()
        except Exception as exc:
            await services.deliveries.release(key)
            services.telemetry.delivery(REMIND, "failed")
            if index >= 0:
                outcomes[index] = exc  # the channel post: retry this reminder
            else:
                log.exception("reminder DM %s failed", key)
            continue
        sent.append(key)
        if len(sent) % MARK_EVERY == 0:  # a crash leaves few claims in doubt, not the whole batch
            await services.deliveries.mark_sent_many(sent[-MARK_EVERY:], services.clock.now())
    await services.deliveries.mark_sent_many(sent[len(sent) - len(sent) % MARK_EVERY :], services.clock.now())
    services.telemetry.delivery(REMIND, "skipped", len(sends) - len(claimed.new) - len(claimed.in_doubt))
    services.telemetry.delivery(REMIND, "sent", len(sent))
    return outcomes


def reminder_text(
    ctx: Context,
    t: Translator,
    event: EventRecord,
    occurrence: Occurrence,
    minutes: int,
    *,
    late: bool,
    going: bool = False,
) -> str:
    lines = [
        t.gettext("⏰ {title} starts {when} ({soon}).").format(
            title=ctx.port.escape(event.title),
            when=when_text(ctx, t, event, occurrence.start),
            soon=before_text(t, minutes),
        )
    ]
    if late:
        lines[0] += " " + t.gettext("(late: the bot was offline at the planned time)")
    if event.breakouts:
        lines.append(
            t.gettext("Breakouts: {groups}").format(groups=ctx.port.escape(", ".join(event.breakouts)))
        )
    if event.description:
        lines.append(ctx.port.escape(clip(event.description, 300)))
    if going:
        lines.append(t.gettext("You said you are going. See you there!"))
    return "\n".join(lines)
