"""@mentions: members named in a message, linked to their profile, counted for the chat list.

alice and bob chat (and are in the group "Climbing"); carol is the outsider, who cannot be
mentioned where she is not a member.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import make_person
from conversations import actions
from conversations.models import Chat, Mention, Message
from flowchat.testing import auth

JSON = "application/json"
MARKER = '<span class="badge mention-badge" aria-hidden="true">@</span>'


def mentioned(message: Message) -> set[int]:
    return set(Mention.objects.filter(message=message).values_list("user_id", flat=True))


def test_a_member_named_is_mentioned_and_linked_to_their_profile(alice, bob, group):
    message, _ = actions.send_message(group, alice, "@bob rope at nine?")

    assert mentioned(message) == {bob.pk}
    assert message.html == (
        f'<p><a class="mention" href="{reverse("accounts:profile", args=["bob"])}" data-user="{bob.pk}" '
        'rel="nofollow noopener noreferrer">@bob</a> rope at nine?</p>'
    )
    assert message.mentioned_ids == [bob.pk]


def test_only_members_can_be_mentioned(alice, bob, carol, group):
    message, _ = actions.send_message(group, alice, "@carol and @nobody, not you")

    assert mentioned(message) == set()
    assert message.html == "<p>@carol and @nobody, not you</p>"


def test_usernames_are_matched_whatever_their_case(alice, bob, group):
    message, _ = actions.send_message(group, alice, "@BOB!")

    assert mentioned(message) == {bob.pk}
    assert f'data-user="{bob.pk}" rel="nofollow noopener noreferrer">@bob</a>!' in message.html


@pytest.mark.parametrize(
    "text", ["`@bob`", "```\n@bob\n```", "write to bob@example.com", "[@bob](https://example.com)", "\\@bob"]
)
def test_no_mention_in_code_in_an_address_or_in_a_link(alice, bob, group, text):
    message, _ = actions.send_message(group, alice, text)

    assert mentioned(message) == set()
    assert "mention" not in message.html


def test_a_mention_of_oneself_or_of_two_people_counts_each_once(alice, bob, group):
    dave = make_person("dave")
    actions.add_member(group, alice, dave)

    message, _ = actions.send_message(group, alice, "@bob @dave @bob @alice")

    assert mentioned(message) == {alice.pk, bob.pk, dave.pk}
    assert message.mentioned_ids == [bob.pk, dave.pk, alice.pk]


def test_an_edit_updates_whom_the_message_mentions(alice, bob, group):
    dave = make_person("dave")
    actions.add_member(group, alice, dave)
    message, _ = actions.send_message(group, alice, "@bob climbing?")

    actions.edit_message(message, alice, "@dave climbing?")

    assert mentioned(message) == {dave.pk}
    assert message.mentioned_ids == [dave.pk]


def test_the_chat_list_marks_a_chat_whose_unread_messages_mention_me(client, alice, bob, group, chat):
    actions.send_message(group, alice, "@bob the rope")
    actions.send_message(chat, alice, "just hello")
    client.force_login(bob)

    page = client.get(reverse("home")).content.decode()

    rows = Chat.objects.with_list_details(bob)
    assert {row.pk: (row.unread_count, row.mention_count) for row in rows} == {group.pk: (1, 1), chat.pk: (1, 0)}
    assert page.count(MARKER) == 1
    assert "1 message mentions you" in page
    actions.mark_read(group, bob)
    assert MARKER not in client.get(reverse("home")).content.decode()


def test_my_own_mentions_and_deleted_ones_do_not_mark_the_chat(alice, bob, group):
    actions.send_message(group, bob, "@bob note to self")
    gone, _ = actions.send_message(group, alice, "@bob oops")
    actions.delete_message(gone, alice)

    assert Chat.objects.with_list_details(bob).get(pk=group.pk).mention_count == 0


def test_the_chat_list_takes_the_same_queries_with_mentions_in_many_chats(alice):
    def list_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            for row in Chat.objects.with_list_details(alice):
                row.mention_count, row.display_name_for(alice)
        return len(captured)

    bob = make_person("bob")
    actions.send_message(actions.get_or_create_direct_chat(alice, bob)[0], bob, "@alice hi")
    one = list_queries()
    for n in range(20):
        other = make_person(f"person{n}")
        actions.send_message(actions.get_or_create_direct_chat(alice, other)[0], other, f"@alice hello {n}")

    assert list_queries() == one == 2
    assert [row.mention_count for row in Chat.objects.with_list_details(alice)] == [1] * 21


@pytest.mark.usefixtures("fresh_rate_limits")
def test_the_api_gives_whom_a_message_mentions(api, alice, bob, group):
    key = auth(alice)
    sent = api.post("/api/messages/", {"chat": group.pk, "text": "@bob hi"}, content_type=JSON, **key)
    assert sent.status_code == 201
    assert sent.json()["mentions"] == [bob.pk]

    edited = api.patch(f"/api/messages/{sent.json()['id']}/", {"text": "`@bob` hi"}, content_type=JSON, **key)
    history = api.get(f"/api/chats/{group.pk}/get_messages/", **key)

    assert edited.json()["mentions"] == []
    assert [m["mentions"] for m in history.json() if m["kind"] == "text"] == [[]]


# The composer's list of people to mention -----------------------------------------------------------


def test_the_composer_is_offered_the_other_members_by_the_start_of_their_name(
    client, alice, bob, carol, group, django_assert_num_queries
):
    dave = make_person("dave", "Bobby", "Dale")
    actions.add_member(group, alice, dave)
    client.force_login(alice)
    url = reverse("mention_candidates", args=[group.pk])

    everyone = client.get(url).json()
    with django_assert_num_queries(4):  # the session, the person, the chat, the members
        bobs = client.get(url, {"q": "@BO"}).json()

    assert [person["username"] for person in everyone] == ["bob", "dave"]  # not alice herself, not carol
    assert [(person["id"], person["name"]) for person in bobs] == [(bob.pk, "Bob Baker"), (dave.pk, "Bobby Dale")]
    assert client.get(url, {"q": "zz"}).json() == []


def test_an_outsider_gets_no_list_of_members(client, carol, group):
    client.force_login(carol)

    response = client.get(reverse("mention_candidates", args=[group.pk]), {"q": "b"})

    assert response.status_code == 404
    assert "bob" not in response.content.decode()


def test_only_the_members_named_after_an_at_are_read(alice, bob):
    p7 = make_person("p7")
    crowd = actions.create_group(alice, "Crowd", [bob, p7, *(make_person(f"p{n}") for n in range(30, 60))])

    with CaptureQueriesContext(connection) as queries:
        message, _ = actions.send_message(crowd, alice, "@BOB and @p7, see alice@example.com")

    assert sorted(message.mentioned_ids) == sorted([bob.pk, p7.pk])
    # One lookup, of the names after an "@" (not the group's 33 members; the address names nobody).
    (lookup,) = [
        q["sql"] for q in queries.captured_queries if "conversations_membership" in q["sql"] and "LOWER" in q["sql"]
    ]
    assert "'bob'" in lookup and "'p7'" in lookup and "'example.com'" not in lookup
