"""The critical-mass report: per school, network members as a share of staff, and their spread.

The network's research finds a school benefits most when 20-30% of its staff are members, spread
across departments, so admins see each school against that band with its department and subject
mix. Pure computation and rendering: callers load cards and staff counts and post the result.
"""

from __future__ import annotations

import io
import unicodedata
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Literal, Protocol

from babel.numbers import format_percent

from bot.i18n import Translator
from bot.text_table import font_families, pad, shorten, width

if TYPE_CHECKING:
    from storage.members import MemberCard

CRITICAL_MASS = (0.20, 0.30)
TOP_N = 3  # departments and subjects named per school in the table
NAME_WIDTH = 40  # school names longer than this are shortened in the table and chart

Status = Literal["below", "within", "above", "unknown"]


class NamedTerm(Protocol):
    def name(self, locale: str, /) -> str: ...


class TermCatalogue(Protocol):
    """What the report needs of `bot.catalog.Catalogue`: a term's name in a language."""

    def get(self, kind: Literal["subject"], term_id: str, /) -> NamedTerm | None: ...


@dataclass(frozen=True)
class SchoolRow:
    school: str
    members: int
    staff: int | None
    share: float | None  # members / staff; None without a staff count
    status: Status
    departments: tuple[tuple[str, int], ...]  # (department, members), most first; "" = not given
    subjects: tuple[tuple[str, int], ...]  # (subject term id, members), most first


def school_key(name: str) -> str:
    """Sources differ in case and spacing of a school's name, not in the school."""
    return " ".join(name.split()).casefold()


def _sort_key(name: str) -> tuple[str, str]:
    """Alphabetical the way a reader expects: École sorts with the E's, not after Z."""
    folded = "".join(ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch))
    return folded.casefold(), name


def status_of(members: int, staff: int | None) -> Status:
    """Exact comparison (fractions), so 20 of 100 and 30 of 100 are within the band, not beside it."""
    if not staff:
        return "unknown"
    share = Fraction(members, staff)
    low, high = (Fraction(str(bound)) for bound in CRITICAL_MASS)
    if share < low:
        return "below"
    return "above" if share > high else "within"


def _tally(values: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """Count values that differ only in case or spacing as one, shown in their commonest spelling."""
    counts: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for value in values:
        clean = " ".join(value.split())
        key = clean.casefold()
        counts[key] += 1
        spellings.setdefault(key, Counter())[clean] += 1
    named = [(min(spellings[k].items(), key=lambda s: (-s[1], s[0]))[0], n) for k, n in counts.items()]
    return tuple(sorted(named, key=lambda item: (-item[1], item[0] == "", _sort_key(item[0]))))


def build_report(cards: Iterable[MemberCard], staff: Mapping[str, int]) -> list[SchoolRow]:
    """One row per school that has members or a staff count, sorted by school name.

    Hidden members count too: the report is an aggregate and names nobody. Members without a
    school are skipped. A school with a staff count and no member yet is listed (0%), since it is
    the one most in need of attention.
    """
    by_school: dict[str, list[MemberCard]] = {}
    spellings: dict[str, Counter[str]] = {}
    for card in cards:
        key = school_key(card.school or "")
        if not key:
            continue
        by_school.setdefault(key, []).append(card)
        spellings.setdefault(key, Counter())[" ".join((card.school or "").split())] += 1
    staff_by_key: dict[str, tuple[str, int]] = {}
    for name, count in staff.items():
        if school_key(name):
            staff_by_key[school_key(name)] = (" ".join(name.split()), count)

    rows: list[SchoolRow] = []
    for key in by_school.keys() | staff_by_key.keys():
        members = by_school.get(key, [])
        if key in staff_by_key:
            name, head_count = staff_by_key[key]
            staff_count: int | None = head_count if head_count > 0 else None
        else:
            name = min(spellings[key].items(), key=lambda s: (-s[1], s[0]))[0]
            staff_count = None
        rows.append(
            SchoolRow(
                school=name,
                members=len(members),
                staff=staff_count,
                share=len(members) / staff_count if staff_count else None,
                status=status_of(len(members), staff_count),
                departments=_tally(card.department or "" for card in members),
                subjects=_tally_ids(subject for card in members for subject in dict.fromkeys(card.subjects)),
            )
        )
    return sorted(rows, key=lambda row: _sort_key(row.school))


def _tally_ids(ids: Iterable[str]) -> tuple[tuple[str, int], ...]:
    """Term ids are exact; most members first, then by id for a stable order."""
    return tuple(sorted(Counter(ids).items(), key=lambda item: (-item[1], item[0])))


def _percent(share: float, locale: str) -> str:
    return format_percent(share, "0.0%", locale=locale)


def _top(items: Sequence[tuple[str, int]], label: Mapping[str, str]) -> str:
    shown = ", ".join(f"{label.get(name, name)} ({count})" for name, count in items[:TOP_N])
    rest = len(items) - TOP_N
    return f"{shown}, +{rest}" if rest > 0 else shown or "—"


def render_table(rows: Sequence[SchoolRow], t: Translator, *, catalogue: TermCatalogue | None = None) -> str:
    """A monospace table for chat and the terminal, with the band and what to do about gaps.

    Subject names come from the catalogue in the reader's language (the default catalogue when
    none is given); an id the catalogue does not know is shown as it is.
    """
    if not rows:
        return t.gettext("No member has a school in their profile yet, and no staff counts are known.")
    if catalogue is None:
        from bot.catalog import Catalogue

        catalogue = Catalogue.default()
    status_names: dict[Status, str] = {
        "below": t.gettext("below"),
        "within": t.gettext("within"),
        "above": t.gettext("above"),
        "unknown": t.gettext("no staff count"),
    }
    subject_names: dict[str, str] = {}
    for row in rows:
        for term_id, _count in row.subjects[:TOP_N]:
            if term_id not in subject_names:
                term = catalogue.get("subject", term_id)
                subject_names[term_id] = term.name(t.locale) if term is not None else term_id
    department_names = {"": t.gettext("no department")}

    header = [
        t.gettext("School"),
        t.gettext("Members"),
        t.gettext("Staff"),
        t.gettext("Share"),
        t.gettext("Status"),
        t.gettext("Top departments"),
        t.gettext("Top subjects"),
    ]
    body = [
        [
            shorten(row.school, NAME_WIDTH),
            str(row.members),
            str(row.staff) if row.staff is not None else "—",
            _percent(row.share, t.locale) if row.share is not None else "—",
            status_names[row.status],
            _top(row.departments, department_names),
            _top(row.subjects, subject_names),
        ]
        for row in rows
    ]
    right = (False, True, True, True, False, False, False)
    widths = [max(width(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(pad(cell, widths[i], right[i]) for i, cell in enumerate(line)).rstrip()
        for line in [header, *body]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    low, high = (round(bound * 100) for bound in CRITICAL_MASS)
    lines.append("")
    lines.append(
        t.gettext(
            "Critical mass: {low}–{high}% of a school's staff are network members, across departments."
        ).format(low=low, high=high)
    )
    unknown = sum(1 for row in rows if row.status == "unknown")
    if unknown:
        lines.append(
            t.ngettext(
                "{n} school has no staff count: an admin can add it to see its share.",
                "{n} schools have no staff count: an admin can add them to see their share.",
                unknown,
            ).format(n=unknown)
        )
    return "\n".join(lines)


STATUS_COLORS: dict[Status, str] = {  # colour-blind safe (Okabe-Ito)
    "below": "#E69F00",
    "within": "#009E73",
    "above": "#0072B2",
    "unknown": "#999999",
}


def render_png(rows: Sequence[SchoolRow], t: Translator) -> bytes:
    """A bar chart to post in chat: each school's members as % of staff against the 20-30% band.

    Built on a bare Agg Figure (no pyplot), so no global figure registry can leak and no window is
    ever opened; no timestamp goes into the file, so the same report gives the same bytes.
    """
    import matplotlib

    with warnings.catch_warnings(), matplotlib.rc_context({"font.family": list(font_families())}):
        # A glyph no installed font has is drawn as a box; saying so on every render is noise.
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        return _draw_chart(rows, t)


def _draw_chart(rows: Sequence[SchoolRow], t: Translator) -> bytes:
    """Margins are measured once instead of using a layout engine, which would draw twice."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    width_in, dpi, row_in, top_in, bottom_in = 10.0, 100, 0.34, 0.95, 0.62
    height_in = top_in + bottom_in + row_in * max(len(rows), 3)
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()

    low, high = (bound * 100 for bound in CRITICAL_MASS)
    known = [row.share * 100 for row in rows if row.share is not None]
    x_max = max([high * 1.5, *(share * 1.18 + 4 for share in known)])
    ax.set_xlim(0, x_max)
    ax.axvspan(low, high, color=STATUS_COLORS["within"], alpha=0.12, zorder=0)
    for bound in (low, high):
        ax.axvline(bound, color=STATUS_COLORS["within"], linestyle="--", linewidth=1.2, zorder=1)
    ax.xaxis.set_major_formatter(lambda value, _pos: f"{value:.0f}%")
    ax.grid(axis="x", color="#dddddd", linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    ax.set_xlabel(t.gettext("Members as % of staff"))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)

    positions = list(range(len(rows)))
    ax.barh(
        positions,
        [row.share * 100 if row.share is not None else 0 for row in rows],
        color=[STATUS_COLORS[row.status] for row in rows],
        height=0.65,
        zorder=2,
    )
    label_box = {"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.75}
    for y, row in zip(positions, rows, strict=True):
        if row.share is None:
            note = t.ngettext(
                "no staff count ({n} member)", "no staff count ({n} members)", row.members
            ).format(n=row.members)
            ax.text(x_max * 0.01, y, note, va="center", fontsize=9, style="italic", color="#555555")
        else:
            label = f"{_percent(row.share, t.locale)}  ({row.members}/{row.staff})"
            x = row.share * 100 + x_max * 0.008
            ax.text(x, y, label, va="center", fontsize=9, color="#222222", bbox=label_box, zorder=3)
    ax.set_yticks(positions, [shorten(row.school, 36) for row in rows], fontsize=10)
    ax.set_ylim(max(len(rows), 3) - 0.5, -0.5)  # first school at the top, like the table
    if not rows:
        ax.text(
            x_max / 2,
            1,
            t.gettext("No schools to show yet."),
            ha="center",
            va="center",
            color="#555555",
            bbox=label_box,
        )

    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
    labels_px = max((label.get_window_extent(renderer).width for label in ax.get_yticklabels()), default=0.0)
    left = (labels_px + 0.2 * dpi) / (width_in * dpi)
    fig.subplots_adjust(
        left=left, right=1 - 0.3 / width_in, top=1 - top_in / height_in, bottom=bottom_in / height_in
    )

    fig.text(
        0.01,
        1 - 0.12 / height_in,
        t.gettext("Network members as a share of school staff"),
        fontsize=14,
        va="top",
    )
    band = t.gettext("critical mass {low}–{high}%").format(low=round(low), high=round(high))
    legend = [
        Patch(
            facecolor=STATUS_COLORS["within"],
            alpha=0.25,
            edgecolor=STATUS_COLORS["within"],
            linestyle="--",
            label=band,
        ),
        Patch(color=STATUS_COLORS["below"], label=t.gettext("below")),
        Patch(color=STATUS_COLORS["within"], label=t.gettext("within")),
        Patch(color=STATUS_COLORS["above"], label=t.gettext("above")),
    ]
    fig.legend(
        handles=legend,
        loc="upper left",
        bbox_to_anchor=(0.005, 1 - 0.5 / height_in),
        ncols=4,
        frameon=False,
        fontsize=9,
        borderaxespad=0,
    )

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
