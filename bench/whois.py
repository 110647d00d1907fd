"""`/whois` latency through the whole core at directory scale, on SQLite and PostgreSQL.

Each query goes the way a member's does: the console session builds the command event, the
dispatcher resolves language and permissions, the handler parses the free text against the catalogue
(fuzzy, three languages), the directory index matches and ranks, and ten lines are rendered. The
index checks the database changelog once a second, so that cost is inside the figures too.

    python -m bench.whois [--members 100000] [--queries 3000] [--backends sqlite,postgres]

PostgreSQL uses $IBEN_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test) and
EMPTIES that database's public schema first, as the tests do.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from adapters.console.port import ConsolePort
from adapters.console.session import ConsoleSession
from adapters.runtime import build_runtime
from bench.backends import database_urls
from bench.directory import synthetic_members
from bot.catalog import Catalogue
from bot.clock import ManualClock
from bot.config import build_config
from bot.handlers.whois import build_query
from bot.scheduling import ManualScheduler
from storage.bulk import bulk_upsert

QUERIES = [
    ("whois-examiner", "biology"),
    ("whois-examiner", "physics DP spanish"),
    ("whois-examiner", "maths AA"),
    ("whois-examiner", "chimie PD français"),
    ("whois", "examiner biology"),
    ("whois", "workshop leader MYP design"),
    ("whois", "examinateur physique PD"),
    ("whois", "examinador de química español"),
    ("whois", "visitor spanish"),
    ("whois", "moderator ToK"),
    ("whois", "DP coordinator"),
    ("whois", "ESS examiner"),
    ("whois", "head of school french"),
    ("whois", "principal examiner history"),
    ("whois", "animateur d'atelier PEP"),
    ("whois", "líder de taller PAI diseño"),
    ("whois", "examiner phsyics"),
    ("whois", "curriculum reviewer visual arts"),
    ("whois", "consultant PYP"),
    ("whois", "team leader economics"),
]


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(backend: str, url: str, members: int, queries: int) -> dict[str, object]:
    config = build_config({"database": {"url": url}}, source="bench", env={})
    clock = ManualClock(datetime(2026, 3, 10, 13, 0, tzinfo=UTC))
    runtime = await build_runtime(config, clock=clock, scheduler=ManualScheduler())
    try:
        rows = synthetic_members(members)
        start = time.perf_counter()
        await bulk_upsert(runtime.db, rows, clock.now(), batch_size=2000)
        load_s = time.perf_counter() - start
        del rows

        rss_before = rss_mb()
        start = time.perf_counter()
        await runtime.services.directory.refresh(clock.now())
        index_s = time.perf_counter() - start
        rss_index = rss_mb() - rss_before
        index_mb = runtime.services.directory.column_bytes() / 1e6

        session = ConsoleSession(runtime, ConsolePort(), out=lambda _: None)
        latencies: list[float] = []
        found = 0
        for i in range(queries):
            name, text = QUERIES[i % len(QUERIES)]
            t0 = time.perf_counter()
            reply = await session.command(name, text)
            latencies.append((time.perf_counter() - t0) * 1000)
            found += "match" in reply.text.split("\n", 1)[0] and not reply.text.startswith("Nobody")

        # Where the time goes, per stage, on the same queries (microseconds, medians).
        catalogue = Catalogue.default()
        index = runtime.services.directory
        parse_us, search_us = [], []
        for _name, text in QUERIES * 20:
            t0 = time.perf_counter()
            parsed = catalogue.parse(text)
            t1 = time.perf_counter()
            index.search(build_query(parsed, catalogue), clock.now())
            t2 = time.perf_counter()
            parse_us.append((t1 - t0) * 1e6)
            search_us.append((t2 - t1) * 1e6)
        return {
            "backend": backend,
            "members": members,
            "load_s": load_s,
            "index_s": index_s,
            "index_mb": index_mb,
            "rss_mb": rss_index,
            "queries": queries,
            "found": found / queries,
            "p50": statistics.median(latencies),
            "p95": pct(latencies, 0.95),
            "p99": pct(latencies, 0.99),
            "max": max(latencies),
            "parse_us": statistics.median(parse_us),
            "search_us": statistics.median(search_us),
        }
    finally:
        await runtime.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=3_000)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        async for backend, url in database_urls(args.backends, Path(folder), "whois"):
            results.append(await measure(backend, url, args.members, args.queries))
    print(f"/whois through the core ({args.queries} queries over {len(QUERIES)} phrasings; ms unless noted)")
    head = (
        "backend",
        "members",
        "bulk load s",
        "index load s",
        "columns MB",
        "RSS +MB",
        "with results",
        "p50",
        "p95",
        "p99",
        "max",
        "parse µs",
        "search µs",
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in results:
        print(
            f"| {r['backend']} | {r['members']:,} | {r['load_s']:.1f} | {r['index_s']:.1f} | "
            f"{r['index_mb']:.0f} | {r['rss_mb']:.0f} | {r['found']:.0%} | {r['p50']:.2f} | "
            f"{r['p95']:.2f} | {r['p99']:.2f} | "
            f"{r['max']:.1f} | {r['parse_us']:.0f} | {r['search_us']:.0f} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
