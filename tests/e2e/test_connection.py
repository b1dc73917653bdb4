"""When the socket is down the page says so, stops claiming who is online, and catches up at once.

The test runs its own server process, so that it can restart it (the session's server stays up
for the other tests): what alice sends while it is down reaches bob's page as soon as the new
process answers, and the time that takes is printed.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conversations import actions

from .conftest import TAB_OPTIONS, Tab, outside_the_browser_loop, start_server, stop_server, wait_for_sockets_to_close
from .test_live import WATCH, open_chat

pytestmark = pytest.mark.browser


def test_after_a_server_restart_the_page_says_reconnecting_and_catches_up_at_once(
    browser, transactional_db, tmp_path, alice, bob
):
    chat = outside_the_browser_loop(actions.get_or_create_direct_chat, alice, bob)[0]
    for name in ("first", "second"):
        (tmp_path / name).mkdir()
    first = start_server(tmp_path / "first")
    tabs: list[Tab] = []
    servers = [first]
    try:
        for person in (alice, bob):
            context = browser.new_context(base_url=first.url, locale="en-US", **TAB_OPTIONS["desktop"])
            context.set_default_timeout(10_000)
            tabs.append(Tab("desktop", context, first.url))
            tabs[-1].log_in(person)
            open_chat(tabs[-1], chat)
        _alices, bobs = tabs
        page = bobs.page
        status = page.get_by_role("status").filter(has_text="Reconnecting…")
        presence = page.locator("#chat-header .presence-text")
        expect(presence).to_have_text("Online")
        expect(status).to_have_count(0)

        stop_server(first)
        expect(status).to_be_visible()
        expect(presence).to_have_text("Status unknown while reconnecting")
        outside_the_browser_loop(actions.send_message, chat, alice, "Sent while you were away")
        page.evaluate(WATCH, "Sent while you were away")
        bobs.audit()

        port = int(first.url.rsplit(":", 1)[1])
        servers.append(start_server(tmp_path / "second", port=port))
        serving_at = page.evaluate("() => Date.now()")

        expect(page.locator("#messages .message-text", has_text="Sent while you were away")).to_have_count(1)
        caught_up = page.evaluate("(text) => window.arrivals[text]", "Sent while you were away") - serving_at
        print(f"\nserver restart → missed message on the page: {caught_up} ms")
        assert caught_up < 3_000
        expect(status).to_have_count(0)
        expect(presence).to_have_text("Online")
        # The refused attempts while the server was down are this test's expected console errors.
        for tab in tabs:
            tab.problems = [p for p in tab.problems if "WebSocket" not in p and "[object Event]" not in p]
    finally:
        for tab in tabs:
            tab.close()
        for server in servers:
            if server.process.poll() is None:
                stop_server(server)
        wait_for_sockets_to_close()
