"""Staff head-counts per school, so the critical-mass report can show members as a share of staff.

Counts come from the config, from a CSV an admin uploads, or from the chat command; the table keeps
the latest, so a count given once is seen by every later report in any process.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.db import Database
from storage.models import SchoolStaff

MAX_STAFF = 100_000  # the same bound the config applies to [schools]
HEADER = ("school", "staff")


def school_key(name: str) -> str:
    """The identity of a school name: case and spacing differ between sources, the school does not."""
    return " ".join(name.split()).casefold()


class SchoolStaffRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def set_staff(self, counts: Mapping[str, int], now: datetime) -> None:
        """Insert or replace each school's count in one transaction.

        A name that matches a stored school apart from case or spacing updates that row, so a
        re-typed name never creates a second, conflicting count for the same school.
        """
        if not counts:
            return
        for name, staff in counts.items():
            if not school_key(name):
                raise ValueError("a school name must not be empty")
            if isinstance(staff, bool) or not isinstance(staff, int) or not 1 <= staff <= MAX_STAFF:
                raise ValueError(f"staff for {name!r} must be a whole number from 1 to {MAX_STAFF}")
        insert = sqlite_insert if self._db.is_sqlite else pg_insert
        async with self._db.sessions() as session, session.begin():
            stored = {school_key(s): s for s in (await session.execute(select(SchoolStaff.school))).scalars()}
            values: dict[str, dict[str, object]] = {}
            for name, staff in counts.items():
                key = school_key(name)
                school = stored.get(key, " ".join(name.split()))
                values[key] = {"school": school, "staff": staff, "updated_at": now}
            stmt = insert(SchoolStaff).values(list(values.values()))
            stmt = stmt.on_conflict_do_update(
                index_elements=[SchoolStaff.school],
                set_={"staff": stmt.excluded.staff, "updated_at": stmt.excluded.updated_at},
            )
            await session.execute(stmt)

    async def all(self) -> dict[str, int]:
        """Every stored count, by school name in alphabetical order."""
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(SchoolStaff.school, SchoolStaff.staff).order_by(SchoolStaff.school)
            )
            return {school: staff for school, staff in rows.all()}


def read_staff_csv(text: str) -> tuple[dict[str, int], list[str]]:
    """Parse `school,staff` rows; returns the counts and one readable line per problem.

    Rows are numbered as a spreadsheet shows them (the header is row 1). Semicolons are accepted as
    the separator because spreadsheets in French or Spanish locales export them; other columns are
    ignored, so a school's own export can be uploaded as it is.
    """
    text = text.removeprefix("\ufeff")
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if ";" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    counts: dict[str, int] = {}
    seen: dict[str, int] = {}  # school key -> row it was first given on
    problems: list[str] = []
    columns: tuple[int, int] | None = None
    try:
        for row in reader:
            line = reader.line_num
            cells = [cell.strip() for cell in row]
            if not any(cells):
                continue
            if columns is None:
                names = [c.casefold() for c in cells]
                if not all(h in names for h in HEADER):
                    got = delimiter.join(cells)
                    return {}, [f"row {line}: expected the header 'school,staff', got {got!r}"]
                columns = (names.index("school"), names.index("staff"))
                continue
            school_at, staff_at = columns
            if len(cells) <= max(columns):
                problems.append(
                    f"row {line}: expected a school and a staff count, got {len(cells)} column(s)"
                )
                continue
            school, raw = " ".join(cells[school_at].split()), cells[staff_at]
            if not school:
                problems.append(f"row {line}: the school name is empty")
                continue
            if not raw.isdecimal():
                problems.append(f"row {line}: staff must be a whole number, got {raw!r}")
                continue
            staff = int(raw)
            if not 1 <= staff <= MAX_STAFF:
                problems.append(f"row {line}: staff must be from 1 to {MAX_STAFF}, got {staff}")
                continue
            key = school_key(school)
            if key in seen:
                problems.append(f"row {line}: {school!r} is already given in row {seen[key]}")
                continue
            seen[key] = line
            counts[school] = staff
    except csv.Error as exc:
        problems.append(f"row {reader.line_num}: not valid CSV ({exc})")
    if columns is None and not problems:
        problems.append("row 1: the file is empty; expected the header 'school,staff'")
    return counts, problems
