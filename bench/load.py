"""Load on a cluster: two real `iben-bot run` processes on one PostgreSQL database, signed Slack
slash commands from many concurrent clients, with Slack-style retries sent to the other instance.

It resets its OWN database (default `iben_load`, created if missing: never the shared `test` one),
migrates it, seeds members with Slack ids, starts a fake Slack Web API in this process (on its own
thread, so serving the bots' API calls does not slow the clients' clocks) and the instances with
tests/cluster.py. Clients send `/ask <unique question>` and `/whois <role subject>` round robin
across the instances, like a load balancer; a share of them is re-sent, identical and with
`X-Slack-Retry-Num: 1`, to the next instance. Then it waits (bounded) for every response_url answer
and every Q&A thread and reports ack latency, errors, threads lost or duplicated, and answers
missing or duplicated per trigger.

    python -m bench.load [--requests 1000] [--clients 50] [--instances 2] [--retry-share 0.1] [--rate 0]
                         [--database-url postgresql://postgres@127.0.0.1:5432/iben_load]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import re
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from bench.directory import synthetic_members
from bot.dispatch import CRASH_MESSAGE
from storage.bulk import bulk_upsert
from storage.db import Database
from storage.members import MemberInput
from tests.cluster import BotCluster, BotInstance
from tests.fakes.slack_api import FakeSlackAPI
from tests.fakes.slack_signing import sign, slash_command_body

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/iben_load"
SHARED_TEST_DATABASES = frozenset({"test", "postgres", "template0", "template1"})
SECRET = "load-signing-secret"
QA_CHANNEL = "CQALOAD01"
ANNOUNCEMENTS = "CANNLOAD01"
COMMAND_CHANNEL = "CGENERAL01"
NOBODY = "Nobody in the directory matches"
MATCHED = re.compile(r"^\d+ members? match", re.MULTILINE)
TARGET_P99_MS = 50.0
TARGET_MAX_MS = 3000.0

WHOIS_QUERIES = (
    "examiner biology",
    "workshop leader MYP design",
    "moderator chemistry",
    "examinateur biologie",
    "team leader history",
    "examiner mathematics DP spanish",
    "consultant physics",
    "DP coordinator",
    "examinador química",
    "curriculum developer economics",
    "principal examiner history",
    "school visitor PYP",
    "assistant examiner visual arts",
    "moderator TOK",
)
ASK_SUBJECTS = (
    "biology",
    "chemistry",
    "physics",
    "history",
    "economics",
    "mathematics",
    "visual arts",
    "design",
    "geography",
    "psychology",
)
ASK_FRAMES = (
    "How do you plan {subject} lessons around the {a} {b} {c} idea?",
    "Has anyone tried the {a} {b} method in {subject} with the {c} groups?",
    "What do your {subject} students make of {a} and {b} in the {c} unit?",
)


@dataclass(frozen=True)
class Planned:
    index: int
    kind: Literal["ask", "whois"]
    text: str
    user: str
    trigger: str
    instance: int
    retry_to: int | None


@dataclass(frozen=True)
class Sent:
    index: int
    instance: int
    retry: bool
    ms: float
    status: int | None  # None: an exception, no HTTP answer
    error: str = ""


@dataclass
class Outcome:
    sent: list[Sent] = field(default_factory=list)
    send_seconds: float = 0.0
    settle_seconds: float = 0.0
    settled: bool = False
    idle_ms: list[float] = field(default_factory=list)


# ---------------------------------------------------------------------------- the fake Slack thread


class FakeSlackThread:
    """FakeSlackAPI on its own event loop and thread: its work never delays the clients' timing.

    The bench reads `fake.calls` and `fake.responses` from its own thread as snapshots (list copies
    are atomic under the GIL) and never uses the fake's wait helpers across loops.
    """

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="fake-slack", daemon=True)
        self._fake: FakeSlackAPI | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    @property
    def fake(self) -> FakeSlackAPI:
        if self._fake is None:
            raise RuntimeError("the fake Slack API is not started")
        return self._fake

    async def start(self) -> FakeSlackAPI:
        self._thread.start()

        async def create() -> FakeSlackAPI:
            fake = FakeSlackAPI()
            await fake.start()
            return fake

        self._fake = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(create(), self._loop))
        return self._fake

    async def stop(self) -> None:
        if self._thread.is_alive():
            if self._fake is not None:
                stopped = asyncio.run_coroutine_threadsafe(self._fake.stop(), self._loop)
                try:
                    await asyncio.wait_for(asyncio.wrap_future(stopped), timeout=10)
                finally:
                    self._loop.call_soon_threadsafe(self._loop.stop)
            else:
                self._loop.call_soon_threadsafe(self._loop.stop)
            await asyncio.to_thread(self._thread.join, 10)
        if not self._thread.is_alive():
            self._loop.close()


# ---------------------------------------------------------------------------- database and members


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def prepare_database(url: str) -> None:
    """Create the database if needed, then empty its public schema (as the tests do theirs)."""
    import asyncpg  # type: ignore[import-untyped]

    parts = urlsplit(_dsn(url))
    name = parts.path.lstrip("/")
    if not name or name in SHARED_TEST_DATABASES:
        raise SystemExit(
            f"bench.load empties its database; refusing {name or '(none)'!r}: "
            "use a database of its own (default iben_load)"
        )
    admin = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")), timeout=10)
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name.replace(chr(34), chr(34) * 2)}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(_dsn(url), timeout=10)
    try:
        await conn.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


def load_members(count: int, seed: int) -> list[MemberInput]:
    """The synthetic directory, everyone on Slack (U00000000, U00000001, ...)."""
    return [
        replace(member, identities={"slack": f"U{i:08d}"})
        for i, member in enumerate(synthetic_members(count, seed=seed))
    ]


async def seed_database(url: str, members: Sequence[MemberInput]) -> None:
    db = Database(url)
    try:
        await db.upgrade()
        await bulk_upsert(db, members, datetime.now(UTC))
    finally:
        await db.dispose()


# ---------------------------------------------------------------------------- the plan


def _nonce(rng: random.Random, used: set[str]) -> str:
    """A made-up word nobody has used, so no two questions look similar to the /ask flow."""
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    while True:
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(4))
        if word not in used:
            used.add(word)
            return word


def make_plan(
    requests: int, instances: int, retry_share: float, members: Sequence[MemberInput], seed: int
) -> list[Planned]:
    rng = random.Random(seed)
    run = f"{int(time.time()) % 100_000:05d}"
    users = [m.identities["slack"] for m in members]
    used: set[str] = set()
    # Half of each, shuffled: kinds must not follow the round robin (with two instances, i % 2 would
    # send every /ask to one instance and every /whois to the other).
    asks: list[Literal["ask", "whois"]] = ["ask"] * ((requests + 1) // 2)
    kinds = asks + ["whois"] * (requests // 2)
    rng.shuffle(kinds)
    plan = []
    for i, kind in enumerate(kinds):
        if kind == "ask":
            text = rng.choice(ASK_FRAMES).format(
                subject=rng.choice(ASK_SUBJECTS),
                a=_nonce(rng, used),
                b=_nonce(rng, used),
                c=_nonce(rng, used),
            )
        else:
            text = rng.choice(WHOIS_QUERIES)
        instance = i % instances
        retry_to = (instance + 1) % instances if rng.random() < retry_share else None
        trigger = f"{run}.{i:06d}.load"
        plan.append(Planned(i, kind, text, rng.choice(users), trigger, instance, retry_to))
    return plan


# ---------------------------------------------------------------------------- sending


async def _post(
    http: aiohttp.ClientSession, url: str, body: str, headers: dict[str, str]
) -> tuple[float, int | None, str]:
    start = time.perf_counter()
    try:
        async with http.post(url, data=body.encode(), headers=headers) as response:
            await response.read()
            status: int | None = response.status
            error = "" if 200 <= response.status < 300 else f"HTTP {response.status}"
    except Exception as exc:  # a refused connection or a timeout is an error to count, not a crash
        status, error = None, f"{exc.__class__.__name__}: {exc}"
    return (time.perf_counter() - start) * 1000, status, error


async def send_all(
    plan: Sequence[Planned],
    instances: Sequence[BotInstance],
    fake: FakeSlackAPI,
    clients: int,
    rate: float = 0.0,
) -> Outcome:
    queue: asyncio.Queue[Planned] = asyncio.Queue()
    for item in plan:
        queue.put_nowait(item)
    outcome = Outcome()
    connector = aiohttp.TCPConnector(limit=clients * 2)
    timeout = aiohttp.ClientTimeout(total=15)

    async def client(http: aiohttp.ClientSession) -> None:
        while True:
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            if rate > 0:  # an open arrival schedule: request i leaves at i / rate seconds
                await asyncio.sleep(max(0.0, start + item.index / rate - time.perf_counter()))
            command = "/ask" if item.kind == "ask" else "/whois"
            body = slash_command_body(
                command,
                item.text,
                user_id=item.user,
                channel_id=COMMAND_CHANNEL,
                response_url=fake.response_url(item.trigger),
                trigger_id=item.trigger,
                user_name=item.user.lower(),
            )
            headers = sign(SECRET, body)
            ms, status, error = await _post(http, instances[item.instance].events_url, body, headers)
            outcome.sent.append(Sent(item.index, item.instance, False, ms, status, error))
            if item.retry_to is not None:  # Slack did not see the ack in time: same body, other instance
                retry_headers = {**headers, "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
                ms, status, error = await _post(
                    http, instances[item.retry_to].events_url, body, retry_headers
                )
                outcome.sent.append(Sent(item.index, item.retry_to, True, ms, status, error))

    start = time.perf_counter()
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    outcome.send_seconds = time.perf_counter() - start
    return outcome


async def server_acks(instances: Sequence[BotInstance]) -> str:
    """The instances' own ack histograms (`iben_ack_seconds` on /metrics): arrival to response inside
    the bot, without the clients' and the network's share."""
    buckets: Counter[float] = Counter()
    total = count = 0.0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
        for instance in instances:
            async with http.get(instance.base_url + "/metrics") as response:
                text = await response.text()
            for line in text.splitlines():
                if line.startswith("iben_ack_seconds_bucket") and 'platform="slack"' in line:
                    le = re.search(r'le="([^"]+)"', line)
                    if le:
                        buckets[float(le[1])] += float(line.rsplit(" ", 1)[1])
                elif line.startswith("iben_ack_seconds_sum") and 'platform="slack"' in line:
                    total += float(line.rsplit(" ", 1)[1])
                elif line.startswith("iben_ack_seconds_count") and 'platform="slack"' in line:
                    count += float(line.rsplit(" ", 1)[1])
    if not count:
        return "server-side ack: no samples"

    def upper(share: float) -> str:
        bound = next((le for le in sorted(buckets) if buckets[le] >= share * count), math.inf)
        return "over 10 s" if math.isinf(bound) else f"≤ {bound * 1000:g} ms"

    return (
        f"server-side ack ({count:.0f} requests, iben_ack_seconds): mean {total / count * 1000:.1f} ms, "
        f"p50 {upper(0.5)}, p99 {upper(0.99)}"
    )


async def idle_probe(instances: Sequence[BotInstance], fake: FakeSlackAPI, count: int) -> list[float]:
    """Ack latency with nothing else going on: `count` /whois one at a time (not in the tallies)."""
    out: list[float] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:
        for n in range(count):
            trigger = f"idle.{n:04d}.{time.time_ns()}"
            body = slash_command_body(
                "/whois",
                WHOIS_QUERIES[n % len(WHOIS_QUERIES)],
                user_id="U00000000",
                channel_id=COMMAND_CHANNEL,
                response_url=fake.response_url(trigger),
                trigger_id=trigger,
            )
            ms, _status, error = await _post(
                http, instances[n % len(instances)].events_url, body, sign(SECRET, body)
            )
            if not error:
                out.append(ms)
            await asyncio.sleep(0.05)
    return out


# ---------------------------------------------------------------------------- counting


@dataclass(frozen=True)
class Tally:
    questions: int
    threads: int
    lost: int
    duplicated: int
    triggers: int
    answers: int
    answers_missing: int
    answers_duplicated: int
    crash_replies: int
    similar_replies: int
    repeat_replies: int
    whois_wrong_empty: int
    whois_wrong_examples: tuple[str, ...]
    lost_examples: tuple[str, ...]
    dup_examples: tuple[str, ...]


def tally(plan: Sequence[Planned], fake: FakeSlackAPI) -> Tally:
    calls = list(fake.calls)
    responses = list(fake.responses)
    roots = [
        str(c.params.get("text", ""))
        for c in calls
        if c.method == "chat.postMessage"
        and c.params.get("channel") == QA_CHANNEL
        and not c.params.get("thread_ts")
    ]
    asks = [p for p in plan if p.kind == "ask"]
    per_question = {p.trigger: sum(p.text in text for text in roots) for p in asks}
    answered = Counter(str(r.get("_url_id", "")) for r in responses)
    per_trigger = {p.trigger: answered.get(p.trigger, 0) for p in plan}
    texts = [str(r.get("text", "")) for r in responses]
    # /whois answers: the same query must not say "nobody" on one delivery and list members on another.
    whois = {p.trigger: p for p in plan if p.kind == "whois"}
    by_query: dict[str, list[tuple[int, str]]] = {}  # query -> (arrival position, answer)
    for position, r in enumerate(responses, 1):
        item = whois.get(str(r.get("_url_id", "")))
        if item is not None:
            by_query.setdefault(item.text, []).append((position, str(r.get("text", ""))))
    wrong = sorted(
        (position, query)
        for query, answers in by_query.items()
        if any(MATCHED.search(a) for _, a in answers)
        for position, a in answers
        if NOBODY in a
    )
    wrong_queries = Counter(q for _, q in wrong)
    return Tally(
        questions=len(asks),
        threads=sum(per_question.values()),
        lost=sum(1 for n in per_question.values() if n == 0),
        duplicated=sum(1 for n in per_question.values() if n > 1),
        triggers=len(plan),
        answers=sum(per_trigger.values()),
        answers_missing=sum(1 for n in per_trigger.values() if n == 0),
        answers_duplicated=sum(1 for n in per_trigger.values() if n > 1),
        crash_replies=sum(CRASH_MESSAGE in t for t in texts),
        similar_replies=sum("look similar" in t for t in texts),
        repeat_replies=sum(("already posted" in t) or ("waiting for your choice" in t) for t in texts),
        whois_wrong_empty=len(wrong),
        whois_wrong_examples=(
            (
                f"answers #{wrong[0][0]} to #{wrong[-1][0]} of {len(responses)} in arrival order",
                *(f"{q!r} {n}x" for q, n in wrong_queries.most_common(5)),
            )
            if wrong
            else ()
        ),
        lost_examples=tuple(t for t, n in per_question.items() if n == 0)[:3],
        dup_examples=tuple(t for t, n in per_question.items() if n > 1)[:3],
    )


async def wait_for_answers(plan: Sequence[Planned], fake: FakeSlackAPI, timeout: float, quiet: float) -> bool:  # noqa: ASYNC109
    """Until every trigger has an answer, then until nothing new arrives for `quiet` seconds (late
    duplicates), within `timeout` in all. True when every trigger was answered."""
    triggers = {p.trigger for p in plan}
    deadline = time.monotonic() + timeout
    answered = False
    while time.monotonic() < deadline:
        seen = {str(r.get("_url_id", "")) for r in list(fake.responses)}
        if triggers <= seen:
            answered = True
            break
        await asyncio.sleep(0.2)
    last = (len(fake.calls), len(fake.responses))
    still = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - still < quiet:
        await asyncio.sleep(0.2)
        now = (len(fake.calls), len(fake.responses))
        if now != last:
            last, still = now, time.monotonic()
    return answered


def percentile(sorted_ms: Sequence[float], share: float) -> float:
    if not sorted_ms:
        return math.nan
    return sorted_ms[max(0, math.ceil(share * len(sorted_ms)) - 1)]


_PROBLEM = re.compile(r"\b(ERROR|CRITICAL)\b|Traceback")


def log_problems(instances: Sequence[BotInstance], limit: int = 6) -> list[str]:
    """Error lines in the bots' logs: a count per instance and the first distinct messages."""
    lines: list[str] = []
    for instance in instances:
        try:
            text = instance.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            continue
        hits = [line for line in text if _PROBLEM.search(line)]
        if not hits:
            continue
        distinct = list(dict.fromkeys(re.sub(r"^\S+ \S+ ", "", h)[:200] for h in hits))
        lines.append(f"{instance.name}: {len(hits)} error line(s) in {instance.log_path}")
        lines.extend(f"    {h}" for h in distinct[:limit])
    return lines


# ---------------------------------------------------------------------------- the run


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(
    args: argparse.Namespace,
    plan: Sequence[Planned],
    outcome: Outcome,
    counts: Tally,
    instances: Sequence[BotInstance],
) -> None:
    all_ms = sorted(s.ms for s in outcome.sent)
    errors = [s for s in outcome.sent if s.error]
    retries = sum(1 for s in outcome.sent if s.retry)
    p50, p99 = percentile(all_ms, 0.5), percentile(all_ms, 0.99)
    top = all_ms[-1] if all_ms else math.nan
    print(
        f"Cluster load: {args.instances} `iben-bot run` processes on {urlsplit(args.database_url).path[1:]} "
        f"(PostgreSQL), Slack HTTP mode, signed slash commands; {os.cpu_count()} CPUs"
    )
    print(
        "| requests | clients | instances | ack p50 ms | ack p99 ms | ack max ms | errors | retries sent "
        "| questions | threads | lost | duplicated |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {len(plan):,} | {args.clients} | {args.instances} | {p50:.1f} | {p99:.1f} | {top:.1f} "
        f"| {len(errors)} | {retries} | {counts.questions} | {counts.threads} | {counts.lost} "
        f"| {counts.duplicated} |"
    )
    print(
        f"HTTP requests {len(outcome.sent):,} (with retries) in {outcome.send_seconds:.1f} s "
        f"({len(outcome.sent) / max(outcome.send_seconds, 1e-9):.0f}/s); answers settled "
        f"{outcome.settle_seconds:.1f} s later{'' if outcome.settled else ' (TIMED OUT)'}"
    )
    for n, instance in enumerate(instances):
        mine = sorted(s.ms for s in outcome.sent if s.instance == n)
        print(
            f"  {instance.name}: {len(mine)} requests, p50 {percentile(mine, 0.5):.1f} ms, "
            f"p99 {percentile(mine, 0.99):.1f} ms, max {mine[-1] if mine else math.nan:.1f} ms"
        )
    print(
        f"response_url answers: {counts.answers} for {counts.triggers} triggers; "
        f"missing {counts.answers_missing}, duplicated {counts.answers_duplicated} "
        f"(retried triggers {sum(p.retry_to is not None for p in plan)}); crash replies "
        f"{counts.crash_replies}, 'already posted/waiting' {counts.repeat_replies}, "
        f"'similar questions' {counts.similar_replies}"
    )
    if counts.whois_wrong_empty:
        print(
            f"/whois said 'nobody matches' {counts.whois_wrong_empty} time(s) for queries that other "
            f"deliveries answered with members: "
            f"{', '.join(counts.whois_wrong_examples)}"
        )
    if outcome.idle_ms:
        idle = sorted(outcome.idle_ms)
        print(
            f"idle ack after the run ({len(idle)} sequential /whois, round robin): "
            f"p50 {percentile(idle, 0.5):.1f} ms, max {idle[-1]:.1f} ms"
        )
    if errors:
        kinds = Counter(s.error for s in errors)
        print("errors: " + "; ".join(f"{n}× {e}" for e, n in kinds.most_common(5)))
    if counts.lost_examples:
        print("lost (no thread), e.g. triggers: " + ", ".join(counts.lost_examples))
    if counts.dup_examples:
        print("duplicated threads, e.g. triggers: " + ", ".join(counts.dup_examples))
    over = sum(1 for ms in all_ms if ms > TARGET_MAX_MS)
    print("Target: p99 ≤ 50 ms, none over 3 s, 0 lost, 0 duplicated")
    lost_ok = counts.lost == 0 and counts.answers_missing == 0
    dup_ok = counts.duplicated == 0 and counts.answers_duplicated == 0
    print(
        f"  p99 ≤ 50 ms: {verdict(p99 <= TARGET_P99_MS)} ({p99:.1f} ms) | "
        f"none over 3 s: {verdict(over == 0)} ({over} over, max {top:.0f} ms) | "
        f"0 lost: {verdict(lost_ok)} ({counts.lost} threads, {counts.answers_missing} answers missing) | "
        f"0 duplicated: {verdict(dup_ok)} ({counts.duplicated} threads, "
        f"{counts.answers_duplicated} triggers answered twice or more)"
    )
    problems = log_problems(instances)
    print("bot logs: " + ("no ERROR lines" if not problems else ""))
    for line in problems:
        print(line)
    print(f"logs and configs: {instances[0].workdir if instances else '-'}")


async def run(args: argparse.Namespace) -> int:
    task = asyncio.current_task()
    if task is not None:  # SIGTERM stops the run as Ctrl-C does: cleanly, every process stopped
        with contextlib.suppress(NotImplementedError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    members = load_members(args.members, args.seed)
    print(f"preparing {args.database_url}: reset, migrate, {len(members)} members ...", file=sys.stderr)
    await prepare_database(args.database_url)
    await seed_database(args.database_url, members)
    plan = make_plan(args.requests, args.instances, args.retry_share, members, args.seed)
    workdir = Path(tempfile.mkdtemp(prefix="iben-bot-load-"))
    slack = FakeSlackThread()
    try:
        fake = await slack.start()
        for member in members:
            fake.add_user(member.identities["slack"], member.name, tz=member.timezone or "UTC")
        async with BotCluster(
            workdir,
            database_url=args.database_url,
            api_base_url=fake.base_url,
            signing_secret=SECRET,
            channels={"qa": QA_CHANNEL, "announcements": ANNOUNCEMENTS},
            log_level=args.log_level,
        ) as cluster:
            print(f"starting {args.instances} instances (logs in {workdir}) ...", file=sys.stderr)
            instances = await cluster.start(args.instances, timeout=60)
            print(
                f"sending {len(plan)} commands from {args.clients} clients ...",
                file=sys.stderr,
            )
            outcome = await send_all(plan, instances, fake, args.clients, args.rate)
            server = await server_acks(instances)
            started = time.perf_counter()
            outcome.settled = await wait_for_answers(plan, fake, args.wait, args.quiet)
            outcome.settle_seconds = time.perf_counter() - started
            counts = tally(plan, fake)
            outcome.idle_ms = await idle_probe(instances, fake, args.idle_probes)
            dead = [i for i in instances if not i.running]
            report(args, plan, outcome, counts, instances)
            print(server)
            for instance in dead:
                print(f"{instance.name} STOPPED during the run (exit {instance.returncode}):")
                print(instance.log_tail(20))
    finally:
        await slack.stop()
    return 0


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description="slash-command load on several bot processes"
    )
    parser.add_argument("--requests", type=int, default=1000, help="slash commands (not counting retries)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="requests per second offered (0: as fast as clients go)",
    )
    parser.add_argument("--instances", type=int, default=2, help="bot processes behind the 'load balancer'")
    parser.add_argument(
        "--database-url",
        default=DEFAULT_DATABASE_URL,
        help=f"PostgreSQL database to EMPTY and use (default {DEFAULT_DATABASE_URL}; created if missing)",
    )
    parser.add_argument(
        "--retry-share", type=float, default=0.1, help="share re-sent to another instance as a Slack retry"
    )
    parser.add_argument("--members", type=int, default=400, help="members seeded, all with Slack ids")
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for answers and threads")
    parser.add_argument("--quiet", type=float, default=3.0, help="then until nothing new for this long")
    parser.add_argument(
        "--idle-probes", type=int, default=20, help="sequential commands after the run, for the idle ack"
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    if args.requests < 1 or args.clients < 1 or args.instances < 1 or args.members < 1:
        parser.error("--requests, --clients, --instances and --members must be at least 1")
    if not 0.0 <= args.retry_share <= 1.0:
        parser.error("--retry-share is a share from 0 to 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(run(args))
    except KeyboardInterrupt:
        print("interrupted; every bot process was stopped", file=sys.stderr)
        return 130
    except asyncio.CancelledError:
        print("terminated; every bot process was stopped", file=sys.stderr)
        return 143


if __name__ == "__main__":
    raise SystemExit(main())
