"""Message search in a real browser: as-you-type with htmx, a plain form and links without
JavaScript, and inside one chat on a phone. alice and bob chat; carol's chat with bob is not
alice's to search."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conversations import actions

from .conftest import Tab, outside_the_browser_loop

pytestmark = pytest.mark.browser


def send(chat, author, text):
    return outside_the_browser_loop(actions.send_message, chat, author, text)[0]


@pytest.fixture
def chats(alice, bob, carol):
    """alice and bob's direct chat, their group, and bob and carol's chat (not alice's)."""
    direct = outside_the_browser_loop(actions.get_or_create_direct_chat, alice, bob)[0]
    group = outside_the_browser_loop(actions.create_group, alice, "Climbing", [bob])
    theirs = outside_the_browser_loop(actions.get_or_create_direct_chat, bob, carol)[0]
    return direct, group, theirs


def test_results_follow_the_typing_and_one_opens_the_message_in_context(desktop: Tab, alice, bob, chats):
    direct, group, theirs = chats
    wanted = send(direct, bob, "The rope is in the red bag")
    for n in range(60):
        send(direct, bob if n % 2 else alice, f"Filler message {n}")
    send(group, alice, "Who brings a second rope?")
    send(theirs, bob, "Secret rope stash behind the hut")
    deleted = send(direct, bob, "rope that was never said")
    outside_the_browser_loop(actions.delete_message, deleted, bob)
    desktop.log_in(alice)
    desktop.goto("/")
    page = desktop.page

    page.get_by_role("searchbox", name="Search messages").fill("rope")  # a whole word: PostgreSQL stems, not prefixes
    page.get_by_role("searchbox", name="Search messages").press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=rope$"))
    results = page.get_by_role("list", name="Messages found").get_by_role("listitem")
    expect(results).to_have_count(2)  # the direct chat's and the group's, not bob and carol's, not deleted
    expect(page.locator("#search-status")).to_have_text("2 messages match “rope”")
    expect(page.locator(".search-result-snippet mark").first).to_have_text("rope")
    desktop.audit()

    box = page.get_by_role("searchbox", name="Words in your messages")
    box.fill("red bag")  # as you type: no page load, the address follows
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Bob Baker")
    expect(results.first.locator("mark")).to_have_text(["red", "bag"])
    expect(page).to_have_url(re.compile(r"q=red(\+|%20)bag"))
    box.fill("xylophone")
    expect(page.locator("#search-status")).to_have_text("No message matches “xylophone”.")
    expect(results).to_have_count(0)

    box.fill("red bag")
    with page.expect_navigation():
        results.first.get_by_role("link").click()
    # 60 messages later than the page's first window: the history around it, the message marked.
    original = page.locator(f"#message-{wanted.pk}")
    expect(original).to_be_in_viewport()
    assert page.url.endswith(f"#message-{wanted.pk}")
    desktop.audit()


def test_without_javascript_the_form_searches_pages_on_and_links_to_the_message(no_js: Tab, alice, bob, chats):
    direct, _, _ = chats
    first = send(direct, bob, "Meeting number 0 about the crag")
    for n in range(1, 25):
        send(direct, bob if n % 2 else alice, f"Meeting number {n} about the crag")
    no_js.log_in(alice)
    no_js.goto("/")
    page = no_js.page

    page.get_by_role("searchbox", name="Search messages").fill("meeting")
    no_js.submit(page.get_by_role("button", name="Search messages"))
    results = page.get_by_role("list", name="Messages found").locator(".search-result")
    expect(results).to_have_count(20)
    expect(page.locator("#search-status")).to_have_text("Messages matching “meeting”, best first")

    no_js.submit(page.get_by_role("link", name="More results"))
    expect(results).to_have_count(5)
    expect(page.get_by_role("link", name="More results")).to_have_count(0)
    no_js.submit(page.locator(f"#result-{first.pk} a"))
    expect(page.locator(f"#message-{first.pk}")).to_be_visible()
    assert page.url.endswith(f"#message-{first.pk}")


def test_on_a_phone_a_chat_searches_only_itself(phone: Tab, alice, bob, chats):
    direct, group, _ = chats
    send(direct, bob, "Coffee at the crag?")
    in_group = send(group, bob, "Coffee for everyone at the hut, the longest message of the whole trip so far")
    phone.log_in(alice)
    phone.goto(f"/chats/{group.pk}/")
    page = phone.page

    page.get_by_role("link", name="Search in this chat").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Search in Climbing")
    page.wait_for_load_state()  # htmx listens from DOMContentLoaded on: typing before that is a plain form
    page.get_by_role("searchbox", name="Words in this chat’s messages").fill("coffee")
    results = page.get_by_role("list", name="Messages found").locator(".search-result")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Coffee for everyone")
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the results page is {overflow}px wider than the phone"
    phone.audit()

    page.get_by_role("link", name="Search all your chats instead").click()
    expect(results).to_have_count(2)
    page.go_back()
    expect(results).to_have_count(1)
    with page.expect_navigation():
        results.first.get_by_role("link").click()
    expect(page.locator(f"#message-{in_group.pk}")).to_be_in_viewport()
