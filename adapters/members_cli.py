"""`iben-bot import-members FILE.csv` and `iben-bot export-members FILE.csv` (wired in adapters/cli.py).

An import is all or nothing by default: every row is validated and checked against the directory
first, every problem is listed with its row and column, and nothing is written while any remains,
so a half-imported spreadsheet never has to be untangled. `--skip-bad` imports the good rows anyway.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.catalog import Catalogue
from bot.config import Config
from storage.bulk import ImportResult, bulk_upsert, export_cards, find_conflicts
from storage.db import Database
from storage.member_csv import (
    CSV_PROFILE_FIELDS,
    RowProblem,
    exportable,
    format_members_csv,
    parse_members_csv,
)
from storage.members import MemberInput

MAX_PROBLEM_LINES = 200
PROGRESS_THRESHOLD = 1000  # rows; smaller files finish before a bar would be worth drawing


async def import_members(
    config: Config,
    path: Path,
    *,
    skip_bad: bool,
    out: TextIO,
    err: TextIO,
    show_progress: bool | None = None,
) -> int:
    """Validate then import a member CSV; 0 on success, 1 when rows have problems, 2 when unreadable."""
    try:
        data = await asyncio.to_thread(path.read_bytes)
    except OSError as exc:
        print(f"iben-bot: cannot read {path}: {exc.strerror or exc}", file=err)
        return 2
    rows, problems = parse_members_csv(data, Catalogue.default())
    fatal = any(p.row <= 1 for p in problems)  # the file or its header: no row can be trusted
    if fatal or (problems and not rows and not skip_bad):
        return _refuse(path, problems, err, can_skip=not fatal)
    result = ImportResult(0, 0, 0)
    if rows:
        db = Database(config.database.url)
        try:
            await db.upgrade()
            problems = sorted([*problems, *await find_conflicts(db, rows)], key=lambda p: p.row)
            if problems and not skip_bad:
                return _refuse(path, problems, err, can_skip=True)
            if problems:
                _print_problems(path, problems, err)
            bad_rows = {p.row for p in problems}
            good = [r.member for r in rows if r.row not in bad_rows]
            if show_progress is None:
                show_progress = len(good) > PROGRESS_THRESHOLD and err.isatty()
            result = await _upsert(db, good, err, show_progress)
        finally:
            await db.dispose()
    elif problems:
        _print_problems(path, problems, err)
    skipped = len({p.row for p in problems})
    print(_summary(result, skipped), file=out)
    if skipped:
        print(f"skipped {_count(skipped, 'row')} with problems (listed above)", file=err)
    return 0


def _refuse(path: Path, problems: list[RowProblem], err: TextIO, *, can_skip: bool) -> int:
    """All or nothing: list what is wrong, write nothing, exit 1."""
    _print_problems(path, problems, err)
    hint = "fix the rows above or pass --skip-bad" if can_skip else "fix the file and try again"
    print(f"nothing was imported; {hint}", file=err)
    return 1


async def _upsert(db: Database, rows: list[MemberInput], err: TextIO, show_progress: bool) -> ImportResult:
    """The CSV carries only some profile fields; the others (locale, hours, bio) are left alone."""
    now = datetime.now(UTC)
    if not show_progress:
        return await bulk_upsert(db, rows, now, profile_fields=CSV_PROFILE_FIELDS)
    from tqdm import tqdm  # type: ignore[import-untyped]

    with tqdm(total=len(rows), file=err, unit=" rows", desc="Importing", dynamic_ncols=True) as bar:

        def progress(done: int) -> None:
            bar.update(done - bar.n)

        return await bulk_upsert(db, rows, now, profile_fields=CSV_PROFILE_FIELDS, progress=progress)


def _print_problems(path: Path, problems: list[RowProblem], err: TextIO) -> None:
    print(f"iben-bot: {path} has {_count(len(problems), 'problem')}:", file=err)
    for problem in problems[:MAX_PROBLEM_LINES]:
        print(f"  {problem}", file=err)
    if len(problems) > MAX_PROBLEM_LINES:
        print(f"  … and {len(problems) - MAX_PROBLEM_LINES} more", file=err)


def _summary(result: ImportResult, skipped: int) -> str:
    line = (
        f"Imported {_count(result.total, 'member')}: {result.created} new, "
        f"{result.updated} updated, {result.unchanged} unchanged"
    )
    return f"{line}; {_count(skipped, 'row')} skipped." if skipped else f"{line}."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


async def export_members(config: Config, path: Path, *, out: TextIO, err: TextIO) -> int:
    """Write every member to a CSV that `import-members` reads back without changing anything."""
    catalogue = Catalogue.default()
    db = Database(config.database.url)
    try:
        await db.upgrade()
        cards = await export_cards(db)
    finally:
        await db.dispose()
    rows = [c for c in cards if exportable(c)]
    try:
        text = format_members_csv(rows, catalogue)
        await asyncio.to_thread(path.write_text, text, encoding="utf-8", newline="")
    except OSError as exc:
        print(f"iben-bot: cannot write {path}: {exc.strerror or exc}", file=err)
        return 2
    left_out = len(cards) - len(rows)
    if left_out:
        print(
            f"left out {_count(left_out, 'member')} known only on the console "
            "(no email, Slack or Discord id to import them back by)",
            file=err,
        )
    print(f"Exported {_count(len(rows), 'member')} to {path}", file=out)
    return 0
