"""The hostile-text corpus in real Chromium: shown as text, never run, never fetched, never swapped in.

People are named with the corpus, groups titled with it, and a chat holds every string of it
as a message; then the same strings arrive live over the socket while the chat is open (bob
sends them through the server's API). In the chat and in the chat list: no dialog opens, no
request goes to an address the corpus names, the page's own ids (#messages, #chats,
#composer, ...) are there once each, and no element carries an htmx attribute, an event
handler or a picture that came from the text.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections import Counter

import pytest
from django.urls import reverse
from playwright.sync_api import Request

from conftest import make_person
from conversations import actions
from flowchat.testing import token_for
from tests.security.corpus import CORPUS, HOSTILE_HOST, MESSAGE_CORPUS, PAGE_IDS, shown

from .conftest import Tab, give_password, outside_the_browser_loop
from .test_live import open_chat

pytestmark = pytest.mark.browser

DONE = "That was everything."

# What the corpus would have made of the page: all must be absent.
INJECTED = (
    "[hx-swap-oob], [hx-get*='hostile'], [hx-post*='hostile'], [hx-trigger='load'],"
    " [onerror], [onload], [onmouseover], [onclick], [onfocus], img[src='x'],"
    f" img[src*='{HOSTILE_HOST}'], svg[onload], a[href^='javascript:' i], style:not([nonce])"
)
COUNT_IDS = "(ids) => Object.fromEntries(ids.map((id) => [id, document.querySelectorAll(`[id='${id}']`).length]))"


class Watch:
    """Dialogs that opened and requests that left for anywhere but the FlowChat server."""

    def __init__(self, tab: Tab) -> None:
        self.tab = tab
        self.dialogs: list[str] = []
        self.strays: list[str] = []
        tab.page.on("dialog", self._dialog)
        tab.page.on("request", self._request)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _request(self, request: Request) -> None:
        url = request.url
        if HOSTILE_HOST in url or not url.startswith(self.tab.base_url) or url.rstrip("/").endswith(("/x", "/p")):
            self.strays.append(url)

    def assert_nothing_happened(self, before: dict[str, int]) -> None:
        page = self.tab.page
        assert self.dialogs == []
        assert self.strays == []
        assert page.evaluate(COUNT_IDS, list(before)) == before
        assert page.evaluate("(selector) => document.querySelectorAll(selector).length", INJECTED) == 0


def api_send(server_url: str, key: str, chat_id: int, text: str) -> None:
    request = urllib.request.Request(  # noqa: S310 - the test server's own URL
        f"{server_url}/api/messages/",
        data=json.dumps({"chat": chat_id, "text": text}).encode(),
        headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
        method="POST",
    )
    # As a well-behaved script does: past the send rate's burst, wait as long as the 429 says.
    for _ in range(5):
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                assert response.status == 201
                return
        except urllib.error.HTTPError as refused:
            if refused.code != 429:
                raise
            time.sleep(int(refused.headers["Retry-After"]))
    pytest.fail(f"still refused after 5 waits: {text!r}")


@pytest.fixture
def hostile_world(alice, bob):
    """Groups titled and people named with the corpus, and a chat with every string as a message."""
    everything = outside_the_browser_loop(actions.create_group, alice, "Everything", [bob])
    for n, text in enumerate(CORPUS.values()):
        person = give_password(make_person(f"person{n}", text[:150], text[:150]))
        group = outside_the_browser_loop(actions.create_group, person, text[:100], [alice, bob])
        outside_the_browser_loop(actions.send_message, group, person, text)
        outside_the_browser_loop(actions.add_member, everything, alice, person)
        outside_the_browser_loop(actions.send_message, everything, person, text)
    for text in MESSAGE_CORPUS.values():
        outside_the_browser_loop(actions.send_message, everything, bob, text)
    return everything


def test_the_corpus_in_the_chat_and_the_chat_list_is_only_text(desktop, alice, bob, hostile_world):
    desktop.log_in(alice)
    watch = Watch(desktop)

    open_chat(desktop, hostile_world)

    page = desktop.page
    before = dict.fromkeys(PAGE_IDS, 1)
    watch.assert_nothing_happened(before)
    # Each as the text typed, or its words formatted where it is Markdown (tests/security/corpus.py).
    texts = page.locator("#messages .message-text").all_text_contents()
    for text in MESSAGE_CORPUS.values():
        assert shown(text) in texts
    desktop.goto(reverse("home"))
    page.wait_for_function("() => window.htmx")
    watch.assert_nothing_happened({"chats": 1})
    rows = page.locator("#chats").inner_text()
    assert CORPUS["script"] in rows and CORPUS["oob messages"] in rows


def test_the_corpus_arriving_live_over_the_socket_is_only_text(desktop, alice, bob, server, hostile_world):
    desktop.log_in(alice)
    watch = Watch(desktop)
    open_chat(desktop, hostile_world)
    before = desktop.page.evaluate(COUNT_IDS, list(PAGE_IDS))
    assert before == dict.fromkeys(PAGE_IDS, 1)
    key = outside_the_browser_loop(token_for, bob)
    earlier = desktop.page.locator("#messages .message-text").all_text_contents()

    for text in [*MESSAGE_CORPUS.values(), DONE]:
        api_send(server.url, key, hostile_world.pk, text)
    desktop.page.locator("#messages .message-text", has_text=DONE).wait_for()

    watch.assert_nothing_happened(before)
    texts = desktop.page.locator("#messages .message-text").all_text_contents()
    # Some show alike (`<img ...>` typed, and in a code span): each as often as it was sent.
    sent = Counter(shown(text) for text in MESSAGE_CORPUS.values())
    for text, times in sent.items():
        assert texts.count(text) == earlier.count(text) + times
