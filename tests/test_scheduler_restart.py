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
