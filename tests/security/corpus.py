"""Hostile text: what someone may type into any text field of FlowChat, to be shown as text.

Each string tries to become markup (a script, an event handler, an htmx attribute or an
out-of-band swap aimed at an id the pages use, a `javascript:` link, a broken-out attribute)
or to disturb the text around it (a right-to-left override, zero-width and combining
characters, a word too long to wrap). Lone surrogates are not text at all: the API refuses
them as invalid JSON (flowchat/tests/test_hostile_input.py).

Every URL named here points at HOSTILE_HOST, so a browser test can tell that none was fetched.
"""

from __future__ import annotations

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

# Only where long text fits: a message (and its edit).
LONG_WORD = "w" * 10_000
MESSAGE_CORPUS: dict[str, str] = {**CORPUS, "10,000-character word": LONG_WORD}

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
