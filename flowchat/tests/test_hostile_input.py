"""Input no person would send, from anyone: a clear 400, never a 500, and nothing stored.

alice has an account; the requests come from her scripts and browser, or from nobody.
"""

from __future__ import annotations

import pytest

from accounts.models import User
from conversations.models import Message
from flowchat.testing import auth

JSON = "application/json"
LONE_SURROGATE = '"x\\ud800y"'  # valid JSON syntax, but no text: UTF-8 has no such character

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/login/", '{"username": %s, "password": "whatever-it-is"}' % LONE_SURROGATE),
        ("/api/users/", '{"username": "newcomer", "password": %s}' % LONE_SURROGATE),
        ("/api/users/", '{"username": "newcomer", "password": "long-enough-1", "x": {%s: 1}}' % LONE_SURROGATE),
    ],
)
def test_a_lone_surrogate_in_unauthenticated_json_is_a_400(api, path, body):
    response = api.post(path, body, content_type=JSON)

    assert response.status_code == 400
    assert response.json()["detail"] == "The body is not valid JSON."
    assert not User.objects.filter(username="newcomer").exists()


def test_a_lone_surrogate_in_a_message_is_a_400_and_nothing_is_sent(api, alice, bob, chat):
    response = api.post(
        "/api/messages/", '{"chat": %d, "text": %s}' % (chat.pk, LONE_SURROGATE), content_type=JSON, **auth(alice)
    )

    assert response.status_code == 400
    assert not Message.objects.exists()


def test_a_surrogate_pair_is_ordinary_text(api, alice, bob, chat):
    response = api.post(
        "/api/messages/", '{"chat": %d, "text": "\\ud83d\\ude00"}' % chat.pk, content_type=JSON, **auth(alice)
    )

    assert response.status_code == 201
    assert response.json()["text"] == "😀"


def test_bytes_of_a_surrogate_in_a_form_post_are_not_a_500(client, alice, bob, chat):
    client.force_login(alice)

    response = client.post(
        f"/chats/{chat.pk}/messages/",
        b"text=x%ED%A0%80y",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 302
    assert Message.objects.get().text == "x\ufffd\ufffd\ufffdy"  # undecodable bytes are shown as such


def test_a_lone_surrogate_in_a_profile_update_changes_nothing(api, alice):
    response = api.patch(f"/api/users/{alice.pk}/", '{"bio": %s}' % LONE_SURROGATE, content_type=JSON, **auth(alice))

    assert response.status_code == 400
    alice.refresh_from_db()
    assert alice.bio == ""
