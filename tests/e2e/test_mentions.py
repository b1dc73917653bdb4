"""@mentions in Chromium: the composer offers the members after "@", chosen with the keyboard; the
person mentioned gets "@" in their chat list at once and sees the mention marked in the chat."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from conftest import make_person
from conversations import actions

from .conftest import give_password, outside_the_browser_loop
from .test_live import open_chat

pytestmark = pytest.mark.browser


def test_typing_at_offers_the_members_and_the_keyboard_picks_one(open_tab, alice, bob):
    dave = give_password(make_person("dave", "Dave", "Dale"))
    group = outside_the_browser_loop(actions.create_group, alice, "Climbing", [bob, dave])
    alices, daves = open_tab("desktop"), open_tab("desktop")
    alices.log_in(alice)
    daves.log_in(dave)
    daves.goto(reverse("home"))
    daves.page.wait_for_function("() => window.htmx && connectedBefore === true")
    open_chat(alices, group)
    page, composer = alices.page, alices.page.locator("#composer-text")

    composer.press_sequentially("Rope @")
    listbox = page.get_by_role("listbox", name="People to mention")
    expect(listbox.get_by_role("option")).to_have_count(2)  # bob and dave, not alice herself
    expect(composer).to_have_attribute("aria-activedescendant", "mention-option-0")
    expect(listbox.get_by_role("option").nth(0)).to_have_attribute("aria-selected", "true")
    alices.audit()
    composer.press("ArrowDown")
    expect(listbox.get_by_role("option").nth(1)).to_have_attribute("aria-selected", "true")
    expect(composer).to_have_attribute("aria-activedescendant", "mention-option-1")
    composer.press("ArrowUp")
    expect(listbox.get_by_role("option").nth(0)).to_have_attribute("aria-selected", "true")
    composer.press("Escape")  # closes the list, nothing else
    expect(listbox).to_have_count(0)
    expect(composer).to_have_value("Rope @")

    composer.press_sequentially("da")
    expect(listbox.get_by_role("option")).to_have_text(["Dave Dale @dave"])
    composer.press("Enter")  # picks, does not send
    expect(composer).to_have_value("Rope @dave ")
    expect(listbox).to_have_count(0)
    composer.press_sequentially("at nine?")
    composer.press("Enter")  # now it sends

    mention = page.locator("#messages .message-text .mention")
    expect(mention).to_have_text("@dave")
    expect(mention).to_have_attribute("href", reverse("accounts:profile", args=["dave"]))
    # dave's chat list, live: "@" beside the unread count.
    expect(daves.page.locator(f"#chat-{group.pk}-unread .mention-badge")).to_have_text("@")
    # In the chat, the mention is marked for dave only (viewer.css).
    open_chat(daves, group)
    marked = daves.page.locator("#messages .mention").evaluate("(link) => getComputedStyle(link).backgroundColor")
    unmarked = mention.evaluate("(link) => getComputedStyle(link).backgroundColor")
    assert marked != unmarked
    assert unmarked == "rgba(0, 0, 0, 0)"


def test_without_javascript_a_typed_mention_links_and_marks_the_chat_list(open_tab, alice, bob):
    group = outside_the_browser_loop(actions.create_group, alice, "Climbing", [bob])
    alices, bobs = open_tab("no_js"), open_tab("no_js")
    alices.log_in(alice)
    bobs.log_in(bob)
    alices.goto(reverse("chat", args=[group.pk]))
    page = alices.page

    page.locator("#composer-text").fill("@Bob the rope is yours")  # any case; no list without JavaScript
    alices.submit(page.get_by_role("button", name="Send"))
    mention = page.locator("#messages .message-text .mention").last
    expect(mention).to_have_text("@bob")  # shown as the username it names
    expect(mention).to_have_attribute("href", reverse("accounts:profile", args=["bob"]))

    bobs.goto(reverse("home"))
    expect(bobs.page.locator(f"#chat-{group.pk}-unread .mention-badge")).to_have_text("@")
    bobs.submit(bobs.page.locator(f"#chat-{group.pk} a.chat-link"))
    marked = bobs.page.locator("#messages .mention").last
    assert marked.evaluate("(link) => getComputedStyle(link).backgroundColor") != "rgba(0, 0, 0, 0)"


def test_on_a_phone_a_tap_picks_the_person(phone, alice, bob):
    group = outside_the_browser_loop(actions.create_group, alice, "Climbing", [bob])
    phone.log_in(alice)
    open_chat(phone, group)
    page, composer = phone.page, phone.page.locator("#composer-text")

    composer.press_sequentially("Thanks @b")
    listbox = page.get_by_role("listbox", name="People to mention")
    option = listbox.get_by_role("option", name="Bob Baker @bob")
    expect(option).to_be_in_viewport()
    box = listbox.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    phone.audit()
    option.tap()
    expect(composer).to_have_value("Thanks @bob ")
    expect(composer).to_be_focused()
    page.get_by_role("button", name="Send").tap()
    expect(page.locator("#messages .message-text .mention").last).to_have_text("@bob")
