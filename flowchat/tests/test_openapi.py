"""The OpenAPI document is valid, and the real endpoints answer exactly as it says.

`SchemaCheckingClient` (flowchat/testing.py) checks every answer it receives against
the document; the tours below visit every documented operation and status with it.
The API tests in accounts/ and conversations/ use it too.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from typing import Any

import pytest
from django.test import Client
from openapi_spec_validator import validate
from PIL import Image

from accounts.models import ApiToken
from conftest import PASSWORD
from flowchat.testing import DOCUMENT, SchemaCheckingClient, documented_answers


def tiny_png() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(data, format="PNG")
    data.seek(0)
    data.name = "me.png"
    return data


# Rate limits counted by earlier tests must not refuse this one's logins and sign-ups.
pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


def test_the_document_is_valid_openapi_3_1():
    validate(DOCUMENT)
    assert DOCUMENT["openapi"].startswith("3.1")


def test_the_document_is_served_without_a_token(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == json.loads(json.dumps(DOCUMENT))


def test_every_path_in_the_urlconf_is_documented():
    from django.urls import get_resolver

    api_routes = set()
    for pattern in get_resolver().url_patterns:
        prefix = str(pattern.pattern)
        for inner in getattr(pattern, "url_patterns", [pattern]):
            route = prefix + (str(inner.pattern) if inner is not pattern else "")
            if route.startswith("api/"):
                api_routes.add("/" + re.sub(r"<int:(\w+)>", r"{\1}", route))
    assert api_routes == set(DOCUMENT["paths"])


def test_every_documented_people_answer_is_what_the_endpoints_really_send(alice, bob, carol, settings):
    """A tour of every documented people operation and status (but 500), each checked against the schema."""
    settings.API_RATE_LIMITS = {"register": "1000/h"}
    api = SchemaCheckingClient()
    as_json = {"content_type": "application/json"}

    # Registration
    api.post("/api/users/", {"username": "dave", "password": PASSWORD}, **as_json)
    api.post("/api/users/", {"username": "ALICE", "password": "123"}, **as_json)
    api.post("/api/users/", "not json", **as_json)
    api.post("/api/users/", "username=dave", content_type="application/x-www-form-urlencoded")
    settings.SIGNUP = "closed"
    api.post("/api/users/", {"username": "frank", "password": PASSWORD}, **as_json)
    settings.SIGNUP = "open"

    # Login and tokens
    key = api.post("/api/login/", {"username": "alice", "password": PASSWORD}, **as_json).json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    api.post("/api/login/", {"username": "alice", "password": "wrong"}, **as_json)
    api.post("/api/login/", {"username": 5}, **as_json)
    api.post("/api/login/", [], content_type="text/plain")
    api.get("/api/login/")

    # Reading people
    api.get("/api/users/me/", **auth)
    api.get("/api/users/me/")
    api.get(f"/api/users/{bob.pk}/profile/", **auth)
    api.get("/api/users/999999/profile/", **auth)
    api.get(f"/api/users/{bob.pk}/profile/")
    api.get("/api/users/all/", {"limit": 1}, **auth)
    api.get("/api/users/all/", {"q": "ali"}, **auth)
    api.get("/api/users/all/", {"limit": "many"}, **auth)
    api.get("/api/users/all/")

    # Changing a profile
    for method in (api.patch, api.put):
        method(f"/api/users/{alice.pk}/", {"bio": "Hi"}, **as_json, **auth)
        method(f"/api/users/{alice.pk}/", {"password": "x"}, **as_json, **auth)
        method(f"/api/users/{bob.pk}/", {"bio": "Hi"}, **as_json, **auth)
        method("/api/users/999999/", {"bio": "Hi"}, **as_json, **auth)
        method(f"/api/users/{alice.pk}/", {"bio": "Hi"}, **as_json)
        method(f"/api/users/{alice.pk}/", "bio=Hi", content_type="text/plain", **auth)
    multipart = Client()._encode_data({"avatar": tiny_png()}, "multipart/form-data; boundary=BoUnDaRy")
    api.patch(f"/api/users/{alice.pk}/", multipart, content_type="multipart/form-data; boundary=BoUnDaRy", **auth)
    api.delete(f"/api/users/{alice.pk}/", **auth)

    # Off the map
    api.get("/api/nothing/here/", **auth)
    api.get("/api/users/me", **auth)
    api.get("/api/schema/")

    # Too large and too many
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    for path, method in [
        ("/api/users/", api.post),
        ("/api/login/", api.post),
        (f"/api/users/{alice.pk}/", api.patch),
        (f"/api/users/{alice.pk}/", api.put),
    ]:
        method(path, {"bio": "x" * 200}, **as_json, **auth)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
    settings.API_RATE_LIMITS = {"register": "1/h"}
    settings.LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS = 1
    for _ in range(2):
        api.post("/api/users/", {"username": "erin", "password": PASSWORD}, **as_json)
        api.post("/api/login/", {"username": "bob", "password": "wrong"}, **as_json)

    # Logout last: it revokes the token.
    api.post("/api/logout/", **auth)
    api.post("/api/logout/", **auth)

    assert documented_answers({"People", "Meta"}) - api.seen == set()


def test_every_documented_chat_and_message_answer_is_what_the_endpoints_really_send(alice, bob, carol, settings):
    """A tour of every documented chats and messages operation and status (but 500), checked against the schema."""
    api = SchemaCheckingClient()
    as_json = {"content_type": "application/json"}
    as_text = {"content_type": "text/plain"}
    auth = {"HTTP_AUTHORIZATION": f"Token {ApiToken.objects.issue(alice)[1]}"}
    as_bob = {"HTTP_AUTHORIZATION": f"Token {ApiToken.objects.issue(bob)[1]}"}
    as_carol = {"HTTP_AUTHORIZATION": f"Token {ApiToken.objects.issue(carol)[1]}"}

    # Direct chats
    direct = api.post("/api/chats/get_or_create/", {"user_id": bob.pk}, **as_json, **auth).json()["id"]
    api.post("/api/chats/get_or_create/", {"user_id": str(bob.pk)}, **as_json, **auth)
    api.post("/api/chats/get_or_create/", {"user_id": "abc"}, **as_json, **auth)
    api.post("/api/chats/get_or_create/", {"user_id": 999999}, **as_json, **auth)
    api.post("/api/chats/get_or_create/", "user_id=2", **as_text, **auth)
    api.post("/api/chats/get_or_create/", {"user_id": bob.pk}, **as_json)

    # Groups
    group = api.post("/api/chats/", {"title": "Climbing", "members": [bob.pk]}, **as_json, **auth).json()["id"]
    api.post("/api/chats/", {"title": ""}, **as_json, **auth)
    api.post("/api/chats/", "title=x", **as_text, **auth)
    api.post("/api/chats/", {"title": "x"}, **as_json)
    api.get("/api/chats/", **auth)
    api.get("/api/chats/")
    api.get(f"/api/chats/{group}/", **auth)
    api.get(f"/api/chats/{group}/", **as_carol)
    api.get(f"/api/chats/{group}/")
    api.patch(f"/api/chats/{group}/", {"title": "Bouldering"}, **as_json, **auth)
    photo = Client()._encode_data({"photo": tiny_png()}, "multipart/form-data; boundary=BoUnDaRy")
    api.patch(f"/api/chats/{group}/", photo, content_type="multipart/form-data; boundary=BoUnDaRy", **auth)
    api.patch(f"/api/chats/{group}/", {"photo": None}, **as_json, **auth)
    api.patch(f"/api/chats/{direct}/", {"title": "Us"}, **as_json, **auth)
    api.patch(f"/api/chats/{group}/", {"title": "Mine"}, **as_json, **as_carol)
    api.patch(f"/api/chats/{group}/", "title=x", **as_text, **auth)
    api.patch(f"/api/chats/{group}/", {"title": "x"}, **as_json)

    # Open groups
    api.patch(f"/api/chats/{group}/", {"is_open": True}, **as_json, **as_bob)
    api.patch(f"/api/chats/{group}/", {"is_open": True}, **as_json, **auth)
    api.get("/api/chats/directory/", {"q": "Boulder", "limit": 1}, **as_carol)
    api.get("/api/chats/directory/", {"limit": "many"}, **as_carol)
    api.get("/api/chats/directory/")
    api.post(f"/api/chats/{group}/join/", **as_carol)
    api.post(f"/api/chats/{group}/join/", **as_carol)
    api.post(f"/api/chats/{direct}/join/", **as_carol)
    api.post(f"/api/chats/{group}/join/")
    api.post(f"/api/chats/{group}/leave/", **as_carol)
    api.patch(f"/api/chats/{group}/", {"is_open": False}, **as_json, **auth)

    # Members
    api.get(f"/api/chats/{group}/members/", **auth)
    api.get(f"/api/chats/{group}/members/", **as_carol)
    api.get(f"/api/chats/{group}/members/")
    api.post(f"/api/chats/{group}/members/", {"user_id": carol.pk}, **as_json, **as_bob)
    api.post(f"/api/chats/{group}/members/", {"user_id": carol.pk}, **as_json, **auth)
    api.post(f"/api/chats/{group}/members/", {"user_id": 999999}, **as_json, **auth)
    api.post(f"/api/chats/{group}/members/", "user_id=3", **as_text, **auth)
    api.post(f"/api/chats/{group}/members/", {"user_id": carol.pk}, **as_json)
    api.delete(f"/api/chats/{group}/members/{carol.pk}/", **as_bob)
    api.delete(f"/api/chats/{group}/members/{alice.pk}/", **auth)
    api.delete(f"/api/chats/{group}/members/{carol.pk}/", **auth)
    api.delete(f"/api/chats/{group}/members/{carol.pk}/", **auth)
    api.delete(f"/api/chats/{group}/members/{bob.pk}/")

    # Messages
    sent = api.post("/api/messages/", {"chat": direct, "text": "Hi", "client_id": str(uuid.uuid4())}, **as_json, **auth)
    message = sent.json()["id"]
    api.post("/api/messages/", {"chat": str(direct), "text": "Hi again", "client_id": None}, **as_json, **auth)
    client_id = str(uuid.uuid4())
    api.post("/api/messages/", {"chat": direct, "text": "Once", "client_id": client_id}, **as_json, **auth)
    api.post("/api/messages/", {"chat": direct, "text": "Once", "client_id": client_id}, **as_json, **auth)
    api.post("/api/messages/", {"chat": direct, "image": tiny_png()}, **auth)
    api.post("/api/messages/", {"chat": direct, "text": ""}, **as_json, **auth)
    api.post("/api/messages/", {"chat": direct, "text": "Hi"}, **as_json, **as_carol)
    api.post("/api/messages/", "text=Hi", **as_text, **auth)
    api.post("/api/messages/", {"chat": direct, "text": "Hi"}, **as_json)
    settings.SEND_RATE_BURST, settings.SEND_RATE_PER_MINUTE = 1, 1
    for text in ("Quick", "Too quick"):
        api.post("/api/messages/", {"chat": direct, "text": text}, **as_json, **as_bob)
    api.get("/api/search/", {"q": "Hi", "limit": 1}, **auth)
    api.get("/api/search/", {"q": ""}, **auth)
    api.get("/api/search/", {"q": "Hi", "chat": direct}, **as_carol)
    api.get("/api/search/", {"q": "Hi"})
    api.get(f"/api/chats/{direct}/get_messages/", {"limit": 1}, **auth)
    api.get(f"/api/chats/{direct}/get_messages/", {"after": message}, **auth)
    api.get(f"/api/chats/{group}/get_messages/", **auth)
    api.get(f"/api/chats/{direct}/get_messages/", {"limit": "many"}, **auth)
    api.get(f"/api/chats/{direct}/get_messages/", **as_carol)
    api.get(f"/api/chats/{direct}/get_messages/")
    api.get(f"/api/messages/{message}/", **as_bob)
    api.get(f"/api/messages/{message}/", **as_carol)
    api.get(f"/api/messages/{message}/")
    api.patch(f"/api/messages/{message}/", {"text": "Hello"}, **as_json, **auth)
    api.patch(f"/api/messages/{message}/", {"chat": group}, **as_json, **auth)
    api.patch(f"/api/messages/{message}/", {"text": "Mine"}, **as_json, **as_bob)
    api.patch(f"/api/messages/{message}/", {"text": "Mine"}, **as_json, **as_carol)
    api.patch(f"/api/messages/{message}/", "text=x", **as_text, **auth)
    api.patch(f"/api/messages/{message}/", {"text": "x"}, **as_json)

    # Reactions
    reactions = f"/api/messages/{message}/reactions/"
    api.post(reactions, {"emoji": "👍"}, **as_json, **as_bob)
    api.post(reactions, {"emoji": " 👍 "}, **as_json, **as_bob)
    api.post(reactions, {"emoji": "ab"}, **as_json, **as_bob)
    api.post(reactions, {"emoji": "👍"}, **as_json, **as_carol)
    api.post(reactions, "emoji=x", **as_text, **as_bob)
    api.post(reactions, {"emoji": "👍"}, **as_json)
    api.get(f"/api/chats/{direct}/get_messages/", **as_bob)
    api.delete(reactions, {"emoji": "👍"}, **as_json, **as_bob)
    api.delete(f"{reactions}?emoji=ab", **as_bob)
    api.delete(reactions, "emoji", **as_text, **as_bob)
    api.delete(reactions, {"emoji": "👍"}, **as_json, **as_carol)
    api.delete(reactions, {"emoji": "👍"}, **as_json)
    settings.REACTION_RATE_BURST, settings.REACTION_RATE_PER_MINUTE = 1, 1
    for emoji in ("🎉", "😮"):
        api.post(reactions, {"emoji": emoji}, **as_json, **auth)
    api.delete(reactions, {"emoji": "🎉"}, **as_json, **auth)

    # Reading
    api.post(f"/api/chats/{direct}/read/", data=b"", **as_json, **as_bob)
    api.post(f"/api/chats/{direct}/read/", {"up_to": message}, **as_json, **as_bob)
    api.post(f"/api/chats/{direct}/read/", {"up_to": "last"}, **as_json, **as_bob)
    api.post(f"/api/chats/{direct}/read/", "up_to=1", **as_text, **as_bob)
    api.post(f"/api/chats/{direct}/read/", {}, **as_json, **as_carol)
    api.post(f"/api/chats/{direct}/read/", {}, **as_json)

    # Link previews (conversations/tests/test_link_previews.py fetches real ones)
    link_preview = f"/api/messages/{message}/link_preview/"
    api.delete(link_preview, **auth)
    api.delete(link_preview, **as_bob)
    api.delete(link_preview, **as_carol)
    api.delete(link_preview)

    # Deleting and leaving
    api.delete(f"/api/messages/{message}/", **as_bob)
    api.delete(f"/api/messages/{message}/", **as_carol)
    api.delete(f"/api/messages/{message}/")
    api.delete(f"/api/messages/{message}/", **auth)
    api.delete(link_preview, **auth)
    api.post(f"/api/chats/{direct}/leave/", **auth)
    api.post(f"/api/chats/{group}/leave/", **as_carol)
    api.post(f"/api/chats/{group}/leave/")
    api.post(f"/api/chats/{group}/leave/", **as_bob)

    # Too large
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    padding = "x" * 200
    for method, path in [
        (api.post, "/api/chats/"),
        (api.post, "/api/chats/get_or_create/"),
        (api.patch, f"/api/chats/{group}/"),
        (api.post, f"/api/chats/{group}/members/"),
        (api.post, f"/api/chats/{group}/read/"),
        (api.post, "/api/messages/"),
        (api.patch, f"/api/messages/{message}/"),
        (api.post, f"/api/messages/{message}/reactions/"),
    ]:
        method(path, {"padding": padding}, **as_json, **auth)

    assert documented_answers({"Chats", "Messages"}) - api.seen == set()


def test_every_operation_is_in_a_toured_tag():
    operations = {
        (template, method)
        for template, item in DOCUMENT["paths"].items()
        for method, operation in item.items()
        if method != "parameters"
        for tag in operation["tags"]
        if tag not in {"People", "Meta", "Chats", "Messages", "Push"}
    }
    assert operations == set()


def test_an_unexpected_error_is_a_documented_json_500(alice, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("accounts.api.user_to_dict", broken)
    _, key = ApiToken.objects.issue(alice)
    api = SchemaCheckingClient(raise_request_exception=False)

    response = api.get("/api/users/me/", HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 500
    assert response.json() == {"detail": "Server error."}


def test_the_html_500_page_is_unchanged_outside_the_api(rf):
    from flowchat.api import server_error

    response = server_error(rf.get("/people/alice/"))

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_an_api_500_outside_any_endpoint_is_still_json(rf):
    from flowchat.api import page_not_found, server_error

    response = server_error(rf.get("/api/users/me/"))
    not_found = page_not_found(rf.get("/api/users/me/"), None)

    assert (response.status_code, json.loads(response.content)) == (500, {"detail": "Server error."})
    assert (not_found.status_code, json.loads(not_found.content)) == (404, {"detail": "Not found."})
