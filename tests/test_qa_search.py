"""Q&A search on SQLite and PostgreSQL: words in three languages, threads, ranking, hostile input,
similar questions for /ask, and an index that follows every write (triggers), plus /qa-search."""

from __future__ import annotations

import importlib
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import delete, text, update
from sqlalchemy.engine import Connection

from adapters.console.port import ConsolePort
from adapters.console.session import ConsoleSession
from adapters.runtime import Runtime
from bot.events import Actor, Platform
from bot.handlers.qa_search import QA_SEARCH
from storage.db import Database
from storage.migrate import alembic_config
from storage.models import Answer, Base, Question
from storage.qa_search import QASearch, fts5_query, include_name, split_words, tsquery_text
from storage.questions import NewQuestion, QuestionRepository

NOW = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)


class Archive:
    """Posts questions as /ask would (stored, then given a thread), with answers and solutions."""

    def __init__(self, db: Database) -> None:
        self.questions = QuestionRepository(db)
        self.count = 0

    async def ask(
        self, body: str, *, answers: tuple[str, ...] = (), solved: bool = False, posted: bool = True
    ) -> int:
        self.count += 1
        n = self.count
        at = NOW + timedelta(days=n)
        question, _ = await self.questions.create(NewQuestion("slack", f"ev{n}", "U1", "Ana", "en", body, at))
        if posted:
            await self.questions.attach_thread(
                question.id,
                channel="C1",
                thread_ref=f"{n}.0",
                root_message_id=f"{n}.0",
                permalink=f"https://x/{n}",
            )
        answer_id = None
        for i, reply in enumerate(answers, 1):
            answer, _ = await self.questions.add_answer(
                question.id, platform="slack", user_id=f"U{i + 1}", message_id=f"{n}.{i}", text=reply,
                at=at + timedelta(hours=i),
            )  # fmt: skip
            answer_id = answer.id if answer else answer_id
        if solved:
            await self.questions.mark_solved(question.id, answer_id, at + timedelta(days=1))
        return question.id


async def ids(finder: QASearch, terms: str, **page: int) -> list[int]:
    return [hit.question_id for hit in (await finder.search(terms, **page))[1]]


async def test_accents_and_case_never_matter_in_three_languages(db: Database) -> None:
    archive, finder = Archive(db), QASearch(db)
    es = await archive.ask("¿Cómo organizan la moderación del IA de Biología?")
    fr = await archive.ask("Comment préparer l'évaluation interne à l'École ?")
    en = await archive.ask("GRADING the Extended Essay: how strict are you?")
    plain = await archive.ask("Sortie a l'ecole sans accents")
    assert await ids(finder, "biologia") == [es]
    assert await ids(finder, "BIOLOGÍA moderacion") == [es]
    assert set(await ids(finder, "ecole")) == {fr, plain}
    assert set(await ids(finder, "ÉCOLE")) == {fr, plain}
    assert await ids(finder, "évaluation INTERNE") == [fr]
    assert await ids(finder, "extended essay grading") == [en]
    assert await ids(finder, "Évaluation interne biología") == []  # every word is required
    total, hits = await finder.search("biologia")
    assert total == 1 and hits[0].text.startswith("¿Cómo") and hits[0].permalink == "https://x/1"
    assert hits[0].created_at == NOW + timedelta(days=1) and hits[0].created_at.tzinfo is not None


async def test_words_may_be_in_the_answers_and_every_word_is_required(db: Database) -> None:
    archive, finder = Archive(db), QASearch(db)
    thread = await archive.ask("Any tips for the IA?", answers=("We send moderation samples in March.",))
    other = await archive.ask("IA in chemistry: how long should it be?")
    assert await ids(finder, "IA moderation") == [thread]
    assert await ids(finder, "moderation") == [thread]
    assert await ids(finder, "sample") == [thread]  # singular finds the plural
    assert set(await ids(finder, "ia")) == {thread, other}
    assert await ids(finder, "IA chemistry") == [other]
    assert await ids(finder, "moderation chemistry") == []


async def test_closer_matches_come_first_and_solved_well_answered_threads_are_preferred(db: Database) -> None:
    archive, finder = Archive(db), QASearch(db)
    in_answers = await archive.ask("Question about the IA", answers=("Moderation happens in May.",))
    in_question = await archive.ask("IA moderation: when are samples due?")
    total, hits = await finder.search("IA moderation")
    assert total == 2 and [h.question_id for h in hits] == [in_question, in_answers]
    assert hits[0].score > hits[1].score

    plain = await archive.ask("Lab safety goggles policy for practicals?")
    solved = await archive.ask(
        "Lab safety goggles policy for practicals?",
        answers=("Ours are on the wall.", "Same here."),
        solved=True,
    )
    answered = await archive.ask("Lab safety goggles policy for practicals?", answers=("We lend them.",))
    total, hits = await finder.search("goggles safety")
    assert [h.question_id for h in hits] == [solved, answered, plain]
    assert [(h.solved, h.answers) for h in hits] == [(True, 2), (False, 1), (False, 0)]
    similar = await finder.similar("What is your lab safety policy on goggles during practicals?")
    assert [h.question_id for h in similar] == [solved, answered, plain]


async def test_drafts_never_show_and_pages_cover_every_hit_once(db: Database) -> None:
    archive, finder = Archive(db), QASearch(db)
    draft = await archive.ask("Moderation samples for the IA: a draft waiting for its asker", posted=False)
    posted = [await archive.ask(f"Moderation question number {i}") for i in range(23)]
    total, first = await finder.search("moderation", limit=10)
    assert total == 23 and len(first) == 10
    seen = [
        h.question_id for offset in (0, 10, 20) for h in (await finder.search("moderation", offset=offset))[1]
    ]
    assert sorted(seen) == posted and draft not in seen
    assert await finder.search("moderation", offset=30) == (23, [])
    assert await finder.search("draft asker") == (0, [])
    assert await finder.similar("Moderation samples for the IA: a draft waiting for its asker") == []


HOSTILE = [
    '"',
    '"IA" *',
    "*",
    "NEAR(",
    "NEAR(ia moderation, 2)",
    "OR",
    "AND OR NOT",
    "ia OR",
    "(((",
    "ia)",
    "^ia",
    "ia:*",
    "{question} : ia",
    "question:ia",
    "ia & | ! <-> moderation",
    "'ia':A",
    "ia\\",
    "l'IA d'abord",
    "-ia",
    "😀🎉 ia 🚀",
    "\x00ia\x1f",
    "x" * 5000,
    "moderation " * 700,
]


@pytest.mark.parametrize("operator", ["search", "similar"])
async def test_hostile_input_is_only_ever_words(db: Database, operator: str) -> None:
    archive, finder = Archive(db), QASearch(db)
    ia = await archive.ask("IA moderation samples", answers=('She said "NEAR(x)" OR * AND: fine',))
    for terms in HOSTILE:
        if operator == "search":
            total, hits = await finder.search(terms)
            assert total == len(hits) <= 1, terms
        else:
            assert len(await finder.similar(terms)) <= 1, terms
    assert await ids(finder, '"IA" *') == [ia]
    assert await ids(finder, "NEAR(ia moderation") == [ia]  # "near" is a word of the answer
    assert await ids(finder, "NEAR(ia moderation, 2)") == []  # and so is "2", which it lacks
    assert await ids(finder, "😀🎉 ia 🚀") == [ia]


async def test_empty_and_stop_word_only_input_find_nothing(db: Database) -> None:
    archive, finder = Archive(db), QASearch(db)
    await archive.ask("The IA and the EE: what are they?")
    for terms in ("", "   ", "the and of", "de la les", "que el para", "?!", "😀"):
        assert await finder.search(terms) == (0, []), terms
        assert await finder.similar(terms) == [], terms
    assert await finder.search("ia", limit=0) == (0, [])


CORPUS = [
    ("How do you organise IA moderation samples for DP Biology?", ("We upload them to IBIS.",), True),
    ("¿Cómo organizan la moderación de las muestras del IA de Biología?", (), False),
    ("Comment préparer la sortie scolaire : autorisation des parents et assurance ?", (), False),
    ("Field trip permission slips and risk assessment for MYP geography", (), False),
    ("Extended essay supervisor meetings: how many per student?", (), False),
    ("Mémoire (EE) : combien de rencontres avec le superviseur ?", (), False),
    ("Lab safety rules for chemistry practicals with fume cupboards", (), False),
    ("Normas de seguridad en el laboratorio de química", (), False),
    ("Using ChatGPT detection for plagiarism in TOK essays", (), False),
    ("Timetable: how many teaching hours for DP Maths AA HL?", (), False),
    ("Grade boundaries for the May session in physics", (), False),
    ("Students' motivation in the final year of DP", (), False),
]


async def test_similar_shows_rephrasings_in_each_language_and_nothing_unrelated(db: Database) -> None:
    archive, finder = Archive(db), QASearch(db)
    q = [await archive.ask(body, answers=answers, solved=solved) for body, answers, solved in CORPUS]
    draft = await archive.ask(
        "What is the best way to organise the IA moderation samples in biology?", posted=False
    )

    hits = await finder.similar(
        "What is the best way to organise the IA moderation samples in biology?", exclude_id=draft
    )
    assert [h.question_id for h in hits] == [q[0]]
    assert hits[0].solved and hits[0].answers == 1 and hits[0].permalink == "https://x/1"
    es = await finder.similar("Moderación del IA de biología: ¿cuándo se envían las muestras?")
    assert [h.question_id for h in es] == [q[1]]
    fr = await finder.similar("Sortie scolaire : quelle autorisation demander aux parents ?")
    assert [h.question_id for h in fr] == [q[2]]
    assert [h.question_id for h in await finder.similar("How many meetings with the EE supervisor?")] == [
        q[4]
    ]
    assert [h.question_id for h in await finder.similar("Grade boundaries physics May")] == [q[10]]
    assert await finder.similar("Grade boundaries physics May", exclude_id=q[10]) == []

    # Sharing a word or two with several questions is not being similar to any of them.
    for unrelated in (
        "Chemistry timetable for MYP students",
        "Which spreadsheet do you use for the library budget?",
        "Ideas for a school garden project with MYP students?",
        "Biology teacher wanted for a maternity cover",
        "Any tips for a party?",
    ):
        assert await finder.similar(unrelated) == [], unrelated
    assert len(await finder.similar("IA moderation biology samples organise", limit=1)) == 1
    assert await finder.similar("IA moderation biology samples organise", limit=0) == []


async def test_the_index_follows_edits_and_deletions(db: Database) -> None:
    archive, finder = Archive(db), QASearch(db)
    kept = await archive.ask("Mock exams timetable", answers=("We use the gym.", "Ours are online."))
    gone = await archive.ask("Exam invigilation rota")
    async with db.engine.begin() as conn:
        await conn.execute(update(Question).where(Question.id == kept).values(text="Mock exams calendar"))
        await conn.execute(
            update(Answer).where(Answer.message_id == "1.1").values(text="We use the library.")
        )
        await conn.execute(delete(Answer).where(Answer.message_id == "1.2"))
        await conn.execute(delete(Question).where(Question.id == gone))
    assert await ids(finder, "timetable") == []
    assert await ids(finder, "calendar") == [kept]
    assert await ids(finder, "mock library") == [kept]
    assert await ids(finder, "gym") == [] and await ids(finder, "online") == []
    assert (await finder.search("calendar"))[1][0].answers == 1
    assert await ids(finder, "invigilation") == []
    assert [h.question_id for h in await finder.similar("When is the mock exams calendar?")] == [kept]
    if db.is_sqlite:  # the external-content index was told exactly what it had indexed
        async with db.engine.begin() as conn:
            for table in ("qa_fts", "qa_fts_questions"):
                await conn.execute(text(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')"))


def _search_objects(conn: Connection) -> list[str]:
    if conn.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE name LIKE 'qa_fts%'"
    else:
        sql = (
            "SELECT relname FROM pg_class WHERE relname LIKE 'qa_fts%' "
            "UNION ALL SELECT proname FROM pg_proc WHERE proname LIKE 'qa_fts%' "
            "UNION ALL SELECT tgname FROM pg_trigger WHERE tgname LIKE 'qa_fts%'"
        )
    return sorted(conn.execute(text(sql)).scalars())


async def test_downgrade_drops_the_index_and_upgrade_backfills_it(db: Database) -> None:
    archive, finder = Archive(db), QASearch(db)
    await archive.ask("Biología: prácticas de laboratorio", answers=("Usamos gafas de seguridad.",))
    async with db.engine.begin() as conn:
        assert len(await conn.run_sync(_search_objects)) > 5
        await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "0003"))
        assert await conn.run_sync(_search_objects) == []
    await archive.ask("Biología: salida de campo")  # written while there is no index
    await db.upgrade()
    assert len(await ids(finder, "biologia")) == 2
    assert await ids(finder, "gafas") == [1]
    assert [h.question_id for h in await finder.similar("Prácticas de laboratorio de biología")] == [1]


async def test_older_postgresql_servers_fold_accents_the_same_way(db: Database) -> None:
    """Without normalize() (before PostgreSQL 13, or outside UTF-8) the migration folds with a
    translate() table; both must agree on what members write."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL only")
    migration = importlib.import_module("storage.migrations.versions.0004_qa_search")
    samples = [
        "Biología ÉCOLE Ñandú",
        "Évaluation interne à l'École",
        "e\u0301cole",
        "Ça Ü ç ÿ Ş ẞ ø",
        "IA 3.5",
    ]
    async with db.engine.begin() as conn:
        body = migration.fold_sql(False)
        await conn.execute(
            text(f"CREATE FUNCTION pg_temp.old_fold(t text) RETURNS text LANGUAGE sql AS $$ SELECT {body} $$")
        )
        for sample in samples:
            row = (
                await conn.execute(text("SELECT qa_fts_fold(:s), pg_temp.old_fold(:s)"), {"s": sample})
            ).one()
            assert row[0] == row[1], sample


async def test_the_models_match_the_migrations_apart_from_the_search_index(db: Database) -> None:
    """What tests/test_storage.py checks once it passes `include_name` (see storage.qa_search)."""

    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        return list(compare_metadata(context, Base.metadata))

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


def test_queries_are_built_from_quoted_words_only() -> None:
    words = split_words('NEAR("IA" OR notes*) AND {x}: ^biología \\ ñandú')
    assert [w.key for w in words] == ["near", "ia", "notes", "biologia", "nandu"]
    assert fts5_query([w.forms for w in words[1:3]]) == '("ia") AND ("notes" OR "note")'
    assert (
        tsquery_text([w.forms for w in words[3:]])
        == "('biología' | 'biologia' | 'biologias') & ('ñandú' | 'nandu' | 'nandus')"
    )
    assert split_words("profesor evaluaciones activity")[0].forms == ("profesor", "profesors", "profesores")
    assert "evaluacion" in split_words("evaluaciones")[0].forms
    assert "activities" in split_words("activity")[0].forms
    assert [w.key for w in split_words("IA EE de la ab xyz", similar=True)] == ["ia", "ee", "xyz"]


async def test_qa_search_lists_hits_with_links_state_and_date(runtime: Runtime) -> None:
    runtime.dispatcher.commands["qa-search"] = QA_SEARCH
    port = ConsolePort()
    runtime.attach(port)
    session = ConsoleSession(runtime, port, out=lambda _: None)
    session.actor = Actor(Platform.CONSOLE, "ana", "Ana", "en", "Europe/Madrid")
    archive = Archive(runtime.db)
    await archive.ask(
        "¿Cómo organizan la moderación del IA de Biología? @everyone", answers=("Así.",), solved=True
    )
    await archive.ask("IA de biología: plazos", answers=("Marzo.", "Abril."))
    await archive.ask("IA de biología: borrador", posted=False)

    reply = await session.command("qa-search", "biologia ia")
    lines = reply.text.splitlines()
    assert lines[0] == "2 earlier questions match 'biologia ia':"
    assert lines[1] == (
        "• ¿Cómo organizan la moderación del IA de Biología? @\u200beveryone <https://x/1>"
        " · ✅ solved · Mar 11, 2026"
    )  # the mass mention is defused, the thread linked, the date in the reader's language
    assert lines[2] == "• IA de biología: plazos <https://x/2> · 2 answers · Mar 12, 2026"
    assert reply.ephemeral and len(lines) == 3

    nothing = await session.command("qa-search", "astrophysics")
    assert nothing.text == (
        "No earlier question matches 'astrophysics'. Ask the network: /ask followed by your question."
    )
    usage = await session.command("qa-search", "")
    assert "/qa-search" in usage.text

    many = Archive(runtime.db)
    many.count = 10
    for i in range(12):
        await many.ask(f"Timetable question {i}")
    page = await session.command("qa-search", "timetable")
    assert (
        page.text.splitlines()[0]
        == "12 earlier questions match 'timetable' (the best 10 first; add words to narrow it):"
    )
    assert len(page.text.splitlines()) == 11
