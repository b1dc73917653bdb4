"""What fuzzing the API with schemathesis against its own OpenAPI document found, kept found.

Each finding has tests that failed before its fix (the ones beside them check that what
already worked still does):
- daphne's HTTP layer (Twisted) answered a malformed multipart POST with a bare 400 of its
  own (no JSON, no Content-Type) before FlowChat saw it;
- a path under /api/ with a newline (%0A) missed the catch-all JSON 404 and got Django's
  HTML 404 page with DEBUG on;
- with DEBUG off, a request Django refused before any view (a Host not in ALLOWED_HOSTS)
  got Django's HTML 400 page under /api/ too (found by hand while tracing the above);
- the document called requests valid that the endpoints refuse with 400: "0" as an id,
  an empty username or password at login, a short password at registration, an empty
  message text, an offset past the directory's limit.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from jsonschema import Draft202012Validator

from accounts.api import MAX_OFFSET
from conftest import PASSWORD
from flowchat.testing import DOCUMENT, DOCUMENT_URI, REGISTRY, auth, picture

JSON = "application/json"
MULTIPART = "multipart/form-data"


# Rate limits counted by earlier tests must not refuse this one's logins and sign-ups.
pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


def documented_as_valid(path: str, method: str, content_type: str, body: dict[str, Any]) -> bool:
    """Whether the OpenAPI document calls `body` a valid request body for `method path`."""
    pointer = "/paths/" + path.replace("~", "~0").replace("/", "~1")
    pointer += f"/{method}/requestBody/content/{content_type.replace('/', '~1')}/schema"
    validator = Draft202012Validator(
        {"$ref": f"{DOCUMENT_URI}#{pointer}"},
        registry=REGISTRY,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    return validator.is_valid(body)


# daphne (Twisted) and multipart bodies ----------------------------------------------------


class FakeDaphneServer:
    """Just enough of daphne.server.Server for one HTTP request: it records what reaches the app."""

    proxy_forwarded_address_header = None
    root_path = ""
    request_buffer_size = 65536

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []

    def protocol_connected(self, protocol: Any) -> None:
        pass

    def protocol_disconnected(self, protocol: Any) -> None:
        pass

    def create_application(self, protocol: Any, scope: dict[str, Any]) -> Any:
        self.scopes.append(scope)
        return SimpleNamespace(put_nowait=self.messages.append)


def serve_one_request(raw: bytes) -> tuple[FakeDaphneServer, bytes]:
    """Feed one raw HTTP request to daphne's HTTP protocol as `daphne flowchat.asgi:application` builds it."""
    from daphne.http_protocol import HTTPFactory
    from twisted.internet.testing import StringTransport

    import flowchat.asgi  # noqa: F401  (what daphne imports before it serves)

    server = FakeDaphneServer()
    protocol = HTTPFactory(server).buildProtocol(("127.0.0.1", 0))
    transport = StringTransport()
    protocol.makeConnection(transport)
    protocol.dataReceived(raw)
    return server, transport.value()


def multipart_post(body: bytes) -> bytes:
    return (
        b"POST /api/messages/ HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Type: multipart/form-data; boundary=b0undary\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )


@pytest.mark.parametrize("body", [b"--b0undary--\r\n", b"not multipart at all"], ids=["no-parts", "garbage"])
def test_daphne_hands_a_malformed_multipart_post_to_django(body):
    server, answered = serve_one_request(multipart_post(body))

    assert not answered.startswith(b"HTTP/1.1 400"), answered
    assert [scope["path"] for scope in server.scopes] == ["/api/messages/"]
    assert b"".join(message["body"] for message in server.messages) == body


def test_daphne_still_hands_a_good_multipart_post_over_intact():
    body = b'--b0undary\r\nContent-Disposition: form-data; name="chat"\r\n\r\n1\r\n--b0undary--\r\n'

    server, answered = serve_one_request(multipart_post(body))

    assert answered == b""
    assert b"".join(message["body"] for message in server.messages) == body


def test_a_malformed_multipart_post_gets_flowchats_json_answer(api, alice):
    response = api.post("/api/messages/", b"--b0undary--\r\n", content_type=f"{MULTIPART}; boundary=b0undary")

    assert response.status_code == 401
    assert response["Content-Type"] == JSON

    response = api.post(
        "/api/messages/", b"--b0undary--\r\n", content_type=f"{MULTIPART}; boundary=b0undary", **auth(alice)
    )

    assert response.status_code == 400
    assert response.json()["errors"]["chat"] == ["This field is required."]


# Paths with a newline ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/messages/%0Aez/", "/api/%0A", "/api/users/me/%0A", "/api/chats/1/%0A/"])
def test_an_api_path_with_a_newline_is_a_json_404_even_with_debug_on(api, alice, settings, path):
    settings.DEBUG = True

    response = api.get(path, **auth(alice))

    assert response.status_code == 404
    assert response.json() == {"detail": "No API endpoint here."}


# A request Django refuses before any view ---------------------------------------------------


def test_an_api_request_for_an_unknown_host_is_a_json_400_with_debug_off(alice, settings):
    """Found while tracing the findings above, not by the fuzzer (it never varies Host)."""
    settings.DEBUG = False
    # Not a SchemaCheckingClient: any path answers this 400, as the document's description says.
    strange_host = Client(HTTP_HOST="chat.example.org")

    response = strange_host.get("/api/users/me/", **auth(alice))

    assert response.status_code == 400
    assert response["Content-Type"] == JSON
    assert response.json() == {"detail": "The request could not be read."}


def test_a_page_for_an_unknown_host_keeps_djangos_400_page(client, settings):
    settings.DEBUG = False

    response = client.get("/", HTTP_HOST="chat.example.org")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


# The document's request bodies agree with the endpoints -----------------------------------


@pytest.mark.parametrize("user_id", ["0", "000", 0])
def test_zero_is_no_id_for_the_document_either(api, alice, bob, user_id):
    body = {"user_id": user_id}

    response = api.post("/api/chats/get_or_create/", body, content_type=JSON, **auth(alice))

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["user_id"]
    assert not documented_as_valid("/api/chats/get_or_create/", "post", JSON, body)


def test_an_id_with_leading_zeros_is_valid_for_both(api, alice, bob):
    body = {"user_id": f"00{bob.pk}"}

    response = api.post("/api/chats/get_or_create/", body, content_type=JSON, **auth(alice))

    assert response.status_code == 201
    assert documented_as_valid("/api/chats/get_or_create/", "post", JSON, body)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/chats/", {"title": "Climbing", "members": ["0"]}),
        ("/api/chats/{pk}/members/", {"user_id": "0"}),
        ("/api/chats/{pk}/read/", {"up_to": "0"}),
        ("/api/messages/", {"chat": "0", "text": "Hi"}),
    ],
)
def test_every_id_field_refuses_zero_in_the_document_too(api, alice, group, path, body):
    response = api.post(path.format(pk=group.pk), body, content_type=JSON, **auth(alice))

    assert response.status_code == 400
    assert not documented_as_valid(path, "post", JSON, body)


def test_a_picture_message_to_chat_zero_is_invalid_for_both(api, alice, chat):
    fields = {"chat": "0", "image": picture()}

    response = api.post("/api/messages/", fields, **auth(alice))

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["chat"]
    documented = {"chat": "0", "image": "picture bytes"}
    assert not documented_as_valid("/api/messages/", "post", MULTIPART, documented)
    assert documented_as_valid("/api/messages/", "post", MULTIPART, {**documented, "chat": str(chat.pk)})
    sent = api.post("/api/messages/", {"chat": str(chat.pk), "image": picture()}, **auth(alice))
    assert sent.status_code == 201


@pytest.mark.parametrize("body", [{"username": "", "password": PASSWORD}, {"username": "alice", "password": ""}])
def test_empty_credentials_are_invalid_for_both(api, alice, body):
    response = api.post("/api/login/", body, content_type=JSON)

    assert response.status_code == 400
    assert not documented_as_valid("/api/login/", "post", JSON, body)


def test_a_password_under_8_characters_is_invalid_for_both(api, db):
    short = {"username": "dave", "password": "Xq7#kP2"}

    response = api.post("/api/users/", short, content_type=JSON)

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["password"]
    assert not documented_as_valid("/api/users/", "post", JSON, short)
    long_enough = {**short, "password": short["password"] + "z"}
    assert documented_as_valid("/api/users/", "post", JSON, long_enough)
    assert api.post("/api/users/", long_enough, content_type=JSON).status_code == 201


def test_an_empty_message_text_is_invalid_for_both(api, alice, chat):
    body = {"chat": chat.pk, "text": "", "client_id": str(uuid.uuid4())}

    response = api.post("/api/messages/", body, content_type=JSON, **auth(alice))

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["text"]
    assert not documented_as_valid("/api/messages/", "post", JSON, body)
    assert documented_as_valid("/api/messages/", "post", JSON, {**body, "text": "Hi"})


@pytest.mark.parametrize(("offset", "status"), [(MAX_OFFSET, 200), (MAX_OFFSET + 1, 400)])
def test_the_directory_offset_limit_is_documented(api, alice, offset, status):
    response = api.get("/api/users/all/", {"offset": offset}, **auth(alice))

    assert response.status_code == status
    (parameter,) = [p for p in DOCUMENT["components"]["parameters"].values() if p["name"] == "offset"]
    assert Draft202012Validator(parameter["schema"]).is_valid(offset) == (status == 200)
