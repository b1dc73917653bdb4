"""Sending Web Push notifications, off the request path: a bounded queue and a few worker threads.

An action schedules a job on commit (conversations.push.enqueue); the request answers at once.
A worker turns the job into deliveries (conversations.push decides who, with what text) and
POSTs each to its push service with pywebpush, with a short timeout, so a slow or dead push
service costs a worker's time, never a sender's.

Without REDIS_URL the jobs wait in this process's memory (bounded: past MAX_WAITING a job is
dropped and logged; a restart loses what was waiting). With REDIS_URL they wait in a Redis list
that every server process's workers pop from, so a restart loses nothing: a popped job is kept
in the process's own working list until it is done, and a process that died (its heartbeat key
expired) has its working list put back in the queue by the next worker that looks. Delivery is
therefore at least once: a push may, rarely, come twice (the same tag replaces it on the device).

A push service answering 404 or 410 has forgotten the device: its subscription is deleted.
429 and 5xx (and a timeout or a refused connection) are retried with backoff, honouring
Retry-After up to RETRY_CAP_SECONDS, MAX_ATTEMPTS times in all, then dropped and logged.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import logging
import os
import queue
import socket
import threading
import time
import uuid
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger(__name__)

MAX_WAITING = 10_000
MAX_ATTEMPTS = 4
# Backoff after the n-th failed attempt: RETRY_BASE_SECONDS * 4**(n-1), and never more than the cap.
RETRY_BASE_SECONDS = 2.0
RETRY_CAP_SECONDS = 300.0
# A push service that has not answered in this long is tried again later.
TIMEOUT_SECONDS = 5.0
# How long the push service keeps a notification for a device that is offline.
TTL_SECONDS = 24 * 3600
# The VAPID JWT's life (push services refuse more than 24 hours).
JWT_SECONDS = 12 * 3600

QUEUE_KEY = "flowchat:push:jobs"
LATER_KEY = "flowchat:push:later"
WORKING_KEY = "flowchat:push:working:"  # + a process's id: the jobs it popped and has not finished
ALIVE_KEY = "flowchat:push:alive:"  # + a process's id: renewed while it runs
ALIVE_SECONDS = 60
# After Redis fails a put, new jobs wait in the process for this long before Redis is tried again.
REDIS_AWAY_SECONDS = 10.0

Job = dict[str, Any]


class MemoryStore:
    """Jobs in this process: ready ones in a bounded queue, retries in a heap by when they are due."""

    def __init__(self, size: int = MAX_WAITING) -> None:
        self.ready: queue.Queue[Job] = queue.Queue(size)
        self.later: list[tuple[float, int, Job]] = []
        self.lock = threading.Lock()
        self.counter = 0

    def put(self, job: Job) -> bool:
        try:
            self.ready.put_nowait(job)
        except queue.Full:
            return False
        return True

    def put_later(self, job: Job, at: float) -> bool:
        with self.lock:
            if len(self.later) >= self.ready.maxsize:
                return False
            self.counter += 1
            heapq.heappush(self.later, (at, self.counter, job))
        return True

    def _due(self) -> float | None:
        """Moves the retries that are due to the ready queue; how long until the next one is."""
        with self.lock:
            now = time.time()
            while self.later and self.later[0][0] <= now:
                if not self.put(heapq.heappop(self.later)[2]):
                    break
            return self.later[0][0] - now if self.later else None

    def take(self, timeout: float) -> Job | None:
        wait = self._due()
        try:
            if timeout <= 0:
                return self.ready.get_nowait()
            return self.ready.get(timeout=min(timeout, wait) if wait is not None else timeout)
        except queue.Empty:
            return None

    def done(self, job: Job) -> None:
        pass

    def clear(self) -> None:
        with self.lock:
            self.later.clear()
        while True:
            try:
                self.ready.get_nowait()
            except queue.Empty:
                return


class RedisStore:
    """Jobs in Redis, shared by every server process: they outlive a restart."""

    def __init__(self, url: str, size: int = MAX_WAITING) -> None:
        import redis

        # A put happens in the request's thread (on commit): it must fail fast when Redis is away.
        self.redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=0.5)
        self.size = size
        self.me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.working = WORKING_KEY + self.me
        self.taken: dict[int, bytes] = {}  # id(job) -> its raw form in the working list
        self.checked_at = 0.0

    def put(self, job: Job) -> bool:
        if self.redis.llen(QUEUE_KEY) >= self.size:
            return False
        self.redis.rpush(QUEUE_KEY, json.dumps(job))
        return True

    def put_later(self, job: Job, at: float) -> bool:
        self.redis.zadd(LATER_KEY, {json.dumps({**job, "nonce": uuid.uuid4().hex[:8]}): at})
        return True

    def _housekeeping(self) -> None:
        now = time.time()
        for raw in self.redis.zrangebyscore(LATER_KEY, "-inf", now, start=0, num=100):
            # Only the process whose ZREM took it puts it in the queue: once, not once per worker.
            if self.redis.zrem(LATER_KEY, raw):
                self.redis.rpush(QUEUE_KEY, raw)
        if now - self.checked_at < ALIVE_SECONDS / 3:
            return
        self.checked_at = now
        self.redis.set(ALIVE_KEY + self.me, "1", ex=ALIVE_SECONDS)
        for key in self.redis.scan_iter(match=WORKING_KEY + "*", count=100):
            owner = key.decode()[len(WORKING_KEY) :]
            if owner != self.me and not self.redis.exists(ALIVE_KEY + owner):
                # That process died with these jobs popped: they go back in the queue.
                while self.redis.lmove(key, QUEUE_KEY, "LEFT", "RIGHT") is not None:
                    pass

    def take(self, timeout: float) -> Job | None:
        self._housekeeping()
        if timeout <= 0:
            raw = self.redis.lmove(QUEUE_KEY, self.working, "LEFT", "RIGHT")
        else:
            raw = self.redis.blmove(QUEUE_KEY, self.working, max(1, int(timeout)), "LEFT", "RIGHT")
        if raw is None:
            return None
        job = json.loads(raw)
        self.taken[id(job)] = raw
        return job

    def done(self, job: Job) -> None:
        raw = self.taken.pop(id(job), None)
        if raw is not None:
            self.redis.lrem(self.working, 1, raw)

    def clear(self) -> None:
        self.redis.delete(QUEUE_KEY, LATER_KEY, self.working)


class NoRedirects(requests.Session):
    """A push service answers; it does not send the server elsewhere (a redirect could point inside)."""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)


class Outcome:
    SENT = "sent"
    GONE = "gone"  # 404/410: the subscription is deleted
    RETRY = "retry"
    DROPPED = "dropped"


def retry_after(response: requests.Response | None, attempt: int) -> float:
    """Seconds until the next attempt: the push service's Retry-After if it says, else backoff; capped."""
    delay = RETRY_BASE_SECONDS * 4 ** (attempt - 1)
    header = response.headers.get("Retry-After", "") if response is not None else ""
    if header.strip().isdigit():
        delay = float(header.strip())
    elif header:
        with contextlib.suppress(TypeError, ValueError):
            delay = (parsedate_to_datetime(header) - timezone.now()).total_seconds()
    return min(max(delay, 0.0), RETRY_CAP_SECONDS)


class Sender:
    """The queue and its workers in this process."""

    def __init__(self) -> None:
        self.store: MemoryStore | RedisStore | None = None
        self.fallback = MemoryStore()
        self.pid: int | None = None
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()
        self.local = threading.local()
        self.stopping = threading.Event()
        # Test hook: called with (job, outcome) after each delivery attempt.
        self.observers: list[Callable[[Job, str], None]] = []
        self._vapid = None
        self.away_until = 0.0  # until then jobs wait in this process: Redis just failed

    @property
    def enabled(self) -> bool:
        return bool(settings.VAPID_PUBLIC_KEY and settings.VAPID_PRIVATE_KEY)

    def _store(self) -> MemoryStore | RedisStore:
        if self.pid != os.getpid():
            # A forked process starts with its own queue and threads.
            self.pid, self.threads, self.store = os.getpid(), [], None
            self.fallback = MemoryStore()
        if self.store is None:
            url = getattr(settings, "PUSH_REDIS_URL", "") or settings.REDIS_URL
            self.store = RedisStore(url) if url else self.fallback
        return self.store

    def enqueue(self, job: Job) -> None:
        """Hand a job to the workers; never raises and never waits (a full queue drops it, logged)."""
        if not self.enabled:
            return
        store = self._store()
        if store is not self.fallback and time.monotonic() < self.away_until:
            store = self.fallback  # Redis failed a moment ago: no send waits for its timeout again
        try:
            accepted = store.put(job)
        except Exception:
            # Redis is away: this process keeps the job itself rather than lose it or fail the send,
            # and for REDIS_AWAY_SECONDS does not ask Redis again (each try costs a send its timeout).
            logger.warning("Push queue in Redis unreachable: the job waits in this process", exc_info=True)
            self.away_until = time.monotonic() + REDIS_AWAY_SECONDS
            accepted = self.fallback.put(job)
        if not accepted:
            logger.error("Push queue full (%d jobs): a notification is dropped", MAX_WAITING)
        self.start()

    def start(self) -> None:
        """Start this process's workers (idempotent); none while PUSH_WORKERS is 0 (the tests run them by hand)."""
        if not self.enabled:
            return
        self._store()
        with self.lock:
            self.threads = [thread for thread in self.threads if thread.is_alive()]
            while len(self.threads) < settings.PUSH_WORKERS:
                thread = threading.Thread(target=self._work, name=f"push-{len(self.threads)}", daemon=True)
                thread.start()
                self.threads.append(thread)

    def _work(self) -> None:
        while not self.stopping.is_set():
            try:
                self.run_one(timeout=1.0)
            except Exception:
                logger.exception("Push worker: a job failed")
                time.sleep(1)
            finally:
                close_old_connections()

    def run_one(self, timeout: float = 0) -> bool:
        """Take one job and run it; False when there was none."""
        store = self._store()
        job = None
        try:
            job = store.take(timeout)
        except Exception:
            logger.warning("Push queue in Redis unreachable", exc_info=True)
            time.sleep(min(timeout, 1))
        source = store
        if job is None and store is not self.fallback:
            job, source = self.fallback.take(0), self.fallback
        if job is None:
            return False
        try:
            self.run(job)
        finally:
            try:
                source.done(job)
            except Exception:
                logger.warning("Push queue in Redis unreachable: a finished job may run again", exc_info=True)
        return True

    def drain(self) -> int:
        """Run every job that is ready, in this thread (tests, management commands); how many ran."""
        ran = 0
        while self.run_one(0):
            ran += 1
        return ran

    def clear(self) -> None:
        """Forget every waiting job (tests)."""
        self._store().clear()
        self.fallback.clear()

    def run(self, job: Job) -> None:
        from . import push

        if job.get("kind") == "delivery":
            self.deliver(job)
            return
        for delivery in push.deliveries(job):
            # Each delivery is a job of its own: one slow push service does not hold up the others.
            self.run(delivery) if settings.PUSH_WORKERS == 0 else self._requeue(delivery)

    def _requeue(self, job: Job, at: float | None = None) -> None:
        store = self._store()
        try:
            ok = store.put(job) if at is None else store.put_later(job, at)
        except Exception:
            ok = self.fallback.put(job) if at is None else self.fallback.put_later(job, at)
        if not ok:
            logger.error("Push queue full: a notification is dropped")

    # Sending ------------------------------------------------------------------------------------

    def vapid(self):
        if self._vapid is None or self._vapid[0] != settings.VAPID_PRIVATE_KEY:
            from py_vapid import Vapid

            self._vapid = (settings.VAPID_PRIVATE_KEY, Vapid.from_string(private_key=settings.VAPID_PRIVATE_KEY))
        return self._vapid[1]

    def session(self) -> requests.Session:
        if getattr(self.local, "session", None) is None:
            self.local.session = NoRedirects()
        return self.local.session

    def deliver(self, job: Job) -> str:
        from pywebpush import WebPusher

        from accounts.models import PushSubscription
        from accounts.push_endpoints import endpoint_problem

        subscription = PushSubscription.objects.filter(pk=job["subscription"]).first()
        if subscription is None:
            return self._observed(job, Outcome.DROPPED)
        # Checked again now: the name may resolve elsewhere than when the device was registered.
        if problem := endpoint_problem(subscription.endpoint):
            logger.warning("Push endpoint of device %s refused: %s", subscription.pk, problem)
            return self._observed(job, Outcome.DROPPED)
        parts = urlsplit(subscription.endpoint)
        claims = {
            "sub": settings.VAPID_SUBJECT or "mailto:admin@localhost",
            "aud": f"{parts.scheme}://{parts.netloc}",
            "exp": int(time.time()) + JWT_SECONDS,
        }
        headers = dict(self.vapid().sign(claims))
        headers["Urgency"] = "high"
        if job.get("topic"):
            # The push service keeps only the newest of a chat's notifications for an offline device.
            headers["Topic"] = job["topic"]
        info = {"endpoint": subscription.endpoint, "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth}}
        data = json.dumps(job["payload"], ensure_ascii=False, separators=(",", ":"))
        attempt = int(job.get("attempt", 1))
        response = None
        try:
            response = WebPusher(info, requests_session=self.session()).send(
                data, headers, ttl=TTL_SECONDS, timeout=TIMEOUT_SECONDS
            )
        except requests.RequestException as error:
            logger.info("Push service of device %s unreachable: %s", subscription.pk, error)
        except Exception:
            logger.exception("Push to device %s could not be made", subscription.pk)
            return self._observed(job, Outcome.DROPPED)
        status = response.status_code if response is not None else None
        if status is not None and 200 <= status < 300:
            type(subscription).objects.filter(pk=subscription.pk).update(last_success_at=timezone.now())
            return self._observed(job, Outcome.SENT)
        if status in (404, 410):
            subscription.delete()
            logger.info("Push service forgot device %s (%s): removed", subscription.pk, status)
            return self._observed(job, Outcome.GONE)
        if status is None or status == 429 or status >= 500:
            if attempt < MAX_ATTEMPTS:
                self._requeue({**job, "attempt": attempt + 1}, time.time() + retry_after(response, attempt))
                return self._observed(job, Outcome.RETRY)
            logger.warning("Push to device %s dropped after %d attempts (last: %s)", subscription.pk, attempt, status)
            return self._observed(job, Outcome.DROPPED)
        logger.warning("Push service refused a push to device %s: %s %s", subscription.pk, status, response.text[:200])
        return self._observed(job, Outcome.DROPPED)

    def _observed(self, job: Job, outcome: str) -> str:
        for observer in list(self.observers):
            observer(job, outcome)
        return outcome


sender = Sender()
