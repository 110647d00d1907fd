"""`/ask` latency through the whole core with a large archive of earlier questions.

Each measured `/ask` does what a member's does: the dispatcher, the catalogue parse (subject
inference), the draft insert, the similar-question search over questions and answers (SQLite FTS5 or
PostgreSQL full text), and either the "similar questions" reply or posting the thread and scheduling
routing. The first routing wave (directory index, notifications, DMs through the console port) is
timed separately.

    python -m bench.ask [--questions 100000] [--asks 500] [--backends sqlite,postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from adapters.console.port import ConsolePort
from adapters.console.session import ConsoleSession
from adapters.runtime import build_runtime
from bench.backends import database_urls
from bench.directory import synthetic_members
from bot.clock import ManualClock
from bot.config import build_config
from bot.events import Actor, Platform
from bot.scheduling import ManualScheduler
from storage.bulk import bulk_upsert
from storage.models import Answer, Question

TOPICS = {
    "en": [
        "IA moderation",
        "extended essay supervision",
        "TOK exhibition",
        "CAS reflections",
        "lab safety",
        "math AA exploration",
        "biology fieldwork",
        "chemistry titration",
        "history sources",
        "ESS field trip",
        "language B oral",
        "visual arts process portfolio",
        "MYP personal project",
        "PYP exhibition",
    ],
    "fr": [
        "modération de l'EI",
        "supervision du mémoire",
        "exposition de TdC",
        "réflexions CAS",
        "sécurité au labo",
        "exploration mathématique",
        "sortie de terrain en biologie",
        "titrage en chimie",
        "sources historiques",
    ],
    "es": [
        "moderación de la EI",
        "supervisión de la monografía",
        "exposición de TdC",
        "reflexiones de CAS",
        "seguridad en el laboratorio",
        "exploración matemática",
        "trabajo de campo de biología",
        "valoración en química",
        "fuentes históricas",
    ],
}
FRAMES = {
    "en": [
        "How do you organise {t} for a large cohort?",
        "Any tips on {t} deadlines?",
        "What rubric do you use for {t}?",
        "Has anyone changed how they run {t} this year?",
    ],
    "fr": [
        "Comment organisez-vous {t} pour un grand groupe ?",
        "Des conseils sur les échéances de {t} ?",
        "Quelle grille utilisez-vous pour {t} ?",
    ],
    "es": [
        "¿Cómo organizan {t} con un grupo grande?",
        "¿Algún consejo sobre los plazos de {t}?",
        "¿Qué rúbrica usan para {t}?",
    ],
}
ANSWERS = [
    "We use a shared calendar.",
    "Nous faisons des entretiens courts.",
    "Usamos una rúbrica común.",
    "Start early and check drafts monthly.",
    "Ask the coordinator for the moderation sample.",
]


def question_text(rng: random.Random) -> str:
    lang = rng.choice(("en", "en", "fr", "es"))
    return rng.choice(FRAMES[lang]).format(t=rng.choice(TOPICS[lang])) + f" (#{rng.randrange(10**6)})"


async def fill_archive(runtime_db: object, count: int, rng: random.Random, now: datetime) -> None:
    from storage.db import Database

    assert isinstance(runtime_db, Database)
    async with runtime_db.engine.begin() as conn:
        for start in range(0, count, 5000):
            rows = [
                {
                    "platform": "console",
                    "source_event_id": f"seed-{i}",
                    "asker_user_id": f"u{i % 5000}",
                    "asker_name": "Seed",
                    "asker_locale": "en",
                    "text": question_text(rng),
                    "channel": "qa",
                    "thread_ref": f"t{i}",
                    "root_message_id": f"t{i}",
                    "permalink": f"console://qa/t{i}",
                    "created_at": now - timedelta(minutes=i),
                    "waves_sent": 4,
                }
                for i in range(start, min(count, start + 5000))
            ]
            await conn.execute(insert(Question), rows)
        ids = [r[0] for r in (await conn.exec_driver_sql("SELECT id FROM questions")).all()]
        answers = [
            {
                "question_id": qid,
                "platform": "console",
                "user_id": f"a{j}",
                "message_id": f"m{qid}-{j}",
                "text": rng.choice(ANSWERS),
                "created_at": now,
            }
            for qid in ids
            for j in range(rng.choice((0, 1, 1, 2, 3)))
        ]
        for start in range(0, len(answers), 5000):
            await conn.execute(insert(Answer), answers[start : start + 5000])


async def measure(backend: str, url: str, questions: int, asks: int) -> dict[str, object]:
    config = build_config({"database": {"url": url}}, source="bench", env={})
    clock = ManualClock(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    scheduler = ManualScheduler()
    runtime = await build_runtime(config, clock=clock, scheduler=scheduler)
    rng = random.Random(11)
    try:
        await bulk_upsert(runtime.db, synthetic_members(5000), clock.now())
        start = time.perf_counter()
        await fill_archive(runtime.db, questions, rng, clock.now())
        fill_s = time.perf_counter() - start
        await runtime.services.directory.refresh(clock.now())
        port = ConsolePort()
        runtime.attach(port)
        session = ConsoleSession(runtime, port, out=lambda _: None)
        session.actor = Actor(Platform.CONSOLE, "asker", "Asker", "en", "Europe/London")
        ask_ms, wave_ms, similar_shown = [], [], 0
        for _ in range(asks):
            text = question_text(rng)
            t0 = time.perf_counter()
            reply = await session.command("ask", text)
            ask_ms.append((time.perf_counter() - t0) * 1000)
            if reply.buttons:
                similar_shown += 1
                await session.press(1)  # post anyway
            t0 = time.perf_counter()
            await scheduler.run_due(clock.now())
            wave_ms.append((time.perf_counter() - t0) * 1000)
            clock.advance(timedelta(seconds=30))
        return {
            "backend": backend,
            "questions": questions,
            "fill_s": fill_s,
            "asks": asks,
            "similar": similar_shown / asks,
            "ask_p50": statistics.median(ask_ms),
            "ask_p95": sorted(ask_ms)[int(0.95 * len(ask_ms))],
            "ask_max": max(ask_ms),
            "wave_p50": statistics.median(wave_ms),
            "wave_p95": sorted(wave_ms)[int(0.95 * len(wave_ms))],
        }
    finally:
        await runtime.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description="/ask latency")
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--asks", type=int, default=500)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        async for backend, url in database_urls(args.backends, Path(folder), "ask"):
            results.append(await measure(backend, url, args.questions, args.asks))
    print(f"/ask through the core with an archive of earlier questions ({args.asks} asks; ms)")
    print(
        "| backend | stored questions | archive load s | shown similar | /ask p50 | /ask p95 | /ask max "
        "| wave 1 p50 | wave 1 p95 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['backend']} | {r['questions']:,} | {r['fill_s']:.1f} | {r['similar']:.0%} "
            f"| {r['ask_p50']:.2f} "
            f"| {r['ask_p95']:.2f} | {r['ask_max']:.1f} | {r['wave_p50']:.2f} | {r['wave_p95']:.2f} |"
        )


if __name__ == "__main__":
    asyncio.run(main())
