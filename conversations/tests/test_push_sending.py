"""Web Push, end to end without the internet: a push service on 127.0.0.1 (flowchat.push_service)
receives what conversations.webpush sends, checks its VAPID JWT against the server's public key
and decrypts the payload with the device's own keys.

The queue is run by hand here (PUSH_WORKERS is 0 in the tests: `sender.drain()`), except where
the workers themselves are what is tested (a slow push service and the send request).
"""

from __future__ import annotations

import json
import time

import pytest
from django.db import connection

from accounts.api import register_subscription
from accounts.models import PushSubscription, User
from conftest import make_person
from conversations import actions, webpush
from conversations.webpush import sender
from flowchat.api import ApiError
from flowchat.push_service import PushService, vapid_keys
from flowchat.testing import auth

SUBJECT = "mailto:ops@flowchat.test"


@pytest.fixture
def service(settings):
    public, private = vapid_keys()
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY, settings.VAPID_SUBJECT = public, private, SUBJECT
    service = PushService(public)
    settings.WEBPUSH_TEST_ORIGINS = [service.origin]
    sender.clear()
    yield service
    sender.clear()
    service.close()


def device_of(user: User, service: PushService):
    device = service.device()
    subscription, created = register_subscription(user, device.subscription(), user_agent="Firefox/140 (Linux)")
    assert created
    device.pk = subscription.pk
    return device


def sent(capture, action, *args, **kwargs):
    """Run an action, its on-commit work (the push is queued there), then the queue."""
    with capture(execute=True):
        result = action(*args, **kwargs)
    sender.drain()
    return result


def pushes(service: PushService, device) -> list[dict]:
    """What reached one device, decrypted, after checking each request's VAPID JWT."""
    path = device.endpoint.removeprefix(service.origin)
    payloads = []
    for received in service.received:
        if received.path != path:
            continue
        assert received.jwt_error == ""
        claims = received.claims
        assert claims["aud"] == service.origin
        assert claims["sub"] == SUBJECT
        assert time.time() < claims["exp"] <= time.time() + 24 * 3600
        assert received.headers["content-encoding"] == "aes128gcm"
        assert int(received.headers["ttl"]) > 0
        assert len(received.body) < 3072
        payloads.append(device.decrypt(received.body))
    return payloads


# Who gets a push ----------------------------------------------------------------------------------


def test_a_message_reaches_the_device_of_someone_offline(service, alice, bob, chat, django_capture_on_commit_callbacks):
    device = device_of(bob, service)

    message, _ = sent(django_capture_on_commit_callbacks, actions.send_message, chat, alice, "Rope at nine?")

    [payload] = pushes(service, device)
    assert payload == {
        "title": "Alice Archer",
        "body": "Rope at nine?",
        "url": f"/chats/{chat.pk}/",
        "tag": f"chat-{chat.pk}",
        "chat": chat.pk,
        "message": message.pk,
        "unread": 1,
    }
    assert PushSubscription.objects.get(pk=device.pk).last_success_at is not None


def test_not_to_the_author(service, alice, bob, chat, django_capture_on_commit_callbacks):
    mine, theirs = device_of(alice, service), device_of(bob, service)

    sent(django_capture_on_commit_callbacks, actions.send_message, chat, alice, "Rope at nine?")

    assert pushes(service, mine) == []
    assert len(pushes(service, theirs)) == 1


def test_not_while_a_visible_tab_is_open(service, alice, bob, chat, django_capture_on_commit_callbacks):
    device = device_of(bob, service)
    actions.sockets_changed({"tab-1": bob.pk})

    sent(django_capture_on_commit_callbacks, actions.send_message, chat, alice, "Rope at nine?")

    assert pushes(service, device) == []


def test_sent_when_the_only_tab_is_hidden(service, alice, bob, chat, django_capture_on_commit_callbacks):
    device = device_of(bob, service)
    actions.sockets_changed({"tab-1": bob.pk, "tab-2": bob.pk})
    actions.socket_visibility("tab-1", False)
    actions.socket_visibility("tab-2", False)

    sent(django_capture_on_commit_callbacks, actions.send_message, chat, alice, "Rope at nine?")

    assert [p["body"] for p in pushes(service, device)] == ["Rope at nine?"]
    # One tab shown again: no more pushes.
    actions.socket_visibility("tab-2", True)
    sent(django_capture_on_commit_callbacks, actions.send_message, chat, alice, "Still there?")
    assert len(pushes(service, device)) == 1


def test_not_for_a_message_a_tab_showed_before_it_was_hidden(
    service, alice, bob, chat, django_capture_on_commit_callbacks
):
    """The workers judge a moment after the send: a tab shown when the message came has shown it."""
    device = device_of(bob, service)
    actions.sockets_changed({"tab-1": bob.pk})
    with django_capture_on_commit_callbacks(execute=True):
        actions.send_message(chat, alice, "While you look")
    actions.socket_visibility("tab-1", False)  # bob turns to another tab before the queue runs

    sender.drain()
    assert pushes(service, device) == []
    # What comes while the tab is hidden is told, and counts the message before it as unread.
    sent(django_capture_on_commit_callbacks, actions.send_message, chat, alice, "Rope at nine?")
    assert [p["body"] for p in pushes(service, device)] == ["2 new messages · Rope at nine?"]


def test_not_for_a_chat_set_to_nothing(service, alice, bob, chat, django_capture_on_commit_callbacks):
    device = device_of(bob, service)
    actions.set_notifications(chat, bob, "none")

    sent(django_capture_on_commit_callbacks, actions.send_message, chat, alice, "Rope at nine?")

    assert pushes(service, device) == []


def test_mentions_only_means_replies_to_me_in_a_group(service, alice, bob, group, django_capture_on_commit_callbacks):
    dave = make_person("dave", "Dave", "Dale")
    actions.add_member(group, alice, dave)
    device = device_of(bob, service)
    actions.set_notifications(group, bob, "mentions")
    bobs, _ = actions.send_message(group, bob, "Who brings the rope?")

    sent(django_capture_on_commit_callbacks, actions.send_message, group, dave, "Not me")
    assert pushes(service, device) == []

    sent(django_capture_on_commit_callbacks, actions.send_message, group, alice, "I do", reply_to=bobs.pk)
    [payload] = pushes(service, device)
    assert payload["title"] == "Climbing"
    assert payload["body"] == "2 new messages · Alice Archer: I do"


def test_no_text_when_previews_are_off(service, alice, bob, group, django_capture_on_commit_callbacks):
    device = device_of(bob, service)
    User.objects.filter(pk=bob.pk).update(push_previews=False)

    sent(django_capture_on_commit_callbacks, actions.send_message, group, alice, "The secret crag is at 47.1N")

    [payload] = pushes(service, device)
    assert payload["title"] == "Climbing"
    assert payload["body"] == "1 new message from Alice Archer"
    assert "crag" not in str(payload)


def test_several_messages_replace_one_notification_with_a_count(
    service, alice, bob, chat, django_capture_on_commit_callbacks
):
    device = device_of(bob, service)

    for text in ("one", "two", "three"):
        sent(django_capture_on_commit_callbacks, actions.send_message, chat, alice, text)

    payloads = pushes(service, device)
    assert [p["tag"] for p in payloads] == [f"chat-{chat.pk}"] * 3
    assert payloads[-1]["body"] == "3 new messages · three"
    assert [r.headers["topic"] for r in service.received] == [f"chat-{chat.pk}"] * 3


def test_a_picture_says_photo_and_a_long_text_stays_small(
    service, alice, bob, chat, django_capture_on_commit_callbacks
):
    from flowchat.images import PICTURE, THUMBNAIL, clean_images
    from flowchat.testing import picture

    device = device_of(bob, service)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("p.png", picture().getvalue(), content_type="image/png")
    sent(
        django_capture_on_commit_callbacks,
        actions.send_message,
        chat,
        alice,
        picture=tuple(clean_images(upload, [PICTURE, THUMBNAIL])),
    )
    sent(django_capture_on_commit_callbacks, actions.send_message, chat, alice, "ж" * 4000)

    first, second = pushes(service, device)  # pushes() checks each body is under 3 KB
    assert first["body"] == "Photo"
    assert second["body"].endswith("…") and len(second["body"]) < 200


def test_files_without_text_say_file_or_photo(service, alice, bob, chat, django_capture_on_commit_callbacks):
    from conversations.tests.test_attachments import a_file, a_png, send_files

    device = device_of(bob, service)
    sent(django_capture_on_commit_callbacks, send_files, chat, alice, a_file("topo.pdf"), a_png())
    sent(django_capture_on_commit_callbacks, send_files, chat, alice, a_png(), a_png("second.png"))
    sent(django_capture_on_commit_callbacks, send_files, chat, alice, a_file("notes.txt"), text="The notes")

    bodies = [payload["body"] for payload in pushes(service, device)]
    assert bodies == ["File", "2 new messages · Photo", "3 new messages · The notes"]  # a direct chat: no name


def test_being_added_to_a_group_and_a_new_direct_chat_notify(service, alice, bob, django_capture_on_commit_callbacks):
    device = device_of(bob, service)

    group = sent(django_capture_on_commit_callbacks, actions.create_group, alice, "Climbing", [bob])
    direct, _ = sent(django_capture_on_commit_callbacks, actions.get_or_create_direct_chat, alice, bob)

    added, started = pushes(service, device)
    assert (added["title"], added["body"], added["url"]) == (
        "Climbing",
        "Alice Archer added you to the group.",
        f"/chats/{group.pk}/",
    )
    assert (started["title"], started["body"]) == ("Alice Archer", "Alice Archer started a chat with you.")
    assert started["url"] == f"/chats/{direct.pk}/"


# What the push service says -------------------------------------------------------------------------


def test_410_removes_the_subscription(service, alice, bob, chat, django_capture_on_commit_callbacks):
    device = device_of(bob, service)
    service.status = 410

    sent(django_capture_on_commit_callbacks, actions.send_message, chat, alice, "Rope at nine?")

    assert len(service.received) == 1
    assert not PushSubscription.objects.filter(pk=device.pk).exists()


def test_a_busy_push_service_is_tried_again_then_given_up(
    service, alice, bob, chat, django_capture_on_commit_callbacks, settings
):
    device = device_of(bob, service)
    path = device.endpoint.removeprefix(service.origin)
    service.answers[path] = [(503, {"Retry-After": "0"}), (429, {"Retry-After": "0"})]

    sent(django_capture_on_commit_callbacks, actions.send_message, chat, alice, "Rope at nine?")
    while sender.drain():
        pass

    assert len(service.received) == 3  # 503, 429, then 201
    assert PushSubscription.objects.get(pk=device.pk).last_success_at is not None

    service.status = 500
    outcomes = []
    sender.observers.append(lambda job, outcome: outcomes.append(outcome))
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(webpush, "RETRY_BASE_SECONDS", 0.0)
            sent(django_capture_on_commit_callbacks, actions.send_message, chat, alice, "Anyone?")
            while sender.drain():
                pass
    finally:
        sender.observers.clear()
    assert outcomes == ["retry"] * (webpush.MAX_ATTEMPTS - 1) + ["dropped"]
    assert PushSubscription.objects.filter(pk=device.pk).exists()


def test_retry_after_is_honoured_and_capped():
    class Answer:
        def __init__(self, header):
            self.headers = {"Retry-After": header} if header else {}

    assert webpush.retry_after(Answer("7"), 1) == 7
    assert webpush.retry_after(Answer("99999"), 1) == webpush.RETRY_CAP_SECONDS
    assert webpush.retry_after(Answer(""), 1) == webpush.RETRY_BASE_SECONDS
    assert webpush.retry_after(Answer(""), 3) == webpush.RETRY_BASE_SECONDS * 16
    assert webpush.retry_after(None, 10) == webpush.RETRY_CAP_SECONDS
    assert webpush.retry_after(Answer("Wed, 21 Oct 2015 07:28:00 GMT"), 1) == 0


# No server-side request forgery -------------------------------------------------------------------


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://127.0.0.1/push/x",
        "https://localhost/push/x",
        "https://10.1.2.3/push/x",
        "https://192.168.0.1/push/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/push/x",
        "https://[::ffff:127.0.0.1]/push/x",
        "http://push.example.com/push/x",
    ],
)
def test_a_crafted_private_or_loopback_endpoint_is_refused(service, bob, endpoint):
    subscription = service.device().subscription()
    with pytest.raises(ApiError) as refused:
        register_subscription(bob, {**subscription, "endpoint": endpoint})
    assert "endpoint" in refused.value.errors
    assert not PushSubscription.objects.exists()


def test_the_api_refuses_a_loopback_endpoint(service, bob, client):
    subscription = {**service.device().subscription(), "endpoint": "https://127.0.0.1:8443/push/x"}
    response = client.post("/api/push/subscriptions/", subscription, content_type="application/json", **auth(bob))
    assert response.status_code == 400
    assert "endpoint" in response.json()["errors"]


def test_an_endpoint_that_became_private_is_not_sent_to(
    service, alice, bob, chat, django_capture_on_commit_callbacks, settings
):
    """Checked again at sending: a device kept from before (or a name that now resolves inside) gets nothing."""
    device = device_of(bob, service)
    settings.WEBPUSH_TEST_ORIGINS = []  # the local push service is a loopback address like any other

    sent(django_capture_on_commit_callbacks, actions.send_message, chat, alice, "Rope at nine?")

    assert service.received == []
    assert PushSubscription.objects.filter(pk=device.pk).exists()


def test_a_redirect_is_not_followed(service, alice, bob, chat, django_capture_on_commit_callbacks):
    device = device_of(bob, service)
    path = device.endpoint.removeprefix(service.origin)
    service.answers[path] = [(307, {"Location": f"{service.origin}/inside"})]

    sent(django_capture_on_commit_callbacks, actions.send_message, chat, alice, "Rope at nine?")

    assert [r.path for r in service.received] == [path]


# Off the request path -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_slow_push_service_does_not_slow_the_send_request(service, settings):
    """The push service holds its answer until the test has the send request's answer."""
    settings.PUSH_WORKERS = 1
    alice, bob = make_person("alice", "Alice", "Archer"), make_person("bob", "Bob", "Baker")
    chat = actions.get_or_create_direct_chat(alice, bob)[0]
    device_of(bob, service)
    service.gate.clear()  # it answers when the test says
    from django.test import Client

    client = Client()
    client.force_login(alice)
    try:
        response = client.post(f"/chats/{chat.pk}/messages/", {"text": "Rope at nine?"})
        assert response.status_code in (200, 302)
        answered_before = service.answered.is_set()
        # The push does go out, from a worker thread, while the send request is long answered.
        assert service.arrived.wait(10)
        assert not answered_before and not service.answered.is_set()
    finally:
        service.gate.set()
    assert service.answered.wait(10)
    sender.stopping.set()
    for thread in sender.threads:
        thread.join(5)
    sender.stopping.clear()
    sender.threads = []
    connection.close()


# With Redis: what waits outlives the process ------------------------------------------------------


@pytest.fixture
def redis_queue(settings):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (CI sets it)")
    return webpush.RedisStore(settings.REDIS_URL)


def test_a_job_left_in_redis_is_sent_by_the_next_process(
    service, redis_queue, alice, bob, chat, django_capture_on_commit_callbacks
):
    device = device_of(bob, service)
    with django_capture_on_commit_callbacks(execute=True):
        actions.send_message(chat, alice, "Before the restart")
    assert redis_queue.redis.llen(webpush.QUEUE_KEY) == 1

    restarted = webpush.Sender()  # a new process: nothing in its memory
    assert restarted.drain() == 1

    assert [p["body"] for p in pushes(service, device)] == ["Before the restart"]


def test_the_jobs_of_a_process_that_died_go_back_to_the_queue(
    service, redis_queue, alice, bob, chat, django_capture_on_commit_callbacks
):
    device = device_of(bob, service)
    message, _ = actions.send_message(chat, alice, "Taken, then the process died")
    ghost = webpush.WORKING_KEY + "ghost:1:dead"
    redis_queue.redis.rpush(ghost, json.dumps({"kind": "message", "message": message.pk}))
    alive = webpush.WORKING_KEY + "alive:2:well"
    redis_queue.redis.rpush(alive, json.dumps({"kind": "message", "message": message.pk}))
    redis_queue.redis.set(webpush.ALIVE_KEY + "alive:2:well", "1", ex=60)
    try:
        assert webpush.Sender().drain() == 1

        assert [p["body"] for p in pushes(service, device)] == ["Taken, then the process died"]
        assert not redis_queue.redis.exists(ghost)
        assert redis_queue.redis.llen(alive) == 1  # a live process's jobs are its own
    finally:
        redis_queue.redis.delete(ghost, alive, webpush.ALIVE_KEY + "alive:2:well")


def test_with_redis_away_a_job_waits_in_the_process_and_redis_is_not_asked_again_at_once(
    service, alice, bob, chat, django_capture_on_commit_callbacks, monkeypatch
):
    device = device_of(bob, service)
    tries = []

    class Away(webpush.MemoryStore):
        def put(self, job):
            tries.append(job)
            raise ConnectionError("Redis is away")

    restarted = webpush.Sender()
    restarted._store()
    restarted.store = Away()
    monkeypatch.setattr("conversations.push.sender", restarted)
    with django_capture_on_commit_callbacks(execute=True):
        actions.send_message(chat, alice, "one")
        actions.send_message(chat, alice, "two")

    assert len(tries) == 1  # the second send did not wait for Redis
    restarted.store = restarted.fallback
    assert restarted.drain() == 2
    # Both were sent after both were written: each says how many are new.
    assert [p["body"] for p in pushes(service, device)] == ["2 new messages · one", "2 new messages · two"]
