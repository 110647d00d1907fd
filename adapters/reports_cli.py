"""`iben-bot school-report`: the critical-mass report in the terminal, optionally as a PNG chart.

Admins keep staff head-counts wherever suits them (the config, a CSV from the school office); the
CSV is saved to the database so the chat command shows the same numbers afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from difflib import get_close_matches
from pathlib import Path
from typing import TextIO

from bot.config import Config
from bot.i18n import Translator
from bot.school_report import SchoolRow, build_report, render_png, render_table, school_key
from storage.db import Database
from storage.members import MemberRepository
from storage.schools import SchoolStaffRepository, read_staff_csv


def merge_staff(*sources: Mapping[str, int]) -> dict[str, int]:
    """Later sources win for the same school, however its name is cased or spaced."""
    merged: dict[str, tuple[str, int]] = {}
    for source in sources:
        for name, staff in source.items():
            merged[school_key(name)] = (name, staff)
    return dict(merged.values())


async def school_report(
    config: Config,
    *,
    staff_csv: Path | None,
    png: Path | None,
    school: str | None,
    out: TextIO,
    err: TextIO,
) -> int:
    """Print the report; 2 for a bad CSV or an unknown school (then nothing is saved), else 0."""
    uploaded: dict[str, int] = {}
    if staff_csv is not None:
        try:
            text = await asyncio.to_thread(staff_csv.read_text, encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"iben-bot: cannot read {staff_csv}: {exc}", file=err)
            return 2
        uploaded, problems = read_staff_csv(text)
        if problems:
            print(f"iben-bot: {staff_csv} has problems; nothing was saved:", file=err)
            for problem in problems:
                print(f"  {problem}", file=err)
            return 2

    db = Database(config.database.url)
    try:
        await db.upgrade()
        staff_repo = SchoolStaffRepository(db)
        staff = merge_staff(config.schools, await staff_repo.all(), uploaded)
        rows = build_report(await MemberRepository(db).cards(), staff)
        if school is not None:
            known = [row.school for row in rows]
            rows = [row for row in rows if school_key(row.school) == school_key(school)]
            if not rows:
                print(f"iben-bot: {unknown_school(school, known)}", file=err)
                return 2
        if uploaded:
            await staff_repo.set_staff(uploaded, datetime.now(UTC))
            print(f"Saved staff counts for {len(uploaded)} school(s) from {staff_csv}.", file=out)
    finally:
        await db.dispose()

    print(render_table(rows, Translator("en")), file=out)  # subject names from the default catalogue
    if png is not None:
        try:
            await asyncio.to_thread(_write_png, png, rows)
        except OSError as exc:
            print(f"iben-bot: cannot write {png}: {exc}", file=err)
            return 1
        print(f"Wrote the chart to {png}.", file=out)
    return 0


def _write_png(path: Path, rows: Sequence[SchoolRow]) -> None:
    """Rendering takes a fraction of a second: off the event loop, with the write."""
    path.write_bytes(render_png(rows, Translator("en")))


def unknown_school(school: str, known: list[str]) -> str:
    """One line naming the closest schools: a part of the name, or a near spelling of it."""
    if not known:
        return f"no school named {school!r}: no member has a school and no staff counts are known"
    wanted = school_key(school)
    by_key = {school_key(name): name for name in known}
    close = [name for key, name in by_key.items() if wanted in key]
    close += [by_key[key] for key in get_close_matches(wanted, list(by_key), n=5, cutoff=0.6)]
    close = list(dict.fromkeys(close))[:5]
    if close:
        return f"no school named {school!r}; did you mean {', '.join(map(repr, close))}?"
    return f"no school named {school!r} among {len(known)} known; run without --school to list them"
