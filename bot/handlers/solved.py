"""Marking a question solved: `/solved` (in the thread, or naming it), a ✅ reaction on an answer, or
the button the asker gets in a DM. The answerer is thanked in the thread."""

from __future__ import annotations

from bot.commands import ActionSpec, CommandSpec, OptionSpec
from bot.context import Context, UserError
from bot.events import Actor, ButtonEvent, CommandEvent, Conversation, ReactionEvent
from bot.i18n import N_
from bot.port import MessageRef, Reply
from bot.routing import SOLVE_ACTION
from bot.safety import as_id
from storage.questions import AnswerRecord, QuestionRecord

CHECK_MARKS = {"✅", "✔️", "☑️", "white_check_mark", "heavy_check_mark", "ballot_box_with_check"}


async def _question_for(ctx: Context, conversation: Conversation, named: str) -> QuestionRecord | None:
    questions = ctx.services.questions
    platform = conversation.platform.value
    ref = named.strip().lstrip("#")
    if ref.isascii() and ref.isdigit():
        number = as_id(ref)
        found = await questions.get(number) if number is not None else None
        return found if found is not None and found.platform == platform else None
    for candidate in (ref, conversation.thread, conversation.channel):
        if candidate:
            found = await questions.by_thread(platform, candidate)
            if found is not None:
                return found
    return None


async def solve(ctx: Context, actor: Actor, question: QuestionRecord, answer: AnswerRecord | None) -> str:
    """Mark solved by the asker (or an admin) and thank the answerer; returns what to tell the actor."""
    t = ctx.t
    is_admin = ctx.config.is_admin(actor.platform, actor.user_id)
    if actor.user_id != question.asker_user_id and not is_admin:
        raise UserError(t.gettext("Only the person who asked can mark this question solved."))
    if answer is None:
        answers = [
            a
            for a in await ctx.services.questions.answers(question.id)
            if a.user_id != question.asker_user_id
        ]
        answer = answers[-1] if answers else None
    if answer is None:
        raise UserError(t.gettext("This question has no answer yet, so it cannot be solved."))
    if not await ctx.services.questions.mark_solved(question.id, answer.id, ctx.clock.now()):
        return t.gettext("This question was already marked solved.")
    thanks = ctx.community.gettext("✅ Solved. Thank you {helper} for the answer!").format(
        helper=ctx.port.mention(answer.user_id)
    )
    ref = MessageRef(
        ctx.port.platform, question.channel or "", question.root_message_id or "", question.thread_ref
    )
    await ctx.port.reply_in_thread(ref, thanks)
    return t.gettext("Marked as solved, and I thanked {helper} in the thread.").format(
        helper=ctx.port.mention(answer.user_id)
    )


async def handle_solved(event: CommandEvent, ctx: Context) -> Reply:
    question = await _question_for(ctx, event.conversation, str(event.args.get("question", "")))
    if question is None:
        return Reply(ctx.t.gettext(SOLVED.usage))
    return Reply(await solve(ctx, event.actor, question, None))


async def handle_solve_button(event: ButtonEvent, ctx: Context) -> Reply:
    number = as_id(event.value)
    question = await ctx.services.questions.get(number) if number is not None else None
    if question is None:
        return Reply(ctx.t.gettext("This button is no longer active. Please run the command again."))
    return Reply(await solve(ctx, event.actor, question, None), replace=True)


async def on_reaction(event: ReactionEvent, ctx: Context) -> None:
    """The asker's ✅ on an answer marks that answer as the solution."""
    if not event.added or event.emoji not in CHECK_MARKS:
        return
    answer = await ctx.services.questions.answer_by_message(event.actor.platform.value, event.message_id)
    if answer is None:
        return
    question = await ctx.services.questions.get(answer.question_id)
    if question is None or event.actor.user_id != question.asker_user_id:
        return  # only the asker's mark counts; others' reactions are just reactions
    await solve(ctx, event.actor, question, answer)


SOLVED = CommandSpec(
    name="solved",
    description=N_("Mark your question as solved"),
    usage=N_("/solved [question]: in your question's thread, or with its number or thread, marks it solved"),
    handler=handle_solved,
    options=(
        OptionSpec(
            "question", N_("The question's number (optional in its thread)"), required=False, max_length=200
        ),
    ),
)

SOLVE_BUTTON = ActionSpec(SOLVE_ACTION, handle_solve_button)
