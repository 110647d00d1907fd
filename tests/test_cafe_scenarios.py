"""A World Café from template to harvest through the console harness: joining (as a table host),
rounds with a provocation and routine, one tablecloth per table, rotation, the one-minute warning,
tablecloths closing (later messages not counted), pause and resume, the take-out round, the harvest
as a summary and a Markdown file, a replayed transition, and a scheduled café announced in advance."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.console.port import ConsolePort, Posted
from adapters.console.session import ConsoleSession
from adapters.runtime import build_runtime
from bot.cafe import engine
from bot.clock import ManualClock
from bot.events import Actor, Platform
from bot.scheduling import ManualScheduler
from tests.conftest import make_config

PEOPLE = ["ana", "ben", "chloe", "dev", "eve", "farid", "gus", "hana"]
TEMPLATE = "coordinators-2024-04"  # five 5-minute rounds, up to five tables


@pytest.fixture
async def cafe(sqlite_url: str, clock: ManualClock, tmp_path: Path) -> AsyncIterator[ConsoleSession]:
    runtime = await build_runtime(
        make_config(sqlite_url, admins={"console": ["boss"]}), clock=clock, scheduler=ManualScheduler()
    )
    port = ConsolePort()
    runtime.attach(port)
    session = ConsoleSession(runtime, port, out=lambda _: None, files_dir=tmp_path)
    yield session
    await runtime.close()


def be(session: ConsoleSession, who: str, locale: str = "en") -> None:
    session.actor = Actor(Platform.CONSOLE, who, who.capitalize(), locale, "Europe/London")


def sched(session: ConsoleSession) -> ManualScheduler:
    assert isinstance(session.runtime.scheduler, ManualScheduler)
    return session.runtime.scheduler


def tablecloths(session: ConsoleSession, round_number: int) -> list[Posted]:
    return [m for m in session.port.messages if m.title and m.title.endswith(f"round {round_number}")]


def seated(who: str, tablecloth: Posted) -> bool:
    return f"@{who}" in tablecloth.text.split("\n")[0].split()


async def open_cafe(cafe: ConsoleSession) -> None:
    be(cafe, "boss")
    reply = await cafe.command("cafe", f"start {TEMPLATE}")
    assert reply.text.startswith("Café #1 is open in #announcements.")
    announcement = cafe.port.in_channel("announcements")[-1]
    assert (
        "IB Promises World Café" in announcement.text and announcement.buttons[0].label == "☕ Join the café"
    )
    for who in PEOPLE:
        be(cafe, who)
        joined = await cafe.command("cafe", "join host" if who in ("ana", "ben") else "join")
        assert joined.text.startswith("Welcome!")


async def test_a_full_cafe_from_template_to_harvest(cafe: ConsoleSession, clock: ManualClock) -> None:
    be(cafe, "ana")
    assert (
        await cafe.command("cafe", f"start {TEMPLATE}")
    ).text == "Only network admins can use /cafe start."
    await open_cafe(cafe)
    be(cafe, "zoe")
    assert (await cafe.command("cafe", "next")).text == "Only the café's host or an admin can use /cafe next."
    be(cafe, "boss")
    assert (await cafe.command("cafe", "next")).text == "Round 1 has started."

    round1 = tablecloths(cafe, 1)
    assert len(round1) == 4  # eight people, up to five tables, at least two a table
    intro = [m for m in cafe.port.in_channel("announcements") if m.text.startswith("☕ Round 1 of 5")]
    assert len(intro) == 1 and "Thinking routine: Feelings and Options" in intro[0].text
    seats = {who: next(i for i, m in enumerate(round1) if seated(who, m)) for who in PEOPLE}
    assert sorted(seats.values()).count(0) == 2  # balanced: two a table

    # Notes on the tablecloths while open count; the one-minute warning; then the cloth closes.
    be(cafe, "chloe")
    await cafe.message("Inquiry starts with our own questions.", thread=round1[seats["chloe"]].message_id)
    clock.advance(timedelta(minutes=4))
    await sched(cafe).run_due(clock.now())
    assert all(any("One minute left" in m.text for m in cafe.port.thread(t.message_id)) for t in round1)
    clock.advance(timedelta(minutes=1))
    await sched(cafe).run_due(clock.now())  # round 1 closes, round 2 opens
    assert all(any("tablecloth is closed" in m.text for m in cafe.port.thread(t.message_id)) for t in round1)
    await cafe.message("A late thought.", thread=round1[seats["chloe"]].message_id)
    assert await cafe.runtime.services.cafes.note_count(1) == 1  # after closing: not counted

    round2 = tablecloths(cafe, 2)
    assert len(round2) == 4
    moved = [who for who in PEOPLE if not seated(who, round2[seats[who]])]
    assert set(moved) >= set(PEOPLE) - {"ana", "ben"}  # everyone but the table hosts rotates
    assert all(seated(host, round2[seats[host]]) for host in ("ana", "ben"))  # hosts stay
    host_table = round2[seats["ana"]] if seats["chloe"] == seats["ana"] else None
    if host_table is not None:
        assert "On this table's last tablecloth:" in host_table.text

    # Pause stops the clock; resume restarts it with the time that was left.
    clock.advance(timedelta(minutes=2))
    be(cafe, "boss")
    assert (await cafe.command("cafe", "pause")).text.startswith("Paused")
    clock.advance(timedelta(minutes=30))
    await sched(cafe).run_due(clock.now())
    assert tablecloths(cafe, 3) == []
    assert (await cafe.command("cafe", "resume")).text == "Resumed."
    clock.advance(timedelta(minutes=3))
    await sched(cafe).run_due(clock.now())
    assert len(tablecloths(cafe, 3)) == 4

    for _ in range(3):  # rounds 3, 4 and 5 run out on their own
        clock.advance(timedelta(minutes=5))
        await sched(cafe).run_due(clock.now())
    takeout = [m for m in cafe.port.messages if m.title == "Take-outs"]
    assert len(takeout) == 1 and all(seated(who, takeout[0]) for who in PEOPLE)
    be(cafe, "dev")
    await cafe.message("I will start each meeting with a promise.", thread=takeout[0].message_id)
    clock.advance(timedelta(minutes=3))
    await sched(cafe).run_due(clock.now())

    harvest = [m for m in cafe.port.in_channel("announcements") if m.text.startswith("🍰 Harvest")]
    assert len(harvest) == 1 and "2 contributions from 2 people" in harvest[0].text
    assert "I will start each meeting with a promise." in harvest[0].text
    assert "Rotation: 0 pairs of people shared a table more than once." in harvest[0].text
    assert harvest[0].attachment is not None and harvest[0].attachment.filename == "cafe-1-harvest.md"
    markdown = harvest[0].attachment.data.decode()
    assert (
        "## Round 1: Promise 1" in markdown
        and "- **Chloe**: Inquiry starts with our own questions." in markdown
    )
    assert "A late thought." not in markdown and "## Take-outs" in markdown
    assert sched(cafe).jobs == {}

    # Replaying a transition (a retry, a second leader) posts nothing again.
    before = len(cafe.port.messages)
    await cafe.runtime.dispatcher.run_job(
        engine.CLOSE, "cafe:1:cafe.close", {"platform": "console", "session_id": 1, "round": 5}, clock.now()
    )
    await cafe.runtime.dispatcher.run_job(
        engine.CLOSE, "cafe:1:cafe.close", {"platform": "console", "session_id": 1, "round": 0}, clock.now()
    )
    assert len(cafe.port.messages) == before


async def test_a_scheduled_cafe_is_announced_reminded_and_starts_on_time(
    cafe: ConsoleSession, clock: ManualClock
) -> None:
    be(cafe, "boss")
    reply = await cafe.command(
        "cafe", "start coordinators-2025-03 in #cafe at 2026-03-12 15:00 Europe/London"
    )
    assert reply.text.startswith("Café #1 is announced in #cafe; it starts ")
    assert "Starts " in cafe.port.in_channel("cafe")[0].text
    for who in PEOPLE[:5]:
        be(cafe, who)
        await cafe.press_on(cafe.port.in_channel("cafe")[0].message_id, 1)
    assert len(await cafe.runtime.services.cafes.participants(1)) == 5
    clock.set(clock.now().replace(day=12, hour=14, minute=45))
    await sched(cafe).run_due(clock.now())
    assert "Join now to get a table." in cafe.port.in_channel("cafe")[-1].text
    clock.set(clock.now().replace(hour=15, minute=0))
    await sched(cafe).run_due(clock.now())
    assert len(tablecloths(cafe, 1)) == 2  # four a table at most: two tables for five
    be(cafe, "boss")
    assert (await cafe.command("cafe", "end")).text == "The café has ended; the harvest is posted."
    assert "🍰 Harvest: 0 contributions" in cafe.port.in_channel("cafe")[-1].text
    assert (await cafe.command("cafe", "status")).text.startswith("No café is open right now.")


async def test_bad_starts_are_refused_clearly(cafe: ConsoleSession) -> None:
    be(cafe, "boss")
    unknown = await cafe.command("cafe", "start nosuch @everyone")
    assert unknown.text.startswith("There is no café template 'nosuch'. Templates: coordinators-2024-04")
    past = await cafe.command("cafe", f"start {TEMPLATE} at 2020-01-01 10:00")
    assert past.text == "That time has passed. Nothing was started."
    await cafe.command("cafe", f"start {TEMPLATE}")
    again = await cafe.command("cafe", f"start {TEMPLATE}")
    assert again.text == "A café is already open in that channel; /cafe end closes it."
    be(cafe, "ana")
    await cafe.command("cafe", "join")
    assert (await cafe.command("cafe", "join")).text == "You are already in this café."
