"""The fault drill at length: real `iben-bot run` processes on PostgreSQL, deliveries due over minutes,
the scheduler leader SIGKILLed at random moments while it sends (and restarted), everything counted at
the fake Slack API. The CI test (tests/test_cluster_faults.py) runs the same drill, shorter.

    python -m bench.faults [--events 300] [--going 9] [--window 150] [--kills 60] [--database-url URL]

The database is EMPTIED first (default: $IBEN_TEST_POSTGRES_URL or the machine's `test` database);
don't run it while the test suite uses the same database.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
from pathlib import Path

from bench.backends import POSTGRES_DEFAULT, reset_postgres
from tests.faults import drill


async def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=300, help="meetings, each one reminder")
    parser.add_argument("--going", type=int, default=9, help="members going to each (one DM each)")
    parser.add_argument("--window", type=float, default=150.0, help="seconds over which reminders fall due")
    parser.add_argument("--kills", type=int, default=60, help="SIGKILLs of the leader")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--database-url", default=os.environ.get("IBEN_TEST_POSTGRES_URL", POSTGRES_DEFAULT))
    args = parser.parse_args()
    await reset_postgres(args.database_url)
    with tempfile.TemporaryDirectory(prefix="iben-faults-") as folder:
        result = await drill(
            Path(folder),
            args.database_url,
            events=args.events,
            going=args.going,
            window=args.window,
            kills=args.kills,
            seed_value=args.seed,
            drain_timeout=120.0,
        )
    takeovers = sorted(result.takeovers) or [0.0]
    p99 = takeovers[min(len(takeovers) - 1, round(0.99 * (len(takeovers) - 1)))]
    columns = ("deliveries due", "delivered", "lost", "duplicated", "leader kills")
    print("| " + " | ".join([*columns, "takeover median / p99 / max s", "run s"]) + " |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| {result.expected:,} | {result.delivered:,} | {len(result.lost)} | {len(result.duplicated)} "
        f"| {result.kills} | {statistics.median(takeovers):.2f} / {p99:.2f} / {max(takeovers):.2f} "
        f"| {result.seconds:.0f} |"
    )
    ok = not result.lost and not result.duplicated and result.delivered == result.expected
    print(
        "exactly once:",
        "PASS" if ok else f"MISS (lost {result.lost[:5]}, duplicated {result.duplicated[:5]})",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
