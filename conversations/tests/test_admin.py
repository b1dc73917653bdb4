"""An operator finds chats, members and messages in the admin, and can search them."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import ApiToken, User
from conftest import make_person
from conversations import actions
from flowchat.testing import token_for


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


def test_unticking_active_signs_the_person_out_everywhere_and_keeps_their_messages(operator, alice, bob):
    chat, _ = actions.get_or_create_direct_chat(alice, bob)
    actions.send_message(chat, bob, "see you at the crag")
    bob_browser, alice_browser = Client(), Client()
    bob_browser.force_login(bob)
    alice_browser.force_login(alice)
    key = token_for(bob)
    # The change form as sent with "Active" unticked (an unticked box is not sent at all).
    data = {
        "username": "bob",
        "first_name": "Bob",
        "last_name": "Baker",
        "email": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        "theme": "system",
        "language": "",
        "bio": "",
    }

    response = operator.post(reverse("admin:accounts_user_change", args=[bob.pk]), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert not User.objects.get(pk=bob.pk).is_active
    assert bob_browser.get(reverse("home")).status_code == 302  # to the login page
    assert Client().get("/api/users/me/", headers={"Authorization": f"Token {key}"}).status_code == 401
    assert not ApiToken.objects.filter(user=bob).exists()
    shown = alice_browser.get(reverse("chat", args=[chat.pk])).content.decode()
    assert "see you at the crag" in shown and "Bob Baker" in shown


def test_the_deactivate_action_spares_the_operator_and_says_how_many(operator, alice, bob):
    admin = User.objects.get(username="operator")
    response = operator.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "deactivate", "_selected_action": [alice.pk, bob.pk, admin.pk]},
        follow=True,
    )
    assert "2 people deactivated." in response.content.decode()
    assert set(User.objects.filter(is_active=False).values_list("username", flat=True)) == {"alice", "bob"}
    assert User.objects.get(pk=admin.pk).is_active


def test_the_people_list_finds_a_cyrillic_name_in_any_case(operator, alice):
    make_person("vanya", "Пётр", "Иванов")
    found = operator.get(reverse("admin:accounts_user_changelist"), {"q": "петр иванов"})
    assert found.context["cl"].result_count == 1
    assert "vanya" in found.content.decode()
