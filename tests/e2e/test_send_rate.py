"""Sending faster than the send rate in a real browser: the composer says so and keeps the text.

A server of its own, started with a burst of two, so that the third send is refused.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from .conftest import Server, outside_the_browser_loop, start_server, stop_server, wait_for_server_connections_to_close

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("send-rate"), SEND_RATE_BURST="2", SEND_RATE_PER_MINUTE="1")
    try:
        yield running
    finally:
        stop_server(running)
        wait_for_server_connections_to_close(django_db_blocker)


@pytest.mark.parametrize("tab", ["desktop", "no_js"], indirect=True)
def test_a_send_past_the_rate_is_refused_at_the_composer_and_the_text_is_kept(tab, alice, bob):
    from conversations import actions

    chat = outside_the_browser_loop(actions.get_or_create_direct_chat, alice, bob)[0]
    page = tab.page
    tab.log_in(alice)
    tab.goto(f"/chats/{chat.pk}/")
    button = page.get_by_role("button", name="Send")

    for text in ("one", "two", "three, too soon"):
        page.locator("#composer-text").fill(text)
        if tab.javascript:
            with page.expect_response(lambda response: response.url.endswith("/messages/")) as answer:
                button.click()
            status = answer.value.status
        else:
            status = tab.submit(button).status
        if text != "three, too soon":
            assert status in (200, 302)
            expect(page.locator("#messages")).to_contain_text(text)

    assert status == 429
    expect(page.locator("#composer-errors")).to_contain_text("You are sending messages too fast. Wait")
    expect(page.locator("#composer-text")).to_have_value("three, too soon")
    assert list(chat.messages.order_by("id").values_list("text", flat=True)) == ["one", "two"]
    tab.audit()
    # Chromium logs every 4xx answer to the console; this one is the expected refusal.
    tab.problems[:] = [problem for problem in tab.problems if "status of 429" not in problem]
