"""The chats and messages part of the JSON API (DESIGN.md section 4, and its group extensions).

Every answer goes through SchemaCheckingClient, so it must match the OpenAPI document
too. alice is the one calling and bob her partner; carol is the outsider, who gets
404 from everything of theirs. Data is made with the actions, as the product makes it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import User
from conftest import make_person
from conversations import actions
from conversations.models import MESSAGE_MAX_LENGTH, TITLE_MAX_LENGTH, Chat, Membership, Message
from conversations.receipts import ReadPositions
from flowchat import openapi
from flowchat.images import PICTURE, THUMBNAIL, clean_images
from flowchat.testing import SchemaCheckingClient, auth, multipart, picture, upload

JSON = "application/json"
INVALID = "Some fields are not valid."
INVALID_QUERY = "Some query parameters are not valid."
NOT_AN_ID = "Must be an id: a positive whole number, or a string of its digits."
NOT_FOUND = {"detail": "Not found."}


# Rate limits counted by earlier tests must not refuse this one's logins and sign-ups.
pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


@pytest.fixture
def as_alice(alice) -> dict[str, str]:
    return auth(alice)


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def send(chat: Chat, author: User, text: str = "hello", **kwargs: Any) -> Message:
    return actions.send_message(chat, author, text, **kwargs)[0]


def send_picture(chat: Chat, author: User, text: str = "") -> Message:
    upload = SimpleUploadedFile("cat.png", picture().getvalue(), content_type="image/png")
    return send(chat, author, text, picture=tuple(clean_images(upload, [PICTURE, THUMBNAIL])))


def summary(user: User) -> dict[str, Any]:
    return {"id": user.pk, "username": user.username, "avatar": f"/people/{user.pk}/initials.svg"}


def ids(response: Any) -> list[int]:
    return [item["id"] for item in response.json()]


def stored(folder: str) -> list[str]:
    return default_storage.listdir(folder)[1] if default_storage.exists(folder) else []


# The chat list ---------------------------------------------------------------------------


def test_the_chat_list_shows_every_contract_field_of_a_direct_chat(api, alice, bob, chat, as_alice):
    message = send(chat, bob, "How are you?")
    chat.refresh_from_db()

    response = api.get("/api/chats/", **as_alice)

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": chat.pk,
            "title": None,
            "is_group": False,
            "is_open": False,
            "members": [alice.pk, bob.pk],
            "display_name": "bob",  # the username, as the original API names a direct chat
            "display_photo": f"/people/{bob.pk}/initials.svg",
            "created_at": iso(chat.created_at),
            "display_time": iso(message.created_at),
            "last_message": "How are you?",
            "unread_count": 1,
            "notifications": "all",
        }
    ]
    assert response.json()[0]["created_at"].endswith("Z")


def test_the_other_side_sees_the_same_chat_named_after_alice(api, alice, bob, chat):
    send(chat, bob, "How are you?")

    body = api.get("/api/chats/", **auth(bob)).json()

    assert [item["id"] for item in body] == [chat.pk]
    assert body[0]["display_name"] == "alice"
    assert body[0]["display_photo"] == f"/people/{alice.pk}/initials.svg"
    assert body[0]["unread_count"] == 0


def test_a_group_in_the_list_shows_its_title_owner_first_and_its_initials(api, alice, bob, group, as_alice):
    body = api.get("/api/chats/", **as_alice).json()

    assert body == [
        {
            "id": group.pk,
            "title": "Climbing",
            "is_group": True,
            "is_open": False,
            "members": [alice.pk, bob.pk],
            "display_name": "Climbing",
            "display_photo": f"/chats/{group.pk}/initials.svg",
            "created_at": iso(group.created_at),
            "display_time": iso(group.last_message.created_at),
            "last_message": "Alice Archer added Bob Baker",
            "unread_count": 0,
            "notifications": "all",
        }
    ]


def test_a_chat_without_messages_shows_its_creation_time_and_no_last_message(api, chat, as_alice):
    body = api.get("/api/chats/", **as_alice).json()[0]

    assert body["last_message"] is None
    assert body["display_time"] == body["created_at"] == iso(chat.created_at)


def test_the_chat_list_puts_the_most_recent_activity_first(api, alice, bob, carol, chat, group, as_alice):
    with_carol = actions.get_or_create_direct_chat(alice, carol)[0]
    send(chat, bob, "latest")

    assert ids(api.get("/api/chats/", **as_alice)) == [chat.pk, with_carol.pk, group.pk]


def test_the_chat_list_leaves_out_chats_you_are_not_in(api, carol, chat, group):
    assert api.get("/api/chats/", **auth(carol)).json() == []


@pytest.mark.parametrize(
    ("make_last", "preview"),
    [
        (lambda chat, bob: send_picture(chat, bob), "Photo"),
        (lambda chat, bob: send_picture(chat, bob, "Look"), "Look"),
        (lambda chat, bob: actions.delete_message(send(chat, bob), bob), "Message deleted"),
        (lambda chat, bob: send(chat, bob, "x" * 300), "x" * 200),
    ],
    ids=["photo", "photo-with-text", "deleted", "long"],
)
def test_the_last_message_is_previewed_like_the_sidebar(api, bob, chat, as_alice, make_last, preview):
    make_last(chat, bob)

    assert api.get("/api/chats/", **as_alice).json()[0]["last_message"] == preview


def test_unread_counts_follow_the_read_position(api, alice, bob, chat, as_alice):
    send(chat, alice, "mine never count")
    first = send(chat, bob, "one")
    send(chat, bob, "two")

    assert api.get("/api/chats/", **as_alice).json()[0]["unread_count"] == 2
    actions.mark_read(chat, alice, first.pk)
    assert api.get("/api/chats/", **as_alice).json()[0]["unread_count"] == 1


@pytest.mark.parametrize("chats", [1, 30])
def test_the_chat_list_takes_the_same_queries_for_1_and_30_chats(api, alice, bob, chats, django_assert_num_queries):
    for number in range(chats):
        if number % 2:
            chat = actions.create_group(alice, f"Group {number}", [bob, make_person(f"member{number}")])
        else:
            chat = actions.get_or_create_direct_chat(alice, make_person(f"person{number}"))[0]
        send(chat, bob if chat.is_group else alice, f"message {number}")
    headers = auth(alice)
    api.get("/api/users/me/", **headers)  # records the token's first use

    with django_assert_num_queries(3):  # the token, the chats, their members
        response = api.get("/api/chats/", **headers)

    assert len(response.json()) == chats


# One chat ------------------------------------------------------------------------------


def test_a_member_gets_one_chat_exactly_as_the_list_shows_it(api, bob, chat, group, as_alice):
    send(chat, bob)

    listed = {item["id"]: item for item in api.get("/api/chats/", **as_alice).json()}
    for one in (chat, group):
        response = api.get(f"/api/chats/{one.pk}/", **as_alice)
        assert response.status_code == 200
        assert response.json() == listed[one.pk]


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999999"])
def test_an_unknown_chat_is_a_json_404(api, chat, as_alice, pk):
    response = api.get(f"/api/chats/{pk}/", **as_alice)

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_one_chat_takes_three_queries(api, alice, group, django_assert_num_queries):
    headers = auth(alice)
    api.get("/api/users/me/", **headers)

    with django_assert_num_queries(3):  # the token, the chat, its members
        api.get(f"/api/chats/{group.pk}/", **headers)


# The direct chat with someone ------------------------------------------------------------


def test_get_or_create_makes_the_direct_chat_once_and_both_sides_get_it(api, alice, bob):
    first = api.post("/api/chats/get_or_create/", {"user_id": bob.pk}, content_type=JSON, **auth(alice))
    again = api.post("/api/chats/get_or_create/", {"user_id": str(bob.pk)}, content_type=JSON, **auth(alice))
    other_side = api.post("/api/chats/get_or_create/", {"user_id": alice.pk}, content_type=JSON, **auth(bob))

    assert (first.status_code, again.status_code, other_side.status_code) == (201, 200, 200)
    chat = Chat.objects.get()
    assert first.json()["id"] == again.json()["id"] == other_side.json()["id"] == chat.pk
    assert first.json() == {
        "id": chat.pk,
        "title": None,
        "is_group": False,
        "is_open": False,
        "members": [alice.pk, bob.pk],
        "display_name": "bob",
        "display_photo": f"/people/{bob.pk}/initials.svg",
        "created_at": iso(chat.created_at),
        "display_time": iso(chat.created_at),
        "last_message": None,
        "unread_count": 0,
        "notifications": "all",
    }
    assert other_side.json()["display_name"] == "alice"


def test_get_or_create_returns_an_existing_chat_with_its_history(api, alice, bob, chat, as_alice):
    send(chat, bob, "Hi!")

    response = api.post("/api/chats/get_or_create/", {"user_id": bob.pk}, content_type=JSON, **as_alice)

    assert response.status_code == 200
    assert response.json()["last_message"] == "Hi!"
    assert response.json()["unread_count"] == 1


@pytest.mark.parametrize(
    ("user_id", "message"),
    [
        ("abc", NOT_AN_ID),
        (2.5, NOT_AN_ID),
        (2.0, NOT_AN_ID),
        (True, NOT_AN_ID),
        ([], NOT_AN_ID),
        ({"id": 2}, NOT_AN_ID),
        ("-1", NOT_AN_ID),
        (-1, NOT_AN_ID),
        (0, NOT_AN_ID),
        (" 2", NOT_AN_ID),
        ("2.0", NOT_AN_ID),
        ("1e3", NOT_AN_ID),
        (10**30, NOT_AN_ID),
        ("9" * 30, NOT_AN_ID),
        (None, "This field is required."),
        ("", "This field is required."),
    ],
)
def test_a_malformed_user_id_is_400(api, bob, as_alice, user_id, message):
    response = api.post("/api/chats/get_or_create/", {"user_id": user_id}, content_type=JSON, **as_alice)

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "errors": {"user_id": [message]}}
    assert not Chat.objects.exists()


def test_get_or_create_needs_a_user_id_and_nothing_else(api, bob, as_alice):
    response = api.post("/api/chats/get_or_create/", {"userId": bob.pk}, content_type=JSON, **as_alice)

    assert response.status_code == 400
    assert response.json() == {
        "detail": INVALID,
        "errors": {"userId": ["This field is not accepted here."], "user_id": ["This field is required."]},
    }


def test_nobody_can_start_a_chat_with_themselves(api, alice, as_alice):
    response = api.post("/api/chats/get_or_create/", {"user_id": alice.pk}, content_type=JSON, **as_alice)

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "errors": {"user_id": ["You cannot start a chat with yourself."]}}


def test_an_unknown_or_deactivated_person_is_404(api, bob, as_alice):
    User.objects.filter(pk=bob.pk).update(is_active=False)

    for user_id in (bob.pk, 999999, MAX_BIGINT):
        response = api.post("/api/chats/get_or_create/", {"user_id": user_id}, content_type=JSON, **as_alice)
        assert response.status_code == 404
        assert response.json() == {"detail": "No such user."}
    assert not Chat.objects.exists()


MAX_BIGINT = 2**63 - 1


def test_get_or_create_reads_only_json(api, bob, as_alice):
    response = api.post(
        "/api/chats/get_or_create/", f"user_id={bob.pk}", content_type="application/x-www-form-urlencoded", **as_alice
    )

    assert response.status_code == 415


# History -------------------------------------------------------------------------------


def test_the_history_shows_every_contract_field_oldest_first(api, alice, bob, chat, as_alice):
    first = send(chat, alice, "Привет!")
    second = send(chat, bob, "Здравствуй!")

    response = api.get(f"/api/chats/{chat.pk}/get_messages/", **as_alice)

    assert response.status_code == 200
    assert response.json() == [
        {
            "id": first.pk,
            "author": summary(alice),
            "chat": chat.pk,
            "text": "Привет!",
            "html": "<p>Привет!</p>",
            "mentions": [],
            "image": None,
            "thumbnail": None,
            "created_at": iso(first.created_at),
            "edited_at": None,
            "deleted_at": None,
            "is_read": True,  # bob's own message moved his read position past it
            "kind": "text",
            "system_text": None,
            "version": 1,
            "reactions": [],
            "reply_to": None,
            "attachments": [],
            "link_preview": None,
        },
        {
            "id": second.pk,
            "author": summary(bob),
            "chat": chat.pk,
            "text": "Здравствуй!",
            "html": "<p>Здравствуй!</p>",
            "mentions": [],
            "image": None,
            "thumbnail": None,
            "created_at": iso(second.created_at),
            "edited_at": None,
            "deleted_at": None,
            "is_read": False,
            "kind": "text",
            "system_text": None,
            "version": 1,
            "reactions": [],
            "reply_to": None,
            "attachments": [],
            "link_preview": None,
        },
    ]
    assert not response.has_header("Link")
    assert "Привет!".encode() in response.content  # not \u-escaped


def test_an_empty_chat_has_an_empty_history(api, chat, as_alice):
    assert api.get(f"/api/chats/{chat.pk}/get_messages/", **as_alice).json() == []


def test_a_picture_message_links_its_picture_and_thumbnail(api, alice, chat, as_alice):
    message = send_picture(chat, alice, "Look")

    body = api.get(f"/api/chats/{chat.pk}/get_messages/", **as_alice).json()[0]

    assert body["image"] == message.image.url
    assert body["thumbnail"] == message.thumbnail.url
    assert body["image"].startswith("/media/pictures/") and body["image"].endswith(".webp")
    assert body["thumbnail"] != body["image"]
    assert body["text"] == "Look"


def test_system_lines_say_what_happened_in_the_readers_language(api, alice, bob, group, as_alice):
    actions.rename_group(group, bob, "Bouldering")

    body = api.get(f"/api/chats/{group.pk}/get_messages/", **as_alice, HTTP_ACCEPT_LANGUAGE="en").json()

    assert [(item["kind"], item["text"], item["system_text"]) for item in body] == [
        ("created", "", "Alice Archer created the group"),
        ("added", "", "Alice Archer added Bob Baker"),
        ("renamed", "Bouldering", "Bob Baker renamed the group to “Bouldering”"),
    ]
    assert [item["author"]["id"] for item in body] == [alice.pk, alice.pk, bob.pk]


def test_a_message_whose_author_is_gone_has_no_author(api, alice, bob, carol, as_alice):
    group = actions.create_group(alice, "Climbing", [bob, carol])
    message = send(group, carol, "bye")
    carol.delete()

    body = api.get(f"/api/messages/{message.pk}/", **as_alice).json()

    assert body["author"] is None
    assert body["text"] == "bye"


@pytest.fixture
def history(alice, bob, chat) -> list[Message]:
    return [send(chat, alice if number % 2 else bob, f"message {number}") for number in range(12)]


def test_the_history_pages_back_with_before_and_limit(api, chat, history, as_alice):
    url = f"/api/chats/{chat.pk}/get_messages/"

    newest = api.get(url, {"limit": 5}, **as_alice)
    assert ids(newest) == [message.pk for message in history[7:]]
    assert newest["Link"] == f'<http://testserver{url}?limit=5&before={history[7].pk}>; rel="next"'

    older = api.get(url, {"limit": 5, "before": history[7].pk}, **as_alice)
    assert ids(older) == [message.pk for message in history[2:7]]

    oldest = api.get(url, {"limit": 5, "before": history[2].pk}, **as_alice)
    assert ids(oldest) == [message.pk for message in history[:2]]
    assert not oldest.has_header("Link")


def test_the_next_page_link_leads_to_the_rest(api, chat, history, as_alice):
    url = f"/api/chats/{chat.pk}/get_messages/?limit=4"
    seen: list[int] = []
    while url:
        response = api.get(url.removeprefix("http://testserver"), **as_alice)
        seen = ids(response) + seen
        url = response["Link"].split(">")[0].removeprefix("<") if response.has_header("Link") else ""

    assert seen == [message.pk for message in history]


def test_before_the_first_message_there_is_nothing(api, chat, history, as_alice):
    response = api.get(f"/api/chats/{chat.pk}/get_messages/", {"before": history[0].pk}, **as_alice)

    assert response.json() == []
    assert not response.has_header("Link")


def test_before_beyond_the_newest_gives_the_newest(api, chat, history, as_alice):
    response = api.get(f"/api/chats/{chat.pk}/get_messages/", {"before": 10**11, "limit": 2}, **as_alice)

    assert ids(response) == [history[-2].pk, history[-1].pk]


def test_after_catches_up_oldest_first(api, chat, history, as_alice):
    url = f"/api/chats/{chat.pk}/get_messages/"

    first = api.get(url, {"after": history[3].pk, "limit": 5}, **as_alice)
    assert ids(first) == [message.pk for message in history[4:9]]
    assert first["Link"] == f'<http://testserver{url}?limit=5&after={history[8].pk}>; rel="next"'

    rest = api.get(url, {"after": history[8].pk, "limit": 5}, **as_alice)
    assert ids(rest) == [message.pk for message in history[9:]]
    assert not rest.has_header("Link")

    assert api.get(url, {"after": history[-1].pk}, **as_alice).json() == []
    assert ids(api.get(url, {"after": 0}, **as_alice)) == [message.pk for message in history]


def test_the_history_defaults_to_the_newest_50(api, alice, chat, as_alice):
    messages = [send(chat, alice, str(number)) for number in range(55)]

    response = api.get(f"/api/chats/{chat.pk}/get_messages/", **as_alice)

    assert ids(response) == [message.pk for message in messages[5:]]
    assert f"before={messages[5].pk}" in response["Link"]


def test_paging_never_crosses_into_another_chat(api, alice, bob, chat, group, as_alice):
    mine = send(chat, alice, "direct")
    send(group, alice, "group")

    response = api.get(f"/api/chats/{chat.pk}/get_messages/", {"after": 0}, **as_alice)

    assert ids(response) == [mine.pk]


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"limit": "0"}, "limit", "Must be a whole number from 1 to 200."),
        ({"limit": "201"}, "limit", "Must be a whole number from 1 to 200."),
        ({"limit": "ten"}, "limit", "Must be a whole number from 1 to 200."),
        ({"limit": "-5"}, "limit", "Must be a whole number from 1 to 200."),
        ({"before": "abc"}, "before", "Must be a whole number from 0 to 999999999999."),
        ({"before": "-1"}, "before", "Must be a whole number from 0 to 999999999999."),
        ({"before": "1.5"}, "before", "Must be a whole number from 0 to 999999999999."),
        ({"before": "9" * 30}, "before", "Must be a whole number from 0 to 999999999999."),
        ({"after": "x"}, "after", "Must be a whole number from 0 to 999999999999."),
        ({"after": "1", "before": "5"}, "after", "Send before or after, not both."),
    ],
)
def test_bad_paging_is_400(api, chat, history, as_alice, params, field, message):
    response = api.get(f"/api/chats/{chat.pk}/get_messages/", params, **as_alice)

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID_QUERY, "errors": {field: [message]}}


@pytest.mark.parametrize("messages", [1, 60])
def test_the_history_takes_the_same_queries_for_few_and_many(
    api, alice, bob, carol, messages, django_assert_num_queries
):
    group = actions.create_group(alice, "Climbing", [bob, carol, make_person("dave")])
    for number in range(messages):
        send(group, (alice, bob, carol)[number % 3], f"message {number}")
    actions.rename_group(group, bob, "Bouldering")
    headers = auth(alice)
    api.get("/api/users/me/", **headers)

    with django_assert_num_queries(5):  # the token, the chat, the messages with their people, reactions, read positions
        response = api.get(f"/api/chats/{group.pk}/get_messages/", {"limit": 200}, **headers)

    assert len(response.json()) == messages + 5  # with "created", three "added" and "renamed"


def test_page_100_takes_the_queries_of_page_1(api, alice, chat, django_assert_num_queries):
    Message.objects.bulk_create(Message(chat=chat, author=alice, text=str(n)) for n in range(500))
    oldest = Message.objects.order_by("id")[10].pk
    headers = auth(alice)
    api.get("/api/users/me/", **headers)

    with django_assert_num_queries(5):
        response = api.get(f"/api/chats/{chat.pk}/get_messages/", {"before": oldest, "limit": 5}, **headers)

    assert len(response.json()) == 5


# Read markers and is_read --------------------------------------------------------------


def is_read(api: SchemaCheckingClient, message: Message, headers: dict[str, str]) -> bool:
    return api.get(f"/api/messages/{message.pk}/", **headers).json()["is_read"]


def test_is_read_flips_when_the_other_member_reads(api, alice, bob, chat, as_alice):
    message = send(chat, alice, "Did you see this?")
    as_bob = auth(bob)
    assert is_read(api, message, as_alice) is False
    assert is_read(api, message, as_bob) is False

    response = api.post(f"/api/chats/{chat.pk}/read/", **as_bob, data=b"", content_type=JSON)

    assert response.json() == {"last_read_message_id": message.pk}
    assert is_read(api, message, as_alice) is True
    assert is_read(api, message, as_bob) is True


def test_in_a_group_a_message_is_read_when_every_other_member_has_read_it(api, alice, bob, carol, as_alice):
    dave = make_person("dave")
    group = actions.create_group(alice, "Climbing", [bob, dave])
    earlier = send(group, bob, "earlier")
    message = send(group, alice, "everyone?")

    actions.mark_read(group, bob)
    assert is_read(api, message, as_alice) is False
    assert is_read(api, earlier, as_alice) is False  # dave has not read bob's message either

    actions.mark_read(group, dave)
    assert is_read(api, message, as_alice) is True
    assert is_read(api, earlier, as_alice) is True


def test_a_message_is_read_by_everyone_once_its_author_has_left(api, alice, bob, carol, as_alice):
    group = actions.create_group(alice, "Climbing", [bob, carol])
    message = send(group, carol, "bye")
    actions.mark_read(group, alice)
    actions.mark_read(group, bob)
    actions.leave_chat(group, carol)

    assert is_read(api, message, as_alice) is True


def test_a_message_nobody_else_can_read_is_not_read(alice):
    group = actions.create_group(alice, "Notes to self")
    message = send(group, alice, "milk")

    assert ReadPositions.of(group.pk).is_read(message) is False


def test_marking_read_moves_the_position_up_to_a_message_and_never_back(api, alice, bob, chat, as_alice):
    first, second, third = (send(chat, bob, str(number)) for number in range(3))
    url = f"/api/chats/{chat.pk}/read/"

    assert api.post(url, {"up_to": second.pk}, content_type=JSON, **as_alice).json() == {
        "last_read_message_id": second.pk
    }
    assert api.get(f"/api/chats/{chat.pk}/", **as_alice).json()["unread_count"] == 1
    assert api.post(url, {"up_to": str(first.pk)}, content_type=JSON, **as_alice).json() == {
        "last_read_message_id": second.pk
    }
    assert api.post(url, {"up_to": None}, content_type=JSON, **as_alice).json() == {"last_read_message_id": third.pk}
    assert api.get(f"/api/chats/{chat.pk}/", **as_alice).json()["unread_count"] == 0


def test_marking_an_empty_chat_read_leaves_no_position(api, chat, as_alice):
    response = api.post(f"/api/chats/{chat.pk}/read/", {}, content_type=JSON, **as_alice)

    assert response.status_code == 200
    assert response.json() == {"last_read_message_id": None}


def test_up_to_beyond_the_chat_reads_only_this_chats_messages(api, alice, bob, chat, group, as_alice):
    mine = send(chat, bob, "direct")
    send(group, bob, "group")

    response = api.post(f"/api/chats/{chat.pk}/read/", {"up_to": 10**12}, content_type=JSON, **as_alice)

    assert response.json() == {"last_read_message_id": mine.pk}


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"up_to": "abc"}, {"up_to": [NOT_AN_ID]}),
        ({"up_to": True}, {"up_to": [NOT_AN_ID]}),
        ({"up_to": 1.5}, {"up_to": [NOT_AN_ID]}),
        ({"up_to": 1, "all": True}, {"all": ["This field is not accepted here."]}),
    ],
)
def test_a_bad_read_marker_is_400(api, chat, as_alice, body, errors):
    response = api.post(f"/api/chats/{chat.pk}/read/", body, content_type=JSON, **as_alice)

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "errors": errors}


def test_a_read_marker_body_must_be_a_json_object(api, chat, as_alice):
    url = f"/api/chats/{chat.pk}/read/"

    assert api.post(url, data=b"[1]", content_type=JSON, **as_alice).json() == {
        "detail": "The body must be a JSON object."
    }
    assert api.post(url, data=b"{", content_type=JSON, **as_alice).json() == {"detail": "The body is not valid JSON."}
    assert api.post(url, data=b"up_to=1", content_type="text/plain", **as_alice).status_code == 415


# Sending -------------------------------------------------------------------------------


def test_sending_answers_201_with_the_message(api, alice, bob, chat, as_alice):
    response = api.post("/api/messages/", {"chat": chat.pk, "text": "  Hello, Bob!  "}, content_type=JSON, **as_alice)

    message = Message.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": message.pk,
        "author": summary(alice),
        "chat": chat.pk,
        "text": "Hello, Bob!",
        "html": "<p>Hello, Bob!</p>",
        "mentions": [],
        "image": None,
        "thumbnail": None,
        "created_at": iso(message.created_at),
        "edited_at": None,
        "deleted_at": None,
        "is_read": False,
        "kind": "text",
        "system_text": None,
        "version": 1,
        "reactions": [],
        "reply_to": None,
        "attachments": [],
        "link_preview": None,
    }
    bobs_view = api.get(f"/api/chats/{chat.pk}/", **auth(bob)).json()
    assert (bobs_view["last_message"], bobs_view["unread_count"]) == ("Hello, Bob!", 1)


def test_a_send_takes_the_same_queries_in_a_chat_of_2_and_of_30(
    api, alice, bob, chat, group, as_alice, django_assert_num_queries, django_capture_on_commit_callbacks
):
    for n in range(28):
        actions.add_member(group, alice, make_person(f"member{n}"))
    api.get("/api/chats/", **as_alice)  # the token's first use is written down once
    for target in (chat, group):
        body = {"chat": target.pk, "text": "hi", "client_id": str(uuid.uuid4())}
        # The token, the chat; the message, the author's read position, the chat's last message
        # (between the savepoint and its release: the test runs in a transaction); then the
        # broadcast's one query (the chat's version and the message before).
        with django_assert_num_queries(8), django_capture_on_commit_callbacks(execute=True):
            assert api.post("/api/messages/", body, content_type=JSON, **as_alice).status_code == 201


def test_the_chat_may_be_a_string_of_digits(api, chat, as_alice):
    response = api.post("/api/messages/", {"chat": str(chat.pk), "text": "hi"}, content_type=JSON, **as_alice)

    assert response.status_code == 201


def test_a_retried_send_with_the_same_client_id_returns_the_original(api, chat, as_alice):
    client_id = str(uuid.uuid4())
    body = {"chat": chat.pk, "text": "once", "client_id": client_id}

    first = api.post("/api/messages/", body, content_type=JSON, **as_alice)
    again = api.post("/api/messages/", {**body, "text": "twice?"}, content_type=JSON, **as_alice)

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert Message.objects.count() == 1


def test_without_a_client_id_every_send_is_a_new_message(api, chat, as_alice):
    for client_id in (None, None):
        body = {"chat": chat.pk, "text": "again", "client_id": client_id}
        assert api.post("/api/messages/", body, content_type=JSON, **as_alice).status_code == 201

    assert Message.objects.count() == 2


def test_a_client_id_cannot_be_reused_in_another_chat(api, chat, group, as_alice):
    client_id = str(uuid.uuid4())
    api.post("/api/messages/", {"chat": chat.pk, "text": "a", "client_id": client_id}, content_type=JSON, **as_alice)

    response = api.post(
        "/api/messages/", {"chat": group.pk, "text": "b", "client_id": client_id}, content_type=JSON, **as_alice
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": INVALID,
        "errors": {"client_id": ["This message id was already used in another chat."]},
    }


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"text": ""}, {"text": ["Write something or attach a file."]}),
        ({"text": " \n\t "}, {"text": ["Write something or attach a file."]}),
        ({}, {"text": ["Write something or attach a file."]}),
        (
            {"text": "x" * (MESSAGE_MAX_LENGTH + 1)},
            {"text": [f"Ensure this value has at most {MESSAGE_MAX_LENGTH} characters (it has 10001)."]},
        ),
        ({"text": "nul\x00"}, {"text": ["Null characters are not allowed."]}),
        ({"text": "hi", "client_id": "not-a-uuid"}, {"client_id": ["Enter a valid UUID."]}),
    ],
    ids=["empty", "blank", "missing", "too-long", "nul", "client-id"],
)
def test_an_unfit_message_is_400_and_nothing_is_sent(api, chat, as_alice, body, errors):
    response = api.post("/api/messages/", {"chat": chat.pk, **body}, content_type=JSON, **as_alice)

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "errors": errors}
    assert not Message.objects.exists()


def test_a_message_of_exactly_the_limit_is_sent(api, chat, as_alice):
    text = "x" * MESSAGE_MAX_LENGTH

    response = api.post("/api/messages/", {"chat": chat.pk, "text": text}, content_type=JSON, **as_alice)

    assert response.status_code == 201
    assert response.json()["text"] == text


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"text": "hi"}, {"chat": ["This field is required."]}),
        ({"chat": "one", "text": "hi"}, {"chat": [NOT_AN_ID]}),
        ({"chat": True, "text": "hi"}, {"chat": [NOT_AN_ID]}),
        ({"chat": 1, "text": 5}, {"text": ["Must be a string."]}),
        ({"chat": 1, "text": "hi", "client_id": 5}, {"client_id": ["Must be a string."]}),
        (
            {"chat": 1, "text": "hi", "author": 2, "image": "https://example.com/cat.png"},
            {"author": ["This field is not accepted here."], "image": ["Upload a picture as multipart/form-data."]},
        ),
    ],
)
def test_a_malformed_send_is_400(api, chat, as_alice, body, errors):
    response = api.post("/api/messages/", body, content_type=JSON, **as_alice)

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "errors": errors}


@pytest.mark.parametrize("chat_id", [999999, MAX_BIGINT])
def test_sending_to_an_unknown_chat_is_404(api, alice, chat_id):
    response = api.post("/api/messages/", {"chat": chat_id, "text": "hi"}, content_type=JSON, **auth(alice))

    assert response.status_code == 404


def test_a_picture_is_sent_as_multipart_and_re_encoded(api, alice, chat, as_alice):
    response = api.post(
        "/api/messages/", {"chat": str(chat.pk), "text": "Look", "image": picture("JPEG", name="c.jpg")}, **as_alice
    )

    message = Message.objects.get()
    assert response.status_code == 201
    assert response.json()["image"] == message.image.url
    assert response.json()["thumbnail"] == message.thumbnail.url
    assert response.json()["text"] == "Look"
    with default_storage.open(message.image.name) as stored_file, Image.open(stored_file) as image:
        assert (image.format, image.size) == ("WEBP", (40, 20))


def test_a_picture_may_come_without_text_and_with_a_client_id(api, chat, as_alice):
    client_id = str(uuid.uuid4())
    fields = {"chat": chat.pk, "image": picture(), "client_id": client_id}

    first = api.post("/api/messages/", fields, **as_alice)
    again = api.post("/api/messages/", {**fields, "image": picture()}, **as_alice)

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["text"] == ""
    assert Message.objects.count() == 1
    assert len(stored("pictures")) == 2  # the picture and its thumbnail, once


@pytest.mark.parametrize(
    "image",
    [upload("notes.png", b"just text"), upload("cut.png", picture().getvalue()[:-30]), upload("e.png", b"")],
    ids=["text", "truncated", "empty"],
)
def test_a_file_that_is_not_a_picture_is_refused_and_nothing_stored(api, chat, as_alice, image):
    response = api.post("/api/messages/", {"chat": chat.pk, "text": "hi", "image": image}, **as_alice)

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"image"}
    assert not Message.objects.exists()
    assert stored("pictures") == []


def test_an_oversized_picture_is_refused(api, chat, as_alice, settings):
    settings.UPLOAD_MAX_PIXELS = 100

    response = api.post("/api/messages/", {"chat": chat.pk, "image": picture(size=(20, 20))}, **as_alice)

    assert response.status_code == 400
    assert "too large" in response.json()["errors"]["image"][0]


def test_multipart_refuses_a_text_image_and_other_files(api, chat, as_alice):
    response = api.post(
        "/api/messages/",
        {"chat": chat.pk, "image": "not a file", "extra": upload("cv.pdf", b"%PDF")},
        **as_alice,
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": INVALID,
        "errors": {"image": ["Must be a file."], "extra": ["This file is not accepted here."]},
    }


def test_an_outsiders_picture_is_never_decoded(api, carol, chat, monkeypatch):
    def fail(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("decoded")

    monkeypatch.setattr("conversations.forms.clean_images", fail)

    response = api.post("/api/messages/", {"chat": chat.pk, "image": picture()}, **auth(carol))

    assert response.status_code == 404


# One message: reading, editing, deleting ------------------------------------------------


@pytest.fixture
def message(alice, chat) -> Message:
    return send(chat, alice, "Original")


def test_a_member_reads_one_message(api, alice, bob, chat, message):
    response = api.get(f"/api/messages/{message.pk}/", **auth(bob))

    assert response.status_code == 200
    assert response.json()["id"] == message.pk
    assert response.json() == api.get(f"/api/chats/{chat.pk}/get_messages/", **auth(bob)).json()[0]


def test_the_author_edits_the_text_and_the_server_sets_edited_at(api, message, as_alice):
    before = timezone.now()

    response = api.patch(f"/api/messages/{message.pk}/", {"text": "Changed"}, content_type=JSON, **as_alice)

    message.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["text"] == message.text == "Changed"
    assert response.json()["edited_at"] == iso(message.edited_at)
    assert before <= message.edited_at <= timezone.now()
    assert response.json()["created_at"] == iso(message.created_at)


def test_edited_at_cannot_be_set_by_the_client(api, message, as_alice):
    response = api.patch(
        f"/api/messages/{message.pk}/",
        {"text": "Changed", "edited_at": iso(timezone.now() - timedelta(days=1))},
        content_type=JSON,
        **as_alice,
    )

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "errors": {"edited_at": ["This field cannot be changed."]}}


def test_the_chat_of_a_message_cannot_be_changed(api, message, group, as_alice):
    response = api.patch(
        f"/api/messages/{message.pk}/", {"text": "moved?", "chat": group.pk}, content_type=JSON, **as_alice
    )

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "errors": {"chat": ["The chat of a message cannot be changed."]}}
    message.refresh_from_db()
    assert (message.chat_id, message.text) != (group.pk, "moved?")
    assert message.text == "Original"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"text": ["This field is required."]}),
        ({"text": ""}, {"text": ["A message cannot be empty. Delete it instead."]}),  # one of files may lose it
        ({"text": "   "}, {"text": ["A message cannot be empty. Delete it instead."]}),
        ({"text": None}, {"text": ["Must be a string."]}),
        (
            {"text": "x" * (MESSAGE_MAX_LENGTH + 1)},
            {"text": [f"Ensure this value has at most {MESSAGE_MAX_LENGTH} characters (it has 10001)."]},
        ),
        ({"text": "ok", "author": 3}, {"author": ["This field cannot be changed."]}),
        ({"text": "ok", "pinned": True}, {"pinned": ["This field is not accepted here."]}),
    ],
)
def test_an_unfit_edit_is_400_and_nothing_changes(api, message, as_alice, body, errors):
    response = api.patch(f"/api/messages/{message.pk}/", body, content_type=JSON, **as_alice)

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "errors": errors}
    message.refresh_from_db()
    assert (message.text, message.edited_at) == ("Original", None)


def test_another_member_cannot_edit_or_delete_a_message(api, bob, message):
    as_bob = auth(bob)

    edit = api.patch(f"/api/messages/{message.pk}/", {"text": "Hijacked"}, content_type=JSON, **as_bob)
    delete = api.delete(f"/api/messages/{message.pk}/", **as_bob)

    assert edit.status_code == delete.status_code == 403
    assert edit.json() == delete.json() == {"detail": "You can only change your own messages."}
    message.refresh_from_db()
    assert (message.text, message.deleted_at) == ("Original", None)


def test_a_system_line_cannot_be_edited_or_deleted_even_by_its_actor(api, group, as_alice):
    line = group.messages.first()

    assert api.patch(f"/api/messages/{line.pk}/", {"text": "x"}, content_type=JSON, **as_alice).status_code == 403
    assert api.delete(f"/api/messages/{line.pk}/", **as_alice).status_code == 403


def test_the_author_deletes_a_message_and_a_deleted_line_stays(api, bob, chat, message, as_alice):
    response = api.delete(f"/api/messages/{message.pk}/", **as_alice)

    assert response.status_code == 204
    assert response.content == b""
    body = api.get(f"/api/messages/{message.pk}/", **auth(bob)).json()
    message.refresh_from_db()
    assert body["text"] == "" and body["image"] is None
    assert body["deleted_at"] == iso(message.deleted_at) is not None
    assert api.get(f"/api/chats/{chat.pk}/", **as_alice).json()["last_message"] == "Message deleted"


def test_deleting_twice_answers_the_same(api, message, as_alice):
    api.delete(f"/api/messages/{message.pk}/", **as_alice)
    message.refresh_from_db()
    deleted_at = message.deleted_at

    response = api.delete(f"/api/messages/{message.pk}/", **as_alice)

    assert response.status_code == 204
    message.refresh_from_db()
    assert message.deleted_at == deleted_at


def test_a_deleted_message_cannot_be_edited(api, message, as_alice):
    api.delete(f"/api/messages/{message.pk}/", **as_alice)

    response = api.patch(f"/api/messages/{message.pk}/", {"text": "back"}, content_type=JSON, **as_alice)

    assert response.status_code == 400
    assert response.json() == {"detail": "This message was deleted."}


def test_deleting_a_picture_removes_its_files(api, alice, chat, as_alice, django_capture_on_commit_callbacks):
    message = send_picture(chat, alice)
    assert len(stored("pictures")) == 2

    with django_capture_on_commit_callbacks(execute=True):
        api.delete(f"/api/messages/{message.pk}/", **as_alice)

    assert stored("pictures") == []


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999999"])
def test_an_unknown_message_is_404(api, message, as_alice, pk):
    for method in (api.get, api.delete):
        assert method(f"/api/messages/{pk}/", **as_alice).status_code == 404


def test_one_message_takes_three_queries(api, alice, message, django_assert_num_queries):
    headers = auth(alice)
    api.get("/api/users/me/", **headers)

    with django_assert_num_queries(4):  # the token, the message with its people, its reactions, read positions
        api.get(f"/api/messages/{message.pk}/", **headers)


# Groups ----------------------------------------------------------------------------------


def test_creating_a_group_makes_me_its_owner_with_the_people_picked(api, alice, bob, carol, as_alice):
    response = api.post(
        "/api/chats/",
        {"title": "  Climbing   club ", "members": [bob.pk, str(carol.pk)]},
        content_type=JSON,
        **as_alice,
    )

    group = Chat.objects.get()
    assert response.status_code == 201
    assert response.json() == {
        "id": group.pk,
        "title": "Climbing club",
        "is_group": True,
        "is_open": False,
        "members": [alice.pk, bob.pk, carol.pk],
        "display_name": "Climbing club",
        "display_photo": f"/chats/{group.pk}/initials.svg",
        "created_at": iso(group.created_at),
        "display_time": iso(group.last_message.created_at),
        "last_message": "Alice Archer added Carol Cole",
        "unread_count": 0,
        "notifications": "all",
    }
    assert Membership.objects.get(chat=group, user=alice).role == "owner"


def test_a_group_may_start_with_only_its_creator(api, alice, as_alice):
    response = api.post("/api/chats/", {"title": "Notes", "members": [alice.pk]}, content_type=JSON, **as_alice)

    assert response.status_code == 201
    assert response.json()["members"] == [alice.pk]


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({}, {"title": ["This field is required."]}),
        ({"title": "  "}, {"title": ["This field is required."]}),
        (
            {"title": "x" * (TITLE_MAX_LENGTH + 1)},
            {"title": [f"Ensure this value has at most {TITLE_MAX_LENGTH} characters (it has 101)."]},
        ),
        ({"title": 5}, {"title": ["Must be a string."]}),
        ({"title": "G", "members": "2"}, {"members": ["Must be a list of user ids."]}),
        ({"title": "G", "members": [True]}, {"members": ["Must be a list of user ids."]}),
        (
            {"title": "G", "members": [999999]},
            {"members": ["Select a valid choice. 999999 is not one of the available choices."]},
        ),
        ({"title": "G", "photo": None}, {"photo": ["Set the photo afterwards with PATCH, as multipart/form-data."]}),
    ],
)
def test_an_unfit_group_is_400_and_nothing_is_made(api, bob, as_alice, body, errors):
    response = api.post("/api/chats/", body, content_type=JSON, **as_alice)

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "errors": errors}
    assert not Chat.objects.exists()


def test_a_deactivated_person_cannot_be_put_in_a_group(api, bob, as_alice):
    User.objects.filter(pk=bob.pk).update(is_active=False)

    response = api.post("/api/chats/", {"title": "G", "members": [bob.pk]}, content_type=JSON, **as_alice)

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"members"}


def test_a_member_renames_a_group(api, bob, group):
    response = api.patch(f"/api/chats/{group.pk}/", {"title": "Bouldering"}, content_type=JSON, **auth(bob))

    assert response.status_code == 200
    assert response.json()["title"] == response.json()["display_name"] == "Bouldering"
    assert response.json()["last_message"] == "Bob Baker renamed the group to “Bouldering”"


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"title": ""}, {"title": ["This field is required."]}),
        ({"title": None}, {"title": ["Must be a string."]}),
        (
            {"photo": "https://example.com/p.png"},
            {"photo": ["Send null to remove the photo; upload a new one as multipart/form-data."]},
        ),
        ({"is_group": False}, {"is_group": ["This field is not accepted here."]}),
    ],
)
def test_an_unfit_group_change_is_400(api, group, as_alice, body, errors):
    response = api.patch(f"/api/chats/{group.pk}/", body, content_type=JSON, **as_alice)

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "errors": errors}
    group.refresh_from_db()
    assert group.title == "Climbing"


def test_a_change_with_nothing_to_change_is_400(api, group, as_alice):
    response = api.patch(f"/api/chats/{group.pk}/", {}, content_type=JSON, **as_alice)

    assert response.status_code == 400
    assert response.json() == {
        "detail": 'Send a new title, a photo, "photo": null to remove it, is_open or notifications.'
    }


def test_a_direct_chat_cannot_be_renamed(api, chat, as_alice):
    response = api.patch(f"/api/chats/{chat.pk}/", {"title": "Us"}, content_type=JSON, **as_alice)

    assert response.status_code == 400
    assert response.json() == {"detail": "Only a group can do that."}


def test_a_group_photo_is_uploaded_and_removed(api, group, as_alice, django_capture_on_commit_callbacks):
    uploaded = api.patch(f"/api/chats/{group.pk}/", **multipart({"photo": picture(), "title": "New"}), **as_alice)

    group.refresh_from_db()
    assert uploaded.status_code == 200
    assert uploaded.json()["display_photo"] == group.photo.url
    assert uploaded.json()["display_photo"].startswith("/media/chat-photos/")
    assert uploaded.json()["title"] == "New"

    with django_capture_on_commit_callbacks(execute=True):
        removed = api.patch(f"/api/chats/{group.pk}/", {"photo": None}, content_type=JSON, **as_alice)

    assert removed.json()["display_photo"] == f"/chats/{group.pk}/initials.svg"
    assert removed.json()["last_message"] == "Alice Archer changed the group photo"
    assert stored("chat-photos") == []


def test_a_bad_group_photo_is_refused_and_the_title_stays(api, group, as_alice):
    response = api.patch(
        f"/api/chats/{group.pk}/", **multipart({"photo": upload("x.png", b"nope"), "title": "New"}), **as_alice
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"photo"}
    group.refresh_from_db()
    assert (group.title, group.photo.name) == ("Climbing", "")


def test_multipart_group_changes_refuse_a_text_photo_and_other_files(api, group, as_alice):
    response = api.patch(
        f"/api/chats/{group.pk}/", **multipart({"photo": "x", "cover": upload("c.png", b"x")}), **as_alice
    )

    assert response.json() == {
        "detail": INVALID,
        "errors": {"photo": ["Must be a file."], "cover": ["This file is not accepted here."]},
    }


# Members ---------------------------------------------------------------------------------


def test_the_members_are_listed_in_the_order_they_joined(api, alice, bob, group, as_alice):
    send(group, bob, "hi")

    response = api.get(f"/api/chats/{group.pk}/members/", **as_alice)

    assert response.status_code == 200
    assert response.json() == [
        {**summary(alice), "role": "owner", "last_read_message_id": None},
        {**summary(bob), "role": "member", "last_read_message_id": group.messages.last().pk},
    ]


def test_a_direct_chat_lists_its_two_members(api, alice, bob, chat, as_alice):
    assert [item["id"] for item in api.get(f"/api/chats/{chat.pk}/members/", **as_alice).json()] == [alice.pk, bob.pk]


@pytest.mark.parametrize("people", [1, 20])
def test_the_member_list_takes_the_same_queries_for_few_and_many(api, alice, people, django_assert_num_queries):
    group = actions.create_group(alice, "Big", [make_person(f"person{n}") for n in range(people)])
    headers = auth(alice)
    api.get("/api/users/me/", **headers)

    with django_assert_num_queries(3):  # the token, the chat, the members with their people
        response = api.get(f"/api/chats/{group.pk}/members/", **headers)

    assert len(response.json()) == people + 1


def test_a_member_adds_someone_who_starts_with_nothing_unread(api, bob, carol, group):
    send(group, bob, "before carol")

    response = api.post(f"/api/chats/{group.pk}/members/", {"user_id": str(carol.pk)}, content_type=JSON, **auth(bob))

    added_line = group.messages.last()
    assert response.status_code == 201
    assert response.json() == {**summary(carol), "role": "member", "last_read_message_id": added_line.pk}
    assert added_line.system_text() == "Bob Baker added Carol Cole"
    assert api.get(f"/api/chats/{group.pk}/", **auth(carol)).json()["unread_count"] == 0


def test_adding_someone_already_in_the_group_is_400(api, bob, group, as_alice):
    response = api.post(f"/api/chats/{group.pk}/members/", {"user_id": bob.pk}, content_type=JSON, **as_alice)

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "errors": {"user_id": ["Bob Baker is already a member."]}}


def test_nobody_is_added_to_a_direct_chat(api, carol, chat, as_alice):
    response = api.post(f"/api/chats/{chat.pk}/members/", {"user_id": carol.pk}, content_type=JSON, **as_alice)

    assert response.status_code == 400
    assert response.json() == {"detail": "Only a group can do that."}
    assert chat.memberships.count() == 2


@pytest.mark.parametrize(("user_id", "status"), [("abc", 400), (None, 400), (999999, 404), ("deactivated", 404)])
def test_adding_an_unknown_or_unfit_person_is_refused(api, carol, group, as_alice, user_id, status):
    if user_id == "deactivated":
        User.objects.filter(pk=carol.pk).update(is_active=False)
        user_id = carol.pk

    response = api.post(f"/api/chats/{group.pk}/members/", {"user_id": user_id}, content_type=JSON, **as_alice)

    assert response.status_code == status
    assert group.memberships.count() == 2


def test_the_owner_removes_a_member(api, bob, group, as_alice):
    response = api.delete(f"/api/chats/{group.pk}/members/{bob.pk}/", **as_alice)

    assert response.status_code == 204
    assert response.content == b""
    assert api.get(f"/api/chats/{group.pk}/", **auth(bob)).status_code == 404
    assert api.get(f"/api/chats/{group.pk}/", **as_alice).json()["last_message"] == "Alice Archer removed Bob Baker"


def test_the_owner_removes_someone_whose_account_was_closed(api, bob, group, as_alice):
    User.objects.filter(pk=bob.pk).update(is_active=False)

    assert api.delete(f"/api/chats/{group.pk}/members/{bob.pk}/", **as_alice).status_code == 204


def test_only_the_owner_removes_members(api, alice, bob, carol, group):
    actions.add_member(group, bob, carol)

    response = api.delete(f"/api/chats/{group.pk}/members/{carol.pk}/", **auth(bob))

    assert response.status_code == 403
    assert response.json() == {"detail": "Only the owner can remove members."}
    assert group.memberships.filter(user=carol).exists()


def test_the_owner_cannot_remove_themselves(api, alice, group, as_alice):
    response = api.delete(f"/api/chats/{group.pk}/members/{alice.pk}/", **as_alice)

    assert response.status_code == 400
    assert response.json() == {"detail": "To leave the group, use Leave."}


@pytest.mark.parametrize("who", ["outsider", "unknown"])
def test_removing_someone_who_is_not_a_member_is_404(api, carol, group, as_alice, who):
    user_id = carol.pk if who == "outsider" else 999999

    response = api.delete(f"/api/chats/{group.pk}/members/{user_id}/", **as_alice)

    assert response.status_code == 404
    assert response.json() == {"detail": "No such member."}


def test_nobody_is_removed_from_a_direct_chat(api, bob, chat, as_alice):
    response = api.delete(f"/api/chats/{chat.pk}/members/{bob.pk}/", **as_alice)

    assert response.status_code == 400
    assert response.json() == {"detail": "Only a group can do that."}


# Leaving ---------------------------------------------------------------------------------


def test_when_the_owner_leaves_ownership_passes_on(api, alice, bob, group, as_alice):
    response = api.post(f"/api/chats/{group.pk}/leave/", **as_alice)

    assert response.status_code == 204
    assert api.get(f"/api/chats/{group.pk}/", **as_alice).status_code == 404
    members = api.get(f"/api/chats/{group.pk}/members/", **auth(bob)).json()
    assert [(item["id"], item["role"]) for item in members] == [(bob.pk, "owner")]


def test_the_last_one_to_leave_ends_the_group(api, alice, as_alice):
    group = actions.create_group(alice, "Alone")

    assert api.post(f"/api/chats/{group.pk}/leave/", **as_alice).status_code == 204
    assert not Chat.objects.exists()


def test_a_direct_chat_cannot_be_left(api, chat, as_alice):
    response = api.post(f"/api/chats/{chat.pk}/leave/", **as_alice)

    assert response.status_code == 400
    assert response.json() == {"detail": "Only a group can do that."}


# The outsider and the anonymous ----------------------------------------------------------


def _message_in(chat: Chat) -> int:
    return chat.messages.filter(kind=Message.Kind.TEXT).first().pk


ENDPOINTS = [
    ("get", "/api/chats/{chat}/", None),
    ("patch", "/api/chats/{chat}/", {"title": "Mine now"}),
    ("get", "/api/chats/{chat}/get_messages/", None),
    ("get", "/api/chats/{chat}/members/", None),
    ("post", "/api/chats/{chat}/members/", {"user_id": "{carol}"}),
    ("delete", "/api/chats/{chat}/members/{bob}/", None),
    ("post", "/api/chats/{chat}/leave/", None),
    ("post", "/api/chats/{chat}/read/", {}),
    ("post", "/api/messages/", {"chat": "{chat}", "text": "let me in"}),
    ("get", "/api/messages/{message}/", None),
    ("patch", "/api/messages/{message}/", {"text": "mine now"}),
    ("delete", "/api/messages/{message}/", None),
]


def _call(api: SchemaCheckingClient, method: str, path: str, body: dict | None, chat: Chat, people: dict, headers):
    values = {"chat": chat.pk, "message": _message_in(chat), **{name: user.pk for name, user in people.items()}}
    path = path.format(**values)
    if body is None:
        return getattr(api, method)(path, **headers)
    body = {key: value.format(**values) if isinstance(value, str) else value for key, value in body.items()}
    return getattr(api, method)(path, body, content_type=JSON, **headers)


@pytest.mark.parametrize("kind", ["direct", "group"])
@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
def test_the_outsider_gets_404_from_every_chat_and_message_endpoint(
    api, alice, bob, carol, chat, group, kind, method, path, body
):
    target = chat if kind == "direct" else group
    send(target, alice, "private")
    before = list(Message.objects.order_by("id").values_list("id", "text", "deleted_at"))
    memberships = list(Membership.objects.order_by("id").values_list("id", "chat", "user", "last_read_message_id"))

    response = _call(api, method, path, body, target, {"bob": bob, "carol": carol}, auth(carol))

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    assert list(Message.objects.order_by("id").values_list("id", "text", "deleted_at")) == before
    assert list(Membership.objects.order_by("id").values_list("id", "chat", "user", "last_read_message_id")) == (
        memberships
    )
    target.refresh_from_db()
    assert target.title == ("" if kind == "direct" else "Climbing")


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
def test_every_endpoint_needs_a_token(api, alice, bob, carol, group, method, path, body):
    send(group, alice, "private")

    response = _call(api, method, path, body, group, {"bob": bob, "carol": carol}, {})

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_the_list_and_get_or_create_need_a_token_too(api, bob):
    assert api.get("/api/chats/").status_code == 401
    assert api.post("/api/chats/", {"title": "G"}, content_type=JSON).status_code == 401
    assert api.post("/api/chats/get_or_create/", {"user_id": bob.pk}, content_type=JSON).status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("delete", "/api/chats/", "GET, POST"),
        ("get", "/api/chats/get_or_create/", "POST"),
        ("delete", "/api/chats/1/", "GET, PATCH"),
        ("post", "/api/chats/1/get_messages/", "GET"),
        ("get", "/api/chats/1/leave/", "POST"),
        ("get", "/api/chats/1/read/", "POST"),
        ("get", "/api/chats/1/members/2/", "DELETE"),
        ("get", "/api/messages/", "POST"),
        ("put", "/api/messages/1/", "GET, PATCH, DELETE"),
    ],
)
def test_a_wrong_method_is_405_with_allow(api, alice, method, path, allow):
    response = getattr(api, method)(path, **auth(alice))

    assert response.status_code == 405
    assert response["Allow"] == allow


def test_the_api_works_without_a_csrf_token(alice, chat):
    strict = SchemaCheckingClient(enforce_csrf_checks=True)

    response = strict.post("/api/messages/", {"chat": chat.pk, "text": "hi"}, content_type=JSON, **auth(alice))

    assert response.status_code == 201


# The document ----------------------------------------------------------------------------


def test_the_documents_limits_and_kinds_are_the_models(db):
    assert openapi.MESSAGE_MAX_LENGTH == MESSAGE_MAX_LENGTH
    assert openapi.TITLE_MAX_LENGTH == TITLE_MAX_LENGTH
    assert list(Message.Kind.values) == openapi.MESSAGE_KINDS
