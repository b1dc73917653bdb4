"""Message formatting: the Markdown subset, nothing else, rendered once and stored.

Each construct of the subset renders as its element; what is not in it (raw HTML, headings,
images, rules, entities, unsafe links) shows as the text typed. alice and bob chat; the
stored html follows sends, edits and deletions, and the API shows it beside the text.
"""

from __future__ import annotations

import importlib
import time
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.urls import reverse

from conversations import actions
from conversations.formatting import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_TAGS,
    LINK_REL,
    MAX_MARKERS,
    MAX_NESTING,
    is_emoji_only,
    to_html,
)
from conversations.models import Message
from flowchat.testing import auth

REL = f'target="_blank" rel="{LINK_REL}"'


class Elements(HTMLParser):
    """Each element's tag and attributes, in order, and the text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.depth = self.deepest = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))
        if tag not in ("br",):
            self.depth += 1
            self.deepest = max(self.deepest, self.depth)

    def handle_endtag(self, tag: str) -> None:
        self.depth -= 1

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def tags(self) -> list[str]:
        return [tag for tag, _attributes in self.found]


def assert_only_the_subset(html: str) -> Elements:
    """Every element and attribute is on the allow-list; links are safe, with rel and target."""
    parsed = Elements(html)
    for tag, attributes in parsed.found:
        assert tag in ALLOWED_TAGS, f"{tag} is not in the subset: {html}"
        extra = (
            set(attributes) - ALLOWED_ATTRIBUTES.get(tag, frozenset()) - ({"rel", "target"} if tag == "a" else set())
        )
        assert not extra, f"<{tag}> has {extra}: {html}"
        if tag == "a":
            assert (attributes["href"] or "").startswith(("http://", "https://", "mailto:")), html
            assert attributes["rel"] == LINK_REL and attributes["target"] == "_blank", html
    return parsed


# Each construct ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("Plain words", "<p>Plain words</p>"),
        ("*italic* and _italic_", "<p><em>italic</em> and <em>italic</em></p>"),
        ("**bold** and __bold__", "<p><strong>bold</strong> and <strong>bold</strong></p>"),
        ("~~strike~~", "<p><s>strike</s></p>"),
        ("`code` here", "<p><code>code</code> here</p>"),
        ("```\nx = 1 < 2\n```", '<pre tabindex="0"><code>x = 1 &lt; 2\n</code></pre>'),
        ("```python\nx = 1\n```", '<pre tabindex="0"><code>x = 1\n</code></pre>'),
        ("> quoted", "<blockquote>\n<p>quoted</p>\n</blockquote>"),
        ("- one\n- two", "<ul>\n<li>one</li>\n<li>two</li>\n</ul>"),
        ("3. three\n4. four", '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>'),
        ("first line\nsecond line", "<p>first line<br>second line</p>"),
        ("one\n\ntwo", "<p>one</p>\n<p>two</p>"),
        ("\\*not italic\\*", "<p>*not italic*</p>"),
    ],
)
def test_each_construct_of_the_subset_renders_as_its_element(text, html):
    assert to_html(text) == html
    assert_only_the_subset(html)


@pytest.mark.parametrize(
    ("text", "link"),
    [
        ("see https://example.com/a?b=1&c=2 now", f'<a href="https://example.com/a?b=1&amp;c=2" {REL}>'),
        ("www.example.ru/x", f'<a href="http://www.example.ru/x" {REL}>'),
        ("example.com", f'<a href="http://example.com" {REL}>'),
        ("<https://example.com>", f'<a href="https://example.com" {REL}>'),
        ("[the topo](https://example.com/topo)", f'<a href="https://example.com/topo" {REL}>the topo</a>'),
        ("mail me: alice@example.com", f'<a href="mailto:alice@example.com" {REL}>'),
    ],
)
def test_links_open_in_a_new_tab_with_nofollow_noopener_noreferrer(text, link):
    html = to_html(text)

    assert link in html
    assert_only_the_subset(html)


def test_file_names_are_not_taken_for_addresses():
    assert to_html("see notes.md and setup.py") == "<p>see notes.md and setup.py</p>"


# Nothing else ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "html"),
    [
        ("<b>bold</b>", "<p>&lt;b&gt;bold&lt;/b&gt;</p>"),
        ("<script>alert(1)</script>", "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        ("<div id=messages hx-swap-oob=true>x</div>", "<p>&lt;div id=messages hx-swap-oob=true&gt;x&lt;/div&gt;</p>"),
        ("# Heading", "<p># Heading</p>"),
        ("Title\n===", "<p>Title<br>===</p>"),
        ("---", "<p>---</p>"),
        ("    indented", "<p>indented</p>"),
        ("&amp; &lt;b&gt;", "<p>&amp;amp; &amp;lt;b&amp;gt;</p>"),
        (
            "[ref]\n\n[ref]: https://example.com",
            f'<p>[ref]</p>\n<p>[ref]: <a href="https://example.com" {REL}>https://example.com</a></p>',
        ),
        ("| a | b |\n|---|---|\n| 1 | 2 |", "<p>| a | b |<br>|---|---|<br>| 1 | 2 |</p>"),
    ],
)
def test_what_is_not_in_the_subset_shows_as_the_text_typed(text, html):
    assert to_html(text) == html


def test_an_image_is_not_an_image():
    html = to_html("![pixel](https://hostile.invalid/pixel.png)")

    assert "<img" not in html
    assert_only_the_subset(html)


@pytest.mark.parametrize(
    "text",
    [
        "[x](javascript:alert(1))",
        "[x](JavaScript:alert(1))",
        "[x](  javascript:alert(1))",
        "[x](java\tscript:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](data:text/html,<script>alert(1)</script>)",
        "[x](vbscript:msgbox(1))",
        "<javascript:alert(1)>",
        "javascript:alert(1)",
        "[x](/relative/path)",
        "[x](//hostile.invalid/x)",
    ],
)
def test_a_link_to_anything_but_http_https_or_mailto_is_not_a_link(text):
    html = to_html(text)

    assert "<a" not in html
    assert "javascript:" not in html.lower() or html.startswith("<p>")
    assert_only_the_subset(html)


@pytest.mark.parametrize(
    "text",
    [
        '[a](" onmouseover="alert(1))',
        '[a](https://example.com" onmouseover="alert(1))',
        '[a](https://example.com "title" onclick=alert(1))',
        'https://example.com/"onmouseover="alert(1)',
        "<https://example.com/\"onmouseover='alert(1)'>",
        "```\n<img src=x onerror=alert(1)>\n```",
        "`<img src=x onerror=alert(1)>`",
        "[<img src=x onerror=alert(1)>](https://example.com)",
        "[x](https://example.com)<style>a{}</style>",
        "**<form action=https://hostile.invalid><button>go</button></form>**",
    ],
)
def test_hostile_markdown_makes_no_attribute_and_no_element_of_its_own(text):
    html = to_html(text)

    parsed = assert_only_the_subset(html)
    for _tag, attributes in parsed.found:
        assert not [name for name in attributes if name.startswith(("on", "hx-", "style", "id"))]


def test_deep_nesting_is_bounded():
    quotes = to_html("> " * 1000 + "deep")
    emphasis = to_html("***" * 1000 + "x" + "***" * 1000)
    lists = to_html("\n".join(" " * (2 * n) + "- x" for n in range(300)))

    for html in (quotes, emphasis, lists):
        assert assert_only_the_subset(html).deepest <= MAX_NESTING + 2
    # What is nested deeper is text, not lost.
    assert quotes.count("<blockquote>") < MAX_NESTING and "&gt; &gt; deep</p>" in quotes
    assert "- x<br>" in lists and lists.count("<ul>") < MAX_NESTING


def test_a_text_with_more_markup_than_anyone_writes_keeps_its_blocks_but_not_its_inline_formatting():
    text = "*x* " + "[" * (MAX_MARKERS + 1) + "\n\n```\ncode\n```\n> quote https://example.com"

    html = to_html(text)

    assert "<em>" not in html
    assert '<pre tabindex="0"><code>code\n</code></pre>' in html
    assert f'<blockquote>\n<p>quote <a href="https://example.com" {REL}>' in html


HOSTILE_4000 = {
    "brackets": "[" * 4000,
    "image brackets": "![" * 2000,
    "stars": "*" * 4000,
    "underscores": "a_" * 2000,
    "mixed": "**_~~`[x](" * 400,
    "nested emphasis": "***" * 666 + "x" + "***" * 666,
    "link labels": ("[" * 20 + "x" + "]" * 20 + "(https://a.com) ") * 65,
    "angle brackets": "<" * 4000,
    "under the budget": "[" * MAX_MARKERS + "word " * 700,
    "links": "https://example.com/a " * 180,
    "quotes": "> " * 2000,
}


@pytest.mark.parametrize("name", HOSTILE_4000)
def test_a_4000_character_hostile_message_renders_well_under_50_ms(name):
    text = HOSTILE_4000[name][:4000]
    to_html(text)  # warm

    best = min(_timed(text) for _ in range(3))

    assert best < 0.050, f"{name}: {best * 1000:.1f} ms"


def _timed(text: str) -> float:
    # CPU time, not the wall clock: the machine running the tests may be busy with others.
    started = time.process_time()
    to_html(text)
    return time.process_time() - started


@pytest.mark.parametrize(
    ("text", "large"),
    [
        ("👍", True),
        ("👍 🎉 😂", True),
        ("👩‍👩‍👧‍👦🏳️‍🌈🇺🇸", True),
        ("👍" * 6, False),
        ("ok 👍", False),
        ("1", False),
        ("", False),
    ],
)
def test_a_few_emoji_and_nothing_else_are_emoji_only(text, large):
    assert is_emoji_only(text) is large


# Stored with the message ------------------------------------------------------------------------


def test_sending_stores_the_html_and_editing_renders_it_again(alice, chat):
    message, _ = actions.send_message(chat, alice, "**on my way**")
    assert Message.objects.get(pk=message.pk).html == "<p><strong>on my way</strong></p>"

    actions.edit_message(message, alice, "*late*")

    assert message.html == "<p><em>late</em></p>"
    assert Message.objects.get(pk=message.pk).html == "<p><em>late</em></p>"


def test_a_deleted_message_keeps_no_html(alice, chat):
    message, _ = actions.send_message(chat, alice, "**oops**")

    actions.delete_message(message, alice)

    assert Message.objects.get(pk=message.pk).html == ""


def test_a_system_line_has_no_html(alice, bob):
    group = actions.create_group(alice, "Climbing", [bob])

    assert set(group.messages.values_list("kind", "html")) == {("created", ""), ("added", "")}


def test_the_data_migration_renders_existing_messages(alice, chat):
    message, _ = actions.send_message(chat, alice, "~~old~~ message")
    gone, _ = actions.send_message(chat, alice, "gone")
    actions.delete_message(gone, alice)
    Message.objects.filter(pk=message.pk).update(html="")
    migration = importlib.import_module("conversations.migrations.0009_message_html")

    migration.render_existing(apps, None)

    assert Message.objects.get(pk=message.pk).html == "<p><s>old</s> message</p>"
    assert Message.objects.get(pk=gone.pk).html == ""


def test_the_page_shows_the_stored_html_and_large_emoji(client, alice, bob, chat):
    actions.send_message(chat, bob, "**bold** `code`")
    actions.send_message(chat, bob, "🎉🎉")
    client.force_login(alice)

    html = client.get(reverse("chat", args=[chat.pk])).content.decode()

    assert '<div class="message-text" dir="auto"><p><strong>bold</strong> <code>code</code></p></div>' in html
    assert '<div class="message-text message-emoji" dir="auto"><p>🎉🎉</p></div>' in html


@pytest.mark.usefixtures("fresh_rate_limits")
def test_the_api_gives_the_html_beside_the_text(api, alice, chat):
    key = auth(alice)
    sent = api.post("/api/messages/", {"chat": chat.pk, "text": "> *hi*"}, content_type="application/json", **key)
    assert sent.status_code == 201
    assert sent.json()["html"] == "<blockquote>\n<p><em>hi</em></p>\n</blockquote>"
    assert sent.json()["text"] == "> *hi*"

    edited = api.patch(
        f"/api/messages/{sent.json()['id']}/", {"text": "~~hi~~"}, content_type="application/json", **key
    )
    history = api.get(f"/api/chats/{chat.pk}/get_messages/", **key)

    assert edited.json()["html"] == "<p><s>hi</s></p>"
    assert [m["html"] for m in history.json()] == ["<p><s>hi</s></p>"]
