"""Open groups in a real browser: alice opens "Climbing"; carol, an outsider, finds it in the
directory and joins with one click, with JavaScript on and off and on a phone.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conversations import actions
from conversations.models import Chat

from .conftest import outside_the_browser_loop

pytestmark = pytest.mark.browser

EVERY_KIND_OF_TAB = pytest.mark.parametrize("tab", ["desktop", "no_js", "phone"], indirect=True)


@EVERY_KIND_OF_TAB
def test_the_owner_opens_a_group_and_an_outsider_finds_it_and_joins(tab, open_tab, alice, bob, carol):
    group = outside_the_browser_loop(actions.create_group, alice, "Climbing", [bob])
    outside_the_browser_loop(actions.send_message, group, bob, "Who is coming on Saturday?")
    page = tab.page

    tab.log_in(alice)
    tab.goto(f"/chats/{group.pk}/settings/")
    page.get_by_label("Open group").check()
    tab.submit(page.locator("#openness").get_by_role("button", name="Save"))
    expect(page.get_by_role("status").filter(has_text="The group is open")).to_be_visible()

    outsider = open_tab(tab.kind)
    outsider.log_in(carol)
    outsider.goto("/")
    outsider.page.get_by_role("link", name="Browse open groups").click()
    expect(outsider.page).to_have_url(re.compile(r"/groups/$"))
    outsider.page.wait_for_load_state()  # htmx listens from DOMContentLoaded on: typing before that is a plain form
    field = outsider.page.get_by_label("Group title")
    if outsider.javascript:
        field.press_sequentially("climb")
        expect(outsider.page).to_have_url(re.compile(r"/groups/\?q=climb$"))
    else:
        field.fill("climb")
        outsider.submit(outsider.page.get_by_role("button", name="Search", exact=True))
    entry = outsider.page.locator(".directory-group", has_text="Climbing")
    expect(entry).to_contain_text("2 members")
    expect(entry).to_contain_text("Who is coming on Saturday?")
    outsider.audit()

    outsider.submit(entry.get_by_role("button", name="Join Climbing"))
    expect(outsider.page).to_have_url(re.compile(rf"/chats/{group.pk}/"))
    expect(outsider.page.locator("main")).to_contain_text("Carol Cole joined")
    outsider.audit()
    assert outside_the_browser_loop(lambda: Chat.objects.get(pk=group.pk).memberships.filter(user=carol).exists())
