"""Find past questions and their answers by words, in English, French and Spanish.

The index (migration 0004) holds one document per question: its text plus all its answers, kept in
sync by triggers. So `search` ANDs words over a whole thread ("IA moderation" finds a question
about the IA whose answer speaks of moderation), and the question text weighs more than answers.
Case and accents never matter: SQLite's FTS5 tokenizer folds them, and on PostgreSQL
`qa_fts_fold` (no extension) folds documents and queries alike.

User text never reaches a query language as syntax: it is split into words here (letters and
digits only), and each word is sent as a quoted string (FTS5) or quoted lexeme (tsquery). Each
word also matches its simple plural or singular ("notes" finds "note", "profesor" finds
"profesores"), which covers most inflection in the three languages without a stemmer per language.

`similar` (the /ask flow) ORs the new question's rarest meaningful words, then keeps only earlier
questions that cover enough of those words' information (inverse document frequency weighted), so
a shared common word ("students", "DP") never makes an unrelated question look similar.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database
from storage.types import UtcDateTime

INDEX_PREFIX = "qa_fts"

# Ranking: relevance from the index, times at most +30% for solved and well-answered threads, so a
# better match still wins over a solved one ("slightly preferred").
SOLVED_BOOST = 0.15
ANSWER_BOOST = 0.05  # per answer, up to three
MAX_SEARCH_WORDS = 24  # more words than this add nothing but cost (and a 5,000-character paste)

# `similar`: a candidate must cover at least this share of the new question's information (IDF
# mass of its meaningful words; a word found only in the answers counts ANSWER_MATCH of a word found
# in the question text) and share at least two words (one when the new question has only one).
# Calibrated with `python -m bench.qa_search` (floor sweep) and the hand-written cases in
# tests/test_qa_search.py: unrelated questions sharing one or two common words stay below 0.2,
# rephrasings of the same question land above 0.45.
SIMILAR_FLOOR = 0.35
ANSWER_MATCH = 0.4
MAX_SIMILAR_WORDS = 12
SIMILAR_QUERY_WORDS = 8  # the rarest of them fetch candidates
SIMILAR_CANDIDATES = 30
POSTGRES_COUNT_CAP = 200  # exact document frequency up to this; above it, the planner's statistics

# IB acronyms that survive the "at least three letters" rule of `similar`.
SHORT_KEEP = frozenset({"ia", "ai", "ee", "dp", "pd", "cp", "pp", "io"})

_STOP_EN = """
a about above after again against all also am an and any anybody anyone anything are as at be
because been before being below best between both but by can cannot could did do does doing done
down during each else etc even ever every everyone few for from further get gets getting got had
has have having he hello help her here hers hey hi him his how i if in into is it its just know
less let like lot lots made make many me more most much my need needs no nor not now of off ok
okay on once one only or other our ours out over own please really same she should so some
somebody someone something still such than thank thanks that the their theirs them then there
these they thing things think this those through to too under until up us use used using very
want was way we well were what when where whether which while who whom why will with without
wonder wondering would yes yet you your yours advice tips tip
"""
_STOP_FR = """
a au aux avec ce ceci cela ces cet cette chez comme comment dans de des deja donc dont du elle
elles en encore entre est et etre ete eu eux faire fait faut il ils je la le les leur leurs lui
ma mais me meme mes moi mon ne ni nos notre nous on ont or ou par pas peu peut peuvent peux plus
pour pourquoi pourriez pouvez quand que quel quelle quelles quels qui quoi sa sans se ses si son
sont sous suis sur ta te tes toi ton tous tout toute toutes tres tu un une vers vos votre vous
avez avons avais avait etait etes sommes bonjour salut merci svp quelqu quelque quelques chose
aussi alors car bien autre autres ici lors non oui voudrais aimerais cherche savoir ca
"""
_STOP_ES = """
a al algo alguien algun alguna algunas alguno algunos ante antes como con contra cual cuales
cuando de del desde donde dos el ella ellas ellos en entre era eran es esa esas ese eso esos esta
estan estar estas este esto estos estoy fue fueron ha han hay hasta la las le les lo los mas me
mi mis mucho muchos muy nada ni no nos nosotros o os otra otras otro otros para pero poco por
porque puede pueden puedo podria podrian que quien quienes se ser si sin sobre son su sus
tambien tanto te tener tengo tiene tienen todo todos tu tus un una uno unos y ya yo hola gracias
favor ayuda saber hacer hace alguno quisiera busco alguien usted ustedes
"""
STOP_WORDS = frozenset((_STOP_EN + _STOP_FR + _STOP_ES).split())

_WORD = re.compile(r"[^\W_]+")


def fold(value: str) -> str:
    """Lower case without accents ("Biología" → "biologia"), as the index folds documents."""
    decomposed = unicodedata.normalize("NFD", value.lower())
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if unicodedata.category(c) != "Mn"))


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic autogenerate filter: the search index is built by migration 0004, not by the
    models, so the model comparison must not see it (tables named qa_fts*, with their indexes)."""
    return not (type_ == "table" and name is not None and name.startswith(INDEX_PREFIX))


@dataclass(frozen=True)
class SearchHit:
    question_id: int
    text: str
    permalink: str | None
    solved: bool
    answers: int
    created_at: datetime
    score: float  # higher is better; comparable within one result list


@dataclass(frozen=True)
class Word:
    """One query word: `key` (folded) for stop words and scoring, `forms` sent to the index (the
    word as typed, lower case, then its simple plural/singular forms)."""

    key: str
    forms: tuple[str, ...]


def _inflections(key: str) -> list[str]:
    """Simple plural/singular forms shared by English, French and Spanish (-s, -es, -ies/-y)."""
    if len(key) < 4 or not key.isalpha():
        return []
    forms = []
    if key.endswith("ies") and len(key) >= 5:
        forms.append(key[:-3] + "y")
    if key.endswith("es") and len(key) >= 6:
        forms.append(key[:-2])
    if key.endswith("s") and len(key) >= 5:
        forms.append(key[:-1])
    if not key.endswith(("s", "x", "z")):
        forms.append(key + "s")
        if key.endswith("y"):
            forms.append(key[:-1] + "ies")
        elif key[-1] not in "aeiou":
            forms.append(key + "es")
    return forms


def split_words(value: str, *, similar: bool = False) -> list[Word]:
    """Distinct words of `value` in order, without stop words; `similar` also drops words shorter
    than three letters (except IB acronyms) as too vague to show a question as similar."""
    found: dict[str, Word] = {}
    for raw in _WORD.findall(unicodedata.normalize("NFC", value).lower()):
        key = fold(raw)
        if key in found or key in STOP_WORDS:
            continue
        if similar and len(key) < 3 and key not in SHORT_KEEP:
            continue
        if len(key) < 2 and not key.isdigit():
            continue
        forms = dict.fromkeys([raw, key, *_inflections(key)])
        found[key] = Word(key, tuple(forms))
    return list(found.values())


def fts5_query(words: Sequence[Word], operator: str) -> str:
    """An FTS5 query of quoted strings: `("ia" OR "ias") AND ("notes" OR "note")`. Quoting makes
    NEAR, AND, *, :, ^ and parentheses plain words."""

    def quoted(form: str) -> str:
        return '"' + form.replace('"', '""') + '"'

    groups = ["(" + " OR ".join(quoted(f) for f in w.forms) + ")" for w in words]
    return f" {operator} ".join(groups)


def tsquery_text(words: Sequence[Word], operator: str) -> str:
    """to_tsquery input of quoted lexemes: `('ia' | 'ias') & ('notes' | 'note')`."""

    def quoted(form: str) -> str:
        return "'" + form.replace("\\", "\\\\").replace("'", "''") + "'"

    groups = ["(" + " | ".join(quoted(f) for f in w.forms) + ")" for w in words]
    return f" {operator} ".join(groups)


def _boost(solved: bool, answers: int) -> float:
    return 1.0 + SOLVED_BOOST * solved + ANSWER_BOOST * min(answers, 3)


def idf(doc_freq: float, total: int) -> float:
    """BM25's inverse document frequency, kept positive (Lucene's form)."""
    return math.log(1.0 + (total - doc_freq + 0.5) / (doc_freq + 0.5))


@dataclass(frozen=True)
class _Candidate:
    question_id: int
    text: str
    permalink: str | None
    solved: bool
    answers: int
    created_at: datetime
    answer_text: str


_HIT_COLUMNS = ("id", "text", "permalink", "solved", "n_answers", "created_at")


def _typed(sql: str) -> Any:
    """A textual statement whose created_at comes back as an aware UTC datetime."""
    from sqlalchemy import Integer, Text, column
    from sqlalchemy.types import Boolean, Float, String

    return text(sql).columns(
        column("id", Integer),
        column("text", Text),
        column("permalink", String),
        column("solved", Boolean),
        column("n_answers", Integer),
        column("created_at", UtcDateTime),
        column("score", Float),
        column("answer_text", Text),
    )


_SQLITE_WHERE = "qa_fts MATCH :match AND q.root_message_id IS NOT NULL"
_SQLITE_FROM = "qa_fts CROSS JOIN questions q ON q.id = qa_fts.rowid"  # FTS first, then by id
SQLITE_COUNT = f"SELECT count(*) FROM {_SQLITE_FROM} WHERE {_SQLITE_WHERE}"
SQLITE_PAGE = f"""
SELECT q.id, q.text, q.permalink, q.solved_at IS NOT NULL AS solved, qa_fts.n_answers AS n_answers,
       q.created_at,
       -qa_fts.rank * (1.0 + {SOLVED_BOOST} * (q.solved_at IS NOT NULL)
                       + {ANSWER_BOOST} * min(qa_fts.n_answers, 3)) AS score,
       '' AS answer_text
FROM {_SQLITE_FROM}
WHERE {_SQLITE_WHERE}
ORDER BY score DESC, q.id DESC
LIMIT :limit OFFSET :offset
"""
# Ranked and limited inside FTS5 first (milliseconds), joined after.
SQLITE_CANDIDATES = """
SELECT q.id, q.text, q.permalink, q.solved_at IS NOT NULL AS solved, f.n_answers AS n_answers,
       q.created_at, -f.rank AS score, f.answers AS answer_text
FROM (SELECT rowid AS id, n_answers, answers, rank FROM qa_fts
      WHERE qa_fts MATCH :match ORDER BY rank LIMIT :limit) f
CROSS JOIN questions q ON q.id = f.id
WHERE q.root_message_id IS NOT NULL AND q.id <> :exclude
ORDER BY f.rank
"""

_PG_FROM = """qa_fts f CROSS JOIN to_tsquery('simple', qa_fts_fold(:match)) AS query
JOIN questions q ON q.id = f.question_id"""
_PG_WHERE = "f.document @@ query AND q.root_message_id IS NOT NULL"
# ts_rank weights are {D, C, B, A}: answers (D) count a quarter of the question text (A).
_PG_RANK = "ts_rank('{0.25, 0.4, 0.6, 1.0}', f.document, query, 1)"
POSTGRES_COUNT = f"SELECT count(*) FROM {_PG_FROM} WHERE {_PG_WHERE}"
POSTGRES_PAGE = f"""
SELECT q.id, q.text, q.permalink, q.solved_at IS NOT NULL AS solved, f.n_answers, q.created_at,
       {_PG_RANK} * (1.0 + {SOLVED_BOOST} * (q.solved_at IS NOT NULL)::int
                     + {ANSWER_BOOST} * least(f.n_answers, 3)) AS score,
       '' AS answer_text
FROM {_PG_FROM}
WHERE {_PG_WHERE}
ORDER BY score DESC, q.id DESC
LIMIT :limit OFFSET :offset
"""
POSTGRES_CANDIDATES = f"""
SELECT c.*, (SELECT string_agg(a.text, E'\\n') FROM answers a WHERE a.question_id = c.id) AS answer_text
FROM (SELECT q.id, q.text, q.permalink, q.solved_at IS NOT NULL AS solved, f.n_answers, q.created_at,
             {_PG_RANK} AS score
      FROM {_PG_FROM}
      WHERE {_PG_WHERE} AND q.id <> :exclude
      ORDER BY score DESC, q.id DESC
      LIMIT :limit) c
ORDER BY c.score DESC, c.id DESC
"""
# Document frequencies: the planner's statistics know the common lexemes (most_common_elems);
# rarer ones are counted exactly (cheap, since they are rare) up to POSTGRES_COUNT_CAP.
POSTGRES_COMMON = """
SELECT e.lexeme, e.freq
FROM pg_stats s
CROSS JOIN LATERAL unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs)
    AS e(lexeme, freq)
WHERE s.schemaname = current_schema() AND s.tablename = 'qa_fts' AND s.attname = 'document'
  AND e.lexeme IN :lexemes
"""


class QASearch:
    """Search over the Q&A archive; one instance per database, safe to share."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def search(self, terms: str, *, limit: int = 10, offset: int = 0) -> tuple[int, list[SearchHit]]:
        """Posted questions whose text or answers contain every word (AND), best first; returns
        (how many in all, this page). Empty or stop-word-only input finds nothing."""
        words = split_words(terms)[:MAX_SEARCH_WORDS]
        if not words or limit <= 0:
            return 0, []
        page = {"limit": limit, "offset": max(0, offset)}
        async with self._db.engine.connect() as conn:
            if self._db.is_sqlite:
                match = fts5_query(words, "AND")
                total = (await conn.execute(text(SQLITE_COUNT), {"match": match})).scalar_one()
                rows = (await conn.execute(_typed(SQLITE_PAGE), {"match": match, **page})).all()
            else:
                match = tsquery_text(words, "&")
                total = (await conn.execute(text(POSTGRES_COUNT), {"match": match})).scalar_one()
                rows = (await conn.execute(_typed(POSTGRES_PAGE), {"match": match, **page})).all()
        return int(total), [
            SearchHit(r.id, r.text, r.permalink, bool(r.solved), r.n_answers, r.created_at, float(r.score))
            for r in rows
        ]

    async def similar(self, text: str, *, limit: int = 3, exclude_id: int | None = None) -> list[SearchHit]:
        """Earlier posted questions like `text`, most similar first; only those above the relevance
        floor, so an empty list is the common answer for a new topic."""
        words = split_words(text, similar=True)[: MAX_SIMILAR_WORDS * 3]
        if not words or limit <= 0:
            return []
        async with self._db.engine.connect() as conn:
            total, freqs = await self._doc_freqs(conn, words)
            # Rarest first (stable: ties keep the text's order). Words nobody used yet (a typo, a
            # new topic) cannot fetch anything but still weigh: an earlier question sharing only
            # "ideas" with "ideas for a party?" must not look similar.
            kept = sorted(words, key=lambda w: freqs[w.key])[:MAX_SIMILAR_WORDS]
            known = [w for w in kept if freqs[w.key] > 0]
            if not known:
                return []
            weights = {w.key: idf(freqs[w.key], total) for w in kept}
            candidates = await self._candidates(conn, known[:SIMILAR_QUERY_WORDS], exclude_id)
        return rank_similar(kept, weights, candidates)[:limit]

    async def _doc_freqs(self, conn: AsyncConnection, words: Sequence[Word]) -> tuple[int, dict[str, float]]:
        """(documents in the index, how many contain each word in any of its forms)."""
        total = (await conn.execute(text("SELECT coalesce(max(id), 0) FROM questions"))).scalar_one()
        if self._db.is_sqlite:
            keys = sorted({fold(f) for w in words for f in w.forms})
            stmt = text("SELECT term, doc FROM qa_fts_vocab WHERE term IN :terms").bindparams(
                bindparam("terms", expanding=True)
            )
            found = {t: int(d) for t, d in (await conn.execute(stmt, {"terms": keys})).all()}
            freqs = {w.key: float(sum(found.get(k, 0) for k in {fold(f) for f in w.forms})) for w in words}
        else:
            freqs = await conn.run_sync(_postgres_doc_freqs, words, int(total))
        return int(total), {k: min(v, float(total)) for k, v in freqs.items()}

    async def _candidates(
        self, conn: AsyncConnection, words: Sequence[Word], exclude_id: int | None
    ) -> list[_Candidate]:
        params = {"limit": SIMILAR_CANDIDATES, "exclude": -1 if exclude_id is None else exclude_id}
        if self._db.is_sqlite:
            stmt, params["match"] = _typed(SQLITE_CANDIDATES), fts5_query(words, "OR")
            params["limit"] += 5  # room for drafts and the excluded question, filtered after ranking
        else:
            stmt, params["match"] = _typed(POSTGRES_CANDIDATES), tsquery_text(words, "|")
        rows = (await conn.execute(stmt, params)).all()
        return [
            _Candidate(r.id, r.text, r.permalink, bool(r.solved), r.n_answers, r.created_at, r.answer_text or "")
            for r in rows
        ]


def _postgres_doc_freqs(conn: Connection, words: Sequence[Word], total: int) -> dict[str, float]:
    forms = sorted({f for w in words for f in w.forms})
    lexemes = dict(
        conn.execute(text("SELECT f, qa_fts_fold(f) FROM unnest(CAST(:forms AS text[])) AS f"), {"forms": forms})
        .tuples()
        .all()
    )
    common: dict[str, float] = {}
    if lexemes:
        stmt = text(POSTGRES_COMMON).bindparams(bindparam("lexemes", expanding=True))
        for lexeme, freq in conn.execute(stmt, {"lexemes": sorted(set(lexemes.values()))}).tuples():
            common[lexeme] = float(freq) * total
    rare = sorted({lexemes[f] for f in forms if lexemes[f] not in common})
    counted: dict[str, float] = {}
    if rare:
        parts = [
            f"(SELECT count(*) FROM (SELECT 1 FROM qa_fts WHERE document @@ "
            f"to_tsquery('simple', :q{i}) LIMIT {POSTGRES_COUNT_CAP}) s{i})"
            for i in range(len(rare))
        ]
        quoted = {f"q{i}": "'" + lex.replace("\\", "\\\\").replace("'", "''") + "'" for i, lex in enumerate(rare)}
        row = conn.execute(text("SELECT " + ", ".join(parts)), quoted).one()
        counted = {lex: float(n) for lex, n in zip(rare, row, strict=True)}
    by_lexeme = {**counted, **common}
    return {w.key: sum(by_lexeme.get(lex, 0.0) for lex in {lexemes[f] for f in w.forms}) for w in words}


def _keys(value: str) -> set[str]:
    return {fold(w) for w in _WORD.findall(unicodedata.normalize("NFC", value).lower())}


def coverage(words: Iterable[Word], weights: dict[str, float], question: str, answers: str) -> tuple[float, int]:
    """(share of the words' IDF mass a candidate covers, how many words it shares). A word in the
    question text counts fully, one only in its answers counts ANSWER_MATCH."""
    in_question, in_answers = _keys(question), _keys(answers)
    covered = possible = 0.0
    shared = 0
    for word in words:
        forms = {fold(f) for f in word.forms}
        weight = weights[word.key]
        possible += weight
        if forms & in_question:
            covered += weight
            shared += 1
        elif forms & in_answers:
            covered += ANSWER_MATCH * weight
            shared += 1
    return (covered / possible if possible else 0.0), shared


def rank_similar(
    words: Sequence[Word], weights: dict[str, float], candidates: Iterable[_Candidate]
) -> list[SearchHit]:
    """Candidates above the floor, scored by coverage times the solved/answered boost."""
    needed = min(2, len(words))
    hits = []
    for c in candidates:
        share, shared = coverage(words, weights, c.text, c.answer_text)
        if share >= SIMILAR_FLOOR and shared >= needed:
            score = share * _boost(c.solved, c.answers)
            hits.append(SearchHit(c.question_id, c.text, c.permalink, c.solved, c.answers, c.created_at, score))
    hits.sort(key=lambda h: (-h.score, -h.question_id))
    return hits
