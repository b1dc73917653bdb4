"""Message versions on their way out: an edit read before a delete and published after it
(two server processes, one quicker than the other) must not bring the text back.

The stale event is made as the race makes it: broadcast.message_changed reads the edited
message before the delete commits; it reaches the channel layer after the delete's event.
"""

from __future__ import annotations

import json
from unittest import mock

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client

from accounts.models import User
from conversations import actions, broadcast
from conversations.broadcast import chat_group
from conversations.consumers import SentVersions
from flowchat.asgi import application
from flowchat.testing import check_event, token_for

ORIGIN = (b"origin", b"http://localhost:8000")
HOST = (b"host", b"localhost:8000")
act = sync_to_async


def read_before_the_delete(message_id: int, name: str = "message.edited") -> dict:
    """The event message_changed makes now, held back instead of published."""
    with mock.patch.object(broadcast.outbox, "put") as publishing:
        broadcast.message_changed(message_id, name)
    ((_group, event),) = [call.args for call in publishing.call_args_list]
    return event


# What is published ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_event_carries_the_version_of_what_it_shows(alice, bob, chat):
    message, _ = actions.send_message(chat, alice, "one")
    actions.edit_message(message, alice, "two")

    event = read_before_the_delete(message.pk)

    assert event["message"]["version"] == 2
    assert event["data"]["version"] == 2
    assert 'data-version="2"' in event["html"]["en"]["open"]


@pytest.mark.django_db
def test_an_edit_changed_again_before_its_event_is_made_is_not_told(alice, chat, django_capture_on_commit_callbacks):
    message, _ = actions.send_message(chat, alice, "one")
    with mock.patch.object(broadcast.outbox, "put") as publishing:
        with django_capture_on_commit_callbacks() as edit_events:
            actions.edit_message(message, alice, "two")
        actions.delete_message(message, alice)  # commits before the edit's event is made
        published_before = publishing.call_count
        for callback in edit_events:
            callback()

    # Read now, the edit's event would show the deletion under the name "edited": the
    # delete's own event says it.
    assert publishing.call_count == published_before


def test_a_socket_forgets_the_oldest_messages_first():
    versions = SentVersions(kept=2)

    def event(message_id: int, version: int, name: str = "message.edited") -> dict:
        return {"event": name, "message": {"id": message_id, "version": version}}

    assert not versions.is_stale(event(1, 3))
    assert versions.is_stale(event(1, 2))
    assert not versions.is_stale(event(1, 3))  # the same again is harmless
    assert not versions.is_stale(event(1, 1, "message.created"))  # a late arrival is never lost
    assert not versions.is_stale(event(2, 1)) and not versions.is_stale(event(3, 1))
    assert set(versions.versions) == {2, 3}
    assert not versions.is_stale(event(1, 2))  # forgotten: sent as it comes


# What the sockets send on ------------------------------------------------------------------------


@pytest_asyncio.fixture
async def _clean_layer():
    layer = get_channel_layer()
    if hasattr(layer, "flush"):
        await layer.flush()
    yield
    await sync_to_async(connections.close_all)()


def _cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def _waiting(socket: WebsocketCommunicator) -> list[str]:
    received = []
    while not await socket.receive_nothing(timeout=0.3):
        received.append(await socket.receive_from())
    return received


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("_clean_layer")
async def test_a_script_is_not_sent_an_edit_older_than_the_delete_it_was_sent(alice, bob, chat):
    message, _ = await act(actions.send_message)(chat, alice, "the secret")
    bob_script = WebsocketCommunicator(
        application, "/ws/api/", headers=[(b"authorization", f"Token {await act(token_for)(bob)}".encode())]
    )
    assert (await bob_script.connect())[0]
    await _waiting(bob_script)
    await act(actions.edit_message)(message, alice, "the secret, again")
    late = await act(read_before_the_delete)(message.pk)
    await act(actions.delete_message)(message, alice)
    heard = [check_event(json.loads(frame)) for frame in await _waiting(bob_script)]

    await get_channel_layer().group_send(chat_group(chat.pk), late)

    assert [(e["event"], e["data"]["version"]) for e in heard] == [("message.edited", 2), ("message.deleted", 3)]
    assert await bob_script.receive_nothing(timeout=0.5)
    await bob_script.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("_clean_layer")
async def test_a_tab_is_not_sent_an_edit_older_than_the_delete_it_was_sent(alice, bob, chat):
    message, _ = await act(actions.send_message)(chat, alice, "the secret")
    headers = [HOST, ORIGIN, (b"cookie", await act(_cookie)(bob))]
    bob_tab = WebsocketCommunicator(application, f"/ws/?lang=en&chat={chat.pk}", headers=headers)
    assert (await bob_tab.connect())[0]
    await _waiting(bob_tab)
    await act(actions.edit_message)(message, alice, "the secret, again")
    late = await act(read_before_the_delete)(message.pk)
    await act(actions.delete_message)(message, alice)
    assert "Message deleted" in "".join(await _waiting(bob_tab))

    await get_channel_layer().group_send(chat_group(chat.pk), late)

    assert await bob_tab.receive_nothing(timeout=0.5)
    await bob_tab.disconnect()
