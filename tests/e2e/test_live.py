"""Two people in two browsers: what one does reaches the other at once, without a reload.

Everything here goes through the browsers and the real server process (its socket, its
channel layer), so nothing is pushed from the test itself.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Locator, expect

from conftest import make_person
from conversations import actions

from .conftest import Tab, give_password, outside_the_browser_loop

pytestmark = pytest.mark.browser

# window[name] becomes true at the next `event` on the page.
ONCE = "([name, event]) => { document.addEventListener(event, () => { window[name] = true; }, { once: true }); }"
# Keeps the page's WebSockets within reach, to cut one.
KEEP_SOCKETS = """
const NativeWebSocket = window.WebSocket;
window.sockets = [];
window.WebSocket = class extends NativeWebSocket {
  // While the connection is cut, reconnecting fails (the server refuses that path).
  constructor(url, ...rest) {
    super(window.cut ? url.replace(/\\/ws\\/.*$/, "/ws/nowhere/") : url, ...rest);
    window.sockets.push(this);
  }
};
"""
# The connection drops: the socket closes, and the page hears "abnormal closure" (1006), as
# when the network goes away; the server sees a disconnect.
DROP_CONNECTION = """() => {
  window.cut = true;
  const socket = window.sockets.at(-1);
  const onclose = socket.onclose;
  socket.onclose = null;
  socket.close();
  onclose({ code: 1006 });
}"""
# window.arrivals[text] becomes the moment a message with this text appears.
WATCH = """(text) => {
  window.arrivals = window.arrivals || {};
  const seen = () => [...document.querySelectorAll("#messages .message-text")].some((p) => p.textContent === text);
  new MutationObserver((_, observer) => {
    if (seen()) { observer.disconnect(); window.arrivals[text] = Date.now(); }
  }).observe(document.getElementById("messages"), { childList: true, subtree: true });
}"""


@pytest.fixture
def alice_and_bob(open_tab):
    alice = give_password(make_person("alice", "Alice", "Archer"))
    bob = give_password(make_person("bob", "Bob", "Baker"))
    chat = outside_the_browser_loop(actions.get_or_create_direct_chat, alice, bob)[0]
    alices, bobs = open_tab("desktop"), open_tab("desktop")
    alices.log_in(alice)
    bobs.log_in(bob)
    return alices, bobs, chat


def open_chat(tab: Tab, chat) -> None:
    tab.goto(reverse("chat", args=[chat.pk]))
    # The page is live once its socket is open and has caught up.
    tab.page.wait_for_function("() => window.htmx && document.querySelector('#synced')")
    tab.page.wait_for_function("() => connectedBefore === true")


def send(tab: Tab, text: str) -> float:
    """Type and send with Enter; the moment it was sent (the page's clock, ms)."""
    composer = tab.page.locator("#composer-text")
    composer.fill(text)
    sent_at = tab.page.evaluate("() => Date.now()")
    composer.press("Enter")
    expect(tab.page.locator("#composer-text")).to_have_value("")  # sent: a fresh composer
    return sent_at


def edit(tab: Tab, message: Locator, text: str) -> None:
    """Edit a message in place, from its menu, and save with Enter."""
    message.locator(".message-menu > summary").click()
    message.get_by_role("link", name="Edit").click()
    tab.page.locator(".edit-form textarea").fill(text)
    tab.page.locator(".edit-form textarea").press("Enter")


def test_two_people_chat_live(alice_and_bob):
    alices, bobs, chat = alice_and_bob
    open_chat(bobs, chat)
    open_chat(alices, chat)

    # Presence: bob sees alice come online.
    expect(bobs.page.locator("#chat-header .presence-text")).to_contain_text("Online")

    # Typing: a note for bob while alice types.
    alices.page.locator("#composer-text").press_sequentially("Hel")
    expect(bobs.page.locator("#typing")).to_contain_text("Alice Archer is typing…")

    # Messages: each reaches bob's page once; delivery time is printed for the closing note.
    latencies = []
    for text in ("Hello Bob", "Rope at 9?", "See you there"):
        bobs.page.evaluate(WATCH, text)
        sent_at = send(alices, text)
        expect(bobs.page.locator("#messages .message-text", has_text=text)).to_have_count(1)
        latencies.append(bobs.page.evaluate("(text) => window.arrivals[text]", text) - sent_at)
    print(f"\nsend → other browser's DOM: {', '.join(f'{ms:.0f} ms' for ms in latencies)}")
    expect(bobs.page.locator("#typing .typing-note")).to_have_count(0)  # the message ended the note
    expect(alices.page.locator("#messages .message-text")).to_have_count(3)  # not doubled by the socket

    # Receipts: bob is looking, so alice's messages turn "Seen".
    expect(alices.page.locator(".message .receipt").last).to_have_text("Seen")

    # Edits arrive in place.
    edit(alices, alices.page.locator("#messages .message").last, "See you at 10")
    expect(bobs.page.locator("#messages .message-text", has_text="See you at 10")).to_have_count(1)
    expect(bobs.page.locator("#messages .message-text", has_text="See you there")).to_have_count(0)

    # Bob leaves: alice sees him go offline.
    bobs.close()
    expect(alices.page.locator("#chat-header .presence-text")).to_contain_text("Last seen")


def test_a_message_to_a_chat_that_is_not_open_bumps_its_badge_and_shows_a_notice(alice_and_bob):
    alices, bobs, chat = alice_and_bob
    bobs.goto(reverse("home"))
    bobs.page.wait_for_function("() => connectedBefore === true")
    open_chat(alices, chat)

    send(alices, "Are you coming?")

    expect(bobs.page.locator(f"#chat-{chat.pk} .badge")).to_have_text("1")
    expect(bobs.page.locator(f"#chat-{chat.pk} .chat-preview")).to_have_text("Are you coming?")
    expect(bobs.page.locator(".live-notice")).to_contain_text("Are you coming?")
    expect(bobs.page).to_have_title("(1) Chats · FlowChat")

    # Reading it in one tab clears the badge in the other.
    other = bobs.context.new_page()
    other.goto(reverse("chat", args=[chat.pk]))
    expect(bobs.page.locator(f"#chat-{chat.pk} .badge")).to_have_count(0)
    expect(bobs.page).to_have_title("Chats · FlowChat")
    other.close()


def test_after_the_connection_drops_nothing_sent_meanwhile_is_missing_or_doubled(alice_and_bob):
    alices, bobs, chat = alice_and_bob
    bobs.context.add_init_script(KEEP_SOCKETS)
    open_chat(bobs, chat)
    open_chat(alices, chat)
    send(alices, "Before the tunnel")
    expect(bobs.page.locator("#messages .message-text", has_text="Before the tunnel")).to_have_count(1)

    # Bob's connection drops (as when a phone goes into a tunnel): the socket is gone, and
    # htmx's ws extension will reconnect it, but replays nothing.
    bobs.page.evaluate(ONCE, ["openedAgain", "htmx:wsOpen"])
    bobs.page.evaluate(DROP_CONNECTION)
    send(alices, "In the tunnel")
    send(alices, "Still in the tunnel")
    expect(alices.page.locator("#messages .message-text")).to_have_count(3)
    edit(alices, alices.page.locator("#messages .message").first, "Before the bridge")
    expect(alices.page.locator("#messages .message-text", has_text="Before the bridge")).to_have_count(1)
    assert bobs.page.locator("#messages .message-text").all_text_contents() == ["Before the tunnel"]

    bobs.page.evaluate("() => { window.cut = false; }")
    bobs.page.wait_for_function("() => window.openedAgain", timeout=15_000)

    expect(bobs.page.locator("#messages .message-text")).to_have_text(
        ["Before the bridge", "In the tunnel", "Still in the tunnel"]
    )
    # The failed attempts while cut off are this test's expected console errors: the
    # browser's, and htmx's logging of its wsError event ("[object Event]").
    bobs.problems = [p for p in bobs.problems if "/ws/nowhere/" not in p and "[object Event]" not in p]


def test_what_is_typed_while_a_message_is_on_its_way_stays_in_the_composer(alice_and_bob):
    alices, _bobs, chat = alice_and_bob
    open_chat(alices, chat)
    on_the_way = []
    alices.page.route("**/chats/*/messages/", lambda route: on_the_way.append(route))  # held until continued
    composer = alices.page.locator("#composer-text")
    composer.fill("First")
    composer.press("Enter")

    composer.press_sequentially(" and the second")
    assert len(on_the_way) == 1
    on_the_way[0].continue_()

    expect(alices.page.locator("#messages .message-text", has_text="First")).to_have_count(1)
    expect(alices.page.locator("#composer-text")).to_have_value("and the second")


def test_a_pushed_message_gets_its_reply_link_and_picker_and_its_chat_moves_to_the_top(open_tab):
    from conversations.models import Message
    from flowchat.testing import token_for

    from .test_message_versions import api

    alice = make_person("alice", "Alice", "Archer")
    bob = give_password(make_person("bob", "Bob", "Baker"))
    dave = make_person("dave", "Dave", "Dale")
    chat = outside_the_browser_loop(actions.get_or_create_direct_chat, alice, bob)[0]
    daves = outside_the_browser_loop(actions.get_or_create_direct_chat, bob, dave)[0]
    outside_the_browser_loop(actions.send_message, daves, dave, "Hi")
    bobs = open_tab("desktop")
    bobs.log_in(bob)
    open_chat(bobs, chat)
    rows = bobs.page.locator("#chats > li")
    expect(rows.first).to_have_attribute("id", f"chat-{daves.pk}")

    # Alice's script sends through the server, which pushes to bob's tab.
    assert api(bobs, "POST", "/api/messages/", token_for(alice), {"chat": chat.pk, "text": "Rope at 9?"}) == 201
    message = outside_the_browser_loop(Message.objects.filter(chat=chat).latest, "id")

    # The frame carries neither; the page adds both, for this message's id.
    arrived = bobs.page.locator(f"#message-{message.pk}")
    expect(arrived.get_by_role("link", name="Reply")).to_have_attribute(
        "href", f"/chats/{chat.pk}/?reply_to={message.pk}#composer"
    )
    expect(arrived.locator(".reaction-picker a")).to_have_attribute(
        "href", f"/chats/{chat.pk}/messages/{message.pk}/reactions/"
    )
    expect(rows.first).to_have_attribute("id", f"chat-{chat.pk}")
    expect(rows).to_have_count(2)
    bobs.audit()

    arrived.locator(".reaction-picker > summary").click()
    arrived.locator(".reaction-choice", has_text="👍").click()
    expect(arrived.locator(".reaction", has_text="👍")).to_have_attribute("aria-pressed", "true")
    expect(arrived.locator(".reaction-picker")).to_have_count(1)  # the bar came back without it: added again
    arrived.get_by_role("link", name="Reply").click()
    expect(bobs.page.locator("#composer-reply .reply-quote")).to_contain_text("Rope at 9?")

    # Bob's own message, sent by his script, comes without its receipt's place: the page adds it,
    # and it says "Seen" once alice has read it.
    assert api(bobs, "POST", "/api/messages/", token_for(bob), {"chat": chat.pk, "text": "Yes, at 9"}) == 201
    mine = outside_the_browser_loop(Message.objects.filter(chat=chat).latest, "id")
    receipt = bobs.page.locator(f"#message-{mine.pk} .message-meta > #message-{mine.pk}-receipt")
    expect(receipt).to_have_count(1)
    outside_the_browser_loop(actions.mark_read, chat, alice, mine.pk)
    expect(receipt).to_have_text("Seen")

    # And a new message in dave's chat brings his row back up.
    assert api(bobs, "POST", "/api/messages/", token_for(dave), {"chat": daves.pk, "text": "Again"}) == 201
    expect(rows.first).to_have_attribute("id", f"chat-{daves.pk}")
