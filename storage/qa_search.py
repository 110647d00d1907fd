"""Find past questions and their answers by words, in English, French and Spanish.

The index (migration 0004, kept in sync by triggers) has two views of the archive. Each thread (a
question's text plus all its answers) is one document for `search`, which ANDs words over the whole
thread ("IA moderation" finds a question about the IA whose answer speaks of moderation) and weighs
the question text above answers. The question texts alone feed `similar`. Case and accents never
matter: SQLite's FTS5 tokenizer folds them, and on PostgreSQL `qa_fts_fold` (no extension needed)
folds documents and queries alike.

User text never reaches a query language as syntax: it is split into words here (letters and
digits only) and each word is sent as a quoted string (FTS5) or a quoted lexeme (tsquery). Each
word also matches its simple plural or singular ("notes" finds "note", "profesor" finds
"profesores"), which covers most inflection in the three languages without a stemmer for each.

`similar` (the /ask flow) weighs the new question's meaningful words by rarity (inverse document
frequency, squared as in TF-IDF cosine) and keeps only earlier questions carrying enough of that
weight, so sharing a common word ("students", "DP") never makes an unrelated question look
similar. It scores in SQL with the same weights rather than with the index's own ranking: ranking
costs about 2 µs a row in FTS5 and must read every word's whole posting list, common ones
included. Only the "essential" rare words are looked up (MaxScore: a question without any of them
cannot reach the floor), and questions that cannot reach it are dropped before anything is read.
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Integer, String, Text, bindparam, column, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.selectable import TextualSelect

from storage.db import Database
from storage.types import UtcDateTime

INDEX_PREFIX = "qa_fts"

# `search` ranking. Every hit has all the words somewhere in its thread; relevance is the share of
# them in the question text itself, a word found only in the answers counting ANSWER_PART. Not
# bm25: its length normalisation would rank a thread below an unanswered one for having answers.
# Then at most +30% for solved and well-answered threads, so a closer match still wins ("slightly
# preferred"), and the newest first among equals.
ANSWER_PART = 0.3
SOLVED_BOOST = 0.15
ANSWER_BOOST = 0.05  # per answer, up to three
MAX_SEARCH_WORDS = 24  # more words add nothing but cost (think of a 5,000-character paste)
# A search matching more threads ranks only the newest of them (the count still covers all):
# ranking is per row, and a very broad search is better served by recent threads anyway.
RANK_WINDOW = 2000

# `similar`: an earlier question must carry at least SIMILAR_FLOOR of the new question's weight
# and share at least two of its words (one when it has a single one). See `python -m
# bench.qa_search` for the calibration (floor sweep: questions on a theme the archive never saw
# must get no hits, questions on a known theme should) and tests/test_qa_search.py for examples.
SIMILAR_FLOOR = 0.5
IDF_POWER = 2.0
MAX_SIMILAR_WORDS = 12
MAX_ESSENTIAL = 6
ESSENTIAL_ROWS = 3000  # past this many postings, stop adding essential words (only common ones left)
SIMILAR_CANDIDATES = 30
POSTGRES_COUNT_CAP = 200  # exact document frequency up to this; above it, the planner's statistics
# Frequencies of common words move slowly and are the costly ones to count: keep them a while.
CACHE_MIN_DF = 50
CACHE_MIN_TOTAL = 1000
CACHE_SECONDS = 300.0

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
aussi alors car bien autre autres ici lors non oui voudrais aimerais cherche savoir ca conseils
"""
_STOP_ES = """
a al algo alguien algun alguna algunas alguno algunos ante antes como con contra cual cuales
cuando de del desde donde dos el ella ellas ellos en entre era eran es esa esas ese eso esos esta
estan estar estas este esto estos estoy fue fueron ha han hay hasta la las le les lo los mas me
mi mis mucho muchos muy nada ni no nos nosotros o os otra otras otro otros para pero poco por
porque puede pueden puedo podria podrian que quien quienes se ser si sin sobre son su sus
tambien tanto te tener tengo tiene tienen todo todos tu tus un una uno unos y ya yo hola gracias
favor ayuda saber hacer hace quisiera busco usted ustedes consejos
"""
STOP_WORDS = frozenset((_STOP_EN + _STOP_FR + _STOP_ES).split())

_WORD = re.compile(r"[^\W_]+")
# Combining diacritical marks (the blocks that accent Latin, Greek and Cyrillic letters).
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(value: str) -> str:
    """Lower case without accents ("Biología" → "biologia"), as the index folds documents."""
    value = value.lower()
    if value.isascii():
        return value
    return unicodedata.normalize("NFC", _MARKS.sub("", unicodedata.normalize("NFD", value)))


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic autogenerate filter: the search index is built by migration 0004, not by the
    models, so comparing the models with the database must not see it (qa_fts* tables and
    indexes)."""
    return not (type_ in ("table", "index") and name is not None and name.startswith(INDEX_PREFIX))


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
    """One query word: `key` (folded) for stop words and scoring; `forms` go to the index (the
    word as typed in lower case, then its simple plural/singular forms)."""

    key: str
    forms: tuple[str, ...]
    folded: frozenset[str]  # the forms as the index stores them, to compare with a folded text


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
    """Distinct words of `value` in order, without stop words or single letters; `similar` also
    drops words under three letters (except IB acronyms), too vague to call questions similar."""
    found: dict[str, Word] = {}
    for raw in _WORD.findall(unicodedata.normalize("NFC", value).lower()):
        key = fold(raw)
        if key in found or key in STOP_WORDS:
            continue
        if (similar and len(key) < 3 and key not in SHORT_KEEP) or (len(key) < 2 and not key.isdigit()):
            continue
        forms = tuple(dict.fromkeys([raw, key, *_inflections(key)]))
        found[key] = Word(key, forms, frozenset(map(fold, forms)))
    return list(found.values())


def fts5_query(groups: Sequence[Sequence[str]], operator: str = "AND") -> str:
    """FTS5 query of quoted strings, where NEAR, AND, OR, *, :, ^ and parentheses are plain words:
    `("ia" OR "ias") AND ("notes" OR "note")`."""

    def quoted(form: str) -> str:
        return '"' + form.replace('"', '""') + '"'

    return f" {operator} ".join("(" + " OR ".join(map(quoted, forms)) + ")" for forms in groups)


def _lexeme(form: str) -> str:
    return "'" + form.replace("\\", "\\\\").replace("'", "''") + "'"


def tsquery_text(groups: Sequence[Sequence[str]], operator: str = "&", weight: str = "") -> str:
    """The same as to_tsquery input of quoted lexemes, `('ia' | 'ias') & ('notes' | 'note')`;
    with a weight, only lexemes of that weight match (A: the question text of a thread)."""
    suffix = f":{weight}" if weight else ""
    return f" {operator} ".join(
        "(" + " | ".join(_lexeme(f) + suffix for f in forms) + ")" for forms in groups
    )


def _boost(solved: bool, answers: int) -> float:
    return 1.0 + SOLVED_BOOST * solved + ANSWER_BOOST * min(answers, 3)


def idf(doc_freq: float, total: int) -> float:
    """BM25's inverse document frequency, kept positive (Lucene's form)."""
    return math.log(1.0 + (total - doc_freq + 0.5) / (doc_freq + 0.5))


def _typed(sql: str) -> TextualSelect:
    """A textual statement whose columns come back typed (created_at as an aware UTC datetime)."""
    return text(sql).columns(
        column("id", Integer),
        column("text", Text),
        column("permalink", String),
        column("solved", Boolean),
        column("n_answers", Integer),
        column("created_at", UtcDateTime),
        column("score", Float),
    )


_HIT = "q.id, q.text, q.permalink, q.solved_at IS NOT NULL AS solved"
_PG_BOOST = (
    f"(1.0 + {SOLVED_BOOST} * (q.solved_at IS NOT NULL)::int + {ANSWER_BOOST} * least(m.n_answers, 3))"
)
SQLITE_COUNT = """
SELECT count(*) FROM qa_fts CROSS JOIN questions q ON q.id = qa_fts.rowid
WHERE qa_fts MATCH :match AND q.root_message_id IS NOT NULL
"""  # CROSS JOIN: the FTS scan drives and each hit is looked up by id (the other order is slow)
SQLITE_CUTOFF = (
    "SELECT rowid FROM qa_fts WHERE qa_fts MATCH :match ORDER BY rowid DESC LIMIT 1 OFFSET :window"
)
SQLITE_THREADS = "SELECT rowid AS id, :base AS w FROM qa_fts WHERE qa_fts MATCH :match AND rowid > :cutoff"
SQLITE_IN_QUESTION = "SELECT rowid, :part AS w FROM qa_fts WHERE qa_fts MATCH :q{i} AND rowid > :cutoff"
_ANSWER_COUNT = "(SELECT count(*) FROM answers a WHERE a.question_id = q.id)"


def sqlite_search_sql(words: int) -> str:
    """Each hit once from the thread match (with every word counted as if only in the answers),
    then once more per word found in its question text, summed."""
    union = " UNION ALL ".join([SQLITE_THREADS, *(SQLITE_IN_QUESTION.format(i=i) for i in range(words))])
    boost = f"(1.0 + {SOLVED_BOOST} * c.solved + {ANSWER_BOOST} * min(c.n_answers, 3))"
    return f"""
SELECT c.id, c.text, c.permalink, c.solved, c.n_answers, c.created_at, c.s * {boost} AS score FROM (
    SELECT {_HIT}, {_ANSWER_COUNT} AS n_answers, q.created_at, m.s
    FROM (SELECT id, sum(w) AS s FROM ({union}) p GROUP BY id) m
    JOIN questions q ON q.id = m.id
    WHERE q.root_message_id IS NOT NULL) c
ORDER BY score DESC, c.id DESC
LIMIT :limit OFFSET :offset
"""


SQLITE_FREQS = "SELECT term, doc FROM qa_fts_vocab WHERE term IN :terms"
SQLITE_POSTINGS = "SELECT rowid AS id, :w{i} AS w FROM qa_fts_questions WHERE qa_fts_questions MATCH :m{i}"

_PG_QUERY = "to_tsquery('simple', qa_fts_fold(:match)) AS query"
# Hits minus drafts among them: joining every hit to its question would read the whole table.
POSTGRES_COUNT = f"""
SELECT (SELECT count(*) FROM qa_fts f CROSS JOIN {_PG_QUERY} WHERE f.document @@ query)
     - (SELECT count(*) FROM questions d JOIN qa_fts f ON f.question_id = d.id CROSS JOIN {_PG_QUERY}
        WHERE d.root_message_id IS NULL AND f.document @@ query)
"""
POSTGRES_CUTOFF = f"""
SELECT f.question_id FROM qa_fts f CROSS JOIN {_PG_QUERY} WHERE f.document @@ query
ORDER BY f.question_id DESC LIMIT 1 OFFSET :window
"""


def _pg_queries(names: Sequence[str]) -> str:
    """The tsqueries a statement uses, parsed once: a prepared statement's generic plan would
    otherwise parse each again for every row it tests."""
    parsed = ", ".join(f"to_tsquery('simple', qa_fts_fold(:{name})) AS {name}" for name in names)
    return f"WITH t AS MATERIALIZED (SELECT {parsed})"


def postgres_search_sql(words: int) -> str:
    """The same ranking as on SQLite; "in the question" is a weight-A lexeme of the thread."""
    names = [f"q{i}" for i in range(words)]
    in_question = " + ".join(f"(f.document @@ t.{n})::int * CAST(:part AS float8)" for n in names)
    return f"""
{_pg_queries(["match", *names])}
SELECT {_HIT}, m.n_answers, q.created_at, m.s * {_PG_BOOST} AS score
FROM (SELECT f.question_id AS id, f.n_answers, CAST(:base AS float8) + {in_question} AS s
      FROM t JOIN qa_fts f ON f.document @@ t.match
      WHERE f.question_id > :cutoff) m
JOIN questions q ON q.id = m.id
WHERE q.root_message_id IS NOT NULL
ORDER BY score DESC, q.id DESC
LIMIT :limit OFFSET :offset
"""


# The planner's statistics know the frequent lexemes (most_common_elems); rarer ones are counted
# exactly, which is cheap precisely because they are rare.
POSTGRES_COMMON = """
SELECT e.lexeme, e.freq
FROM pg_stats s
CROSS JOIN LATERAL unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs)
    AS e(lexeme, freq)
WHERE s.schemaname = current_schema() AND s.tablename = 'qa_fts_questions' AND s.attname = 'words'
"""
POSTGRES_RARE = (
    "(SELECT count(*) FROM (SELECT 1 FROM qa_fts_questions "
    "WHERE words @@ to_tsquery('simple', qa_fts_fold(:q{i})) "
    f"LIMIT {POSTGRES_COUNT_CAP}) s{{i}})"
)


_SIMILAR_HITS = f"""
SELECT {_HIT}, {_ANSWER_COUNT} AS n_answers, q.created_at, c.s AS score
FROM ({{candidates}}) c
JOIN questions q ON q.id = c.id
WHERE q.root_message_id IS NOT NULL AND q.id <> :exclude
"""


def sqlite_similar_sql(essentials: int) -> str:
    """Questions ranked by the summed weights of the essential words they contain (one posting
    scan per word); those that cannot reach the floor even with every other word are dropped."""
    union = " UNION ALL ".join(SQLITE_POSTINGS.format(i=i) for i in range(essentials))
    candidates = f"""SELECT id, sum(w) AS s FROM ({union}) p GROUP BY id HAVING sum(w) >= :least
      ORDER BY s DESC, id DESC LIMIT :limit"""
    return _SIMILAR_HITS.format(candidates=candidates)


def postgres_similar_sql(essentials: int) -> str:
    """The same from one index scan for any essential word, each question read once."""
    names = [f"m{i}" for i in range(essentials)]
    weights = " + ".join(f"(w.words @@ t.{n})::int * CAST(:w{i} AS float8)" for i, n in enumerate(names))
    candidates = f"""SELECT id, s FROM (
        SELECT w.question_id AS id, {weights} AS s FROM t JOIN qa_fts_questions w ON w.words @@ t.any) p
      WHERE s >= :least ORDER BY s DESC, id DESC LIMIT :limit"""
    return _pg_queries(["any", *names]) + _SIMILAR_HITS.format(candidates=candidates)


@dataclass(frozen=True)
class SimilarPlan:
    """What `similar` looks up: the essential words with their weights, and the weight they must
    bring at least (the rest of the words can add no more than the floor minus that)."""

    essentials: tuple[tuple[Word, float], ...]
    least: float


def plan_similar(
    kept: Sequence[Word], weights: dict[str, float], freqs: dict[str, float]
) -> SimilarPlan | None:
    """None when no earlier question can reach the floor: too few known words, or not enough of
    the weight (words nobody used yet weigh but cannot match)."""
    needed = SIMILAR_FLOOR * sum(weights.values())
    known = [w for w in kept if freqs[w.key] > 0]  # rarest, so heaviest, first
    rest = sum(weights[w.key] for w in known)
    if len(known) < min(2, len(kept)) or rest < needed:
        return None
    essentials: list[tuple[Word, float]] = []
    postings = 0.0
    for word in known:
        if rest < needed:
            break  # the remaining words together cannot reach the floor: one of these is needed
        if len(essentials) == MAX_ESSENTIAL or (essentials and postings + freqs[word.key] > ESSENTIAL_ROWS):
            break  # only common words left: settle for an approximation
        essentials.append((word, weights[word.key]))
        postings += freqs[word.key]
        rest -= weights[word.key]
    return SimilarPlan(tuple(essentials), needed - rest - 1e-9)


class QASearch:
    """Search over the Q&A archive. Keep one per process: it remembers the frequencies of common
    words for a few minutes."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._freq_cache: dict[str, tuple[float, float]] = {}
        self._total: tuple[int, float] = (0, 0.0)
        self._common: tuple[dict[str, float], float] = ({}, 0.0)

    async def search(self, terms: str, *, limit: int = 10, offset: int = 0) -> tuple[int, list[SearchHit]]:
        """Posted questions whose text or answers contain every word (AND), best first; returns
        (how many in all, this page). Empty or stop-word-only input finds nothing."""
        groups = [w.forms for w in split_words(terms)[:MAX_SEARCH_WORDS]]
        if not groups or limit <= 0:
            return 0, []
        offset = max(0, offset)
        sqlite = self._db.is_sqlite
        match = fts5_query(groups) if sqlite else tsquery_text(groups)
        params: dict[str, Any] = {
            "match": match,
            "base": ANSWER_PART,
            "part": (1.0 - ANSWER_PART) / len(groups),
            "limit": limit,
            "offset": offset,
        }
        for i, forms in enumerate(groups):
            in_question = f"({{question}} : {fts5_query([forms])}) AND ({match})"
            params[f"q{i}"] = in_question if sqlite else tsquery_text([forms], weight="a")
        # The newest `window` hits are ranked; older ones only counted.
        window = max(RANK_WINDOW, offset + limit)
        async with self._db.engine.connect() as conn:
            count = SQLITE_COUNT if sqlite else POSTGRES_COUNT
            total = int((await conn.execute(text(count), {"match": match})).scalar_one())
            params["cutoff"] = 0
            if total > window:
                cutoff = text(SQLITE_CUTOFF if sqlite else POSTGRES_CUTOFF)
                found = await conn.execute(cutoff, {"match": match, "window": window})
                params["cutoff"] = found.scalar_one_or_none() or 0
            page = sqlite_search_sql(len(groups)) if sqlite else postgres_search_sql(len(groups))
            rows = (await conn.execute(_typed(page), params)).all()
        return total, [_hit(r, float(r.score)) for r in rows]

    async def similar(self, text: str, *, limit: int = 3, exclude_id: int | None = None) -> list[SearchHit]:
        """Earlier posted questions like `text`, most similar first, above the relevance floor
        only: for a new topic the answer is an empty list."""
        words = split_words(text, similar=True)[: MAX_SIMILAR_WORDS * 3]
        if not words or limit <= 0:
            return []
        async with self._db.engine.connect() as conn:
            total, form_freqs = await self._frequencies(conn, [f for w in words for f in w.forms])
            freqs = {w.key: _word_freq(w, form_freqs) for w in words}
            # The rarest words say most about a question. Words nobody used yet (a typo, a new
            # topic) cannot match but still weigh: an earlier question sharing only "ideas" with
            # "ideas for a party?" must not look similar.
            kept = sorted(words, key=lambda w: freqs[w.key])[:MAX_SIMILAR_WORDS]
            weights = {w.key: idf(min(freqs[w.key], total), total) ** IDF_POWER for w in kept}
            plan = plan_similar(kept, weights, freqs)
            if plan is None:
                return []
            rows = (await conn.execute(*self._similar_statement(plan, form_freqs, exclude_id))).all()
        hits = []
        for row in rows:
            share, shared = coverage(kept, weights, row.text)
            if share >= SIMILAR_FLOOR and shared >= min(2, len(kept)):
                hits.append(_hit(row, share * _boost(bool(row.solved), row.n_answers)))
        return sorted(hits, key=lambda h: (-h.score, -h.question_id))[:limit]

    def _similar_statement(
        self, plan: SimilarPlan, form_freqs: dict[str, float], exclude_id: int | None
    ) -> tuple[TextualSelect, dict[str, Any]]:
        sqlite = self._db.is_sqlite
        params: dict[str, Any] = {
            "least": plan.least,
            "limit": SIMILAR_CANDIDATES,
            "exclude": -1 if exclude_id is None else exclude_id,
        }
        groups = []
        for i, (word, weight) in enumerate(plan.essentials):
            # The word as typed, and those of its other forms that occur at all.
            forms = [f for n, f in enumerate(word.forms) if n == 0 or form_freqs[f] > 0]
            groups.append(forms)
            params[f"m{i}"] = fts5_query([forms]) if sqlite else tsquery_text([forms])
            params[f"w{i}"] = weight
        if sqlite:
            return _typed(sqlite_similar_sql(len(groups))), params
        params["any"] = tsquery_text(groups, "|")
        return _typed(postgres_similar_sql(len(groups))), params

    async def _frequencies(self, conn: AsyncConnection, forms: Sequence[str]) -> tuple[int, dict[str, float]]:
        """(questions in the archive, in how many question texts each form occurs)."""
        now = time.monotonic()
        total, expires = self._total
        if expires <= now:
            total = int((await conn.execute(text("SELECT coalesce(max(id), 0) FROM questions"))).scalar_one())
            if total >= CACHE_MIN_TOTAL:  # only the weights use it: a few minutes old is fine
                self._total = (total, now + CACHE_SECONDS)
        keys = {f: fold(f) for f in forms}
        known = {k: hit[0] for k in set(keys.values()) if (hit := self._freq_cache.get(k)) and hit[1] > now}
        missing = sorted(set(keys.values()) - set(known))
        if missing:
            count = self._sqlite_frequencies if self._db.is_sqlite else self._postgres_frequencies
            for key, value in (await count(conn, missing, total)).items():
                known[key] = value
                if value >= CACHE_MIN_DF:
                    self._freq_cache[key] = (value, now + CACHE_SECONDS)
        return total, {f: known.get(keys[f], 0.0) for f in forms}

    async def _sqlite_frequencies(
        self, conn: AsyncConnection, keys: list[str], total: int
    ) -> dict[str, float]:
        stmt = text(SQLITE_FREQS).bindparams(bindparam("terms", expanding=True))
        counted = dict.fromkeys(keys, 0.0)
        for term, doc in (await conn.execute(stmt, {"terms": keys})).all():
            counted[term] = float(doc)
        return counted

    async def _postgres_frequencies(
        self, conn: AsyncConnection, keys: list[str], total: int
    ) -> dict[str, float]:
        """Common lexemes from the planner's statistics (read every few minutes: they change
        with ANALYZE only); the rest counted exactly, which is cheap because they are rare."""
        now = time.monotonic()
        common, expires = self._common
        if expires <= now:
            rows = (await conn.execute(text(POSTGRES_COMMON))).all()
            common = {lexeme: float(freq) for lexeme, freq in rows}
            self._common = (common, now + CACHE_SECONDS)
        found = {k: common[k] * total for k in keys if k in common}
        rare = [k for k in keys if k not in common]
        if rare:
            counts = ", ".join(POSTGRES_RARE.format(i=i) for i in range(len(rare)))
            params = {f"q{i}": _lexeme(k) for i, k in enumerate(rare)}
            row = (await conn.execute(text("SELECT " + counts), params)).one()
            found.update({k: float(n) for k, n in zip(rare, row, strict=True)})
        return found


def _hit(row: Any, score: float) -> SearchHit:
    return SearchHit(row.id, row.text, row.permalink, bool(row.solved), row.n_answers, row.created_at, score)


def _word_freq(word: Word, freqs: dict[str, float]) -> float:
    """A word's frequency: its forms' summed (each distinct folded form once)."""
    return sum({fold(f): freqs[f] for f in word.forms}.values())


def coverage(words: Iterable[Word], weights: dict[str, float], question: str) -> tuple[float, int]:
    """(share of the words' weight an earlier question's text carries, how many words it shares)."""
    present = set(_WORD.findall(fold(unicodedata.normalize("NFC", question))))
    covered = possible = 0.0
    shared = 0
    for word in words:
        weight = weights[word.key]
        possible += weight
        if not word.folded.isdisjoint(present):
            covered += weight
            shared += 1
    return (covered / possible if possible else 0.0), shared
