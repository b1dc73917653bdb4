"""Chatting in a real browser: the chat list, sending text and pictures, editing, deleting, history.

With JavaScript (htmx: nothing reloads), without it (forms post and redirect), and on a
phone. Every page is checked with axe-core, and console errors or CSP violations fail
the test (see conftest.py). Data is made through the actions, as the app makes it.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from accounts.models import User
from conftest import make_person
from conversations import actions
from conversations.models import Chat, Message
from flowchat.images import PICTURE, THUMBNAIL, clean_images

from .conftest import Tab, give_password, outside_the_browser_loop

pytestmark = pytest.mark.browser

EVERY_WAY = pytest.mark.parametrize("tab", ["desktop", "no_js", "phone"], indirect=True)


def direct_chat(first: User, second: User) -> Chat:
    return outside_the_browser_loop(actions.get_or_create_direct_chat, first, second)[0]


def send(chat: Chat, author: User, text: str = "", picture=None) -> Message:
    return outside_the_browser_loop(actions.send_message, chat, author, text, picture=picture)[0]


def png_file(tmp_path: Path, name: str = "sunset.png", size: tuple[int, int] = (320, 200)) -> Path:
    path = tmp_path / name
    painting(size).save(path)
    return path


def painting(size: tuple[int, int]) -> Image.Image:
    """A small landscape, so the screenshots show a picture rather than a flat square."""
    width, height = size
    image = Image.new("RGB", size, "#f6c28b")
    draw = ImageDraw.Draw(image)
    for y in range(height):
        t = y / height
        draw.line([(0, y), (width, y)], fill=(int(90 + 160 * t), int(140 + 60 * t), int(220 - 80 * t)))
    sun = width * 0.12
    draw.ellipse([width * 0.62, height * 0.22, width * 0.62 + sun, height * 0.22 + sun], fill="#ffe08a")
    draw.polygon([(0, height), (width * 0.35, height * 0.45), (width * 0.7, height)], fill="#3f6b5b")
    ridge = [(width * 0.4, height), (width * 0.75, height * 0.55), (width, height * 0.8), (width, height)]
    draw.polygon(ridge, fill="#2d4f44")
    return image


def picture_pair(size: tuple[int, int] = (640, 420)):
    buffer = io.BytesIO()
    painting(size).save(buffer, format="PNG")
    upload = SimpleUploadedFile("view.png", buffer.getvalue(), content_type="image/png")
    return tuple(clean_images(upload, [PICTURE, THUMBNAIL]))


def write(tab: Tab, chat: Chat, text: str, picture: Path | None = None) -> None:
    """Send from the composer: with htmx the message appears in place; without JS the page reloads."""
    page = tab.page
    count = page.locator("#messages > article").count()
    page.locator("#composer-text").fill(text)
    if picture:
        page.get_by_label("Attach a picture").set_input_files(picture)
    send_button = page.get_by_role("button", name="Send")
    if tab.javascript:
        send_button.click()
        expect(page.locator("#messages > article")).to_have_count(count + 1)
        expect(page.locator("#composer-text")).to_have_value("")
    else:
        tab.submit(send_button)
        expect(page).to_have_url(tab.url(f"/chats/{chat.pk}/#bottom"))


def open_chat_from_the_list(tab: Tab, name: str) -> None:
    page = tab.page
    tab.goto("/")
    page.locator("#chats").get_by_role("link", name=name).click()
    expect(page.locator(".chat-heading h1")).to_have_text(name)
    tab.audit()


def message_action(article, name: str):
    """Open a message's "..." menu and return its Edit or Delete link (on a phone, tap the message first)."""
    # A tap on the message (not on one of its links: Reply, the time) shows the menu on a touch screen.
    article.locator(".bubble").click(position={"x": 3, "y": 3})
    article.locator(".message-menu > summary").click()
    return article.get_by_role("link", name=name)


def assert_picture_loaded(tab: Tab, image) -> None:
    tab.page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())


# Sending, editing, deleting -------------------------------------------------------------------


@EVERY_WAY
def test_alice_sends_text_and_a_picture_edits_and_deletes_and_bob_sees_it_after_a_reload(
    tab, open_tab, alice, bob, tmp_path
):
    chat = direct_chat(alice, bob)
    page = tab.page
    tab.log_in(alice)
    open_chat_from_the_list(tab, "Bob Baker")

    write(tab, chat, "Hello Bob")
    write(tab, chat, "Look at this", picture=png_file(tmp_path))

    hello = Message.objects.get(chat=chat, text="Hello Bob")
    photo = Message.objects.get(chat=chat, text="Look at this")
    assert photo.image and photo.thumbnail
    image = page.locator(f"#message-{photo.pk} .picture img")
    expect(image).to_be_visible()
    assert_picture_loaded(tab, image)
    assert page.locator(f"#message-{photo.pk} .picture").get_attribute("href") == photo.image.url
    tab.audit()

    # Edit: in place with htmx, on its own page without JavaScript.
    article = page.locator(f"#message-{hello.pk}")
    edit = message_action(article, "Edit")
    if tab.javascript:
        edit.click()
        article.locator("textarea").fill("Hello, Bob!")
        tab.audit()
        article.get_by_role("button", name="Save").click()
    else:
        tab.submit(edit)
        expect(page).to_have_url(tab.url(f"/chats/{chat.pk}/messages/{hello.pk}/edit/"))
        page.get_by_label("Message").fill("Hello, Bob!")
        tab.submit(page.get_by_role("button", name="Save"))
        expect(page).to_have_url(tab.url(f"/chats/{chat.pk}/#message-{hello.pk}"))
    expect(article.locator(".message-text")).to_have_text("Hello, Bob!")
    expect(article.locator(".edited")).to_have_text("edited")

    # Delete: confirmed in a dialog with htmx, on a confirmation page without JavaScript.
    article = page.locator(f"#message-{photo.pk}")
    delete = message_action(article, "Delete")
    if tab.javascript:
        page.once("dialog", lambda dialog: dialog.accept())
        delete.click()
    else:
        tab.submit(delete)
        expect(page.get_by_role("heading", level=1)).to_have_text("Delete this message?")
        tab.submit(page.get_by_role("button", name="Delete"))
        expect(page).to_have_url(tab.url(f"/chats/{chat.pk}/#message-{photo.pk}"))
    expect(article).to_contain_text("Message deleted")
    expect(article.locator(".picture")).to_have_count(0)
    tab.audit()
    if tab.kind == "phone":
        tab.assert_fits_the_screen()

    bobs = open_tab(tab.kind)
    bobs.log_in(bob)
    open_chat_from_the_list(bobs, "Alice Archer")
    messages = bobs.page.locator("#messages")
    expect(messages.locator(f"#message-{hello.pk} .message-text")).to_have_text("Hello, Bob!")
    expect(messages.locator(f"#message-{hello.pk} .edited")).to_be_visible()
    expect(messages.locator(f"#message-{photo.pk}")).to_contain_text("Message deleted")
    # Bob gets the same HTML, but alice's Edit and Delete are not shown to him.
    expect(messages.locator(f"#message-{hello.pk} .message-menu")).to_be_hidden()


@pytest.mark.parametrize("tab", ["desktop", "no_js"], indirect=True)
def test_a_picture_that_is_not_one_is_refused_and_the_text_is_kept(tab, alice, bob, tmp_path):
    chat = direct_chat(alice, bob)
    notes = tmp_path / "notes.png"
    notes.write_text("Not a picture at all.")
    page = tab.page
    tab.log_in(alice)
    tab.goto(f"/chats/{chat.pk}/")

    page.locator("#composer-text").fill("Here is my drawing")
    page.get_by_label("Attach a picture").set_input_files(notes)
    button = page.get_by_role("button", name="Send")
    if tab.javascript:
        with page.expect_response(lambda response: response.url.endswith("/messages/")) as answer:
            button.click()
        assert answer.value.status == 400
    else:
        assert tab.submit(button).status == 400

    expect(page.locator("#composer-errors")).to_contain_text("Upload a JPEG, PNG, GIF or WebP picture")
    expect(page.locator("#composer-text")).to_have_value("Here is my drawing")
    assert not chat.messages.exists()
    tab.audit()
    # Chromium logs every 4xx answer to the console; this one is the expected form error.
    tab.problems[:] = [problem for problem in tab.problems if "status of 400" not in problem]


def test_a_refused_send_without_javascript_stays_at_the_chat_at_its_newest_message(no_js, alice, bob):
    tab = no_js
    chat = direct_chat(alice, bob)
    for n in range(40):
        send(chat, alice if n % 2 else bob, f"Earlier message {n}")
    outside_the_browser_loop(actions.mark_read, chat, alice)
    page = tab.page
    tab.log_in(alice)
    tab.goto(f"/chats/{chat.pk}/")

    page.locator("#composer-text").fill("   ")
    response = tab.submit(page.get_by_role("button", name="Send"))

    assert response.status == 400
    expect(page).to_have_url(tab.url(f"/chats/{chat.pk}/#bottom"))
    expect(page.locator("#composer-errors")).to_contain_text("Write something or attach a file.")
    expect(page.locator("#messages > article").last).to_contain_text("Earlier message 39")
    expect(page.locator("#messages > article").last).to_be_in_viewport()
    expect(page.locator("#messages > article").first).not_to_be_in_viewport()
    expect(page.locator("#composer-errors")).to_be_in_viewport()
    assert chat.messages.count() == 40
    tab.problems[:] = [problem for problem in tab.problems if "status of 400" not in problem]


def test_enter_sends_and_shift_enter_adds_a_line(desktop, alice, bob):
    chat = direct_chat(alice, bob)
    page = desktop.page
    desktop.log_in(alice)
    desktop.goto(f"/chats/{chat.pk}/")
    composer = page.locator("#composer-text")

    composer.click()
    page.keyboard.type("first line")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    expect(composer).to_have_value("first line\nsecond line")
    page.keyboard.press("Enter")

    message = page.locator("#messages > article").last
    expect(message.locator(".message-text")).to_have_text("first linesecond line")  # with a <br>:
    expect(message.locator(".message-text br")).to_have_count(1)
    assert [m.text for m in chat.messages.all()] == ["first line\nsecond line"]
    # The fresh composer is empty, focused and ready for the next message.
    expect(composer).to_have_value("")
    expect(composer).to_be_focused()
    page.keyboard.press("Enter")  # nothing to send
    page.keyboard.type("third")
    page.keyboard.press("Enter")
    expect(page.locator("#messages > article")).to_have_count(2)
    assert chat.messages.count() == 2


def test_a_message_can_be_edited_with_the_keyboard_alone(desktop, alice, bob):
    chat = direct_chat(alice, bob)
    message = send(chat, alice, "Typo hre")
    page = desktop.page
    desktop.log_in(alice)
    desktop.goto(f"/chats/{chat.pk}/")
    article = page.locator(f"#message-{message.pk}")

    article.locator(".message-menu > summary").focus()
    page.keyboard.press("Enter")
    expect(article.locator(".menu-list")).to_be_visible()
    page.keyboard.press("Tab")
    expect(article.get_by_role("link", name="Edit")).to_be_focused()
    page.keyboard.press("Enter")
    field = article.locator("textarea")
    expect(field).to_be_focused()
    page.keyboard.press("Escape")  # changed my mind
    expect(article.locator(".message-text")).to_have_text("Typo hre")

    article.locator(".message-menu > summary").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(field).to_be_focused()
    field.fill("Typo here")
    page.keyboard.press("Enter")

    expect(article.locator(".message-text")).to_have_text("Typo here")
    expect(article.locator(".edited")).to_be_visible()
    message.refresh_from_db()
    assert message.text == "Typo here"
    desktop.audit()


# Unread and history -----------------------------------------------------------------------------


def test_a_chat_with_unread_messages_opens_at_the_new_messages_divider(desktop, alice, bob):
    chat = direct_chat(alice, bob)
    for n in range(40):
        send(chat, alice if n % 2 else bob, f"Earlier message {n}")
    outside_the_browser_loop(actions.mark_read, chat, alice)
    for n in range(3):
        send(chat, bob, f"New to alice {n}")
    page = desktop.page
    desktop.log_in(alice)
    desktop.goto("/")
    expect(page.locator(f"#chat-{chat.pk} .badge")).to_contain_text("3")

    page.locator(f"#chat-{chat.pk} a").click()

    divider = page.locator("#unread")
    expect(divider).to_have_text("New messages")
    expect(divider).to_be_in_viewport()
    expect(page.locator("#unread + article .message-text")).to_have_text("New to alice 0")
    expect(page.locator(f"#chat-{chat.pk} .badge")).to_have_count(0)
    desktop.audit()


def test_older_messages_load_when_scrolling_up(desktop, alice, bob):
    chat = direct_chat(alice, bob)
    for n in range(120):
        send(chat, alice if n % 3 else bob, f"Message number {n}")
    outside_the_browser_loop(actions.mark_read, chat, alice)
    page = desktop.page
    desktop.log_in(alice)
    desktop.goto(f"/chats/{chat.pk}/")
    articles = page.locator("#messages > article")
    expect(articles).to_have_count(50)
    expect(articles.last).to_be_in_viewport()
    first_on_screen = page.locator(f"#{articles.first.get_attribute('id')}")

    page.locator("#scroller").evaluate("box => { box.scrollTop = 0 }")

    expect(articles).to_have_count(100)
    # The reader stays where they were: the message that was at the top is still on screen.
    expect(first_on_screen.locator(".message-text")).to_have_text("Message number 70")
    expect(first_on_screen).to_be_in_viewport()
    page.locator("#scroller").evaluate("box => { box.scrollTop = 0 }")
    expect(articles).to_have_count(120)
    expect(page.locator("#older")).to_have_text("This is the beginning of the chat.")
    # One date line for the one day, however many pages came in.
    expect(page.locator("#messages .day-line")).to_have_count(1)
    texts = articles.locator(".message-text").all_inner_texts()
    assert texts == [f"Message number {n}" for n in range(120)]
    desktop.audit()


def test_older_messages_by_link_without_javascript(no_js, alice, bob):
    chat = direct_chat(alice, bob)
    for n in range(120):
        send(chat, bob, f"Message number {n}")
    outside_the_browser_loop(actions.mark_read, chat, alice)
    page = no_js.page
    no_js.log_in(alice)
    no_js.goto(f"/chats/{chat.pk}/")
    articles = page.locator("#messages > article .message-text")
    expect(articles.first).to_have_text("Message number 70")

    no_js.submit(page.get_by_role("link", name="Older messages"))

    assert "before=" in page.url
    expect(articles).to_have_count(50)
    expect(articles.first).to_have_text("Message number 20")
    expect(articles.last).to_have_text("Message number 69")
    no_js.submit(page.get_by_role("link", name="Older messages"))
    expect(articles).to_have_count(20)
    expect(page.locator("#older")).to_have_text("This is the beginning of the chat.")

    no_js.submit(page.get_by_role("link", name="Newer messages"))
    expect(articles.first).to_have_text("Message number 20")
    no_js.submit(page.get_by_role("link", name="Latest messages"))
    expect(articles.last).to_have_text("Message number 119")


# Phone -------------------------------------------------------------------------------------------


def test_on_a_phone_the_list_is_the_home_screen_and_a_chat_has_a_back_link(phone, alice, bob):
    chat = direct_chat(alice, bob)
    send(chat, bob, "Are you coming climbing on Saturday? " * 4)
    page = phone.page
    phone.log_in(alice)
    phone.goto("/")
    expect(page.locator("#chats")).to_be_visible()
    expect(page.locator(".chat-placeholder")).to_be_hidden()
    phone.assert_fits_the_screen()

    page.locator(f"#chat-{chat.pk} a").tap()
    expect(page.locator("#chats")).to_be_hidden()
    expect(page.locator("#composer-text")).to_be_visible()
    phone.audit()
    phone.assert_fits_the_screen()

    page.get_by_role("link", name="Back to chats").tap()
    expect(page).to_have_url(phone.url("/"))


# Screenshots ------------------------------------------------------------------------------------


def a_lively_morning(alice: User, bob: User) -> tuple[Chat, Chat]:
    """A few chats with history, pictures, an edit, a deletion, unread messages and a group."""
    dave = give_password(make_person("dave", "Dave", "Dunn"))
    erin = give_password(make_person("erin", "Erin", "Eastwood"))
    yesterday = timezone.now() - timedelta(days=1)

    with_erin = direct_chat(alice, erin)
    send(with_erin, erin, "Thanks for the book!")
    send(with_erin, alice, "", picture=picture_pair((480, 640)))

    chat = direct_chat(alice, bob)
    old = [
        send(chat, bob, "Are you coming climbing on Saturday?"),
        send(chat, alice, "Yes! Which wall?"),
        send(chat, bob, "The new one by the river. They opened two more routes last week."),
    ]
    Message.objects.filter(pk__in=[m.pk for m in old]).update(created_at=yesterday)
    sent = send(chat, alice, "Great, I'll bring the rope.\nAnd some snacks.")
    outside_the_browser_loop(actions.edit_message, sent, alice, f"{sent.text} And apples.")
    oops = send(chat, alice, "Wrong chat, sorry")
    outside_the_browser_loop(actions.delete_message, oops, alice)
    send(chat, bob, "", picture=picture_pair())
    send(chat, bob, "This is the view from the top last time.")
    send(chat, alice, "Wow 😍")
    outside_the_browser_loop(actions.mark_read, chat, alice)
    send(chat, bob, "Meet at 9 by the entrance?")

    with_dave = direct_chat(alice, dave)
    send(with_dave, dave, "Can I borrow your harness?")
    send(with_dave, dave, "Mine broke")

    group = outside_the_browser_loop(actions.create_group, alice, "Saturday climbing", [bob, dave])
    send(group, dave, "Who's driving?")
    send(group, bob, "I can take three people")
    send(group, alice, "Count me in!")
    return chat, group


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("tab", ["desktop", "phone"], indirect=True)
def test_the_chat_list_and_chat_window_render_in_light_and_dark(tab, alice, bob, theme, settings, server):
    """Saves artifacts/screenshots/chat-*-<theme>-<viewport>.png for a person to look at."""
    settings.MEDIA_ROOT = server.media_root  # the pictures made here are served by the server
    chat, group = a_lively_morning(alice, bob)
    User.objects.filter(pk=alice.pk).update(theme=theme)
    tab.log_in(alice)

    tab.goto("/")
    expect(tab.page.locator("html")).to_have_attribute("data-theme", theme)
    tab.screenshot(f"chat-list-{theme}")

    tab.goto(f"/chats/{chat.pk}/")
    expect(tab.page.locator("#unread")).to_be_visible()
    tab.page.wait_for_load_state("networkidle")
    tab.screenshot(f"chat-window-{theme}")
    if tab.kind == "phone":
        tab.assert_fits_the_screen()

    mine = Message.objects.filter(chat=chat, author=alice, deleted_at__isnull=True).last()
    if tab.javascript:
        message_action(tab.page.locator(f"#message-{mine.pk}"), "Edit").click()
        expect(tab.page.locator(f"#message-{mine.pk} textarea")).to_be_focused()
        tab.audit()
        tab.screenshot(f"chat-editing-{theme}")

    tab.goto(f"/chats/{group.pk}/")
    tab.screenshot(f"chat-group-{theme}")
