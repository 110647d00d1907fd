"""/ask: a question becomes a thread in the Q&A channel, routed to peers awake now.

Before posting, the asker sees up to three similar earlier questions and can post anyway; the
question is stored as a draft meanwhile, so nothing typed is ever lost. Once posted, routing waves
(bot/routing.py) notify matching members until someone answers.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.catalog import Catalogue, Term
from bot.commands import ActionSpec, CommandSpec, FormSpec, OptionSpec
from bot.context import Context, UserError
from bot.events import Actor, ButtonEvent, CommandEvent, FormSubmitEvent, MessageEvent
from bot.i18n import N_, Translator
from bot.port import Button, ButtonStyle, Form, FormErrors, FormField, MessageRef, Reply
from bot.routing import WAVE, first_answer_followups, wave_key
from bot.safety import as_id, clip
from storage.questions import NewQuestion, QuestionRecord

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 3000
FORM_ID = "ask"
POST_ANYWAY = "ask.post"
KIND_LABELS = {"subject": N_("subject"), "programme": N_("programme"), "language": N_("language")}
CANCEL = "ask.cancel"


class UnknownTerm(UserError):
    """An option the catalogue does not know; `field` says which, for forms."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _term(ctx: Context, kind: str, text: str, inferred: tuple[Term, ...]) -> str | None:
    """An explicit option wins (resolved loosely); otherwise the first term found in the question."""
    if text.strip():
        found = Catalogue.default().resolve(kind, text)  # type: ignore[arg-type]
        if found.term is None:
            message = ctx.t.gettext(
                "I don't know the {kind} '{value}'. Nothing was posted; please check it and ask again."
            ).format(kind=ctx.t.gettext(KIND_LABELS[kind]), value=ctx.port.escape(text.strip()))
            raise UnknownTerm(message, kind)
        return found.term.id
    return inferred[0].id if inferred else None


async def handle_ask(event: CommandEvent, ctx: Context) -> Reply:
    return await _ask(ctx, event.actor, event.args, event.event_id)


async def open_form(event: CommandEvent, ctx: Context) -> Form | None:
    """`/ask` with no text opens a form (Slack; Discord requires the text, the console explains)."""
    if str(event.args.get("question", "")).strip():
        return None
    t = ctx.t
    fields = (
        FormField(
            "question",
            t.gettext("Your question"),
            multiline=True,
            required=True,
            max_length=MAX_QUESTION_CHARS,
        ),
        FormField("subject", t.gettext("Subject (optional)"), placeholder=t.gettext("e.g. Biology")),
        FormField("programme", t.gettext("Programme (optional)"), placeholder="PYP, MYP, DP, CP"),
        FormField("language", t.gettext("Language (optional)"), placeholder=t.gettext("e.g. Spanish")),
    )
    return Form(FORM_ID, t.gettext("Ask the network"), t.gettext("Ask"), fields)


async def submit_form(event: FormSubmitEvent, ctx: Context) -> Reply | FormErrors:
    if not event.values.get("question", "").strip():
        return FormErrors({"question": ctx.t.gettext("Write your question here.")})
    try:
        return await _ask(ctx, event.actor, dict(event.values), event.event_id)
    except UnknownTerm as exc:
        return FormErrors({exc.field: exc.message})


async def _ask(ctx: Context, actor: Actor, args: Mapping[str, Any], event_id: str) -> Reply:
    t = ctx.t
    text = str(args.get("question", "")).strip()
    if len(text) > MAX_QUESTION_CHARS:
        raise UserError(
            t.gettext(
                "Your question is {count} characters; please keep it under {limit}. "
                "Nothing was posted. Here is your text to shorten:"
            ).format(count=len(text), limit=MAX_QUESTION_CHARS)
            + "\n"
            + ctx.port.escape(text)
        )
    if not ctx.channel("qa"):
        raise UserError(
            t.gettext(
                "The Q&A channel is not set up yet, so nothing was posted. "
                "An admin needs to set [{platform}.channels] qa in the bot's config."
            ).format(platform=ctx.port.platform.value)
        )
    parsed = Catalogue.default().parse(text)
    subject = _term(ctx, "subject", str(args.get("subject", "")), parsed.subjects)
    programme = _term(ctx, "programme", str(args.get("programme", "")), parsed.programmes)
    language = _term(ctx, "language", str(args.get("language", "")), ())
    question, created = await ctx.services.questions.create(
        NewQuestion(
            platform=ctx.port.platform.value,
            source_event_id=event_id,
            asker_user_id=actor.user_id,
            asker_name=actor.display_name,
            asker_locale=t.locale,
            text=text,
            created_at=ctx.clock.now(),
            subject=subject,
            programme=programme,
            language=language or t.locale,
            asker_timezone=actor.timezone,
        )
    )
    if not created:  # a retried or re-delivered command
        if question.root_message_id is None:
            return Reply(t.gettext("This question is waiting for your choice above."))
        return Reply(_posted_text(t, question.permalink, None))
    similar = await ctx.services.finder.similar(text, limit=3, exclude_id=question.id)
    if similar:
        lines = [t.gettext("Before I post it: these earlier questions look similar.")]
        for hit in similar:
            label = clip(hit.text, 80)  # link() escapes its label itself
            shown = ctx.port.link(hit.permalink, label) if hit.permalink else ctx.port.escape(label)
            state = (
                t.gettext("✅ solved")
                if hit.solved
                else t.ngettext("{count} answer", "{count} answers", hit.answers).format(count=hit.answers)
            )
            lines.append(f"• {shown} ({state})")
        lines.append(t.gettext("Post your question anyway?"))
        buttons = (
            Button(t.gettext("Post my question"), POST_ANYWAY, str(question.id), ButtonStyle.PRIMARY),
            Button(t.gettext("Cancel"), CANCEL, str(question.id)),
        )
        return Reply("\n".join(lines), buttons=buttons)
    ref = await post_question(ctx, question)
    return Reply(_posted_text(t, ref.link, ctx.config.qa.unanswered_check_minutes))


async def post_question(ctx: Context, question: QuestionRecord) -> MessageRef:
    """Open the thread and start routing. The thread's title and forum tags carry the subject."""
    catalogue = Catalogue.default()
    channel = ctx.channel("qa")
    assert channel, "checked by the caller"
    tags = [
        term.name("en")
        for kind, term_id in (("subject", question.subject), ("programme", question.programme))
        if term_id and (term := catalogue.get(kind, term_id)) is not None  # type: ignore[arg-type]
    ]
    ref = await ctx.port.open_thread(
        channel, _root_text(ctx, question, tags), title=clip(question.text, 90), tags=tags
    )
    await ctx.services.questions.attach_thread(
        question.id,
        channel=ref.channel,
        thread_ref=ref.thread,
        root_message_id=ref.message_id,
        permalink=ref.link,
    )
    await ctx.services.scheduler.schedule(
        key=wave_key(question.id, 1),
        kind=WAVE,
        run_at=ctx.clock.now(),
        payload={"platform": ctx.port.platform.value, "question_id": question.id, "wave": 1},
    )
    return ref


def _root_text(ctx: Context, question: QuestionRecord, tags: list[str]) -> str:
    header = ctx.community.gettext("Question from {asker}:").format(
        asker=ctx.port.mention(question.asker_user_id)
    )
    if tags:
        header += " " + ctx.port.escape(" · ".join(tags))
    hint = ctx.community.gettext("Reply in this thread to answer.")
    return f"{header}\n{ctx.port.escape(question.text)}\n\n_{hint}_"


def _posted_text(t: Translator, link: str | None, minutes: int | None) -> str:
    text = (
        t.gettext("This question was already posted.")
        if minutes is None
        else t.gettext("Your question is posted in the Q&A channel.")
    )
    if link:
        text += " " + t.gettext("Follow it here: {link}").format(link=link)
    if minutes is not None:
        text += " " + t.gettext(
            "I am letting members who know the subject and are awake now know; more follow if nobody answers."
        )
    return text


async def _own_draft(event: ButtonEvent, ctx: Context) -> QuestionRecord:
    number = as_id(event.value)
    question = await ctx.services.questions.get(number) if number is not None else None
    if question is None or question.asker_user_id != event.actor.user_id:
        raise UserError(ctx.t.gettext("This button is not for you."))
    return question


async def handle_post_anyway(event: ButtonEvent, ctx: Context) -> Reply:
    question = await _own_draft(event, ctx)
    if question.root_message_id is not None:
        return Reply(_posted_text(ctx.t, question.permalink, None), replace=True)
    ref = await post_question(ctx, question)
    return Reply(_posted_text(ctx.t, ref.link, ctx.config.qa.unanswered_check_minutes), replace=True)


async def handle_cancel(event: ButtonEvent, ctx: Context) -> Reply:
    await _own_draft(event, ctx)
    return Reply(ctx.t.gettext("Not posted. I hope one of those answers helps!"), replace=True)


async def on_thread_message(event: MessageEvent, ctx: Context) -> None:
    """A reply by someone other than the asker in a question's thread is an answer."""
    thread = event.conversation.thread or event.conversation.channel
    question = await ctx.services.questions.by_thread(event.actor.platform.value, thread)
    if question is None or event.actor.user_id == question.asker_user_id:
        return
    answer, first = await ctx.services.questions.add_answer(
        question.id,
        platform=event.actor.platform.value,
        user_id=event.actor.user_id,
        message_id=event.message_id,
        text=event.text,
        at=event.received_at,
    )
    if answer is not None and first:
        log.info("question %s: first answer by %s", question.id, event.actor.user_id)
        await first_answer_followups(ctx, question, event.received_at)


ASK = CommandSpec(
    name="ask",
    description=N_("Ask the network a question"),
    usage=N_("/ask <question>: ask the whole network, e.g. /ask How do you moderate IA samples?"),
    handler=handle_ask,
    form=open_form,
    options=(
        OptionSpec("question", N_("Your question"), max_length=MAX_QUESTION_CHARS),
        OptionSpec("subject", N_("The subject, e.g. Biology"), required=False, max_length=100),
        OptionSpec("programme", N_("PYP, MYP, DP or CP"), required=False, max_length=20),
        OptionSpec("language", N_("The language of your question"), required=False, max_length=30),
    ),
)

ASK_ACTIONS = (ActionSpec(POST_ANYWAY, handle_post_anyway), ActionSpec(CANCEL, handle_cancel))
ASK_FORM = FormSpec(FORM_ID, submit_form)
