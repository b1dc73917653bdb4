"""The actions: every change to chats, members and messages. alice and bob chat; carol is an outsider."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from conftest import make_person
from conversations import actions
from conversations.models import Chat, Membership, Message


def lines(chat: Chat) -> list[str]:
    return [m.system_text() for m in chat.messages.with_people() if m.is_system]


# Direct chats -----------------------------------------------------------------------


def test_a_direct_chat_is_the_same_from_both_sides(alice, bob):
    chat, created = actions.get_or_create_direct_chat(alice, bob)
    again, created_again = actions.get_or_create_direct_chat(bob, alice)

    assert created and not created_again
    assert again == chat
    assert set(chat.members.all()) == {alice, bob}
    assert not chat.is_group


def test_nobody_can_start_a_chat_with_themselves(alice):
    with pytest.raises(ValidationError):
        actions.get_or_create_direct_chat(alice, alice)
    assert not Chat.objects.exists()


def test_an_inactive_person_cannot_be_written_to(alice, bob):
    bob.is_active = False
    bob.save()
    with pytest.raises(ValidationError):
        actions.get_or_create_direct_chat(alice, bob)


@pytest.mark.django_db(transaction=True)
def test_concurrent_starts_make_one_direct_chat():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL's concurrent transactions")
    alice, bob = make_person("alice"), make_person("bob")
    barrier = threading.Barrier(4)
    results: list[Chat] = []

    def start(first, second):
        barrier.wait()
        try:
            results.append(actions.get_or_create_direct_chat(first, second)[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=start, args=pair) for pair in [(alice, bob), (bob, alice)] * 2]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len({chat.pk for chat in results}) == 1
    assert Chat.objects.count() == 1


# Messages ---------------------------------------------------------------------------


def test_sending_a_message_moves_the_chat_to_the_top_and_reads_it_for_the_author(alice, bob, chat):
    message, created = actions.send_message(chat, alice, "  Hello, Bob!  ")

    chat.refresh_from_db()
    assert created
    assert message.text == "Hello, Bob!"
    assert chat.last_message == message
    assert chat.last_activity_at == message.created_at
    assert Membership.objects.get(chat=chat, user=alice).last_read_message_id == message.pk
    assert Membership.objects.get(chat=chat, user=bob).last_read_message_id is None


def test_an_empty_message_is_refused(alice, chat):
    with pytest.raises(ValidationError):
        actions.send_message(chat, alice, "   \n ")
    assert not chat.messages.exists()


def test_a_message_over_the_limit_is_refused(alice, chat):
    with pytest.raises(ValidationError, match="10000"):
        actions.send_message(chat, alice, "x" * 10_001)
    actions.send_message(chat, alice, "x" * 10_000)


def test_an_outsider_cannot_send_to_a_chat(carol, chat):
    with pytest.raises(PermissionDenied):
        actions.send_message(chat, carol, "let me in")
    assert not chat.messages.exists()


def test_a_retried_send_returns_the_original_message(alice, chat):
    client_id = uuid.uuid4()
    first, created = actions.send_message(chat, alice, "once", client_id=client_id)
    again, created_again = actions.send_message(chat, alice, "once", client_id=client_id)

    assert created and not created_again
    assert again == first
    assert chat.messages.count() == 1


def test_the_same_client_id_from_two_people_makes_two_messages(alice, bob, chat):
    client_id = uuid.uuid4()
    actions.send_message(chat, alice, "hi", client_id=client_id)
    actions.send_message(chat, bob, "hi", client_id=client_id)
    assert chat.messages.count() == 2


def test_the_author_edits_a_message_and_it_is_marked_edited(alice, chat):
    message, _ = actions.send_message(chat, alice, "helo")
    actions.edit_message(message, alice, "hello")

    message.refresh_from_db()
    assert message.text == "hello"
    assert message.edited_at is not None


def test_nobody_else_can_edit_or_delete_a_message(alice, bob, carol, chat):
    message, _ = actions.send_message(chat, alice, "mine")
    for person in (bob, carol):
        with pytest.raises(PermissionDenied):
            actions.edit_message(message, person, "theirs")
        with pytest.raises(PermissionDenied):
            actions.delete_message(message, person)
    message.refresh_from_db()
    assert message.text == "mine" and message.deleted_at is None


def test_a_deleted_message_leaves_a_line_and_cannot_be_edited(alice, chat):
    message, _ = actions.send_message(chat, alice, "oops")
    actions.delete_message(message, alice)

    message.refresh_from_db()
    assert message.text == ""
    assert message.is_deleted
    assert message.preview() == "Message deleted"
    with pytest.raises(ValidationError):
        actions.edit_message(message, alice, "back")


def test_each_edit_and_the_deletion_raise_the_version(alice, chat):
    message, _ = actions.send_message(chat, alice, "one")
    versions = [message.version]
    for text in ("two", "three"):
        versions.append(actions.edit_message(message, alice, text).version)
    versions.append(actions.delete_message(message, alice).version)

    assert versions == [1, 2, 3, 4]
    message.refresh_from_db()
    assert message.version == 4


def test_an_edit_that_changes_nothing_keeps_the_version(alice, chat):
    message, _ = actions.send_message(chat, alice, "same")
    actions.edit_message(message, alice, "  same ")

    message.refresh_from_db()
    assert (message.version, message.edited_at) == (1, None)


def test_an_edit_of_a_copy_loaded_before_the_delete_is_refused(alice, chat):
    message, _ = actions.send_message(chat, alice, "secret")
    loaded_earlier = Message.objects.get(pk=message.pk)  # another request read it before the delete
    actions.delete_message(message, alice)

    with pytest.raises(ValidationError, match="deleted"):
        actions.edit_message(loaded_earlier, alice, "secret again")

    message.refresh_from_db()
    assert (message.text, message.is_deleted, message.version) == ("", True, 2)


def test_a_second_delete_changes_nothing(alice, chat):
    message, _ = actions.send_message(chat, alice, "twice")
    loaded_earlier = Message.objects.get(pk=message.pk)
    actions.delete_message(message, alice)

    again = actions.delete_message(loaded_earlier, alice)

    assert (again.is_deleted, again.version) == (True, 2)
    message.refresh_from_db()
    assert message.version == 2


@pytest.mark.django_db(transaction=True)
def test_edits_racing_a_delete_get_distinct_ordered_versions_and_the_delete_wins():
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race needs PostgreSQL's concurrent transactions")
    alice, bob = make_person("alice"), make_person("bob")
    chat = actions.get_or_create_direct_chat(alice, bob)[0]
    message = actions.send_message(chat, alice, "draft")[0]
    barrier = threading.Barrier(9)
    edits: list[int] = []
    refused: list[int] = []
    deleted: list[int] = []

    def edit(n: int) -> None:
        copy = Message.objects.get(pk=message.pk)  # each request loads the message itself
        barrier.wait()
        try:
            edits.append(actions.edit_message(copy, alice, f"draft {n}").version)
        except ValidationError:
            refused.append(n)
        finally:
            connection.close()

    def delete() -> None:
        copy = Message.objects.get(pk=message.pk)
        barrier.wait()
        try:
            deleted.append(actions.delete_message(copy, alice).version)
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=(n,)) for n in range(8)] + [threading.Thread(target=delete)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    message.refresh_from_db()
    assert (message.text, message.is_deleted) == ("", True)
    assert len(edits) + len(refused) == 8
    # Every change its own number, the delete's the last: nothing after it.
    assert sorted(edits + deleted) == list(range(2, 2 + len(edits) + 1))
    assert deleted == [message.version] and all(version < message.version for version in edits)


# Reading ----------------------------------------------------------------------------


def test_unread_counts_follow_the_read_position(alice, bob, chat):
    for text in ("one", "two", "three"):
        actions.send_message(chat, alice, text)

    def unread_for(person):
        return Chat.objects.with_list_details(person).get(pk=chat.pk).unread_count

    assert unread_for(bob) == 3
    assert unread_for(alice) == 0
    actions.mark_read(chat, bob, up_to=chat.messages.all()[1].pk)
    assert unread_for(bob) == 1
    chat.refresh_from_db()
    actions.mark_read(chat, bob)
    assert unread_for(bob) == 0


def test_the_read_position_never_moves_back(alice, bob, chat):
    first, _ = actions.send_message(chat, alice, "one")
    second, _ = actions.send_message(chat, alice, "two")
    chat.refresh_from_db()
    actions.mark_read(chat, bob)
    actions.mark_read(chat, bob, up_to=first.pk)
    assert Membership.objects.get(chat=chat, user=bob).last_read_message_id == second.pk


def test_deleted_messages_are_not_unread(alice, bob, chat):
    message, _ = actions.send_message(chat, alice, "oops")
    actions.delete_message(message, alice)
    assert Chat.objects.with_list_details(bob).get(pk=chat.pk).unread_count == 0


# Groups -----------------------------------------------------------------------------


def test_creating_a_group_makes_the_creator_owner_and_says_who_was_added(alice, bob, group):
    assert group.is_group and group.title == "Climbing"
    assert Membership.objects.get(chat=group, user=alice).role == Membership.Role.OWNER
    assert Membership.objects.get(chat=group, user=bob).role == Membership.Role.MEMBER
    assert lines(group) == ["Alice Archer created the group", "Alice Archer added Bob Baker"]


def test_a_group_needs_a_title(alice, bob):
    with pytest.raises(ValidationError):
        actions.create_group(alice, "   ", [bob])
    assert not Chat.objects.exists()


def test_members_rename_a_group(bob, group):
    actions.rename_group(group, bob, "Bouldering")
    group.refresh_from_db()
    assert group.title == "Bouldering"
    assert lines(group)[-1] == "Bob Baker renamed the group to “Bouldering”"


def test_an_outsider_cannot_rename_or_add_to_a_group(carol, group):
    with pytest.raises(PermissionDenied):
        actions.rename_group(group, carol, "Mine now")
    with pytest.raises(PermissionDenied):
        actions.add_member(group, carol, carol)


def test_a_member_adds_someone_who_then_has_nothing_unread(alice, bob, carol, group):
    actions.send_message(group, alice, "before carol")
    actions.add_member(group, bob, carol)

    assert Chat.objects.for_user(carol).filter(pk=group.pk).exists()
    assert Chat.objects.with_list_details(carol).get(pk=group.pk).unread_count == 0
    assert lines(group)[-1] == "Bob Baker added Carol Cole"
    with pytest.raises(ValidationError):
        actions.add_member(group, alice, carol)


def test_only_the_owner_removes_members(alice, bob, carol, group):
    actions.add_member(group, alice, carol)
    with pytest.raises(PermissionDenied):
        actions.remove_member(group, bob, carol)

    actions.remove_member(group, alice, carol)

    assert not Chat.objects.for_user(carol).filter(pk=group.pk).exists()
    assert lines(group)[-1] == "Alice Archer removed Carol Cole"


def test_when_the_owner_leaves_ownership_passes_on(alice, bob, group):
    actions.leave_chat(group, alice)

    assert Membership.objects.get(chat=group, user=bob).role == Membership.Role.OWNER
    assert lines(group)[-2:] == ["Alice Archer left", "Bob Baker is now the owner"]


def test_the_last_member_leaving_removes_the_group(alice, bob, group):
    actions.leave_chat(group, alice)
    actions.leave_chat(group, bob)
    assert not Chat.objects.filter(pk=group.pk).exists()


def test_a_direct_chat_has_no_group_actions(alice, bob, carol, chat):
    with pytest.raises(ValidationError):
        actions.add_member(chat, alice, carol)
    with pytest.raises(ValidationError):
        actions.leave_chat(chat, alice)


# The chat list ----------------------------------------------------------------------


def test_the_chat_list_takes_the_same_queries_for_one_chat_and_for_fifty(alice, django_assert_num_queries):
    def list_queries() -> int:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            chats = list(Chat.objects.with_list_details(alice))
            for chat in chats:
                chat.display_name_for(alice), chat.last_message and chat.last_message.preview()
        return len(captured)

    bob = make_person("bob")
    actions.send_message(actions.get_or_create_direct_chat(alice, bob)[0], bob, "hi")
    one = list_queries()
    for n in range(49):
        other = make_person(f"person{n}")
        actions.send_message(actions.get_or_create_direct_chat(alice, other)[0], other, f"hello {n}")

    assert list_queries() == one == 2
    assert len(Chat.objects.with_list_details(alice)) == 50


def test_the_chat_list_is_most_recent_first(alice, bob, carol):
    with_bob = actions.get_or_create_direct_chat(alice, bob)[0]
    with_carol = actions.get_or_create_direct_chat(alice, carol)[0]
    actions.send_message(with_bob, bob, "later")

    assert list(Chat.objects.with_list_details(alice)) == [with_bob, with_carol]
    assert list(Chat.objects.with_list_details(carol)) == [with_carol]
