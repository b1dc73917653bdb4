"""Tabs tell their socket whether their page is shown: a person with no shown tab gets pushes."""

from __future__ import annotations

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async

from accounts.models import Connection
from conversations.tests.test_consumers import open_tab, script

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@sync_to_async
def shown(user) -> list[bool]:
    return list(Connection.objects.filter(user=user).values_list("visible", flat=True))


async def until(condition, timeout: float = 5.0) -> None:
    """Wait for the socket's write to land: polled, bounded, never a fixed sleep."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "the socket's state was never written"
        await asyncio.sleep(0.02)


async def test_a_tab_is_shown_until_it_says_it_is_hidden(alice):
    socket = await open_tab(alice)
    try:
        assert await shown(alice) == [True]
        await socket.send_to(text_data=json.dumps({"type": "visibility", "visible": False}))

        async def hidden():
            return await shown(alice) == [False]

        await until(hidden)
        await socket.send_to(text_data=json.dumps({"type": "visibility", "visible": True}))

        async def visible():
            return await shown(alice) == [True]

        await until(visible)
    finally:
        await socket.disconnect()


async def test_a_script_counts_as_hidden_unless_it_says_otherwise(alice):
    socket = await script(alice)
    connected, _ = await socket.connect()
    assert connected
    try:
        assert await shown(alice) == [False]
        await socket.send_to(text_data=json.dumps({"type": "visibility", "visible": True}))
        # Frames are handled in order: the answer to the next (a refusal) comes after this one is done.
        await socket.send_to(text_data=json.dumps({"type": "visibility", "visible": "yes"}))
        refusal = json.loads(await socket.receive_from())
        assert refusal["event"] == "error" and "visible" in refusal["data"]["detail"]
        assert await shown(alice) == [True]
    finally:
        await socket.disconnect()
