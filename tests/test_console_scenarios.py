"""Core scenarios through the console harness: what a member types and what they see."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from adapters.console.port import ConsolePort
from adapters.console.repl import load_demo
from adapters.console.session import ConsoleSession
from adapters.runtime import Runtime
from bot.clock import ManualClock
from bot.events import Actor, Platform
from bot.port import MessageRef
from bot.scheduling import ManualScheduler


@pytest.fixture
async def session(runtime: Runtime) -> ConsoleSession:
    port = ConsolePort()
    runtime.attach(port)
    await load_demo(runtime)
    return ConsoleSession(runtime, port, out=lambda _: None)


def scheduler(runtime: Runtime) -> ManualScheduler:
    assert isinstance(runtime.scheduler, ManualScheduler)
    return runtime.scheduler


async def test_whois_examiner_biology_ranks_demo_examiners_awake_now_first(session: ConsoleSession) -> None:
    reply = await session.command("whois-examiner", "Biology")
    lines = reply.text.splitlines()
    assert lines[0] == "6 members match Examiner · Biology:"
    # 13:00 UTC: Madrid, Casablanca, Accra and Buenos Aires are inside 08:00-20:00; Auckland and Shanghai not.
    assert [line.split(":")[0] for line in lines[1:]] == [
        "• @ana", "• @fatima", "• @kwame", "• @valentina", "• @ethan", "• @mei",
    ]  # fmt: skip
    assert lines[1] == (
        "• @ana: Examiner, Workshop leader · Biology · DP · Colegio Alameda, Europe · "
        "2:00\u202fPM their time (Europe/Madrid)"
    )
    assert reply.ephemeral and reply.buttons == ()


async def test_unknown_subject_gets_did_you_mean_and_usage(session: ConsoleSession) -> None:
    reply = await session.command("whois-examiner", "Quantum basket weaving")
    assert reply.text.startswith("I don't know 'Quantum basket weaving'.")
    assert "/whois-examiner <subject> [programme] [language]" in reply.text
    typo = await session.command("whois-examiner", "biologi")
    assert typo.text.startswith("6 members match Examiner · Biology")


async def test_help_speaks_the_members_language(session: ConsoleSession) -> None:
    session.actor = Actor(Platform.CONSOLE, "you", "You", "fr-CA", "America/Montreal")
    reply = await session.command("help", "")
    assert reply.text.startswith("Je relie les éducateurs IB")
    assert "• /whois-examiner <matière> [programme] [langue] : trouver des examinateurs" in reply.text
    assert "• /forget-me : supprimer votre profil" in reply.text and "/school-report" not in reply.text


@pytest.mark.parametrize(("locale", "expected"), [("es", "/ask <pregunta>"), ("en", "/ask <question>: ask")])
async def test_empty_ask_explains_usage_and_posts_nothing(
    session: ConsoleSession, locale: str, expected: str
) -> None:
    session.actor = Actor(Platform.CONSOLE, "you", "You", locale)
    reply = await session.command("ask", "   ")
    assert reply.text.startswith(expected)
    assert session.port.messages == []


class BrokenPort(ConsolePort):
    async def open_thread(
        self, channel: str, text: str, *, title: str, tags: Sequence[str] = ()
    ) -> MessageRef:
        raise RuntimeError("secret internal detail")


async def test_a_crash_gives_a_friendly_message_never_a_traceback(runtime: Runtime) -> None:
    port = BrokenPort()
    session = ConsoleSession(runtime, port, out=lambda _: None)
    reply = await session.command("ask", "Will this break?")
    assert reply.text.startswith("Sorry, something went wrong on our side.")
    assert "secret internal detail" not in reply.text and "Traceback" not in reply.text


async def test_unknown_commands_and_oversized_input_get_clear_answers(session: ConsoleSession) -> None:
    assert "I don't know the command /frobnicate" in (await session.command("frobnicate", "x")).text
    huge = await session.command("ask", "x" * 40_000)
    assert huge.text.startswith("That is 40000 characters; please keep it under 4000. Nothing was posted.")
    long_question = await session.command("ask", "y" * 3500)
    assert long_question.text.startswith("Your question is 3500 characters; please keep it under 3000.")
    assert long_question.text.endswith("y" * 3500)  # their text comes back, nothing is lost
    assert session.port.messages == []


async def test_the_repl_prints_what_a_member_sees(runtime: Runtime) -> None:
    port = ConsolePort()
    runtime.attach(port)
    out: list[str] = []
    session = ConsoleSession(runtime, port, out=out.append)
    assert await session.handle_line("/ask What is a good IA timeline?")
    assert out[0].startswith("[#qa m1] Question from @You:")
    assert out[1].startswith("Your question is posted")
    assert await session.handle_line("hello")
    assert out[-1].startswith("Type a command such as /help")
    assert not await session.handle_line("quit")


async def test_more_than_ten_results_page_with_buttons(runtime: Runtime, clock: ManualClock) -> None:
    from storage.members import MemberInput

    for i in range(13):
        await runtime.services.members.upsert(
            MemberInput(name=f"Physicist {i:02d}", roles=["examiner"], subjects=["physics"]), clock.now()
        )
    session = ConsoleSession(runtime, ConsolePort(), out=lambda _: None)
    first = await session.command("whois-examiner", "physics")
    lines = first.text.splitlines()
    assert lines[0] == "13 members match Examiner · Physics (page 1 of 2):"
    assert len(lines) == 11 and lines[1].startswith("• *Physicist 00*")
    assert [b.label for b in first.buttons] == ["Next ▶"]
    second = await session.press(1)
    assert (
        second.replace and second.text.splitlines()[0] == "13 members match Examiner · Physics (page 2 of 2):"
    )
    assert [line[:15] for line in second.text.splitlines()[1:]] == [
        "• *Physicist 10",
        "• *Physicist 11",
        "• *Physicist 12",
    ]
    assert [b.label for b in second.buttons] == ["◀ Previous"]
    back = await session.press(1)
    assert back.text == first.text
