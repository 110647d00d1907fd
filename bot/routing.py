"""Follow the sun: routing waves that bring a question to members who can answer it now.

Wave 1 notifies the best matching members who are open to questions and inside their working hours.
Each later wave, if nobody has answered yet, adds members whose working day starts soon, then widens
to the subject's group (or the programme), and the last one posts in the announcements channel (or
bumps the thread). A member is notified at most once per question (the notifications table) and at
most `daily_pings` times a day; every DM is delivered exactly once (the delivery ledger). Waves are
scheduled jobs, so they survive a restart.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.catalog import Catalogue
from bot.context import Context
from bot.delivery import deliver_once
from bot.directory import RouteQuery
from bot.i18n import Translator
from bot.port import Button, ButtonStyle, MessageRef
from bot.safety import clip
from storage.members import MemberCard
from storage.questions import QuestionRecord

WAVE = "qa.wave"
NUDGE = "qa.nudge"
SOLVE_ACTION = "qa.solve"


def wave_key(question_id: int, wave: int) -> str:
    return f"{WAVE}:{question_id}:{wave}"


def route_query(question: QuestionRecord, wave: int, ctx: Context) -> RouteQuery:
    """Who wave `wave` looks for: exact subject first, then people starting soon, then the wider group."""
    soon = ctx.config.qa.start_soon_minutes if wave >= 2 else 0
    subjects: tuple[str, ...] = (question.subject,) if question.subject else ()
    programmes: tuple[str, ...] = (question.programme,) if question.programme else ()
    if wave >= 3 and question.subject:
        term = Catalogue.default().get("subject", question.subject)
        if term is not None and term.group:
            subjects = tuple(t.id for t in Catalogue.default().in_group(term.group))
        elif programmes:
            subjects = ()
    return RouteQuery(
        platform=question.platform,
        subjects=subjects,
        programmes=programmes,
        languages=(question.language,) if question.language else (),
        start_soon_minutes=soon,
    )


def _thread_ref(ctx: Context, q: QuestionRecord) -> MessageRef:
    return MessageRef(ctx.port.platform, q.channel or "", q.root_message_id or "", q.thread_ref, q.permalink)


def _ping_text(ctx: Context, q: QuestionRecord, reader: MemberCard, now: datetime) -> str:
    t = Translator(reader.locale or ctx.config.bot.default_locale)
    catalogue = Catalogue.default()
    subject = catalogue.get("subject", q.subject) if q.subject else None
    lines = [
        t.gettext("Can you help? {asker} asked a question about {subject}.").format(
            asker=ctx.port.escape(q.asker_name) or t.gettext("a member"),
            subject=subject.name(t.locale) if subject else t.gettext("your area"),
        )
    ]
    if q.asker_timezone:
        lines.append(
            t.gettext("It is {time} for them ({zone}).").format(
                time=t.time_in(now, q.asker_timezone), zone=q.asker_timezone
            )
        )
    lines.append("> " + ctx.port.escape(clip(q.text, 500)))
    if q.permalink:
        lines.append(t.gettext("Answer in the thread: {link}").format(link=q.permalink))
    return "\n".join(lines)


async def run_wave(ctx: Context, payload: dict[str, Any], scheduled_for: datetime) -> None:
    """One wave; schedules the next unless someone answered or this was the last."""
    question = await ctx.services.questions.get(int(payload["question_id"]))
    wave = int(payload["wave"])
    if question is None or question.root_message_id is None:
        return
    if question.first_answer_at is not None or question.solved_at is not None:
        return  # answered: routing stops
    if question.waves_sent >= wave:
        return  # this wave already ran (a replayed or duplicated job): do not start its successor again
    qa, now = ctx.config.qa, ctx.clock.now()
    if wave >= qa.max_waves:
        await _last_wave(ctx, question, wave)
        return
    directory = ctx.services.directory
    await directory.refresh(now)
    exclude = await ctx.services.questions.notified(question.id)
    asker = directory.member_id_for(question.platform, question.asker_user_id)
    if asker is not None:
        exclude.add(asker)
    busy = await ctx.services.questions.pings_since(now - timedelta(days=1))
    exclude |= {member_id for member_id, count in busy.items() if count >= qa.daily_pings}
    picks = directory.route(route_query(question, wave, ctx), now, exclude=exclude, limit=qa.wave_size)
    sent: list[int] = []
    for card in picks:
        user_id = card.identities.get(question.platform)
        if not user_id:
            continue
        text = _ping_text(ctx, question, card, now)

        async def send(user_id: str = user_id, text: str = text) -> None:
            await ctx.port.dm(user_id, text)

        if await deliver_once(ctx, f"qa.ping:{question.id}:{card.member_id}", "qa.ping", send):
            sent.append(card.member_id)
    await ctx.services.questions.record_notifications(question.id, sent, wave, now)
    await ctx.services.questions.set_waves_sent(question.id, wave)
    await ctx.services.scheduler.schedule(
        key=wave_key(question.id, wave + 1),
        kind=WAVE,
        run_at=now + timedelta(minutes=qa.unanswered_check_minutes),
        payload={"platform": question.platform, "question_id": question.id, "wave": wave + 1},
    )


async def _last_wave(ctx: Context, question: QuestionRecord, wave: int) -> None:
    """Still unanswered: ask everyone in the announcements channel, or bump the thread."""
    minutes = ctx.config.qa.unanswered_check_minutes * (wave - 1)
    community = ctx.community
    channel = ctx.channel("announcements")
    if channel and question.permalink:
        text = community.ngettext(
            "A question has waited {minutes} minute for an answer. Can you help? {link}",
            "A question has waited {minutes} minutes for an answer. Can you help? {link}",
            minutes,
        ).format(minutes=minutes, link=question.permalink)
        text += "\n> " + ctx.port.escape(clip(question.text, 300))

        async def send() -> None:
            await ctx.port.post(channel, text)
    else:
        text = community.ngettext(
            "This question has waited {minutes} minute without an answer. Can you help? Reply in this thread.",  # noqa: E501
            "This question has waited {minutes} minutes without an answer. Can you help? Reply in this thread.",  # noqa: E501
            minutes,
        ).format(minutes=minutes)

        async def send() -> None:
            await ctx.port.reply_in_thread(_thread_ref(ctx, question), text)

    if await deliver_once(ctx, f"qa.broadcast:{question.id}", "qa.broadcast", send):
        await ctx.services.questions.set_waves_sent(question.id, wave)


def solve_button(t: Translator, question_id: int) -> Button:
    return Button(t.gettext("✅ Mark as solved"), SOLVE_ACTION, str(question_id), ButtonStyle.PRIMARY)


async def first_answer_followups(ctx: Context, question: QuestionRecord, at: datetime) -> None:
    """Tell the asker (the bot posted the thread, so the platform won't) and plan the 24 h nudge."""
    t = Translator(question.asker_locale)
    text = t.gettext(
        "Your question has its first answer: {link}\nIf it solves it, mark it so the helper is thanked."
    )
    await ctx.port.dm(
        question.asker_user_id, text.format(link=question.permalink or ""), [solve_button(t, question.id)]
    )
    await ctx.services.scheduler.schedule(
        key=f"{NUDGE}:{question.id}",
        kind=NUDGE,
        run_at=at + timedelta(hours=ctx.config.qa.nudge_hours),
        payload={"platform": question.platform, "question_id": question.id},
    )


async def run_nudge(ctx: Context, payload: dict[str, Any], scheduled_for: datetime) -> None:
    """Answered but not marked solved after a day: remind the asker, once."""
    question = await ctx.services.questions.get(int(payload["question_id"]))
    if question is None or question.solved_at is not None or not question.asker_user_id:
        return
    answers = await ctx.services.questions.answers(question.id)
    if not answers:
        return
    t = Translator(question.asker_locale)
    text = t.ngettext(
        "Your question has {count} answer. Did it solve it? {link}",
        "Your question has {count} answers. Did one of them solve it? {link}",
        len(answers),
    ).format(count=len(answers), link=question.permalink or "")

    async def send() -> None:
        await ctx.port.dm(question.asker_user_id, text, [solve_button(t, question.id)])

    await deliver_once(ctx, f"{NUDGE}:{question.id}", NUDGE, send)
