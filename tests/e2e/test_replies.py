"""Replies and message links in a real browser: with JavaScript (htmx and the socket), without
it (links and forms), and on a phone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from conversations import actions
from flowchat.testing import token_for

from .conftest import Tab, outside_the_browser_loop
from .test_live import open_chat
from .test_message_versions import api

pytestmark = pytest.mark.browser


def direct_chat(alice, bob):
    return outside_the_browser_loop(actions.get_or_create_direct_chat, alice, bob)[0]


def send(chat, author, text, **kwargs):
    return outside_the_browser_loop(actions.send_message, chat, author, text, **kwargs)[0]


def history(chat, alice, bob, count: int = 120):
    """The question, far back, and `count` messages after it."""
    question = send(chat, bob, "Rope at 9?")
    for n in range(count):
        send(chat, alice if n % 2 else bob, f"Message number {n}")
    outside_the_browser_loop(actions.mark_read, chat, alice)
    return question


def test_reply_cancel_send_and_jump_to_the_original_with_javascript(desktop, alice, bob):
    chat = direct_chat(alice, bob)
    first = send(chat, bob, "Where do we meet?")
    question = history(chat, alice, bob, 0)
    desktop.log_in(alice)
    open_chat(desktop, chat)
    page = desktop.page
    composer = page.locator("#composer-text")
    composer.fill("Typed before")

    page.locator(f"#message-{question.pk} a[data-reply]").click()
    slot = page.locator("#composer-reply")
    expect(slot.locator(".reply-quote")).to_contain_text("Bob Baker Rope at 9?")
    expect(composer).to_have_value("Typed before")  # only the slot changed
    slot.get_by_role("link", name="Cancel reply").click()
    expect(slot.locator(".reply-quote")).to_have_count(0)

    page.locator(f"#message-{first.pk} a[data-reply]").click()
    expect(slot.locator(".reply-quote")).to_contain_text("Where do we meet?")
    desktop.audit()
    composer.fill("At the crag")
    composer.press("Enter")

    reply = page.locator("#messages > article").filter(has_text="At the crag").last
    expect(reply.locator(".reply-quote")).to_contain_text("Where do we meet?")
    expect(slot.locator(".reply-quote")).to_have_count(0)
    reply.locator(".reply-quote").click()
    expect(page.locator(f"#message-{first.pk}")).to_have_class("message is-highlighted")
    assert page.url.endswith(f"#message-{first.pk}")


def test_a_quote_of_a_message_far_back_opens_the_history_around_it(desktop, alice, bob):
    chat = direct_chat(alice, bob)
    question = history(chat, alice, bob)
    send(chat, alice, "Yes, at 9", reply_to=question.pk)
    desktop.log_in(alice)
    open_chat(desktop, chat)
    page = desktop.page
    expect(page.locator(f"#message-{question.pk}")).to_have_count(0)

    with page.expect_navigation():
        page.locator(".reply-quote").last.click()

    original = page.locator(f"#message-{question.pk}")
    expect(original).to_be_visible()
    expect(original).to_be_in_viewport()
    assert f"around={question.pk}" in page.url
    desktop.audit()


def test_the_quote_updates_live_when_the_original_is_edited_and_deleted(desktop, alice, bob):
    chat = direct_chat(alice, bob)
    question = send(chat, bob, "Rope at 9?")
    send(chat, alice, "Yes", reply_to=question.pk)
    desktop.log_in(alice)
    open_chat(desktop, chat)
    quote = desktop.page.locator(f'.reply-quote[data-quote-of="{question.pk}"]')
    expect(quote).to_contain_text("Rope at 9?")

    # Bob's script changes it on the server, whose socket layer the page listens to.
    key = token_for(bob)
    assert api(desktop, "PATCH", f"/api/messages/{question.pk}/", key, {"text": "Rope at 10?"}) == 200
    expect(quote).to_contain_text("Rope at 10?")
    assert api(desktop, "DELETE", f"/api/messages/{question.pk}/", key) == 204
    expect(quote).to_contain_text("Deleted message")


def test_replying_without_javascript(no_js, alice, bob):
    chat = direct_chat(alice, bob)
    question = history(chat, alice, bob)
    page = no_js.page
    no_js.log_in(alice)
    no_js.goto(f"/chats/{chat.pk}/messages/{question.pk}/")  # the permalink, 120 messages back
    original = page.locator(f"#message-{question.pk}")
    expect(original).to_be_visible()

    no_js.submit(original.get_by_role("link", name="Reply"))
    slot = page.locator("#composer-reply")
    expect(slot.locator(".reply-quote")).to_contain_text("Rope at 9?")
    no_js.submit(slot.get_by_role("link", name="Cancel reply"))
    expect(slot.locator(".reply-quote")).to_have_count(0)

    no_js.goto(f"/chats/{chat.pk}/?reply_to={question.pk}#composer")
    page.locator("#composer-text").fill("Yes, at 9")
    no_js.submit(page.get_by_role("button", name="Send"))
    reply = page.locator("#messages > article").last
    expect(reply).to_contain_text("Yes, at 9")

    no_js.submit(reply.locator(".reply-quote"))
    expect(page.locator(f"#message-{question.pk}")).to_be_visible()
    assert page.url.endswith(f"#message-{question.pk}")


def test_replying_on_a_phone(phone: Tab, alice, bob):
    chat = direct_chat(alice, bob)
    question = send(chat, bob, "A long first line that goes on and on, far wider than any phone screen can show")
    phone.log_in(alice)
    open_chat(phone, chat)
    page = phone.page

    page.locator(f"#message-{question.pk} a[data-reply]").click()
    expect(page.locator("#composer-reply .reply-quote")).to_be_visible()
    page.locator("#composer-text").fill("Yes")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("#messages > article .reply-quote")).to_be_visible()
    phone.assert_fits_the_screen()
    phone.audit()
