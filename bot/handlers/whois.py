"""/whois <free text> and /whois-examiner <subject> [programme] [language]: find experts, ranked.

Free text resolves through the catalogue in English, French and Spanish ("examiner biología PD");
unknown words get "did you mean". Results page by ten with buttons whose value carries the resolved
query, so paging is stateless and survives restarts.
"""

from __future__ import annotations

from datetime import datetime

from bot.catalog import Catalogue, ParsedQuery, Term, Unknown
from bot.commands import ActionSpec, CommandSpec, OptionSpec
from bot.context import Context
from bot.directory import DirectoryQuery
from bot.events import ButtonEvent, CommandEvent
from bot.i18n import N_
from bot.port import Button, Reply
from bot.safety import as_id
from bot.suggestions import unknown_word
from storage.members import MemberCard

PAGE_SIZE = 10
PAGE_ACTION = "whois.page"
EXAMINER = "examiner"


def term_names(catalogue: Catalogue, kind: str, ids: tuple[str, ...], locale: str) -> list[str]:
    names = []
    for term_id in ids:
        term = catalogue.get(kind, term_id)  # type: ignore[arg-type]
        names.append(term.name(locale) if term else term_id)
    return names


def member_line(card: MemberCard, ctx: Context, now: datetime) -> str:
    """One directory entry: who (a mention where they are on this platform), what, where, their time now."""
    port, t = ctx.port, ctx.t
    cat = Catalogue.default()
    user_id = card.identities.get(port.platform.value)
    who = port.mention(user_id) if user_id else f"*{port.escape(card.name)}*"
    parts = [
        ", ".join(term_names(cat, "role", card.roles, t.locale)),
        ", ".join(term_names(cat, "subject", card.subjects, t.locale)),
        ", ".join(term_names(cat, "programme", card.programmes, t.locale)),
        ", ".join(x for x in (card.school, card.region) if x),
    ]
    text = " · ".join(p for p in parts if p)
    if card.timezone:
        text += " · " + t.gettext("{time} their time ({zone})").format(
            time=t.time_in(now, card.timezone), zone=card.timezone
        )
    return f"• {who}: " + port.escape(text)


def did_you_mean(unknown: tuple[Unknown, ...], ctx: Context) -> list[str]:
    """One line per unrecognised word, with suggestions where the catalogue has close terms."""
    return [unknown_word(word, ctx.t, ctx.port.escape) for word in unknown]


def _ids(terms: tuple[Term, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t.id for t in terms))


def build_query(parsed: ParsedQuery, catalogue: Catalogue, *, roles: tuple[str, ...] = ()) -> DirectoryQuery:
    role_ids = roles or _ids(parsed.roles)
    family = tuple(dict.fromkeys(f.id for r in role_ids for f in catalogue.family(r)))
    return DirectoryQuery(
        roles=role_ids,
        role_family=family,
        subjects=_ids(parsed.subjects),
        programmes=_ids(parsed.programmes),
        languages=_ids(parsed.languages),
    )


def encode_page(query: DirectoryQuery, page: int) -> str:
    """Query and page in a button value (Discord allows 100 characters in a custom id)."""
    fields = (query.roles, query.subjects, query.programmes, query.languages)
    return f"{page}|" + "|".join(",".join(f) for f in fields)


def decode_page(value: str, catalogue: Catalogue) -> tuple[DirectoryQuery, int] | None:
    """The query and page of a button's value; None when the value is not one of ours."""
    page_text, *fields = value.split("|")
    page = as_id(page_text)
    if page is None or len(fields) != 4:
        return None
    roles, subjects, programmes, languages = (tuple(x for x in f.split(",") if x) for f in fields)
    family = tuple(dict.fromkeys(f.id for r in roles for f in catalogue.family(r)))
    return DirectoryQuery(roles, family, subjects, programmes, languages), page


def describe(query: DirectoryQuery, catalogue: Catalogue, locale: str) -> tuple[str, str]:
    """(what filters, what only ranks): programmes and languages rank when a role or subject filters."""
    roles_subjects = [
        *term_names(catalogue, "role", query.roles, locale),
        *term_names(catalogue, "subject", query.subjects, locale),
    ]
    rest = [
        *term_names(catalogue, "programme", query.programmes, locale),
        *term_names(catalogue, "language", query.languages, locale),
    ]
    if roles_subjects:
        return " · ".join(roles_subjects), " · ".join(rest)
    return " · ".join(rest), ""


async def results(ctx: Context, query: DirectoryQuery, page: int, notes: list[str]) -> Reply:
    """Render one page of results with previous/next buttons."""
    t, now = ctx.t, ctx.clock.now()
    directory = ctx.services.directory
    await directory.refresh(now)
    found = directory.search(query, now, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
    what, preferred = (ctx.port.escape(x) for x in describe(query, Catalogue.default(), t.locale))
    if found.total == 0:
        lines = [*notes, t.gettext("Nobody in the directory matches {what} yet.").format(what=what)]
        lines.append(
            t.gettext("Know someone? Members add themselves with /profile set, admins with import-members.")
        )
        return Reply("\n".join(lines))
    pages = (found.total + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(page, pages - 1)
    header = t.ngettext("{count} member matches {what}", "{count} members match {what}", found.total).format(
        count=found.total, what=what
    )
    if preferred:
        header += " " + t.gettext("({preferred} first)").format(preferred=preferred)
    if pages > 1:
        header += " " + t.gettext("(page {page} of {pages})").format(page=page + 1, pages=pages)
    lines = [*notes, header + ":", *(member_line(card, ctx, now) for card in found.cards)]
    buttons: list[Button] = []
    if page > 0:
        buttons.append(Button(t.gettext("◀ Previous"), PAGE_ACTION, encode_page(query, page - 1)))
    if page + 1 < pages:
        buttons.append(Button(t.gettext("Next ▶"), PAGE_ACTION, encode_page(query, page + 1)))
    if any(len(b.value) > 100 for b in buttons):
        buttons = []
        lines.append(t.gettext("Narrow the search to see the others."))
    return Reply("\n".join(lines), buttons=tuple(buttons))


async def handle_whois(event: CommandEvent, ctx: Context) -> Reply:
    catalogue = Catalogue.default()
    parsed = catalogue.parse(str(event.args.get("query", "")))
    notes = did_you_mean(parsed.unknown, ctx)
    query = build_query(parsed, catalogue)
    if query.empty:
        return Reply("\n".join([*notes, ctx.t.gettext(WHOIS.usage)]))
    return await results(ctx, query, 0, notes)


async def handle_whois_examiner(event: CommandEvent, ctx: Context) -> Reply:
    catalogue = Catalogue.default()
    text = " ".join(str(event.args.get(k, "")) for k in ("subject", "programme", "language"))
    parsed = catalogue.parse(text)
    notes = did_you_mean(parsed.unknown, ctx)
    if not parsed.subjects:
        return Reply("\n".join([*notes, ctx.t.gettext(WHOIS_EXAMINER.usage)]))
    return await results(ctx, build_query(parsed, catalogue, roles=(EXAMINER,)), 0, notes)


async def handle_page(event: ButtonEvent, ctx: Context) -> Reply:
    decoded = decode_page(event.value, Catalogue.default())
    if decoded is None:
        return Reply(ctx.t.gettext("This button is no longer active. Please run the command again."))
    query, page = decoded
    reply = await results(ctx, query, page, [])
    return Reply(reply.text, buttons=reply.buttons, replace=True)


WHOIS_EXAMINER = CommandSpec(
    name="whois-examiner",
    description=N_("Find examiners for a subject"),
    usage=N_(
        "/whois-examiner <subject> [programme] [language]: find examiners, "
        "e.g. /whois-examiner biology DP spanish"
    ),
    handler=handle_whois_examiner,
    options=(
        OptionSpec("subject", N_("The subject, e.g. Biology"), max_length=100),
        OptionSpec("programme", N_("PYP, MYP, DP or CP"), required=False, max_length=20),
        OptionSpec("language", N_("A language they speak, e.g. Spanish"), required=False, max_length=30),
    ),
)

WHOIS = CommandSpec(
    name="whois",
    description=N_("Find members by role, subject, programme or language"),
    usage=N_(
        "/whois <what>: find members, e.g. /whois workshop leader MYP design, /whois examinateur biologie"
    ),
    handler=handle_whois,
    options=(OptionSpec("query", N_("Role, subject, programme, language"), max_length=200),),
)

WHOIS_PAGE = ActionSpec(PAGE_ACTION, handle_page)
