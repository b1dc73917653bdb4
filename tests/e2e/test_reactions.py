"""Reactions in a real browser: the picker with JavaScript, live in another tab, forms without it, a phone."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from conftest import make_person
from conversations import actions

from .conftest import give_password, outside_the_browser_loop
from .test_live import open_chat

pytestmark = pytest.mark.browser


@pytest.fixture
def people_and_message(transactional_db):
    alice = give_password(make_person("alice", "Alice", "Archer"))
    bob = give_password(make_person("bob", "Bob", "Baker"))
    chat = outside_the_browser_loop(actions.get_or_create_direct_chat, alice, bob)[0]
    message = outside_the_browser_loop(actions.send_message, chat, alice, "Rope at 9?")[0]
    return alice, bob, chat, message


def test_react_with_the_picker_live_for_the_other_tab_and_take_it_back(open_tab, people_and_message):
    alice, bob, chat, message = people_and_message
    alices, bobs = open_tab("desktop"), open_tab("desktop")
    alices.log_in(alice)
    bobs.log_in(bob)
    open_chat(alices, chat)
    open_chat(bobs, chat)
    bar = f"#message-{message.pk}-reactions"

    bobs.page.locator(f"{bar} .reaction-picker > summary").click()
    bobs.page.locator(f"{bar} .reaction-choice", has_text="🎉").click()
    mine = bobs.page.locator(f"{bar} .reaction", has_text="🎉")
    expect(mine).to_have_attribute("aria-pressed", "true")
    expect(mine.locator(".reaction-count")).to_have_text("1")
    expect(mine).to_have_attribute("title", "\u2068Bob Baker\u2069")  # the name isolated (bidi)

    # Alice sees it arrive, not pressed for her; she adds hers with the button itself.
    hers = alices.page.locator(f"{bar} .reaction", has_text="🎉")
    expect(hers).to_have_attribute("aria-pressed", "false")
    hers.click()
    expect(hers.locator(".reaction-count")).to_have_text("2")
    expect(hers).to_have_attribute("aria-pressed", "true")
    expect(mine.locator(".reaction-count")).to_have_text("2")
    expect(mine).to_have_attribute("aria-pressed", "true")  # still Bob's own, after Alice's push

    # Any emoji, typed.
    bobs.page.locator(f"{bar} .reaction-picker > summary").click()
    bobs.page.locator(f"#message-{message.pk}-emoji").fill("🦖")
    bobs.page.locator(f"#message-{message.pk}-emoji").press("Enter")
    expect(alices.page.locator(f"{bar} .reaction", has_text="🦖")).to_have_count(1)

    mine.click()
    expect(alices.page.locator(f"{bar} .reaction", has_text="🎉").locator(".reaction-count")).to_have_text("1")
    alices.audit()


def test_without_javascript_a_form_reacts_and_the_list_says_who(open_tab, people_and_message):
    _alice, bob, chat, message = people_and_message
    tab = open_tab("no_js")
    tab.log_in(bob)
    tab.goto(reverse("chat", args=[chat.pk]))
    bar = f"#message-{message.pk}-reactions"

    tab.page.locator(f"{bar} .reaction-picker > summary").click()
    # Without JavaScript the picker is a link to the reactions page, which has the same choices.
    tab.submit(tab.page.locator(f"{bar} .reaction-picker > div a"))
    tab.submit(tab.page.locator(".reaction-choice", has_text="👍"))
    button = tab.page.locator(f"{bar} .reaction", has_text="👍")
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_attribute("title", "\u2068Bob Baker\u2069")  # the name isolated (bidi)
    assert tab.page.url.endswith(f"#message-{message.pk}")

    tab.submit(tab.page.locator(f"{bar} .reaction-list-link"))
    expect(tab.page.locator(".reaction-people")).to_contain_text("Bob Baker")
    tab.audit()


def test_on_a_phone_the_picker_fits(open_tab, people_and_message):
    alice, bob, chat, message = people_and_message
    outside_the_browser_loop(actions.add_reaction, message, alice, "❤️")
    tab = open_tab("phone")
    tab.log_in(bob)
    open_chat(tab, chat)
    bar = f"#message-{message.pk}-reactions"
    tab.page.locator(f"{bar} .reaction-picker > summary").click()
    expect(tab.page.locator(f"{bar} .reaction-picker > div")).to_be_visible()
    tab.assert_fits_the_screen()
    tab.page.locator(f"{bar} .reaction", has_text="❤️").click()
    expect(tab.page.locator(f"{bar} .reaction", has_text="❤️").locator(".reaction-count")).to_have_text("2")
