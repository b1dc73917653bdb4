"""Formatted messages in Chromium: sent from the composer, shown formatted live and without JavaScript;
on a phone a long line of code scrolls inside its block and a few emoji show large."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from conversations.formatting import LINK_REL

from .test_chat import direct_chat, send
from .test_live import open_chat
from .test_live import send as type_and_send

pytestmark = pytest.mark.browser

FENCE = "```\nfor hold in route:\n    climb(hold)\n```"


def test_bob_formats_from_the_composer_and_alice_sees_it_formatted_live_and_without_javascript(open_tab, alice, bob):
    chat = direct_chat(alice, bob)
    alices, bobs = open_tab("desktop"), open_tab("desktop")
    alices.log_in(alice)
    bobs.log_in(bob)
    open_chat(alices, chat)
    open_chat(bobs, chat)

    type_and_send(bobs, "**Rope** at `9:00`, see https://example.com/topo")
    type_and_send(bobs, FENCE)

    messages = alices.page.locator("#messages .message-text")
    expect(messages).to_have_count(2)
    first, fence = messages.nth(0), messages.nth(1)
    expect(first.locator("strong")).to_have_text("Rope")
    expect(first.locator("code")).to_have_text("9:00")
    link = first.locator("a")
    expect(link).to_have_text("https://example.com/topo")
    expect(link).to_have_attribute("href", "https://example.com/topo")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", LINK_REL)
    expect(fence.locator("pre code")).to_have_text("for hold in route:\n    climb(hold)\n")
    alices.audit()

    no_js = open_tab("no_js")
    no_js.log_in(alice)
    no_js.goto(reverse("chat", args=[chat.pk]))
    shown = no_js.page.locator("#messages .message-text")
    expect(shown.nth(0).locator("strong")).to_have_text("Rope")
    expect(shown.nth(0).locator(f"a[target=_blank][rel='{LINK_REL}']")).to_have_text("https://example.com/topo")
    expect(shown.nth(1).locator("pre code")).to_have_text("for hold in route:\n    climb(hold)\n")


def test_on_a_phone_a_long_code_line_scrolls_inside_its_block_and_emoji_show_large(phone, alice, bob):
    chat = direct_chat(alice, bob)
    send(chat, bob, "```\n" + "route = " + "x" * 300 + "\n```")
    send(chat, bob, "🎉🎉")
    send(chat, bob, "a party 🎉")
    phone.log_in(alice)

    for scheme in ("light", "dark"):
        phone.page.emulate_media(color_scheme=scheme)
        phone.goto(reverse("chat", args=[chat.pk]))  # checks contrast in each theme too

        pre = phone.page.locator("#messages pre")
        sizes = pre.evaluate("(pre) => [pre.scrollWidth, pre.clientWidth, pre.closest('.bubble').offsetWidth]")
        scroll_width, client_width, bubble_width = sizes
        assert scroll_width > client_width  # the line scrolls inside its block
        assert bubble_width < 390  # and the bubble stays within the screen
        assert phone.page.evaluate("() => document.documentElement.scrollWidth") <= 390
    large = phone.page.locator("#messages .message-text.message-emoji")
    expect(large).to_have_count(1)
    expect(large).to_have_text("🎉🎉")
    sizes = phone.page.evaluate(
        """() => [...document.querySelectorAll('#messages .message-text')].slice(-2)
            .map((text) => parseFloat(getComputedStyle(text).fontSize))"""
    )
    assert sizes[0] > 2 * sizes[1]
