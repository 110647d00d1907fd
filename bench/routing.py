"""Does "an answer within six minutes, from all over the world" hold at any hour?

A synthetic world (bench/directory.py) of members across time zones; questions asked at random
moments over a week, each by a random member about one of their own subjects. For every question we
compare who is notified at once:

- routing: the bot's first wave (bot/routing.py's query through the directory index: same subject,
  open to questions, inside working hours now, not the asker, daily cap of pings respected);
- baseline: posting to a channel and notifying 5 random members who teach the subject, as a plain
  bot would.

Reported: the share of questions whose first notification reaches at least 3 matching members who
are at work right now, and the median of such members reached.

    python -m bench.routing [--members 5000] [--questions 1000] [--seed 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import numpy as np

from bench.directory import synthetic_members
from bot.directory import DirectoryIndex, RouteQuery
from storage.members import MemberCard, MemberInput

WEEK_START = datetime(2026, 3, 9, 0, 0, tzinfo=UTC)  # a Monday
WAVE_SIZE, DAILY_PINGS, NEEDED = 5, 3, 3


def cards_from(members: list[MemberInput]) -> list[MemberCard]:
    return [
        MemberCard(
            member_id=i + 1, name=m.name, email=m.email, identities=dict(m.identities), roles=tuple(m.roles),
            programmes=tuple(m.programmes), subjects=tuple(m.subjects), languages=tuple(m.languages),
            timezone=m.timezone, region=m.region, school=m.school, department=m.department, locale=None,
            open_to_questions=m.open_to_questions, visibility=m.visibility, work_start=m.work_start,
            work_end=m.work_end,
        )
        for i, m in enumerate(members)
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description="routing simulation")
    parser.add_argument("--members", type=int, default=5_000)
    parser.add_argument("--questions", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    # Everyone reachable on one platform, as in a single Slack workspace.
    members = [
        MemberInput(**{**m.__dict__, "identities": {"slack": f"U{i:07d}"}})
        for i, m in enumerate(synthetic_members(args.members, seed=args.seed))
    ]
    cards = cards_from(members)
    index = DirectoryIndex(members=None, db=None)  # type: ignore[arg-type]  # fed directly, no I/O
    index._load(cards)
    by_subject: dict[str, list[MemberCard]] = {}
    for card in cards:
        if card.visibility == "listed":
            for subject in card.subjects:
                by_subject.setdefault(subject, []).append(card)

    askers = [c for c in cards if c.subjects]
    moments = sorted(WEEK_START + timedelta(seconds=rng.uniform(0, 7 * 86400)) for _ in range(args.questions))
    pings: Counter[tuple[int, str]] = Counter()  # (member, day) -> pings, for the daily cap
    routed_ok = baseline_ok = 0
    routed_reach: list[int] = []
    baseline_reach: list[int] = []
    latencies: list[float] = []
    for now in moments:
        asker = rng.choice(askers)
        subject = rng.choice(asker.subjects)
        day = now.date().isoformat()
        awake = index.in_working_hours(now)
        slot = index._slots

        capped = {m for (m, d), n in pings.items() if d == day and n >= DAILY_PINGS}
        start = time.perf_counter()
        picks = index.route(
            RouteQuery(platform="slack", subjects=(subject,), programmes=asker.programmes[:1]),
            now,
            exclude=capped | {asker.member_id},
            limit=WAVE_SIZE,
        )
        latencies.append((time.perf_counter() - start) * 1e6)
        reached = sum(1 for c in picks if awake[slot[c.member_id]] and subject in c.subjects)
        for c in picks:
            pings[(c.member_id, day)] += 1
        routed_reach.append(reached)
        routed_ok += reached >= NEEDED

        pool = [c for c in by_subject.get(subject, []) if c.member_id != asker.member_id]
        chosen = rng.sample(pool, min(WAVE_SIZE, len(pool)))
        awake_chosen = sum(1 for c in chosen if awake[slot[c.member_id]] and c.open_to_questions)
        baseline_reach.append(awake_chosen)
        baseline_ok += awake_chosen >= NEEDED

    n = len(moments)
    print(f"First notification of {n:,} questions over a week, {args.members:,} members (seed {args.seed})")
    print("| approach | ≥ 3 matching members at work | median reached | none reached | route µs p50 / p95 |")
    print("|---|---|---|---|---|")
    lat = sorted(latencies)
    p50, p95 = lat[len(lat) // 2], lat[int(len(lat) * 0.95)]
    for name, ok, reach, timing in (
        ("routing (first wave)", routed_ok, routed_reach, f"{p50:.0f} / {p95:.0f}"),
        ("baseline (5 random subject matches)", baseline_ok, baseline_reach, "—"),
    ):
        none = sum(r == 0 for r in reach) / n
        print(f"| {name} | {ok / n:.1%} | {statistics.median(reach):.0f} | {none:.1%} | {timing} |")
    sizes = np.array([len(v) for v in by_subject.values()])
    print(
        f"Subjects: {len(by_subject)}; members per subject: median {int(np.median(sizes))}, "
        f"min {int(sizes.min())}; max pings to one member in one day: {max(pings.values()) if pings else 0}"
    )


if __name__ == "__main__":
    main()
