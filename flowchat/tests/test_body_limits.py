"""Bodies over MAX_REQUEST_BYTES are refused with 413 before they are read, through the ASGI app a server runs."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from flowchat.asgi import application
from flowchat.testing import post_scope

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

LIMIT = 1000


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.MAX_REQUEST_BYTES = LIMIT


class Client:
    """Feeds `chunks` to the app as the server would and records what it reads and answers."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.read = 0
        self.sent: list[dict] = []

    async def receive(self) -> dict:
        if self.read < len(self.chunks):
            self.read += 1
            return {
                "type": "http.request",
                "body": self.chunks[self.read - 1],
                "more_body": self.read < len(self.chunks),
            }
        await asyncio.Event().wait()  # the client waits for its answer
        raise AssertionError("unreachable")

    async def send(self, message: dict) -> None:
        self.sent.append(message)

    async def run(self, path: str, headers: dict[str, str]) -> None:
        await application(post_scope(path, headers), self.receive, self.send)
        await sync_to_async(connections.close_all)()

    @property
    def status(self) -> int:
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        assert len(starts) == 1, self.sent  # one answer, not ours and then Django's
        return starts[0]["status"]

    @property
    def headers(self) -> dict[str, str]:
        start = next(m for m in self.sent if m["type"] == "http.response.start")
        return {k.decode(): v.decode() for k, v in start["headers"]}

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


async def test_a_declared_length_over_the_limit_is_refused_before_a_byte_is_read():
    client = Client([b"x" * 50_000])
    await client.run("/api/messages/", {"content-length": "50000", "content-type": "application/json"})
    assert client.status == 413
    assert client.read == 0
    assert client.headers["content-type"] == "application/json"
    assert json.loads(client.body) == {"detail": "The request body is too large: at most 1000 bytes are accepted."}


async def test_a_page_gets_a_short_page_in_the_browsers_language():
    client = Client([b"x" * 5000])
    await client.run(
        "/accounts/login/",
        {"content-length": "5000", "content-type": "application/x-www-form-urlencoded", "accept-language": "ru"},
    )
    assert client.status == 413
    assert client.read == 0
    assert client.headers["content-type"] == "text/html; charset=utf-8"
    page = client.body.decode()
    assert '<html lang="ru"' in page
    assert "Слишком много, чтобы отправить" in page


async def test_a_streamed_body_is_refused_once_it_passes_the_limit_and_no_further_chunk_is_read():
    client = Client([b"x" * 400] * 10)  # chunked: no Content-Length, 4000 bytes in all
    await client.run("/api/messages/", {"transfer-encoding": "chunked", "content-type": "application/json"})
    assert client.status == 413
    assert client.read == 3  # 1200 bytes: the third chunk passed 1000
    assert json.loads(client.body)["detail"].startswith("The request body is too large")


async def test_a_body_within_the_limit_reaches_flowchat(fresh_rate_limits):
    body = json.dumps({"username": "nobody", "password": "x" * (LIMIT - 40)}).encode()
    assert len(body) <= LIMIT
    client = Client([body[:500], body[500:]])
    await client.run("/api/login/", {"content-type": "application/json"})
    assert client.status == 401  # FlowChat read it all and answered: no such person


async def test_no_limit_when_it_is_turned_off(settings, fresh_rate_limits):
    settings.MAX_REQUEST_BYTES = 0
    body = json.dumps({"username": "nobody", "password": "x" * 5000}).encode()
    client = Client([body])
    await client.run("/api/login/", {"content-length": str(len(body)), "content-type": "application/json"})
    assert client.status == 401
