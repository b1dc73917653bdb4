"""Scaling out: several server processes on one Redis deliver to each other's sockets.

Two real server processes, as bin/serve starts them in production, share the test database and
Redis (REDIS_URL; the real one in CI).
A script's socket on one hears a message sent through the other; when its process is killed,
the script reconnects to the survivor with `?after=` and misses nothing, and its person goes
offline when the dead process's heartbeat stops.
"""

from __future__ import annotations

import json
import os
import signal
import urllib.request
from collections.abc import Iterator

import pytest
import redis
from websockets.sync.client import ClientConnection, connect

from conftest import make_person, require
from conversations import actions
from flowchat.testing import token_for

from .conftest import Server, start_server, stop_server

pytestmark = pytest.mark.browser  # real server processes, like the browser tests


def redis_is_up(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture
def two_servers(transactional_db, tmp_path) -> Iterator[tuple[Server, Server]]:
    url = os.getenv("REDIS_URL", "")
    require(bool(url) and redis_is_up(url), "Scale-out needs Redis: set REDIS_URL to a running server")
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    # Quick heartbeats, so that a dead process's people go offline within the test.
    presence = {"PRESENCE_HEARTBEAT_SECONDS": "1", "PRESENCE_TTL_SECONDS": "3"}
    first = start_server(tmp_path / "first", production=True, **presence)
    second = start_server(tmp_path / "second", production=True, **presence)
    try:
        yield first, second
    finally:
        stop_server(first)
        stop_server(second)


def script_socket(server: Server, key: str, query: str = "") -> ClientConnection:
    return connect(
        server.url.replace("http://", "ws://") + f"/ws/api/{query}",
        additional_headers={"Authorization": f"Token {key}"},
        open_timeout=5,
    )


def post_message(server: Server, key: str, chat_id: int, text: str) -> dict:
    request = urllib.request.Request(  # noqa: S310 — our own server
        f"{server.url}/api/messages/",
        data=json.dumps({"chat": chat_id, "text": text}).encode(),
        headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return json.load(response)


def next_presence(socket: ClientConnection, user_id: int) -> dict:
    while True:
        event = json.loads(socket.recv(timeout=10))
        if event["event"] == "presence" and event["data"]["user"]["id"] == user_id:
            return event


def next_message(socket: ClientConnection) -> dict:
    """The next message.created event (presence and the like are skipped)."""
    while True:
        event = json.loads(socket.recv(timeout=5))
        if event["event"] in {"message.created", "caught_up"}:
            return event


def test_a_message_through_one_process_reaches_a_socket_on_the_other_and_survives_its_death(two_servers):
    first, second = two_servers
    alice, bob = make_person("alice", "Alice"), make_person("bob", "Bob")
    chat, _ = actions.get_or_create_direct_chat(alice, bob)
    alice_key, bob_key = token_for(alice), token_for(bob)

    with script_socket(first, alice_key) as alice_socket, script_socket(second, bob_key) as bob_socket:
        assert next_presence(alice_socket, bob.pk)["data"]["is_online"] is True
        sent = post_message(first, alice_key, chat.pk, "Across processes")
        event = next_message(bob_socket)
        assert event["chat"] == chat.pk
        assert event["data"]["id"] == sent["id"]
        assert event["data"]["text"] == "Across processes"

        # bob's process dies: nobody closes his socket, but its heartbeat stops, so the
        # surviving process soon says he is offline. What is sent meanwhile waits for him.
        second.process.send_signal(signal.SIGKILL)
        second.process.wait(timeout=10)
        missed = [post_message(first, alice_key, chat.pk, f"While you were away {n}")["id"] for n in (1, 2)]
        assert next_presence(alice_socket, bob.pk)["data"]["is_online"] is False

    with script_socket(first, bob_key, f"?after={sent['id']}") as bob_socket:
        caught_up = [next_message(bob_socket) for _ in range(3)]
    assert [event["data"].get("id") for event in caught_up[:2]] == missed
    assert caught_up[2]["event"] == "caught_up"
