"""An operator finds chats, members and messages in the admin, and can search them."""

import pytest
from django.urls import reverse

from accounts.models import User
from conversations import actions


@pytest.fixture
def operator(client, db):
    admin = User.objects.create_superuser("operator", password="operator-password-1")
    client.force_login(admin)
    return client


@pytest.mark.parametrize(
    "name", ["conversations_chat", "conversations_membership", "conversations_message", "accounts_user"]
)
def test_every_list_loads_and_searches(operator, alice, bob, name):
    chat, _ = actions.get_or_create_direct_chat(alice, bob)
    actions.send_message(chat, alice, "spam spam spam")

    url = reverse(f"admin:{name}_changelist")
    assert operator.get(url).status_code == 200
    assert operator.get(url, {"q": "alice"}).status_code == 200


def test_an_operator_finds_a_message_by_its_text_and_removes_it(operator, alice, bob):
    chat, _ = actions.get_or_create_direct_chat(alice, bob)
    message, _ = actions.send_message(chat, alice, "buy cheap watches")

    found = operator.get(reverse("admin:conversations_message_changelist"), {"q": "watches"})
    assert "buy cheap watches" in found.content.decode()

    operator.post(reverse("admin:conversations_message_delete", args=[message.pk]), {"post": "yes"})
    assert not chat.messages.filter(pk=message.pk).exists()


def test_a_chat_page_shows_its_members(operator, alice, bob):
    group = actions.create_group(alice, "Climbing", [bob])
    page = operator.get(reverse("admin:conversations_chat_change", args=[group.pk]))
    assert page.status_code == 200
    assert "alice" in page.content.decode() and "bob" in page.content.decode()
