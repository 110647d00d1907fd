"""The expertise directory through the console harness: lookup, ranking, profiles, privacy, reports."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from datetime import timedelta
from typing import Any, cast

import pytest

from adapters.console.port import ConsolePort
from adapters.console.repl import load_demo
from adapters.console.session import ConsoleSession
from adapters.runtime import Runtime, build_runtime
from bot.clock import ManualClock
from bot.directory import DirectoryIndex, DirectoryQuery
from bot.events import Actor, CommandEvent, Conversation, FormSubmitEvent, Platform
from bot.port import FormErrors, Reply
from bot.scheduling import ManualScheduler
from storage.members import MemberInput
from storage.questions import NewQuestion
from tests.conftest import make_config


@pytest.fixture
async def demo(runtime: Runtime) -> ConsoleSession:
    port = ConsolePort()
    runtime.attach(port)
    await load_demo(runtime)
    return ConsoleSession(runtime, port, out=lambda _: None)


def names(reply: Reply) -> list[str]:
    return [
        line.split(":")[0].removeprefix("• ") for line in reply.text.splitlines() if line.startswith("• ")
    ]


async def test_free_text_in_french_and_spanish_ranks_language_matches_first(demo: ConsoleSession) -> None:
    reply = await demo.command("whois", "examinateur biologie PD espagnol")
    assert reply.text.startswith("6 members match Examiner · Biology (DP · Spanish first):")
    assert names(reply)[:2] == ["@ana", "@valentina"]  # the two Spanish speakers
    es = await demo.command("whois", "examinador de química")
    assert names(es) == ["@kwame", "@rafael", "@aiko"]


async def test_role_families_widen_but_exact_roles_come_first(demo: ConsoleSession) -> None:
    reply = await demo.command("whois", "moderator biology")
    assert names(reply)[0] == "@mei"  # the only moderator; examiners follow as the wider family
    assert len(names(reply)) == 6


async def test_visitor_spanish_and_did_you_mean(demo: ConsoleSession) -> None:
    reply = await demo.command("whois", "visitor spanish")
    assert reply.text.startswith("2 members match School visitor (Spanish first):")
    assert names(reply) == ["@lucas", "@omar"]
    nobody = await demo.command("whois", "visitor swahili")
    assert nobody.text.startswith("2 members match School visitor (Swahili first)")
    assert (await demo.command("whois", "swahili")).text.startswith(
        "Nobody in the directory matches Swahili yet."
    )
    typo = await demo.command("whois", "examiner phsyics zzzqqq")
    assert typo.text.startswith("I don't know 'zzzqqq'.")
    assert "Examiner · Physics" in typo.text and names(typo) == ["@pierre", "@john"]  # exact role first


async def test_hidden_members_never_appear_and_come_back_when_shown(
    demo: ConsoleSession, runtime: Runtime
) -> None:
    demo.actor = Actor(Platform.CONSOLE, "ana", "Ana Ruiz")
    hide = await demo.command("profile", "hide")
    assert hide.text.startswith("Done: you no longer appear in /whois results.")
    assert "@ana" not in names(await demo.command("whois-examiner", "biology"))
    assert "@ana" not in names(await demo.command("whois", "workshop leader"))
    await demo.command("profile", "show")
    assert "@ana" in names(await demo.command("whois-examiner", "biology"))


async def test_profile_set_creates_an_entry_with_platform_defaults_and_is_all_or_nothing(
    runtime: Runtime,
) -> None:
    session = ConsoleSession(runtime, ConsolePort(), out=lambda _: None)
    session.actor = Actor(Platform.CONSOLE, "lea", "Léa", "fr", "Europe/Paris")
    bad = await session.command(
        "profile", "set subject=Philosophie tz=Mars/Olympus hours=all-day colour=blue"
    )
    assert bad.text.startswith("Rien n'a été enregistré") or bad.text.startswith("Nothing was saved")
    assert await runtime.services.members.get_by_identity("console", "lea") is None  # nothing half-saved
    good = await session.command("profile", "set role=examinatrice subject=philo,tok programme=PD langue=fr")
    assert "langue" in good.text  # an unknown key is named, and nothing is saved
    good = await session.command(
        "profile", "set role=examinatrice subject=philo,tok programme=PD language=fr"
    )
    card = await runtime.services.members.get_by_identity("console", "lea")
    assert card is not None
    assert (card.roles, card.subjects, card.programmes, card.languages) == (
        ("examiner",), ("philosophy", "tok"), ("dp",), ("fr",),
    )  # fmt: skip
    assert card.timezone == "Europe/Paris" and card.name == "Léa"  # defaults from the platform
    assert names(await session.command("whois", "examiner philosophy")) == ["@lea"]


async def test_a_member_without_a_known_zone_is_asked_for_it(runtime: Runtime) -> None:
    session = ConsoleSession(runtime, ConsolePort(), out=lambda _: None)
    session.actor = Actor(Platform.CONSOLE, "sam", "Sam", "en", None)
    reply = await session.command("profile", "set subject=history")
    assert "I don't know your time zone yet" in reply.text and "/profile set tz=" in reply.text


async def test_the_profile_form_prefills_and_validates_like_the_text_form(
    demo: ConsoleSession, runtime: Runtime
) -> None:
    actor = Actor(Platform.CONSOLE, "kwame", "Kwame", "en", "Africa/Accra")
    conversation = Conversation(Platform.CONSOLE, "console", "general")
    now = runtime.services.clock.now()
    event = CommandEvent(actor, conversation, "profile", {"subcommand": "edit"}, "e1", now)
    form = await runtime.dispatcher.form_for(event, demo.port)
    assert form is not None and form.form_id == "profile"
    assert {f.name: f.value for f in form.fields} == {
        "roles": "Examiner", "subjects": "Biology, Chemistry", "programmes": "DP", "languages": "English",
        "where": "Africa/Accra 08:00-20:00",
    }  # fmt: skip
    values = {f.name: f.value for f in form.fields}
    rejected = await runtime.dispatcher.form_submit(
        FormSubmitEvent(
            actor, conversation, "profile", {**values, "subjects": "Biolgy, Astrology"}, "", "f1", now
        ),
        demo.port,
    )
    assert isinstance(rejected, FormErrors) and set(rejected.errors) == {"subjects"}
    saved = await runtime.dispatcher.form_submit(
        FormSubmitEvent(
            actor,
            conversation,
            "profile",
            {**values, "subjects": "Physics", "where": "Accra 9-17"},
            "",
            "f2",
            now,
        ),
        demo.port,
    )
    assert isinstance(saved, Reply) and saved.text.startswith("Saved. Your profile now reads:")
    card = await runtime.services.members.get_by_identity("console", "kwame")
    assert (
        card is not None and card.subjects == ("physics",) and (card.work_start, card.work_end) == (540, 1020)
    )
    edit_in_console = await demo.command("profile", "edit")
    assert edit_in_console.text.startswith("Edit your profile with a text form")


async def test_forget_me_asks_then_deletes_and_anonymises_questions(
    demo: ConsoleSession, runtime: Runtime
) -> None:
    demo.actor = Actor(Platform.CONSOLE, "mei", "Mei Lin")
    await demo.command("ask", "Anyone marking IA in Mandarin?")
    question = (
        await runtime.services.questions.by_source_event("console", demo.replies[-1].text and "") or None
    )
    ask = await demo.command("forget-me", "")
    assert [b.label for b in ask.buttons] == ["Delete my data", "Cancel"]
    demo.actor = Actor(Platform.CONSOLE, "ana", "Ana")  # someone else cannot press it
    assert (await demo.press(1)).text == "This button is not for you."
    demo.actor = Actor(Platform.CONSOLE, "mei", "Mei Lin")
    await demo.command("forget-me", "")
    done = await demo.press(1)
    assert done.replace and done.text.startswith("Done: your data has been deleted.")
    assert await runtime.services.members.get_by_identity("console", "mei") is None
    stored = await runtime.services.questions.get(1)
    assert stored is not None and stored.text == "Anyone marking IA in Mandarin?"
    assert (stored.asker_user_id, stored.asker_name) == ("", "")
    assert "@mei" not in names(await demo.command("whois", "moderator"))
    assert question is None


async def test_cancel_deletes_nothing(demo: ConsoleSession, runtime: Runtime) -> None:
    demo.actor = Actor(Platform.CONSOLE, "ana", "Ana")
    await demo.command("forget-me", "")
    assert (await demo.press(2)).text == "Nothing was deleted."
    assert await runtime.services.members.get_by_identity("console", "ana") is not None


async def test_school_report_is_for_admins_and_comes_with_a_chart(
    sqlite_url: str, clock: ManualClock
) -> None:
    config = make_config(sqlite_url, admins={"console": ["boss"]}, schools={"Colegio Alameda": 4})
    runtime = await build_runtime(config, clock=clock, scheduler=ManualScheduler())
    try:
        await load_demo(runtime)
        session = ConsoleSession(runtime, ConsolePort(), out=lambda _: None)
        refused = await session.command("school-report", "")
        assert refused.text == "Only network admins can use /school-report."
        session.actor = Actor(Platform.CONSOLE, "boss", "Boss")
        report = await session.command("school-report", "colegio alameda")
        assert "Colegio Alameda" in report.text and "25" in report.text  # 1 member of 4 staff
        assert report.attachment is not None and report.attachment.data.startswith(b"\x89PNG")
        unknown = await session.command("school-report", "Hogwarts")
        assert unknown.text == "No members list the school 'Hogwarts'."
    finally:
        await runtime.close()


async def test_helpful_members_rank_higher_among_equals(runtime: Runtime, clock: ManualClock) -> None:
    members = runtime.services.members
    for name in ("Ada", "Bea"):
        await members.upsert(
            MemberInput(
                name=name, identities={"console": name.lower()}, roles=["examiner"], subjects=["history"]
            ),
            clock.now(),
        )
    q, _ = await runtime.services.questions.create(
        NewQuestion("console", "e1", "x", "X", "en", "Q?", clock.now())
    )
    await runtime.services.questions.record_answer(q.id, "bea", clock.now())
    session = ConsoleSession(runtime, ConsolePort(), out=lambda _: None)
    assert names(await session.command("whois", "examiner history")) == ["@bea", "@ada"]


async def test_another_instance_sees_directory_changes_after_its_refresh_interval(
    sqlite_url: str, clock: ManualClock
) -> None:
    config = make_config(sqlite_url)
    writer = await build_runtime(config, clock=clock, scheduler=ManualScheduler())
    reader = await build_runtime(config, clock=clock, scheduler=ManualScheduler())
    tick = [0.0]
    index = DirectoryIndex(reader.services.members, reader.db, refresh_seconds=5, monotonic=lambda: tick[0])
    query = DirectoryQuery(roles=("examiner",), role_family=("examiner",), subjects=("music",))
    try:
        await index.refresh(clock.now())
        assert index.search(query, clock.now()).total == 0
        member_id = await writer.services.members.upsert(
            MemberInput(name="Nina", roles=["examiner"], subjects=["music"]), clock.now()
        )
        tick[0] = 4.0
        await index.refresh(clock.now())
        assert index.search(query, clock.now()).total == 0  # not yet: inside the interval
        tick[0] = 5.0
        await index.refresh(clock.now())
        assert [c.name for c in index.search(query, clock.now()).cards] == ["Nina"]
        await writer.services.members.delete(member_id)
        tick[0] = 10.0
        await index.refresh(clock.now())
        assert index.search(query, clock.now()).total == 0
    finally:
        await writer.close()
        await reader.close()


async def test_working_hours_follow_each_members_zone_across_midnight(
    runtime: Runtime, clock: ManualClock
) -> None:
    members = runtime.services.members
    night = MemberInput(
        name="Night",
        roles=["examiner"],
        subjects=["music"],
        timezone="Asia/Tokyo",
        work_start=20 * 60,
        work_end=2 * 60,
    )
    day = dataclasses.replace(
        night, name="Day", timezone="Europe/London", work_start=9 * 60, work_end=17 * 60
    )
    await members.upsert(night, clock.now())
    await members.upsert(day, clock.now())
    index = runtime.services.directory
    query = DirectoryQuery(roles=("examiner",), role_family=("examiner",), subjects=("music",))
    clock.set(clock.now().replace(hour=13))  # 13:00 UTC = 22:00 Tokyo (inside 20-02), 13:00 London (inside)
    await index.refresh(clock.now())
    assert sorted(c.name for c in index.search(query, clock.now()).cards) == ["Day", "Night"]
    assert index.in_working_hours(clock.now())[:2].tolist() == [True, True]
    clock.advance(timedelta(hours=6))  # 19:00 UTC = 04:00 Tokyo (outside), 19:00 London (outside)
    assert index.in_working_hours(clock.now())[:2].tolist() == [False, False]


async def test_concurrent_first_lookups_all_see_the_directory(sqlite_url: str, clock: ManualClock) -> None:
    """In a process that just started, a lookup arriving while the first one loads the index waits for
    it instead of searching an empty index ("Nobody matches", seen under load in bench.load)."""
    rt = await build_runtime(make_config(sqlite_url), clock=clock, scheduler=ManualScheduler())
    members = rt.services.members
    loading, others_done = asyncio.Event(), asyncio.Event()

    class SlowFirstLoad:  # the members repository, with a first full load that takes its time
        def __getattr__(self, name: str) -> Any:
            return getattr(members, name)

        async def cards(self, *args: Any) -> Any:
            if not loading.is_set():
                loading.set()
                with contextlib.suppress(TimeoutError):  # the others finish first if they do not wait
                    await asyncio.wait_for(others_done.wait(), 1.0)
            return await members.cards(*args)

    try:
        member = MemberInput(name="Kwame", identities={"console": "kwame"}, roles=["examiner"],
                             subjects=["biology"], timezone="Africa/Accra")  # fmt: skip
        await members.upsert(member, clock.now())
        rt.services.directory = DirectoryIndex(cast(Any, SlowFirstLoad()), rt.db)  # never loaded yet
        port = ConsolePort()
        rt.attach(port)
        session = ConsoleSession(rt, port, out=lambda _: None)
        first = asyncio.create_task(session.command("whois-examiner", "biology"))
        await loading.wait()
        others = await asyncio.gather(*(session.command("whois-examiner", "biology") for _ in range(4)))
        others_done.set()
        replies = [await first, *others]
        assert [r.text.split(":")[0] for r in replies] == ["1 member matches Examiner · Biology"] * 5
    finally:
        await rt.close()
