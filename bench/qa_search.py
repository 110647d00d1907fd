"""Q&A search latency at archive scale, on SQLite and PostgreSQL, and the `similar` floor's effect.

Generates a synthetic archive (reproducible seed): questions in English, French and Spanish, each
about one topic (a subject and a theme such as IA moderation or field trips, with accents), with
0-3 answers, generic classroom words and a long tail of rare words (names, places). Rows go in
with Core executemany, so the index triggers do the indexing, as in production.

Then it times `similar()` on fresh questions from the same generator (what /ask does before
posting) and `search()` on short member queries, and prints p50/p95/p99. Because every generated
question knows its topic, it also sweeps the `similar` relevance floor: how often /ask would show
something, and how many of the shown questions share the new question's theme.

    python -m bench.qa_search [--questions 100000] [--queries 400] [--backends sqlite,postgres]

PostgreSQL uses $IBEN_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test) and
EMPTIES that database's public schema first, as the tests do; after loading it runs VACUUM ANALYZE,
as autovacuum would after such a load.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Table, insert, text

from bench.backends import database_urls
from storage import qa_search
from storage.db import Database
from storage.models import Base
from storage.qa_search import QASearch

LANGS = ("en", "en", "fr", "es")  # half in English

SUBJECTS = {
    "en": "biology chemistry physics mathematics history geography economics psychology literature "
    "music theatre design informatics philosophy business film dance anthropology astronomy sport",
    "fr": "biologie chimie physique mathématiques histoire géographie économie psychologie littérature "
    "musique théâtre design informatique philosophie gestion cinéma danse anthropologie astronomie sport",
    "es": "biología química física matemáticas historia geografía economía psicología literatura "
    "música teatro diseño informática filosofía empresa cine danza antropología astronomía deporte",
}
THEMES: dict[str, dict[str, str]] = {
    "ia": {
        "en": "internal assessment moderation samples criteria marks IA",
        "fr": "évaluation interne modération échantillons critères notes IA",
        "es": "evaluación interna moderación muestras criterios notas IA",
    },
    "ee": {
        "en": "extended essay supervisor research reflection viva EE",
        "fr": "mémoire superviseur recherche réflexion entretien EE",
        "es": "monografía supervisor investigación reflexión entrevista",
    },
    "trip": {
        "en": "field trip risk permission parents bus",
        "fr": "sortie terrain risques autorisation parents autocar",
        "es": "salida campo riesgos permiso padres autobús",
    },
    "lab": {
        "en": "lab safety goggles chemicals fume cupboard",
        "fr": "laboratoire sécurité lunettes produits hotte",
        "es": "laboratorio seguridad gafas reactivos campana",
    },
    "boundaries": {
        "en": "grade boundaries results session statistics",
        "fr": "seuils notation résultats session statistiques",
        "es": "umbrales calificación resultados convocatoria estadísticas",
    },
    "tok": {
        "en": "TOK exhibition objects prompts knowledge",
        "fr": "TdC exposition objets énoncés connaissance",
        "es": "TdC exposición objetos enunciados conocimiento",
    },
    "cas": {
        "en": "CAS project service reflections portfolio",
        "fr": "CAS projet service réflexions portfolio",
        "es": "CAS proyecto servicio reflexiones portafolio",
    },
    "ai": {
        "en": "ChatGPT artificial intelligence plagiarism detection AI",
        "fr": "ChatGPT intelligence artificielle plagiat détection IA",
        "es": "ChatGPT inteligencia artificial plagio detección IA",
    },
    "inclusion": {
        "en": "inclusion access arrangements learning support extra time",
        "fr": "inclusion aménagements apprentissage soutien tiers temps",
        "es": "inclusión adecuaciones aprendizaje apoyo tiempo adicional",
    },
    "workload": {
        "en": "marking workload deadlines stress balance",
        "fr": "correction charge échéances stress équilibre",
        "es": "corrección carga plazos estrés equilibrio",
    },
    "reports": {
        "en": "report cards comments parents conferences",
        "fr": "bulletins appréciations parents réunions",
        "es": "boletines comentarios padres reuniones",
    },
    "planning": {
        "en": "unit planner inquiry concepts collaborative planning",
        "fr": "planificateur unité recherche concepts planification collaborative",
        "es": "planificador unidad indagación conceptos planificación colaborativa",
    },
    "mocks": {
        "en": "mock exams predicted grades papers revision",
        "fr": "examens blancs notes prévues épreuves révisions",
        "es": "simulacros exámenes notas previstas pruebas repaso",
    },
    "university": {
        "en": "university applications references transcripts counselling",
        "fr": "candidatures universitaires lettres recommandation orientation",
        "es": "solicitudes universitarias cartas recomendación orientación",
    },
    "textbooks": {
        "en": "textbooks resources online subscription publisher",
        "fr": "manuels ressources ligne abonnement éditeur",
        "es": "libros recursos línea suscripción editorial",
    },
    "group4": {
        "en": "group project collaboration sciences day",
        "fr": "projet groupe collaboration sciences journée",
        "es": "proyecto grupo colaboración ciencias jornada",
    },
    "language": {
        "en": "language acquisition phases oral vocabulary",
        "fr": "acquisition langues phases oral vocabulaire",
        "es": "adquisición lenguas fases oral vocabulario",
    },
    "timetable": {
        "en": "timetable teaching hours scheduling periods",
        "fr": "emploi temps heures enseignement créneaux",
        "es": "horario horas docencia franjas periodos",
    },
    "portfolio": {
        "en": "portfolio upload deadline ecoursework sample",
        "fr": "portfolio téléversement date limite échantillon",
        "es": "portafolio carga fecha límite muestra",
    },
    "authorisation": {
        "en": "authorisation evaluation visit standards practices",
        "fr": "autorisation évaluation visite normes applications",
        "es": "autorización evaluación visita normas aplicaciones",
    },
}
# Themes never in the archive: /ask questions about them must not be shown "similar" questions,
# although they share subjects and classroom words with it.
HELD_OUT: dict[str, dict[str, str]] = {
    "safeguarding": {
        "en": "safeguarding child protection training policy disclosure",
        "fr": "protection enfance formation politique signalement",
        "es": "salvaguarda protección infancia formación política denuncia",
    },
    "budget": {
        "en": "budget purchase equipment funding invoice",
        "fr": "budget achat matériel financement facture",
        "es": "presupuesto compra material financiación factura",
    },
    "wellbeing": {
        "en": "wellbeing mindfulness anxiety counsellor sleep",
        "fr": "bien-être pleine conscience anxiété psychologue sommeil",
        "es": "bienestar atención plena ansiedad orientador sueño",
    },
    "sustainability": {
        "en": "sustainability recycling garden carbon footprint",
        "fr": "durabilité recyclage jardin carbone empreinte",
        "es": "sostenibilidad reciclaje huerto carbono huella",
    },
}
GENERIC = {
    "en": "students class teachers school year lesson unit course group ideas experience approach "
    "department colleagues time program",
    "fr": "élèves classe enseignants école année cours unité groupe idées expérience approche "
    "département collègues temps programme",
    "es": "alumnos clase profesores colegio año lección unidad curso grupo ideas experiencia enfoque "
    "departamento colegas tiempo programa",
}
OPENERS = {
    "en": [
        "How do you handle",
        "Does anyone have advice on",
        "What is the best way to organise",
        "Quick question about",
        "Has anyone dealt with",
        "Looking for help with",
    ],
    "fr": [
        "Comment gérez-vous",
        "Quelqu'un a-t-il des conseils sur",
        "Quelle est la meilleure façon d'organiser",
        "Petite question sur",
        "Je cherche de l'aide pour",
    ],
    "es": [
        "¿Cómo manejan",
        "¿Alguien tiene consejos sobre",
        "¿Cuál es la mejor manera de organizar",
        "Una pregunta sobre",
        "Busco ayuda con",
    ],
}
FILLERS = {
    "en": "the for in of with and our my this a to",
    "fr": "le la les pour dans de avec et notre mon ce des du",
    "es": "el la los las para en de con y nuestro mi este del",
}
RARE_SCALE = 200  # the most frequent rare word is in about 1 / RARE_SCALE of the texts
TAIL_WORDS = 30_000
SYLLABLES = [c + v for c in "bdkmnrstvz" for v in ("a", "e", "i", "o", "u", "é")]


@dataclass(frozen=True)
class Topic:
    subject: int
    theme: str


class Generator:
    """Questions and answers about topics; the same seed gives the same archive."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        tail_rng = random.Random(1234)  # the rare-word vocabulary is shared by every generator
        self.tail = [
            "".join(tail_rng.choice(SYLLABLES) for _ in range(tail_rng.randint(2, 4)))
            for _ in range(TAIL_WORDS)
        ]
        self.themes = sorted(THEMES)

    def topic(self, *, held_out: bool = False) -> Topic:
        return Topic(self.rng.randrange(20), self.rng.choice(sorted(HELD_OUT) if held_out else self.themes))

    def _rare(self) -> str:
        # Zipf-like tail (names, places, tools): the most frequent is in about 0.5% of questions,
        # most appear a handful of times.
        rank = int(RARE_SCALE * (self.rng.paretovariate(1.0) - 1.0))
        return self.tail[min(len(self.tail) - 1, rank)]

    def _words(self, topic: Topic, lang: str, topical: int, generic: int, rare: int) -> list[str]:
        rng = self.rng
        theme = {**THEMES, **HELD_OUT}[topic.theme][lang].split()
        words = rng.sample(theme, min(topical, len(theme)))
        words.append(SUBJECTS[lang].split()[topic.subject])
        words += rng.sample(GENERIC[lang].split(), generic)
        words += [self._rare() for _ in range(rare)]
        words += rng.sample(FILLERS[lang].split(), rng.randint(2, 5))
        rng.shuffle(words)
        return words

    def question(self, topic: Topic, lang: str | None = None) -> tuple[str, str]:
        rng = self.rng
        lang = lang or rng.choice(LANGS)
        words = self._words(topic, lang, rng.randint(2, 4), rng.randint(1, 3), rng.randint(0, 2))
        return lang, f"{rng.choice(OPENERS[lang])} {' '.join(words)}?"

    def answer(self, topic: Topic, lang: str) -> str:
        rng = self.rng
        words = self._words(topic, lang, rng.randint(1, 3), rng.randint(2, 5), rng.randint(0, 3))
        return " ".join(words).capitalize() + "."


# What members type into /qa-search: one to three words, accents or not, a few broad ones.
SEARCHES = [
    "IA moderation",
    "biologia",
    "evaluación interna",
    "sortie terrain",
    "extended essay supervisor",
    "chatgpt plagiarism",
    "école",
    "grade boundaries physics",
    "TOK exhibition",
    "mémoire",
    "salida campo autobús",
    "lab safety chemicals",
    "predicted grades",
    "students",
    "report cards comments",
    "ñandú",
    'NEAR( "IA" *',
]
FLOORS = (0.0, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7)
SWEEP_ASKS = 200
QUESTIONS: Table = Base.metadata.tables["questions"]
ANSWERS: Table = Base.metadata.tables["answers"]


def rows(count: int, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[Topic]]:
    """The archive: question rows (about 1% drafts), answer rows, and each question's topic."""
    gen = Generator(seed)
    start = datetime(2020, 1, 1, tzinfo=UTC)
    questions, answers, topics = [], [], []
    for i in range(1, count + 1):
        topic = gen.topic()
        lang, body = gen.question(topic)
        at = start + timedelta(minutes=30 * i)
        posted = gen.rng.random() > 0.01
        n_answers = gen.rng.choice((0, 1, 1, 2, 2, 3)) if posted else 0
        questions.append(
            {
                "id": i, "platform": "slack", "source_event_id": f"ev{i}", "asker_user_id": f"U{i % 5000}",
                "asker_name": "Someone", "asker_locale": lang, "text": body, "created_at": at,
                "channel": "C1" if posted else None, "thread_ref": f"{i}.0" if posted else None,
                "root_message_id": f"{i}.0" if posted else None,
                "permalink": f"https://ibedu.slack.com/archives/C1/p{i}" if posted else None,
                "language": lang, "waves_sent": 0,
                "solved_at": at + timedelta(hours=5) if n_answers and gen.rng.random() < 0.6 else None,
            }
        )  # fmt: skip
        for j in range(n_answers):
            answers.append(
                {
                    "question_id": i, "platform": "slack", "user_id": f"U{(i + j) % 5000}",
                    "message_id": f"{i}.{j + 1}", "text": gen.answer(topic, lang),
                    "created_at": at + timedelta(hours=j + 1),
                }
            )  # fmt: skip
        topics.append(topic)
    return questions, answers, topics


async def load(db: Database, questions: list[dict[str, Any]], answers: list[dict[str, Any]]) -> float:
    """Core executemany in transactions of 5,000 rows; the triggers index as they go."""
    start = time.perf_counter()
    for table, batch in ((QUESTIONS, questions), (ANSWERS, answers)):
        for i in range(0, len(batch), 5000):
            async with db.engine.begin() as conn:
                await conn.execute(insert(table), batch[i : i + 5000])
    if not db.is_sqlite:  # what autovacuum does after a bulk load (VACUUM cannot run in a transaction)
        async with db.engine.connect() as conn:
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await auto.execute(text("VACUUM ANALYZE questions, answers, qa_fts, qa_fts_questions"))
    return time.perf_counter() - start


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def timed(calls: list[Callable[[], Awaitable[Any]]]) -> tuple[list[float], list[Any]]:
    latencies, results = [], []
    for call in calls:
        t0 = time.perf_counter()
        results.append(await call())
        latencies.append((time.perf_counter() - t0) * 1000)
    return latencies, results


@dataclass
class Result:
    backend: str
    questions: int
    load_s: float
    similar_ms: list[float]
    shown: float  # share of new questions shown at least one similar question
    search_ms: list[float]
    search_total: float  # median hits of a search
    sweep: list[tuple[float, float, int, int, int, int, float]]


async def sweep(
    finder: QASearch, asks: list[tuple[Topic, str, str]], topics: list[Topic], langs: list[str]
) -> list[tuple[float, float, int, int, int, int, float]]:
    """Per floor: on-theme questions shown something, hits, hits on the same theme / topic /
    language, and questions on a theme the archive never saw that were shown something anyway."""
    saved = qa_search.SIMILAR_FLOOR
    table = []
    try:
        for floor in FLOORS:
            qa_search.SIMILAR_FLOOR = floor
            on = off = on_shown = off_shown = hits = theme = topic = lang = 0
            for ask_topic, ask_lang, body in asks[:SWEEP_ASKS]:
                found = await finder.similar(body)
                if ask_topic.theme in HELD_OUT:
                    off, off_shown = off + 1, off_shown + bool(found)
                    continue
                on, on_shown, hits = on + 1, on_shown + bool(found), hits + len(found)
                for hit in found:
                    other = topics[hit.question_id - 1]
                    theme += other.theme == ask_topic.theme
                    topic += other == ask_topic
                    lang += langs[hit.question_id - 1] == ask_lang
            table.append((floor, on_shown / on, hits, theme, topic, lang, off_shown / off))
    finally:
        qa_search.SIMILAR_FLOOR = saved
    return table


async def measure(backend: str, url: str, count: int, queries: int) -> Result:
    db = Database(url)
    try:
        await db.upgrade()
        questions, answers, topics = rows(count, seed=7)
        langs = [q["language"] for q in questions]
        load_s = await load(db, questions, answers)
        del questions, answers
        gc.collect()
        gc.freeze()  # the generated archive is the bench's own: its GC passes are not the search's
        finder = QASearch(db)
        gen = Generator(seed=99)  # new questions, never stored: 30% on a theme the archive never saw
        asks = []
        for i in range(queries):
            topic = gen.topic(held_out=i % 10 >= 7)
            lang, body = gen.question(topic)
            asks.append((topic, lang, body))
        await finder.similar(asks[0][2])  # a warm connection, as in a running bot
        similar_ms, similar_hits = await timed([partial(finder.similar, body) for _, _, body in asks])
        searches = [SEARCHES[i % len(SEARCHES)] for i in range(queries)]
        search_ms, found = await timed([partial(finder.search, terms) for terms in searches])
        shown = sum(bool(h) for h in similar_hits) / len(similar_hits)
        median_total = statistics.median(total for total, _ in found)
        table = await sweep(finder, asks, topics, langs)
        return Result(backend, count, load_s, similar_ms, shown, search_ms, median_total, table)
    finally:
        await db.dispose()


def percent(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"


def line(values: list[str]) -> str:
    return "| " + " | ".join(values) + " |"


def print_timings(r: Result) -> None:
    for name, samples, note in (
        ("similar()", r.similar_ms, f"{r.shown:.0%} of new questions shown similar ones"),
        ("search()", r.search_ms, f"median {r.search_total:,.0f} hits"),
    ):
        p50, p95, p99 = statistics.median(samples), pct(samples, 0.95), pct(samples, 0.99)
        values = [r.backend, f"{r.questions:,}", f"{r.load_s:.0f}", name, f"{p50:.2f}", f"{p95:.2f}"]
        print(line([*values, f"{p99:.2f}", f"{max(samples):.1f}", note]))


def print_sweep(r: Result) -> None:
    for floor, shown, hits, theme, topic, lang, wrong in r.sweep:
        mark = " (chosen)" if floor == qa_search.SIMILAR_FLOOR else ""
        values = [r.backend, f"{floor:.2f}{mark}", f"{shown:.0%}", str(hits), percent(theme, hits)]
        print(line([*values, percent(topic, hits), percent(lang, hits), f"{wrong:.0%}"]))


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--backends", default="sqlite,postgres")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        async for backend, url in database_urls(args.backends, Path(folder), "qa"):
            results.append(await measure(backend, url, args.questions, args.queries))
    print(f"Q&A search: {args.queries} calls each (ms; load in s, through the index triggers)")
    print(line(["backend", "questions", "load s", "call", "p50", "p95", "p99", "max", "note"]))
    print("|" + "---|" * 9)
    for r in results:
        print_timings(r)
    print()
    print(
        f"similar() floor sweep, {SWEEP_ASKS} new questions: 70% on a theme the archive has (shown "
        "something; of the hits, the same theme / subject and theme / language), 30% on a theme it "
        "never saw (shown something, wrongly)"
    )
    head = ["backend", "floor", "on-theme shown", "hits", "same theme", "same topic", "same language"]
    print(line([*head, "new-theme shown"]))
    print("|" + "---|" * 8)
    for r in results:
        print_sweep(r)


if __name__ == "__main__":
    asyncio.run(main())
