"""A reminder burst on the real scheduler: many pending, a thousand due within a few seconds.

For each backend: a fresh database, the runtime with the system clock and the real ApschedulerScheduler
(every job a `scheduled_jobs` row, timing by APScheduler), a ConsolePort attached. Then:

- `pending - burst` one-off events ("Later i") 1–30 days ahead with a 60-minute reminder, each planned
  with `plan_event` (so its job is written and timed);
- `burst` events ("Burst i") starting at T0 + 60 min, T0 a minute boundary far enough ahead for their
  creation to finish (estimated from the measured cost of the "Later" ones), each with one RSVP "going",
  so each reminder posts to the channel AND DMs one person (two ledger claims + two marks sent).
  Event starts are minute-granular ("YYYY-MM-DDTHH:MM" in storage), so `plan_event` puts every burst
  reminder at T0 exactly; with `--window` > 0 the bench then moves each job's run time to
  T0 + U(0, window) s through the scheduler (same key and payload, as a retry reschedules), so the
  reminders fall due spread over the window. `--window 0` keeps them all at the same instant.

Lateness = wall-clock time the channel post reached the console port minus the job's due time.
Checked: every burst reminder posted once to the channel and DMed once (none lost, none doubled), no
"Later" reminder posted, and a replay of 100 burst jobs through the dispatcher posts nothing.
Memory: VmRSS before the events and once all are pending.

    python -m bench.reminders [--pending 10000] [--burst 1000] [--window 10] [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import math
import os
import random
import re
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from adapters.console.port import ConsolePort, Posted
from adapters.runtime import build_runtime
from adapters.scheduler import ApschedulerScheduler
from bench.backends import database_urls
from bot.calendar.reminders import REMIND, plan_event, reminder_key
from bot.clock import SystemClock
from bot.config import build_config
from storage.events import EventInput, Rsvp
from storage.models import Delivery, ScheduledJob

CHANNEL = "events"
MINUTES = 60
TITLE = re.compile(r"\b(Burst|Later) (\d+) starts")
REPLAYS = 100


def rss_mb() -> float:
    """This process's resident set size (VmRSS), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return math.nan


def pct(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (NaN when empty)."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


class LogCounter(logging.Handler):
    """Counts warnings and errors (a failed job logs one) and keeps the first few."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.first: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        if len(self.first) < 5:
            self.first.append(f"{record.levelname} {record.name}: {record.getMessage()[:200]}")


@dataclass
class Observer:
    """Stamps every post as it reaches the console port."""

    expected: int
    done: asyncio.Event = field(default_factory=asyncio.Event)
    channel: dict[int, list[float]] = field(default_factory=dict)  # burst i -> wall-clock post times
    dms: dict[int, int] = field(default_factory=dict)
    later: int = 0
    other: int = 0
    total: int = 0

    def __call__(self, posted: Posted) -> None:
        stamp = time.time()
        self.total += 1
        found = TITLE.search(posted.text)
        if found is None:
            self.other += 1
            return
        if found.group(1) == "Later":
            self.later += 1
            return
        i = int(found.group(2))
        if posted.channel == CHANNEL:
            self.channel.setdefault(i, []).append(stamp)
        elif posted.channel == f"dm:u{i}":
            self.dms[i] = self.dms.get(i, 0) + 1
        else:
            self.other += 1
        if len(self.channel) + len(self.dms) >= self.expected:
            self.done.set()


@dataclass(frozen=True)
class Planned:
    key: str
    payload: dict[str, Any]
    due: datetime


def one_off(title: str, start: datetime) -> EventInput:
    """A one-off hour-long event in UTC with a single reminder MINUTES before."""
    return EventInput(
        platform="console",
        channel=CHANNEL,
        title=title,
        start_local=start.replace(tzinfo=None),
        timezone="UTC",
        duration_minutes=60,
        reminders=(MINUTES,),
    )


async def count_rows(runtime: Any, stmt: Any) -> int:
    async with runtime.db.sessions() as session:
        return int((await session.execute(stmt)).scalar_one())


async def measure(backend: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(args.seed)
    logs = LogCounter()
    logging.getLogger().addHandler(logs)
    config = build_config({"database": {"url": url}}, source="bench", env={})
    clock = SystemClock()
    runtime = await build_runtime(config, clock=clock)
    scheduler = runtime.scheduler
    assert isinstance(scheduler, ApschedulerScheduler)
    port = ConsolePort()
    observer = Observer(expected=2 * args.burst)
    port.on_post = observer
    runtime.attach(port)
    await runtime.start_scheduler()
    ctx = runtime.dispatcher.context(port)
    events = runtime.services.events
    try:
        gc.collect()
        rss_before = rss_mb()

        # The far-away reminders: each one a stored job and an APScheduler job.
        later = args.pending - args.burst
        started = time.perf_counter()
        for i in range(later):
            now = clock.now()
            start = now + timedelta(days=rng.uniform(1, 30))
            event = await events.create(one_off(f"Later {i}", start), now)
            await plan_event(ctx, event, now)
        later_s = time.perf_counter() - started
        per_event = later_s / later if later >= 50 else 0.02

        # The burst: T0 a minute boundary past the estimated time to create and plan the burst events
        # (each with an RSVP and, with a window, a reschedule: under twice a "Later" one) plus a margin.
        ready = clock.now() + timedelta(seconds=args.burst * per_event * 2 + args.margin)
        t0 = ready.replace(second=0, microsecond=0) + timedelta(minutes=1)
        burst_started = time.perf_counter()
        planned: dict[int, Planned] = {}
        for i in range(args.burst):
            now = clock.now()
            start = t0 + timedelta(minutes=MINUTES)
            event = await events.create(one_off(f"Burst {i}", start), now)
            await events.rsvp(Rsvp(event.id, start, "console", f"u{i}", "going", "en"), now)
            await plan_event(ctx, event, now)
            key = reminder_key(event.id, start, MINUTES)
            job = scheduler._scheduler.get_job(key)
            if job is None:
                raise RuntimeError(f"plan_event did not schedule {key} (planned too late?)")
            payload = dict(job.kwargs["payload"])
            due = t0 + timedelta(seconds=rng.uniform(0, args.window)) if args.window > 0 else t0
            if due != t0:
                await scheduler.schedule(key=key, kind=REMIND, run_at=due, payload=payload)
            planned[i] = Planned(key, payload, due)
        finished = clock.now()
        create_s = later_s + time.perf_counter() - burst_started
        slack_s = (t0 - finished).total_seconds()

        gc.collect()
        rss_after = rss_mb()
        stored_jobs = await count_rows(
            runtime, select(func.count()).select_from(ScheduledJob).where(ScheduledJob.kind == REMIND)
        )
        timed = [(key, at) for key, at in scheduler.pending() if key.startswith(f"{REMIND}:")]
        end = t0 + timedelta(seconds=args.window)
        in_window = sum(1 for _, at in timed if t0 <= at <= end)
        other_jobs = len(scheduler.pending()) - len(timed)

        # Wait for the burst (no polling: the observer sets the event on the last expected post).
        deadline = t0 + timedelta(seconds=args.window + args.timeout)
        cpu_started = time.process_time()  # idle until T0, so this is the burst's CPU time (all threads)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(observer.done.wait(), (deadline - clock.now()).total_seconds())
        burst_cpu_s = time.process_time() - cpu_started
        load_1min = os.getloadavg()[0]  # other work on the machine skews every figure here
        last_post = max((max(v) for v in observer.channel.values()), default=math.nan)
        burst_wall_s = last_post - t0.timestamp()
        await asyncio.sleep(args.settle)  # let the last jobs finish their bookkeeping; catch doubles

        lateness_ms = [
            (min(observer.channel[i]) - planned[i].due.timestamp()) * 1000
            for i in planned
            if i in observer.channel
        ]
        lost = sum(1 for i in planned if i not in observer.channel or i not in observer.dms)
        doubled = sum(
            1 for i in planned if len(observer.channel.get(i, [])) > 1 or observer.dms.get(i, 0) > 1
        )
        ledger = await count_rows(
            runtime,
            select(func.count())
            .select_from(Delivery)
            .where(Delivery.kind == REMIND, Delivery.sent_at.is_not(None)),
        )
        left_jobs = await count_rows(runtime, select(func.count()).select_from(ScheduledJob))

        # Replay: the same jobs again through the dispatcher must post nothing.
        before_replay = observer.total
        for i in rng.sample(sorted(planned), min(REPLAYS, len(planned))):
            job = planned[i]
            await runtime.dispatcher.run_job(REMIND, job.key, job.payload, job.due)
        replay_posts = observer.total - before_replay

        return {
            "backend": backend,
            "stored_jobs": stored_jobs,
            "timed_jobs": len(timed),
            "other_jobs": other_jobs,
            "in_window": in_window,
            "posted": sum(len(v) for v in observer.channel.values()),
            "dms": sum(observer.dms.values()),
            "lost": lost,
            "doubled": doubled,
            "later_posts": observer.later,
            "other_posts": observer.other,
            "p50": pct(lateness_ms, 0.50),
            "p99": pct(lateness_ms, 0.99),
            "max": max(lateness_ms, default=math.nan),
            "rss_before": rss_before,
            "rss_after": rss_after,
            "create_s": create_s,
            "slack_s": slack_s,
            "burst_wall_s": burst_wall_s,
            "burst_cpu_s": burst_cpu_s,
            "load": load_1min,
            "ledger": ledger,
            "left_jobs": left_jobs,
            "expected_left": args.pending - args.burst + 1,
            "replayed": min(REPLAYS, len(planned)),
            "replay_posts": replay_posts,
            "fired": scheduler.fired,
            "warnings": logs.count,
            "first_warnings": logs.first,
        }
    finally:
        logging.getLogger().removeHandler(logs)
        await runtime.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description="reminder burst on the real scheduler")
    parser.add_argument("--pending", type=int, default=10_000, help="reminders pending in all")
    parser.add_argument("--burst", type=int, default=1_000, help="of which due within the window")
    parser.add_argument("--window", type=float, default=10.0, help="seconds the burst is spread over")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait past the window")
    parser.add_argument("--margin", type=float, default=5.0, help="seconds of slack before T0")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds to wait after the last post")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    if not 0 < args.burst <= args.pending:
        parser.error("need 0 < --burst <= --pending")
    results = []
    with tempfile.TemporaryDirectory() as folder:
        async for backend, url in database_urls(args.backends, Path(folder), "reminders"):
            print(f"{backend}: creating {args.pending:,} events…", flush=True)
            results.append(await measure(backend, url, args))
    print(
        f"\n{args.pending:,} pending reminders, {args.burst:,} due within {args.window:g} s; "
        "each burst reminder posts to the channel and DMs one RSVP 'going' (2 posts, 2 ledger claims "
        "+ 2 marks sent); real ApschedulerScheduler, SystemClock, ConsolePort"
    )
    print(
        "| backend | pending reminders (stored / timed) | due in window | posted (channel + DM) | lost "
        "| doubled | lateness p50 / p99 / max ms | RSS before / after MB (+MB) | create+plan s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['backend']} | {r['stored_jobs']:,} / {r['timed_jobs']:,} | {r['in_window']:,} "
            f"| {r['posted']:,} + {r['dms']:,} | {r['lost']} | {r['doubled']} "
            f"| {r['p50']:.0f} / {r['p99']:.0f} / {r['max']:.0f} "
            f"| {r['rss_before']:.0f} / {r['rss_after']:.0f} (+{r['rss_after'] - r['rss_before']:.0f}) "
            f"| {r['create_s']:.1f} |"
        )
    for r in results:
        print(
            f"{r['backend']}: T0 slack after planning {r['slack_s']:.1f} s; T0 to last channel post "
            f"{r['burst_wall_s']:.2f} s using {r['burst_cpu_s']:.2f} s CPU (machine load {r['load']:.1f}); "
            f"other jobs pending "
            f"{r['other_jobs']} (the daily planner); jobs fired {r['fired']:,}; "
            f"ledger rows sent {r['ledger']:,}; stored jobs left {r['left_jobs']:,} "
            f"(expected {r['expected_left']:,}); 'Later' posts "
            f"{r['later_posts']}; other posts {r['other_posts']}; replay of {r['replayed']} posted "
            f"{r['replay_posts']}; warnings/errors logged {r['warnings']}"
        )
        for line in r["first_warnings"]:
            print(f"    {line}")
        ok = r["p99"] <= 1000 and r["lost"] == 0 and r["doubled"] == 0
        ok = ok and r["later_posts"] == 0 and r["replay_posts"] == 0
        print(
            f"{r['backend']}: target (p99 ≤ 1 s, 0 lost, 0 doubled) {'HOLDS' if ok else 'MISSED'} "
            f"(p99 {r['p99'] / 1000:.2f} s, lost {r['lost']}, doubled {r['doubled']})"
        )


if __name__ == "__main__":
    asyncio.run(main())
