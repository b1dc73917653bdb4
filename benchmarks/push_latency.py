"""How long a push takes to leave, and what a dead push service costs the sender (nothing, it should).

    .venv/bin/python benchmarks/push_latency.py            # SQLite
    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python benchmarks/push_latency.py

Builds a throw-away test database, a local push service (flowchat.push_service, which checks
each request's VAPID JWT) and starts the push workers in this process. Then, over SENDS sends
each through the real send view (POST /chats/<id>/messages/):

- send → push: from the start of the send request to the push request reaching the push
  service (the job queued on commit, a worker building it, encrypting, signing, POSTing);
- the send request's latency to someone with no device and to someone whose push service
  is dead (it accepts the connection and never answers: each attempt holds a worker for the
  5 s timeout), sent in turn; and to a working push service.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowchat.settings")
os.environ.setdefault("SEND_RATE_BURST", "100000")

import django

django.setup()

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import setup_test_environment

SENDS = int(os.getenv("BENCH_SENDS", "40"))


def quantiles(values: list[float]) -> str:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"median {statistics.median(values):7.2f} ms   p95 {p95:7.2f} ms   max {values[-1]:7.2f} ms"


def main() -> None:
    from accounts.api import register_subscription
    from accounts.models import User
    from conversations import actions
    from conversations.webpush import sender
    from flowchat.push_service import PushService, vapid_keys

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    public, private = vapid_keys()
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = public, private
    settings.VAPID_SUBJECT = "mailto:bench@flowchat.test"
    service = PushService(public)
    dead = PushService(public)
    dead.gate.clear()  # never answers (until the end)
    settings.WEBPUSH_TEST_ORIGINS = [service.origin, dead.origin]
    settings.PUSH_WORKERS = int(os.getenv("PUSH_WORKERS", "2"))
    try:
        sender.clear()
        alice = User.objects.create_user("alice", password="benchmark-password", first_name="Alice")
        bob = User.objects.create_user("bob", password="benchmark-password", first_name="Bob")
        carol = User.objects.create_user("carol", password="benchmark-password", first_name="Carol")
        dave = User.objects.create_user("dave", password="benchmark-password", first_name="Dave")
        to_bob = actions.get_or_create_direct_chat(alice, bob)[0]
        to_carol = actions.get_or_create_direct_chat(alice, carol)[0]
        to_dave = actions.get_or_create_direct_chat(alice, dave)[0]
        client = Client()
        client.force_login(alice)

        def send(chat, n: int) -> tuple[float, float]:
            start = time.perf_counter()
            response = client.post(f"/chats/{chat.pk}/messages/", {"text": f"message {n}"}, secure=True)
            assert response.status_code in (200, 302), response.status_code
            return start, time.perf_counter()

        for n in range(5):  # warm up
            send(to_dave, n)

        # bob's device is at the working push service: send, then wait for the push to arrive.
        device = service.device("bob")
        register_subscription(bob, device.subscription())
        with_service, to_push = [], []
        for n in range(SENDS):
            service.arrived.clear()
            start, end = send(to_bob, n)
            with_service.append((end - start) * 1000)
            assert service.arrived.wait(10), "no push arrived"
            to_push.append((service.received[-1].at - start) * 1000)
        assert all(r.jwt_error == "" for r in service.received)

        # carol's device is at the dead one; dave has none. Sent in turn, so that the machine's
        # load weighs on both alike.
        register_subscription(carol, dead.device("carol").subscription())
        without, with_dead = [], []
        for n in range(SENDS):
            start, end = send(to_dave, n)
            without.append((end - start) * 1000)
            start, end = send(to_carol, n)
            with_dead.append((end - start) * 1000)

        print(f"{connection.vendor}, {'Redis' if settings.REDIS_URL else 'in-process'} queue, ", end="")
        print(f"{settings.PUSH_WORKERS} push workers, {SENDS} sends each, load average {os.getloadavg()[0]:.1f}")
        print(f"send start → push request at the push service   {quantiles(to_push)}")
        print(f"send request, to someone with no device          {quantiles(without)}")
        print(f"send request, to a dead push service             {quantiles(with_dead)}")
        print(f"send request, to a working push service          {quantiles(with_service)}")
        print(f"requests the dead push service was holding: {len(dead.received)}")
    finally:
        sender.stopping.set()
        dead.close()
        service.close()
        for thread in sender.threads:
            thread.join(6)
        sender.clear()
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    threading.excepthook = lambda args: None  # workers stopped mid-request at the end say nothing
    main()
