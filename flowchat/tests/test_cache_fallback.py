"""With Redis down the rate limits count in the process, so people still log in and sign up.

Every rate limit (the wrong-password counts of the login page and /api/login/, allauth's
sign-up limit, django_ratelimit's for /api/users/, the send rate) keeps its counters in the
default cache. Here that cache is flowchat.cache.RedisWithFallback pointing at a port where
nothing listens, at a socket that accepts and never answers (a hung Redis), or at a private
redis-server that a test kills and starts again (never the shared one on 6379).
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from django.core.cache.backends import locmem
from django.urls import reverse

from conftest import PASSWORD, require
from conversations import limits
from flowchat import cache as fallback_cache

JSON = "application/json"
LOGIN_URL = reverse("account_login")
SIGNUP_URL = reverse("account_signup")
TOO_MANY = "Too many failed login attempts"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def use_redis_cache(settings, url: str, backend: str = "flowchat.cache.RedisWithFallback") -> None:
    settings.CACHES = {
        "default": {
            "BACKEND": backend,
            "LOCATION": url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }


@pytest.fixture(autouse=True)
def _fresh_outage(monkeypatch):
    """Each test starts with Redis thought up, its warning not yet given, and an empty fallback."""
    monkeypatch.setattr(fallback_cache, "_outages", {})
    from django.core.cache.backends import locmem

    for name in [name for name in locmem._caches if name.startswith("flowchat-redis-fallback:")]:
        locmem._caches[name].clear()


@pytest.fixture
def redis_down(settings) -> str:
    """A cache at a port where nothing listens: every call is refused at once."""
    url = f"redis://127.0.0.1:{free_port()}/0"
    use_redis_cache(settings, url)
    return url


class RedisServer:
    """A private redis-server this test starts, kills and starts again."""

    def __init__(self, port: int) -> None:
        self.port, self.process = port, None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def keys(self) -> list[bytes]:
        import redis

        return redis.Redis(port=self.port).keys("*")


@pytest.fixture
def private_redis(settings) -> Iterator[RedisServer]:
    require(shutil.which("redis-server") is not None, "redis-server is not installed")
    server = RedisServer(free_port())
    server.start()
    use_redis_cache(settings, server.url)
    try:
        yield server
    finally:
        server.kill()


def web_login(client, username: str, password: str):
    return client.post(LOGIN_URL, {"login": username, "password": password})


def api_login(client, username: str, password: str):
    return client.post("/api/login/", {"username": username, "password": password}, content_type=JSON)


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "flowchat.cache" and r.levelno == logging.WARNING]


# Redis down --------------------------------------------------------------------------------


def test_with_redis_down_the_login_form_still_logs_in(client, alice, redis_down, caplog):
    response = web_login(client, "alice", PASSWORD)

    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200
    assert len(warnings(caplog)) == 1
    assert "rate limits count in this process" in warnings(caplog)[0]


def test_with_redis_down_the_login_form_still_refuses_after_too_many_wrong_passwords(client, alice, redis_down):
    for _ in range(5):
        assert TOO_MANY not in web_login(client, "alice", "wrong-password").content.decode()

    refused = web_login(client, "alice", PASSWORD)

    assert TOO_MANY in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_with_redis_down_the_signup_form_still_signs_people_up(client, db, redis_down):
    response = client.post(SIGNUP_URL, {"username": "dave", "password1": PASSWORD, "password2": PASSWORD})

    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_with_redis_down_the_api_login_still_logs_in(client, alice, redis_down):
    response = api_login(client, "alice", PASSWORD)

    assert response.status_code == 200
    assert response.json()["username"] == "alice"


def test_with_redis_down_the_api_login_still_refuses_after_too_many_attempts(client, alice, settings, redis_down):
    settings.LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS = 3
    assert [api_login(client, "alice", "wrong-password").status_code for _ in range(3)] == [401] * 3

    refused = api_login(client, "alice", PASSWORD)

    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Too many failed login attempts. Try again in ")


def test_with_redis_down_the_api_registration_still_works(client, db, redis_down):
    response = client.post("/api/users/", {"username": "dave", "password": PASSWORD}, content_type=JSON)

    assert response.status_code == 201


def test_an_outage_is_one_warning_not_one_per_request(client, alice, redis_down, caplog, monkeypatch):
    # Each request would try Redis again were it not for the pause after a failure.
    monkeypatch.setattr(fallback_cache, "RETRY_SECONDS", 0.0)
    for _ in range(5):
        api_login(client, "alice", PASSWORD)
        web_login(client, "alice", PASSWORD)

    assert len(warnings(caplog)) == 1


def test_the_send_rate_still_counts_with_redis_down(client, alice, chat, settings, redis_down, monkeypatch):
    settings.SEND_RATE_BURST, settings.SEND_RATE_PER_MINUTE = 3, 60
    monkeypatch.setattr(limits, "clock", lambda: 1_700_000_000.0)
    client.force_login(alice)
    url = reverse("send_message", args=[chat.pk])

    statuses = [client.post(url, {"text": f"line {n}"}).status_code for n in range(4)]

    assert statuses == [302, 302, 302, 429]
    assert chat.messages.count() == 3


def test_a_hung_redis_does_not_hang_the_login(client, alice, settings):
    listener = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    try:
        use_redis_cache(settings, f"redis://127.0.0.1:{listener.getsockname()[1]}/0")
        started = time.monotonic()
        responses = [web_login(client, "alice", PASSWORD), api_login(client, "alice", PASSWORD)]
        took = time.monotonic() - started
    finally:
        listener.close()

    assert [response.status_code for response in responses] == [302, 200]
    # One timeout of 0.5 s, then the process counts alone for RETRY_SECONDS.
    assert took < 0.5 * 3


# A private Redis that goes down and comes back ---------------------------------------------------


def test_the_limits_count_in_redis_then_in_the_process_then_in_redis_again(
    client, alice, private_redis, caplog, monkeypatch
):
    caplog.set_level(logging.INFO, logger="flowchat.cache")
    # No pause after a failure: the first call after Redis is back goes there.
    monkeypatch.setattr(fallback_cache, "RETRY_SECONDS", 0.0)
    assert api_login(client, "alice", "wrong-password").status_code == 401
    assert private_redis.keys(), "the counters are in Redis"

    private_redis.kill()
    assert api_login(client, "alice", PASSWORD).status_code == 200
    assert len(warnings(caplog)) == 1

    private_redis.start()
    assert api_login(client, "alice", "wrong-password").status_code == 401
    assert private_redis.keys(), "the counters are in Redis again"
    assert any("answers again" in r.getMessage() for r in caplog.records if r.name == "flowchat.cache")


def test_wrong_passwords_counted_in_redis_refuse_the_next_login_from_any_process(
    client, alice, private_redis, settings
):
    settings.LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS = 2
    assert [api_login(client, "alice", "wrong-password").status_code for _ in range(2)] == [401, 401]
    stored = private_redis.keys()
    assert any(key.startswith(b":1:login-failures:pair:") for key in stored)
    for name in [name for name in locmem._caches if name.startswith("flowchat-redis-fallback:")]:
        locmem._caches[name].clear()  # nothing counted in this process: the refusal comes from Redis

    refused = web_login(client, "alice", PASSWORD)

    assert TOO_MANY in refused.content.decode()
    assert api_login(client, "alice", PASSWORD).status_code == 429


def test_the_send_rate_in_redis_is_one_bucket_for_every_process(private_redis, alice, chat, settings, monkeypatch):
    """Two cache objects (as two processes have) draw on one bucket in Redis."""
    settings.SEND_RATE_BURST, settings.SEND_RATE_PER_MINUTE = 3, 60
    now = [1_700_000_000.0]
    monkeypatch.setattr(limits, "clock", lambda: now[0])
    other_process = fallback_cache.RedisWithFallback(private_redis.url, {})

    limits.count_send(alice)
    limits.count_send(alice)
    assert fallback_cache.take_token(other_process, f"send-rate:{alice.pk}", burst=3, interval=1.0, now=now[0]) == 0
    with pytest.raises(limits.SendingTooFast) as refused:
        limits.count_send(alice)

    assert refused.value.retry_after == 1
    now[0] += 1
    limits.count_send(alice)


def test_parallel_takes_from_many_processes_never_exceed_the_burst(private_redis):
    """What the 150 parallel sends found: each cache object stands for one server process."""
    from concurrent.futures import ThreadPoolExecutor

    processes = [fallback_cache.RedisWithFallback(private_redis.url, {}) for _ in range(8)]

    def take(n: int) -> float:
        return fallback_cache.take_token(processes[n % 8], "send-rate:1", burst=30, interval=1.0, now=1_700_000_000.0)

    with ThreadPoolExecutor(16) as pool:
        waits = list(pool.map(take, range(150)))

    assert waits.count(0.0) == 30
    assert min(wait for wait in waits if wait) == pytest.approx(1.0)
