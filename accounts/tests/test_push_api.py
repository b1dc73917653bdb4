"""Web Push devices, the previews setting and per-chat notification levels through the JSON API."""

from __future__ import annotations

import base64
import io
import os

import pytest
from django.core.management import call_command

from accounts.models import PushSubscription
from accounts.push_endpoints import endpoint_problem
from conversations import actions
from conversations.models import Membership
from flowchat.testing import auth

JSON = "application/json"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def body(endpoint: str = "http://127.0.0.1:9/push/1") -> dict:
    return {"endpoint": endpoint, "keys": {"p256dh": b64(b"\x04" + os.urandom(64)), "auth": b64(os.urandom(16))}}


@pytest.fixture(autouse=True)
def _test_origin(settings):
    settings.WEBPUSH_TEST_ORIGINS = ["http://127.0.0.1:9"]
    settings.VAPID_PUBLIC_KEY = "BPUBLIC"


def test_the_public_key_is_served(api, alice, settings):
    assert api.get("/api/push/", **auth(alice)).json() == {"public_key": "BPUBLIC"}
    settings.VAPID_PUBLIC_KEY = ""
    assert api.get("/api/push/", **auth(alice)).json() == {"public_key": None}


def test_a_device_is_registered_once_listed_and_removed(api, alice, carol):
    headers = auth(alice)
    sent = body()
    first = api.post("/api/push/subscriptions/", sent, content_type=JSON, HTTP_USER_AGENT="Firefox", **headers)
    assert first.status_code == 201
    assert set(first.json()) >= {"id", "endpoint", "created_at"}
    again = api.post("/api/push/subscriptions/", sent, content_type=JSON, **headers)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    listed = api.get("/api/push/subscriptions/", **headers).json()
    assert [device["user_agent"] for device in listed] == ["Firefox"]
    # Someone else cannot remove it.
    assert api.delete(f"/api/push/subscriptions/{first.json()['id']}/", **auth(carol)).status_code == 404
    assert api.delete(f"/api/push/subscriptions/{first.json()['id']}/", **headers).status_code == 204
    assert not PushSubscription.objects.exists()


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://push.example.com/x",  # not https
        "https://127.0.0.1/x",
        "https://10.0.0.5/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://localhost/x",
        "http://127.0.0.1:8000/x",  # loopback on a port that is not a test origin
        "not a url",
    ],
)
def test_an_endpoint_on_a_private_or_loopback_host_is_refused(api, alice, endpoint):
    answer = api.post("/api/push/subscriptions/", body(endpoint), content_type=JSON, **auth(alice))
    assert answer.status_code == 400
    assert "endpoint" in answer.json()["errors"]
    assert not PushSubscription.objects.exists()


def test_bad_keys_are_refused(api, alice):
    sent = body()
    sent["keys"]["auth"] = "short"
    answer = api.post("/api/push/subscriptions/", sent, content_type=JSON, **auth(alice))
    assert answer.status_code == 400 and "keys.auth" in answer.json()["errors"]


def test_a_public_https_address_is_accepted():
    assert endpoint_problem("https://8.8.8.8/push") is None


def test_push_previews_is_on_the_own_user_and_changed_with_patch(api, alice, bob):
    headers = auth(alice)
    assert api.get("/api/users/me/", **headers).json()["push_previews"] is True
    answer = api.patch(f"/api/users/{alice.pk}/", {"push_previews": False}, content_type=JSON, **headers)
    assert answer.status_code == 200 and answer.json()["push_previews"] is False
    alice.refresh_from_db()
    assert alice.push_previews is False
    assert "push_previews" not in api.get(f"/api/users/{bob.pk}/profile/", **headers).json()
    bad = api.patch(f"/api/users/{alice.pk}/", {"push_previews": "no"}, content_type=JSON, **headers)
    assert bad.status_code == 400


def test_chat_notifications_default_and_change(api, alice, bob, chat, group):
    headers = auth(alice)
    assert api.get(f"/api/chats/{chat.pk}/", **headers).json()["notifications"] == "all"
    assert api.get(f"/api/chats/{group.pk}/", **headers).json()["notifications"] == "all"
    answer = api.patch(f"/api/chats/{chat.pk}/", {"notifications": "none"}, content_type=JSON, **headers)
    assert answer.status_code == 200 and answer.json()["notifications"] == "none"
    assert Membership.objects.get(chat=chat, user=alice).notifications == "none"
    # Only alice's level changed.
    assert api.get(f"/api/chats/{chat.pk}/", **auth(bob)).json()["notifications"] == "all"
    bad = api.patch(f"/api/chats/{chat.pk}/", {"notifications": "loud"}, content_type=JSON, **headers)
    assert bad.status_code == 400


def test_a_big_group_defaults_to_mentions(alice, django_user_model):
    from conftest import make_person

    people = [make_person(f"p{n}") for n in range(21)]
    group = actions.create_group(alice, "Crowd", people)
    membership = Membership.objects.get(chat=group, user=alice)
    from conversations.models import notifications_for

    assert notifications_for(membership, group, 22) == "mentions"
    assert notifications_for(membership, group, 20) == "all"


def test_vapid_keys_prints_two_raw_keys():
    out = io.StringIO()
    call_command("vapid_keys", stdout=out)
    lines = out.getvalue().split()
    assert lines[0].startswith("VAPID_PUBLIC_KEY=") and lines[1].startswith("VAPID_PRIVATE_KEY=")
    public = base64.urlsafe_b64decode(lines[0].split("=", 1)[1] + "==")
    private = base64.urlsafe_b64decode(lines[1].split("=", 1)[1] + "==")
    assert len(public) == 65 and public[0] == 4 and len(private) == 32
    assert "=" not in lines[0].split("=", 1)[1]
