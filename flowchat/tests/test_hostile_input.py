"""Input no person would send, from anyone: a clear 400, never a 500, and nothing stored.

alice has an account; the requests come from her scripts and browser, or from nobody.
"""

from __future__ import annotations

import json

import pytest

from accounts.models import User
from conversations.models import Message
from flowchat.testing import auth

JSON = "application/json"
LONE_SURROGATE = '"x\\ud800y"'  # valid JSON syntax, but no text: UTF-8 has no such character


def json_with(**fields: object) -> str:
    """A JSON object in which every "LONE" (a key or a value) is the lone surrogate."""
    return json.dumps(fields).replace('"LONE"', LONE_SURROGATE)


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_rate_limits")]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/login/", json_with(username="LONE", password="whatever-it-is")),
        ("/api/users/", json_with(username="newcomer", password="LONE")),
        ("/api/users/", json_with(username="newcomer", password="long-enough-1", x={"LONE": 1})),
    ],
)
def test_a_lone_surrogate_in_unauthenticated_json_is_a_400(api, path, body):
    response = api.post(path, body, content_type=JSON)

    assert response.status_code == 400
    assert response.json()["detail"] == "The body is not valid JSON."
    assert not User.objects.filter(username="newcomer").exists()


def test_a_lone_surrogate_in_a_message_is_a_400_and_nothing_is_sent(api, alice, bob, chat):
    response = api.post("/api/messages/", json_with(chat=chat.pk, text="LONE"), content_type=JSON, **auth(alice))

    assert response.status_code == 400
    assert not Message.objects.exists()


def test_a_surrogate_pair_is_ordinary_text(api, alice, bob, chat):
    response = api.post(
        "/api/messages/",
        json_with(chat=chat.pk, text="PAIR").replace('"PAIR"', '"\\ud83d\\ude00"'),
        content_type=JSON,
        **auth(alice),
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
    response = api.patch(f"/api/users/{alice.pk}/", json_with(bio="LONE"), content_type=JSON, **auth(alice))

    assert response.status_code == 400
    alice.refresh_from_db()
    assert alice.bio is None
