"""The community calendar through the console harness: admins create, edit, cancel and move meetings;
members list and RSVP; reminders 24 h and 1 h before in the channel and to those going, late within
the grace window and skipped after it, never twice; the .ics export."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from adapters.console.port import ConsolePort, Posted
from adapters.console.session import ConsoleSession
from adapters.runtime import build_runtime
from bot.calendar.reminders import REMIND
from bot.clock import ManualClock
from bot.events import Actor, Platform
from bot.scheduling import ManualScheduler
from tests.conftest import make_config

CREATE = (
    "add title=Coordinators chat start=2026-03-11 15:00 Europe/London "
    "repeat=monthly on the second Wednesday duration=60 breakouts=DP; MYP; PYP"
)
MARCH = datetime(2026, 3, 11, 15, 0, tzinfo=UTC)  # GMT
APRIL = datetime(2026, 4, 8, 14, 0, tzinfo=UTC)  # 15:00 BST


@pytest.fixture
async def cal(sqlite_url: str, clock: ManualClock, tmp_path: Path) -> AsyncIterator[ConsoleSession]:
    runtime = await build_runtime(
        make_config(sqlite_url, admins={"console": ["boss"]}), clock=clock, scheduler=ManualScheduler()
    )
    port = ConsolePort()
    runtime.attach(port)
    session = ConsoleSession(runtime, port, out=lambda _: None, files_dir=tmp_path)
    yield session
    await runtime.close()


def be(session: ConsoleSession, who: str, locale: str = "en") -> None:
    session.actor = Actor(Platform.CONSOLE, who, who.capitalize(), locale, "Europe/Madrid")


def jobs(session: ConsoleSession) -> ManualScheduler:
    assert isinstance(session.runtime.scheduler, ManualScheduler)
    return session.runtime.scheduler


def posted_to(session: ConsoleSession, *, channel: str = "announcements") -> list[Posted]:
    return session.port.in_channel(channel)


def dms(session: ConsoleSession, user: str) -> list[Posted]:
    return [m for m in session.port.messages if m.to_user == user and not m.ephemeral]


async def test_creating_needs_an_admin_and_valid_fields(cal: ConsoleSession) -> None:
    be(cal, "ana")
    assert (await cal.command("events", CREATE)).text == "Only network admins can use /events add."
    be(cal, "boss")
    bad = await cal.command(
        "events", "add title=Chat start=someday repeat=when the moon is full duration=forever"
    )
    assert bad.text.startswith("Nothing was saved:")
    assert "• start:" in bad.text and "• repeat:" in bad.text and "• duration:" in bad.text
    unknown = await cal.command("events", "add title=Chat colour=blue")
    assert unknown.text.startswith("I don't know the field(s) colour.")
    assert await cal.runtime.services.events.active() == []  # nothing half-saved


async def test_a_monthly_meeting_keeps_its_local_time_and_reminds_those_going(
    cal: ConsoleSession, clock: ManualClock
) -> None:
    be(cal, "boss")
    created = await cal.command("events", CREATE)
    assert created.text.startswith("Created event #1: Coordinators chat.")
    assert "Next: " in created.text and "reminders: in 1 day, in 1 hour" in created.text
    planned = {j.key: j.run_at for j in jobs(cal).jobs.values() if j.kind == REMIND}
    # Reminders keep London's 15:00 across the clock change of 29 March: 1 h before is 14:00 UTC in
    # March and 13:00 UTC in April.
    assert sorted(planned.values()) == [
        MARCH - timedelta(days=1),
        MARCH - timedelta(hours=1),
        APRIL - timedelta(days=1),
        APRIL - timedelta(hours=1),
    ]

    be(cal, "ana", "es")
    listing = await cal.command("events", "")
    assert "Coordinators chat" in listing.text and "Grupos de trabajo: DP, MYP, PYP" in listing.text
    assert [b.label for b in listing.buttons[:3]] == ["1: voy", "1: quizás", "1: no voy"]
    answer = await cal.press(1)
    assert answer.text.startswith("Va a ir a Coordinators chat el ")
    assert (await cal.command("events", "mine")).text.count("Coordinators chat") == 1

    clock.set(MARCH - timedelta(days=1))
    await jobs(cal).run_due(clock.now())
    channel = posted_to(cal)
    assert len(channel) == 1 and channel[0].text.startswith("⏰ Coordinators chat starts ")
    assert "(in 1 day)" in channel[0].text and "(late" not in channel[0].text
    ana = dms(cal, "ana")
    assert len(ana) == 1 and "Dijo que va a ir" in ana[0].text

    # The bot was down at the 1-hour reminder and comes back 30 minutes later: sent, marked late.
    clock.set(MARCH - timedelta(minutes=30))
    await jobs(cal).run_due(clock.now())
    assert "(late: the bot was offline at the planned time)" in posted_to(cal)[-1].text
    # A replay (a second leader, a retried job) sends nothing again.
    before = len(cal.port.messages)
    payload = {
        "platform": "console",
        "event_id": 1,
        "original": MARCH.isoformat(),
        "start": MARCH.isoformat(),
        "minutes": 60,
    }
    await cal.runtime.dispatcher.run_job(REMIND, "k", payload, MARCH - timedelta(hours=1))
    assert len(cal.port.messages) == before


async def test_a_reminder_missed_beyond_the_grace_window_is_skipped_and_logged(
    cal: ConsoleSession, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    be(cal, "boss")
    await cal.command("events", CREATE)
    clock.set(MARCH + timedelta(hours=2))  # both March reminders are far behind (grace 120 min)
    await jobs(cal).run_due(clock.now())
    assert [m.text for m in posted_to(cal) if "(in 1 hour)" in m.text] == []
    assert any("skipped" in r.message for r in caplog.records)


async def test_cancel_and_move_tell_those_going(cal: ConsoleSession, clock: ManualClock) -> None:
    be(cal, "boss")
    await cal.command("events", CREATE)
    be(cal, "ana")
    await cal.command("events", "")
    assert (await cal.press(4)).text.startswith("You're going to Coordinators chat")  # 2: going (April)
    be(cal, "boss")
    cancelled = await cal.command("events", "cancel 1 2026-04-08")
    assert (
        cancelled.text.startswith("Cancelled Coordinators chat on ")
        and "1 person going was told" in cancelled.text
    )
    assert "is cancelled." in dms(cal, "ana")[-1].text
    assert not [k for k in jobs(cal).jobs if "20260408" in k]  # its reminders are gone
    moved = await cal.command("events", "move 1 2026-05-13 to 2026-05-20 16:00")
    assert moved.text.startswith("Moved Coordinators chat to ")
    listing = await cal.command("events", "")
    assert "(moved)" in listing.text
    missing = await cal.command("events", "cancel 1 2026-05-14")
    assert missing.text == "Event #1 has no meeting on 2026-05-14."
    assert (await cal.command("events", "cancel 9")).text.startswith("There is no event #9.")

    export = await cal.command("events", "export")
    assert export.attachment is not None and export.attachment.filename == "iben-events.ics"
    events = Calendar.from_ical(export.attachment.data).walk("VEVENT")
    starts = sorted(e.decoded("dtstart") for e in events)
    assert starts[0] == MARCH and datetime(2026, 4, 8, 14, 0, tzinfo=UTC) not in starts
    assert datetime(2026, 5, 20, 15, 0, tzinfo=UTC) in starts  # 16:00 BST
    assert len(starts) == 12 - 1  # a year of second Wednesdays, one cancelled


async def test_cancelling_the_series_stops_everything(cal: ConsoleSession, clock: ManualClock) -> None:
    be(cal, "boss")
    await cal.command("events", CREATE)
    reply = await cal.command("events", "cancel 1")
    assert reply.text.startswith("Cancelled every meeting of Coordinators chat")
    clock.set(MARCH)
    await jobs(cal).run_due(clock.now())
    assert posted_to(cal) == []
    assert (await cal.command("events", "")).text.startswith("No upcoming events.")
