"""The real APScheduler with its job store in the bot's database: a pending check survives a restart,
fires once, and never again, even when run a second time.

The injected clock is set in the past, so the stored run time is already due by the wall clock when
the second process starts: nothing waits for real minutes, nothing sleeps.
"""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.console.port import ConsolePort
from adapters.console.session import ConsoleSession
from adapters.runtime import build_runtime
from adapters.scheduler import ApschedulerScheduler
from bot.clock import ManualClock
from bot.handlers.ask import UNANSWERED_CHECK
from tests.conftest import make_config

PAST = datetime(2020, 5, 4, 9, 0, tzinfo=UTC)


async def test_unanswered_check_survives_restart_and_is_delivered_exactly_once(database_url: str) -> None:
    config = make_config(database_url)
    clock = ManualClock(PAST)

    first = await build_runtime(config, clock=clock)
    first.start_scheduler(paused=True)  # the process "dies" before the job is due
    port1 = ConsolePort()
    first.attach(port1)
    reply = await ConsoleSession(first, port1, out=lambda _: None).command("ask", "Who grades TOK essays?")
    assert "posted" in reply.text
    assert isinstance(first.scheduler, ApschedulerScheduler)
    ((key, run_at),) = first.scheduler.pending()
    assert key.startswith(UNANSWERED_CHECK) and run_at == datetime(2020, 5, 4, 9, 10, tzinfo=UTC)
    await first.close()

    second = await build_runtime(config, clock=clock)
    port2 = ConsolePort()
    second.attach(port2)
    second.start_scheduler()
    await second.dispatcher.wait_handled("job", 1)
    bumps = [m for m in port2.messages if "without an answer" in m.text]
    assert len(bumps) == 1 and bumps[0].thread == "m1"
    assert second.scheduler.pending() == []  # type: ignore[union-attr]

    # Even if the same job ran again (a second leader, a replayed store), the ledger stops it.
    await second.dispatcher.run_job(UNANSWERED_CHECK, key, {"platform": "console", "question_id": 1}, run_at)
    assert len([m for m in port2.messages if "without an answer" in m.text]) == 1
    await second.close()

    third = await build_runtime(config, clock=clock)
    third.start_scheduler()
    assert third.scheduler.pending() == []  # type: ignore[union-attr]
    await third.close()
