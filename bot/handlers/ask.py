"""/ask <question>: a thread in the Q&A channel, a link for the asker, and a check-back if unanswered."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from bot.commands import CommandSpec, OptionSpec
from bot.context import Context, UserError
from bot.delivery import deliver_once
from bot.events import CommandEvent, MessageEvent
from bot.i18n import N_, Translator
from bot.port import MessageRef, Reply
from bot.safety import clip
from storage.questions import NewQuestion

log = logging.getLogger(__name__)

UNANSWERED_CHECK = "qa.unanswered_check"
MAX_QUESTION_CHARS = 3000


async def handle_ask(event: CommandEvent, ctx: Context) -> Reply:
    t = ctx.t
    text = str(event.args.get("question", "")).strip()
    if len(text) > MAX_QUESTION_CHARS:
        raise UserError(
            t.gettext(
                "Your question is {count} characters; please keep it under {limit}. "
                "Nothing was posted. Here is your text to shorten:"
            ).format(count=len(text), limit=MAX_QUESTION_CHARS)
            + "\n"
            + ctx.port.escape(text)
        )
    channel = ctx.channel("qa")
    if not channel:
        raise UserError(
            t.gettext(
                "The Q&A channel is not set up yet, so nothing was posted. "
                "An admin needs to set [{platform}.channels] qa in the bot's config."
            ).format(platform=ctx.port.platform.value)
        )
    questions = ctx.services.questions
    question, created = await questions.create(
        NewQuestion(
            platform=ctx.port.platform.value,
            source_event_id=event.event_id,
            asker_user_id=event.actor.user_id,
            asker_name=event.actor.display_name,
            asker_locale=ctx.t.locale,
            text=text,
            created_at=ctx.clock.now(),
        )
    )
    if not created:
        return Reply(_posted_text(t, question.permalink, None))

    root = _root_text(ctx, event.actor.user_id, text)
    ref = await ctx.port.open_thread(channel, root, title=clip(text, 90))
    await questions.attach_thread(
        question.id,
        channel=ref.channel,
        thread_ref=ref.thread,
        root_message_id=ref.message_id,
        permalink=ref.link,
    )
    minutes = ctx.config.qa.unanswered_check_minutes
    await ctx.services.scheduler.schedule(
        key=f"{UNANSWERED_CHECK}:{question.id}",
        kind=UNANSWERED_CHECK,
        run_at=ctx.clock.now() + timedelta(minutes=minutes),
        payload={"platform": ctx.port.platform.value, "question_id": question.id, "minutes": minutes},
    )
    return Reply(_posted_text(t, ref.link, minutes))


def _root_text(ctx: Context, asker_id: str, text: str) -> str:
    header = ctx.community.gettext("Question from {asker}:").format(asker=ctx.port.mention(asker_id))
    hint = ctx.community.gettext("Reply in this thread to answer.")
    return f"{header}\n{ctx.port.escape(text)}\n\n_{hint}_"


def _posted_text(t: Translator, link: str | None, minutes: int | None) -> str:
    if minutes is None:
        text = t.gettext("This question was already posted.")
    else:
        text = t.gettext("Your question is posted in the Q&A channel.")
    if link:
        text += " " + t.gettext("Follow it here: {link}").format(link=link)
    if minutes is not None:
        text += " " + t.ngettext(
            "If nobody has answered in {minutes} minute, I will bring it up again.",
            "If nobody has answered in {minutes} minutes, I will bring it up again.",
            minutes,
        ).format(minutes=minutes)
    return text


async def on_thread_message(event: MessageEvent, ctx: Context) -> None:
    """A reply by someone other than the asker in a question's thread is its first answer."""
    thread = event.conversation.thread
    if not thread:
        return
    question = await ctx.services.questions.by_thread(event.actor.platform.value, thread)
    if question is None or event.actor.user_id == question.asker_user_id:
        return
    if await ctx.services.questions.record_answer(question.id, event.actor.user_id, event.received_at):
        log.info("question %s: first answer by %s", question.id, event.actor.user_id)


async def unanswered_check(ctx: Context, payload: dict[str, Any], scheduled_for: datetime) -> None:
    """Scheduled after /ask: if the thread is still unanswered, bring it up again, exactly once."""
    question = await ctx.services.questions.get(int(payload["question_id"]))
    if question is None or question.first_answer_at is not None or question.root_message_id is None:
        return
    minutes = int(payload.get("minutes", ctx.config.qa.unanswered_check_minutes))
    ref = MessageRef(
        platform=ctx.port.platform,
        channel=question.channel or "",
        message_id=question.root_message_id,
        thread=question.thread_ref,
        link=question.permalink,
    )
    text = ctx.community.ngettext(
        "This question has waited {minutes} minute without an answer. Can you help? Reply in this thread.",
        "This question has waited {minutes} minutes without an answer. Can you help? Reply in this thread.",
        minutes,
    ).format(minutes=minutes)

    async def send() -> None:
        await ctx.port.reply_in_thread(ref, text)

    await deliver_once(ctx, f"{UNANSWERED_CHECK}:{question.id}", UNANSWERED_CHECK, send)


ASK = CommandSpec(
    name="ask",
    description=N_("Ask the network a question"),
    usage=N_("/ask <question>: ask the whole network, e.g. /ask How do you moderate IA samples?"),
    handler=handle_ask,
    options=(OptionSpec("question", N_("Your question"), max_length=MAX_QUESTION_CHARS),),
)
