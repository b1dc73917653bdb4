"""What is typed is not lost, limits are visible before they bite, and old errors do not linger."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from conversations import actions

from .conftest import Tab, outside_the_browser_loop
from .test_live import open_chat

pytestmark = pytest.mark.browser


@pytest.fixture
def chats(alice, bob):
    """Alice's direct chat with bob, and a group of the two."""
    direct = outside_the_browser_loop(actions.get_or_create_direct_chat, alice, bob)[0]
    group = outside_the_browser_loop(actions.create_group, alice, "Climbing", [bob])
    return direct, group


def paste(tab: Tab, field, text: str) -> None:
    """A real paste (Ctrl+V) of `text`, through the clipboard."""
    tab.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=tab.base_url)
    tab.page.evaluate("(text) => navigator.clipboard.writeText(text)", text)
    field.focus()
    field.press("ControlOrMeta+V")


# Drafts --------------------------------------------------------------------------------


@pytest.mark.parametrize("tab", ["desktop", "phone"], indirect=True)
def test_a_draft_stays_with_its_chat_across_switching_chats_and_reloads_until_it_is_sent(tab, alice, chats):
    direct, group = chats
    tab.log_in(alice)
    composer = tab.page.locator("#composer-text")
    open_chat(tab, direct)
    composer.press_sequentially("Half a thought")

    open_chat(tab, group)
    expect(composer).to_have_value("")
    composer.fill("For the group")
    open_chat(tab, direct)
    expect(composer).to_have_value("Half a thought")
    tab.page.reload()
    expect(composer).to_have_value("Half a thought")

    composer.press("End")
    composer.press_sequentially(", finished")
    tab.page.get_by_role("button", name="Send").click()
    expect(tab.page.locator("#messages .message-text")).to_have_text(["Half a thought, finished"])
    expect(composer).to_have_value("")
    tab.page.reload()
    expect(composer).to_have_value("")
    open_chat(tab, group)
    expect(composer).to_have_value("For the group")


def test_a_draft_belongs_to_its_writer(open_tab, alice, bob, chats):
    direct, _group = chats
    tab = open_tab("desktop")
    tab.log_in(alice)
    open_chat(tab, direct)
    tab.page.locator("#composer-text").fill("Alice's secret plan")
    tab.context.clear_cookies()
    tab.log_in(bob)
    open_chat(tab, direct)
    expect(tab.page.locator("#composer-text")).to_have_value("")


# Errors --------------------------------------------------------------------------------


def test_an_error_at_the_composer_goes_once_the_text_changes(desktop, alice, chats):
    direct, _group = chats
    desktop.log_in(alice)
    open_chat(desktop, direct)
    page = desktop.page
    page.get_by_role("button", name="Send").click()  # nothing to send
    expect(page.locator("#composer-errors")).to_be_visible()
    expect(page.locator("#composer-text")).to_have_attribute("aria-invalid", "true")

    page.locator("#composer-text").press_sequentially("H")

    expect(page.locator("#composer-errors")).to_have_count(0)
    expect(page.locator("#composer-text")).not_to_have_attribute("aria-invalid", "true")
    page.locator("#composer-text").press("Enter")
    expect(page.locator("#messages .message-text")).to_have_text(["H"])
    expect(page.locator("#composer-errors, #request-notices .notice")).to_have_count(0)
    desktop.audit()
    # The empty send's answer (400, the form with its error) is this test's expected console error.
    desktop.problems = [p for p in desktop.problems if "status of 400" not in p]


# Limits --------------------------------------------------------------------------------


@pytest.mark.parametrize("tab", ["desktop", "phone"], indirect=True)
def test_the_composer_counts_near_its_limit_and_says_when_a_paste_did_not_fit(tab, alice, chats):
    direct, _group = chats
    tab.log_in(alice)
    open_chat(tab, direct)
    composer = tab.page.locator("#composer-text")
    count = tab.page.locator("#composer-text-count")

    composer.fill("a" * 7_998)
    composer.press_sequentially("a")
    expect(count).to_have_count(0)
    composer.press_sequentially("a")  # 8,000: 80 % of 10,000
    expect(count).to_have_text("8,000 / 10,000")

    paste(tab, composer, "b" * 3_000)
    expect(composer).to_have_js_property("value", "a" * 8_000 + "b" * 2_000)
    expect(count).to_have_text("10,000 / 10,000")
    expect(tab.page.get_by_role("status").filter(has_text="Only the first 10,000 characters fit here")).to_be_visible()
    tab.audit()
    tab.assert_fits_the_screen()


def test_profile_and_group_fields_count_near_their_limits_and_tell_of_a_cut_paste(desktop, alice, chats):
    _direct, group = chats
    desktop.log_in(alice)
    page = desktop.page
    desktop.goto(reverse("accounts:settings"))
    for label, limit in (("First name", 150), ("Last name", 150), ("Bio", 500)):
        field = page.get_by_label(label)
        assert field.get_attribute("maxlength") == str(limit)
        field.fill("x" * (limit * 8 // 10 - 1))
        expect(page.locator(".char-count")).to_have_count(0)
        field.press_sequentially("x")
        expect(page.locator(".char-count")).to_have_text(f"{limit * 8 // 10} / {limit}")
        paste(desktop, field, "y" * limit)
        note = page.get_by_role("status").filter(has_text=f"Only the first {limit} characters fit here")
        expect(note).to_be_visible()
        field.fill("")
        expect(page.locator(".char-count, .limit-note")).to_have_count(0)

    desktop.goto(reverse("group_settings", args=[group.pk]))
    title = page.get_by_role("textbox", name="Title")
    assert title.get_attribute("maxlength") == "100"
    title.fill("t" * 85)
    title.press_sequentially("t")
    expect(page.locator(".char-count")).to_have_text("86 / 100")
    desktop.audit()


def test_counting_in_russian_uses_russian_plural_forms(desktop, alice, chats):
    direct, _group = chats
    alice.language = "ru"
    alice.save(update_fields=["language"])
    desktop.log_in(alice)
    desktop.context.add_cookies([{"name": "django_language", "value": "ru", "url": desktop.base_url}])
    open_chat(desktop, direct)
    composer = desktop.page.locator("#composer-text")
    composer.fill("a" * 9_990)
    paste(desktop, composer, "b" * 20)
    # 10 000 → "символов" (the many form)
    expect(desktop.page.locator("#composer-text-note")).to_contain_text("символов")
