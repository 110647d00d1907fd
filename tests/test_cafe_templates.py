"""World Café templates: the three shipped cafés, admin overrides, and error reporting on bad files."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.cafe.templates import (
    Round,
    Template,
    TemplateError,
    available,
    builtin_dir,
    load_template,
    table_count,
)

LOCALES = ("en", "fr", "es")
BUILTIN = builtin_dir()

# What the seed sessions did: rounds and their minutes, and the thinking routines used.
EXPECTED = {
    # April 2024: five 5-minute rotations, one IB World School promise each, "Feelings and Options".
    "coordinators-2024-04": {"minutes": [5, 5, 5, 5, 5], "routines": {"Feelings and Options"}},
    # September 2024: What? / So what? / Now what?, See-Think-Wonder then Color-Symbol-Image.
    "coordinators-2024-09": {"minutes": [6, 6, 8, 8], "routines": {"See-Think-Wonder", "Color-Symbol-Image"}},
    # March 2025: four rounds on the four World Café provocations.
    "coordinators-2025-03": {"minutes": [5, 5, 5, 5], "routines": {"Inquiry, action and reflection"}},
}

MINIMAL = """\
title = "My café"
welcome = "Welcome"
harvest = "Desserts"
takeout = "Take-out"
per_table = 4

[routines.stw]
name = "See-Think-Wonder"
steps = "See · Think · Wonder"

[[rounds]]
question = "What do you notice?"
routine = "stw"
minutes = 5
"""


def write(folder: Path, name: str, text: str | bytes) -> Path:
    path = folder / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def texts(template: Template) -> list[tuple[str, str]]:
    """Every text field of a template view, with a name for messages."""
    fields = [("title", template.title), ("welcome", template.welcome)]
    fields += [("harvest", template.harvest), ("takeout", template.takeout)]
    for number, round_ in enumerate(template.rounds, start=1):
        fields += [(f"round {number} question", round_.question), (f"round {number} routine", round_.routine)]
        fields += [(f"round {number} steps", round_.steps)]
    fields += [(f"backpack {i}", text) for i, text in enumerate(template.backpack, start=1)]
    fields += [(f"breakout {i}", text) for i, text in enumerate(template.breakouts, start=1)]
    return fields


def problems_of(path: Path, locale: str = "en") -> list[str]:
    with pytest.raises(TemplateError) as caught:
        load_template(path, locale)
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


# -- the shipped templates ----------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_builtin_templates_load_with_the_seed_rounds(locale: str) -> None:
    templates = available([BUILTIN], locale)
    assert set(templates) == set(EXPECTED)
    for template_id, expected in EXPECTED.items():
        template = templates[template_id]
        assert template.id == template_id
        assert template.locale == locale
        assert [r.minutes for r in template.rounds] == expected["minutes"]
        assert (template.tables is None) != (template.per_table is None)
        assert template.source.endswith(f"{template_id}.toml")
        assert len(template.backpack) >= 3 and len(template.breakouts) == 4
        if locale == "en":
            assert {r.routine for r in template.rounds} == expected["routines"]


def test_builtin_templates_follow_the_seeds() -> None:
    april = load_template(BUILTIN / "coordinators-2024-04.toml", "en")
    assert "deliver what we" in april.welcome and "backpack" in april.welcome
    assert all(r.steps.startswith("Identify:") and "Say:" in r.steps for r in april.rounds)
    promises = ["inquiring, knowledgeable and caring", "better and more peaceful world", "intercultural"]
    promises += ["lifelong learners", "can also be right"]
    assert all(p in r.question for p, r in zip(promises, april.rounds, strict=True))
    assert april.harvest.startswith("Desserts") and april.takeout.startswith("Take-out")

    march = load_template(BUILTIN / "coordinators-2025-03.toml", "en")
    assert "culture of belonging" in march.welcome
    questions = [r.question for r in march.rounds]
    assert questions[0].startswith("What do you need to be able to facilitate these actions?")
    assert "Leadership 2.1" in questions[1]
    assert questions[2].startswith("How will you lead so that teachers can do this")
    assert questions[3].startswith("How can you work with the leaders in your school to achieve this?")

    september = load_template(BUILTIN / "coordinators-2024-09.toml", "en")
    assert [r.routine for r in september.rounds] == ["See-Think-Wonder"] * 2 + ["Color-Symbol-Image"] * 2
    assert "What does belonging mean" in september.rounds[1].question
    assert "IB Dreams to Action" in september.rounds[3].question
    assert any("Geoffrey Cohen" in idea for idea in september.backpack)


@pytest.mark.parametrize("template_id", sorted(EXPECTED))
def test_every_text_is_translated(template_id: str) -> None:
    views = {locale: load_template(BUILTIN / f"{template_id}.toml", locale) for locale in LOCALES}
    english = texts(views["en"])
    for locale in LOCALES:
        fields = texts(views[locale])
        assert [name for name, _ in fields] == [name for name, _ in english]
        for (name, text), (_, en_text) in zip(fields, english, strict=True):
            assert text.strip(), f"{template_id} {locale} {name} is empty"
            assert text == text.strip()
            if locale != "en":
                assert text != en_text, f"{template_id} {locale} {name} is not translated"
    # vous / usted register, not tu / tú
    french = " ".join(text for _, text in texts(views["fr"]))
    spanish = " ".join(text for _, text in texts(views["es"]))
    assert " vous " in french and " tu " not in french
    assert " su " in spanish and " tú " not in spanish and " tu " not in spanish


def test_locale_is_normalised_and_unknown_falls_back_to_english() -> None:
    path = BUILTIN / "coordinators-2024-04.toml"
    assert load_template(path, "fr-CA").locale == "fr"
    assert load_template(path, "ES_419").title == load_template(path, "es").title
    german = load_template(path, "de")
    assert german.locale == "en" and german.title == load_template(path, "en").title


def test_missing_translation_falls_back_to_english(tmp_path: Path) -> None:
    text = MINIMAL.replace('title = "My café"', 'title.en = "My café"\ntitle.fr = "Mon café"')
    path = write(tmp_path, "mine.toml", text)
    assert load_template(path, "fr").title == "Mon café"
    assert load_template(path, "es").title == "My café"  # no Spanish: English
    assert load_template(path, "es").rounds == (
        Round("What do you notice?", "See-Think-Wonder", "See · Think · Wonder", 5),
    )
    assert load_template(path, "en").backpack == ()


def test_table_form_of_translations(tmp_path: Path) -> None:
    text = MINIMAL.replace('welcome = "Welcome"\n', "") + '\n[welcome]\nen = """\nHello\n"""\nes = "Hola"\n'
    path = write(tmp_path, "tables-form.toml", text)
    assert load_template(path, "en").welcome == "Hello"
    assert load_template(path, "es").welcome == "Hola"


# -- admin folders ------------------------------------------------------------------------------------


def test_admin_folder_overrides_a_builtin_id(tmp_path: Path) -> None:
    write(tmp_path, "coordinators-2024-04.toml", MINIMAL.replace("My café", "Our own April café"))
    write(tmp_path, "extra.toml", MINIMAL)
    templates = available([BUILTIN, tmp_path], "en")
    assert set(templates) == set(EXPECTED) | {"extra"}
    assert list(templates) == sorted(templates)
    assert templates["coordinators-2024-04"].title == "Our own April café"
    assert templates["coordinators-2024-04"].source == str(tmp_path / "coordinators-2024-04.toml")
    assert templates["coordinators-2025-03"].source.startswith(str(BUILTIN))
    # the other order: the built-in folder wins
    assert available([tmp_path, BUILTIN], "en")["coordinators-2024-04"].source.startswith(str(BUILTIN))


def test_broken_admin_file_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(tmp_path, "coordinators-2024-04.toml", MINIMAL.replace("minutes = 5", "minutes = 500"))
    write(tmp_path, "garbage.toml", b"\xff\xfe not toml [[[")
    write(tmp_path, "notes.txt", "ignored: not a .toml file")
    (tmp_path / "folder.toml").mkdir()
    with caplog.at_level(logging.WARNING, logger="bot.cafe.templates"):
        templates = available([BUILTIN, tmp_path, tmp_path / "missing"], "es")
    assert set(templates) == set(EXPECTED)
    assert templates["coordinators-2024-04"].source.startswith(str(BUILTIN))  # the built-in one stays
    logged = caplog.text
    assert "coordinators-2024-04.toml: [[rounds]] #1 minutes: expected a whole number of minutes" in logged
    assert "garbage.toml: not UTF-8 text" in logged


# -- table_count --------------------------------------------------------------------------------------


def test_table_count() -> None:
    april = load_template(BUILTIN / "coordinators-2024-04.toml", "en")  # tables = 5
    march = load_template(BUILTIN / "coordinators-2025-03.toml", "en")  # per_table = 4
    assert april.tables == 5 and march.per_table == 4
    assert [table_count(april, n) for n in (0, 1, 2, 3, 4, 5, 9, 10, 11, 40)] == [
        1,
        1,
        1,
        1,
        2,
        2,
        4,
        5,
        5,
        5,
    ]
    assert [table_count(march, n) for n in (0, 1, 4, 5, 8, 9, 23, 60)] == [1, 1, 1, 2, 2, 3, 6, 15]
    assert table_count(march, -3) == 1


# -- broken files -------------------------------------------------------------------------------------


def test_structural_problems_are_all_listed(tmp_path: Path) -> None:
    text = """\
titel = "typo"
welcome = ""
harvest = 3
tables = 4
per_table = 5
backpack = "not a list"

[routines.stw]
name.en = "See-Think-Wonder"
name.de = "Sehen"
step = "typo"

[[rounds]]
question.fr = "Seulement en français"
routine = "swt"
minutes = 0
colour = "blue"

[[rounds]]
question = "Fine"
routine = "stw"
minutes = "5"

[[rounds]]
question = "Fine"
routine = "stw"
minutes = 61
"""
    path = write(tmp_path, "broken.toml", text)
    problems = problems_of(path)
    src = str(path)
    expected = [
        f"{src}: titel: unknown key (did you mean 'title'?)",
        f"{src}: title: required (a text, or a table of translations en/fr/es)",
        f"{src}: welcome: is empty",
        f"{src}: harvest: expected a text or a table of translations (en, fr, es), got the number 3",
        f"{src}: takeout: required (a text, or a table of translations en/fr/es)",
        f"{src}: backpack: expected a list of texts ([[backpack]] items), got a text",
        f"{src}: tables/per_table: set exactly one: tables = N (a fixed number of tables) or per_table = N "
        "(people per table); both are set",
        f"{src}: [routines.stw] step: unknown key (did you mean 'steps'?)",
        f"{src}: [routines.stw] name.de: unknown language (expected en, fr or es)",
        f"{src}: [routines.stw] steps: required",
        f"{src}: [[rounds]] #1 colour: unknown key",
        f"{src}: [[rounds]] #1 question: needs an English text (en); French and Spanish fall back to it",
        f"{src}: [[rounds]] #1 routine: no [routines.swt] table (did you mean 'stw'?) (defined: stw)",
        f"{src}: [[rounds]] #1 minutes: expected a whole number of minutes from 1 to 60, got 0",
        f"{src}: [[rounds]] #2 minutes: expected a whole number of minutes from 1 to 60, got '5'",
        f"{src}: [[rounds]] #3 minutes: expected a whole number of minutes from 1 to 60, got 61",
    ]
    assert sorted(problems) == sorted(expected)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("per_table = 4\n", ""), "tables/per_table: set exactly one"),
        (("per_table = 4", "per_table = 1"), "per_table: expected a whole number from 2 to 12, got 1"),
        (("per_table = 4", "tables = 0"), "tables: expected a whole number from 1 to 50, got 0"),
        (("per_table = 4", "tables = true"), "tables: expected a whole number from 1 to 50, got true"),
        (("minutes = 5", "minutes = 5.0"), "[[rounds]] #1 minutes: expected a whole number of minutes"),
        (("minutes = 5", "minutes = true"), "[[rounds]] #1 minutes: expected a whole number of minutes"),
        (("minutes = 5\n", ""), "[[rounds]] #1 minutes: required"),
        (('routine = "stw"\n', ""), "[[rounds]] #1 routine: required"),
        (
            ('routine = "stw"', "routine = 3"),
            "[[rounds]] #1 routine: expected the KEY of a [routines.KEY] table",
        ),
        (('question = "What do you notice?"\n', ""), "[[rounds]] #1 question: required"),
        (('question = "What do you notice?"', 'question = "  "'), "[[rounds]] #1 question: is empty"),
        (('title = "My café"', 'title = {en = "x", fr = ""}'), "title.fr: is empty"),
        (('title = "My café"', 'title = {en = "x", fr = 2}'), "title.fr: expected a text, got the number 2"),
        (('title = "My café"', 'title = ["x"]'), "title: expected a text or a table of translations"),
        (('title = "My café"', "title = 1979-05-27"), "title: expected a text or a table of translations"),
        (("[routines.stw]", "[routines.other]"), "[[rounds]] #1 routine: no [routines.stw] table"),
        (("[[rounds]]", "[[roundz]]"), "roundz: unknown key (did you mean 'rounds'?)"),
        (("[[rounds]]", "[rounds]"), "rounds: expected [[rounds]] tables, got a table"),
        (
            ('name = "See-Think-Wonder"', 'name = "See-Think-Wonder"\n[routines.bad]'),
            "[routines.bad] name: required",
        ),
        (
            ("[routines.stw]", "routines = 5\n[unused]"),
            "routines: expected [routines.KEY] tables, got the number 5",
        ),
        (
            ('takeout = "Take-out"', 'takeout = "Take-out"\nbreakouts = [1, "ok"]'),
            "[[breakouts]] #1: expected a text",
        ),
    ],
)
def test_each_problem_has_a_clear_line(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    old, new = change
    assert old in MINIMAL
    path = write(tmp_path, "case.toml", MINIMAL.replace(old, new, 1))
    problems = problems_of(path)
    assert any(line.startswith(f"{path}: ") and message in line for line in problems), problems


def test_round_count_limits(tmp_path: Path) -> None:
    head, _, round_text = MINIMAL.partition("[[rounds]]")
    none = write(tmp_path, "none.toml", "rounds = []\n" + head)
    assert problems_of(none) == [f"{none}: rounds: expected 1 to 8 [[rounds]], got 0"]
    missing = write(tmp_path, "missing.toml", head)
    assert problems_of(missing) == [
        f"{missing}: rounds: required: 1 to 8 [[rounds]] with question, routine and minutes"
    ]
    nine = write(tmp_path, "nine.toml", head + ("[[rounds]]" + round_text) * 9)
    assert problems_of(nine) == [f"{nine}: rounds: expected 1 to 8 [[rounds]], got 9"]
    eight = write(tmp_path, "eight.toml", head + ("[[rounds]]" + round_text) * 8)
    assert len(load_template(eight, "en").rounds) == 8


def test_file_level_problems(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.toml"
    assert problems_of(missing) == [f"{missing}: file not found"]
    bad_toml = write(tmp_path, "bad.toml", 'title = "unterminated\n')
    [line] = problems_of(bad_toml)
    assert line.startswith(f"{bad_toml}: not valid TOML: ")
    latin1 = write(tmp_path, "latin.toml", MINIMAL.encode("latin-1"))
    [line] = problems_of(latin1)
    assert line.startswith(f"{latin1}: not UTF-8 text")
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    [line] = problems_of(folder)
    assert line.startswith(f"{folder}: cannot read the file")
    bad_id = write(tmp_path, "My Café.toml", MINIMAL)
    [line] = problems_of(bad_id)
    assert line.startswith(f"{bad_id}: file name: template id 'My Café' must be lowercase letters")
    duplicate = write(tmp_path, "dup.toml", 'title = "again"\n' + MINIMAL)
    [line] = problems_of(duplicate)
    assert "not valid TOML" in line
    bom = write(tmp_path, "bom.toml", b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load_template(bom, "en").title == "My café"
    deep = write(tmp_path, "deep.toml", "title = " + "[" * 50_000 + "]" * 50_000 + "\n")
    [line] = problems_of(deep)
    assert line.startswith(f"{deep}: not valid TOML")


# -- hypothesis: garbage never raises anything but TemplateError -----------------------------------------


def to_toml(value: Any) -> str:
    """A small TOML writer (inline tables and arrays; JSON string escapes are valid TOML escapes)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(to_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {to_toml(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def document(raw: dict[str, Any]) -> str:
    return "".join(f"{json.dumps(key)} = {to_toml(value)}\n" for key, value in raw.items())


KNOWN_KEYS = ["title", "welcome", "harvest", "takeout", "tables", "per_table", "backpack", "breakouts"]
KNOWN_KEYS += ["routines", "rounds", "question", "routine", "minutes", "name", "steps", "en", "fr", "es", ""]
KEYS = st.sampled_from(KNOWN_KEYS) | st.text(max_size=8)
SCALARS = (
    st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats()
    | st.text(max_size=20)
    | st.dates()
    | st.times()
    | st.datetimes()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=20,
)


def load_text(data: bytes, name: str = "fuzz.toml") -> Template | None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            template = load_template(path, "fr")
        except TemplateError as exc:
            assert exc.problems
            assert all(line.startswith(f"{path}: ") for line in exc.problems)
            return None
        assert template.rounds and template.title
        return template


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_random_bytes_only_ever_raise_template_error(data: bytes) -> None:
    load_text(data)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, VALUES, max_size=8))
def test_structurally_wrong_toml_only_ever_raises_template_error(raw: dict[str, Any]) -> None:
    load_text(document(raw).encode("utf-8", "surrogatepass"))


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


def mutate(raw: Any, path: tuple[Any, ...], action: str, value: Any) -> None:
    *parents, last = path
    container = raw
    for key in parents:
        container = container[key]
    if action == "delete":
        del container[last]
    elif action == "replace":
        container[last] = value
    elif isinstance(container, dict):
        container[f"{last}_extra"] = value
    else:
        container.append(value)


def builtin_raw(template_id: str) -> dict[str, Any]:
    with (BUILTIN / f"{template_id}.toml").open("rb") as fh:
        return tomllib.load(fh)


@pytest.mark.parametrize("template_id", sorted(EXPECTED))
def test_toml_writer_round_trips_the_builtins(template_id: str) -> None:
    template = load_text(document(builtin_raw(template_id)).encode(), f"{template_id}.toml")
    assert template is not None
    original = load_template(BUILTIN / f"{template_id}.toml", "fr")
    assert template.rounds == original.rounds and template.welcome == original.welcome


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_builtin_templates_only_ever_raise_template_error(data: st.DataObject) -> None:
    template_id = data.draw(st.sampled_from(sorted(EXPECTED)))
    raw = builtin_raw(template_id)
    for _ in range(data.draw(st.integers(1, 3))):
        places = paths(raw)
        if not places:
            break
        path = data.draw(st.sampled_from(places))
        action = data.draw(st.sampled_from(["delete", "replace", "add"]))
        mutate(raw, path, action, data.draw(VALUES))
    load_text(document(raw).encode("utf-8", "surrogatepass"), f"{template_id}.toml")
