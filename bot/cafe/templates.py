"""World Café templates: what a café asks, round by round, in English, French and Spanish.

A template is one TOML file; its file name (without ``.toml``) is the template's id, e.g.
``coordinators-2024-04.toml`` is ``coordinators-2024-04``: lowercase letters, digits, ``-`` and ``_``.
The built-in templates live in ``bot/data/cafes`` (``builtin_dir()``); an admin's own folder is listed
after it in ``available()``, so an admin file with a built-in id replaces the built-in template, and a
broken admin file is skipped with a logged warning (the listing never fails because of one file).

Format
------
Text fields hold either one string (used in every language) or a table of translations: ``en``
(required), ``fr`` and ``es`` (optional; a missing translation falls back to English). Both spellings of
the table work::

    title.en = "Leading a culture of belonging"
    title.fr = "Diriger une culture d'appartenance"

    [welcome]
    en = \"\"\"Welcome! ...\"\"\"
    es = \"\"\"¡Bienvenidos! ...\"\"\"

Top-level keys (dotted keys such as ``title.en`` must come before the first ``[table]`` header):

=============================  =================================================================
``title``                      text, required: the café's name in listings
``welcome``                    text, required: the "starter" posted when the café opens (the
                               place to unpack the "backpack" of ideas)
``harvest``                    text, required: the closing harvest ("desserts") prompt
``takeout``                    text, required: the take-out prompt (a final round where every
                               participant writes what they take away)
``tables`` / ``per_table``     exactly one: a fixed number of tables (1-50), or people per table
                               (2-12) so the number of tables follows attendance
``backpack``                   optional: ``[[backpack]]`` items, each a text (ideas, quotes)
``breakouts``                  optional: ``[[breakouts]]`` items, each a text (programme groups)
``[routines.KEY]``             thinking routines: ``name`` and ``steps`` (texts); KEY is any
                               name the rounds refer to, e.g. ``[routines.see-think-wonder]``
``[[rounds]]``                 1 to 8 rounds, in order: ``question`` (text), ``routine`` (a KEY
                               of ``[routines]``) and ``minutes`` (whole number, 1-60)
=============================  =================================================================

Anything else is an error. ``load_template`` reports every problem of a file at once in a
``TemplateError``, one line each: ``FILE: WHERE: WHAT``, e.g.
``my-cafe.toml: [[rounds]] #2 minutes: expected a whole number of minutes from 1 to 60, got 90``
(rounds and list items are numbered from 1). A file that is not TOML at all, not UTF-8 or unreadable is
a ``TemplateError`` too (a UTF-8 byte-order mark is fine); nothing else is ever raised for a bad file.

Besides the fields every café needs, a ``Template`` view carries the optional ``backpack`` and
``breakouts`` texts (empty tuples when the file has none).
"""

from __future__ import annotations

import difflib
import logging
import math
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES, normalize_locale

log = logging.getLogger(__name__)

MAX_ROUNDS = 8
MINUTES_RANGE = (1, 60)
TABLES_RANGE = (1, 50)
PER_TABLE_RANGE = (2, 12)
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")

TEXT_KEYS = ("title", "welcome", "harvest", "takeout")
LIST_KEYS = ("backpack", "breakouts")
TOP_KEYS = (*TEXT_KEYS, "tables", "per_table", *LIST_KEYS, "routines", "rounds")
ROUND_KEYS = ("question", "routine", "minutes")
ROUTINE_KEYS = ("name", "steps")

Text = dict[str, str]  # language -> text; always has DEFAULT_LOCALE
Problem = Callable[[str, str], None]  # report(where, what)


@dataclass(frozen=True)
class Round:
    question: str
    routine: str  # routine name, e.g. "Feelings and Options"
    steps: str  # the routine's prompts, e.g. "Identify · Feel · Imagine · Say"
    minutes: int  # 1..60


@dataclass(frozen=True)
class Template:
    id: str
    title: str
    welcome: str
    rounds: tuple[Round, ...]  # 1..8
    tables: int | None  # exactly one of tables / per_table
    per_table: int | None
    harvest: str  # the closing harvest ("desserts") prompt
    takeout: str  # the take-out prompt
    locale: str  # which language this view is in
    source: str  # file path, for error messages
    backpack: tuple[str, ...] = ()  # ideas to unpack before the rounds (optional)
    breakouts: tuple[str, ...] = ()  # breakout groups after the café (optional)


class TemplateError(ValueError):
    """One line per problem: file, key, what is wrong (like the bot's config errors)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def builtin_dir() -> Path:
    """The folder of the templates that ship with the bot (``bot/data/cafes``)."""
    return Path(__file__).resolve().parent.parent / "data" / "cafes"


def load_template(path: Path, locale: str) -> Template:
    """Read and check one template file; the view is in `locale` (en, fr or es; English fallback).

    Raises TemplateError listing every problem; never any other exception for a bad file.
    """
    path = Path(path)
    source = str(path)
    try:
        data = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise TemplateError([f"{source}: file not found"]) from None
    except UnicodeDecodeError as exc:
        raise TemplateError([f"{source}: not UTF-8 text: {exc.reason} at byte {exc.start}"]) from None
    except OSError as exc:
        raise TemplateError([f"{source}: cannot read the file: {exc.strerror or exc}"]) from None
    try:
        raw = tomllib.loads(data)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError([f"{source}: not valid TOML: {exc}"]) from None
    except (RecursionError, MemoryError, ValueError, TypeError) as exc:  # pathological nesting or values
        raise TemplateError([f"{source}: not valid TOML: {type(exc).__name__}"]) from None
    return _build(raw, source=source, stem=path.stem, locale=normalize_locale(locale))


def available(dirs: Sequence[Path], locale: str) -> dict[str, Template]:
    """Every valid template in `dirs`, id -> template, sorted by id.

    Later folders override earlier ones (pass the built-in folder first, then the admin's own). A missing
    folder is ignored; a broken file is skipped with a warning that lists its problems.
    """
    found: dict[str, Template] = {}
    for directory in dirs:
        try:
            paths = sorted(p for p in Path(directory).glob("*.toml") if p.is_file())
        except OSError as exc:
            log.warning("World Café templates: cannot list %s: %s", directory, exc)
            continue
        for path in paths:
            try:
                template = load_template(path, locale)
            except TemplateError as exc:
                log.warning("World Café template skipped, fix these problems:\n%s", exc)
                continue
            if template.id in found:
                log.info(
                    "World Café template %s: %s replaces %s", template.id, path, found[template.id].source
                )
            found[template.id] = template
    return dict(sorted(found.items()))


def table_count(template: Template, participants: int) -> int:
    """How many tables for `participants` people.

    ``per_table``: ceil(n / per_table), at least 1. ``tables``: that number, but never more than n // 2,
    so no table has fewer than two people when that is possible (always at least 1).
    """
    n = max(0, participants)
    if template.per_table is not None:
        return max(1, math.ceil(n / template.per_table))
    tables = template.tables if template.tables is not None else 1
    return max(1, min(tables, n // 2))


# -- checking ---------------------------------------------------------------------------------------


def _build(raw: dict[str, Any], *, source: str, stem: str, locale: str) -> Template:
    problems: list[str] = []

    def problem(where: str, what: str) -> None:
        problems.append(f"{source}: {where}: {what}" if where else f"{source}: {what}")

    if not ID_PATTERN.fullmatch(stem):
        problem(
            "file name",
            f"template id {stem!r} must be lowercase letters, digits, '-' or '_' "
            "(at most 64, starting with a letter or digit), e.g. my-cafe-2025.toml",
        )
    for key in raw:
        if key not in TOP_KEYS:
            problem(key, f"unknown key{_suggest(key, TOP_KEYS)}")

    texts: dict[str, Text | None] = {}
    for key in TEXT_KEYS:
        if key not in raw:
            problem(key, "required (a text, or a table of translations en/fr/es)")
            texts[key] = None
        else:
            texts[key] = _text(raw[key], key, problem)

    lists: dict[str, list[Text]] = {}
    for key in LIST_KEYS:
        lists[key] = _text_list(raw.get(key, []), key, problem)

    tables, per_table = _seating(raw, problem)
    routines = _routines(raw.get("routines", {}), problem)
    rounds = _rounds(raw.get("rounds"), routines, problem)

    if problems:
        raise TemplateError(problems)

    def view(text: Text | None) -> str:
        assert text is not None
        return text.get(locale) or text[DEFAULT_LOCALE]

    return Template(
        id=stem,
        title=view(texts["title"]),
        welcome=view(texts["welcome"]),
        rounds=tuple(
            Round(question=view(q), routine=view(name), steps=view(steps), minutes=minutes)
            for q, (name, steps), minutes in rounds
        ),
        tables=tables,
        per_table=per_table,
        harvest=view(texts["harvest"]),
        takeout=view(texts["takeout"]),
        locale=locale,
        source=source,
        backpack=tuple(view(item) for item in lists["backpack"]),
        breakouts=tuple(view(item) for item in lists["breakouts"]),
    )


def _text(value: Any, where: str, problem: Problem) -> Text | None:
    """A text: one string for every language, or a table of translations with at least `en`."""
    if isinstance(value, str):
        if not value.strip():
            problem(where, "is empty")
            return None
        return {DEFAULT_LOCALE: value.strip()}
    if not isinstance(value, dict):
        problem(where, f"expected a text or a table of translations (en, fr, es), got {_kind(value)}")
        return None
    text: Text = {}
    ok = True
    for lang, translation in value.items():
        if lang not in SUPPORTED_LOCALES:
            problem(
                f"{where}.{lang}",
                f"unknown language (expected en, fr or es){_suggest(lang, SUPPORTED_LOCALES)}",
            )
            ok = False
        elif not isinstance(translation, str):
            problem(f"{where}.{lang}", f"expected a text, got {_kind(translation)}")
            ok = False
        elif not translation.strip():
            problem(f"{where}.{lang}", "is empty (leave the language out to fall back to English)")
            ok = False
        else:
            text[lang] = translation.strip()
    if DEFAULT_LOCALE not in value:
        problem(where, "needs an English text (en); French and Spanish fall back to it")
        ok = False
    return text if ok else None


def _text_list(value: Any, where: str, problem: Problem) -> list[Text]:
    if not isinstance(value, list):
        problem(where, f"expected a list of texts ([[{where}]] items), got {_kind(value)}")
        return []
    items: list[Text] = []
    for number, item in enumerate(value, start=1):
        text = _text(item, f"[[{where}]] #{number}", problem)
        if text is not None:
            items.append(text)
    return items


def _int_in(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi


def _seating(raw: dict[str, Any], problem: Problem) -> tuple[int | None, int | None]:
    has_tables, has_per_table = "tables" in raw, "per_table" in raw
    if has_tables == has_per_table:
        problem(
            "tables/per_table",
            "set exactly one: tables = N (a fixed number of tables) or per_table = N (people per table)"
            + ("; both are set" if has_tables else ""),
        )
    tables = per_table = None
    for key, (lo, hi) in (("tables", TABLES_RANGE), ("per_table", PER_TABLE_RANGE)):
        if key not in raw:
            continue
        if _int_in(raw[key], lo, hi):
            if key == "tables":
                tables = raw[key]
            else:
                per_table = raw[key]
        else:
            problem(key, f"expected a whole number from {lo} to {hi}, got {_show(raw[key])}")
    return tables, per_table


def _routines(value: Any, problem: Problem) -> dict[str, tuple[Text, Text] | None] | None:
    """KEY -> (name, steps); None for a routine with problems. None when [routines] is not a table."""
    if not isinstance(value, dict):
        problem("routines", f"expected [routines.KEY] tables, got {_kind(value)}")
        return None
    routines: dict[str, tuple[Text, Text] | None] = {}
    for key, body in value.items():
        where = f"[routines.{key}]"
        if not isinstance(body, dict):
            problem(where, f"expected a table with name and steps, got {_kind(body)}")
            routines[key] = None
            continue
        for extra in body:
            if extra not in ROUTINE_KEYS:
                problem(f"{where} {extra}", f"unknown key{_suggest(extra, ROUTINE_KEYS)}")
        parts: list[Text | None] = []
        for part in ROUTINE_KEYS:
            if part not in body:
                problem(f"{where} {part}", "required")
                parts.append(None)
            else:
                parts.append(_text(body[part], f"{where} {part}", problem))
        name, steps = parts
        routines[key] = (name, steps) if name is not None and steps is not None else None
    return routines


def _rounds(
    value: Any, routines: dict[str, tuple[Text, Text] | None] | None, problem: Problem
) -> list[tuple[Text, tuple[Text, Text], int]]:
    if value is None:
        problem("rounds", f"required: 1 to {MAX_ROUNDS} [[rounds]] with question, routine and minutes")
        return []
    if not isinstance(value, list):
        problem("rounds", f"expected [[rounds]] tables, got {_kind(value)}")
        return []
    if not 1 <= len(value) <= MAX_ROUNDS:
        problem("rounds", f"expected 1 to {MAX_ROUNDS} [[rounds]], got {len(value)}")
    rounds: list[tuple[Text, tuple[Text, Text], int]] = []
    for number, body in enumerate(value, start=1):
        where = f"[[rounds]] #{number}"
        if not isinstance(body, dict):
            problem(where, f"expected a table with question, routine and minutes, got {_kind(body)}")
            continue
        for extra in body:
            if extra not in ROUND_KEYS:
                problem(f"{where} {extra}", f"unknown key{_suggest(extra, ROUND_KEYS)}")
        question: Text | None = None
        routine: tuple[Text, Text] | None = None
        minutes: int | None = None
        if "question" not in body:
            problem(f"{where} question", "required")
        else:
            question = _text(body["question"], f"{where} question", problem)
        if "routine" not in body:
            problem(f"{where} routine", "required (the KEY of a [routines.KEY] table)")
        elif not isinstance(body["routine"], str):
            problem(
                f"{where} routine",
                f"expected the KEY of a [routines.KEY] table, got {_kind(body['routine'])}",
            )
        elif routines is not None:
            key = body["routine"]
            if key not in routines:
                defined = ", ".join(sorted(routines)) or "none"
                problem(
                    f"{where} routine",
                    f"no [routines.{key}] table{_suggest(key, list(routines))} (defined: {defined})",
                )
            else:
                routine = routines[key]
        if "minutes" not in body:
            problem(
                f"{where} minutes", f"required (a whole number from {MINUTES_RANGE[0]} to {MINUTES_RANGE[1]})"
            )
        elif not _int_in(body["minutes"], *MINUTES_RANGE):
            problem(
                f"{where} minutes",
                f"expected a whole number of minutes from {MINUTES_RANGE[0]} to {MINUTES_RANGE[1]}, "
                f"got {_show(body['minutes'])}",
            )
        else:
            minutes = body["minutes"]
        if question is not None and routine is not None and minutes is not None:
            rounds.append((question, routine, minutes))
    return rounds


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "a table"
    return f"a {type(value).__name__}"  # dates and times


def _show(value: Any) -> str:
    if isinstance(value, bool | int | float):
        return repr(value).lower() if isinstance(value, bool) else repr(value)
    if isinstance(value, str):
        return repr(value[:40] + ("…" if len(value) > 40 else ""))
    return _kind(value)


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""
