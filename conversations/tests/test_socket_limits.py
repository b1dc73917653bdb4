"""What one person and one socket may take, and a socket when the channel layer (Redis) is away.

alice holds the sockets; bob, her chat partner, shows that others are unaffected.
"""

from __future__ import annotations

import json
import shutil
import socket as sockets_module
import subprocess
import time
from unittest import mock

import pytest
from channels.layers import get_channel_layer
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from redis.exceptions import ConnectionError as RedisConnectionError

from conversations import actions, socket_limits
from conversations.tests.test_consumers import _clean_slate, act, open_tab, pushed, script, tab  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def until_closed(socket) -> tuple[list[str], int]:
    """What an accepted socket is sent until it is closed, and the close code."""
    frames = []
    while (output := await socket.receive_output(timeout=2))["type"] != "websocket.close":
        frames.append(output["text"])
    return frames, output["code"]


async def closed_with(socket) -> int:
    return (await until_closed(socket))[1]


def details(frames: list[str]) -> list[str]:
    """The error events among a script's frames."""
    return [event["data"]["detail"] for event in map(json.loads, frames) if event["event"] == "error"]


# Sockets per person ---------------------------------------------------------------------------------


async def test_a_person_opens_up_to_the_cap_and_the_next_socket_is_closed_with_4429(alice, bob, settings):
    settings.MAX_SOCKETS_PER_PERSON = 3
    tabs = [await open_tab(alice) for _ in range(2)]
    alice_script = await script(alice)
    assert (await alice_script.connect())[0]

    over = await tab(alice)
    assert (await over.connect())[0]  # accepted, so that the code reaches htmx (4429 is not retried)
    assert await closed_with(over) == 4429
    extra_script = await script(alice)
    assert (await extra_script.connect())[0]
    frames, code = await until_closed(extra_script)
    assert (details(frames), code) == (["Too many sockets open; close some first."], 4429)

    bob_tab = await open_tab(bob)  # others are not affected
    # Closing one makes room for one.
    await tabs.pop().disconnect()
    tabs.append(await open_tab(alice))
    assert await tabs[-1].receive_nothing(timeout=0.3)
    for socket in [*tabs, alice_script, bob_tab]:
        await socket.disconnect()
    assert alice.pk not in socket_limits.sockets.open


# Frames per socket ----------------------------------------------------------------------------------


async def test_a_flood_of_bad_typing_frames_closes_the_socket_without_touching_the_database(alice, bob, carol):
    others, _ = await act(actions.get_or_create_direct_chat)(bob, carol)  # not alice's chat
    socket = await script(alice)
    assert (await socket.connect())[0]
    database_calls = []

    def counted(real):
        def call(*args, **kwargs):
            database_calls.append(real.__name__)
            return real(*args, **kwargs)

        return call

    async def clean_up() -> None:
        database_calls.append("close_old_connections")

    with (
        mock.patch.object(BaseDatabaseWrapper, "ensure_connection", counted(BaseDatabaseWrapper.ensure_connection)),
        mock.patch.object(CursorWrapper, "execute", counted(CursorWrapper.execute)),
        # channels' clean-up before each handler: a hop to the database thread per frame.
        mock.patch("channels.consumer.aclose_old_connections", clean_up),
    ):
        for _ in range(3000):
            await socket.send_to(text_data=json.dumps({"type": "typing", "chat": others.pk}))
        frames, code = await until_closed(socket)
    # A few bad frames are answered; then the socket says why it closes.
    assert details(frames) == ["No such chat."] * 20 + ["Too many frames; this socket is closed."]
    assert code == 4429
    assert database_calls == []


async def test_frames_within_the_budget_are_answered_and_the_budget_refills(alice, settings):
    settings.SOCKET_FRAME_BURST, settings.SOCKET_FRAMES_PER_SECOND = 3, 2
    now = [1000.0]

    async def answers(frames: int) -> list[str]:
        for _ in range(frames):
            await socket.send_json_to({"type": "typing", "chat": 123456})
        return [json.loads(await socket.receive_from())["data"]["detail"] for _ in range(frames)]

    with mock.patch.object(socket_limits, "clock", lambda: now[0]):
        socket = await script(alice)
        assert (await socket.connect())[0]
        assert await answers(3) == ["No such chat."] * 3
        now[0] += 0.5  # one more frame's worth, at 2 a second
        assert await answers(1) == ["No such chat."]
        assert await answers(1) == ["Too many frames; this socket is closed."]
        assert await closed_with(socket) == 4429


# The channel layer is away ----------------------------------------------------------------------------


async def test_a_socket_that_cannot_join_the_layer_is_told_to_come_back_with_1013(alice, bob, settings):
    settings.MAX_SOCKETS_PER_PERSON = 1
    layer = get_channel_layer()
    with mock.patch.object(layer, "group_add", side_effect=RedisConnectionError("Connection refused")):
        for _ in range(2):
            refused = await tab(alice)
            assert (await refused.connect())[0]  # accepted to say so: a refused handshake would be 1006
            assert await closed_with(refused) == 1013  # htmx reconnects after 1013, later
        refused_script = await script(alice)
        assert (await refused_script.connect())[0]
        assert await closed_with(refused_script) == 1013
    assert alice.pk not in socket_limits.sockets.open  # none of them still counts

    # Back: the next socket joins, hears what happens, and counts as her one socket.
    chat, _ = await act(actions.get_or_create_direct_chat)(alice, bob)
    alice_tab = await open_tab(alice)
    await act(actions.send_message)(chat, bob, text="Back again")
    assert "Back again" in await pushed(alice_tab)
    await alice_tab.disconnect()


@pytest.mark.parametrize(
    "failure",
    [
        RedisConnectionError("Connection refused"),
        # What redis-py raises when it writes to a connection Redis dropped a moment before.
        AttributeError("'NoneType' object has no attribute '_add_writer'"),
    ],
)
async def test_a_socket_the_layer_cannot_even_name_is_told_to_come_back_with_1013(alice, failure):
    layer = get_channel_layer()
    with mock.patch.object(layer, "new_channel", side_effect=failure):
        refused = await tab(alice)
        assert (await refused.connect())[0]
        assert await closed_with(refused) == 1013
        await refused.wait(timeout=1)  # and it ended cleanly, leaving nothing to forget


def free_port() -> int:
    with sockets_module.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def private_redis(tmp_path):
    """A Redis of this test's own (never the shared one), which the test may stop."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    command = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 5
    while True:
        try:
            sockets_module.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    yield server, f"redis://127.0.0.1:{port}/0"
    server.kill()
    server.wait()


async def test_with_a_real_redis_stopped_a_new_tab_is_told_to_come_back(alice, settings, private_redis):
    server, url = private_redis
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer", "CONFIG": {"hosts": [url]}}
    }
    first = await open_tab(alice)
    await first.disconnect()

    server.kill()
    server.wait()
    refused = await tab(alice)
    assert (await refused.connect(timeout=5))[0]
    assert await closed_with(refused) == 1013
    await refused.wait(timeout=1)
