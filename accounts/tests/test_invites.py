"""Sign-up modes (SIGNUP=open|invite|closed) and invite links, on the page and in the JSON API.

An operator makes invite links; dave is the newcomer who signs up with one. alice is a member
(who makes links only with SIGNUP_INVITES_BY=members), bob another member.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.invites import make_invite, use_invite
from accounts.models import Invite, User, hash_token
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

SIGNUP_URL = reverse("account_signup")
INVITES_URL = reverse("accounts:invites")


@pytest.fixture
def operator(db) -> User:
    return User.objects.create_user("olga", password=PASSWORD, is_staff=True)


@pytest.fixture
def by_invite(settings):
    settings.SIGNUP = "invite"


def signup(client: Client, username: str = "dave", **extra: str):
    data = {"username": username, "password1": PASSWORD, "password2": PASSWORD, **extra}
    return client.post(SIGNUP_URL, data)


def register(username: str = "dave", **extra: str):
    return Client().post(
        "/api/users/", {"username": username, "password": PASSWORD, **extra}, content_type="application/json"
    )


def form_errors(response) -> dict:
    return response.context["form"].errors


# Open and closed ------------------------------------------------------------------------------


def test_an_open_server_signs_anyone_up_without_an_invite(client):
    assert "invite" not in client.get(SIGNUP_URL).context["form"].fields
    assert signup(client).status_code == 302
    assert register("erin").status_code == 201
    assert User.objects.filter(username__in=["dave", "erin"]).count() == 2


def test_a_closed_server_says_so_and_makes_no_account(settings, client):
    assert 'href="/accounts/signup/"' in client.get(reverse("account_login")).content.decode()
    settings.SIGNUP = "closed"
    page = client.get(SIGNUP_URL)
    assert "Sign Up Closed" in page.content.decode()
    assert 'class="button" href="/accounts/signup/"' not in page.content.decode()  # the header offers none
    signup(client)
    response = register("erin")

    assert response.status_code == 403
    assert response.json() == {"detail": "Sign-up is closed on this server: accounts are made by its operators."}
    assert not User.objects.filter(username__in=["dave", "erin"]).exists()


# Signing up by invite -------------------------------------------------------------------------


def test_the_invite_link_fills_in_the_sign_up_form_and_makes_the_account(by_invite, client, operator):
    invite = make_invite(operator, max_uses=2)

    arrived = client.get(invite.get_absolute_url(), follow=True)
    assert arrived.context["form"]["invite"].value() == invite.token
    response = signup(client, invite=invite.token)

    assert response.status_code == 302
    assert client.get(reverse("home")).wsgi_request.user.username == "dave"
    invite.refresh_from_db()
    assert invite.uses == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"token": "made-up"}, "This invite link is not valid."),
        ({"revoked_at": timezone.now()}, "This invite link was revoked."),
        ({"expires_at": timezone.now() - timedelta(minutes=1)}, "This invite link has expired."),
        ({"max_uses": 1, "uses": 1}, "This invite link has been used as many times as it allows."),
    ],
)
def test_a_bad_invite_is_refused_on_the_page_and_in_the_api(by_invite, client, operator, change, message):
    invite = make_invite(operator)
    token = change.pop("token", invite.token)
    Invite.objects.filter(pk=invite.pk).update(**change)

    page = signup(client, invite=token)
    api = register("erin", invite=token)

    assert page.status_code == 200 and message in " ".join(form_errors(page)["invite"])
    assert api.status_code == 403 and api.json()["detail"].startswith(message)
    assert api.json()["errors"]["invite"] == [api.json()["detail"]]
    assert not User.objects.filter(username__in=["dave", "erin"]).exists()


def test_signing_up_without_an_invite_is_refused(by_invite, client):
    assert "invite" in form_errors(signup(client))
    response = register()
    assert response.status_code == 400
    assert response.json()["errors"]["invite"] == [
        "Sign-up on this server is by invitation: send the token of your invite link as `invite`."
    ]
    assert not User.objects.filter(username="dave").exists()


def test_the_api_signs_up_with_an_invite_and_counts_it(by_invite, operator):
    invite = make_invite(operator, max_uses=1)

    assert register("dave", invite=invite.token).status_code == 201
    assert register("erin", invite=invite.token).status_code == 403
    assert Invite.objects.get(pk=invite.pk).uses == 1
    assert list(User.objects.filter(username__in=["dave", "erin"]).values_list("username", flat=True)) == ["dave"]


def test_a_refused_sign_up_keeps_the_invites_use(by_invite, client, operator, alice):
    invite = make_invite(operator, max_uses=1)

    assert register("alice", invite=invite.token).status_code == 400  # the name is taken
    assert "username" in form_errors(signup(client, "ALICE", invite=invite.token))

    assert Invite.objects.get(pk=invite.pk).uses == 0


def test_a_link_used_up_between_the_check_and_the_sign_up_is_a_form_error(by_invite, client, operator, monkeypatch):
    invite = make_invite(operator, max_uses=1)
    use_invite(invite.token)  # someone else took the last use...
    monkeypatch.setattr("accounts.signup.check_invite", lambda token: None)  # ...after this form was checked

    response = signup(client, invite=invite.token)

    assert response.status_code == 200
    assert "used as many times as it allows" in " ".join(form_errors(response)["invite"])
    assert not User.objects.filter(username="dave").exists()
    assert Invite.objects.get(pk=invite.pk).uses == 1


def test_the_token_is_unguessable_and_only_its_hash_is_looked_up(operator):
    first, second = make_invite(operator), make_invite(operator)
    assert len(first.token) >= 32 and first.token != second.token
    assert first.token_hash == hash_token(first.token)


@pytest.mark.django_db(transaction=True)
def test_the_last_use_goes_to_one_sign_up_only_when_they_race(by_invite, operator):
    if connection.vendor == "sqlite":
        # SQLite lets one writer in at a time (and tells the others it is busy): there is no race to lose.
        pytest.skip("concurrent writers need PostgreSQL")
    invite = make_invite(operator, max_uses=1)
    several = 4
    ready = threading.Barrier(several)
    outcomes: list[str] = []

    def sign_up(number: int) -> None:
        try:
            ready.wait()
            outcomes.append(register(f"racer{number}", invite=invite.token).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sign_up, args=(n,)) for n in range(several)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == [201] + [403] * (several - 1)
    assert Invite.objects.get(pk=invite.pk).uses == 1
    assert User.objects.filter(username__startswith="racer").count() == 1


# The invite links page ---------------------------------------------------------------------------


def test_an_operator_makes_copies_and_revokes_invite_links(by_invite, client, operator):
    client.force_login(operator)
    response = client.post(INVITES_URL, {"expires_in": "7", "max_uses": "3"}, follow=True)

    invite = Invite.objects.get()
    page = response.content.decode()
    assert invite.created_by == operator and invite.max_uses == 3
    assert timedelta(days=6, hours=23) < invite.expires_at - timezone.now() <= timedelta(days=7)
    assert f'value="http://testserver/join/{invite.token}/"' in page
    assert f'data-copy="invite-link-{invite.pk}"' in page
    assert "0 of 3 sign-ups used." in page

    client.post(reverse("accounts:revoke_invite", args=[invite.pk]))
    assert Invite.objects.get().state == "revoked"
    assert "Revoked." in client.get(INVITES_URL).content.decode()


def test_a_bad_expiry_or_count_is_a_form_error(by_invite, client, operator):
    client.force_login(operator)
    response = client.post(INVITES_URL, {"expires_in": "365", "max_uses": "0"})
    assert response.status_code == 400
    assert set(form_errors(response)) == {"expires_in", "max_uses"}
    assert not Invite.objects.exists()


def test_members_make_links_only_when_the_operator_lets_them(by_invite, settings, client, alice, bob, operator):
    client.force_login(alice)
    assert client.get(INVITES_URL).status_code == 404
    assert client.post(INVITES_URL, {}).status_code == 404

    settings.SIGNUP_INVITES_BY = "members"
    client.post(INVITES_URL, {})
    bobs = make_invite(bob)

    assert Invite.objects.filter(created_by=alice).count() == 1
    assert bobs.token not in client.get(INVITES_URL).content.decode()  # a member sees their own links
    assert client.post(reverse("accounts:revoke_invite", args=[bobs.pk])).status_code == 404
    assert Invite.objects.get(pk=bobs.pk).state == "usable"


def test_the_menu_links_the_page_only_where_it_exists(settings, client, operator):
    client.force_login(operator)
    assert INVITES_URL not in client.get(reverse("accounts:settings")).content.decode()
    assert client.get(INVITES_URL).status_code == 404  # invites are for SIGNUP=invite
    settings.SIGNUP = "invite"
    assert INVITES_URL in client.get(reverse("accounts:settings")).content.decode()


def test_using_an_invite_checks_again_in_the_database(by_invite, operator):
    invite = make_invite(operator, max_uses=1)
    use_invite(invite.token)
    with pytest.raises(Exception, match="used as many times"):
        use_invite(invite.token)
