"""The real APScheduler with its job store in the bot's database: routing waves survive a restart, run
in order, and deliver every ping and the final broadcast exactly once, even when run a second time.

The injected clock is set in the past, so every stored run time is already due by the wall clock when
the second process starts: nothing waits for real minutes, nothing sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.console.port import ConsolePort
from adapters.console.repl import load_demo
from adapters.console.session import ConsoleSession
from adapters.runtime import build_runtime
from adapters.scheduler import ApschedulerScheduler
from bot.clock import ManualClock
from bot.events import Actor, Platform
from bot.routing import WAVE, wave_key
from tests.conftest import make_config

PAST = datetime(2020, 5, 4, 9, 0, tzinfo=UTC)  # 11:00 in Madrid, 17:00 in Shanghai, 05:00 in Buenos Aires


async def test_routing_waves_survive_a_restart_and_deliver_exactly_once(database_url: str) -> None:
    config = make_config(database_url)
    clock = ManualClock(PAST)

    first = await build_runtime(config, clock=clock)
    await first.start_scheduler(paused=True)  # the process "dies" before the first wave runs
    port1 = ConsolePort()
    first.attach(port1)
    await load_demo(first)
    session = ConsoleSession(first, port1, out=lambda _: None)
    session.actor = Actor(Platform.CONSOLE, "tom", "Tom Wilson", "en", "Europe/London")
    reply = await session.command("ask", "How do you moderate biology IA samples?")
    assert "posted" in reply.text
    assert isinstance(first.scheduler, ApschedulerScheduler)
    assert first.scheduler.pending() == [(wave_key(1, 1), PAST)]
    await first.close()

    second = await build_runtime(config, clock=clock)
    port2 = ConsolePort()
    second.attach(port2)
    await second.start_scheduler()
    await second.dispatcher.wait_handled("job", 4)  # waves 1-3 notify, wave 4 broadcasts
    pings = [m.to_user for m in port2.messages if m.to_user and "asked a question about Biology" in m.text]
    # Wave 1, at 09:00 UTC: the demo's Biology members at work: Ana (Madrid), Fatima (Casablanca),
    # Kwame (Accra), Mei (Shanghai) — not Valentina (Buenos Aires, 05:00) nor Ethan (Auckland, 21:00).
    assert sorted(pings[:4]) == ["ana", "fatima", "kwame", "mei"]
    # Wave 3 widened to the sciences group (chemistry, physics, MYP sciences...), still only awake people.
    assert {"aiko", "lucas"} <= set(pings[4:]) and "ethan" not in pings and "valentina" not in pings
    assert len(pings) == len(set(pings))  # nobody twice
    broadcast = [m for m in port2.in_channel("announcements")]
    assert len(broadcast) == 1 and "waited 30 minutes" in broadcast[0].text
    assert second.scheduler.pending() == []  # type: ignore[union-attr]

    # Even if waves ran again (a second leader, a replayed store), nothing is sent twice.
    for wave in (1, 2, 3, 4):
        await second.dispatcher.run_job(
            WAVE, wave_key(1, wave), {"platform": "console", "question_id": 1, "wave": wave}, PAST
        )
    assert [m.to_user for m in port2.messages if m.to_user] == pings
    assert len(port2.in_channel("announcements")) == 1
    await second.close()

    third = await build_runtime(config, clock=clock)
    await third.start_scheduler()
    assert third.scheduler.pending() == []  # type: ignore[union-attr]
    await third.close()


async def test_a_meetup_round_survives_a_restart_and_invites_each_group_once(database_url: str) -> None:
    """The round and its announcement are stored jobs: a new process runs them once; the follow-up
    and the next round wait in the store. (The clock is two days behind the wall clock, so the round,
    a day after "now", is already due when the second process starts, and the rest is not.)"""
    from datetime import timedelta

    from bot.meetups.rounds import ROUND
    from tests.meetup_people import pool

    wall = datetime.now(UTC).replace(second=0, microsecond=0)
    clock = ManualClock(wall - timedelta(days=2))
    round_at = wall - timedelta(days=1) + timedelta(minutes=30 - wall.minute % 30)
    config = make_config(database_url, admins={"console": ["boss"]})

    first = await build_runtime(config, clock=clock)
    await first.start_scheduler(paused=True)
    port1 = ConsolePort()
    first.attach(port1)
    await first.services.members.upsert_many(pool("console", {k: k for k in PEOPLE}), clock.now())
    session = ConsoleSession(first, port1, out=lambda _: None)
    for who in PEOPLE:
        session.actor = Actor(Platform.CONSOLE, who, who, "en", None)
        assert (await session.command("meetups", "join")).text.startswith("You're in!")
    session.actor = Actor(Platform.CONSOLE, "boss", "boss", "en", None)
    day = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")[round_at.weekday()]
    reply = await session.command("meetups", f"schedule every week on {day} at {round_at:%H:%M} UTC")
    assert "First round" in reply.text
    assert isinstance(first.scheduler, ApschedulerScheduler)
    assert sorted(kind for kind, _ in first.scheduler.pending()) == [
        "meetups.announce:console",
        "meetups.round:console",
    ]
    await first.close()

    second = await build_runtime(config, clock=clock)
    port2 = ConsolePort()
    second.attach(port2)
    await second.start_scheduler()
    await second.dispatcher.wait_handled("job", 2)
    # Both were missed while down; an announcement that comes after its round started is dropped.
    announced = len(port2.in_channel("announcements"))
    assert announced <= 1
    groups = port2.groups()
    assert len(groups) == 2
    payload = {"platform": "console", "at": round_at.isoformat()}
    await second.dispatcher.run_job(ROUND, "meetups.round:console", payload, round_at)  # a replay
    assert port2.groups() == groups and len(port2.in_channel("announcements")) == announced
    waiting = sorted(key for key, _ in second.scheduler.pending())  # type: ignore[union-attr]
    assert waiting == ["meetups.announce:console", "meetups.followup:1", "meetups.round:console"]
    await second.close()


PEOPLE = ("ana", "ben", "chloe", "dev", "eve", "zoe")


async def test_event_reminders_survive_a_restart_and_go_out_once(database_url: str) -> None:
    """A reminder due while the bot was down goes out once when it comes back (to the channel and to
    those going); the next week's reminders wait in the store."""
    from datetime import timedelta

    from bot.calendar.reminders import REMIND

    wall = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    clock = ManualClock(wall - timedelta(hours=20))  # the daily planner's next run is 4 h after `wall`
    start = clock.now() + timedelta(hours=3)  # its 1-hour reminder is due 18 h before `wall`
    config = make_config(database_url, admins={"console": ["boss"]})

    first = await build_runtime(config, clock=clock)
    await first.start_scheduler(paused=True)
    port1 = ConsolePort()
    first.attach(port1)
    session = ConsoleSession(first, port1, out=lambda _: None)
    session.actor = Actor(Platform.CONSOLE, "boss", "boss", "en", None)
    reply = await session.command(
        "events", f"add title=Chat start={start:%Y-%m-%d %H:%M} UTC repeat=weekly duration=60"
    )
    assert reply.text.startswith("Created event #1: Chat.")
    session.actor = Actor(Platform.CONSOLE, "ana", "ana", "en", None)
    await session.command("events", "")
    assert (await session.press(1)).text.startswith("You're going to Chat")
    assert isinstance(first.scheduler, ApschedulerScheduler)
    pending = sorted(key for key, _ in first.scheduler.pending())
    # This week's 1 h (its 24 h was before the event was created), 24 h and 1 h for the next weeks up
    # to `plan_days` (35) ahead, and the daily planner that extends them.
    assert len(pending) == 11 and pending[0] == "events.plan:console"
    await first.close()

    second = await build_runtime(config, clock=clock)
    port2 = ConsolePort()
    second.attach(port2)
    await second.start_scheduler()
    await second.dispatcher.wait_handled("job", 1)
    sent = [m.text for m in port2.messages]
    assert len(port2.in_channel("announcements")) == 1 and "(in 1 hour)" in sent[0]
    assert [m.to_user for m in port2.messages if m.to_user] == ["ana"]
    key = next(k for k in pending if k.endswith(":60") and start.strftime("%Y%m%dT%H") in k)
    when = start.isoformat()
    payload = {"platform": "console", "event_id": 1, "original": when, "start": when, "minutes": 60}
    await second.dispatcher.run_job(REMIND, key, payload, start - timedelta(hours=1))  # a replay
    assert [m.text for m in port2.messages] == sent
    waiting = sorted(k for k, _ in second.scheduler.pending())  # type: ignore[union-attr]
    assert waiting == [k for k in pending if k != key]
    await second.close()


async def test_a_cafe_restarted_mid_round_resumes_at_the_right_round_without_double_posts(
    database_url: str,
) -> None:
    """Round 1 is running when the bot stops; it comes back after the round's end: the stale one-minute
    warning is dropped, the closing runs once, round 2 opens once, and its timers wait in the store."""
    from datetime import timedelta

    from bot.cafe import engine

    wall = datetime.now(UTC).replace(microsecond=0)
    config = make_config(database_url, admins={"console": ["boss"]})
    first = await build_runtime(config, clock=ManualClock(wall - timedelta(minutes=10)))
    await first.start_scheduler(paused=True)
    port1 = ConsolePort()
    first.attach(port1)
    session = ConsoleSession(first, port1, out=lambda _: None)
    session.actor = Actor(Platform.CONSOLE, "boss", "boss", "en", None)
    await session.command("cafe", "start coordinators-2025-03")
    for who in ("ana", "ben", "chloe", "dev"):
        session.actor = Actor(Platform.CONSOLE, who, who, "en", None)
        await session.command("cafe", "join")
    session.actor = Actor(Platform.CONSOLE, "boss", "boss", "en", None)
    assert (await session.command("cafe", "next")).text == "Round 1 has started."
    assert isinstance(first.scheduler, ApschedulerScheduler)
    assert sorted(k for k, _ in first.scheduler.pending()) == ["cafe:1:cafe.close", "cafe:1:cafe.warn"]
    await first.close()

    second = await build_runtime(config, clock=ManualClock(wall))  # back ten minutes later
    port2 = ConsolePort()
    second.attach(port2)
    await second.start_scheduler()
    await second.dispatcher.wait_handled("job", 2)
    texts = [m.text for m in port2.messages]
    assert sum("One minute left" in t for t in texts) == 0  # the round was already over
    assert sum("tablecloth is closed" in t for t in texts) == 1
    assert sum(t.startswith("☕ Round 2 of 4") for t in texts) == 1
    assert sum(t.startswith("🧺 Table 1 · round 2") for t in texts) == 1
    payload = {"platform": "console", "session_id": 1, "round": 0}
    await second.dispatcher.run_job(engine.CLOSE, "cafe:1:cafe.close", payload, wall)  # a replay
    assert [m.text for m in port2.messages] == texts
    waiting = sorted(k for k, _ in second.scheduler.pending())  # type: ignore[union-attr]
    assert waiting == ["cafe:1:cafe.close", "cafe:1:cafe.warn"]
    await second.close()
