"""Q&A through the console harness: routing waves, answers, solving, nudges, similar questions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from adapters.console.port import ConsolePort, Posted
from adapters.console.repl import load_demo
from adapters.console.session import ConsoleSession
from adapters.runtime import Runtime, build_runtime
from bot.clock import ManualClock
from bot.context import NoSearch
from bot.events import Actor, Platform
from bot.port import Button, MessageRef
from bot.scheduling import ManualScheduler
from storage.members import MemberInput
from tests.conftest import make_config

TUESDAY_9_UTC = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 10:00 Madrid, 09:00 Accra, 17:00 Shanghai


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(TUESDAY_9_UTC)


@pytest.fixture
async def qa(runtime: Runtime) -> ConsoleSession:
    port = ConsolePort()
    runtime.attach(port)
    await load_demo(runtime)
    session = ConsoleSession(runtime, port, out=lambda _: None)
    session.actor = Actor(Platform.CONSOLE, "tom", "Tom Wilson", "en", "Europe/London")
    return session


def sched(runtime: Runtime) -> ManualScheduler:
    assert isinstance(runtime.scheduler, ManualScheduler)
    return runtime.scheduler


def dms(port: ConsolePort, *, containing: str = "") -> list[Posted]:
    return [m for m in port.messages if m.to_user and not m.ephemeral and containing in m.text]


async def test_the_first_wave_reaches_awake_matching_members_never_the_asker(
    qa: ConsoleSession, runtime: Runtime, clock: ManualClock
) -> None:
    reply = await qa.command("ask", "How do you moderate biology IA samples? @everyone")
    root = qa.port.in_channel("qa")[0]
    assert root.text.startswith("Question from @Tom Wilson: Biology") or root.text.startswith(
        "Question from @tom: Biology"
    )
    assert "@\u200beveryone" in root.text
    assert reply.text.startswith("Your question is posted in the Q&A channel.")
    assert await sched(runtime).run_due(clock.now()) == 1  # wave 1, right away
    pings = dms(qa.port, containing="asked a question about Biology")
    # Biology examiners at work at 09:00 UTC: Ana (Madrid), Fatima (Casablanca), Kwame (Accra),
    # Mei (Shanghai).
    assert sorted(m.to_user or "" for m in pings) == ["ana", "fatima", "kwame", "mei"]
    assert "It is 9:00\u202fAM for them (Europe/London)." in pings[0].text
    assert "console://qa/m1" in pings[0].text and "@\u200beveryone" in pings[0].text


async def test_waves_widen_until_someone_answers_then_stop(
    qa: ConsoleSession, runtime: Runtime, clock: ManualClock
) -> None:
    await qa.command("ask", "Any tips for physics IA feedback?")
    scheduler = sched(runtime)
    await scheduler.run_due(clock.now())
    wave1 = {m.to_user for m in dms(qa.port)}
    assert wave1 == {"pierre"} or wave1 <= {"john", "pierre"}  # physics examiners awake now
    clock.advance(timedelta(minutes=10))
    await scheduler.run_due(clock.now())  # wave 2: adds those whose day starts within the hour
    clock.advance(timedelta(minutes=10))
    await scheduler.run_due(clock.now())  # wave 3: the sciences group
    everyone = [m.to_user for m in dms(qa.port)]
    assert len(everyone) == len(set(everyone))  # nobody twice
    assert {"aiko", "kwame"} & set(everyone)  # chemists were reached in the widened wave
    root = qa.port.in_channel("qa")[0]
    qa.actor = Actor(Platform.CONSOLE, "noah", "Noah")
    await qa.message("Use the IA rubric strands one by one.", thread=root.message_id)
    clock.advance(timedelta(minutes=10))
    before = len(qa.port.messages)
    await scheduler.run_due(clock.now())  # wave 4 finds the answer and stops
    assert [m for m in qa.port.messages[before:] if m.channel == "announcements"] == []
    assert scheduler.jobs == {
        nudge: job for nudge, job in scheduler.jobs.items() if nudge.startswith("qa.nudge")
    }


async def test_an_unanswered_question_is_announced_once_after_the_last_wave(
    qa: ConsoleSession, runtime: Runtime, clock: ManualClock
) -> None:
    await qa.command("ask", "Who runs a Tibetan singing bowl CAS project?")
    scheduler = sched(runtime)
    for _ in range(6):
        await scheduler.run_due(clock.now())
        clock.advance(timedelta(minutes=10))
    announced = qa.port.in_channel("announcements")
    assert len(announced) == 1
    assert announced[0].text.startswith(
        "A question has waited 30 minutes for an answer. Can you help? console://qa/m1"
    )
    assert scheduler.jobs == {}


async def test_the_first_answer_is_dmed_to_the_asker_who_marks_it_solved(
    qa: ConsoleSession, runtime: Runtime, clock: ManualClock
) -> None:
    await qa.command("ask", "What is a good TOK exhibition object?")
    root = qa.port.in_channel("qa")[0]
    qa.actor = Actor(Platform.CONSOLE, "tom", "Tom Wilson")
    await qa.message("(bumping my own question)", thread=root.message_id)
    assert dms(qa.port, containing="first answer") == []  # the asker's own reply is no answer
    clock.advance(timedelta(minutes=4))
    qa.actor = Actor(Platform.CONSOLE, "sarah", "Sarah Cohen")
    await qa.message("A museum ticket works well.", thread=root.message_id)
    await qa.message("Or a family photo.", thread=root.message_id)
    (note,) = dms(qa.port, containing="first answer")
    assert note.to_user == "tom" and [b.label for b in note.buttons] == ["✅ Mark as solved"]
    question = await runtime.services.questions.get(1)
    assert question is not None and question.first_answer_at == clock.now()
    assert [a.text for a in await runtime.services.questions.answers(1)] == [
        "A museum ticket works well.",
        "Or a family photo.",
    ]

    qa.buttons = note.buttons  # the asker presses the button in their DM
    assert (await qa.press(1)).text == "Only the person who asked can mark this question solved."  # not Sarah
    qa.actor = Actor(Platform.CONSOLE, "tom", "Tom Wilson")
    qa.buttons = note.buttons
    done = await qa.press(1)
    assert done.replace and done.text == "Marked as solved, and I thanked @sarah in the thread."
    assert qa.port.thread(root.message_id)[-1].text == "✅ Solved. Thank you @sarah for the answer!"
    again = await qa.command("solved", "1")
    assert again.text == "This question was already marked solved."


async def test_the_askers_check_mark_on_an_answer_marks_that_one(
    qa: ConsoleSession, runtime: Runtime
) -> None:
    await qa.command("ask", "Best ESS field trip near Madrid?")
    root = qa.port.in_channel("qa")[0]
    qa.actor = Actor(Platform.CONSOLE, "ana", "Ana")
    await qa.message("Sierra de Guadarrama.", thread=root.message_id)
    first = qa.port.thread(root.message_id)[-1]
    qa.actor = Actor(Platform.CONSOLE, "lucas", "Lucas")
    await qa.message("Doñana, if you can travel.", thread=root.message_id)
    await qa.react(first.message_id, "✅")  # not the asker: just a reaction
    assert (await runtime.services.questions.get(1)).solved_at is None  # type: ignore[union-attr]
    qa.actor = Actor(Platform.CONSOLE, "tom", "Tom")
    await qa.react(first.message_id, "✅")
    solved = await runtime.services.questions.get(1)
    assert solved is not None and solved.solved_at is not None
    answers = await runtime.services.questions.answers(1)
    assert solved.solved_answer_id == answers[0].id
    assert qa.port.thread(root.message_id)[-1].text == "✅ Solved. Thank you @ana for the answer!"


async def test_solved_needs_the_asker_and_an_answer(qa: ConsoleSession) -> None:
    await qa.command("ask", "Is the EE word count 4,000?")
    root = qa.port.in_channel("qa")[0]
    assert (await qa.command("solved", root.message_id)).text == (
        "This question has no answer yet, so it cannot be solved."
    )
    qa.actor = Actor(Platform.CONSOLE, "ana", "Ana")
    await qa.message("Yes, 4,000 words maximum.", thread=root.message_id)
    assert (
        await qa.command("solved", root.message_id)
    ).text == "Only the person who asked can mark this question solved."
    assert (await qa.command("solved", "")).text.startswith("/solved [question]")


async def test_an_answered_unsolved_question_nudges_the_asker_once_after_a_day(
    qa: ConsoleSession, runtime: Runtime, clock: ManualClock
) -> None:
    await qa.command("ask", "How long should an IA reflection be?")
    root = qa.port.in_channel("qa")[0]
    qa.actor = Actor(Platform.CONSOLE, "kwame", "Kwame")
    await qa.message("About a page.", thread=root.message_id)
    scheduler = sched(runtime)
    clock.advance(timedelta(hours=23))
    await scheduler.run_due(clock.now())
    assert dms(qa.port, containing="Did it solve it?") == []
    clock.advance(timedelta(hours=1))
    await scheduler.run_due(clock.now())
    (nudge,) = dms(qa.port, containing="Did it solve it?")
    assert nudge.to_user == "tom" and nudge.text.startswith("Your question has 1 answer. Did it solve it?")
    await runtime.dispatcher.run_job(
        "qa.nudge", "qa.nudge:1", {"platform": "console", "question_id": 1}, clock.now()
    )
    assert len(dms(qa.port, containing="Did it solve it?")) == 1  # once


async def test_a_member_is_pinged_at_most_three_times_a_day(runtime: Runtime, clock: ManualClock) -> None:
    runtime.services.finder = NoSearch()  # these near-identical questions would otherwise stop at "similar"
    port = ConsolePort()
    runtime.attach(port)
    await runtime.services.members.upsert(
        MemberInput(name="Solo", identities={"console": "solo"}, roles=["examiner"], subjects=["music"],
                    timezone="UTC", work_start=0, work_end=1439),
        clock.now(),
    )  # fmt: skip
    session = ConsoleSession(runtime, port, out=lambda _: None)
    for i in range(5):
        await session.command("ask", f"Music question number {i}?")
        await sched(runtime).run_due(clock.now())
    assert len(dms(port)) == 3  # questions 4 and 5 reached nobody: Solo had three pings today
    clock.advance(timedelta(days=1, minutes=1))
    await session.command("ask", "One more music question?")
    await sched(runtime).run_due(clock.now())
    # A new day: three more (the second waves of questions 4 and 5, and the new question's first).
    assert len(dms(port)) == 6


@dataclass
class Hit:
    question_id: int
    text: str
    permalink: str | None
    solved: bool
    answers: int


class FakeFinder:
    def __init__(self, hits: Sequence[Hit]) -> None:
        self.hits = list(hits)

    async def similar(self, text: str, *, limit: int = 3, exclude_id: int | None = None) -> Sequence[Hit]:
        return [h for h in self.hits if h.question_id != exclude_id][:limit]


async def test_similar_questions_come_first_and_the_draft_is_never_lost(
    qa: ConsoleSession, runtime: Runtime
) -> None:
    runtime.services.finder = FakeFinder([Hit(99, "How do you moderate IA?", "console://qa/m9", True, 2)])
    shown = await qa.command("ask", "How should I moderate my IA samples?")
    assert shown.text.splitlines()[0] == "Before I post it: these earlier questions look similar."
    assert "How do you moderate IA? <console://qa/m9> (✅ solved)" in shown.text
    assert [b.label for b in shown.buttons] == ["Post my question", "Cancel"]
    assert qa.port.in_channel("qa") == []
    draft = await runtime.services.questions.get(1)
    assert (
        draft is not None
        and draft.text == "How should I moderate my IA samples?"
        and draft.root_message_id is None
    )
    posted = await qa.press(1)
    assert posted.replace and posted.text.startswith("Your question is posted")
    assert qa.port.in_channel("qa")[0].text.endswith("_Reply in this thread to answer._")

    cancelled_ask = await qa.command("ask", "How do I moderate IA?")
    assert cancelled_ask.buttons
    assert (await qa.press(2)).text == "Not posted. I hope one of those answers helps!"
    assert len(qa.port.in_channel("qa")) == 1


async def test_explicit_subject_and_programme_options_and_unknown_ones(
    qa: ConsoleSession, runtime: Runtime
) -> None:
    session_args = {"question": "Lab safety rules for year 11?", "subject": "chimie", "programme": "PAI"}
    from bot.events import CommandEvent, Conversation

    event = CommandEvent(
        qa.actor,
        Conversation(Platform.CONSOLE, "console", "general"),
        "ask",
        session_args,
        "e-opt",
        TUESDAY_9_UTC,
    )
    reply = await runtime.dispatcher.command(event, qa.port)
    assert reply.text.startswith("Your question is posted")
    stored = await runtime.services.questions.get(1)
    assert stored is not None and (stored.subject, stored.programme) == ("chemistry", "myp")
    bad = CommandEvent(
        qa.actor, Conversation(Platform.CONSOLE, "console", "general"), "ask",
        {"question": "x?", "subject": "Quidditch"}, "e-bad", TUESDAY_9_UTC,
    )  # fmt: skip
    refused = await runtime.dispatcher.command(bad, qa.port)
    assert (
        refused.text
        == "I don't know the subject 'Quidditch'. Nothing was posted; please check it and ask again."
    )


class FlakyPort(ConsolePort):
    """Fails its next `failures` DMs, as a platform outage would."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    async def dm(self, user_id: str, text: str, buttons: Sequence[Button] = ()) -> MessageRef:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("platform unavailable")
        return await super().dm(user_id, text, buttons)


async def test_a_failed_ping_is_retried_not_dropped_nor_doubled(sqlite_url: str, clock: ManualClock) -> None:
    runtime = await build_runtime(make_config(sqlite_url), clock=clock, scheduler=ManualScheduler())
    try:
        port = FlakyPort(failures=1)
        runtime.attach(port)
        await load_demo(runtime)
        session = ConsoleSession(runtime, port, out=lambda _: None)
        session.actor = Actor(Platform.CONSOLE, "tom", "Tom")
        await session.command("ask", "Biology fieldwork ideas?")
        scheduler = sched(runtime)
        await scheduler.run_due(clock.now())  # the first DM fails: the wave is retried in a minute
        assert "qa.wave:1:1" in scheduler.jobs
        clock.advance(timedelta(minutes=1))
        await scheduler.run_due(clock.now())
        recipients = [m.to_user for m in dms(port)]
        assert sorted(recipients) == ["ana", "fatima", "kwame", "mei"]  # each exactly once
    finally:
        await runtime.close()


async def test_an_answer_with_a_nul_or_a_lone_surrogate_is_kept_on_both_databases(
    database_url: str, clock: ManualClock
) -> None:
    """PostgreSQL refuses NUL in text and SQLite cannot encode a lone surrogate: the answer is kept
    without them instead of being lost with an error."""
    rt = await build_runtime(make_config(database_url), clock=clock, scheduler=ManualScheduler())
    try:
        port = ConsolePort()
        rt.attach(port)
        session = ConsoleSession(rt, port, out=lambda _: None)
        session.actor = Actor(Platform.CONSOLE, "tom", "Tom Wilson", "en", "Europe/London")
        await session.command("ask", "Which lab safety rules do you use?")
        root = port.in_channel("qa")[0]
        session.actor = Actor(Platform.CONSOLE, "sarah", "Sarah Cohen")
        await session.message("Goggles\x00 always \ud800 and gloves.", thread=root.message_id)
        assert [a.text for a in await rt.services.questions.answers(1)] == [
            "Goggles always \ufffd and gloves."
        ]
    finally:
        await rt.close()
