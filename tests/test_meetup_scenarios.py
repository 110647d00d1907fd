"""Meet-ups through the console harness: join, schedule, the announcement, a full round with
invitations (each member's language, local times, an .ics), sit-outs told why, the follow-up
buttons, status with reasons, stats, cadence and no repeats in the next round, replay safety."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from adapters.console.port import ConsolePort, Posted
from adapters.console.session import ConsoleSession
from adapters.runtime import build_runtime
from bot.clock import ManualClock
from bot.events import Actor, Platform
from bot.meetups.rounds import ROUND
from bot.meetups.timing import zone
from bot.scheduling import ManualScheduler
from tests.conftest import make_config
from tests.meetup_people import WEDNESDAY_ROUND, pool

PEOPLE = {k: k for k in ("ana", "ben", "chloe", "dev", "eve", "zoe")}
LOCALES = {"ana": "es", "chloe": "fr"}


@pytest.fixture
async def meet(sqlite_url: str, clock: ManualClock, tmp_path: Path) -> AsyncIterator[ConsoleSession]:
    config = make_config(sqlite_url, admins={"console": ["boss"]})
    runtime = await build_runtime(config, clock=clock, scheduler=ManualScheduler())
    port = ConsolePort()
    runtime.attach(port)
    await runtime.services.members.upsert_many(pool("console", PEOPLE), clock.now())
    session = ConsoleSession(runtime, port, out=lambda _: None, files_dir=tmp_path)
    yield session
    await runtime.close()


def be(session: ConsoleSession, who: str) -> None:
    session.actor = Actor(Platform.CONSOLE, who, who.capitalize(), LOCALES.get(who, "en"), None)


def scheduler(session: ConsoleSession) -> ManualScheduler:
    assert isinstance(session.runtime.scheduler, ManualScheduler)
    return session.runtime.scheduler


async def join_all(session: ConsoleSession) -> None:
    for who in PEOPLE:
        be(session, who)
        text = "every 2 weeks groups of 3" if who == "ben" else ""
        reply = await session.command("meetups", f"join {text}".strip())
        assert reply.text.startswith(("You're in!", "¡Ya está dentro!", "C'est fait")), reply.text


async def schedule_weekly(session: ConsoleSession) -> str:
    be(session, "boss")
    reply = await session.command("meetups", "schedule every week on wednesday at 15:00 Europe/London")
    return reply.text


def members_of(group: list[Posted]) -> set[str]:
    return set(group[0].audience)


async def run_round(session: ConsoleSession, clock: ManualClock) -> dict[str, list[Posted]]:
    before = set(session.port.groups())
    if clock.now() < WEDNESDAY_ROUND:
        clock.set(WEDNESDAY_ROUND)
    await scheduler(session).run_due(clock.now())
    return {k: v for k, v in session.port.groups().items() if k not in before}


async def test_joining_explains_settings_and_refuses_bad_input_without_changes(meet: ConsoleSession) -> None:
    be(meet, "ben")
    reply = await meet.command("meetups", "join every 2 weeks groups of 3")
    assert reply.text.startswith("You're in! Meet-ups: every 2 weeks, groups of up to 3.")
    assert "No round is scheduled yet" in reply.text
    bad = await meet.command("meetups", "join every 3 weeks")
    assert bad.text == "Meet-ups run every 1, 2 or 4 weeks, not '3'."
    bad = await meet.command("meetups", "join groups of 9")
    assert bad.text == "A group has 2, 3 or 4 people, not '9'."
    bad = await meet.command("meetups", "join sometimes @everyone")
    assert "I did not understand" in bad.text and "@everyone" not in bad.text
    status = await meet.command("meetups", "status")
    assert "Your settings: every 2 weeks, groups of up to 3." in status.text  # unchanged by the errors
    paused = await meet.command("meetups", "pause 2")
    assert paused.text.startswith("Paused for 2 weeks, until")
    assert "paused until" in (await meet.command("meetups", "status")).text
    assert (await meet.command("meetups", "pause forever")).text.startswith("Pause for a number of weeks")
    left = await meet.command("meetups", "leave")
    assert left.text.startswith("You have left meet-ups")
    assert (await meet.command("meetups", "leave")).text == "You were not in meet-ups, so nothing changed."
    assert (await meet.command("meetups", "pause 1")).text.startswith("You have not joined meet-ups.")


async def test_only_admins_schedule_and_read_stats(meet: ConsoleSession) -> None:
    be(meet, "ana")
    refused = await meet.command("meetups", "schedule every week on monday at 10:00")
    assert refused.text == "Solo los administradores de la red pueden usar /meetups schedule."
    be(meet, "boss")
    reply = await meet.command("meetups", "schedule every 2 weeks on tuesday at 3pm America/New_York")
    assert reply.text.startswith("Meet-up rounds: every 2 weeks on Tuesday at 15:00 (America/New_York).")
    missing = await meet.command("meetups", "schedule every week at 10:00")
    assert missing.text.startswith("Say which day")
    bad_zone = await meet.command("meetups", "schedule on monday at 10:00 Mars/Olympus")
    assert bad_zone.text == "'Mars/Olympus' is not a time zone I know; use a name like Europe/Madrid."
    assert set(scheduler(meet).jobs) == {"meetups.round:console"}  # today 19:00 UTC: too late to announce
    stopped = await meet.command("meetups", "schedule off")
    assert stopped.text.startswith("Meet-up rounds are stopped.") and scheduler(meet).jobs == {}
    assert (await meet.command("meetups", "schedule off")).text.startswith("No meet-up rounds were scheduled")


async def test_a_full_round_invites_every_group_once_in_each_language(
    meet: ConsoleSession, clock: ManualClock
) -> None:
    await join_all(meet)
    text = await schedule_weekly(meet)
    assert "First round:" in text
    # The day before, the announcement (the scheduler holds it for Tuesday 15:00 UTC).
    clock.set(WEDNESDAY_ROUND - timedelta(hours=24))
    assert await scheduler(meet).run_due(clock.now()) == 1
    announcement = meet.port.in_channel("announcements")[-1]
    assert "The next job-alike meet-up round is" in announcement.text
    assert "6 members are in." in announcement.text and "/meetups pause 1" in announcement.text

    groups = await run_round(meet, clock)
    by_members = {frozenset(members_of(g)): g for g in groups.values()}
    assert len(groups) == 2
    assert any({"ana", "ben"} <= m for m in by_members)  # Biology examiners, across regions
    assert any({"chloe", "dev"} <= m for m in by_members)  # Physics examiners
    assert sorted(len(m) for m in by_members) == [2, 3]  # Eve joins one: nobody alone
    assert all("zoe" not in m for m in by_members)

    ana_group = next(g for m, g in by_members.items() if "ana" in m)
    texts = [p.text for p in ana_group]
    assert any(t.startswith("☕ ¡Su encuentro") for t in texts), texts  # Ana reads Spanish
    assert any(t.startswith("☕ Your job-alike meet-up") for t in texts)  # Ben reads English
    english = next(t for t in texts if t.startswith("☕ Your job-alike"))
    assert "• @ana: " in english and "• @ben: " in english
    assert "Examiner · Biology · DP · Colegio Alameda, Europe" in english
    assert "same role (Examiner) and subject (Biology)" in english
    slot_lines = [line for line in english.splitlines() if line[:2] in ("1.", "2.", "3.")]
    assert len(slot_lines) == 3 and "Ben Carter" in slot_lines[0]  # console fallback: everyone's local time

    ics = next(p.attachment for p in ana_group if p.attachment is not None)
    assert ics.filename == "meetup.ics"
    events = [c for c in Calendar.from_ical(ics.data).walk("VEVENT")]
    assert len(events) == 3
    for event in events:
        start = event.decoded("dtstart")
        for tz in ("Europe/Madrid", "America/New_York"):
            local = start.astimezone(zone(tz))
            assert local.weekday() < 5 and local.hour >= 9 and (local + timedelta(minutes=30)).hour <= 17

    zoe_dm = [m for m in meet.port.messages if m.to_user == "zoe"]
    assert len(zoe_dm) == 1
    assert "Nobody in this round shares at least an hour of working time with you." in zoe_dm[0].text

    # A replayed round job (a retry, a second leader) sends nothing again.
    before = len(meet.port.messages)
    await meet.runtime.dispatcher.run_job(
        ROUND,
        "meetups.round:console",
        {"platform": "console", "at": WEDNESDAY_ROUND.isoformat()},
        WEDNESDAY_ROUND,
    )
    assert len(meet.port.messages) == before


async def test_follow_up_buttons_feed_stats_and_status_explains_the_match(
    meet: ConsoleSession, clock: ManualClock
) -> None:
    await join_all(meet)
    await schedule_weekly(meet)
    groups = await run_round(meet, clock)
    ana_channel = next(k for k, g in groups.items() if "ana" in members_of(g))
    be(meet, "ana")
    status = await meet.command("meetups", "status")
    assert "con Ben Carter: mismo rol (Examinador) y asignatura (Biología)" in status.text, status.text

    clock.set(WEDNESDAY_ROUND + timedelta(days=7))
    await scheduler(meet).run_due(clock.now())  # the follow-up (and the next round)
    followups = [p for p in meet.port.groups()[ana_channel] if p.buttons]
    assert {p.text.split("?")[0] for p in followups} >= {"Did you meet", "¿Se reunieron"}
    english = next(p for p in followups if p.text.startswith("Did you meet?"))
    be(meet, "chloe")
    assert (await meet.press_on(english.message_id, 1)).text == "Ce bouton ne vous est pas destiné."
    be(meet, "ben")
    assert (await meet.press_on(english.message_id, 1)).text == "Wonderful, thank you! Glad you met."
    be(meet, "boss")
    stats = await meet.command("meetups", "stats")
    assert "Rounds: 2 · groups:" in stats.text
    assert "Met: 100% of groups that answered (1 of 1)" in stats.text
    assert "Match rate:" in stats.text and "Cross-region groups:" in stats.text


async def test_the_next_round_repeats_nobody_and_honours_cadence(
    meet: ConsoleSession, clock: ManualClock
) -> None:
    await join_all(meet)
    await schedule_weekly(meet)
    first = await run_round(meet, clock)
    met = {frozenset((a, b)) for g in first.values() for a in members_of(g) for b in members_of(g) if a != b}
    clock.set(WEDNESDAY_ROUND + timedelta(days=7))
    await scheduler(meet).run_due(clock.now())
    second = {k: v for k, v in meet.port.groups().items() if k not in first}
    people = [m for g in second.values() for m in members_of(g)]
    assert "ben" not in people  # every 2 weeks: he sits this one out
    assert len(people) == len(set(people))
    for g in second.values():
        members = sorted(members_of(g))
        assert not any(frozenset((a, b)) in met for a in members for b in members if a < b)
