"""`manage.py seed_demo`: the demo cast and their chats, as the README's screenshots show them."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from accounts.models import User
from conftest import make_person
from conversations import actions
from conversations.management.commands.seed_demo import CAST, DEFAULT_PASSWORD
from conversations.models import Chat, Message

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def alices_chats() -> dict[str, Chat]:
    alice = User.objects.get(username="alice")
    return {chat.display_name_for(alice): chat for chat in Chat.objects.with_list_details(alice)}


def test_it_seeds_the_cast_with_bios_and_the_password():
    output = seed()

    people = {person.username: person for person in User.objects.all()}
    assert set(people) == {"alice", "bob", "carol", "dmitri", "elena", "farid", "grace"}
    assert people["alice"].display_name == "Alice Martin"
    assert all(person.bio for person in people.values())
    assert all(person.check_password(DEFAULT_PASSWORD) for person in people.values())
    assert people["bob"].last_active == Message.objects.get(text__startswith="I'll grab coffee").created_at
    assert people["farid"].last_active is None  # he has not written yet
    assert "Seeded 7 people and 6 chats" in output
    assert DEFAULT_PASSWORD in output


def test_the_password_can_be_chosen():
    seed("--password", "another-secret-456")

    assert User.objects.get(username="bob").check_password("another-secret-456")


def test_alice_has_direct_chats_groups_and_unread_messages_newest_first():
    seed()

    chats = alices_chats()
    assert list(chats) == [
        "Bob Okafor",
        "Climbing",
        "Thursday book club",
        "Dmitri Sokolov",
        "Carol Nguyen",
        "Elena García",
    ]
    assert {name: chat.unread_count for name, chat in chats.items()} == {
        "Bob Okafor": 2,
        "Climbing": 4,
        "Thursday book club": 2,
        "Dmitri Sokolov": 0,
        "Carol Nguyen": 0,
        "Elena García": 0,
    }
    for chat in chats.values():
        # The chat list's time is the last message's, and the history reads in order.
        times = list(chat.messages.values_list("created_at", flat=True))
        assert times == sorted(times)
        assert chat.last_message == chat.messages.last()
        assert chat.last_activity_at == chat.last_message.created_at


def test_the_climbing_group_has_members_system_lines_a_photo_and_a_picture_message():
    seed()

    group = Chat.objects.get(title="Climbing")
    assert group.is_group
    assert set(group.members.values_list("username", flat=True)) == {"alice", "bob", "carol", "dmitri", "elena"}
    assert group.memberships.get(role="owner").user.username == "alice"
    assert default_storage.exists(group.photo.name)
    lines = [m.system_text() for m in group.messages.with_people() if m.is_system]
    assert lines == [
        "Alice Martin created the group",
        "Alice Martin added Bob Okafor",
        "Alice Martin added Carol Nguyen",
        "Alice Martin added Dmitri Sokolov",
        "Alice Martin added Elena García",
    ]
    picture = group.messages.exclude(image="").get()
    assert picture.author.username == "carol"
    assert (picture.image_width, picture.image_height) == (960, 640)
    assert default_storage.exists(picture.image.name) and default_storage.exists(picture.thumbnail.name)


def test_the_chat_with_bob_has_a_picture_an_edit_and_russian_with_dmitri():
    seed()

    chats = alices_chats()
    with_bob = chats["Bob Okafor"].messages.all()
    assert with_bob.exclude(image="").get().author.username == "bob"
    edited = with_bob.get(edited_at__isnull=False)
    assert edited.text == "Great, I'll bring the rope. And snacks!"
    assert edited.edited_at > edited.created_at
    assert chats["Dmitri Sokolov"].messages.filter(text__startswith="Привет").count() == 2


def test_running_it_twice_refuses_clearly_and_changes_nothing():
    seed()
    counts = (User.objects.count(), Chat.objects.count(), Message.objects.count())

    with pytest.raises(CommandError, match=r"already exist \(alice, bob, .*--reset"):
        seed()

    assert (User.objects.count(), Chat.objects.count(), Message.objects.count()) == counts


def test_one_existing_demo_name_in_any_case_is_enough_to_refuse():
    make_person("Grace")

    with pytest.raises(CommandError, match=r"already exist \(Grace\)"):
        seed()
    assert User.objects.count() == 1


def test_reset_seeds_again_deletes_the_old_files_and_keeps_other_peoples_chats(django_capture_on_commit_callbacks):
    seed()
    zoe = make_person("zoe", "Zoe", "Quinn")
    with_zoe, _created = actions.get_or_create_direct_chat(zoe, User.objects.get(username="alice"))
    actions.send_message(with_zoe, zoe, "Hi Alice!")
    old_files = [name for m in Message.objects.exclude(image="") for name in (m.image.name, m.thumbnail.name)]
    old_files.append(Chat.objects.get(title="Climbing").photo.name)
    assert all(default_storage.exists(name) for name in old_files)
    counts = (Chat.objects.count(), Message.objects.count())

    with django_capture_on_commit_callbacks(execute=True):
        output = seed("--reset")

    assert "Deleted the demo people and 6 chats." in output
    assert User.objects.count() == len(CAST) + 1
    assert (Chat.objects.count(), Message.objects.count()) == counts
    assert not any(default_storage.exists(name) for name in old_files)
    with_zoe.refresh_from_db()
    assert list(with_zoe.members.all()) == [zoe]
    assert with_zoe.messages.get().text == "Hi Alice!"
