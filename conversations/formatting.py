"""A message's text as HTML: a small, safe subset of Markdown, rendered once when it is saved.

The subset is what people write in a chat: *italic*, **bold**, ~~strike~~, `code`, fenced code
blocks, > quotes, lists, and links (addresses in the text, `<https://...>` and `[text](https://...)`).
Single newlines stay line breaks, as people expect in a chat. Everything else Markdown knows
(headings, images, tables, rules, raw HTML, entities, indented code, link references) is not
in the subset and shows as the text it was typed as.

Two layers, so that a mistake in one is caught by the other:
1. markdown-it-py with raw HTML off: user text never becomes markup of its own, and links are
   only made to http, https and mailto addresses (`_allowed_link`).
2. nh3 (ammonia) over the result, with an explicit allow-list of elements, attributes and URL
   schemes: nothing with an id, a style, an htmx or event attribute, or a form can come out,
   whatever markdown-it did.

The result is stored in Message.html (conversations.actions) and reused by the page, the htmx
fragments, the socket frames and the API; the text stays the source of truth for editing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import nh3
from django.urls import reverse
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline

from .emoji import emoji_count

# What the sanitizer lets through: exactly what the subset renders, and nothing else. The
# hostile-text tests (tests/security/test_hostile_text.py) allow these inside .message-text.
ALLOWED_TAGS = frozenset({"p", "br", "em", "strong", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a"})
ALLOWED_ATTRIBUTES: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "class", "data-user", "target"}),
    "ol": frozenset({"start"}),
    "pre": frozenset({"tabindex"}),
}
# A code block that scrolls must be reachable by keyboard to be scrolled: it is focusable, and
# that is the only value its tabindex may have.
# A link leaves the chat for a new tab; a mention (class "mention") stays in it, on a profile.
ONLY_VALUES: dict[str, dict[str, set[str]]] = {
    "pre": {"tabindex": {"0"}},
    "a": {"target": {"_blank"}, "class": {"mention"}},
}
# nh3 adds these to every link: a link leads away from the chat, into a new tab that gets
# neither this window (noopener) nor where it came from (noreferrer), and no search-engine
# credit for spam (nofollow).
LINK_REL = "nofollow noopener noreferrer"
LINK_TARGET = "_blank"
URL_SCHEMES = frozenset({"http", "https", "mailto"})

# markdown-it's own limit on nested blocks and inlines (quotes in quotes, emphasis in emphasis):
# deeper input is rendered as text, so no message can build a tree deep enough to be slow.
MAX_NESTING = 20
# Addresses without a scheme are linked only with these endings ("example.com", "www.site.ru"),
# not with every two-letter country code: "notes.md" and "setup.py" are file names.
FUZZY_TLDS = ["com", "org", "net", "edu", "gov", "int", "mil", "info", "io", "dev", "app", "ru", "su", "рф"]
# Markdown's inline rules cost a few microseconds per punctuation character, more for brackets
# (each "[" looks ahead for its "]"): a text with more of these characters outside code blocks
# than any message written by hand is shown without inline formatting (links, line breaks,
# quotes, lists and code blocks stay), so no message can take long to render.
MAX_MARKERS = 500
_MARKERS = re.compile(r"[*_~`\[\]!<>]")
# An emoji-only message of up to this many emoji shows large.
LARGE_EMOJI_MAX = 5

_SAFE_LINK = re.compile(r"^(https?:|mailto:)", re.IGNORECASE)


def _allowed_link(url: str) -> bool:
    """Only absolute http(s) and mailto links become links; anything else stays text."""
    return bool(_SAFE_LINK.match(url.strip()))


def _line_break(self, tokens, idx, options, env) -> str:
    # No newline after the <br>: the text shown (and copied) has one line break, not two.
    return "<br>"


def _link_open(self, tokens, idx, options, env) -> str:
    token = tokens[idx]
    if token.attrGet("class") != "mention":
        token.attrSet("target", LINK_TARGET)
    return self.renderToken(tokens, idx, options, env)


# @username: a username as Django's validator allows it (letters, digits and @.+-_), not
# after a letter or digit (alice@example.com is an address), without a final "." or "-".
_MENTION = re.compile(r"@([\w.+-]*[\w+])")
_BEFORE_MENTION = re.compile(r"[\w.+-]")


_CANDIDATE = re.compile(r"(?<![\w.+-])" + _MENTION.pattern)


def mention_candidates(text: str) -> set[str]:
    """The lowercase names after the "@"s of `text` that could mention someone (not an address's
    "@"): the members looked up for it. Code and links are left to the parser."""
    return {name.lower() for name in _CANDIDATE.findall(text)}


def _mention(state: StateInline, silent: bool) -> bool:
    """@username of a member (state.env["members"]: lowercase username -> (id, username)) as a link."""
    members = state.env.get("members")
    if not members or state.src[state.pos] != "@" or state.linkLevel > 0:  # no link inside a link
        return False
    if state.pos > 0 and _BEFORE_MENTION.match(state.src[state.pos - 1]):
        return False
    found = _MENTION.match(state.src, state.pos)
    if not found or (member := members.get(found.group(1).lower())) is None:
        return False
    if not silent:
        pk, username = member
        link = state.push("link_open", "a", 1)
        link.attrs = {"class": "mention", "href": reverse("accounts:profile", args=[username]), "data-user": str(pk)}
        state.push("text", "", 0).content = f"@{username}"
        state.push("link_close", "a", -1)
        state.env["mentioned"].append(pk)
    state.pos = found.end()
    return True


def _plain_parser() -> MarkdownIt:
    """What a text over the MAX_MARKERS budget is parsed with: line breaks only (links come after)."""
    md = MarkdownIt("zero", {"html": False, "breaks": True, "maxNesting": MAX_NESTING}).enable(["newline"])
    md.inline.ruler.push("mention", _mention)
    return md


_plain = _plain_parser()


def _inline_within_budget(state: StateCore) -> None:
    """markdown-it's core "inline" step, with a budget of markup characters for the whole text."""
    inlines = [token for token in state.tokens if token.type == "inline"]
    markers = sum(len(_MARKERS.findall(token.content)) for token in inlines)
    parser = state.md if markers <= MAX_MARKERS else _plain
    for token in inlines:
        token.children = []
        parser.inline.parse(token.content, parser, state.env, token.children)


def _too_deep(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Past the nesting limit, the rest of a block is a paragraph of its text.

    markdown-it itself drops whatever is nested deeper than maxNesting; a message must not lose
    its words to someone's 1,000 ">"s, so this rule, tried first, takes them before that.
    """
    if silent or state.level < MAX_NESTING - 2:
        return False
    state.push("paragraph_open", "p", 1).map = [start, end]
    inline = state.push("inline", "", 0)
    inline.content, inline.map, inline.children = (
        state.getLines(start, end, state.blkIndent, False).strip(),
        [start, end],
        [],
    )
    state.push("paragraph_close", "p", -1)
    state.line = end
    return True


def _fence(self, tokens, idx, options, env) -> str:
    # Focusable, so that a keyboard can scroll a long line (see ONLY_VALUES); the info string
    # ("```python") names a language nothing here highlights, so it is left out.
    return f'<pre tabindex="0"><code>{escapeHtml(tokens[idx].content)}</code></pre>\n'


def _parser() -> MarkdownIt:
    md = MarkdownIt(
        "commonmark",
        {"html": False, "linkify": True, "breaks": True, "typographer": False, "maxNesting": MAX_NESTING},
    )
    md.enable(["linkify", "strikethrough"])
    md.disable(["code", "hr", "reference", "html_block", "heading", "lheading", "image", "html_inline", "entity"])
    md.validateLink = _allowed_link
    md.core.ruler.at("inline", _inline_within_budget)
    md.block.ruler.before("fence", "too_deep", _too_deep)
    md.inline.ruler.before("linkify", "mention", _mention)
    md.linkify.tlds(FUZZY_TLDS, False)
    renderer: RendererHTML = md.renderer  # type: ignore[assignment]
    renderer.rules["softbreak"] = _line_break.__get__(renderer)
    renderer.rules["hardbreak"] = _line_break.__get__(renderer)
    renderer.rules["fence"] = _fence.__get__(renderer)
    renderer.rules["link_open"] = _link_open.__get__(renderer)
    return md


_markdown = _parser()


def sanitize(html: str) -> str:
    """The allow-list over some HTML: only the subset's elements and attributes, safe URLs, rel and target on links."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        # "*": no attribute on every element (nh3 would allow lang and title otherwise).
        attributes={
            "*": set(),
            **{tag: set(names) - set(ONLY_VALUES.get(tag, ())) for tag, names in ALLOWED_ATTRIBUTES.items()},
        },
        tag_attribute_values=ONLY_VALUES,
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


Members = Mapping[str, tuple[int, str]]  # lowercase username -> (id, username)


@dataclass(frozen=True)
class Rendered:
    html: str
    mentions: list[int]  # the members mentioned, each once, in order


def render(text: str, members: Members | None = None) -> Rendered:
    """A message's text as HTML (safe to put in a page as it is), and whom it mentions of `members`.

    `@username` of one of `members` becomes a link to their profile,
    `<a class="mention" href="/people/<username>/" data-user="<id>">@username</a>`: the same
    for everyone (the mentioned person's own highlight is conversations/viewer.css). Not in
    code, and not for anyone who is not a member.
    """
    if not text:
        return Rendered("", [])
    env: dict = {"members": members or {}, "mentioned": []}
    html = sanitize(_markdown.render(text, env)).strip()
    return Rendered(html, list(dict.fromkeys(env["mentioned"])))


def to_html(text: str, members: Members | None = None) -> str:
    """The HTML of a message's text (empty for no text), safe to put in a page as it is."""
    return render(text, members).html


def is_emoji_only(text: str) -> bool:
    """True if the text is one to LARGE_EMOJI_MAX emoji and nothing else (spaces between them aside)."""
    count = emoji_count(text)
    return count is not None and 0 < count <= LARGE_EMOJI_MAX
