"""Who a new message notifies, by notification level (the sending itself is separate)."""

from __future__ import annotations

from conftest import make_person
from conversations import actions
from conversations.push import recipients


def test_a_direct_message_notifies_the_other_member_not_the_author(chat, alice, bob):
    message, _ = actions.send_message(chat, alice, "Hi")
    assert recipients(message) == [bob.pk]


def test_a_chat_set_to_nothing_notifies_nobody(chat, alice, bob):
    actions.set_notifications(chat, bob, "none")
    message, _ = actions.send_message(chat, alice, "Hi")
    assert recipients(message) == []


def test_mentions_only_means_direct_chats_mentions_and_replies(chat, group, alice, bob, carol):
    actions.add_member(group, alice, carol)
    actions.set_notifications(chat, bob, "mentions")
    actions.set_notifications(group, bob, "mentions")
    direct, _ = actions.send_message(chat, alice, "Hi")
    in_group, _ = actions.send_message(group, alice, "Hi all")
    mentioning_carol, _ = actions.send_message(group, alice, "@carol brings the rope")
    mentioning_bob, _ = actions.send_message(group, alice, "@bob brings the rope")
    in_code, _ = actions.send_message(group, alice, "`@bob` is his name here")
    bobs, _ = actions.send_message(group, bob, "Who drives?")
    reply, _ = actions.send_message(group, carol, "I do", reply_to=bobs.pk)

    assert recipients(direct) == [bob.pk]
    assert recipients(in_group) == [carol.pk]
    assert bob.pk not in recipients(mentioning_carol)
    assert bob.pk in recipients(mentioning_bob)
    assert bob.pk not in recipients(in_code)
    assert bob.pk in recipients(reply)


def test_a_big_group_notifies_by_default_only_of_mentions(alice, bob):
    group = actions.create_group(alice, "Crowd", [bob, *(make_person(f"p{n}") for n in range(20))])
    message, _ = actions.send_message(group, alice, "Hello crowd")
    assert recipients(message) == []
    actions.set_notifications(group, bob, "all")
    assert recipients(message) == [bob.pk]


def test_system_lines_notify_nobody(group, alice, carol):
    line = actions.add_member(group, alice, carol)
    from conversations.models import Message

    assert recipients(Message.objects.filter(chat=group).last()) == []
    assert line is not None
