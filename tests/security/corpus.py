"""Hostile text: what someone may type into any text field of FlowChat, to be shown as text.

Each string tries to become markup (a script, an event handler, an htmx attribute or an
out-of-band swap aimed at an id the pages use, a `javascript:` link, a broken-out attribute)
or to disturb the text around it (a right-to-left override, zero-width and combining
characters, a word too long to wrap). Lone surrogates are not text at all: the API refuses
them as invalid JSON (flowchat/tests/test_hostile_input.py).

Every URL named here points at HOSTILE_HOST, so a browser test can tell that none was fetched.
"""

from __future__ import annotations

from html.parser import HTMLParser

from conversations.formatting import to_html

HOSTILE_HOST = "hostile.invalid"

# Names and titles are short (a title at most 100 characters); each of these fits everywhere.
CORPUS: dict[str, str] = {
    "script": "<script>alert(1)</script>",
    "img onerror": "<img src=x onerror=alert(1)>",
    "event handler": '<b onmouseover="alert(1)" onclick=alert(1)>hover</b>',
    "svg onload": '"><svg onload=alert(1)>',
    "attribute breakout": "' autofocus onfocus=alert(1) x='",
    "hx-get": f'<a hx-get="//{HOSTILE_HOST}/x" hx-trigger="load">x</a>',
    "hx-post": f'<form hx-post="//{HOSTILE_HOST}/p" hx-trigger="load"></form>',
    "oob messages": '<div id="messages" hx-swap-oob="true">gone</div>',
    "oob chats": '<ul id="chats" hx-swap-oob="true"></ul>',
    "oob composer": '<form id="composer" hx-swap-oob="outerHTML">x</form>',
    "javascript link": "javascript:alert(1)",
    "markdown link": "[click](javascript:alert(1))",
    "remote image": f'<img src="https://{HOSTILE_HOST}/pixel.png">',
    "style": f"<style>@import 'https://{HOSTILE_HOST}/x.css';</style>",
    "template injection": "{{ request.user.password }} {% debug %}",
    "bidi override": "\u202egnp.exe",
    "zero-width joiners": "a\u200db\u200cc\u200dd\u2060e\ufeff",
    "combining": "Z\u0351\u0359\u0345a\u0364\u0336l\u0315\u0324g\u0352\u0322o\u0308",
}

# Markdown that tries to become markup through the formatting of messages (conversations.formatting):
# a link to a script, an attribute broken out of a link, markup inside code and links, nesting
# deep enough to be slow. Formatting may make its own elements of these (a <code>, a <strong>),
# but only those of its allow-list, and never with an id, a style, an htmx or event attribute.
MARKDOWN_CORPUS: dict[str, str] = {
    "markdown javascript link": "[x](javascript:alert(1))",
    # The long ones apart: each is too long for a title, and renaming a group twice in a row to
    # the plain title instead would change nothing the second time.
    "emphasis 1000 deep": "***" * 1000 + "x" + "***" * 1000,
    "markdown data link": "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "markdown link breakout": '[a](" onmouseover="alert(1))',
    "markdown link title breakout": f'[a](https://{HOSTILE_HOST}/ "t" onclick=alert(1))',
    "img in a code fence": "```\n<img src=x onerror=alert(1)>\n```",
    "quotes 1000 deep": "> " * 1000 + "deep",
    "img in a code span": "`<img src=x onerror=alert(1)>`",
    "img in a link": f"[<img src=x onerror=alert(1)>](https://{HOSTILE_HOST}/page)",
    "autolink with quotes": f'<https://{HOSTILE_HOST}/"onmouseover="alert(1)>',
    "address with quotes": f"https://{HOSTILE_HOST}/'onmouseover='alert(1)'",
    "markdown image": f"![x](https://{HOSTILE_HOST}/pixel.png)",
    "mention breakout": "@bob\" onmouseover=\"alert(1) @bob' autofocus x='",
    "form in bold": f"**<form action=https://{HOSTILE_HOST}/p><button>go</button></form>**",
}

# Only where long text fits: a message (and its edit).
LONG_WORD = "w" * 10_000
MESSAGE_CORPUS: dict[str, str] = {**CORPUS, "10,000-character word": LONG_WORD, **MARKDOWN_CORPUS}

# Where an item's markup would land if it were not escaped: what a page must never contain.
MARKUP = (
    "<script>alert",
    "<img src=x",
    f'<img src="https://{HOSTILE_HOST}',
    "<svg onload",
    '<div id="messages" hx-swap-oob',
    "<style>@import",
    "<b onmouseover",
)

# The ids the pages and their swaps rely on; none may be doubled or replaced by user text.
PAGE_IDS = ("messages", "chats", "composer", "chat-header", "typing")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def shown(text: str) -> str:
    """What a message of `text` shows (its text content once formatted): the Markdown's words."""
    parser = _Text()
    parser.feed(to_html(text.strip()))
    parser.close()
    return "".join(parser.parts)


# File names, as an upload may carry them (conversations.attachments.clean_name): each must be
# shown as text (without its folders, control and bidi characters) and never used as a path.
# The value is the name as the chat shows it.
FILE_NAMES: dict[str, tuple[str, str]] = {
    "img onerror": ("<img src=x onerror=alert(1)>.pdf", "<img src=x onerror=alert(1)>.pdf"),
    "event handler": ('<b onmouseover="alert(1)">hover.txt', '<b onmouseover="alert(1)">hover.txt'),
    "oob messages": ('<div id="messages" hx-swap-oob="true">x.txt', '<div id="messages" hx-swap-oob="true">x.txt'),
    "parent folders": ("../../etc/passwd", "passwd"),
    "windows folders": ("..\\..\\windows\\system.ini", "system.ini"),
    "bidi override": ("\u202egpj.exe", "gpj.exe"),
    "isolates and controls": ("a\u2066b\u2069c\x00d\x1fe\n.txt", "abcde .txt"),
    "line separator and tab": ("two\u2028lines  and\tspaces.txt", "two lines and spaces.txt"),
    "template injection": ("{{ request.user.password }}.txt", "{{ request.user.password }}.txt"),
    "only dots": ("..", "file"),
    "nothing": ("", "file"),
}
