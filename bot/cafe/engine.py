"""Running a World Café: rounds with a provocation and a routine, one tablecloth (thread) per table,
rotation, a one-minute warning, tablecloths closing, the take-out round and the harvest.

Every transition is a scheduled job or a host command, guarded by the session's round number in the
database (only one run can move round r to r+1) and every post goes through the delivery ledger, so a
restart mid-session resumes at the right round without posting anything twice.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.cafe.rotation import seat
from bot.cafe.templates import Template, available, builtin_dir, table_count
from bot.context import Context
from bot.delivery import deliver_once
from bot.events import MessageEvent
from bot.i18n import Translator
from bot.port import Attachment, Button, ButtonStyle, MessageRef
from bot.safety import clip
from storage.cafes import Note, SessionRecord, TableRecord

log = logging.getLogger(__name__)

BEGIN = "cafe.begin"
WARN = "cafe.warn"
CLOSE = "cafe.close"
REMIND = "cafe.remind"
JOIN_ACTION = "cafe.join"
TAKEOUT_MINUTES = 3


def templates(ctx: Context, locale: str) -> dict[str, Template]:
    folders = [builtin_dir()]
    if ctx.config.cafe.templates_dir:
        folders.append(Path(ctx.config.cafe.templates_dir))
    return available(folders, locale)


def template_of(ctx: Context, session: SessionRecord) -> Template | None:
    return templates(ctx, session.locale).get(session.template_id)


def join_button(t: Translator, session_id: int) -> Button:
    return Button(t.gettext("☕ Join the café"), JOIN_ACTION, str(session_id), ButtonStyle.PRIMARY)


def _key(session: SessionRecord, *parts: object) -> str:
    return ":".join(["cafe", str(session.id), *(str(p) for p in parts)])


async def _once(ctx: Context, key: str, send: Any) -> bool:
    return await deliver_once(ctx, key, "cafe", send)


async def cancel_timers(ctx: Context, session: SessionRecord) -> None:
    for kind in (WARN, CLOSE):
        await ctx.services.scheduler.cancel(_key(session, kind))


async def schedule_timers(ctx: Context, session: SessionRecord, round_index: int, ends: datetime) -> None:
    payload = {"platform": session.platform, "session_id": session.id, "round": round_index}
    if ends - ctx.clock.now() > timedelta(minutes=1, seconds=30):
        await ctx.services.scheduler.schedule(
            key=_key(session, WARN), kind=WARN, run_at=ends - timedelta(minutes=1), payload=payload
        )
    await ctx.services.scheduler.schedule(key=_key(session, CLOSE), kind=CLOSE, run_at=ends, payload=payload)


def _mention_all(ctx: Context, user_ids: list[str]) -> str:
    return " ".join(ctx.port.mention(u) for u in user_ids)


async def start_round(ctx: Context, session: SessionRecord, round_index: int) -> None:
    """Open round `round_index` (the last one, len(rounds), is the take-out round)."""
    template = template_of(ctx, session)
    if template is None:
        log.error("café %s: template %s is gone", session.id, session.template_id)
        return
    cafe = ctx.services.cafes
    people = await cafe.participants(session.id)
    if not people:
        return
    if round_index == 0 or not session.seating:
        plan = seat(
            [p.user_id for p in people],
            [p.user_id for p in people if p.table_host],
            table_count(template, len(people)),
            len(template.rounds),
            seed=session.seed,
        )
        seating = [[list(table) for table in r] for r in plan.rounds]
        await cafe.update(session.id, seating=seating)
    else:
        seating = session.seating
    takeout = round_index >= len(template.rounds)
    minutes = TAKEOUT_MINUTES if takeout else template.rounds[round_index].minutes
    ends = ctx.clock.now() + timedelta(minutes=minutes)
    if not await cafe.update(
        session.id,
        expect_round=round_index - 1,
        current_round=round_index,
        status="running",
        round_ends_at=ends,
        paused_seconds_left=None,
    ):
        log.info("café %s: round %d already started", session.id, round_index)
        return
    t = Translator(session.locale)
    if takeout:
        await _open_takeout(ctx, session, template, t, [p.user_id for p in people], round_index)
    else:
        hosts = {p.user_id for p in people if p.table_host}
        await _open_tables(ctx, session, template, t, seating, round_index, hosts)
    await schedule_timers(ctx, session, round_index, ends)


async def _open_tables(
    ctx: Context, session: SessionRecord, template: Template, t: Translator, seating: list[list[list[str]]],
    round_index: int, hosts: set[str],
) -> None:  # fmt: skip
    round_ = template.rounds[round_index]
    total = len(template.rounds)
    intro = "\n".join(
        [
            t.gettext("☕ Round {n} of {total} · {minutes} min").format(
                n=round_index + 1, total=total, minutes=round_.minutes
            ),
            f"*{ctx.port.escape(round_.question)}*",
            t.gettext("Thinking routine: {routine} ({steps})").format(
                routine=ctx.port.escape(round_.routine), steps=ctx.port.escape(round_.steps)
            ),
            t.gettext("Write your ideas on your table's tablecloth (its thread). Tables:"),
        ]
    )

    async def post_intro() -> None:
        await ctx.port.post(session.channel, intro)

    await _once(ctx, _key(session, "round", round_index, "intro"), post_intro)
    previous = await ctx.services.cafes.notes(session.id) if round_index else []
    plan = seating[min(round_index, len(seating) - 1)]
    for table_index, members in enumerate(plan):
        if not members:
            continue
        host = next((p for p in members if p in hosts), None)
        lines = [
            t.gettext("🧺 Table {table} · round {n}: {people}").format(
                table=table_index + 1, n=round_index + 1, people=_mention_all(ctx, members)
            ),
            f"*{ctx.port.escape(round_.question)}*",
        ]
        earlier = [n for n in previous if n.round_index == round_index - 1 and n.table_index == table_index]
        if earlier:
            lines.append(t.gettext("On this table's last tablecloth:"))
            lines += [f"> {ctx.port.escape(clip(n.text, 200))}" for n in earlier[-5:]]
        if host and round_index:
            lines.append(
                t.gettext(
                    "{host}, you stay at this table: please sum up the last round for newcomers."
                ).format(host=ctx.port.mention(host))
            )
        text = "\n".join(lines)
        title = t.gettext("Table {table} · round {n}").format(table=table_index + 1, n=round_index + 1)

        async def open_table(text: str = text, title: str = title, table_index: int = table_index) -> None:
            ref = await ctx.port.open_thread(session.channel, text, title=title)
            await ctx.services.cafes.add_table(
                TableRecord(session.id, round_index, table_index, ref.channel, ref.thread or ref.message_id,
                            ref.message_id, None)
            )  # fmt: skip

        await _once(ctx, _key(session, "round", round_index, "table", table_index), open_table)


async def _open_takeout(
    ctx: Context,
    session: SessionRecord,
    template: Template,
    t: Translator,
    everyone: list[str],
    round_index: int,
) -> None:
    text = "\n".join(
        [
            t.gettext("🥡 Take-outs ({minutes} min): {people}").format(
                minutes=TAKEOUT_MINUTES, people=_mention_all(ctx, everyone)
            ),
            ctx.port.escape(template.takeout),
        ]
    )

    async def open_thread() -> None:
        ref = await ctx.port.open_thread(session.channel, text, title=t.gettext("Take-outs"))
        await ctx.services.cafes.add_table(
            TableRecord(
                session.id, round_index, 0, ref.channel, ref.thread or ref.message_id, ref.message_id, None
            )
        )

    await _once(ctx, _key(session, "round", round_index, "takeout"), open_thread)


async def warn(ctx: Context, payload: dict[str, Any], scheduled_for: datetime) -> None:
    session = await ctx.services.cafes.get(int(payload["session_id"]))
    round_index = int(payload["round"])
    if session is None or session.status != "running" or session.current_round != round_index:
        return
    if session.round_ends_at is not None and ctx.clock.now() >= session.round_ends_at:
        return  # missed while the bot was down: the round is over, a warning would only confuse
    t = Translator(session.locale)
    for table in await ctx.services.cafes.tables(session.id, round_index):

        async def send(table: TableRecord = table) -> None:
            await ctx.port.reply_in_thread(
                MessageRef(ctx.port.platform, table.channel, table.message_id, table.thread),
                t.gettext("⏳ One minute left: note your table's key ideas on the tablecloth."),
            )

        await _once(ctx, _key(session, "round", round_index, "warn", table.table_index), send)


async def close(ctx: Context, payload: dict[str, Any], scheduled_for: datetime) -> None:
    """The round's time is up: close its tablecloths, then open the next round or harvest."""
    session = await ctx.services.cafes.get(int(payload["session_id"]))
    round_index = int(payload["round"])
    if session is None or session.status == "ended" or session.current_round != round_index:
        return
    if session.status == "paused":
        return
    await close_round(ctx, session, round_index)


async def close_round(ctx: Context, session: SessionRecord, round_index: int) -> None:
    t = Translator(session.locale)
    await ctx.services.cafes.close_tables(session.id, round_index, ctx.clock.now())
    for table in await ctx.services.cafes.tables(session.id, round_index):

        async def send(table: TableRecord = table) -> None:
            await ctx.port.reply_in_thread(
                MessageRef(ctx.port.platform, table.channel, table.message_id, table.thread),
                t.gettext("🧺 This tablecloth is closed; messages after this are not counted."),
            )

        await _once(ctx, _key(session, "round", round_index, "closed", table.table_index), send)
    template = template_of(ctx, session)
    if template is None or round_index >= len(template.rounds):
        await harvest(ctx, session, round_index)
    else:
        fresh = await ctx.services.cafes.get(session.id)
        assert fresh is not None
        await start_round(ctx, fresh, round_index + 1)


def repeated_pairs(seating: list[list[list[str]]], rounds_played: int) -> int:
    """Table-mates who met again: each pair counts once per extra round they shared a table."""
    seen: dict[tuple[str, str], int] = {}
    for tables in seating[:rounds_played]:
        for table in tables:
            for i, a in enumerate(sorted(table)):
                for b in sorted(table)[i + 1 :]:
                    seen[(a, b)] = seen.get((a, b), 0) + 1
    return sum(count - 1 for count in seen.values() if count > 1)


def harvest_markdown(
    template: Template | None, session: SessionRecord, notes: list[Note], t: Translator
) -> str:
    title = template.title if template else session.template_id
    lines = [f"# {title}", "", t.gettext("Harvest of café #{id}").format(id=session.id), ""]
    rounds = template.rounds if template else ()
    for round_index in sorted({n.round_index for n in notes}):
        if round_index < len(rounds):
            heading = t.gettext("Round {n}").format(n=round_index + 1)
            lines += [f"## {heading}: {rounds[round_index].question}", ""]
        else:
            lines += ["## " + t.gettext("Take-outs"), ""]
        for table_index in sorted({n.table_index for n in notes if n.round_index == round_index}):
            if round_index < len(rounds):
                lines += ["### " + t.gettext("Table {table}").format(table=table_index + 1), ""]
            for note in (n for n in notes if n.round_index == round_index and n.table_index == table_index):
                lines.append(f"- **{note.display_name}**: {' '.join(note.text.split())}")
            lines.append("")
    if not notes:
        lines.append(t.gettext("No contributions were written on the tablecloths."))
    return "\n".join(lines).rstrip() + "\n"


async def harvest(ctx: Context, session: SessionRecord, round_index: int) -> None:
    """Gather every tablecloth by round and table; post a summary and the Markdown file."""
    if not await ctx.services.cafes.update(
        session.id,
        expect_round=round_index,
        current_round=round_index + 1,
        status="ended",
        round_ends_at=None,
    ):
        return
    await cancel_timers(ctx, session)
    template = template_of(ctx, session)
    t = Translator(session.locale)
    notes = await ctx.services.cafes.notes(session.id)
    markdown = harvest_markdown(template, session, notes, t)
    people = len({n.user_id for n in notes})
    count = t.ngettext("🍰 Harvest: {count} contribution", "🍰 Harvest: {count} contributions", len(notes))
    source = t.ngettext("from {count} person.", "from {count} people.", people)
    summary = [
        " ".join(
            [
                count.format(count=len(notes)),
                source.format(count=people),
                t.gettext("The full harvest is attached."),
            ]
        )
    ]
    played = min(round_index + 1, len(template.rounds) if template else 0)
    repeats = repeated_pairs(session.seating, played)
    summary.append(
        t.ngettext(
            "Rotation: {count} pair of people shared a table more than once.",
            "Rotation: {count} pairs of people shared a table more than once.",
            repeats,
        ).format(count=repeats)
    )
    takeouts = [n for n in notes if template is not None and n.round_index >= len(template.rounds)]
    if takeouts:
        summary.append(t.gettext("Take-outs:"))
        summary += [f"• {ctx.port.escape(clip(n.text, 160))}" for n in takeouts[:10]]
    if template is not None:
        summary.append(ctx.port.escape(template.harvest))
    text = "\n".join(summary)
    attachment = Attachment(f"cafe-{session.id}-harvest.md", markdown.encode(), t.gettext("Café harvest"))

    async def send() -> None:
        await ctx.port.send(MessageRef(ctx.port.platform, session.channel, ""), text, attachment=attachment)

    await _once(ctx, _key(session, "harvest"), send)


async def begin(ctx: Context, payload: dict[str, Any], scheduled_for: datetime) -> None:
    """A scheduled café's start time: the first round opens (if people joined)."""
    session = await ctx.services.cafes.get(int(payload["session_id"]))
    if session is None or session.status != "scheduled":
        return
    if not await ctx.services.cafes.participants(session.id):
        t = Translator(session.locale)

        async def send() -> None:
            await ctx.port.post(session.channel, t.gettext("Nobody joined the café, so it did not start."))

        await ctx.services.cafes.update(session.id, status="ended")
        await _once(ctx, _key(session, "empty"), send)
        return
    await start_round(ctx, session, 0)


async def remind(ctx: Context, payload: dict[str, Any], scheduled_for: datetime) -> None:
    session = await ctx.services.cafes.get(int(payload["session_id"]))
    if session is None or session.status != "scheduled" or session.starts_at is None:
        return
    template = template_of(ctx, session)
    t = Translator(session.locale)
    text = t.gettext("☕ {title} starts {when}. Join now to get a table.").format(
        title=ctx.port.escape(template.title if template else session.template_id),
        when=ctx.port.time_token(session.starts_at, t.datetime_in(session.starts_at, "UTC")),
    )

    async def send() -> None:
        await ctx.port.send(
            MessageRef(ctx.port.platform, session.channel, ""), text, buttons=[join_button(t, session.id)]
        )

    await _once(ctx, _key(session, "reminder"), send)


async def on_message(event: MessageEvent, ctx: Context) -> bool:
    """A message in an open tablecloth is a contribution; after it closed it is not counted."""
    thread = event.conversation.thread
    if not thread:
        return False
    found = await ctx.services.cafes.table_by_thread(event.actor.platform.value, thread)
    if found is None:
        return False
    session, table = found
    if table.closed_at is not None and event.received_at >= table.closed_at:
        log.info("café %s: message after table %d closed, not counted", session.id, table.table_index)
        return True
    await ctx.services.cafes.add_note(
        session.id, table, event.actor.user_id, event.actor.display_name, event.message_id, event.text,
        event.received_at,
    )  # fmt: skip
    return True
