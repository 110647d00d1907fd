"""The member CSV contract: what parses, every problem a bad file gets, and format → parse round trips."""

from __future__ import annotations

import dataclasses
from importlib import resources

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.catalog import Catalogue
from storage.member_csv import (
    COLUMNS,
    RowProblem,
    decode_csv,
    format_members_csv,
    parse_members_csv,
)
from storage.members import MemberCard, MemberInput

HEADER = ",".join(COLUMNS)
ANA = (
    "ana@example.org,Ana Ruiz,U024ABC,,examiner;workshop leader,DP,Biology,es;en,"
    "Europe/Madrid,Europe,Colegio X,Science,yes,listed"
)


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return Catalogue.default()


def parse(cat: Catalogue, *lines: str, header: str = HEADER) -> tuple[list[MemberInput], list[str]]:
    rows, problems = parse_members_csv("\n".join([header, *lines]) + "\n", cat)
    return [r.member for r in rows], [str(p) for p in problems]


def test_the_contract_example_parses_to_catalogue_ids(cat: Catalogue) -> None:
    members, problems = parse(cat, ANA)
    assert problems == []
    assert members == [
        MemberInput(
            name="Ana Ruiz",
            email="ana@example.org",
            identities={"slack": "U024ABC"},
            roles=("examiner", "workshop-leader"),
            programmes=("dp",),
            subjects=("biology",),
            languages=("es", "en"),
            timezone="Europe/Madrid",
            region="Europe",
            school="Colegio X",
            department="Science",
            open_to_questions=True,
            visibility="listed",
        )
    ]


def test_the_bundled_example_imports_cleanly_with_its_loose_spellings(cat: Catalogue) -> None:
    data = resources.files("bot").joinpath("data", "members.example.csv").read_bytes()
    rows, problems = parse_members_csv(data, cat)
    assert problems == []
    assert len(rows) >= 12
    subjects = {s for r in rows for s in r.member.subjects}
    assert {"biology", "math-aa", "tok"} <= subjects  # from "biología", "maths AA", "ToK"
    assert "examiner" in {r for row in rows for r in row.member.roles}  # "examinateur" among them


def test_loose_spellings_in_three_languages_resolve_and_repeats_collapse(cat: Catalogue) -> None:
    line = (
        "x@example.org,X,,,Examinateur; EXAMINER ;examinador,PD;pai,"
        "biología;ToK;maths AA,Español;FR;en-GB,,,,,,"
    )
    members, problems = parse(cat, line)
    assert problems == []
    (m,) = members
    assert m.roles == ("examiner",)
    assert m.programmes == ("dp", "myp")
    assert m.subjects == ("biology", "tok", "math-aa")
    assert m.languages == ("es", "fr", "en")


def test_empty_optional_cells_take_the_documented_defaults(cat: Catalogue) -> None:
    members, problems = parse(cat, ",Kwame,,381726354091827364,,,,,,,,,,")
    assert problems == []
    (m,) = members
    assert m.email is None and m.identities == {"discord": "381726354091827364"}
    assert m.open_to_questions is True and m.visibility == "listed"
    assert (m.roles, m.timezone, m.school) == ((), None, None)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        *[("yes", True), ("NO", False), ("true", True), ("false", False), ("1", True), ("0", False)],
        *[("oui", True), ("non", False), ("sí", True), ("si", True), ("", True)],
    ],
)
def test_open_to_questions_accepts_yes_and_no_in_three_languages(
    cat: Catalogue, cell: str, expected: bool
) -> None:
    members, problems = parse(cat, f"a@example.org,A,,,,,,,,,,,{cell},HIDDEN")
    assert problems == [] and members[0].open_to_questions is expected and members[0].visibility == "hidden"


def test_every_problem_of_every_row_is_reported_with_row_and_column(cat: Catalogue) -> None:
    bad = "bob@example,Bob,u12ab,123,examinatuer,XX,Biolgy,klingon,Europe/Madird,,,,maybe,secret"
    members, problems = parse(cat, ANA, bad, ",,,,,,,,,,,,,Hidden")
    assert [m.name for m in members] == ["Ana Ruiz"]
    assert problems == [
        "row 3, email: 'bob@example' is not an email address",
        "row 3, slack_id: 'u12ab' is not a Slack member id like 'U024ABC' (did you mean 'U12AB'?)",
        "row 3, discord_id: '123' is not a Discord user id (17 to 20 digits)",
        "row 3, roles: unknown role 'examinatuer' (did you mean Examiner?)",
        problems[4],  # the programme has no close match; checked below
        "row 3, subjects: unknown subject 'Biolgy' (did you mean Biology?)",
        problems[6],
        "row 3, timezone: 'Europe/Madird' is not an IANA time zone (did you mean 'Europe/Madrid'?)",
        "row 3, open_to_questions: expected yes or no, got 'maybe'",
        "row 3, visibility: expected listed or hidden, got 'secret'",
        "row 4, name: must not be empty",
        "row 4: needs an email, a slack_id or a discord_id to identify the member",
    ]
    assert problems[4].startswith("row 3, programmes: unknown programme 'XX'")
    assert problems[6].startswith("row 3, languages: unknown language 'klingon'")


def test_duplicates_inside_the_file_name_the_earlier_row(cat: Catalogue) -> None:
    members, problems = parse(
        cat,
        ANA,
        "",  # a blank line is still a spreadsheet row
        "ANA@example.org,Ana again,,,,,,,,,,,,",
        "other@example.org,Other,U024ABC,381726354091827364,,,,,,,,,,",
        "third@example.org,Third,,381726354091827364,,,,,,,,,,",
    )
    assert [m.name for m in members] == ["Ana Ruiz"]
    assert problems == [
        "row 4, email: 'ANA@example.org' is also on row 2",
        "row 5, slack_id: 'U024ABC' is also on row 2",
        "row 6, discord_id: '381726354091827364' is also on row 5",
    ]


def test_a_spreadsheet_mangled_discord_id_gets_a_hint(cat: Catalogue) -> None:
    _, problems = parse(cat, "a@example.org,A,,3.81726E+17,,,,,,,,,,")
    assert "format the column as text" in problems[0]


def test_header_in_any_order_with_bom_case_and_spaces_is_accepted(cat: Catalogue) -> None:
    columns = list(reversed(COLUMNS))
    header = "\ufeff" + ",".join(f"  {c.upper().replace('_', ' ')} " for c in columns)
    values = dict(zip(COLUMNS, ANA.split(","), strict=True))
    line = ",".join(values[c] for c in columns)
    members, problems = parse(cat, line, header=header)
    assert (
        problems == []
        and members[0].name == "Ana Ruiz"
        and members[0].roles == ("examiner", "workshop-leader")
    )


def test_a_bad_header_names_each_unknown_and_missing_column_and_nothing_is_read(cat: Catalogue) -> None:
    header = HEADER.replace("email", "emial").replace(",visibility", "")
    members, problems = parse(cat, ANA, header=header)
    assert members == []
    assert "row 1: unknown column 'emial' (did you mean 'email'?)" in problems
    assert "row 1: missing column 'email'" in problems
    assert "row 1: missing column 'visibility'" in problems


def test_semicolon_separated_files_from_european_spreadsheets_are_read(cat: Catalogue) -> None:
    header = ";".join(COLUMNS)
    line = 'ana@example.org;Ana Ruiz;U024ABC;;"examiner;workshop leader";DP;Biology;"es;en";;;;;;'
    members, problems = parse(cat, line, header=header)
    assert problems == [] and members[0].roles == ("examiner", "workshop-leader")


def test_values_beyond_the_header_are_reported(cat: Catalogue) -> None:
    _, problems = parse(cat, ANA + ",surprise")
    assert problems == ["row 2: unexpected value 'surprise' in column 15, which has no header"]


def test_comma_lists_get_a_hint_to_use_semicolons(cat: Catalogue) -> None:
    _, problems = parse(cat, 'a@example.org,A,,,,,"Biology, Chemistry",,,,,,,')
    assert problems[0].startswith("row 2, subjects: unknown subject 'Biology, Chemistry'")
    assert problems[0].endswith("separate several values with ';'")


def test_undecodable_bytes_are_one_clear_problem() -> None:
    text, problems = decode_csv(b"email,name\nb\xe9a@example.org,B\xe9a\n")
    assert text is None
    assert [str(p) for p in problems] == [
        "the file is not UTF-8 text (byte 0xe9 on line 2 cannot be read); "
        "save it as 'CSV UTF-8' and try again"
    ]
    assert decode_csv("\ufeffemail".encode()) == ("email", [])


def test_an_empty_file_asks_for_the_header(cat: Catalogue) -> None:
    rows, problems = parse_members_csv(b"", cat)
    assert rows == [] and len(problems) == 1 and "first line must be the header" in str(problems[0])


def test_problems_print_as_row_column_message() -> None:
    assert str(RowProblem(3, "timezone", "bad")) == "row 3, timezone: bad"
    assert str(RowProblem(3, "", "bad")) == "row 3: bad"
    assert str(RowProblem(0, "", "bad file")) == "bad file"


def _card(member: MemberInput, member_id: int = 1) -> MemberCard:
    return MemberCard(
        member_id=member_id,
        name=member.name,
        email=member.email,
        identities=dict(member.identities),
        roles=tuple(member.roles),
        programmes=tuple(member.programmes),
        subjects=tuple(member.subjects),
        languages=tuple(member.languages),
        timezone=member.timezone,
        region=member.region,
        school=member.school,
        department=member.department,
        locale="fr",  # not a CSV column: ignored by the format
        open_to_questions=member.open_to_questions,
        visibility=member.visibility,
    )


def test_format_writes_english_names_and_yes_no(cat: Catalogue) -> None:
    (member,), _ = parse(cat, ANA)
    text = format_members_csv([_card(member)], cat)
    assert text.splitlines() == [
        HEADER,
        "ana@example.org,Ana Ruiz,U024ABC,,Examiner;Workshop leader,DP,Biology,Spanish;English,"
        "Europe/Madrid,Europe,Colegio X,Science,yes,listed",
    ]


# -- properties ------------------------------------------------------------------------------------

ROLE_IDS = (
    "examiner",
    "principal-examiner",
    "team-leader",
    "workshop-leader",
    "head-of-school",
    "consultant",
)
PROGRAMME_IDS = ("pyp", "myp", "dp", "cp")
SUBJECT_IDS = (
    "biology",
    "math-aa",
    "math-ai",
    "tok",
    "language-a-literature",
    "english-a",
    "cas",
    "pyp-science",
)
LANGUAGE_IDS = ("en", "fr", "es", "zh", "ar", "ja", "de")
ZONES = ("Europe/Madrid", "America/Argentina/Buenos_Aires", "Asia/Kolkata", "UTC", "Pacific/Auckland")

_free_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp")), max_size=30
).map(str.strip)
_optional_text = _free_text.map(lambda s: s or None)
_email = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,12}@[a-z0-9-]{1,10}\.[a-z]{2,5}", fullmatch=True)
_slack = st.from_regex(r"[UW][A-Z0-9]{2,11}", fullmatch=True)
_discord = st.from_regex(r"[1-9][0-9]{16,19}", fullmatch=True)


def _ids(choices: tuple[str, ...]) -> st.SearchStrategy[tuple[str, ...]]:
    return st.lists(st.sampled_from(choices), unique=True, max_size=3).map(tuple)


@st.composite
def members(draw: st.DrawFn) -> MemberInput:
    email = draw(st.none() | _email)
    identities = {}
    if draw(st.booleans()) or email is None:
        identities["slack"] = draw(_slack)
    if draw(st.booleans()):
        identities["discord"] = draw(_discord)
    return MemberInput(
        name=draw(_free_text.filter(bool)),
        email=email,
        identities=identities,
        roles=draw(_ids(ROLE_IDS)),
        programmes=draw(_ids(PROGRAMME_IDS)),
        subjects=draw(_ids(SUBJECT_IDS)),
        languages=draw(_ids(LANGUAGE_IDS)),
        timezone=draw(st.none() | st.sampled_from(ZONES)),
        region=draw(_optional_text),
        school=draw(_optional_text),
        department=draw(_optional_text),
        open_to_questions=draw(st.booleans()),
        visibility=draw(st.sampled_from(("listed", "hidden"))),
    )


def _distinct(items: list[MemberInput]) -> list[MemberInput]:
    """Drop members that repeat an email or account of an earlier one (the parser rejects those)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for m in items:
        keys = {("email", m.email.lower())} if m.email else set()
        keys |= set(m.identities.items())
        if not keys & seen:
            seen |= keys
            out.append(m)
    return out


def test_the_property_catalogue_ids_exist(cat: Catalogue) -> None:
    for kind, ids in (
        ("role", ROLE_IDS),
        ("programme", PROGRAMME_IDS),
        ("subject", SUBJECT_IDS),
        ("language", LANGUAGE_IDS),
    ):
        assert all(cat.get(kind, i) is not None for i in ids), kind  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(members(), max_size=6).map(_distinct))
def test_format_then_parse_gives_back_the_same_members(cat: Catalogue, inputs: list[MemberInput]) -> None:
    text = format_members_csv([_card(m, i) for i, m in enumerate(inputs, start=1)], cat)
    rows, problems = parse_members_csv(text, cat)
    assert problems == []
    assert [r.member for r in rows] == inputs
    assert [r.row for r in rows] == list(range(2, len(inputs) + 2))  # no cell spans two rows here


_cells = st.lists(
    st.sampled_from(["", " ", "x", "U1", "Biology", "Europe/Madrid", '"', ";", ",", "\n", "yes", "a@b.co"])
    | st.text(max_size=8),
    max_size=16,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.one_of(
        st.text(),
        st.binary(),
        st.lists(_cells, max_size=5).map(lambda rows: "\n".join([HEADER, *(",".join(r) for r in rows)])),
    )
)
def test_parse_never_raises(cat: Catalogue, data: str | bytes) -> None:
    rows, problems = parse_members_csv(data, cat)
    assert all(isinstance(p, RowProblem) and str(p) for p in problems)
    assert {r.row for r in rows}.isdisjoint({p.row for p in problems})


def test_every_catalogue_term_survives_format_then_parse(cat: Catalogue) -> None:
    """English names are what an export writes: each must resolve exactly to its own term."""
    base = MemberInput(name="All", email="all@example.org")
    member = dataclasses.replace(
        base,
        roles=tuple(t.id for t in cat.terms("role")),
        programmes=tuple(t.id for t in cat.terms("programme")),
        subjects=tuple(t.id for t in cat.terms("subject")),
        languages=tuple(t.id for t in cat.terms("language")),
    )
    rows, problems = parse_members_csv(format_members_csv([_card(member)], cat), cat)
    assert problems == [] and [r.member for r in rows] == [member]
