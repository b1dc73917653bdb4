"""Read only when seen: a message counts as read once it has been on screen in a visible tab.

Not when it merely arrived while the reader was scrolled up in the history or looking at
another tab. Alice writes from her browser; what bob's tab reports reaches alice's receipts
and bob's read position (the database the server shares with the test).
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from conversations import actions
from conversations.models import Membership

from .conftest import Tab, outside_the_browser_loop
from .test_live import WATCH, open_chat, send

pytestmark = pytest.mark.browser

# The tab pretends to be in the background (a test browser's tabs are always "visible").
HIDEABLE = """
Object.defineProperty(document, "visibilityState", {
  configurable: true, get: () => (window.hiddenTab ? "hidden" : "visible"),
});
Object.defineProperty(document, "hidden", { configurable: true, get: () => Boolean(window.hiddenTab) });
"""
HIDE = "(hidden) => { window.hiddenTab = hidden; document.dispatchEvent(new Event('visibilitychange')); }"
# The tab's read reports have had a full second after the message arrived (they wait 0.3 s).
A_SECOND_AFTER = "(text) => window.arrivals[text] && Date.now() - window.arrivals[text] > 1000"
HISTORY = 40


@pytest.fixture
def history(alice, bob):
    """A chat long enough to scroll, all of it read by bob already."""
    chat = outside_the_browser_loop(actions.get_or_create_direct_chat, alice, bob)[0]
    for n in range(HISTORY):
        outside_the_browser_loop(actions.send_message, chat, alice, f"Old news {n}")
    return chat


def read_position(chat, person) -> int:
    return Membership.objects.get(chat=chat, user=person).last_read_message_id or 0


def tabs(open_tab, kind: str, alice, bob) -> tuple[Tab, Tab]:
    alices, bobs = open_tab("desktop"), open_tab(kind)
    alices.log_in(alice)
    bobs.log_in(bob)
    return alices, bobs


@pytest.mark.parametrize("kind", ["desktop", "phone"])
def test_a_message_that_arrives_while_bob_reads_old_history_is_not_seen_until_he_scrolls_to_it(
    open_tab, kind, alice, bob, history
):
    alices, bobs = tabs(open_tab, kind, alice, bob)
    open_chat(bobs, history)
    open_chat(alices, history)
    read_before = read_position(history, bob)
    bobs.page.locator("#scroller").evaluate("box => { box.scrollTop = 0; }")
    bobs.page.evaluate(WATCH, "Did you see this?")

    send(alices, "Did you see this?")

    pill = bobs.page.get_by_role("status").get_by_role("button", name="New messages")
    expect(pill).to_be_visible()
    bobs.page.wait_for_function(A_SECOND_AFTER, arg="Did you see this?")
    assert read_position(history, bob) == read_before
    expect(alices.page.locator("#messages .message").last.locator(".receipt")).to_have_text("")
    bobs.audit()

    pill.click()
    expect(bobs.page.locator("#messages .message-text", has_text="Did you see this?")).to_be_in_viewport()
    expect(alices.page.locator("#messages .message").last.locator(".receipt")).to_have_text("Seen")
    expect(pill).to_be_hidden()
    assert read_position(history, bob) > read_before


def test_a_message_that_arrives_in_a_background_tab_is_seen_when_bob_comes_back(open_tab, alice, bob, history):
    alices, bobs = tabs(open_tab, "desktop", alice, bob)
    bobs.context.add_init_script(HIDEABLE)
    open_chat(bobs, history)
    open_chat(alices, history)
    read_before = read_position(history, bob)
    bobs.page.evaluate(HIDE, True)
    bobs.page.evaluate(WATCH, "Lunch?")

    send(alices, "Lunch?")

    # At the bottom, the message scrolls into place, but nobody is looking at the tab.
    expect(bobs.page.locator("#messages .message-text", has_text="Lunch?")).to_be_in_viewport()
    bobs.page.wait_for_function(A_SECOND_AFTER, arg="Lunch?")
    assert read_position(history, bob) == read_before
    expect(alices.page.locator("#messages .message").last.locator(".receipt")).to_have_text("")

    bobs.page.evaluate(HIDE, False)
    expect(alices.page.locator("#messages .message").last.locator(".receipt")).to_have_text("Seen")
    expect(bobs.page.locator("#new-below")).to_be_hidden()  # it was in sight all along


def test_a_message_that_arrives_where_bob_is_looking_is_seen_at_once(open_tab, alice, bob, history):
    alices, bobs = tabs(open_tab, "phone", alice, bob)
    open_chat(bobs, history)
    open_chat(alices, history)

    send(alices, "Right here")

    expect(alices.page.locator("#messages .message").last.locator(".receipt")).to_have_text("Seen")
    expect(bobs.page.locator("#new-below")).to_be_hidden()


def test_without_javascript_opening_the_chat_reads_it_up_to_the_newest_message(no_js, alice, bob, history):
    newest = outside_the_browser_loop(actions.send_message, history, alice, "Unread for now")[0]
    assert read_position(history, bob) < newest.pk
    no_js.log_in(bob)

    no_js.goto(reverse("chat", args=[history.pk]))

    expect(no_js.page.locator("#messages .message-text").last).to_have_text("Unread for now")
    expect(no_js.page.locator("#new-below")).to_be_hidden()
    assert read_position(history, bob) == newest.pk
