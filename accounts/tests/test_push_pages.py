"""The settings pages for notifications, without JavaScript: plain forms."""

from __future__ import annotations

import pytest

from accounts.models import PushSubscription
from conversations.models import Membership


@pytest.fixture
def device(alice):
    return PushSubscription.objects.create(
        user=alice,
        endpoint="https://push.example.com/1",
        p256dh="k",
        auth="a",
        user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:130.0) Gecko/20100101 Firefox/130.0",
    )


def test_settings_list_the_devices_and_say_when_push_is_off(client, alice, device, settings):
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    client.force_login(alice)
    page = client.get("/settings/").content.decode()
    assert "Firefox on Linux" in page
    assert "Push notifications are off on this server" in page


def test_a_device_is_removed_by_its_owner_only(client, alice, carol, device):
    client.force_login(carol)
    assert client.post(f"/settings/devices/{device.pk}/remove/").status_code == 404
    client.force_login(alice)
    assert client.post(f"/settings/devices/{device.pk}/remove/").status_code == 302
    assert not PushSubscription.objects.exists()


def test_previews_are_turned_off_and_on_with_a_form(client, alice):
    client.force_login(alice)
    client.post("/settings/notifications/", {})
    alice.refresh_from_db()
    assert alice.push_previews is False
    client.post("/settings/notifications/", {"push_previews": "on"})
    alice.refresh_from_db()
    assert alice.push_previews is True


def test_a_chat_level_is_chosen_with_a_form(client, alice, group, chat, carol):
    client.force_login(alice)
    assert "Default (All messages)" in client.get(f"/chats/{group.pk}/settings/").content.decode()
    assert client.post(f"/chats/{group.pk}/notifications/", {"notifications": "none"}).status_code == 302
    assert Membership.objects.get(chat=group, user=alice).notifications == "none"
    client.post(f"/chats/{chat.pk}/notifications/", {"notifications": "mentions"})
    assert Membership.objects.get(chat=chat, user=alice).notifications == "mentions"
    client.post(f"/chats/{group.pk}/notifications/", {"notifications": ""})
    assert Membership.objects.get(chat=group, user=alice).notifications is None
    client.post(f"/chats/{group.pk}/notifications/", {"notifications": "loud"})
    assert Membership.objects.get(chat=group, user=alice).notifications is None
    client.force_login(carol)
    assert client.post(f"/chats/{group.pk}/notifications/", {"notifications": "none"}).status_code == 404


def test_a_direct_chat_has_its_own_notifications_page(client, alice, bob, chat, carol):
    client.force_login(alice)
    assert f'href="/chats/{chat.pk}/notifications/"' in client.get(f"/chats/{chat.pk}/").content.decode()
    page = client.get(f"/chats/{chat.pk}/notifications/").content.decode()
    assert "Default (All messages)" in page and "Bob Baker" in page
    response = client.post(f"/chats/{chat.pk}/notifications/", {"notifications": "none"})
    assert response.status_code == 302 and response["Location"] == f"/chats/{chat.pk}/notifications/"
    assert 'value="none" checked' in client.get(f"/chats/{chat.pk}/notifications/").content.decode()
    client.force_login(carol)
    assert client.get(f"/chats/{chat.pk}/notifications/").status_code == 404


def test_a_groups_notifications_page_is_its_settings_page(client, alice, group):
    client.force_login(alice)
    response = client.get(f"/chats/{group.pk}/notifications/")
    assert response.status_code == 302 and response["Location"] == f"/chats/{group.pk}/settings/#notifications"
