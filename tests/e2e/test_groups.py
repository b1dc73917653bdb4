"""Finding people and running a group in a real browser, with JavaScript on and off and on a phone.

alice finds bob and writes to him, then makes a group with him, renames it, adds carol
and removes her again; bob leaves. Every page is checked with axe-core, and console
errors or CSP violations fail the test (see conftest.py).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User
from conftest import make_person
from conversations import actions
from conversations.models import Chat, Membership

from .conftest import Tab, give_password, outside_the_browser_loop

pytestmark = pytest.mark.browser

WITH_AND_WITHOUT_JAVASCRIPT = pytest.mark.parametrize("tab", ["desktop", "no_js"], indirect=True)
EVERY_KIND_OF_TAB = pytest.mark.parametrize("tab", ["desktop", "no_js", "phone"], indirect=True)


def system_lines(chat: Chat) -> list[str]:
    return [message.system_text() for message in chat.messages.with_people() if message.is_system]


def search_people(tab: Tab, query: str) -> None:
    """Type into the people search: results follow the typing with htmx; without it, the button searches."""
    page = tab.page
    field = page.get_by_label("Name or username")
    if tab.javascript:
        field.press_sequentially(query)
        expect(page).to_have_url(re.compile(rf"/people/\?q={query}$"))
    else:
        field.fill(query)
        tab.submit(page.get_by_role("button", name="Search", exact=True))
    tab.audit()


def find_member(tab: Tab, query: str) -> None:
    """The member search of the new group form: in place with htmx, a GET of the page without it."""
    page = tab.page
    field = page.get_by_label("Find people")
    if tab.javascript:
        field.clear()
        field.press_sequentially(query)
        expect(page.locator("#candidates-status")).to_contain_text(f"“{query}”")
    else:
        field.fill(query)
        tab.submit(page.get_by_role("button", name="Search", exact=True))
    tab.audit()


def confirm_and_click(tab: Tab, button_name: str, confirm_button: str) -> None:
    """A destructive button: htmx asks with a dialog; without JavaScript a page asks, whose button posts."""
    page = tab.page
    if tab.javascript:
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name=button_name).click()
    else:
        tab.submit(page.get_by_role("button", name=button_name))
        tab.submit(page.get_by_role("button", name=confirm_button, exact=True))


# Find people ------------------------------------------------------------------------------------


@EVERY_KIND_OF_TAB
def test_alice_finds_bob_by_name_and_opens_a_direct_chat(tab, alice, bob, carol):
    page = tab.page
    tab.log_in(alice)
    tab.goto("/people/")
    expect(page.locator("#people-status")).to_have_text("Type part of a name or username to find people.")

    search_people(tab, "baker")

    results = page.locator("#people-results .person")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Bob Baker")
    expect(results.first).to_contain_text("@bob")
    expect(page.locator("#people-status")).to_have_text("1 person matches “baker”")
    expect(results.first.get_by_role("link", name="Bob Baker")).to_have_attribute("href", "/people/bob/")
    if tab.kind == "phone":
        tab.assert_fits_the_screen()

    with page.expect_navigation():
        page.get_by_role("button", name="Message Bob Baker").click()

    chat = Chat.objects.get()
    assert not chat.is_group
    assert set(chat.members.all()) == {alice, bob}
    expect(page).to_have_url(tab.url(f"/chats/{chat.pk}/"))


def test_a_search_with_no_one_found_says_so_and_more_loads_the_next_page(desktop, alice):
    page = desktop.page
    for number in range(25):
        make_person(f"climber{number:02}")
    desktop.log_in(alice)
    desktop.goto("/people/")

    search_people(desktop, "nobody")
    expect(page.locator("#people-status")).to_have_text("No one matches “nobody”.")

    page.get_by_label("Name or username").fill("climber")
    expect(page.locator("#people-results .person")).to_have_count(20)
    page.get_by_role("link", name="More people").click()
    expect(page.locator("#people-results .person")).to_have_count(25)
    expect(page.get_by_role("link", name="More people")).to_have_count(0)
    desktop.audit()


def test_a_shared_search_link_opens_with_its_results(no_js, alice, bob):
    no_js.log_in(alice)
    no_js.goto("/people/?q=bob")

    expect(no_js.page.get_by_label("Name or username")).to_have_value("bob")
    expect(no_js.page.locator("#people-results .person")).to_have_count(1)


# Groups -----------------------------------------------------------------------------------------


@WITH_AND_WITHOUT_JAVASCRIPT
def test_a_group_is_created_renamed_joined_and_left(tab, open_tab, alice, bob, carol):
    page = tab.page
    tab.log_in(alice)

    # alice makes a group with bob, picked from a search.
    tab.goto("/chats/new-group/")
    page.get_by_label("Title").fill("Climbing")
    find_member(tab, "bob")
    page.get_by_role("checkbox", name=re.compile("Bob Baker")).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Create group").click()
    group = Chat.objects.get(is_group=True)
    expect(page).to_have_url(tab.url(f"/chats/{group.pk}/"))
    assert dict(group.memberships.values_list("user__username", "role")) == {"alice": "owner", "bob": "member"}

    # She renames it.
    tab.goto(f"/chats/{group.pk}/settings/")
    expect(page.locator("#members .person")).to_have_count(2)
    expect(page.locator(f"#member-{alice.pk}")).to_contain_text("Owner")
    title = page.get_by_role("textbox", name="Title")
    title.fill("Bouldering")
    tab.submit(page.get_by_role("button", name="Rename"))
    expect(page.locator(".notice")).to_have_text("The group is now called “\u2068Bouldering\u2069”.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bouldering")

    # She adds carol.
    add = page.get_by_role("search", name="Add people").get_by_label("Name or username")
    if tab.javascript:
        add.press_sequentially("carol")
        expect(page.locator("#add-candidates .person")).to_have_count(1)
        page.get_by_role("button", name="Add Carol Cole").click()
        expect(page.locator("#members .notice")).to_have_text("\u2068Carol Cole\u2069 is added to the group.")
    else:
        add.fill("carol")
        tab.submit(page.locator("#add-people").get_by_role("button", name="Search"))
        tab.submit(page.get_by_role("button", name="Add Carol Cole"))
        expect(page.locator(".notice")).to_have_text("\u2068Carol Cole\u2069 is added to the group.")
    expect(page.locator("#members .member-list .person")).to_have_count(3)
    tab.audit()

    # And removes her again.
    confirm_and_click(tab, "Remove Carol Cole", "Remove")
    # With htmx the member list is swapped in place, with its notice inside.
    notice = page.locator("#members .notice" if tab.javascript else ".notice")
    expect(notice).to_have_text("\u2068Carol Cole\u2069 is removed from the group.")
    if tab.javascript:
        expect(page.locator("#members-heading")).to_be_focused()
    expect(page.locator("#members .member-list .person")).to_have_count(2)
    expect(page.locator(f"#member-{carol.pk}")).to_have_count(0)
    tab.audit()

    # bob leaves, from a browser of his own.
    bobs = open_tab(tab.kind)
    bobs.log_in(bob)
    bobs.goto(f"/chats/{group.pk}/settings/")
    expect(bobs.page.get_by_role("button", name=re.compile("^Remove"))).to_have_count(0)
    if bobs.javascript:
        bobs.page.once("dialog", lambda dialog: dialog.accept())
        with bobs.page.expect_navigation():
            bobs.page.get_by_role("button", name="Leave group").click()
    else:
        bobs.submit(bobs.page.get_by_role("button", name="Leave group"))
        expect(bobs.page.get_by_role("heading", level=1)).to_have_text("Leave “Bouldering”?")
        bobs.submit(bobs.page.get_by_role("button", name="Leave group"))
    expect(bobs.page).to_have_url(bobs.url("/"))
    expect(bobs.page.locator(".notice")).to_have_text("You left “\u2068Bouldering\u2069”.")
    bobs.audit()

    group.refresh_from_db()
    assert group.title == "Bouldering"
    assert list(group.members.all()) == [alice]
    assert system_lines(group) == [
        "Alice Archer created the group",
        "Alice Archer added Bob Baker",
        "Alice Archer renamed the group to “Bouldering”",
        "Alice Archer added Carol Cole",
        "Alice Archer removed Carol Cole",
        "Bob Baker left",
    ]


@WITH_AND_WITHOUT_JAVASCRIPT
def test_a_group_without_a_title_is_refused_and_the_picks_are_kept(tab, alice, bob, carol):
    page = tab.page
    tab.log_in(alice)
    tab.goto("/chats/new-group/?q=bob")
    page.get_by_role("checkbox", name=re.compile("Bob Baker")).check()
    find_member(tab, "carol")
    # bob, ticked before the second search, is still picked.
    expect(page.locator("#picked-members").get_by_role("checkbox", name=re.compile("Bob Baker"))).to_be_checked()
    page.get_by_role("checkbox", name=re.compile("Carol Cole")).check()

    response = tab.submit(page.get_by_role("button", name="Create group"))

    assert response.status == 400
    expect(page.locator(".errorlist")).to_contain_text("This field is required.")
    expect(page.get_by_role("checkbox", name=re.compile("Bob Baker"))).to_be_checked()
    expect(page.get_by_role("checkbox", name=re.compile("Carol Cole"))).to_be_checked()
    assert not Chat.objects.exists()


def test_enter_in_the_title_searches_rather_than_creating_the_group(desktop, alice, bob):
    page = desktop.page
    desktop.log_in(alice)
    desktop.goto("/chats/new-group/")
    page.get_by_label("Title").fill("Climbing")
    page.get_by_label("Find people").fill("bob")

    page.get_by_label("Title").press("Enter")

    expect(page.get_by_role("checkbox", name=re.compile("Bob Baker"))).to_be_visible()
    expect(page).to_have_url(desktop.url("/chats/new-group/"))
    assert not Chat.objects.exists()


def test_the_new_group_page_and_search_work_on_a_phone(phone, alice, bob):
    page = phone.page
    phone.log_in(alice)
    phone.goto("/people/")
    search_people(phone, "bob")
    phone.assert_fits_the_screen()

    phone.goto("/chats/new-group/")
    page.get_by_label("Title").fill("Weekend trip with a rather long title to wrap")
    find_member(phone, "bob")
    page.get_by_role("checkbox", name=re.compile("Bob Baker")).tap()
    phone.assert_fits_the_screen()
    with page.expect_navigation():
        page.get_by_role("button", name="Create group").tap()

    group = Chat.objects.get(is_group=True)
    expect(page).to_have_url(phone.url(f"/chats/{group.pk}/"))
    assert set(group.members.all()) == {alice, bob}
    phone.goto(f"/chats/{group.pk}/settings/")
    phone.assert_fits_the_screen()


def test_the_owner_passes_on_when_she_leaves(desktop, alice, bob):
    group = outside_the_browser_loop(actions.create_group, alice, "Climbing", [bob])
    page = desktop.page
    desktop.log_in(alice)
    desktop.goto(f"/chats/{group.pk}/settings/")
    expect(page.locator("#leave-heading + p")).to_contain_text("the longest-standing member becomes the owner")

    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.get_by_role("button", name="Leave group").click()

    expect(page).to_have_url(desktop.url("/"))
    assert group.memberships.get().user == bob
    assert group.memberships.get().role == Membership.Role.OWNER


def test_an_action_on_a_page_gone_stale_says_it_did_not_work(desktop, alice, bob):
    group = outside_the_browser_loop(actions.create_group, alice, "Climbing", [bob])
    page = desktop.page
    desktop.log_in(alice)
    desktop.goto(f"/chats/{group.pk}/settings/")
    # Meanwhile, in another tab, alice leaves: this page no longer has anything to act on.
    outside_the_browser_loop(actions.leave_chat, group, alice)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove Bob Baker").click()

    expect(page.get_by_role("alert")).to_contain_text("That did not work. Reload the page and try again.")
    desktop.audit()
    # The 404 is the point of the test; Chromium and htmx log every failed request as a console error.
    remove_url = f"/chats/{group.pk}/members/{bob.pk}/remove/"
    desktop.problems[:] = [problem for problem in desktop.problems if "404" not in problem or remove_url not in problem]


def test_the_outsider_gets_a_404_for_the_group_settings(desktop, alice, bob, carol):
    group = outside_the_browser_loop(actions.create_group, alice, "Climbing", [bob])
    desktop.log_in(carol)

    # Fetched with the browser's cookies rather than opened: with DEBUG on (as the harness runs
    # the server) a 404 is Django's technical page, which makes the browser ask for /favicon.ico.
    response = desktop.page.request.get(desktop.url(f"/chats/{group.pk}/settings/"))

    assert response.status == 404
    assert "Climbing" not in response.text()


# Screenshots ------------------------------------------------------------------------------------


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("tab", ["desktop", "phone"], indirect=True)
def test_people_and_group_pages_render_in_light_and_dark(tab, alice, bob, carol, theme):
    """Saves artifacts/screenshots/<page>-<theme>-<viewport>.png for a person to look at."""
    from django.utils import timezone

    User.objects.filter(pk=alice.pk).update(theme=theme)
    User.objects.filter(pk=bob.pk).update(last_active=timezone.now())
    give_password(make_person("barbara", "Barbara", "Bartholomew-Featherstonehaugh"))
    make_person("ben")
    group = outside_the_browser_loop(actions.create_group, alice, "Climbing on weekends", [bob, carol])
    tab.log_in(alice)

    for name, path in [
        ("people-search", "/people/?q=b"),
        ("new-group", "/chats/new-group/?title=Climbing&members=" + str(bob.pk) + "&q=b"),
        ("group-settings", f"/chats/{group.pk}/settings/?q=b"),
        ("leave-group", f"/chats/{group.pk}/leave/"),
        ("remove-member", f"/chats/{group.pk}/members/{carol.pk}/remove/"),
    ]:
        tab.goto(path)
        expect(tab.page.locator("html")).to_have_attribute("data-theme", theme)
        tab.assert_fits_the_screen()
        tab.screenshot(f"{name}-{theme}")
