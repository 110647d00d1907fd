"""Job-alike meet-up matching (bot/meetups/matching.py): how close to the best pairing, how fast, how much
memory, from 200 to 100,000 members.

Pools come from the synthetic directory (bench/directory.py). Each member accepts groups of up to 2
(70%), 3 (20%) or 4 (10%); 1% exclude one random member; and everyone has just met their group of a
previous round (`match` with another seed), which is passed as `recent`, so those pairs are forbidden.

Columns: groups (of 2 / 3 / 4), members left out, the total weight of the pairing (step 1, before pairs
merge into fours and leftovers join threes), networkx's exact `max_weight_matching` on the graph of every
allowed pair weighted by `pair_weight` (pools up to 1,000 members; about a minute at 1,000), the ratio,
an upper bound for every size (half the sum of each member's best allowed pair weight; beyond 20,000
members simply the heaviest possible weight for everyone) and the pairing's share of it, the wall time of
`match` (after the previous round's call warmed up), and the peak memory `match` allocates (tracemalloc,
a separate run). The `1,000 sampled` row forces the large-pool path (sampled candidate partners instead
of every pair) to show its quality against the exact optimum too.

    python -m bench.meetups [--sizes 200,500,1000,10000,100000] [--quick] [--seed 7]
"""

from __future__ import annotations

import argparse
import itertools
import random
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

import networkx as nx
import numpy as np

from bench.directory import synthetic_members
from bot.meetups.matching import Candidate, MatchResult, MatchSettings, _match, _Pool, match, pair_weight
from storage.members import MemberInput

ON = datetime(2026, 3, 16, 12, 0, tzinfo=UTC)  # a Monday: New York on summer time, Europe not yet
EXACT_MAX = 1_000


def candidates_from(members: list[MemberInput], seed: int) -> list[Candidate]:
    rng = random.Random(seed)
    out = []
    for i, m in enumerate(members):
        roll = rng.random()
        out.append(
            Candidate(
                member_id=i + 1,
                roles=frozenset(m.roles),
                subjects=frozenset(m.subjects),
                programmes=frozenset(m.programmes),
                languages=frozenset(m.languages),
                school=m.school,
                region=m.region,
                timezone=m.timezone or "UTC",
                work_start=m.work_start,
                work_end=m.work_end,
                max_group=2 if roll < 0.7 else 3 if roll < 0.9 else 4,
                excluded=frozenset({rng.randint(1, len(members))}) if rng.random() < 0.01 else frozenset(),
            )
        )
    return out


def met(result: MatchResult) -> set[frozenset[int]]:
    return {frozenset(p) for g in result.groups for p in itertools.combinations(g.member_ids, 2)}


def exact_optimum(pool: list[Candidate], recent: set[frozenset[int]]) -> int:
    graph = nx.Graph()
    for a, b in itertools.combinations(pool, 2):
        w = pair_weight(a, b, ON, recent=recent)
        if w is not None:
            graph.add_edge(a.member_id, b.member_id, weight=w)
    return int(sum(graph[a][b]["weight"] for a, b in nx.max_weight_matching(graph)))


def upper_bound(pool: list[Candidate], recent: set[frozenset[int]]) -> int:
    """Half the sum over members of their best allowed partner's weight: no pairing weighs more. Beyond
    20,000 members, the heaviest possible pair weight for everyone."""
    s = MatchSettings()
    if len(pool) > 20_000:
        return (
            len(pool)
            // 2
            * (max(s.role_subject, s.role_programme, s.role_only, s.base) + s.other_school + s.other_region)
        )
    columns = _Pool(pool, ON, recent, s)
    n = len(pool)
    best = np.zeros(n, np.int64)
    every = np.arange(n, dtype=np.int64)
    for lo in range(0, n, 200):
        rows = np.arange(lo, min(n, lo + 200), dtype=np.int64)
        w = columns.weight(np.repeat(rows, n), np.tile(every, len(rows))).reshape(len(rows), n)
        best[rows] = w.max(axis=1).clip(0)
    return int(best.sum()) // 2


Row = tuple[str, MatchResult, float, float, int | None, int]


def measure(label: str, run: Callable[[], MatchResult], optimum: int | None, bound: int) -> Row:
    start = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - start
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return label, result, seconds, peak, optimum, bound


def table(rows: list[Row]) -> list[str]:
    head = ("members", "groups", "2 / 3 / 4", "left out", "pair weight", "exact optimum", "ratio %")
    lines = [(*head, "upper bound", "of bound %", "time s", "peak MB")]
    for label, result, seconds, peak, optimum, bound in rows:
        sizes = [sum(len(g.member_ids) == k for g in result.groups) for k in (2, 3, 4)]
        lines.append(
            (
                label,
                f"{len(result.groups):,}",
                " / ".join(f"{k:,}" for k in sizes),
                f"{len(result.unmatched):,}",
                f"{result.pairing_weight:,}",
                f"{optimum:,}" if optimum else "-",
                f"{100 * result.pairing_weight / optimum:.2f}" if optimum else "-",
                f"{bound:,}",
                f"{100 * result.pairing_weight / bound:.2f}" if bound else "-",
                f"{seconds:.2f}",
                f"{peak:.0f}",
            )
        )
    widths = [max(len(row[k]) for row in lines) for k in range(len(lines[0]))]
    return ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in lines]


def main() -> None:
    parser = argparse.ArgumentParser(description="meet-up matching: quality against the exact optimum, speed")
    parser.add_argument("--sizes", default="200,500,1000,10000,100000")
    parser.add_argument("--quick", action="store_true", help=f"no exact optimum at {EXACT_MAX:,} members")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        pool = candidates_from(synthetic_members(size, seed=args.seed), args.seed)
        recent = met(match(pool, on=ON, seed=args.seed + 1))  # the previous round, also a warm-up
        exact = size < EXACT_MAX or (size == EXACT_MAX and not args.quick)
        optimum = exact_optimum(pool, recent) if exact else None
        bound = upper_bound(pool, recent)
        run = partial(match, pool, on=ON, seed=args.seed, recent=recent)
        rows.append(measure(f"{size:,}", run, optimum, bound))
        if size == EXACT_MAX:  # the large-pool path, forced
            settings = MatchSettings()
            sampled = partial(
                _match, pool, on=ON, seed=args.seed, recent=recent, settings=settings, sampled=True
            )
            rows.append(measure(f"{size:,} sampled", sampled, optimum, bound))
        print(f"  {size:,} members done", flush=True)
    print(f"Meet-up matching on {ON:%Y-%m-%d %H:%M} UTC, synthetic directory (seed {args.seed})")
    for line in table(rows):
        print(line)


if __name__ == "__main__":
    main()
