"""/qa-search <words>: members browse the Q&A archive, in English, French or Spanish.

Every word must appear in the question or its answers; accents and case do not matter, so
"biologia" finds "Biología". Each hit is one line (a link to the thread, solved or how many
answers, the date), so ten fit on a phone screen; when nothing matches, /ask is the way on.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date

from bot.commands import CommandSpec, OptionSpec
from bot.context import Context
from bot.events import CommandEvent
from bot.i18n import N_
from bot.port import Reply
from bot.safety import clip
from storage.qa_search import QASearch, SearchHit

PAGE_SIZE = 10
PREVIEW_CHARS = 90
TERMS_CHARS = 60


def hit_line(hit: SearchHit, ctx: Context) -> str:
    """`• <question, linked> · ✅ solved · 10 Mar 2026`, dated in the reader's zone and language."""
    t = ctx.t
    label = clip(hit.text, PREVIEW_CHARS)  # link() escapes its label itself
    shown = ctx.port.link(hit.permalink, label) if hit.permalink else ctx.port.escape(label)
    if hit.solved:
        state = t.gettext("✅ solved")
    else:
        state = t.ngettext("{count} answer", "{count} answers", hit.answers).format(count=hit.answers)
    day = format_date(hit.created_at.astimezone(_zone(ctx.timezone)), "medium", Locale.parse(t.locale))
    return f"• {shown} · {state} · {day}"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):  # a platform's odd zone name must not break search
        return ZoneInfo("UTC")


async def handle_qa_search(event: CommandEvent, ctx: Context) -> Reply:
    t = ctx.t
    terms = str(event.args.get("terms", "")).strip()
    if not terms:
        return Reply(t.gettext(QA_SEARCH.usage))
    # MemberRepository exposes the database; QuestionRepository does not (yet).
    total, hits = await QASearch(ctx.services.members.db).search(terms, limit=PAGE_SIZE)
    what = ctx.port.escape(clip(terms, TERMS_CHARS))
    if not hits:
        return Reply(
            t.gettext(
                "No earlier question matches '{terms}'. Ask the network: /ask followed by your question."
            ).format(terms=what)
        )
    header = t.ngettext(
        "{count} earlier question matches '{terms}'", "{count} earlier questions match '{terms}'", total
    ).format(count=total, terms=what)
    if total > len(hits):
        header += " " + t.gettext("(the best {shown} first; add words to narrow it)").format(shown=len(hits))
    return Reply("\n".join([header + ":", *(hit_line(hit, ctx) for hit in hits)]))


QA_SEARCH = CommandSpec(
    name="qa-search",
    description=N_("Search past questions and answers"),
    usage=N_("/qa-search <words>: search past questions and answers, e.g. /qa-search IA moderation"),
    handler=handle_qa_search,
    options=(OptionSpec("terms", N_("Words to look for"), max_length=200),),
)
