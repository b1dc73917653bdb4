"""Controls that say what they are, in a real browser: a visitor's theme and language, the way
back from settings and profiles, the composer's one picture control, who has seen a message.

Every page is checked with axe-core, and console errors or CSP violations fail the test
(see conftest.py).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, expect

from conftest import PASSWORD, make_person
from conversations import actions

from .conftest import give_password, outside_the_browser_loop

pytestmark = pytest.mark.browser

# Smaller than this on either side is a visually hidden element (flowchat.css's 1px pattern).
SHOWN = 4


def is_shown(element: Locator) -> bool:
    """Drawn at a size a person can see: Playwright counts a clipped 1px element as visible."""
    box = element.bounding_box()
    return box is not None and box["width"] >= SHOWN and box["height"] >= SHOWN


@pytest.mark.parametrize("tab", ["desktop", "phone", "no_js"], indirect=True)
def test_a_visitors_theme_and_language_controls_have_labels_on_the_screen(tab):
    page = tab.page
    for path in ["/accounts/login/", "/accounts/signup/"]:
        tab.goto(path)
        for control, words in [("theme-header", "Theme"), ("language-header", "Language")]:
            label = page.locator(f"label[for={control}]")
            expect(label).to_have_text(words)
            assert is_shown(label), f"the {words} label is hidden on {path}"
            expect(page.get_by_label(words)).to_have_id(control)
        if tab.kind == "phone":
            tab.assert_fits_the_screen()


@pytest.mark.parametrize("tab", ["desktop", "phone", "no_js"], indirect=True)
def test_settings_and_profiles_lead_back_to_the_chats(tab, alice):
    page = tab.page
    tab.log_in(alice)
    for path in ["/settings/", "/people/alice/"]:
        tab.goto(path)
        back = page.locator("main").get_by_role("link", name="Back to chats")
        assert is_shown(back)
        back.click()
        expect(page).to_have_url(tab.url("/"))
        tab.audit()


def test_the_login_form_remembers_with_a_checkbox_labelled_remember_me(desktop, alice):
    page = desktop.page
    desktop.goto("/accounts/login/")
    page.get_by_label("Username or email").fill("alice")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    remember = page.get_by_label("Remember me", exact=True)
    expect(remember).to_have_attribute("type", "checkbox")
    remember.check()
    desktop.submit(page.get_by_role("button", name="Log in", exact=True))

    expect(page).to_have_url(desktop.url("/"))
    expect(page.locator(".notice")).to_have_count(0)  # no "Successfully signed in as alice."


@pytest.mark.parametrize("tab", ["desktop", "phone", "no_js"], indirect=True)
@pytest.mark.parametrize(
    ("field", "name"), [("composer-picture", "Attach a picture"), ("composer-files", "Attach files")]
)
def test_the_composer_shows_one_control_for_pictures_and_one_for_files(tab, alice, bob, field, name):
    chat = outside_the_browser_loop(actions.get_or_create_direct_chat, alice, bob)[0]
    page = tab.page
    tab.log_in(alice)
    tab.goto(f"/chats/{chat.pk}/")
    paperclip, file_field = page.locator(f"#composer .attach[for={field}]"), page.locator(f"#{field}")

    shown = [name for name, element in [("paperclip", paperclip), ("file field", file_field)] if is_shown(element)]

    # Without JavaScript the browser's own field (it names the chosen file); with it, the paperclip.
    assert shown == (["paperclip"] if tab.javascript else ["file field"])
    # Either way the control is named for what it does.
    expect(page.get_by_label(name)).to_have_id(field)


@pytest.mark.parametrize("tab", ["desktop", "no_js"], indirect=True)
def test_seen_by_in_a_group_opens_to_list_who_has_read_it(tab, alice, bob):
    dave = give_password(make_person("dave", "Dave", "Dunn"))
    erin = give_password(make_person("erin", "Erin", "Evans"))
    group = outside_the_browser_loop(actions.create_group, alice, "Climbing", [bob, dave, erin])
    message = outside_the_browser_loop(actions.send_message, group, alice, "Who is driving?")[0]
    for reader in (bob, dave):
        outside_the_browser_loop(actions.mark_read, group, reader)
    page = tab.page
    tab.log_in(alice)
    tab.goto(f"/chats/{group.pk}/")

    receipt = page.locator(f"#message-{message.pk}-receipt")
    summary = receipt.locator("summary")
    expect(summary).to_have_text("Seen by 2")
    expect(summary).to_have_attribute("title", "\u2068Bob Baker\u2069, \u2068Dave Dunn\u2069")
    names = receipt.locator(".readers li")
    expect(names.first).to_be_hidden()

    summary.click()

    expect(names).to_have_text(["Bob Baker", "Dave Dunn"])
    expect(names.first).to_be_visible()
    tab.audit()


def test_seen_by_grows_live_as_members_read(open_tab, alice, bob):
    dave = give_password(make_person("dave", "Dave", "Dunn"))
    group = outside_the_browser_loop(actions.create_group, alice, "Climbing", [bob, dave])
    message = outside_the_browser_loop(actions.send_message, group, alice, "Who is driving?")[0]
    alices, daves = open_tab("desktop"), open_tab("desktop")
    alices.log_in(alice)
    daves.log_in(dave)
    page = alices.page
    alices.goto(f"/chats/{group.pk}/")
    # The page is live once its socket is open and has caught up (as in test_live.py).
    page.wait_for_function("() => window.htmx && document.querySelector('#synced')")
    page.wait_for_function("() => connectedBefore === true")

    daves.goto(f"/chats/{group.pk}/")  # opening the chat reads it

    receipt = page.locator(f"#message-{message.pk}-receipt")
    expect(receipt.locator("summary")).to_have_text("Seen by 1")
    receipt.locator("summary").click()
    expect(receipt.locator(".readers li")).to_have_text(["Dave Dunn"])
    alices.audit()
