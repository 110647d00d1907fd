"""Meet-up rounds as scheduled work: the announcement before, the round (match, invite, tell who
sits out why), and the "Did you meet?" follow-up.

Every step is safe to replay: a round is stored once per (platform, time) and found again on a retry;
every message goes through the delivery ledger, so a restart or a second leader never sends twice.
Matching runs in a worker thread so a large pool never stalls the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.context import Context
from bot.delivery import deliver_once
from bot.handlers.whois import member_line
from bot.i18n import N_, Translator
from bot.meetups import matching
from bot.meetups.explain import why_matched
from bot.meetups.ics import slots_calendar
from bot.meetups.matching import Candidate, MatchSettings, Reason
from bot.meetups.timing import Hours, following, suggest_slots
from bot.port import Attachment, Button, ButtonStyle, MessageRef
from storage.meetups import GroupRecord, NewGroup, Participation, RoundRecord, ScheduleRecord
from storage.members import MemberCard

log = logging.getLogger(__name__)

ROUND = "meetups.round"
ANNOUNCE = "meetups.announce"
FOLLOWUP = "meetups.followup"
MET_ACTION = "meetups.met"
CADENCE_SLACK = timedelta(days=1)  # a member every 2 weeks is due again a day early, not a week late

REASONS = {
    Reason.ALONE: N_("Nobody else is in this meet-up round yet."),
    Reason.NO_OVERLAP: N_("Nobody in this round shares at least an hour of working time with you."),
    Reason.NO_LANGUAGE: N_("Nobody who shares your working hours shares a language with you."),
    Reason.EXCLUDED: N_("The only people who fit are on a 'don't match' list."),
    Reason.RECENT: N_("You have met everyone who fits in recent rounds."),
    Reason.ODD_ONE_OUT: N_("Everyone who fits was already in a full group."),
}


BULK_CARDS = 2000  # above this many ids, read every card once instead of a giant IN (...) list


async def cards_for(ctx: Context, member_ids: Sequence[int]) -> dict[int, MemberCard]:
    wanted = set(member_ids)
    ids = sorted(wanted) if len(wanted) <= BULK_CARDS else None
    return {c.member_id: c for c in await ctx.services.members.cards(ids) if c.member_id in wanted}


def round_seed(platform: str, at: datetime) -> int:
    """Stable per round (a replay matches the same way), different between rounds."""
    digest = hashlib.sha256(f"{platform}:{at.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


async def plan(ctx: Context, schedule: ScheduleRecord, when: datetime) -> None:
    """Store `when` as the next round and put the round (and its announcement) on the scheduler."""
    services = ctx.services
    await services.meetups.set_next_round(schedule.platform, when)
    payload = {"platform": schedule.platform, "at": when.isoformat()}
    await services.scheduler.schedule(
        key=f"{ROUND}:{schedule.platform}", kind=ROUND, run_at=when, payload=payload
    )
    announce_at = when - timedelta(hours=ctx.config.meetups.announce_hours_before)
    if announce_at > ctx.clock.now():
        await services.scheduler.schedule(
            key=f"{ANNOUNCE}:{schedule.platform}", kind=ANNOUNCE, run_at=announce_at, payload=payload
        )


def _channel(ctx: Context, schedule: ScheduleRecord) -> str | None:
    return schedule.channel or ctx.channel("announcements")


async def run_announce(ctx: Context, payload: dict[str, Any], scheduled_for: datetime) -> None:
    """The day before: when the round is, how many are in, and how to pause."""
    platform, at = str(payload["platform"]), datetime.fromisoformat(str(payload["at"]))
    schedule = await ctx.services.meetups.schedule(platform)
    if schedule is None or schedule.next_round_at != at:
        return  # the schedule changed since
    if await ctx.services.meetups.round_at(platform, at) is not None:
        return  # missed while down and the round already ran: too late to announce
    channel = _channel(ctx, schedule)
    if not channel:
        log.warning("meet-up announcement skipped: no announcements channel on %s", platform)
        return
    t = ctx.community
    count = await ctx.services.meetups.count(platform, at)
    fallback = t.datetime_in(at, schedule.timezone)
    text = "\n".join(
        [
            t.gettext("☕ The next job-alike meet-up round is {when}.").format(
                when=ctx.port.time_token(at, fallback)
            ),
            t.ngettext("{count} member is in.", "{count} members are in.", count).format(count=count),
            t.gettext("Busy? /meetups pause 1 skips a week. New here? /meetups join"),
        ]
    )

    async def send() -> None:
        await ctx.port.post(channel, text)

    await deliver_once(ctx, f"{ANNOUNCE}:{platform}:{at.isoformat()}", ANNOUNCE, send)


def _eligible(p: Participation, at: datetime, last: datetime | None) -> bool:
    if p.paused_until is not None and p.paused_until > at:
        return False
    return last is None or at - last >= timedelta(weeks=p.cadence_weeks) - CADENCE_SLACK


def candidate(card: MemberCard, p: Participation, avoids: set[int], ctx: Context) -> Candidate:
    bot = ctx.config.bot
    return Candidate(
        member_id=card.member_id,
        roles=frozenset(card.roles),
        subjects=frozenset(card.subjects),
        programmes=frozenset(card.programmes),
        languages=frozenset(card.languages or (card.locale or bot.default_locale,)),
        school=card.school,
        region=card.region,
        timezone=card.timezone or bot.default_timezone,
        work_start=card.work_start,
        work_end=card.work_end,
        max_group=p.group_size,
        excluded=frozenset(avoids),
    )


async def _form_round(ctx: Context, platform: str, at: datetime) -> RoundRecord:
    """Match the eligible pool once and store the groups (a replay finds the stored round)."""
    meetups = ctx.services.meetups
    existing = await meetups.round_at(platform, at)
    if existing is not None:
        return existing
    participants = await meetups.participants(platform)
    last = await meetups.last_matched([p.member_id for p in participants])
    eligible = {p.member_id: p for p in participants if _eligible(p, at, last.get(p.member_id))}
    cards = {m: c for m, c in (await cards_for(ctx, list(eligible))).items() if c.identities.get(platform)}
    avoids = await meetups.all_avoids()
    pool = [candidate(cards[m], eligible[m], avoids.get(m, set()), ctx) for m in sorted(cards)]
    recent = await meetups.recent_pairs(platform, ctx.config.meetups.recent_rounds)
    seed = round_seed(platform, at)
    settings = MatchSettings(min_overlap_minutes=ctx.config.meetups.min_overlap_minutes)
    result = await asyncio.to_thread(matching.match, pool, on=at, seed=seed, recent=recent, settings=settings)
    groups = [
        NewGroup(g.member_ids, g.weight, len({cards[m].region for m in g.member_ids if cards[m].region}))
        for g in result.groups
    ]
    record, created = await meetups.record_round(
        platform,
        at,
        ran_at=ctx.clock.now(),
        seed=seed,
        eligible=len(pool),
        groups=groups,
        sitouts=[(u.member_id, u.reason.value) for u in result.unmatched],
    )
    if created:
        log.info(
            "meet-up round %s on %s: %d eligible, %d groups, %d sit out",
            record.id,
            platform,
            len(pool),
            len(groups),
            len(result.unmatched),
        )
    return record


async def run_round(ctx: Context, payload: dict[str, Any], scheduled_for: datetime) -> None:
    platform, at = str(payload["platform"]), datetime.fromisoformat(str(payload["at"]))
    meetups = ctx.services.meetups
    schedule = await meetups.schedule(platform)
    if schedule is None:
        return
    if await meetups.round_at(platform, at) is None and schedule.next_round_at != at:
        return  # superseded by a schedule change, and never started
    record = await _form_round(ctx, platform, at)
    if schedule.next_round_at == at:
        await plan(
            ctx, schedule, following(at, schedule.cadence_weeks, schedule.at_minutes, schedule.timezone)
        )
    channel = _channel(ctx, schedule)
    groups = await meetups.groups(record.id)
    cards = await cards_for(ctx, [m for g in groups for m in g.member_ids])
    for group in groups:
        await _invite(ctx, record, group, cards, channel)
    await _tell_sitouts(ctx, record)
    await ctx.services.scheduler.schedule(
        key=f"{FOLLOWUP}:{record.id}",
        kind=FOLLOWUP,
        run_at=at + timedelta(days=ctx.config.meetups.followup_days),
        payload={"platform": platform, "round_id": record.id},
    )


def _hours(card: MemberCard, ctx: Context) -> Hours:
    return Hours(card.timezone or ctx.config.bot.default_timezone, card.work_start, card.work_end)


def _slot_line(ctx: Context, t: Translator, number: int, slot: datetime, people: Sequence[MemberCard]) -> str:
    """A native time token where the platform has one; else UTC plus each person's local time."""
    local = ", ".join(
        f"{c.name} {t.time_in(slot, c.timezone or ctx.config.bot.default_timezone)}" for c in people
    )
    fallback = f"{t.datetime_in(slot, 'UTC')} · {local}"
    return f"{number}. {ctx.port.time_token(slot, fallback)}"


def invitation_text(
    ctx: Context, t: Translator, people: Sequence[MemberCard], slots: Sequence[datetime], now: datetime
) -> str:
    reader_ctx = replace(ctx, t=t)
    lines = [t.gettext("☕ Your job-alike meet-up for this round! Meet:")]
    lines += [member_line(card, reader_ctx, now) for card in people]
    reasons = why_matched(t, people[0], people[1]) if len(people) >= 2 else []
    if reasons:
        lines.append(t.gettext("Why you: {reasons}.").format(reasons=ctx.port.escape("; ".join(reasons))))
    if slots:
        lines.append(t.gettext("Times inside everyone's working hours (shown in your own time zone):"))
        lines += [_slot_line(ctx, t, i, slot, people) for i, slot in enumerate(slots, 1)]
        lines.append(t.gettext("The attached calendar file holds these options; agree on one here."))
    else:
        lines.append(t.gettext("I found no common slot in the next two weeks; please agree on a time here."))
    return "\n".join(lines)


async def _invite(
    ctx: Context, record: RoundRecord, group: GroupRecord, cards: dict[int, MemberCard], channel: str | None
) -> None:
    people = [cards[m] for m in group.member_ids if m in cards]
    user_ids = [c.identities[record.platform] for c in people if c.identities.get(record.platform)]
    if len(user_ids) < 2:
        return  # someone left the network since the round was formed
    now, length = ctx.clock.now(), timedelta(minutes=ctx.config.meetups.slot_minutes)
    slots = suggest_slots([_hours(c, ctx) for c in people], now, length=length)
    locales = sorted({c.locale or ctx.config.bot.default_locale for c in people})
    texts = [invitation_text(ctx, Translator(loc), people, slots, now) for loc in locales]
    community = ctx.community
    attachment = None
    if slots:
        data = slots_calendar(
            slots,
            length=length,
            title=community.gettext("Job-alike meet-up"),
            description=", ".join(c.name for c in people),
            uid_prefix=f"meetup-{record.platform}-{group.id}",
            stamp=now,
        )
        attachment = Attachment("meetup.ics", data, community.gettext("Suggested meet-up times"))
    title = community.gettext("Meet-up: {names}").format(names=", ".join(c.name.split()[0] for c in people))

    async def send() -> None:
        first = await ctx.port.open_group(
            user_ids,
            texts[0],
            title=title,
            channel=channel,
            attachment=attachment if len(texts) == 1 else None,
        )
        await ctx.services.meetups.set_conversation(group.id, first.channel, first.thread, first.message_id)
        for i, text in enumerate(texts[1:], 2):
            await ctx.port.send(first, text, attachment=attachment if i == len(texts) else None)

    await deliver_once(ctx, f"meetups.invite:{group.id}", "meetups.invite", send)


async def _tell_sitouts(ctx: Context, record: RoundRecord) -> None:
    sitouts = await ctx.services.meetups.sitouts(record.id)
    cards = await cards_for(ctx, [m for m, _ in sitouts])
    for member_id, reason in sitouts:
        card = cards.get(member_id)
        user_id = card.identities.get(record.platform) if card else None
        if card is None or not user_id:
            continue
        t = Translator(card.locale or ctx.config.bot.default_locale)
        text = "\n".join(
            [
                t.gettext("No meet-up for you this round, sorry."),
                t.gettext(REASONS.get(Reason(reason), REASONS[Reason.ODD_ONE_OUT])),
                t.gettext("You stay in for the next round; /meetups status shows your settings."),
            ]
        )

        async def send(user_id: str = user_id, text: str = text) -> None:
            await ctx.port.dm(user_id, text)

        await deliver_once(ctx, f"meetups.sitout:{record.id}:{member_id}", "meetups.sitout", send)


def met_buttons(t: Translator, group_id: int) -> tuple[Button, ...]:
    return (
        Button(t.gettext("Yes, we met"), MET_ACTION, f"{group_id}:yes", ButtonStyle.PRIMARY),
        Button(t.gettext("Not this time"), MET_ACTION, f"{group_id}:no"),
    )


async def run_followup(ctx: Context, payload: dict[str, Any], scheduled_for: datetime) -> None:
    """Ask each group of the round whether they met; answers feed /meetups stats."""
    meetups = ctx.services.meetups
    record = await meetups.get_round(int(payload["round_id"]))
    if record is None:
        return
    groups = await meetups.groups(record.id)
    cards = await cards_for(ctx, [m for g in groups for m in g.member_ids])
    for group in groups:
        if not group.channel or not group.message_id:
            continue  # never invited (left since): nothing to follow up
        where = MessageRef(ctx.port.platform, group.channel, group.message_id, group.thread)
        locales = sorted(
            {
                (cards[m].locale if m in cards else None) or ctx.config.bot.default_locale
                for m in group.member_ids
            }
        )

        async def send(
            where: MessageRef = where, locales: list[str] = locales, group_id: int = group.id
        ) -> None:
            for loc in locales:
                t = Translator(loc)
                text = t.gettext("Did you meet? One tap tells me (it helps plan the next rounds).")
                await ctx.port.send(where, text, buttons=met_buttons(t, group_id))

        await deliver_once(ctx, f"{FOLLOWUP}:{group.id}", FOLLOWUP, send)
