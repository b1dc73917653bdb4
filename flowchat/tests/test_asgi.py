"""The ASGI application as a server starts and stops it (uvicorn and granian send lifespan events)."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from accounts.models import Connection, User
from conversations.presence import presence
from flowchat.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def lifespan() -> tuple[asyncio.Queue, asyncio.Queue, asyncio.Task]:
    to_app, from_app = asyncio.Queue(), asyncio.Queue()
    task = asyncio.ensure_future(application({"type": "lifespan"}, to_app.get, from_app.put))
    return to_app, from_app, task


async def test_a_graceful_stop_writes_who_went_offline_before_the_process_ends(alice):
    to_app, from_app, running = await lifespan()
    await to_app.put({"type": "lifespan.startup"})
    assert await from_app.get() == {"type": "lifespan.startup.complete"}
    await presence.open("alice-tab", alice.pk)
    assert (await User.objects.aget(pk=alice.pk)).is_online

    presence.close("alice-tab")  # the server closed her socket as it stopped
    await to_app.put({"type": "lifespan.shutdown"})

    assert await from_app.get() == {"type": "lifespan.shutdown.complete"}
    await running
    assert not await Connection.objects.aexists()
    assert not (await User.objects.aget(pk=alice.pk)).is_online
    await sync_to_async(connections.close_all)()
