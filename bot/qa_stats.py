"""/qa-stats rendering: is the network keeping its promise of an answer within six minutes?

A monospace table (for a code block), the top helpers as chat lines (mentions do not work inside a
code block), and a PNG chart of the median time to a first answer per subject. Pure rendering: the
numbers come from `storage.qa_stats`.
"""

from __future__ import annotations

import io
import textwrap
import warnings
from collections.abc import Callable
from typing import Literal, Protocol

from babel.numbers import format_percent

from bot.i18n import Translator
from bot.text_table import font_families, pad, shorten, width
from storage.qa_stats import PROMISE_SECONDS, GroupStats, Helper, QAStats

MAX_ROWS = 8  # per breakdown in the table: chat messages have a length limit
MAX_CHART_ROWS = 12  # subjects in the chart, most asked first
LABEL_WIDTH = 24  # columns for a subject, region or language name in the table
NONE = "—"
PLATFORM_NAMES = {"slack": "Slack", "discord": "Discord", "console": "console"}

ON_TIME_COLOR = "#009E73"  # colour-blind safe (Okabe-Ito), as in the school report
LATE_COLOR = "#E69F00"
P90_COLOR = "#333333"


class NamedTerm(Protocol):
    def name(self, locale: str, /) -> str: ...


class TermCatalogue(Protocol):
    """What rendering needs of `bot.catalog.Catalogue`: a term's name in the reader's language."""

    def get(self, kind: Literal["subject", "language"], term_id: str, /) -> NamedTerm | None: ...


def _default_catalogue() -> TermCatalogue:
    from bot.catalog import Catalogue

    return Catalogue.default()


def _days(stats: QAStats) -> int:
    return max(1, round((stats.until - stats.since).total_seconds() / 86400))


def format_duration(seconds: float | None, t: Translator) -> str:
    """Compact and rounded to what matters at that size: "40 s", "4 min", "1 h 20 min", "2 d 3 h"."""
    if seconds is None:
        return NONE
    whole = round(seconds)
    if whole < 60:
        return t.gettext("{seconds} s").format(seconds=whole)
    minutes = round(whole / 60)
    if minutes < 60:
        return t.gettext("{minutes} min").format(minutes=minutes)
    if minutes < 24 * 60:
        hours, minutes = divmod(minutes, 60)
        if minutes == 0:
            return t.gettext("{hours} h").format(hours=hours)
        return t.gettext("{hours} h {minutes} min").format(hours=hours, minutes=minutes)
    days, hours = divmod(round(whole / 3600), 24)
    if hours == 0:
        return t.gettext("{days} d").format(days=days)
    return t.gettext("{days} d {hours} h").format(days=days, hours=hours)


def _percent(share: float, locale: str) -> str:
    return format_percent(share, "0%", locale=locale)


def _identity(text: str) -> str:
    return text


def _group_names(
    stats: QAStats, t: Translator, catalogue: TermCatalogue
) -> tuple[Callable[[GroupStats], str], Callable[[GroupStats], str], Callable[[GroupStats], str]]:
    """Display names for subject, region and language rows; an unknown term id is shown as it is."""

    def term(kind: Literal["subject", "language"]) -> Callable[[GroupStats], str]:
        def name(row: GroupStats) -> str:
            if row.key is None:
                return NONE
            found = catalogue.get(kind, row.key)
            return found.name(t.locale) if found is not None else row.key

        return name

    def region(row: GroupStats) -> str:
        return row.key if row.key is not None else NONE

    return term("subject"), region, term("language")


def render_table(
    stats: QAStats,
    t: Translator,
    *,
    catalogue: TermCatalogue | None = None,
    escape: Callable[[str], str] = _identity,
) -> str:
    """The numbers as a monospace table: overall, then by subject, region and language.

    `escape` neutralises member-typed text (regions, unknown term ids) for the platform; backticks
    are replaced as well, so no name can close the code block the table is posted in.
    """
    days = _days(stats)
    if stats.overall.asked == 0:
        return t.ngettext(
            "No questions were asked in the last {days} day.",
            "No questions were asked in the last {days} days.",
            days,
        ).format(days=days)
    catalogue = catalogue or _default_catalogue()
    minutes = PROMISE_SECONDS // 60
    subject_name, region_name, language_name = _group_names(stats, t, catalogue)

    def cells(label: str, row: GroupStats) -> list[str]:
        return [
            shorten(escape(label).replace("`", "'"), LABEL_WIDTH),
            str(row.asked),
            _percent(row.answered_share, t.locale),
            _percent(row.solved_share, t.locale),
            _percent(row.on_time_share, t.locale),
            format_duration(row.median_seconds, t),
            format_duration(row.p90_seconds, t),
        ]

    header = [
        "",
        t.gettext("Asked"),
        t.gettext("Answered"),
        t.gettext("Solved"),
        t.gettext("≤ {minutes} min").format(minutes=minutes),
        t.gettext("Median"),
        t.gettext("p90"),
    ]
    sections: list[tuple[str, list[list[str]], int]] = []  # (title, rows, rows left out)
    for title, rows, name in (
        (t.gettext("By subject"), stats.by_subject, subject_name),
        (t.gettext("By asker's region"), stats.by_region, region_name),
        (t.gettext("By language"), stats.by_language, language_name),
    ):
        shown = [cells(name(row), row) for row in rows[:MAX_ROWS]]
        sections.append((title, shown, max(0, len(rows) - MAX_ROWS)))
    overall = cells(t.gettext("All questions"), stats.overall)
    every_row = [header, overall, *(row for _, rows, _ in sections for row in rows)]
    widths = [max(width(row[i]) for row in every_row) for i in range(len(header))]

    def line(row: list[str]) -> str:
        return "  ".join(pad(cell, widths[i], i > 0) for i, cell in enumerate(row)).rstrip()

    lines = [
        t.ngettext(
            "Questions asked in the last {days} day", "Questions asked in the last {days} days", days
        ).format(days=days),
        "",
        line(header),
        "  ".join("-" * w for w in widths),
        line(overall),
    ]
    for title, shown_rows, left_out in sections:
        lines += ["", title, *(line(row) for row in shown_rows)]
        if left_out:
            lines.append(t.ngettext("… and {n} more", "… and {n} more", left_out).format(n=left_out))
    note = t.gettext(
        "Answered, solved and ≤ {minutes} min are shares of the questions asked; median and p90 "
        "are the time to a first answer, over answered questions. Our promise: an answer within "
        "{minutes} minutes."
    ).format(minutes=minutes)
    lines += ["", *textwrap.wrap(note, width=max(sum(widths) + 2 * (len(widths) - 1), 60))]
    return "\n".join(lines)


def helper_name(
    helper: Helper,
    t: Translator,
    *,
    platform: str,
    mention: Callable[[str], str],
    escape: Callable[[str], str],
) -> str:
    """A mention where the helper is on the reader's platform, else their name (or platform account)."""
    user_id = helper.identities.get(platform) if helper.member_id is not None else None
    if user_id is None and helper.platform == platform:
        user_id = helper.user_id
    if user_id:
        return mention(user_id)
    if helper.name:
        return escape(helper.name)
    return t.gettext("{user} on {platform}").format(
        user=escape(helper.user_id), platform=PLATFORM_NAMES.get(helper.platform, escape(helper.platform))
    )


def render_helpers(
    stats: QAStats,
    t: Translator,
    *,
    platform: str,
    mention: Callable[[str], str],
    escape: Callable[[str], str] = _identity,
) -> str:
    """The top helpers as chat lines, to post after the table: a mention inside a code block would
    show as raw markup instead of a name."""
    if not stats.helpers:
        return t.gettext("No first answers in this period yet.")
    lines = [t.gettext("Top helpers (first answers):")]
    for rank, helper in enumerate(stats.helpers, 1):
        who = helper_name(helper, t, platform=platform, mention=mention, escape=escape)
        lines.append(
            t.ngettext(
                "{rank}. {who}: {n} first answer", "{rank}. {who}: {n} first answers", helper.first_answers
            ).format(rank=rank, who=who, n=helper.first_answers)
        )
    return "\n".join(lines)


def render_png(stats: QAStats, t: Translator, *, catalogue: TermCatalogue | None = None) -> bytes:
    """Median minutes to a first answer per subject against the six-minute promise, with p90 and the
    answered share beside each bar.

    A bare Agg Figure (no pyplot: no global figure registry, no window) and no timestamp in the
    file, so the same numbers always give the same bytes.
    """
    import matplotlib

    with warnings.catch_warnings(), matplotlib.rc_context({"font.family": list(font_families())}):
        warnings.filterwarnings("ignore", message="Glyph .* missing from", category=UserWarning)
        return _draw_chart(stats, t, catalogue or _default_catalogue())


# Axis ticks about five times apart, so their labels never collide; 6 min is the promise itself.
TICKS_MINUTES = (0.25, 1, 6, 30, 2 * 60, 12 * 60, 2 * 1440, 7 * 1440, 30 * 1440)


def _draw_chart(stats: QAStats, t: Translator, catalogue: TermCatalogue) -> bytes:
    """Log scale: a subject answered in 3 minutes and one in 2 days must both be readable. Margins are
    measured once instead of using a layout engine, which would draw twice."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    subject_name, _, _ = _group_names(stats, t, catalogue)
    promise = PROMISE_SECONDS / 60
    rows: list[tuple[str, GroupStats]] = [(t.gettext("All questions"), stats.overall)]
    rows += [(shorten(subject_name(row), 32), row) for row in stats.by_subject[:MAX_CHART_ROWS]]
    rows = [(label.replace("$", r"\$"), row) for label, row in rows]  # "$...$" would be parsed as maths

    width_in, dpi, row_in, top_in, bottom_in = 10.0, 100, 0.36, 1.05, 0.6
    height_in = top_in + bottom_in + row_in * max(len(rows), 3)
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()

    minutes = [
        seconds / 60
        for _, row in rows
        for seconds in (row.median_seconds, row.p90_seconds)
        if seconds is not None
    ]
    low = min([0.5, *(m / 1.5 for m in minutes)])
    low = max(edge for edge in (1 / 60, 0.25, 0.5) if edge <= max(low, 1 / 60))  # one second at least
    high = max([60.0, *(m * 1.5 for m in minutes)])
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ticks = [m for m in TICKS_MINUTES if low <= m <= high]
    ax.set_xticks(ticks, [format_duration(m * 60, t) for m in ticks], fontsize=9)
    ax.minorticks_off()
    ax.grid(axis="x", color="#dddddd", linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    ax.axvline(promise, color=ON_TIME_COLOR, linestyle="--", linewidth=1.4, zorder=1)
    ax.set_xlabel(t.gettext("Time to a first answer (log scale)"))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="y", length=0)

    positions = list(range(len(rows)))
    for y, (_, row) in zip(positions, rows, strict=True):
        if row.median_seconds is not None:
            median = max(row.median_seconds / 60, low)
            color = ON_TIME_COLOR if row.median_seconds <= PROMISE_SECONDS else LATE_COLOR
            ax.barh(y, median - low, left=low, color=color, height=0.62, zorder=2)
        if row.p90_seconds is not None:
            ax.plot(
                [max(row.p90_seconds / 60, low)], [y], marker="D", markersize=5, color=P90_COLOR, zorder=3
            )
    ax.set_yticks(positions, [label for label, _ in rows], fontsize=10)
    for tick in ax.get_yticklabels()[:1]:
        tick.set_fontweight("bold")
    if len(rows) > 1:
        ax.axhline(0.5, color="#999999", linewidth=0.8, zorder=1)
    ax.set_ylim(max(len(rows), 3) - 0.5, -0.5)

    notes = []
    for y, (_, row) in zip(positions, rows, strict=True):
        answered = t.ngettext(
            "{share} of {n} question answered", "{share} of {n} questions answered", row.asked
        ).format(share=_percent(row.answered_share, t.locale), n=row.asked)
        typical = format_duration(row.median_seconds, t)
        notes.append(
            ax.text(
                1.02,
                y,
                answered if row.median_seconds is None else f"{typical} · {answered}",
                transform=ax.get_yaxis_transform(),
                va="center",
                fontsize=9,
                color="#222222",
            )
        )

    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
    labels_px = max((label.get_window_extent(renderer).width for label in ax.get_yticklabels()), default=0.0)
    notes_px = max((note.get_window_extent(renderer).width for note in notes), default=0.0)
    left = (labels_px + 0.2 * dpi) / (width_in * dpi)
    right = 1 - (notes_px + 0.3 * dpi) / (width_in * dpi)
    fig.subplots_adjust(
        left=left,
        right=max(right, left + 0.3),
        top=1 - top_in / height_in,
        bottom=bottom_in / height_in,
    )

    days = _days(stats)
    fig.text(
        0.01,
        1 - 0.12 / height_in,
        t.ngettext(
            "Time to a first answer by subject, last {days} day",
            "Time to a first answer by subject, last {days} days",
            days,
        ).format(days=days),
        fontsize=14,
        va="top",
    )
    legend = [
        Patch(
            color=ON_TIME_COLOR, label=t.gettext("median within {minutes} min").format(minutes=round(promise))
        ),
        Patch(color=LATE_COLOR, label=t.gettext("median over {minutes} min").format(minutes=round(promise))),
        Line2D(
            [],
            [],
            marker="D",
            markersize=5,
            color=P90_COLOR,
            linestyle="none",
            label=t.gettext("p90: 9 in 10 answered faster"),
        ),
        Line2D(
            [],
            [],
            color=ON_TIME_COLOR,
            linestyle="--",
            linewidth=1.4,
            label=t.gettext("promise: {minutes} min").format(minutes=round(promise)),
        ),
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
    if stats.overall.asked == 0:
        ax.text(
            0.5,
            0.5,
            t.gettext("No questions in this period."),
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="#555555",
        )

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
