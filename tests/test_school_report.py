"""The critical-mass report: members as a share of staff against the 20-30% band, their spread over
departments and subjects, as a table and a chart; staff counts stored and read from CSV; the CLI."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import pytest
from PIL import Image

from adapters.reports_cli import merge_staff, school_report, unknown_school
from bot.i18n import Translator
from bot.school_report import CRITICAL_MASS, SchoolRow, build_report, render_png, render_table, status_of
from storage.db import Database
from storage.members import MemberCard, MemberInput, MemberRepository
from storage.schools import SchoolStaffRepository, read_staff_csv
from tests.conftest import make_config

NOW = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def card(
    member_id: int,
    school: str | None,
    department: str | None = None,
    subjects: tuple[str, ...] = (),
    visibility: str = "listed",
) -> MemberCard:
    return MemberCard(
        member_id=member_id,
        name=f"Member {member_id}",
        email=None,
        identities={},
        roles=(),
        programmes=(),
        subjects=subjects,
        languages=(),
        timezone=None,
        region=None,
        school=school,
        department=department,
        locale=None,
        open_to_questions=True,
        visibility=visibility,
    )


def cards_at(school: str, n: int, start: int = 0) -> list[MemberCard]:
    return [card(start + i, school) for i in range(n)]


@dataclass(frozen=True)
class FakeTerm:
    names: dict[str, str]

    def name(self, locale: str) -> str:
        return self.names[locale]


class FakeCatalogue:
    """Knows biology and math-aa; anything else is unknown, as a retired term would be."""

    terms: ClassVar[dict[str, FakeTerm]] = {
        "biology": FakeTerm({"en": "Biology", "fr": "Biologie", "es": "Biología"}),
        "math-aa": FakeTerm({"en": "Maths AA", "fr": "Maths AA (fr)", "es": "Matemáticas AA"}),
    }

    def get(self, kind: str, term_id: str) -> FakeTerm | None:
        return self.terms.get(term_id) if kind == "subject" else None


# --- build_report ---------------------------------------------------------------------------------


def test_share_is_members_over_staff_and_the_band_includes_both_ends() -> None:
    assert CRITICAL_MASS == (0.20, 0.30)
    staff = {"Below": 100, "Low edge": 100, "Inside": 100, "High edge": 100, "Above": 100, "Fifth": 5}
    cards = [
        *cards_at("Below", 19, 0),
        *cards_at("Low edge", 20, 100),
        *cards_at("Inside", 25, 200),
        *cards_at("High edge", 30, 300),
        *cards_at("Above", 31, 400),
        *cards_at("Fifth", 1, 500),
    ]
    rows = {row.school: row for row in build_report(cards, staff)}
    assert {name: row.status for name, row in rows.items()} == {
        "Below": "below",
        "Low edge": "within",
        "Inside": "within",
        "High edge": "within",
        "Above": "above",
        "Fifth": "within",  # 1 of 5 is exactly 20%
    }
    assert rows["Inside"].members == 25 and rows["Inside"].staff == 100
    assert rows["Inside"].share == pytest.approx(0.25)
    assert status_of(3, 10) == "within" and status_of(7, 10) == "above" and status_of(1, 6) == "below"


def test_a_school_without_a_staff_count_is_unknown_and_one_without_members_is_listed_at_zero() -> None:
    rows = build_report(cards_at("No count", 4), {"Empty school": 40})
    assert [(r.school, r.members, r.staff, r.share, r.status) for r in rows] == [
        ("Empty school", 0, 40, 0.0, "below"),
        ("No count", 4, None, None, "unknown"),
    ]
    assert rows[0].departments == () and rows[0].subjects == ()


def test_hidden_members_count_and_members_without_a_school_are_skipped() -> None:
    cards = [
        card(1, "Alpha"),
        card(2, "Alpha", visibility="hidden"),
        card(3, None),
        card(4, "   "),
    ]
    rows = build_report(cards, {"Alpha": 10})
    assert [(r.school, r.members) for r in rows] == [("Alpha", 2)]
    assert rows[0].share == pytest.approx(0.2)


def test_departments_and_subjects_are_counted_most_first_with_missing_department_as_blank() -> None:
    cards = [
        card(1, "Alpha", "Sciences", ("biology", "chemistry")),
        card(2, "Alpha", "sciences ", ("biology",)),
        card(3, "Alpha", "Languages", ("english-a", "biology")),
        card(4, "Alpha", None, ("chemistry",)),
        card(5, "Alpha", "", ("math-aa",)),
        card(6, "Alpha", "Arts", ()),
    ]
    (row,) = build_report(cards, {})
    # Case and spacing variants are one department, shown in the commonest (then first) spelling;
    # ties are alphabetical, with "no department" after named ones.
    assert row.departments == (("Sciences", 2), ("", 2), ("Arts", 1), ("Languages", 1))
    assert row.subjects == (("biology", 3), ("chemistry", 2), ("english-a", 1), ("math-aa", 1))


def test_staff_names_match_members_ignoring_case_and_spacing_and_rows_sort_alphabetically() -> None:
    cards = [
        card(1, "Lycée International"),
        card(2, "lycée  international "),
        card(3, "École Jeannine Manuel"),
        card(4, "Zurich School"),
        card(5, "atlanta academy"),
        card(6, "Atlanta Academy"),
        card(7, "Atlanta Academy"),
    ]
    staff = {"  LYCÉE International": 10, "École  Jeannine Manuel": 4}
    rows = build_report(cards, staff)
    assert [(r.school, r.members, r.staff) for r in rows] == [
        ("Atlanta Academy", 3, None),  # the spelling most members use
        ("École Jeannine Manuel", 1, 4),  # sorted with the E's, not after Z
        ("LYCÉE International", 2, 10),  # the staff list's spelling, tidied
        ("Zurich School", 1, None),
    ]


# --- render_table ---------------------------------------------------------------------------------


def sample_rows() -> list[SchoolRow]:
    cards = [
        *[card(i, "Geneva School", "Sciences", ("biology", "retired-term")) for i in range(3)],
        card(10, "Geneva School", None, ("math-aa",)),
        *[card(20 + i, "Oslo School", "Languages", ("math-aa",)) for i in range(2)],
    ]
    return build_report(cards, {"Geneva School": 17, "Madrid School": 40})


def test_the_english_table_labels_every_column_and_names_subjects_from_the_catalogue() -> None:
    text = render_table(sample_rows(), Translator("en"), catalogue=FakeCatalogue())
    lines = text.splitlines()
    for label in ("School", "Members", "Staff", "Share", "Status", "Top departments", "Top subjects"):
        assert label in lines[0]
    assert set(lines[1]) <= {"-", " "}
    geneva = next(line for line in lines if line.startswith("Geneva School"))
    assert "23.5%" in geneva and "within" in geneva  # 4 of 17
    assert "Sciences (3)" in geneva and "no department (1)" in geneva
    assert "Biology (3)" in geneva and "retired-term (3)" in geneva and "Maths AA (1)" in geneva
    madrid = next(line for line in lines if line.startswith("Madrid School"))
    assert "0.0%" in madrid and "below" in madrid and "—" in madrid
    oslo = next(line for line in lines if line.startswith("Oslo School"))
    assert "no staff count" in oslo
    assert "Critical mass: 20–30%" in text
    assert "1 school has no staff count" in text
    # Numbers are right-aligned under their header.
    end = lines[0].index("Members") + len("Members")
    assert all(line[end - 1].isdigit() and line[end] == " " for line in lines[2:5])


def test_the_french_table_renders_with_french_numbers_and_subject_names() -> None:
    text = render_table(sample_rows(), Translator("fr"), catalogue=FakeCatalogue())
    assert "23,5" in text and "Biologie (3)" in text and "Maths AA (fr) (1)" in text
    assert render_table(sample_rows(), Translator("es"), catalogue=FakeCatalogue())


def test_an_empty_report_says_so() -> None:
    assert "No member has a school" in render_table([], Translator("en"), catalogue=FakeCatalogue())


def test_long_school_names_are_shortened_in_the_table() -> None:
    name = "Lycée International de Saint-Germain-en-Laye, section américaine"
    wide = "東京インターナショナルスクール国際バカロレア教育研究センター附属"
    text = render_table(
        build_report([card(1, name), card(2, wide)], {}), Translator("en"), catalogue=FakeCatalogue()
    )
    assert name not in text and "Lycée International de Saint-Germain-en…" in text
    # Wide letters take two columns, so the cut keeps the table aligned.
    wide_line = next(line for line in text.splitlines() if line.startswith("東京"))
    assert wide_line.index("…") == 19 and wide_line[20:].startswith("  ")


# --- render_png -----------------------------------------------------------------------------------


def many_rows(n: int) -> list[SchoolRow]:
    cards: list[MemberCard] = []
    staff: dict[str, int] = {}
    for i in range(n):
        school = f"School {i:02d} International"
        cards += [card(1000 * i + j, school, "Sciences", ("biology",)) for j in range(i % 17)]
        if i % 10 != 9:
            staff[school] = 30 + i
    return build_report(cards, staff)


def test_the_chart_is_a_chat_sized_png_and_the_same_bytes_every_time() -> None:
    rows = many_rows(12)
    first = render_png(rows, Translator("en"))
    assert first.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(first)) as image:
        assert image.format == "PNG"
        width, height = image.size
    assert 800 <= width <= 1200 and 300 <= height <= 1600
    assert render_png(rows, Translator("en")) == first
    assert render_png(rows, Translator("fr")).startswith(PNG_SIGNATURE)


def test_the_chart_grows_with_the_schools_and_handles_none() -> None:
    with Image.open(io.BytesIO(render_png([], Translator("en")))) as empty:
        assert empty.size[0] >= 800
    with Image.open(io.BytesIO(render_png(many_rows(50), Translator("en")))) as tall:
        assert tall.size[0] >= 800 and tall.size[1] > 1500


# --- staff counts ---------------------------------------------------------------------------------


async def test_staff_counts_are_upserted_and_a_retyped_name_updates_the_same_school(db: Database) -> None:
    repo = SchoolStaffRepository(db)
    assert await repo.all() == {}
    await repo.set_staff({"Lycée International": 80, "Oslo School": 50}, NOW)
    await repo.set_staff({"  lycée   INTERNATIONAL ": 85, "Madrid School": 40}, NOW + timedelta(days=1))
    await repo.set_staff({}, NOW)
    assert await repo.all() == {"Lycée International": 85, "Madrid School": 40, "Oslo School": 50}
    with pytest.raises(ValueError, match="whole number"):
        await repo.set_staff({"Oslo School": 0}, NOW)
    assert (await repo.all())["Oslo School"] == 50


def test_a_staff_csv_reads_with_a_bom_semicolons_and_extra_columns() -> None:
    assert read_staff_csv("school,staff\nGeneva School,17\n\n Oslo  School , 50 \n") == (
        {"Geneva School": 17, "Oslo School": 50},
        [],
    )
    assert read_staff_csv("\ufeffSchool;Staff\nLycée A;80\n") == ({"Lycée A": 80}, [])
    assert read_staff_csv('city,staff,school\nParis,12,"École, Paris"\n') == ({"École, Paris": 12}, [])


def test_every_bad_row_of_a_staff_csv_is_named() -> None:
    counts, problems = read_staff_csv(
        "school,staff\nGood,10\nBad,many\n,12\nZero,0\ngood,11\nShort\nHalf,4.5\n"
    )
    assert counts == {"Good": 10}
    assert problems == [
        "row 3: staff must be a whole number, got 'many'",
        "row 4: the school name is empty",
        "row 5: staff must be from 1 to 100000, got 0",
        "row 6: 'good' is already given in row 2",
        "row 7: expected a school and a staff count, got 1 column(s)",
        "row 8: staff must be a whole number, got '4.5'",
    ]
    assert read_staff_csv("name,count\nA,1\n") == (
        {},
        ["row 1: expected the header 'school,staff', got 'name,count'"],
    )
    assert read_staff_csv("\n") == ({}, ["row 1: the file is empty; expected the header 'school,staff'"])


# --- the CLI --------------------------------------------------------------------------------------


async def add_members(url: str) -> None:
    db = Database(url)
    await db.upgrade()
    members = MemberRepository(db)
    people = [
        ("Ana", "Geneva School", "Sciences", ["biology"], "listed"),
        ("Ben", "Geneva School", "Sciences", ["biology", "chemistry"], "hidden"),
        ("Chloé", "geneva school", "Languages", ["english-a"], "listed"),
        ("Dan", "Oslo School", "Mathematics", ["math-aa"], "listed"),
        ("Eve", None, None, ["biology"], "listed"),
    ]
    for i, (name, school, department, subjects, visibility) in enumerate(people):
        await members.upsert(
            MemberInput(
                name=name,
                email=f"m{i}@example.org",
                school=school,
                department=department,
                subjects=subjects,
                visibility=visibility,
            ),
            NOW,
        )
    await db.dispose()


async def run(url: str, **kwargs: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    config = make_config(url, schools={"Geneva School": 20})
    args: dict[str, object] = {"staff_csv": None, "png": None, "school": None, **kwargs}
    code = await school_report(config, out=out, err=err, **args)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


async def test_the_cli_prints_the_report_saves_the_csv_filters_and_writes_a_chart(
    sqlite_url: str, tmp_path: Path
) -> None:
    await add_members(sqlite_url)

    code, out, err = await run(sqlite_url)
    assert (code, err) == (0, "")
    geneva = next(line for line in out.splitlines() if line.startswith("Geneva School"))
    assert " 3 " in geneva and "15.0%" in geneva and "below" in geneva  # 3 of 20 from the config
    assert "Biology (2)" in geneva
    assert "no staff count" in next(line for line in out.splitlines() if line.startswith("Oslo School"))

    csv_file = tmp_path / "staff.csv"
    csv_file.write_text("school,staff\n Oslo  School ,4\nMadrid School,30\n", encoding="utf-8")
    code, out, err = await run(sqlite_url, staff_csv=csv_file)
    assert (code, err) == (0, "")
    assert "Saved staff counts for 2 school(s)" in out
    oslo = next(line for line in out.splitlines() if line.startswith("Oslo School"))
    assert "25.0%" in oslo and "within" in oslo

    # The CSV's counts are in the database now: a later run (or the chat command) sees them.
    png = tmp_path / "chart.png"
    code, out, err = await run(sqlite_url, school="  oslo school", png=png)
    assert (code, err) == (0, "")
    table = [line for line in out.splitlines() if line.endswith("%") or "School" in line]
    assert any(line.startswith("Oslo School") and "25.0%" in line for line in table)
    assert "Geneva School" not in out and "Madrid School" not in out
    assert f"Wrote the chart to {png}." in out
    assert png.read_bytes().startswith(PNG_SIGNATURE)


async def test_the_cli_refuses_an_unknown_school_and_a_bad_csv_without_saving(
    sqlite_url: str, tmp_path: Path
) -> None:
    await add_members(sqlite_url)
    csv_file = tmp_path / "staff.csv"
    csv_file.write_text("school,staff\nMadrid School,30\n", encoding="utf-8")
    code, out, err = await run(sqlite_url, school="Geneva", staff_csv=csv_file)
    assert (code, out) == (2, "")
    assert err.strip() == "iben-bot: no school named 'Geneva'; did you mean 'Geneva School'?"

    csv_file.write_text("school,staff\nMadrid School,lots\n", encoding="utf-8")
    code, out, err = await run(sqlite_url, staff_csv=csv_file)
    assert (code, out) == (2, "")
    assert "row 2: staff must be a whole number, got 'lots'" in err and "nothing was saved" in err

    code, out, _ = await run(sqlite_url)
    assert code == 0 and "Madrid School" not in out  # neither refused run saved anything

    code, _, err = await run(sqlite_url, staff_csv=tmp_path / "missing.csv")
    assert code == 2 and "cannot read" in err


def test_unknown_school_hints_and_staff_merging() -> None:
    assert "did you mean 'Oslo School'" in unknown_school("Olso School", ["Geneva School", "Oslo School"])
    assert "among 2 known" in unknown_school("Tokyo", ["Geneva School", "Oslo School"])
    assert "no member has a school" in unknown_school("Tokyo", [])
    merged = merge_staff({"Geneva School": 20, "Oslo": 3}, {"geneva  school": 25})
    assert merged == {"geneva  school": 25, "Oslo": 3}
