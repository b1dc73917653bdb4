"""Invite links in a real browser: an operator makes one and copies it; a newcomer signs up with it.

A server of its own, started with SIGNUP=invite. Olga is the operator; dora the newcomer.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from accounts.models import Invite, User
from conftest import PASSWORD

from .conftest import Server, give_password, start_server, stop_server, wait_for_server_connections_to_close

pytestmark = pytest.mark.browser

WITH_AND_WITHOUT_JAVASCRIPT = pytest.mark.parametrize("tab", ["desktop", "no_js"], indirect=True)


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Server]:
    running = start_server(tmp_path_factory.mktemp("invites"), SIGNUP="invite")
    try:
        yield running
    finally:
        stop_server(running)
        wait_for_server_connections_to_close(django_db_blocker)


@pytest.fixture
def olga(transactional_db) -> User:
    return give_password(User.objects.create_user("olga", is_staff=True))


@WITH_AND_WITHOUT_JAVASCRIPT
def test_an_operator_makes_an_invite_link_from_the_menu_and_copies_it(tab, olga):
    page = tab.page
    tab.log_in(olga)
    tab.goto("/")
    page.locator("#user-menu > summary").click()
    with page.expect_navigation():
        page.get_by_role("link", name="Invite links").click()
    tab.audit()
    page.get_by_label("Expires:").select_option(label="In a week")
    page.get_by_label("Sign-ups allowed:").fill("1")
    tab.submit(page.get_by_role("button", name="Make an invite link"))

    invite = Invite.objects.get()
    link = page.get_by_label("Link", exact=True)
    expect(link).to_have_value(f"{tab.base_url}/join/{invite.token}/")
    expect(page.locator(f"#invite-{invite.pk}")).to_contain_text("0 of 1 sign-up used.")
    copy = page.get_by_role("button", name="Copy")
    if not tab.javascript:
        expect(copy).to_be_hidden()  # the link is in a field to copy by hand
        return
    tab.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=tab.base_url)
    copy.click()
    expect(page.get_by_role("button", name="Copied")).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == f"{tab.base_url}/join/{invite.token}/"


@WITH_AND_WITHOUT_JAVASCRIPT
def test_a_newcomer_signs_up_by_following_the_invite_link(tab, olga):
    from accounts.invites import make_invite

    invite = make_invite(olga, max_uses=1)
    page = tab.page
    tab.goto("/accounts/signup/")
    expect(page.get_by_label("Invite:")).to_have_value("")

    tab.goto(f"/join/{invite.token}/")
    expect(page.get_by_label("Invite:")).to_have_value(invite.token)
    page.get_by_label("Username:").fill("dora")
    page.get_by_label("Password:", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again):").fill(PASSWORD)
    tab.submit(page.get_by_role("button", name="Sign Up"))

    expect(page.locator("#user-menu")).to_contain_text("dora")
    assert Invite.objects.get(pk=invite.pk).uses == 1
    assert User.objects.filter(username="dora").exists()
