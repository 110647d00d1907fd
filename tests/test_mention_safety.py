"""Property tests: whatever a member types, the bot's repetition of it can never ping a crowd or a person."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.console.port import ConsolePort
from adapters.discord.port import DiscordPort
from adapters.slack.port import SlackPort, escape_mrkdwn
from bot.safety import clip, defuse_mass_mentions

DANGEROUS = [
    "@everyone",
    "@here",
    "@channel",
    "@all",
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<!subteam^S1>",
    "<#C1>",
    "<@&123>",
    "<@!42>",
    "@EVERYONE",
    "&lt;!channel&gt;",
]
pieces = st.one_of(
    st.sampled_from(DANGEROUS), st.text(max_size=20), st.sampled_from(["<", ">", "&", "!", "@"])
)
user_text = st.lists(pieces, max_size=12).map("".join)
MASS = re.compile(r"@(everyone|here|channel|all)\b", re.IGNORECASE)


@settings(max_examples=300)
@given(user_text)
def test_slack_escaping_leaves_no_markup_and_no_mass_mention(text: str) -> None:
    out = SlackPort.escape(SlackPort.__new__(SlackPort), text)
    assert "<" not in out and ">" not in out
    assert not MASS.search(out)
    # Escaping is reversible for readers: unescaping shows what they typed (minus invisible spaces).
    shown = out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace("\u200b", "")
    assert shown == text.replace("\u200b", "")


@settings(max_examples=300)
@given(user_text)
def test_console_and_core_defusing_keeps_the_text_readable(text: str) -> None:
    out = ConsolePort().escape(text)
    assert not MASS.search(out)
    assert out.replace("\u200b", "") == text.replace("\u200b", "")


@settings(max_examples=300)
@given(user_text)
def test_discord_escaping_leaves_no_mention_markup(text: str) -> None:
    out = DiscordPort.escape(DiscordPort.__new__(DiscordPort), text)
    assert not re.search(r"<[@#]", out)
    assert not MASS.search(out)
    assert out.replace("\u200b", "") == text.replace("\u200b", "")


@given(st.text(max_size=300), st.integers(min_value=1, max_value=120))
def test_clip_never_exceeds_its_limit(text: str, limit: int) -> None:
    assert len(clip(text, limit)) <= limit


def test_known_attacks_are_neutralised() -> None:
    assert escape_mrkdwn("<!channel> hi @here") == "&lt;!channel&gt; hi @\u200bhere"
    assert defuse_mass_mentions("@Everyone") == "@\u200bEveryone"


@settings(max_examples=200)
@given(user_text)
def test_link_labels_are_escaped_exactly_once_on_every_platform(text: str) -> None:
    slack = SlackPort.link(SlackPort.__new__(SlackPort), "https://x.test/1", text)
    assert slack.startswith("<https://x.test/1|") and "<" not in slack[1:-1].split("|", 1)[1]
    assert "&amp;amp;" not in slack or "&amp;" in text
    discord_link = DiscordPort.link(DiscordPort.__new__(DiscordPort), "https://x.test/1", text)
    assert not re.search(r"<[@#]", discord_link) and not MASS.search(discord_link)
    assert not MASS.search(ConsolePort().link("https://x.test/1", text))


def test_a_slack_label_with_an_ampersand_reads_as_typed() -> None:
    assert (
        SlackPort.link(SlackPort.__new__(SlackPort), "https://x.test", "Q&A tips")
        == "<https://x.test|Q&amp;A tips>"
    )


def test_mass_mentions_glued_to_other_characters_are_defused_too() -> None:
    # Found by hypothesis: Discord pings on "@everyone_" and Slack on "@here:" alike.
    for text in ("@everyone_", "@here:", "@channel!", "x@everyone"):
        assert "\u200b" in defuse_mass_mentions(text)
