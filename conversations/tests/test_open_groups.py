"""Open groups: the owner opens a group to the directory; anyone signed in finds it and joins.

alice owns "Climbing" with bob in it; carol is the outsider who finds it and joins.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from conftest import make_person
from conversations import actions, directory
from conversations.models import Chat, Membership, Message
from conversations.permissions import get_chat_for_user
from conversations.tests.test_api import JSON, auth

pytestmark = pytest.mark.django_db


@pytest.fixture
def open_group(alice, bob, group):
    actions.send_message(group, bob, "Who is coming on Saturday?")
    return actions.set_group_open(group, alice, True)


def signed_in(client, person: User):
    client.force_login(person)
    return client


# Actions ---------------------------------------------------------------------------------------


def test_only_the_owner_opens_a_group_and_everyone_in_it_sees_a_line_saying_so(alice, bob, group):
    with pytest.raises(PermissionDenied):
        actions.set_group_open(group, bob, True)

    actions.set_group_open(group, alice, True)

    group.refresh_from_db()
    assert group.is_open
    assert group.last_message.system_text() == "Alice Archer opened the group: anyone can find and join it"
    actions.set_group_open(group, alice, True)  # no change, no second line
    assert group.messages.filter(kind=Message.Kind.OPENED).count() == 1
    actions.set_group_open(group, alice, False)
    group.refresh_from_db()
    assert not group.is_open
    assert group.last_message.kind == Message.Kind.CLOSED


def test_a_direct_chat_is_never_open(alice, chat):
    with pytest.raises(ValidationError):
        actions.set_group_open(chat, alice, True)
    with pytest.raises(IntegrityError):
        Chat.objects.filter(pk=chat.pk).update(is_open=True)


def test_joining_an_open_group_starts_with_its_history_read(open_group, carol):
    membership = actions.join_group(open_group, carol)

    assert membership.role == Membership.Role.MEMBER
    assert get_chat_for_user(carol, open_group.pk) == open_group
    open_group.refresh_from_db()
    assert open_group.last_message.system_text() == "Carol Cole joined"
    assert membership.last_read_message_id == open_group.last_message_id
    assert Chat.objects.with_list_details(carol).get(pk=open_group.pk).unread_count == 0


def test_a_closed_group_cannot_be_joined_and_nobody_joins_twice(alice, group, carol):
    with pytest.raises(ValidationError) as refused:
        actions.join_group(group, carol)
    assert refused.value.code == "not_open"

    actions.set_group_open(group, alice, True)
    actions.join_group(group, carol)
    with pytest.raises(ValidationError) as again:
        actions.join_group(group, carol)
    assert again.value.code == "already_member"
    assert group.memberships.filter(user=carol).count() == 1


def test_a_member_who_joined_leaves_again(open_group, carol):
    actions.join_group(open_group, carol)
    actions.leave_chat(open_group, carol)
    assert not open_group.memberships.filter(user=carol).exists()


# The directory ------------------------------------------------------------------------------------


def test_the_directory_lists_open_groups_only_with_their_latest_messages(open_group, alice, carol):
    closed = actions.create_group(alice, "Secret plans")
    actions.send_message(closed, alice, "nobody outside may read this")
    for n in range(4):
        actions.send_message(open_group, alice, f"update {n}")

    groups = directory.attach_previews(list(directory.open_groups(carol)))

    assert [group.title for group in groups] == ["Climbing"]
    (entry,) = groups
    assert (entry.member_count, entry.is_member) == (2, False)
    assert [message.text for message in entry.recent] == ["update 1", "update 2", "update 3"]


def test_the_directory_page_takes_the_same_queries_for_one_group_and_for_twenty(client, alice, carol):
    def page_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("group_directory"))
        assert response.status_code == 200
        return len(captured)

    signed_in(client, carol)
    first = actions.create_group(alice, "Group 0")
    actions.send_message(first, alice, "hello 0")
    actions.set_group_open(first, alice, True)
    page_queries()  # the first request of a while also notes when carol was last active
    one = page_queries()
    for n in range(1, 20):
        person = make_person(f"person{n}")
        group = actions.create_group(person, f"Group {n}", [alice])
        actions.send_message(group, person, f"hello {n}")
        actions.set_group_open(group, person, True)

    assert page_queries() == one
    assert "Group 19" in client.get(reverse("group_directory")).content.decode()


def test_the_directory_page_finds_by_title_and_joins_without_javascript(client, open_group, carol):
    signed_in(client, carol)
    page = client.get(reverse("group_directory"), {"q": "climb"}).content.decode()
    assert "Climbing" in page
    assert "Who is coming on Saturday?" in page
    assert "1 open group" in page
    assert "No open group matches" in client.get(reverse("group_directory"), {"q": "chess"}).content.decode()

    response = client.post(reverse("join_group", args=[open_group.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("chat", args=[open_group.pk])
    assert "You joined" in client.get(response["Location"]).content.decode()
    assert open_group.memberships.filter(user=carol).exists()


def test_a_closed_group_is_not_found_from_outside(client, group, carol):
    signed_in(client, carol)
    assert "Climbing" not in client.get(reverse("group_directory")).content.decode()
    assert client.post(reverse("join_group", args=[group.pk])).status_code == 404
    assert client.get(reverse("chat_initials", args=[group.pk])).status_code == 404


def test_an_open_groups_picture_shows_to_anyone_signed_in_but_its_history_stays_members_only(client, open_group, carol):
    assert client.get(reverse("chat_initials", args=[open_group.pk])).status_code == 404  # signed out
    signed_in(client, carol)
    assert client.get(reverse("chat_initials", args=[open_group.pk])).status_code == 200
    assert client.get(reverse("chat", args=[open_group.pk])).status_code == 404


def test_the_owner_opens_the_group_from_its_settings_and_others_only_read_it(client, alice, bob, group):
    signed_in(client, bob)
    settings_page = client.get(reverse("group_settings", args=[group.pk])).content.decode()
    assert "This group is closed" in settings_page
    assert 'name="is_open"' not in settings_page
    assert client.post(reverse("set_group_open", args=[group.pk]), {"is_open": "on"}).status_code == 403

    signed_in(client, alice)
    assert 'name="is_open"' in client.get(reverse("group_settings", args=[group.pk])).content.decode()
    response = client.post(reverse("set_group_open", args=[group.pk]), {"is_open": "on"}, follow=True)
    assert "The group is open" in response.content.decode()
    group.refresh_from_db()
    assert group.is_open
    client.post(reverse("set_group_open", args=[group.pk]), {})
    group.refresh_from_db()
    assert not group.is_open


def test_the_directory_speaks_russian(client, open_group, carol):
    carol.language = "ru"
    carol.save(update_fields=["language"])
    signed_in(client, carol)
    page = client.get(reverse("group_directory"), HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert "Открытые группы" in page
    assert "Вступить" in page


# The API ------------------------------------------------------------------------------------


def test_the_api_opens_lists_and_joins_a_group(api, alice, bob, carol, group):
    assert api.patch(f"/api/chats/{group.pk}/", {"is_open": True}, content_type=JSON, **auth(bob)).status_code == 403
    opened = api.patch(f"/api/chats/{group.pk}/", {"is_open": True}, content_type=JSON, **auth(alice))
    assert opened.status_code == 200
    assert opened.json()["is_open"] is True

    listed = api.get("/api/chats/directory/", {"q": "CLIMB"}, **auth(carol)).json()
    assert [(entry["id"], entry["member_count"], entry["is_member"]) for entry in listed] == [(group.pk, 2, False)]

    joined = api.post(f"/api/chats/{group.pk}/join/", **auth(carol))
    assert joined.status_code == 201
    assert carol.pk in joined.json()["members"]
    assert joined.json()["unread_count"] == 0
    again = api.post(f"/api/chats/{group.pk}/join/", **auth(carol))
    assert again.status_code == 200  # nothing changes: no second line, no second membership
    assert again.json() == api.get(f"/api/chats/{group.pk}/", **auth(carol)).json()
    assert group.messages.filter(kind=Message.Kind.JOINED).count() == 1


def test_the_api_hides_closed_groups_and_refuses_a_bad_open_flag(api, alice, carol, group, chat):
    assert api.get("/api/chats/directory/", **auth(carol)).json() == []
    assert api.post(f"/api/chats/{group.pk}/join/", **auth(carol)).status_code == 404
    assert api.post(f"/api/chats/{chat.pk}/join/", **auth(carol)).status_code == 404
    bad = api.patch(f"/api/chats/{group.pk}/", {"is_open": "yes"}, content_type=JSON, **auth(alice))
    assert bad.status_code == 400
    assert bad.json()["errors"] == {"is_open": ["Must be true or false."]}
    direct = api.patch(f"/api/chats/{chat.pk}/", {"is_open": True}, content_type=JSON, **auth(alice))
    assert direct.status_code == 400


def test_the_api_directory_pages_with_a_link_and_the_same_queries_for_any_page_size(api, alice, carol):
    for n in range(5):
        group = actions.create_group(alice, f"Group {n}")
        actions.send_message(group, alice, f"hello {n}")
        actions.set_group_open(group, alice, True)

    first = api.get("/api/chats/directory/", {"limit": 2}, **auth(carol))
    assert [entry["title"] for entry in first.json()] == ["Group 4", "Group 3"]
    assert "offset=2" in first["Link"]
    with CaptureQueriesContext(connection) as two:
        api.get("/api/chats/directory/", {"limit": 2}, **auth(carol))
    with CaptureQueriesContext(connection) as five:
        everything = api.get("/api/chats/directory/", {"limit": 5}, **auth(carol))
    assert len(two) == len(five)
    assert "Link" not in everything
    assert everything.json()[0]["recent_messages"][0]["text"] == "hello 4"
