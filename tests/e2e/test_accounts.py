"""Accounts in a real browser: signing up and in, the profile, theme and language, phone and keyboard.

Every page these tests open is checked with axe-core, and any console error or CSP
violation fails the test (see conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from PIL import Image
from playwright.sync_api import expect

from accounts.models import User
from conftest import PASSWORD

from .conftest import Tab

pytestmark = pytest.mark.browser

WITH_AND_WITHOUT_JAVASCRIPT = pytest.mark.parametrize("tab", ["desktop", "no_js"], indirect=True)
NEW_PASSWORD = "a-brand-new-passphrase-42"
VISITOR_PAGES = {"login": "/accounts/login/", "signup": "/accounts/signup/"}
PERSON_PAGES = {
    "home": "/",
    "settings": "/settings/",
    "profile": "/people/alice/",
    "password": "/accounts/password/change/",
    "email": "/accounts/email/",
}


def log_in_with_the_form(tab: Tab, login: str, password: str) -> None:
    page = tab.page
    tab.goto("/accounts/login/")
    page.get_by_label("Username or email:").fill(login)
    page.get_by_label("Password:").fill(password)
    tab.submit(page.get_by_role("button", name="Log in"))


def log_out_from_the_menu(tab: Tab) -> None:
    page = tab.page
    page.locator("#user-menu > summary").click()
    tab.submit(page.locator("#user-menu").get_by_role("button", name="Log out"))
    expect(page).to_have_url(tab.url("/accounts/login/"))


def choose_preference(tab: Tab, select: str, value: str) -> None:
    """Pick a theme or language: JavaScript submits the form on change; without it, the button does."""
    page = tab.page
    with page.expect_navigation():
        page.select_option(select, value)
        if not tab.javascript:
            page.locator(f"form:has({select})").get_by_role("button").click()
    tab.audit()


def picture(tmp_path: Path) -> Path:
    path = tmp_path / "portrait.png"
    Image.new("RGB", (64, 48), "#c0392b").save(path)
    return path


# Signing up, in and out ---------------------------------------------------------------


@WITH_AND_WITHOUT_JAVASCRIPT
def test_signing_up_with_a_username_and_no_email_then_logging_out_and_back_in(tab):
    page = tab.page
    tab.goto("/accounts/signup/")
    page.get_by_label("Username:").fill("dora")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again):").fill(PASSWORD)
    tab.submit(page.get_by_role("button", name="Sign up"))

    expect(page).to_have_url(tab.url("/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, dora")
    expect(page.locator("#user-menu .menu-name")).to_have_text("dora")
    assert User.objects.get(username="dora").email == ""

    log_out_from_the_menu(tab)
    expect(page.locator("#user-menu")).to_have_count(0)

    log_in_with_the_form(tab, "dora", PASSWORD)
    expect(page).to_have_url(tab.url("/"))
    expect(page.locator("#user-menu .menu-name")).to_have_text("dora")


def test_a_wrong_password_keeps_you_on_the_login_page_with_an_error(desktop, alice):
    log_in_with_the_form(desktop, "alice", "not-the-password")

    expect(desktop.page).to_have_url(desktop.url("/accounts/login/"))
    expect(desktop.page.locator(".errorlist")).to_contain_text("not correct")


# The profile ------------------------------------------------------------------------------


@WITH_AND_WITHOUT_JAVASCRIPT
def test_editing_the_profile_shows_the_names_bio_and_uploaded_avatar(tab, alice, tmp_path):
    page = tab.page
    tab.log_in(alice)
    tab.goto("/settings/")
    page.get_by_label("First name:").fill("Alicia")
    page.get_by_label("Last name:").fill("Archer-Lowe")
    page.get_by_label("Bio:").fill("Tea, <b>not</b> coffee.\nSecond line.")
    page.get_by_label("Avatar:", exact=True).set_input_files(picture(tmp_path))
    tab.submit(page.get_by_role("button", name="Save profile"))
    expect(page.locator(".notice")).to_have_text("Your profile is saved.")

    tab.goto("/people/alice/")

    expect(page.get_by_role("heading", level=1)).to_have_text("Alicia Archer-Lowe")
    bio = page.locator(".profile .bio")
    expect(bio).to_contain_text("Tea, <b>not</b> coffee.")
    expect(bio.locator("br")).to_have_count(1)
    expect(bio.locator("b")).to_have_count(0)
    avatar = page.locator(".profile .avatar img")
    src = avatar.get_attribute("src")
    assert src.startswith("/media/avatars/") and src.endswith(".webp"), src
    assert avatar.evaluate("img => img.complete && img.naturalWidth") == 256
    # The header shows the new avatar too, not the initials.
    assert "/media/avatars/" in page.locator("#user-menu .avatar img").get_attribute("src")


@WITH_AND_WITHOUT_JAVASCRIPT
def test_uploading_a_file_that_is_not_a_picture_shows_a_form_error(tab, alice, tmp_path):
    page = tab.page
    notes = tmp_path / "notes.png"
    notes.write_text("These are notes, not a picture.")
    tab.log_in(alice)
    tab.goto("/settings/")
    page.get_by_label("Avatar:", exact=True).set_input_files(notes)

    response = tab.submit(page.get_by_role("button", name="Save profile"))

    assert response.status == 400
    expect(page.locator(".errorlist")).to_contain_text("Upload a JPEG, PNG, GIF or WebP picture")
    alice.refresh_from_db()
    assert not alice.avatar


# Theme and language -------------------------------------------------------------------


@WITH_AND_WITHOUT_JAVASCRIPT
def test_the_dark_theme_stays_after_a_reload(tab, alice):
    page = tab.page
    tab.log_in(alice)
    tab.goto("/settings/")

    choose_preference(tab, "#theme-page", "dark")

    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page.locator("#theme-page")).to_have_value("dark")
    alice.refresh_from_db()
    assert alice.theme == User.Theme.DARK

    choose_preference(tab, "#theme-page", "light")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")


@WITH_AND_WITHOUT_JAVASCRIPT
def test_switching_to_russian_translates_the_pages_and_back(tab, alice):
    page = tab.page
    tab.log_in(alice)
    tab.goto("/settings/")

    choose_preference(tab, "#language-page", "ru")

    expect(page.locator("html")).to_have_attribute("lang", "ru")
    tab.goto("/accounts/password/change/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Сменить пароль")  # as the menu says
    alice.refresh_from_db()
    assert alice.language == "ru"

    tab.goto("/settings/")
    choose_preference(tab, "#language-page", "en")

    expect(page.locator("html")).to_have_attribute("lang", "en")
    tab.goto("/accounts/password/change/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Change password")


def test_a_visitor_can_choose_theme_and_language_before_logging_in(desktop):
    page = desktop.page
    desktop.goto("/accounts/login/")

    choose_preference(desktop, "#language-header", "ru")
    choose_preference(desktop, "#theme-header", "dark")

    expect(page.locator("html")).to_have_attribute("lang", "ru")
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    expect(page.get_by_role("heading", level=1)).to_have_text("Войти")


# Password -----------------------------------------------------------------------------------


@WITH_AND_WITHOUT_JAVASCRIPT
def test_changing_the_password_on_allauths_page_lets_you_log_in_with_the_new_one(tab, alice):
    page = tab.page
    tab.log_in(alice)
    tab.goto("/settings/")
    tab.page.get_by_role("link", name="Change password").click()
    expect(page).to_have_url(tab.url("/accounts/password/change/"))
    tab.audit()

    page.get_by_label("Current password:").fill(PASSWORD)
    page.get_by_label("New password:", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password (again):").fill(NEW_PASSWORD)
    tab.submit(page.get_by_role("button", name="Change password"))
    expect(page.locator(".notice")).to_contain_text("Password successfully changed.")

    log_out_from_the_menu(tab)
    log_in_with_the_form(tab, "alice", NEW_PASSWORD)
    expect(page).to_have_url(tab.url("/"))


# Phone -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "ru"])
def test_no_page_scrolls_sideways_on_a_phone(phone, alice, language):
    """In Russian too, whose words are longer."""
    phone.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": phone.base_url}])
    User.objects.filter(pk=alice.pk).update(language=language)
    for path in VISITOR_PAGES.values():
        phone.goto(path)
        expect(phone.page.locator("html")).to_have_attribute("lang", language)
        phone.assert_fits_the_screen()
    phone.log_in(alice)
    for path in PERSON_PAGES.values():
        phone.goto(path)
        phone.assert_fits_the_screen()


def test_the_user_menu_opens_on_a_phone_and_its_links_work(phone, alice):
    page = phone.page
    phone.log_in(alice)
    phone.goto("/")
    menu = page.locator("#user-menu")

    for name, path in [
        ("My profile", "/people/alice/"),
        ("Settings", "/settings/"),
        ("Change password", "/accounts/password/change/"),
    ]:
        menu.locator("summary").tap()
        expect(menu.locator(".menu-list")).to_be_visible()
        phone.assert_fits_the_screen()
        menu.get_by_role("link", name=name).tap()
        expect(page).to_have_url(phone.url(path))
        phone.audit()

    menu.locator("summary").tap()
    phone.submit(menu.get_by_role("button", name="Log out"))
    expect(page).to_have_url(phone.url("/accounts/login/"))


# Keyboard --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/accounts/login/", "/settings/"])
def test_the_skip_link_is_the_first_tab_stop_and_jumps_to_the_content(desktop, alice, path):
    page = desktop.page
    if path != "/accounts/login/":
        desktop.log_in(alice)
    desktop.goto(path)

    page.keyboard.press("Tab")

    skip_link = page.locator(".skip-link")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("#main")).to_be_focused()


def test_the_user_menu_opens_with_enter_and_closes_with_escape(desktop, alice):
    page = desktop.page
    desktop.log_in(alice)
    desktop.goto("/settings/")
    summary = page.locator("#user-menu > summary")
    for _ in range(5):
        page.keyboard.press("Tab")
        if summary.evaluate("element => element === document.activeElement"):
            break
    expect(summary).to_be_focused()

    page.keyboard.press("Enter")

    expect(page.locator("#user-menu")).to_have_attribute("open", "")
    desktop.audit()
    page.keyboard.press("Tab")
    expect(page.locator("#user-menu").get_by_role("link", name="My profile")).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("#user-menu")).not_to_have_attribute("open", "")
    expect(summary).to_be_focused()


# Screenshots -----------------------------------------------------------------------------------


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("tab", ["desktop", "phone"], indirect=True)
def test_key_pages_render_in_light_and_dark(tab, alice, theme):
    """Saves artifacts/screenshots/<page>-<theme>-<viewport>.png for a person to look at."""
    tab.context.add_cookies([{"name": "theme", "value": theme, "url": tab.base_url}])
    for name, path in VISITOR_PAGES.items():
        tab.goto(path)
        expect(tab.page.locator("html")).to_have_attribute("data-theme", theme)
        tab.screenshot(f"{name}-{theme}")

    User.objects.filter(pk=alice.pk).update(theme=theme, bio="Climbs on weekends. Answers on weekdays.")
    tab.log_in(alice)
    for name, path in PERSON_PAGES.items():
        tab.goto(path)
        expect(tab.page.locator("html")).to_have_attribute("data-theme", theme)
        tab.screenshot(f"{name}-{theme}")

    tab.page.locator("#user-menu > summary").click()
    tab.audit()
    tab.screenshot(f"menu-{theme}")


def test_on_a_phone_the_skip_link_of_the_chat_list_jumps_to_the_list(phone, alice):
    page = phone.page
    phone.log_in(alice)
    phone.goto("/")

    page.keyboard.press("Tab")
    page.keyboard.press("Enter")

    expect(page.locator("#sidebar")).to_be_focused()
    expect(page.locator("#sidebar")).to_be_visible()
