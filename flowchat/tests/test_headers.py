"""What every answer says about caching, browser features and the server behind it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from flowchat.testing import token_for

PRIVATE = "private, no-store"
DENIED = ("camera", "microphone", "geolocation", "payment", "usb")


def denies_features(response) -> bool:
    policy = response["Permissions-Policy"]
    return all(f"{feature}=()" in policy for feature in DENIED)


@pytest.mark.django_db
def test_a_signed_in_persons_page_is_never_stored(client, alice, chat):
    client.force_login(alice)
    response = client.get(f"/chats/{chat.pk}/")
    assert response.status_code == 200
    assert response["Cache-Control"] == PRIVATE
    assert denies_features(response)


@pytest.mark.django_db
def test_a_fragment_for_a_signed_in_person_is_never_stored(client, alice, chat):
    client.force_login(alice)
    response = client.get(
        f"/chats/{chat.pk}/updates/?after=0&since=2026-01-01T00:00:00%2B00:00", headers={"hx-request": "true"}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == PRIVATE


@pytest.mark.django_db
def test_an_api_answer_to_a_token_is_never_stored(api, alice, chat):
    response = api.get("/api/chats/", headers={"authorization": f"Token {token_for(alice)}"})
    assert response.status_code == 200
    assert response["Cache-Control"] == PRIVATE


@pytest.mark.django_db
def test_a_public_page_keeps_its_own_caching_and_still_denies_features(client):
    response = client.get("/accounts/signup/")
    assert response.status_code == 200
    assert response.get("Cache-Control") != PRIVATE
    assert denies_features(response)


@pytest.mark.django_db
def test_a_members_picture_keeps_its_private_caching(client, alice, chat):
    from conversations import actions
    from conversations.views import INITIALS_CACHE_CONTROL

    group = actions.create_group(alice, "Book club", [])
    client.force_login(alice)
    response = client.get(f"/chats/{group.pk}/initials.svg")
    assert response.status_code == 200
    assert response["Cache-Control"] == INITIALS_CACHE_CONTROL


# The servers themselves --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def raw_answer(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n\r\n", 1)[0]


@pytest.mark.parametrize("server", ["daphne", "uvicorn"])
def test_neither_server_names_itself(server, tmp_path):
    root = Path(settings.BASE_DIR)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}} | {
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    if server == "daphne":
        command = [str(Path(sys.executable).parent / "daphne"), "-b", "127.0.0.1", "-p", str(port)]
        command.append("flowchat.asgi:application")
    else:
        command = [str(root / "bin" / "serve")]
    process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and process.poll() is None, f"{server} did not start"
                time.sleep(0.1)
        page = raw_answer(port, b"GET /api/schema/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        handshake = raw_answer(
            port,
            b"GET /ws/ HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Origin: http://127.0.0.1\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            b"Sec-WebSocket-Version: 13\r\n\r\n",
        )
    finally:
        process.terminate()
        process.wait(10)
    assert page.startswith(b"HTTP/1.1 200"), page
    assert handshake.startswith(b"HTTP/1.1 "), handshake
    for head in (page, handshake):
        names = [line.split(b":", 1)[0].lower() for line in head.split(b"\r\n")[1:]]
        assert b"server" not in names, head
