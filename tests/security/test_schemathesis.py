"""schemathesis against the OpenAPI document the server serves at /api/schema/, in every test run.

For each operation, a bounded number of requests the document calls valid (and, separately,
requests it calls invalid), made deterministically (a fixed seed, `derandomize`), sent
through Django's WSGI application as alice with a token. No answer may be a 5xx, every
answer must match the document (status, content type, headers, body), valid requests must
be accepted and invalid ones refused.

The path ids are alice's real things (her group with bob, her message, bob's id), so the
requests reach the code behind the access rule and not only its 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, seed, settings
from schemathesis import Case, GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from accounts.models import User
from conftest import make_person
from conversations import actions
from flowchat.testing import token_for

EXAMPLES = 25
# What every real server sets (werkzeug's test client, which schemathesis drives, does not).
ENVIRON = {"REMOTE_ADDR": "127.0.0.1"}
APPLICATION = get_wsgi_application()
SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", APPLICATION)
OPERATIONS = {f"{op.method.upper()} {op.path}": op for op in (result.ok() for result in SCHEMA.get_all_operations())}


# A valid request can still be refused for what it names, which no schema can know: the
# fields each operation may blame in such a 400. Any other 400 for a valid request fails.
# The multipart fields that are files (the document's UPLOAD).
UPLOADS = {"avatar", "photo", "image", "files"}
REFUSED_FOR_WHAT_IT_NAMES = {
    # The name is taken; the password is too common or too like the name.
    "POST /api/users/": {"username", "password"},
    # The bytes are not a picture; the id, username or avatar URL is not this user's.
    "PATCH /api/users/{pk}/": {"avatar", "id", "username"},
    "PUT /api/users/{pk}/": {"avatar", "id", "username"},
    "PATCH /api/chats/{pk}/": {"photo"},
    # The bytes are not a picture; the message replied to is not in the chat (or not at all).
    "POST /api/messages/": {"image", "reply_to"},
    # Nobody has that id; it is oneself; they are a member already.
    "POST /api/chats/": {"members"},
    "POST /api/chats/get_or_create/": {"user_id"},
    "POST /api/chats/{pk}/members/": {"user_id"},
    # Not one emoji (a schema cannot say what a single grapheme is: conversations/emoji.py).
    "POST /api/messages/{pk}/reactions/": {"emoji"},
    "DELETE /api/messages/{pk}/reactions/": {"emoji"},
    # Where the endpoint's host resolves to (public addresses only: accounts/push_endpoints.py).
    "POST /api/push/subscriptions/": {"endpoint"},
}


@pytest.fixture
def _one_connection() -> Iterator[None]:
    """Keep the test's database connection across requests, as Django's test client does.

    The WSGI handler closes it at the end of each request, which would end the test's
    transaction (and its data) after the first one.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def ids(db, fresh_rate_limits, _one_connection) -> dict[str, int]:
    """alice's group with bob and her message in it: what the path parameters name."""
    alice, bob = make_person("alice", "Alice", "Archer"), make_person("bob", "Bob", "Baker")
    group = actions.create_group(alice, "Climbing", [bob])
    message, _ = actions.send_message(group, alice, "Rope at nine?")
    return {"alice": alice.pk, "group": group.pk, "message": message.pk, "bob": bob.pk}


def path_parameters(path: str, ids: dict[str, int]) -> dict[str, int]:
    if path.startswith("/api/users/"):
        return {"pk": ids["alice"]}
    if path.startswith("/api/chats/"):
        return {"pk": ids["group"], "user_id": ids["bob"]}
    if path.startswith("/api/messages/"):
        return {"pk": ids["message"]}
    return {}


def whole(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [whole(item) for item in value]
    if isinstance(value, dict):
        return {key: whole(item) for key, item in value.items()}
    return value


def what_the_words_say(case: Case) -> None:
    """Make a valid case valid by what the document says in words, where JSON Schema cannot say it.

    - An id is a number written as a whole number: JSON Schema calls 5.0 an integer, the
      document's description (and the API) does not, so 5.0 is sent as 5.
    - get_messages takes `before` or `after`, not both (its description says so).
    - An upload has at least one byte (UPLOAD's minLength, which schemathesis does not apply to
      binary strings; the WSGI transport then sends an empty file part framed so that no part
      can be read from the body).
    - An empty text part is sent as one space, which the forms strip back to the same empty
      value: werkzeug frames an empty part in RFC 2046's short form (no blank line before the
      next boundary), which no browser sends and Django's parser reads as no part at all.
    """
    if isinstance(case.body, dict | list):
        case.body = whole(case.body)
    if isinstance(case.body, dict) and getattr(case, "media_type", "") == "multipart/form-data":
        case.body = {
            key: [b"\x00" if item in ("", b"") else item for item in value]
            if isinstance(value, list) and key in UPLOADS
            else (b"\x00" if key in UPLOADS else " ")
            if value in ("", b"")
            else value
            for key, value in case.body.items()
        }
    if case.query and "before" in case.query and "after" in case.query:
        del case.query["after"]


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda mode: mode.value)
@pytest.mark.parametrize("label", OPERATIONS)
def test_the_api_answers_as_its_document_says(ids, label, mode):
    operation = OPERATIONS[label]
    parameters = {
        name: value
        for name, value in path_parameters(operation.path, ids).items()
        if "{" + name + "}" in operation.path
    }
    alice = User.objects.get(pk=ids["alice"])

    @seed(8)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=parameters))
    def check(case):
        if mode is GenerationMode.POSITIVE:
            what_the_words_say(case)
        # A fresh token each time: POST /api/logout/ ends the one it is sent with.
        headers = {"Authorization": f"Token {token_for(alice)}"}
        excluded = [negative_data_rejection] if mode is GenerationMode.NEGATIVE else [positive_data_acceptance]
        response = case.call_and_validate(headers=headers, excluded_checks=excluded, environ_base=ENVIRON)
        if mode is GenerationMode.POSITIVE and response.status_code == 400:
            blamed = set(response.json().get("errors", {}))
            allowed = REFUSED_FOR_WHAT_IT_NAMES.get(label, set())
            assert blamed and blamed <= allowed, (
                f"{label} refused a valid request: {response.text}\n{case.as_curl_command()}"
            )
        # Each sign-up starts with its name free: that a name is taken is no fault of the request.
        User.objects.exclude(pk__in=[ids["alice"], ids["bob"]]).delete()

    check()


def test_an_empty_text_part_reaches_the_form_as_empty(ids):
    """The case CI once drew: werkzeug's short-form empty part would be refused as unreadable."""
    alice = User.objects.get(pk=ids["alice"])
    case = OPERATIONS["PATCH /api/users/{pk}/"].Case(
        path_parameters={"pk": ids["alice"]}, body={"first_name": ""}, media_type="multipart/form-data"
    )
    what_the_words_say(case)
    response = case.call(headers={"Authorization": f"Token {token_for(alice)}"}, environ_base=ENVIRON)
    assert response.status_code == 200, response.text
    assert response.json()["first_name"] == ""
