"""The settings page's "Turn on notifications on this device" (static/js/push.js posts here),
logging out removing that device, and the installable app's files (flowchat/webapp.py)."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from accounts.models import PushSubscription
from flowchat.push_service import Device, vapid_keys

ENDPOINT = "https://fcm.googleapis.com/fcm/send/abc"


@pytest.fixture
def push_on(settings):
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = vapid_keys()
    settings.WEBPUSH_TEST_ORIGINS = ["http://127.0.0.1:9"]


def subscription() -> dict:
    return Device("http://127.0.0.1:9/push/device").subscription()


def test_the_settings_page_offers_the_button_when_push_is_on(client, alice, push_on, settings):
    client.force_login(alice)
    page = client.get("/settings/").content.decode()
    assert 'id="push-enable"' in page
    assert f'data-public-key="{settings.VAPID_PUBLIC_KEY}"' in page
    assert "js/push.js" in page


def test_the_page_registers_this_device_with_the_session(client, alice, push_on):
    client.force_login(alice)
    response = client.post(
        "/settings/devices/", json.dumps(subscription()), content_type="application/json", HTTP_USER_AGENT="Chrome/140"
    )
    assert response.status_code == 201
    device = PushSubscription.objects.get(pk=response.json()["id"])
    assert device.user == alice and device.session_key == client.session.session_key
    # The same endpoint again is the same device.
    again = client.post("/settings/devices/", json.dumps(subscription()), content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == device.pk


@pytest.mark.parametrize(
    "body",
    ["not json", json.dumps([1]), json.dumps({**subscription(), "endpoint": "https://127.0.0.1/x"})],
)
def test_a_bad_subscription_is_a_json_400(client, alice, push_on, body):
    client.force_login(alice)
    response = client.post("/settings/devices/", body, content_type="application/json")
    assert response.status_code == 400
    assert "detail" in response.json()
    assert not PushSubscription.objects.exists()


def test_logging_out_removes_the_device_this_session_registered(client, alice, push_on):
    other = PushSubscription.objects.create(user=alice, endpoint=ENDPOINT, p256dh="k", auth="a", session_key="other")
    client.force_login(alice)
    client.post("/settings/devices/", json.dumps(subscription()), content_type="application/json")
    assert PushSubscription.objects.count() == 2

    client.post("/accounts/logout/")

    assert list(PushSubscription.objects.all()) == [other]


def test_the_service_worker_is_served_from_the_root(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    body = response.content.decode()
    assert 'addEventListener("push"' in body and 'addEventListener("notificationclick"' in body
    assert "setAppBadge" in body


def test_the_manifest_names_the_app_and_its_icons(client, alice):
    response = client.get("/manifest.webmanifest")
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert manifest["name"] == manifest["short_name"] == "FlowChat"
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    assert manifest["theme_color"] and manifest["background_color"]
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert sizes == {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")}
    for icon in manifest["icons"]:
        served = client.get(icon["src"])
        assert served.status_code == 200
        image = Image.open(io.BytesIO(b"".join(served.streaming_content)))
        assert image.format == "PNG" and f"{image.width}x{image.height}" == icon["sizes"]
    client.force_login(alice)
    page = client.get("/").content.decode()
    assert 'rel="manifest" href="/manifest.webmanifest"' in page
    assert page.count('name="theme-color"') == 2
