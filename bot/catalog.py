"""The IBEN catalogue: roles, programmes, subjects and languages, and how loosely typed text maps to them.

Educators type "bio", "biologie", "biología", "maths AA", "examinateur physique PD" or "coordinador PAI";
the directory needs stable ids ("biology", "math-aa", "examiner", "dp", "myp"). The data lives in
``bot/data/catalogue.toml``; this module loads it once and answers three questions:

* ``Catalogue.resolve(kind, text)``: one value of a known kind (a form field, a CSV cell);
* ``Catalogue.resolve_many(kind, text)``: a ``;``/``,``-separated list of values of one kind;
* ``Catalogue.parse(text)``: free text with any mix of kinds, in English, French or Spanish.

Normalisation (identical for the data and for what people type): case-folded; NFKD with combining marks
removed, so accents do not matter; "&" becomes "and"; every other character that is not a letter, digit or
mark (``: , . / - _ '`` …) separates words; whitespace collapses. "Biología" and "BIOLOGIA" are one key.

``parse`` algorithm:

1. Tokenise the normalised text, remembering where each word was in the original.
2. Exact pass, left to right: at each word try the n-grams that start there, longest first (up to the
   longest key in the data, which is longer than six words for a few French and Spanish names), against
   the exact index of ids, names and aliases of every kind. Stop words are still present at this point,
   so "theory of knowledge", "language and literature", "head of school" and "examinateur principal"
   match whole, and "principal examiner" beats "principal" (head of school) by being longer.
3. A word no n-gram covers is dropped if it is a stop word (en/fr/es articles, prepositions,
   conjunctions) or a filler that carries no catalogue meaning ("IB", "SL", "HL", "teacher" …); else it
   is left over.
4. Fuzzy pass over each run of left-over words (stop words inside a run are kept, so "teoria del
   conocimento" can match as a whole). First the run is tried together with an adjacent exact match
   ("principle examiner" is a typo of "principal examiner", not head of school + examiner), then on
   its own, longest phrase first. A phrase is compared (``rapidfuzz``, OSA edit distance: insert,
   delete, substitute, swap adjacent letters) with the normalised names and aliases that have as many
   words and at least ``FUZZY_MIN_LENGTH`` characters. Short aliases ("cs", "aa", "pe") only ever
   match exactly: fuzzy matching over them once sent "phsyics" to Computer science. The edit budget
   grows with length (``allowed_edits``: 4 characters → only a swap, 5-10 → 1, 11-16 → 2, more → 3,
   counted on the shorter of the two strings), and words under 8 characters must keep their first
   letter. This accepts "phsyics", "chemestry", "examinor", "workshop leadr", "psycology", "biologi",
   "muisc" and rejects "physical" (physics), "tarts" (arts), "hutch" (Dutch); over the 480,000 words
   of the Debian en/fr/es word lists, about 0.2% reach a term, mostly plurals and feminines of it.
   When two different terms are equally close, neither is taken.
5. Whatever is still left over becomes an ``Unknown`` (adjacent words merge into one), with up to three
   suggestions ranked by ``fuzz.ratio`` at ``FUZZY_SUGGEST`` or above (by prefix for words under four
   characters). Words listed under ``not_terms`` in the data (country names such as "France") are
   never fuzzy-matched, so "examiner in France" keeps "France" as unknown rather than French.

Deliberate decisions (see also the header of catalogue.toml):

* A bare language name ("spanish", "español", "espagnol") is a LANGUAGE; language-specific courses need
  their suffix ("Spanish A", "Spanish B", "French ab initio").
* Two-letter ISO codes ("en", "de", "es", "it") resolve through ``resolve("language", …)`` and
  ``resolve_many`` only: in free text they are ordinary words ("de", "en" and "el" are stop words).
* "DP coordinator" is two terms (the programme and the role); there is no alias that swallows the
  programme. The PYP subject areas are the exception: "PYP maths"/"Mathematics (PYP)" is the single
  subject ``pyp-mathematics``, because that term's name contains the programme.
* Level markers SL/HL and fillers such as "IB" or "teacher" are ignored (``FILLER_WORDS``).
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any, Literal, NamedTuple

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.i18n import normalize_locale

Kind = Literal["role", "programme", "subject", "language"]
KINDS: tuple[Kind, ...] = ("role", "programme", "subject", "language")
NAME_LOCALES: tuple[str, ...] = ("en", "fr", "es")
PROGRAMME_IDS: tuple[str, ...] = ("pyp", "myp", "dp", "cp")

#: Words that join other words. Dropped only after the exact pass, so multi-word names keep them.
STOP_WORDS: frozenset[str] = frozenset(
    {
        # the common core, en/fr/es
        "a", "an", "the", "in", "for", "of", "and", "or", "with", "who", "is",
        "de", "du", "des", "la", "le", "les", "en", "pour", "et", "ou",
        "el", "los", "las", "para", "y", "o", "con", "un", "una", "une", "que", "qui", "quien",
        # elisions and contractions that tokenising leaves behind ("d'atelier", "l'exercice", "del")
        "d", "l", "al", "del", "au", "aux", "at", "on", "to", "by", "from", "about", "as", "any",
        "some", "someone", "anyone", "are", "est", "es", "sur", "dans", "avec", "por", "sobre",
    }
)  # fmt: skip

#: Words that carry no catalogue meaning in a directory query ("IB biology HL teacher").
FILLER_WORDS: frozenset[str] = frozenset(
    {
        "ib", "sl", "hl", "level", "levels", "teacher", "teachers", "educator", "educators",
        "enseignant", "enseignante", "enseignants", "professeur", "professeure", "professeurs",
        "profesor", "profesora", "profesores", "docente", "docentes", "looking", "need", "needs",
        "find", "search", "searching", "want", "please", "hello", "hi", "thanks", "busco", "buscando",
        "necesito", "cherche", "recherche", "besoin", "j", "ai", "je", "i", "we", "nous", "me", "my", "mi",
        "mon", "ma",
    }
)  # fmt: skip

SKIP_WORDS: frozenset[str] = STOP_WORDS | FILLER_WORDS

#: Fuzzy matching only considers keys (and typed phrases) at least this long: short aliases are exact-only.
FUZZY_MIN_LENGTH = 4
#: Below this length a typo must keep its first letter ("hutch" is not "dutch").
FUZZY_SAME_START_BELOW = 8
#: Lower bar (``fuzz.ratio``, 0-100) for "did you mean" suggestions.
FUZZY_SUGGEST = 60.0
MAX_SUGGESTIONS = 3
#: Longest typed phrase tried in the fuzzy pass.
MAX_FUZZY_WORDS = 6
#: Words of a query beyond this are ignored: chat queries are short, and this bounds the fuzzy work.
MAX_QUERY_WORDS = 200

# Letters, digits and the combining marks of the scripts in the catalogue (Latin accents, Hebrew and
# Arabic points, Indic vowel signs, Thai marks …), so "हिन्दी" or a decomposed "é" stay one word.
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed"
    "\u0900-\u0dff\u0e31-\u0e3a\u0e47-\u0e4e\u0eb1-\u0ebc\u0ec8-\u0ecd\u1ab0-\u1aff\u1dc0-\u1dff"
    "\u20d0-\u20ff\u302a-\u302f\u3099\u309a\ufe00-\ufe0f\ufe20-\ufe2f"
)
_WORD_RE = re.compile(rf"(?:[^\W_]|[{_MARKS}])+|&")
_LIST_SEPARATORS = re.compile(r"[;\n]")
_LIST_BREAK = re.compile(r"[,;\n|]")
_MAX_COMMAS_IN_NAME = 5
_LOCALE_TAG = re.compile(r"^\s*([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})+\s*$")


@dataclass(frozen=True)
class Term:
    """One catalogue entry. Identity is (kind, id): the rest is data about it."""

    kind: Kind
    id: str
    names: Mapping[str, str] = field(compare=False, repr=False)
    aliases: tuple[str, ...] = field(default=(), compare=False, repr=False)
    group: str | None = field(default=None, compare=False, repr=False)
    programmes: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def name(self, locale: str) -> str:
        """The display name in a supported locale ("fr-FR" → French); English otherwise."""
        return self.names.get(normalize_locale(locale)) or self.names.get("en") or self.id


@dataclass(frozen=True)
class Resolution:
    """The answer to "which term of this kind did they mean?"."""

    term: Term | None
    suggestions: tuple[Term, ...] = ()
    exact: bool = False


@dataclass(frozen=True)
class Unknown:
    """Words that matched nothing, kept as typed so the bot can quote them back."""

    text: str
    suggestions: tuple[Term, ...] = ()


@dataclass(frozen=True)
class ParsedQuery:
    """Terms recognised in free text, by kind, in the order they were typed."""

    roles: tuple[Term, ...] = ()
    programmes: tuple[Term, ...] = ()
    subjects: tuple[Term, ...] = ()
    languages: tuple[Term, ...] = ()
    unknown: tuple[Unknown, ...] = ()

    @property
    def empty(self) -> bool:
        """Nothing recognised and nothing unknown: the text held only stop words or punctuation."""
        return not (self.roles or self.programmes or self.subjects or self.languages or self.unknown)


# --------------------------------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def _normalize_word(raw: str) -> tuple[str, ...]:
    """One typed word → its normalised word(s); compatibility forms can split ("½" → "1", "2")."""
    if raw == "&":
        return ("and",)
    text = raw
    for _ in range(4):  # to a fixed point: case-folding and decomposition can each expose the other's input
        folded = "".join(
            ch for ch in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(ch)
        )
        if folded == text:
            break
        text = folded
    return tuple(word if word != "&" else "and" for word in _WORD_RE.findall(text))


class _Word(NamedTuple):
    norm: str
    start: int
    end: int


def _words(text: str) -> list[_Word]:
    """Normalised words with their span in the original text."""
    out: list[_Word] = []
    for match in _WORD_RE.finditer(text):
        for norm in _normalize_word(match.group()):
            out.append(_Word(norm, match.start(), match.end()))
    return out


def normalize(text: str) -> str:
    """The matching key for a piece of text: what ids, names, aliases and typed text are compared as."""
    return " ".join(word.norm for word in _words(text))


# --------------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------------


def _unique(terms: Iterable[Term]) -> list[Term]:
    seen: set[Term] = set()
    out: list[Term] = []
    for term in terms:
        if term not in seen:
            seen.add(term)
            out.append(term)
    return out


def allowed_edits(length: int) -> int:
    """Typos tolerated in a phrase of this many characters (OSA: insert, delete, substitute, swap).

    Four characters: none except one swap of adjacent letters ("ecno" → "econ"); 5-10: one
    ("phsyics", "chemestry", "examinor", "psycology"); 11-16: two; longer: three.
    """
    if length < 5:
        return 0
    if length <= 10:
        return 1
    if length <= 16:
        return 2
    return 3


def is_typo_of(typed: str, key: str, distance: int) -> bool:
    """Whether ``typed`` is close enough to ``key`` (their OSA distance given) to be a typo of it.

    The budget follows the shorter of the two, so a five-letter word is never a typo of a four-letter
    key ("tarts" ≠ "arts"), and short words must keep their first letter.
    """
    length = min(len(typed), len(key))
    if length < FUZZY_MIN_LENGTH:
        return False
    if distance == 0:
        return True
    if length < FUZZY_SAME_START_BELOW and typed[0] != key[0]:
        return False
    if length < 5:
        return distance == 1 and len(typed) == len(key) and sorted(typed) == sorted(key)
    return distance <= allowed_edits(length)


class _Index:
    """Exact and fuzzy lookup over one set of keys (all kinds for parse, one kind for resolve)."""

    def __init__(self, keyed: Iterable[tuple[str, Term]], blocked: frozenset[str] = frozenset()) -> None:
        #: words never fuzzy-matched (country names one letter away from a language name …)
        self.blocked = blocked
        exact: dict[str, list[Term]] = {}
        for key, term in keyed:
            bucket = exact.setdefault(key, [])
            if term not in bucket:
                bucket.append(term)
        self.exact: dict[str, tuple[Term, ...]] = {key: tuple(terms) for key, terms in exact.items()}
        lengths: dict[str, set[int]] = {}
        for key in self.exact:
            words = key.split(" ")
            lengths.setdefault(words[0], set()).add(len(words))
        #: first word → the n-gram lengths worth trying from it, longest first
        self.lengths: dict[str, tuple[int, ...]] = {
            first: tuple(sorted(ns, reverse=True)) for first, ns in lengths.items()
        }
        by_words: dict[int, list[str]] = {}
        for key in self.exact:
            if len(key) >= FUZZY_MIN_LENGTH:
                by_words.setdefault(key.count(" ") + 1, []).append(key)
        self.fuzzy: dict[int, list[str]] = by_words
        self.fuzzy_all: list[str] = [key for keys in by_words.values() for key in keys]
        self.sorted_keys: list[str] = sorted(self.exact)

    # -- exact ----------------------------------------------------------------------------------

    def longest_at(self, norms: Sequence[str], i: int) -> tuple[int, tuple[Term, ...]]:
        """The longest exact key starting at word i: (number of words, terms), or (0, ())."""
        for n in self.lengths.get(norms[i], ()):
            if i + n <= len(norms):
                terms = self.exact.get(" ".join(norms[i : i + n]))
                if terms:
                    return n, terms
        return 0, ()

    # -- fuzzy ----------------------------------------------------------------------------------

    def _scored(self, phrase: str, choices: list[str], cutoff: float, limit: int) -> list[tuple[str, float]]:
        if len(phrase) < FUZZY_MIN_LENGTH or not choices:
            return []
        found = process.extract(
            phrase, choices, scorer=fuzz.ratio, processor=None, score_cutoff=cutoff, limit=limit
        )
        return [(choice, float(score)) for choice, score, _ in found]

    def fuzzy_match(self, phrase: str, n_words: int) -> tuple[Term, ...] | None:
        """A confident typo match for an n-word phrase, or None (no match, or two terms equally close)."""
        if len(phrase) < FUZZY_MIN_LENGTH:
            return None
        choices = self.fuzzy.get(n_words)
        if not choices:
            return None
        found = process.extract(
            phrase,
            choices,
            scorer=OSA.distance,
            processor=None,
            score_cutoff=max(1, allowed_edits(len(phrase))),
            limit=8,
        )
        close = [(int(dist), key) for key, dist, _ in found if is_typo_of(phrase, key, int(dist))]
        if not close:
            return None
        best_dist = min(dist for dist, _ in close)
        winners = {self.exact[key] for dist, key in close if dist == best_dist}
        return winners.pop() if len(winners) == 1 else None

    def suggest(self, phrase: str, words: Sequence[str] = ()) -> tuple[Term, ...]:
        """Up to three "did you mean" terms for a phrase (and, failing that, its words)."""
        ranked: list[tuple[float, int, Term]] = []
        order = 0
        probes = [phrase, *(w for w in words if w != phrase)]
        for probe in probes:
            if len(probe) >= FUZZY_MIN_LENGTH:
                for key, score in self._scored(probe, self.fuzzy_all, FUZZY_SUGGEST, limit=12):
                    for term in self.exact[key]:
                        ranked.append((score, order, term))
                        order += 1
            elif len(probe) >= 2 and probe not in SKIP_WORDS:
                for key in self._prefixed(probe):
                    for term in self.exact[key]:
                        ranked.append((FUZZY_SUGGEST - 1, order, term))
                        order += 1
        ranked.sort(key=lambda item: (-item[0], item[1]))
        return tuple(_unique(term for _, _, term in ranked)[:MAX_SUGGESTIONS])

    def _prefixed(self, prefix: str) -> Iterator[str]:
        """Keys starting with a short typed word ("phy" → "physics", "physique" …), few of them."""
        start = bisect_left(self.sorted_keys, prefix)
        for key in self.sorted_keys[start : start + 8]:
            if not key.startswith(prefix):
                break
            if key != prefix:
                yield key

    # -- scanning -------------------------------------------------------------------------------

    def scan(self, text: str) -> tuple[list[Term], list[Unknown]]:
        """The parse algorithm of the module docstring, over this index's keys."""
        return _Scan(self, text).run()


_MATCHED, _SKIP, _LEFT = 0, 1, 2


class _Scan:
    """State of one scan: each word is matched, skipped (stop word) or left over for the fuzzy pass."""

    def __init__(self, index: _Index, text: str) -> None:
        self.index = index
        self.text = text
        self.words = _words(text)[:MAX_QUERY_WORDS]
        self.norms = [w.norm for w in self.words]
        self.status = [_SKIP] * len(self.words)
        self.spans: dict[int, tuple[int, tuple[Term, ...]]] = {}  # start → (end, terms)
        self.unknown_at = [False] * len(self.words)

    def run(self) -> tuple[list[Term], list[Unknown]]:
        self._exact_pass()
        for run in self._runs():
            self._fuzzy_run(run)
        ordered = sorted(self.spans.items())
        return _unique(term for _, (_, terms) in ordered for term in terms), self._unknowns()

    def _exact_pass(self) -> None:
        """Longest exact n-gram at each word, left to right; unmatched non-stop words are left over."""
        i = 0
        while i < len(self.norms):
            n, terms = self.index.longest_at(self.norms, i)
            if n:
                self._match(i, i + n, terms)
                i += n
                continue
            if self.norms[i] not in SKIP_WORDS:
                self.status[i] = _LEFT
            i += 1

    def _match(self, start: int, end: int, terms: tuple[Term, ...]) -> None:
        self.spans[start] = (end, terms)
        self.status[start:end] = [_MATCHED] * (end - start)

    def _runs(self) -> list[list[int]]:
        """Stretches of left-over words between matches; stop words inside kept, at the edges not."""
        runs: list[list[int]] = []
        run: list[int] = []
        for i, state in enumerate(self.status):
            if state == _LEFT or (state == _SKIP and run):
                run.append(i)
            elif state == _MATCHED and run:
                runs.append(run)
                run = []
        if run:
            runs.append(run)
        for run in runs:
            while self.status[run[-1]] != _LEFT:
                run.pop()
        return runs

    def _phrase(self, positions: Sequence[int]) -> tuple[str, int] | None:
        """The normalised phrase at these positions and its word count, if fuzzy matching may try it."""
        if len(positions) > MAX_FUZZY_WORDS:
            return None
        norms = [self.norms[p] for p in positions]
        if any(norm in self.index.blocked for norm in norms):
            return None
        return " ".join(norms), len(norms)

    def _try(self, positions: Sequence[int]) -> tuple[Term, ...] | None:
        phrase = self._phrase(positions)
        return self.index.fuzzy_match(*phrase) if phrase else None

    def _neighbour(self, position: int, step: int) -> int | None:
        """Start of the matched span next to position (stop words between allowed), looking left or right."""
        p = position + step
        while 0 <= p < len(self.status) and self.status[p] == _SKIP:
            p += step
        if not (0 <= p < len(self.status)) or self.status[p] != _MATCHED:
            return None
        if step > 0:
            return p if p in self.spans else None
        return next((start for start, (end, _) in self.spans.items() if end == p + 1), None)

    def _fuzzy_run(self, run: list[int]) -> None:
        """Fuzzy-match one run, first together with a neighbouring exact match ("principle examiner"
        is one typo of a two-word name, not "principal" + "examiner"), then on its own."""
        left = self._neighbour(run[0], -1)
        right = self._neighbour(run[-1], +1)
        left_words = list(range(left, run[0])) if left is not None else []
        right_words = list(range(run[-1] + 1, self.spans[right][0])) if right is not None else []
        content = [k for k, p in enumerate(run) if self.status[p] == _LEFT]
        attempts: list[tuple[list[int], list[int]]] = []  # (positions, neighbour starts consumed)
        if left is not None and right is not None:
            attempts.append((left_words + run + right_words, [left, right]))
        if right is not None:
            attempts += [(run[k:] + right_words, [right]) for k in content]
        if left is not None:
            attempts += [(left_words + run[: k + 1], [left]) for k in reversed(content)]
        for positions, consumed in attempts:
            terms = self._try(positions)
            if terms:
                for start in consumed:
                    del self.spans[start]
                self._match(positions[0], positions[-1] + 1, terms)
                run = [p for p in run if p not in positions]
                break
        k = 0
        while k < len(run):
            if self.status[run[k]] != _LEFT:
                k += 1
                continue
            for n in range(min(MAX_FUZZY_WORDS, len(run) - k), 0, -1):
                positions = run[k : k + n]
                if self.status[positions[-1]] != _LEFT or positions[-1] - positions[0] != n - 1:
                    continue  # a phrase never ends on a stop word, nor jumps a match
                terms = self._try(positions)
                if terms:
                    self._match(positions[0], positions[-1] + 1, terms)
                    k += n
                    break
            else:
                self.unknown_at[run[k]] = True
                k += 1

    def _unknowns(self) -> list[Unknown]:
        """Adjacent unknown words (with any stop words between them) become one Unknown, up to a
        list separator."""
        words, unknown_at = self.words, self.unknown_at
        out: list[Unknown] = []
        i = 0
        while i < len(words):
            if not unknown_at[i]:
                i += 1
                continue
            last = i
            k = i + 1
            while k < len(words) and (unknown_at[k] or self.status[k] == _SKIP):
                if _LIST_BREAK.search(self.text, words[k - 1].end, words[k].start):
                    break  # "Zürich, Physcal" are two unknowns
                if unknown_at[k]:
                    last = k
                k += 1
            phrase = " ".join(w.norm for w in words[i : last + 1])
            content = [words[j].norm for j in range(i, last + 1) if unknown_at[j]]
            suggestions = self.index.suggest(phrase, content if len(content) > 1 else ())
            out.append(Unknown(self.text[words[i].start : words[last].end], suggestions))
            i = last + 1
        return out


# --------------------------------------------------------------------------------------------------
# The catalogue
# --------------------------------------------------------------------------------------------------


def _keys(term: Term, *, with_id: bool = True) -> Iterator[str]:
    """Every normalised key a term answers to."""
    if with_id:
        yield normalize(term.id)
    for locale in NAME_LOCALES:
        yield normalize(term.names[locale])
    for alias in term.aliases:
        yield normalize(alias)


class Catalogue:
    """The loaded catalogue with its lookup indexes. Immutable once built; share one instance."""

    def __init__(
        self,
        terms: Iterable[Term],
        subject_groups: Iterable[str] | None = None,
        not_terms: Iterable[str] = (),
    ) -> None:
        by_kind: dict[Kind, list[Term]] = {kind: [] for kind in KINDS}
        for term in terms:
            by_kind[term.kind].append(term)
        self._terms: dict[Kind, tuple[Term, ...]] = {kind: tuple(items) for kind, items in by_kind.items()}
        self._by_id: dict[Kind, dict[str, Term]] = {
            kind: {term.id: term for term in items} for kind, items in self._terms.items()
        }
        self._validate(subject_groups)
        blocked = frozenset(word for text in not_terms for word in normalize(text).split())
        self._kind_index: dict[Kind, _Index] = {
            kind: _Index(((key, term) for term in self._terms[kind] for key in _keys(term)), blocked)
            for kind in KINDS
        }
        # Free text: every kind at once, but not the two-letter language codes (they are common words).
        self._parse_index = _Index(
            (
                (key, term)
                for kind in KINDS
                for term in self._terms[kind]
                for key in _keys(term, with_id=kind != "language")
            ),
            blocked,
        )

    # -- loading --------------------------------------------------------------------------------

    @classmethod
    def default(cls) -> Catalogue:
        """The bundled catalogue (bot/data/catalogue.toml), loaded once per process."""
        return _default_catalogue()

    @classmethod
    def from_toml(cls, text: str) -> Catalogue:
        """Build a catalogue from TOML text shaped like bot/data/catalogue.toml; ValueError if invalid."""
        data = tomllib.loads(text)
        terms: list[Term] = []
        for kind in KINDS:
            for entry in data.get(kind, []):
                terms.append(_term_from_toml(kind, entry))
        groups = data.get("subject_groups")
        not_terms = data.get("not_terms", [])
        return cls(
            terms,
            [str(g) for g in groups] if isinstance(groups, list) else None,
            [str(w) for w in not_terms] if isinstance(not_terms, list) else (),
        )

    def _validate(self, subject_groups: Iterable[str] | None) -> None:
        problems: list[str] = []
        groups = set(subject_groups) if subject_groups is not None else None
        programme_ids = set(PROGRAMME_IDS) | set(self._by_id["programme"])
        for kind in KINDS:
            if len(self._by_id[kind]) != len(self._terms[kind]):
                ids = [t.id for t in self._terms[kind]]
                problems.append(f"duplicate {kind} ids: {sorted({i for i in ids if ids.count(i) > 1})}")
            owner: dict[str, Term] = {}
            for term in self._terms[kind]:
                if not term.id or term.id != term.id.strip().lower():
                    problems.append(f"{kind} id {term.id!r} must be non-empty lowercase")
                for locale in NAME_LOCALES:
                    if not term.names.get(locale, "").strip():
                        problems.append(f"{kind} {term.id}: missing {locale} name")
                for key in _keys(term):
                    if not key:
                        problems.append(f"{kind} {term.id}: a name or alias has no letters")
                    elif owner.setdefault(key, term) != term:
                        problems.append(f"{kind} key {key!r} means both {owner[key].id} and {term.id}")
                if kind == "subject":
                    if not term.group or (groups is not None and term.group not in groups):
                        problems.append(f"subject {term.id}: unknown group {term.group!r}")
                    if not term.programmes or not set(term.programmes) <= programme_ids:
                        problems.append(f"subject {term.id}: bad programmes {term.programmes!r}")
                if kind == "role" and term.group is not None and term.group not in self._by_id["role"]:
                    problems.append(f"role {term.id}: family {term.group!r} is not a role id")
        if problems:
            raise ValueError("invalid catalogue:\n  " + "\n  ".join(problems))

    # -- lookup ---------------------------------------------------------------------------------

    def terms(self, kind: Kind) -> tuple[Term, ...]:
        """All terms of a kind, in catalogue order."""
        return self._terms[kind]

    def get(self, kind: Kind, term_id: str) -> Term | None:
        """The term with this exact id (as stored: lowercase), or None."""
        return self._by_id[kind].get(term_id)

    def family(self, role_id: str) -> tuple[Term, ...]:
        """Roles in role_id's family, the family's own role first ("examiner" → examiner, moderator …)."""
        role = self.get("role", role_id)
        if role is None:
            return ()
        head = role.group or role.id
        members = [t for t in self._terms["role"] if (t.group or t.id) == head]
        members.sort(key=lambda t: t.id != head)
        return tuple(members)

    def in_group(self, group_id: str) -> tuple[Term, ...]:
        """Subjects in one subject group, in catalogue order."""
        return tuple(t for t in self._terms["subject"] if t.group == group_id)

    # -- resolution -----------------------------------------------------------------------------

    def resolve(self, kind: Kind, text: str) -> Resolution:
        """One value of a known kind: exact key, else one confident match in the text, else suggestions."""
        return self._resolve(kind, text)[0]

    def _resolve(self, kind: Kind, text: str) -> tuple[Resolution, list[Term], list[Unknown]]:
        """The resolution, plus every term of the kind found in the text and the words left unknown."""
        index = self._kind_index[kind]
        key = normalize(text)
        if not key:
            return Resolution(None, (), False), [], []
        exact = index.exact.get(key)
        if exact:
            return Resolution(exact[0], (), True), [exact[0]], []
        if kind == "language" and (tag := _LOCALE_TAG.match(text)):  # "fr-FR", "es_419"
            coded = index.exact.get(tag.group(1).lower())
            if coded:
                return Resolution(coded[0], (), False), [coded[0]], []
        found, unknown = index.scan(text)  # "IB Biology HL", "examinor", "examiner and moderator"
        if len(found) == 1 and not unknown:
            return Resolution(found[0], (), False), found, []
        suggestions = [*found, *(s for u in unknown for s in u.suggestions), *index.suggest(key)]
        return Resolution(None, tuple(_unique(suggestions)[:MAX_SUGGESTIONS]), False), found, unknown

    def resolve_many(self, kind: Kind, text: str) -> tuple[list[Term], list[Unknown]]:
        """A ";"/","-separated list of one kind ("examiner; workshop leader"), in order, without repeats.

        Commas that belong to a name ("Créativité, activité, service") are kept: the longest run of
        comma-separated parts that is an exact key wins before the parts are tried one by one. A part
        naming several terms ("examiner and moderator") gives them all; a part naming none is one Unknown.
        """
        index = self._kind_index[kind]
        terms: list[Term] = []
        unknowns: list[Unknown] = []
        for piece in _LIST_SEPARATORS.split(text):
            parts = piece.split(",")
            i = 0
            while i < len(parts):
                for j in range(min(len(parts), i + _MAX_COMMAS_IN_NAME + 1), i, -1):
                    hit = index.exact.get(normalize(",".join(parts[i:j])))
                    if hit:
                        terms.append(hit[0])
                        i = j
                        break
                else:
                    part = parts[i]
                    i += 1
                    resolution, found, unknown = self._resolve(kind, part)
                    if found:
                        terms.extend(found)
                        unknowns.extend(unknown)  # "Biology, Madrid HL" → Madrid
                    elif normalize(part):
                        unknowns.append(Unknown(part.strip(), resolution.suggestions))
        return _unique(terms), unknowns

    def parse(self, text: str) -> ParsedQuery:
        """Free text with any mix of kinds and languages → the terms it names, and what it did not."""
        found, unknown = self._parse_index.scan(text)
        by_kind: dict[Kind, list[Term]] = {kind: [] for kind in KINDS}
        for term in found:
            by_kind[term.kind].append(term)
        return ParsedQuery(
            roles=tuple(by_kind["role"]),
            programmes=tuple(by_kind["programme"]),
            subjects=tuple(by_kind["subject"]),
            languages=tuple(by_kind["language"]),
            unknown=tuple(unknown),
        )


def _term_from_toml(kind: Kind, entry: Mapping[str, Any]) -> Term:
    """One [[kind]] table → a Term; missing names surface as validation errors, not KeyErrors."""

    def strings(value: object) -> tuple[str, ...]:
        if isinstance(value, str):
            return (value,)
        if isinstance(value, list):
            return tuple(str(v) for v in value)
        return ()

    group = entry.get("group")
    return Term(
        kind=kind,
        id=str(entry.get("id", "")),
        names={locale: str(entry.get(locale, "")) for locale in NAME_LOCALES},
        aliases=strings(entry.get("aliases")),
        group=str(group) if group is not None else None,
        programmes=strings(entry.get("programmes")),
    )


@cache
def _default_catalogue() -> Catalogue:
    text = resources.files("bot").joinpath("data", "catalogue.toml").read_text(encoding="utf-8")
    return Catalogue.from_toml(text)


__all__ = [
    "KINDS",
    "Catalogue",
    "Kind",
    "ParsedQuery",
    "Resolution",
    "Term",
    "Unknown",
    "normalize",
]
