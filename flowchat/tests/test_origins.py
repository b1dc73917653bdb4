"""A tab's socket (/ws/) opens only from the site's own pages: the full Origin, scheme, host and port.

The browser sends alice's session cookie with the handshake whatever page opens it, so a page
on another port or scheme of the same host must not get her socket (and every live event).
"""

from __future__ import annotations

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client

from accounts.models import User
from conversations.presence import presence
from flowchat.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest_asyncio.fixture(autouse=True)
async def _close_connections():
    yield
    await sync_to_async(connections.close_all)()


def _cookie(user: User) -> str:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


async def opens(user: User, *, origin: str | None, host: str = "localhost:8000", scheme: str = "ws", **headers) -> bool:
    """Whether `user`'s tab socket opens with this handshake."""
    sent = {"host": host, "cookie": await sync_to_async(_cookie)(user), **headers}
    if origin is not None:
        sent["origin"] = origin
    socket = WebsocketCommunicator(
        application,
        "/ws/?lang=en",
        headers=[(name.replace("_", "-").encode(), value.encode()) for name, value in sent.items()],
    )
    socket.scope["scheme"] = scheme
    connected, _ = await socket.connect()
    if connected:
        await socket.disconnect()
    return connected


async def test_the_pages_own_origin_opens_the_socket(alice):
    assert await opens(alice, origin="http://localhost:8000")


async def test_a_page_on_another_port_of_the_same_host_is_refused_and_joins_nothing(alice):
    assert not await opens(alice, origin="http://localhost:9000")
    assert not await opens(alice, origin="http://localhost")  # port 80 is another port too
    assert alice.pk not in presence.sockets.values()  # no socket of hers ever joined


async def test_the_other_scheme_is_another_site(alice):
    assert not await opens(alice, origin="https://localhost:8000")  # a plain ws:// handshake
    assert not await opens(alice, origin="http://localhost:8000", scheme="wss")
    assert await opens(alice, origin="https://localhost:8000", scheme="wss")


async def test_behind_a_tls_proxy_the_scheme_is_the_one_django_trusts(alice, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "chat.example.com"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert await opens(alice, origin="https://chat.example.com", host="chat.example.com", x_forwarded_proto="https")
    assert not await opens(alice, origin="https://chat.example.com", host="chat.example.com")
    assert not await opens(alice, origin="http://chat.example.com", host="chat.example.com", x_forwarded_proto="https")


async def test_a_csrf_trusted_origin_opens_the_socket(alice, settings):
    # The proxy on chat.example.com passes the handshake on to the server on localhost:8001.
    settings.CSRF_TRUSTED_ORIGINS = ["https://chat.example.com"]
    assert await opens(alice, origin="https://chat.example.com", host="localhost:8001")
    assert not await opens(alice, origin="https://chat.example.com:8443", host="localhost:8001")
    assert not await opens(alice, origin="http://chat.example.com", host="localhost:8001")


async def test_a_wildcard_trusted_origin_opens_the_socket_from_its_subdomains(alice, settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.example.com"]
    assert await opens(alice, origin="https://eu.example.com", host="localhost:8001")
    assert await opens(alice, origin="https://a.b.example.com", host="localhost:8001")
    assert not await opens(alice, origin="http://eu.example.com", host="localhost:8001")
    assert not await opens(alice, origin="https://eu.example.com:8443", host="localhost:8001")
    assert not await opens(alice, origin="https://evilexample.com", host="localhost:8001")


async def test_a_host_the_site_does_not_answer_to_is_refused(alice):
    assert not await opens(alice, origin="http://evil.example", host="evil.example")


async def test_a_handshake_without_an_origin_is_refused(alice):
    assert not await opens(alice, origin=None)
    assert not await opens(alice, origin="null")  # a sandboxed frame or a file:// page
