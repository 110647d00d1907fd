"""The member CSV contract (`iben-bot import-members` / `export-members`): parse, validate, format.

Pure text in, text out, no database. Validation collects every problem of every row, so an admin
fixes a spreadsheet in one pass instead of one error per run. Row numbers are the ones a spreadsheet
shows (header = 1). Tags are stored as catalogue term ids and written back as English names, so an
exported file re-imports without changing anything.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import get_close_matches
from functools import cache, lru_cache, partial
from zoneinfo import available_timezones

from bot.catalog import Catalogue, Kind, Resolution, Term
from storage.members import MemberCard, MemberInput

COLUMNS: tuple[str, ...] = (
    "email",
    "name",
    "slack_id",
    "discord_id",
    "roles",
    "programmes",
    "subjects",
    "languages",
    "timezone",
    "region",
    "school",
    "department",
    "open_to_questions",
    "visibility",
)

# The profile fields a CSV row carries; an import leaves the others (locale, hours, bio) as they are.
CSV_PROFILE_FIELDS: tuple[str, ...] = ("timezone", "region", "school", "department", "open_to_questions")

TAG_COLUMNS: dict[str, Kind] = {
    "roles": "role",
    "programmes": "programme",
    "subjects": "subject",
    "languages": "language",
}
_TAG_FIELDS = ("roles", "programmes", "subjects", "languages")  # MemberInput attributes, same names

# Column -> longest value the database column holds (PostgreSQL refuses longer ones mid-import).
_MAX_LENGTH: dict[str, int] = {
    "email": 320,
    "name": 200,
    "region": 100,
    "school": 200,
    "department": 100,
}
_YES = frozenset({"yes", "y", "true", "1", "oui", "sí", "si"})
_NO = frozenset({"no", "n", "false", "0", "non"})
_VISIBILITY = ("listed", "hidden")
_EMAIL = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+")
_SLACK_ID = re.compile(r"[UW][A-Z0-9]{1,63}")
_DISCORD_ID = re.compile(r"[0-9]{17,20}")
_SCIENTIFIC = re.compile(r"[0-9](?:[.,][0-9]+)?[eE]\+?[0-9]+")  # what a spreadsheet makes of a long id
_DELIMITERS = (",", ";", "\t")  # the contract is ","; European spreadsheets save ";" or tabs
_MAX_SUGGEST_INPUT = 100  # difflib is quadratic: no suggestions for absurdly long values

_Report = Callable[[str], None]  # records one problem message for the cell being read
_Resolve = Callable[[Kind, str], Resolution]


def _memo(catalogue: Catalogue) -> _Resolve:
    """Catalogue lookups for one file: big files repeat the same few dozen spellings."""
    known: dict[tuple[Kind, str], Resolution] = {}

    def resolve(kind: Kind, text: str) -> Resolution:
        key = (kind, text)
        if key not in known:
            known[key] = catalogue.resolve(kind, text)
        return known[key]

    return resolve


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with the file, located as a spreadsheet user would look for it."""

    row: int  # header = 1, first data row = 2; 0 when the problem has no row
    column: str  # a column name, or "" for whole-row and whole-file problems
    message: str

    def __str__(self) -> str:
        if self.row <= 0:
            return self.message
        if self.column:
            return f"row {self.row}, {self.column}: {self.message}"
        return f"row {self.row}: {self.message}"


@dataclass(frozen=True)
class ParsedRow:
    """A valid row and the member it describes (tags as catalogue term ids)."""

    row: int
    member: MemberInput


def decode_csv(data: bytes) -> tuple[str | None, list[RowProblem]]:
    """UTF-8 with or without a BOM; anything else becomes one readable problem, not a traceback."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start : exc.start + 1].hex()
        return None, [
            RowProblem(
                0,
                "",
                f"the file is not UTF-8 text (byte 0x{byte} on line {line} cannot be read); "
                "save it as 'CSV UTF-8' and try again",
            )
        ]


def parse_members_csv(text: str | bytes, catalogue: Catalogue) -> tuple[list[ParsedRow], list[RowProblem]]:
    """Every valid row as a member, and every problem found; a row with any problem is left out."""
    if isinstance(text, bytes):
        decoded, problems = decode_csv(text)
        if decoded is None:
            return [], problems
        text = decoded
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    parsed: list[ParsedRow] = []
    problems = []
    header: dict[str, int] | None = None
    seen: dict[tuple[str, str], int] = {}  # (column, value) -> first row holding it
    resolve = _memo(catalogue)
    row_number = 0
    try:
        for row_number, cells in enumerate(reader, start=1):
            stripped = [c.strip() for c in cells]
            if not any(stripped):
                continue  # blank lines and all-empty rows that spreadsheets leave at the end
            if header is None:
                header, header_problems = _read_header(stripped, row_number)
                if header_problems:
                    return [], header_problems
                continue
            row_problems, member = _read_row(row_number, stripped, header, resolve, seen)
            problems.extend(row_problems)
            if member is not None and not row_problems:
                parsed.append(ParsedRow(row_number, member))
    except csv.Error as exc:
        problems.append(
            RowProblem(row_number + 1, "", f"cannot be read as CSV ({exc}); the rows after it were not read")
        )
    if header is None and not problems:
        problems.append(
            RowProblem(1, "", "the file is empty; the first line must be the header: " + ",".join(COLUMNS))
        )
    return parsed, problems


def _sniff_delimiter(text: str) -> str:
    """The delimiter under which the first non-blank line names the most known columns (ties: ",")."""
    first = next((line for line in text.splitlines() if line.strip()), "")[:10_000]
    best, best_hits = ",", -1
    for delimiter in _DELIMITERS:
        cells = first.split(delimiter)
        hits = sum(_column_key(c) in COLUMNS for c in cells)
        if hits > best_hits:
            best, best_hits = delimiter, hits
    return best


def _column_key(cell: str) -> str:
    """Header spelling is forgiven: case, surrounding space, a BOM, and `slack id` for `slack_id`."""
    return cell.strip().strip("\ufeff\"'").strip().lower().replace(" ", "_").replace("-", "_")


def _read_header(cells: list[str], row: int) -> tuple[dict[str, int], list[RowProblem]]:
    positions: dict[str, int] = {}
    problems: list[RowProblem] = []
    for index, cell in enumerate(cells):
        key = _column_key(cell)
        if not key:
            continue  # an unnamed column; values under it are reported per row
        if key not in COLUMNS:
            problems.append(
                RowProblem(row, "", f"unknown column {_short(cell)}{_did_you_mean(key, COLUMNS)}")
            )
        elif key in positions:
            problems.append(RowProblem(row, "", f"column {key!r} appears twice"))
        else:
            positions[key] = index
    problems.extend(RowProblem(row, "", f"missing column {c!r}") for c in COLUMNS if c not in positions)
    if problems:
        problems.append(
            RowProblem(row, "", "the header must name exactly these columns: " + ",".join(COLUMNS))
        )
    return positions, problems


def _read_row(
    row: int,
    cells: list[str],
    header: dict[str, int],
    resolve: _Resolve,
    seen: dict[tuple[str, str], int],
) -> tuple[list[RowProblem], MemberInput | None]:
    values = {column: cells[i] if i < len(cells) else "" for column, i in header.items()}
    problems: list[RowProblem] = []

    def problem(column: str, message: str) -> None:
        problems.append(RowProblem(row, column, message))

    known_positions = set(header.values())
    for index, cell in enumerate(cells):
        if cell and index not in known_positions:
            problem("", f"unexpected value {_short(cell)} in column {index + 1}, which has no header")

    for column, limit in _MAX_LENGTH.items():
        if len(values[column]) > limit:
            problem(column, f"is longer than {limit} characters")
    name = values["name"]
    if not name:
        problem("name", "must not be empty")

    email, slack_id, discord_id = values["email"], values["slack_id"], values["discord_id"]
    if not (email or slack_id or discord_id):
        problem("", "needs an email, a slack_id or a discord_id to identify the member")
    if email and not _EMAIL.fullmatch(email):
        problem("email", f"{_short(email)} is not an email address")
    if slack_id and not _SLACK_ID.fullmatch(slack_id):
        hint = f" (did you mean {slack_id.upper()!r}?)" if _SLACK_ID.fullmatch(slack_id.upper()) else ""
        problem("slack_id", f"{_short(slack_id)} is not a Slack member id like 'U024ABC'{hint}")
    if discord_id and not _DISCORD_ID.fullmatch(discord_id):
        if _SCIENTIFIC.fullmatch(discord_id):
            hint = "; a spreadsheet turned it into a number, so format the column as text and paste it again"
        else:
            hint = " (17 to 20 digits)"
        problem("discord_id", f"{_short(discord_id)} is not a Discord user id{hint}")
    for column, value in (("email", email.lower()), ("slack_id", slack_id), ("discord_id", discord_id)):
        if value:
            first = seen.setdefault((column, value), row)
            if first != row:
                problem(column, f"{_short(values[column])} is also on row {first}")

    tags: dict[str, tuple[str, ...]] = {}
    for column, kind in TAG_COLUMNS.items():
        tags[column] = _resolve_cell(resolve, kind, values[column], partial(problem, column))

    timezone = _timezone(values["timezone"], partial(problem, "timezone"))
    open_to_questions = True
    answer = values["open_to_questions"].lower()
    if answer in _NO:
        open_to_questions = False
    elif answer and answer not in _YES:
        problem("open_to_questions", f"expected yes or no, got {_short(values['open_to_questions'])}")
    visibility = values["visibility"].lower() or "listed"
    if visibility not in _VISIBILITY:
        problem("visibility", f"expected listed or hidden, got {_short(values['visibility'])}")

    if problems:
        return problems, None
    identities = {platform: v for platform, v in (("slack", slack_id), ("discord", discord_id)) if v}
    member = MemberInput(
        name=name,
        email=email or None,
        identities=identities,
        roles=tags["roles"],
        programmes=tags["programmes"],
        subjects=tags["subjects"],
        languages=tags["languages"],
        timezone=timezone,
        region=values["region"] or None,
        school=values["school"] or None,
        department=values["department"] or None,
        open_to_questions=open_to_questions,
        visibility=visibility,
    )
    return [], member


def _resolve_cell(resolve: _Resolve, kind: Kind, cell: str, report: _Report) -> tuple[str, ...]:
    """`;`-separated values → distinct term ids in order; each value that does not resolve is reported.

    Any spelling the catalogue knows exactly is accepted (en/fr/es names and aliases, any case or
    accents). A mere fuzzy guess ("Biolgy") is not: across thousands of rows a wrong guess would go
    unnoticed, so it is offered as "did you mean" for a human to confirm.
    """
    ids: list[str] = []
    for raw in cell.split(";"):
        text = raw.strip()
        if not text:
            continue
        resolution = resolve(kind, text)
        term = resolution.term
        if term is not None and not (resolution.exact or _is_locale_tag_of(text, term.id, kind)):
            suggestions: tuple[Term, ...] = (term, *resolution.suggestions)
            term = None
        else:
            suggestions = resolution.suggestions
        if term is None:
            names = list(dict.fromkeys(t.name("en") for t in suggestions))[:3]
            hint = f" (did you mean {' or '.join(names)}?)" if names else ""
            if "," in text:
                hint += "; separate several values with ';'"
            report(f"unknown {kind} {_short(text)}{hint}")
        elif term.id not in ids:
            ids.append(term.id)
    return tuple(ids)


def _is_locale_tag_of(text: str, term_id: str, kind: Kind) -> bool:
    """`es-ES` or `en_GB` in the languages column is plainly the language, not a guess."""
    return kind == "language" and text.lower().replace("_", "-").split("-")[0] == term_id


@cache
def _zones() -> dict[str, str]:
    """Lower-cased IANA zone name → its canonical spelling (the set is read once per process)."""
    return {zone.lower(): zone for zone in available_timezones()}


def _timezone(value: str, report: _Report) -> str | None:
    if not value:
        return None
    zone = _zones().get(value.lower().replace(" ", "_"))
    if zone is not None:
        return zone
    hint = _zone_hint(value)
    report(f"{_short(value)} is not an IANA time zone{hint or ' (such as Europe/Madrid)'}")
    return None


@lru_cache(maxsize=1024)
def _zone_hint(value: str) -> str:
    """Comparing with ~600 zone names is slow; a bad file tends to repeat the same bad zone."""
    return _did_you_mean(value, sorted(_zones().values()))


def _did_you_mean(word: str, choices: Sequence[str]) -> str:
    if len(word) > _MAX_SUGGEST_INPUT:
        return ""
    close = get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _short(value: str) -> str:
    """Quote a value for a message, cut so one bad cell cannot flood the terminal."""
    return repr(value if len(value) <= 60 else value[:57] + "...")


def exportable(card: MemberCard) -> bool:
    """A CSV row needs an email, Slack or Discord id; console-only members cannot round-trip."""
    return bool(card.email or card.identities.get("slack") or card.identities.get("discord"))


def format_members_csv(cards: Sequence[MemberCard], catalogue: Catalogue) -> str:
    """The CSV for these members: header first, tags as English catalogue names joined by `;`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for card in cards:
        tag_cells = []
        for column in _TAG_FIELDS:
            kind = TAG_COLUMNS[column]
            names = []
            for term_id in getattr(card, column):
                term = catalogue.get(kind, term_id)
                names.append(term.name("en") if term is not None else term_id)
            tag_cells.append(";".join(names))
        writer.writerow(
            [
                card.email or "",
                card.name,
                card.identities.get("slack", ""),
                card.identities.get("discord", ""),
                *tag_cells,
                card.timezone or "",
                card.region or "",
                card.school or "",
                card.department or "",
                "yes" if card.open_to_questions else "no",
                card.visibility,
            ]
        )
    return buffer.getvalue()
