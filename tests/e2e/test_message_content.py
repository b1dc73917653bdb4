"""What a message holds: links open in a new tab, pictures in a viewer over the chat, and on a
phone a message's menu shows once the message is tapped."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from .conftest import Tab
from .test_chat import direct_chat, picture_pair, send

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("tab", ["desktop", "no_js"], indirect=True)
def test_a_link_in_a_message_opens_in_a_new_tab_without_telling_where_it_came_from(tab, alice, bob):
    chat = direct_chat(alice, bob)
    send(chat, bob, "The route: https://example.com/topo and that's it")
    tab.log_in(alice)
    tab.goto(reverse("chat", args=[chat.pk]))

    link = tab.page.locator("#messages .message-text a")
    expect(link).to_have_text("https://example.com/topo")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "nofollow noopener noreferrer")


@pytest.fixture
def a_picture(alice, bob, settings, server):
    settings.MEDIA_ROOT = server.media_root  # the picture made here is served by the server
    chat = direct_chat(alice, bob)
    message = send(chat, bob, "", picture=picture_pair())
    return chat, message


@pytest.mark.parametrize("tab", ["desktop", "phone"], indirect=True)
def test_a_picture_opens_in_a_viewer_that_esc_or_close_ends_with_focus_back_on_it(tab, alice, a_picture):
    chat, message = a_picture
    tab.log_in(alice)
    tab.goto(reverse("chat", args=[chat.pk]))
    page = tab.page
    link = page.locator(f"#message-{message.pk} a.picture")
    viewer = page.get_by_role("dialog", name="Picture")

    link.focus()
    link.press("Enter")
    expect(viewer).to_be_visible()
    expect(viewer.locator("img")).to_have_attribute("src", message.image.url)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=viewer.locator("img").element_handle())
    assert page.url.endswith(f"/chats/{chat.pk}/")  # still the chat, not the picture
    tab.audit()
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()
    expect(link).to_be_focused()

    link.click()
    expect(viewer).to_be_visible()
    viewer.get_by_role("button", name="Close").click()
    expect(viewer).to_be_hidden()
    expect(link).to_be_focused()
    assert len(tab.context.pages) == 1


def test_without_javascript_a_picture_is_a_link_to_the_full_picture_in_a_new_tab(no_js, alice, a_picture):
    chat, message = a_picture
    no_js.log_in(alice)
    no_js.goto(reverse("chat", args=[chat.pk]))
    link = no_js.page.locator(f"#message-{message.pk} a.picture")
    expect(link).to_have_attribute("href", message.image.url)
    expect(link).to_have_attribute("target", "_blank")
    with no_js.context.expect_page() as opened:
        link.click()
    opened.value.wait_for_load_state()
    assert opened.value.url.endswith(message.image.url)


# The phone's message menu ------------------------------------------------------------------


def menu_button(tab: Tab, message):
    return tab.page.locator(f"#message-{message.pk} .message-menu > summary")


def test_on_a_phone_a_message_menu_shows_once_its_message_is_tapped_or_focused(phone, alice, bob):
    chat = direct_chat(alice, bob)
    first, second = send(chat, alice, "First"), send(chat, alice, "Second")
    phone.log_in(alice)
    phone.goto(reverse("chat", args=[chat.pk]))

    for message in (first, second):
        expect(menu_button(phone, message)).to_have_css("opacity", "0")
    phone.page.locator(f"#message-{first.pk} .message-text").tap()
    expect(menu_button(phone, first)).to_have_css("opacity", "1")
    expect(menu_button(phone, second)).to_have_css("opacity", "0")
    menu_button(phone, first).tap()
    expect(phone.page.locator(f"#message-{first.pk}").get_by_role("link", name="Edit")).to_be_visible()

    # From a keyboard (a phone with one, or a screen reader), focus shows it.
    phone.page.locator(f"#message-{first.pk} .message-text").tap()  # closes the menu
    menu_button(phone, second).focus()
    expect(menu_button(phone, second)).to_have_css("opacity", "1")


def test_on_a_phone_without_javascript_every_own_message_keeps_its_menu_in_sight(open_tab, alice, bob):
    chat = direct_chat(alice, bob)
    message = send(chat, alice, "Mine")
    phone = open_tab("no_js_phone")
    phone.log_in(alice)
    phone.goto(reverse("chat", args=[chat.pk]))
    expect(menu_button(phone, message)).not_to_have_css("opacity", "0")
    menu_button(phone, message).tap()
    expect(phone.page.get_by_role("link", name="Edit")).to_be_visible()
