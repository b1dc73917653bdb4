"""Who is online, as a server process writes it: in batches, whatever the number of sockets.

alice and bob chat; their sockets here are channel names in this process's presence.
"""

from __future__ import annotations

import asyncio
from unittest import mock

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from django.db import connections
from django.utils import timezone

from accounts.models import Connection, User
from conftest import make_person
from conversations import actions
from conversations.presence import presence

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


@pytest_asyncio.fixture(autouse=True)
async def _close_worker_connections():
    yield
    await presence.settled()
    await sync_to_async(connections.close_all)()


async def online(*people: User) -> list[bool]:
    await presence.settled()
    return [(await User.objects.aget(pk=person.pk)).is_online for person in people]


async def test_a_wave_of_sockets_opening_at_once_is_written_in_a_few_batches():
    people = [await sync_to_async(make_person)(f"person{n}") for n in range(40)]
    with mock.patch.object(actions, "sockets_changed", wraps=actions.sockets_changed) as writes:
        await asyncio.gather(*(presence.open(f"tab-{person.pk}", person.pk) for person in people))

    assert writes.call_count <= 2
    assert await online(*people) == [True] * 40
    assert await Connection.objects.acount() == 40
    for person in people:
        presence.close(f"tab-{person.pk}")
    assert await online(*people) == [False] * 40
    assert await Connection.objects.acount() == 0


async def test_a_socket_closed_before_it_was_written_leaves_no_trace(alice):
    opening = asyncio.ensure_future(presence.open("a-tab-that-went-away", alice.pk))
    await asyncio.sleep(0)  # it is in, waiting for the next write
    presence.close("a-tab-that-went-away")
    await opening

    assert await online(alice) == [False]
    assert not await Connection.objects.aexists()
    assert (await User.objects.aget(pk=alice.pk)).last_active is None


async def test_the_heartbeat_renews_every_open_socket(alice, bob, settings):
    settings.PRESENCE_HEARTBEAT_SECONDS = 0.05
    await presence.open("alice-tab", alice.pk)
    await presence.open("bob-tab", bob.pk)
    first = {c.channel_name: c.expires_at async for c in Connection.objects.all()}

    while True:  # the next heartbeat, however the loop is scheduled
        await asyncio.sleep(0.05)
        renewed = {c.channel_name: c.expires_at async for c in Connection.objects.all()}
        if all(renewed[name] > first[name] for name in first):
            break

    assert await online(alice, bob) == [True, True]
    presence.close("alice-tab")
    presence.close("bob-tab")
    assert await online(alice, bob) == [False, False]


async def test_a_database_that_is_away_delays_presence_without_losing_it(alice):
    calls = 0
    real = actions.sockets_changed

    def flaky(*args, **kwargs):
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("the database is restarting")
        return real(*args, **kwargs)

    with mock.patch.object(actions, "sockets_changed", side_effect=flaky):
        await presence.open("alice-tab", alice.pk)  # answers even though the write failed
        assert await online(alice) == [True]

    assert calls == 2
    presence.close("alice-tab")
    assert await online(alice) == [False]
    assert (await User.objects.aget(pk=alice.pk)).last_active <= timezone.now()
