"""Latency of commands through the whole core (dispatcher → handler → SQLite → console port).

Prints a table: per directory size, p50/p95/p99 of /whois-examiner and /ask, the database size, and
the ratio of each to a bare /help (the dispatch overhead without storage). Figures are this machine's.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from adapters.console.port import ConsolePort
from adapters.console.session import ConsoleSession
from adapters.runtime import build_runtime
from bench.directory import synthetic_members
from bot.clock import ManualClock
from bot.config import build_config
from bot.scheduling import ManualScheduler

SIZES = (100, 1_000, 10_000)
RUNS = 200


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def _measure(size: int, folder: Path) -> dict[str, object]:
    path = folder / f"bench-{size}.db"
    config = build_config({"database": {"url": f"sqlite:///{path}"}}, source="bench", env={})
    clock = ManualClock(datetime(2026, 3, 10, 13, 0, tzinfo=UTC))
    runtime = await build_runtime(config, clock=clock, scheduler=ManualScheduler())
    port = ConsolePort()
    runtime.attach(port)
    session = ConsoleSession(runtime, port, out=lambda _: None)
    load_start = time.perf_counter()
    await runtime.services.members.upsert_many(synthetic_members(size), clock.now())
    load_s = time.perf_counter() - load_start
    timings: dict[str, list[float]] = {"help": [], "whois-examiner": [], "ask": []}
    for i in range(RUNS):
        for name, text in (("help", ""), ("whois-examiner", "Biology"), ("ask", f"Question number {i}?")):
            start = time.perf_counter()
            await session.command(name, text)
            timings[name].append((time.perf_counter() - start) * 1000)
    await runtime.close()
    base = statistics.median(timings["help"])
    return {
        "size": size,
        "load_s": load_s,
        "db_mb": path.stat().st_size / 1e6,
        **{f"{k}_p50": statistics.median(v) for k, v in timings.items()},
        **{f"{k}_p99": _pct(v, 0.99) for k, v in timings.items()},
        "whois_ratio": statistics.median(timings["whois-examiner"]) / base,
        "ask_ratio": statistics.median(timings["ask"]) / base,
    }


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        rows = [await _measure(size, Path(folder)) for size in SIZES]
    print(f"Command latency through the core on SQLite ({RUNS} runs each; ms)")
    header = (
        "members",
        "load s",
        "db MB",
        "help p50",
        "whois p50",
        "whois p99",
        "ask p50",
        "ask p99",
        "whois/help",
        "ask/help",
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        print(
            f"| {r['size']:,} | {r['load_s']:.1f} | {r['db_mb']:.1f} | {r['help_p50']:.2f} | "
            f"{r['whois-examiner_p50']:.2f} | {r['whois-examiner_p99']:.2f} | {r['ask_p50']:.2f} | "
            f"{r['ask_p99']:.2f} | {r['whois_ratio']:.0f}× | {r['ask_ratio']:.0f}× |"
        )


if __name__ == "__main__":
    asyncio.run(main())
