"""The sockets, through the real ASGI application and channel layer (Redis in CI).

alice and bob chat; carol is the outsider, whose sockets must never hear of their chat.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from datetime import timedelta
from unittest import mock

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from autobahn.exception import Disconnected as AutobahnDisconnected
from channels.db import DatabaseSyncToAsync
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client
from django.utils import timezone
from uvicorn.protocols.utils import ClientDisconnected
from websockets.exceptions import ConnectionClosedError

from accounts.models import Connection, User
from conftest import PASSWORD
from conversations import actions
from conversations.models import Message
from conversations.presence import presence
from flowchat.asgi import application
from flowchat.testing import check_event, token_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]

# A tab's handshake as a browser sends it from a page of the site (flowchat/tests/test_origins.py).
HOST = (b"host", b"localhost:8000")
ORIGIN = (b"origin", b"http://localhost:8000")


@pytest_asyncio.fixture(autouse=True)
async def _clean_slate():
    layer = get_channel_layer()
    if hasattr(layer, "flush"):
        await layer.flush()
    yield
    # The ORM calls of these tests run in asgiref's worker thread, whose connection would
    # otherwise outlive the test database (which PostgreSQL then refuses to drop).
    await sync_to_async(connections.close_all)()


def _cookie(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def tab(user: User | None, chat=None, *, origin=ORIGIN, lang: str = "en") -> WebsocketCommunicator:
    """A browser tab of `user`, showing `chat` (or another page)."""
    headers = [HOST, origin] if origin else [HOST]
    if user is not None:
        headers.append((b"cookie", await sync_to_async(_cookie)(user)))
    path = f"/ws/?lang={lang}" + (f"&chat={chat.pk}" if chat else "")
    return WebsocketCommunicator(application, path, headers=headers)


async def open_tab(user: User, chat=None, **kwargs) -> WebsocketCommunicator:
    socket = await tab(user, chat, **kwargs)
    connected, _ = await socket.connect()
    assert connected
    return socket


async def script(user: User | None, query: str = "") -> WebsocketCommunicator:
    headers = []
    if user is not None:
        key = await sync_to_async(token_for)(user)
        headers.append((b"authorization", f"Token {key}".encode()))
    return WebsocketCommunicator(application, f"/ws/api/{query}", headers=headers)


async def events(socket: WebsocketCommunicator) -> list[dict]:
    """Every JSON event waiting on a script's socket."""
    received = []
    while not await socket.receive_nothing(timeout=0.3):
        received.append(check_event(json.loads(await socket.receive_from())))
    return received


async def pushed(socket: WebsocketCommunicator) -> str:
    """Every piece of HTML waiting on a tab's socket."""
    received = []
    while not await socket.receive_nothing(timeout=0.3):
        received.append(await socket.receive_from())
    return "".join(received)


act = sync_to_async


# The handshake ------------------------------------------------------------------------------


async def test_an_anonymous_tab_is_refused():
    socket = await tab(None)
    connected, code = await socket.connect()
    assert not connected
    assert code == 4401


async def test_a_tab_from_another_site_is_refused(alice):
    socket = await tab(alice, origin=(b"origin", b"http://evil.example"))
    connected, _ = await socket.connect()
    assert not connected


async def test_a_tab_without_an_origin_is_refused(alice):
    socket = await tab(alice, origin=None)
    connected, _ = await socket.connect()
    assert not connected


async def test_an_unknown_socket_path_is_refused():
    connected, _ = await WebsocketCommunicator(application, "/ws/nothing/").connect()
    assert not connected


# Messages -------------------------------------------------------------------------------------


async def test_a_new_message_reaches_every_members_tabs_and_no_outsider(alice, bob, carol, chat):
    alice_in_chat = await open_tab(alice, chat)
    alice_elsewhere = await open_tab(alice)
    bob_in_chat = await open_tab(bob, chat)
    carol_tab = await open_tab(carol)
    await pushed(alice_in_chat), await pushed(alice_elsewhere), await pushed(bob_in_chat), await pushed(carol_tab)

    message, _ = await act(actions.send_message)(chat, bob, "Rope at 9?")

    seen_in_chat = await pushed(alice_in_chat)
    assert '<div hx-swap-oob="beforeend:#messages">' in seen_in_chat
    assert f'id="message-{message.pk}"' in seen_in_chat
    assert "Rope at 9?" in seen_in_chat
    assert f'<time class="chat-time" id="chat-{chat.pk}-time"' in seen_in_chat  # the tab moves the row to the top
    assert "live-notice" not in seen_in_chat  # the chat is on screen: no notice
    elsewhere = await pushed(alice_elsewhere)
    assert f'id="message-{message.pk}"' not in elsewhere  # not appended to another chat's list
    assert 'class="live-notice"' in elsewhere and "Rope at 9?" in elsewhere
    assert '<span class="badge" aria-hidden="true">1</span>' in elsewhere
    # The sender's own tab gets it too (a second delivery replaces the first, by id).
    assert f'id="message-{message.pk}"' in await pushed(bob_in_chat)
    assert await carol_tab.receive_nothing(timeout=0.5)
    for socket in (alice_in_chat, alice_elsewhere, bob_in_chat, carol_tab):
        await socket.disconnect()


async def test_only_the_authors_tabs_get_edit_and_delete(alice, bob, chat):
    alice_tab, bob_tab = await open_tab(alice, chat), await open_tab(bob, chat)
    await pushed(alice_tab), await pushed(bob_tab)

    message, _ = await act(actions.send_message)(chat, bob, "Rope at 9?")

    bobs = await pushed(bob_tab)
    assert f'<div hx-swap-oob="beforeend:#message-{message.pk}">' in bobs
    assert f'href="/chats/{chat.pk}/messages/{message.pk}/edit/"' in bobs
    assert "You: <bdi>Rope at 9?</bdi>" in bobs
    alices = await pushed(alice_tab)
    assert f'id="message-{message.pk}"' in alices and "/edit/" not in alices and "You:" not in alices
    await alice_tab.disconnect()
    await bob_tab.disconnect()


async def test_each_tab_counts_its_own_unread_messages(alice, bob, chat):
    alice_tab = await open_tab(alice)
    await pushed(alice_tab)

    first, _ = await act(actions.send_message)(chat, bob, "one")
    assert '<span class="badge" aria-hidden="true">1</span>' in await pushed(alice_tab)
    await act(actions.send_message)(chat, bob, "two")
    assert '<span class="badge" aria-hidden="true">2</span>' in await pushed(alice_tab)
    await act(actions.delete_message)(first, bob)
    assert '<span class="badge" aria-hidden="true">1</span>' in await pushed(alice_tab)
    await act(actions.mark_read)(chat, alice)
    assert f'<div hx-swap-oob="innerHTML:#chat-{chat.pk}-unread"></div>' in await pushed(alice_tab)
    await act(actions.send_message)(chat, alice, "three")  # her own message: nothing unread
    assert "badge" not in await pushed(alice_tab)
    await alice_tab.disconnect()


MENTIONED = '<span class="badge mention-badge" aria-hidden="true">@</span>'


async def test_the_mention_marker_follows_unread_mentions_with_no_database_work(alice, bob, chat):
    await act(actions.send_message)(chat, bob, "@alice rope at nine?")
    alice_tab = await open_tab(alice)  # counts the mention sent before it opened
    await pushed(alice_tab)

    await act(actions.send_message)(chat, bob, "no mention")
    assert MENTIONED in await pushed(alice_tab)  # the earlier one is still unread
    await act(actions.mark_read)(chat, alice)
    assert MENTIONED not in await pushed(alice_tab)
    await act(actions.send_message)(chat, bob, "just words")
    assert MENTIONED not in await pushed(alice_tab)
    # The delivery: the socket counts from the event, with no trip to the database.
    with mock.patch("conversations.consumers.database_sync_to_async", side_effect=AssertionError) as database:
        mention, _ = await act(actions.send_message)(chat, bob, "and @Alice?")
        frames = await pushed(alice_tab)
    database.assert_not_called()
    assert MENTIONED in frames and "1 message mentions you" in frames
    await act(actions.delete_message)(mention, bob)
    assert MENTIONED not in await pushed(alice_tab)
    await alice_tab.disconnect()


async def test_a_tab_opened_with_unread_messages_counts_on_from_them(alice, bob, chat):
    await act(actions.send_message)(chat, bob, "one")
    await act(actions.send_message)(chat, bob, "two")
    alice_tab = await open_tab(alice)
    await pushed(alice_tab)

    await act(actions.send_message)(chat, bob, "three")

    assert '<span class="badge" aria-hidden="true">3</span>' in await pushed(alice_tab)
    await alice_tab.disconnect()


async def test_a_tab_gets_its_own_language(alice, bob, chat):
    russian = await open_tab(alice, lang="ru")
    await pushed(russian)

    await act(actions.send_message)(chat, bob, "Привет")

    assert "1 непрочитанное сообщение" in await pushed(russian)
    await russian.disconnect()


async def test_edits_and_deletions_replace_the_message_in_place(alice, bob, chat):
    message, _ = await act(actions.send_message)(chat, bob, "Rope at 9?")
    alice_tab = await open_tab(alice, chat)
    await pushed(alice_tab)

    await act(actions.edit_message)(message, bob, "Rope at 10?")
    edited = await pushed(alice_tab)
    assert f'id="message-{message.pk}" data-author="{bob.pk}" hx-swap-oob="true"' in edited
    assert "Rope at 10?" in edited and "edited" in edited

    await act(actions.delete_message)(message, bob)
    deleted = await pushed(alice_tab)
    assert f'id="message-{message.pk}"' in deleted
    assert "Message deleted" in deleted and "Rope at 10?" not in deleted
    await alice_tab.disconnect()


async def test_pushing_an_event_does_no_database_work(alice, bob, chat):
    alice_tab = await open_tab(alice, chat)
    await pushed(alice_tab)

    with mock.patch("channels.consumer.aclose_old_connections") as cleanup:
        await act(actions.send_message)(chat, bob, "hello")
        assert "hello" in await pushed(alice_tab)

    cleanup.assert_not_called()
    await alice_tab.disconnect()


# Chats and members ------------------------------------------------------------------------------


async def test_a_new_direct_chat_and_a_new_group_appear_in_the_list(alice, bob, carol):
    bob_tab = await open_tab(bob)
    await pushed(bob_tab)

    chat, _ = await act(actions.get_or_create_direct_chat)(alice, bob)
    html = await pushed(bob_tab)
    assert '<div hx-swap-oob="afterbegin:#chats">' in html and f'<li id="chat-{chat.pk}" class="chat-row">' in html

    group = await act(actions.create_group)(alice, "Climbing", [bob])
    html = await pushed(bob_tab)
    assert f'<li id="chat-{group.pk}"' in html
    assert "<bdi>Alice Archer</bdi> added you to this group" in html
    await bob_tab.disconnect()


async def test_a_removed_member_stops_hearing_of_the_group_at_once(alice, bob, group):
    bob_tab = await open_tab(bob, group)
    bob_api = await script(bob)
    assert (await bob_api.connect())[0]
    await pushed(bob_tab), await events(bob_api)

    await act(actions.remove_member)(group, alice, bob)

    html = await pushed(bob_tab)
    assert f'<li id="chat-{group.pk}" hx-swap-oob="delete">' in html
    assert "You are no longer a member of this chat." in html
    assert [e["event"] for e in await events(bob_api)] == ["member.removed"]

    await act(actions.send_message)(group, alice, "Bob cannot read this")
    assert await bob_tab.receive_nothing(timeout=0.5)
    assert await bob_api.receive_nothing(timeout=0.1)
    await bob_tab.disconnect()
    await bob_api.disconnect()


async def test_someone_added_to_a_group_hears_its_next_message_at_once(alice, bob, carol, group):
    carol_tab = await open_tab(carol)
    carol_api = await script(carol)
    assert (await carol_api.connect())[0]
    await pushed(carol_tab), await events(carol_api)

    await act(actions.add_member)(group, alice, carol)
    assert f'<li id="chat-{group.pk}"' in await pushed(carol_tab)
    await events(carol_api)
    await act(actions.send_message)(group, bob, "Welcome, Carol")

    assert "Welcome, Carol" in await pushed(carol_tab)
    assert [e["data"]["text"] for e in await events(carol_api) if e["event"] == "message.created"] == ["Welcome, Carol"]
    await carol_tab.disconnect()
    await carol_api.disconnect()


async def test_a_socket_that_missed_a_removal_stops_listening_at_the_next_event(alice, bob, group):
    bob_tab = await open_tab(bob, group)
    await pushed(bob_tab)

    # As if bob's removal had been told in another process whose event has not come yet:
    # the membership is gone and its version moved on, and nobody said so here.
    def removed_quietly() -> None:
        group.memberships.filter(user=bob).delete()
        type(group).objects.filter(pk=group.pk).update(members_version=group.members_version + 1)

    await act(removed_quietly)()
    await act(actions.send_message)(group, alice, "Bob cannot read this")

    html = await pushed(bob_tab)
    assert "Bob cannot read this" not in html
    assert f'<li id="chat-{group.pk}" hx-swap-oob="delete">' in html
    assert "You are no longer a member of this chat." in html
    await act(actions.send_message)(group, alice, "Nor this")
    assert await bob_tab.receive_nothing(timeout=0.3)
    await bob_tab.disconnect()


async def test_renaming_a_group_updates_its_header_and_row(alice, bob, group):
    bob_tab = await open_tab(bob, group)
    await pushed(bob_tab)

    await act(actions.rename_group)(group, alice, "Bouldering")

    html = await pushed(bob_tab)
    assert '<header class="chat-header" id="chat-header" hx-swap-oob="true">' in html
    assert "Bouldering" in html
    await bob_tab.disconnect()


# Typing, receipts, presence ------------------------------------------------------------------------


async def test_typing_reaches_the_other_members_only(alice, bob, carol, chat):
    alice_tab, bob_tab = await open_tab(alice, chat), await open_tab(bob, chat)
    await pushed(alice_tab), await pushed(bob_tab)

    await alice_tab.send_json_to({"type": "typing", "chat": chat.pk})

    html = await pushed(bob_tab)
    assert '<div hx-swap-oob="innerHTML:#typing">' in html
    assert f'<div hx-swap-oob="innerHTML:#chat-{chat.pk}-typing">' in html
    assert '<span class="typing-note"><bdi>Alice Archer</bdi> is typing…</span>' in html
    assert await alice_tab.receive_nothing(timeout=0.3)
    await alice_tab.disconnect()
    await bob_tab.disconnect()


async def test_typing_into_someone_elses_chat_is_an_error(bob, carol, chat):
    carol_api = await script(carol)
    assert (await carol_api.connect())[0]
    bob_tab = await open_tab(bob)
    await pushed(bob_tab), await events(carol_api)

    await carol_api.send_json_to({"type": "typing", "chat": chat.pk})

    assert await events(carol_api) == [{"event": "error", "chat": None, "data": {"detail": "No such chat."}}]
    assert await bob_tab.receive_nothing(timeout=0.3)
    await carol_api.disconnect()
    await bob_tab.disconnect()


async def test_a_socket_that_sends_no_json_is_closed_with_a_reason(alice):
    alice_api = await script(alice)
    assert (await alice_api.connect())[0]
    await events(alice_api)  # her own presence

    await alice_api.send_to(text_data="typing!")

    assert (await alice_api.receive_output())["code"] == 4400
    await alice_api.disconnect()


async def test_seen_reaches_the_author_and_reading_clears_the_badge_in_my_other_tabs(alice, bob, chat):
    message, _ = await act(actions.send_message)(chat, alice, "Rope at 9?")
    alice_tab, bob_other_tab = await open_tab(alice, chat), await open_tab(bob)
    await pushed(alice_tab), await pushed(bob_other_tab)

    await act(actions.mark_read)(chat, bob)

    assert f'<span class="receipt" id="message-{message.pk}-receipt" hx-swap-oob="true">Seen</span>' in await pushed(
        alice_tab
    )
    assert f'<div hx-swap-oob="innerHTML:#chat-{chat.pk}-unread"></div>' in await pushed(bob_other_tab)
    await alice_tab.disconnect()
    await bob_other_tab.disconnect()


async def test_a_group_says_how_many_have_seen(alice, bob, carol, group):
    await act(actions.add_member)(group, alice, carol)
    await act(actions.send_message)(group, alice, "Who is driving?")
    alice_tab = await open_tab(alice, group)
    await pushed(alice_tab)

    await act(actions.mark_read)(group, bob)
    assert "Seen by 1" in await pushed(alice_tab)
    await act(actions.mark_read)(group, carol)
    assert "Seen by 2" in await pushed(alice_tab)
    await alice_tab.disconnect()


async def online(user: User) -> bool:
    await presence.settled()
    return (await User.objects.aget(pk=user.pk)).is_online


async def test_a_handshake_the_server_gives_up_on_leaves_no_trace(alice, chat, monkeypatch):
    def slow_write(*args, **kwargs):
        time.sleep(0.5)  # the database is slow: the handshake waits for this write
        return written(*args, **kwargs)

    written = actions.sockets_changed
    monkeypatch.setattr(actions, "sockets_changed", slow_write)
    given_up = await tab(alice, chat)

    # The server cancels a handshake that takes too long (daphne does; so does the communicator).
    with pytest.raises(TimeoutError):
        await given_up.connect(timeout=0.2)

    assert not await online(alice)
    assert not await Connection.objects.filter(user=alice).aexists()
    layer = get_channel_layer()
    assert not any(layer.groups.values())  # no group still lists the socket's channel


class VanishingTab:
    """The server's side of a tab's socket: after the handshake the tab goes away, and every send
    to it raises what that server raises then (before it has noticed, so no disconnect comes)."""

    def __init__(self, gone: BaseException) -> None:
        self.gone, self.vanished = gone, False
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.sent: list[dict] = []
        self.accepted = asyncio.Event()

    async def receive(self) -> dict:
        return await self.inbox.get()

    async def send(self, message: dict) -> None:
        if self.vanished:
            raise self.gone
        self.sent.append(message)
        if message["type"] == "websocket.accept":
            self.accepted.set()


SERVERS_SAY_GONE = {
    "daphne": lambda: AutobahnDisconnected("Attempt to send on a closed protocol"),
    "uvicorn": ClientDisconnected,
    "websockets": lambda: ConnectionClosedError(None, None),
    "transport": ConnectionResetError,
}


@pytest.mark.parametrize("server", SERVERS_SAY_GONE)
async def test_a_tab_that_vanished_mid_send_ends_quietly_and_leaves_no_trace(alice, bob, chat, caplog, server):
    socket = VanishingTab(SERVERS_SAY_GONE[server]())
    cookie = await sync_to_async(_cookie)(alice)
    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": "/ws/",
        "raw_path": b"/ws/",
        "query_string": f"lang=en&chat={chat.pk}".encode(),
        "headers": [HOST, ORIGIN, (b"cookie", cookie)],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 8000),
        "subprotocols": [],
    }
    application_task = asyncio.ensure_future(application(scope, socket.receive, socket.send))
    await socket.inbox.put({"type": "websocket.connect"})
    await asyncio.wait_for(socket.accepted.wait(), 5)
    assert await online(alice)

    socket.vanished = True
    await act(actions.send_message)(chat, bob, "are you there?")

    # It ends by itself, without an exception for the server to log with a traceback.
    assert await asyncio.wait_for(application_task, 5) is None
    problems = [record for record in caplog.records if record.levelno >= logging.WARNING or record.exc_info]
    assert problems == []
    assert not await online(alice)
    assert not await Connection.objects.filter(user=alice).aexists()
    assert not any(get_channel_layer().groups.values())


async def test_presence_is_live_in_direct_chats_and_small_groups_only(alice, bob, carol, chat, group, settings):
    await act(actions.add_member)(group, alice, carol)
    settings.PRESENCE_GROUP_LIMIT = 2  # alice, bob and carol: too big a group for live presence
    bob_tab, carol_tab = await open_tab(bob), await open_tab(carol)
    await pushed(bob_tab), await pushed(carol_tab)

    alice_tab = await open_tab(alice)

    assert f"[data-presence-dot=&quot;{alice.pk}&quot;]" in await pushed(bob_tab)  # their direct chat
    assert await carol_tab.receive_nothing(timeout=0.3)  # only the big group links them
    for socket in (alice_tab, bob_tab, carol_tab):
        await socket.disconnect()


async def test_presence_follows_the_last_open_tab(alice, bob, chat):
    bob_tab = await open_tab(bob)
    await pushed(bob_tab)

    first = await open_tab(alice)
    came = await pushed(bob_tab)
    dot = f'<div hx-swap-oob="innerHTML:[data-presence-dot=&quot;{alice.pk}&quot;]">'
    assert dot + '<span class="presence-dot">' in came
    assert await online(alice)

    second = await open_tab(alice)
    await first.disconnect()
    assert await online(alice)  # one tab of two closed: still online
    assert "presence" not in await pushed(bob_tab)

    await second.disconnect()
    assert not await online(alice)
    went = await pushed(bob_tab)
    assert f"[data-presence-text=&quot;{alice.pk}&quot;]" in went and "Last seen just now" in went
    await bob_tab.disconnect()


async def test_people_whose_server_died_go_offline_when_their_heartbeat_expires(alice, bob, chat):
    await act(actions.sockets_changed)({"a-socket-of-a-dead-process": alice.pk})
    bob_tab = await open_tab(bob)
    await pushed(bob_tab)

    # No process renews it: after the time to live, any process's heartbeat ends it.
    await Connection.objects.filter(channel_name="a-socket-of-a-dead-process").aupdate(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    await User.objects.filter(pk=alice.pk).aupdate(online_until=timezone.now() - timedelta(seconds=1))
    await act(actions.sockets_changed)({}, {}, alive=[])

    assert not await Connection.objects.filter(user=alice).aexists()
    assert "Last seen" in await pushed(bob_tab)
    await bob_tab.disconnect()


# Scripts: /ws/api/ ---------------------------------------------------------------------------------


async def test_a_script_needs_a_token_in_the_header():
    socket = await script(None)
    connected, _ = await socket.connect()
    assert connected
    assert check_event(json.loads(await socket.receive_from()))["event"] == "error"
    assert (await socket.receive_output())["code"] == 4401


async def test_a_script_follows_every_event_of_its_chats(alice, bob, carol, group):
    alice_api = await script(alice)
    assert (await alice_api.connect())[0]
    await events(alice_api)

    message, _ = await act(actions.send_message)(group, bob, "On my way")
    await act(actions.edit_message)(message, bob, "On my way!")
    await act(actions.mark_read)(group, alice)
    await act(actions.add_member)(group, alice, carol)
    await act(actions.rename_group)(group, alice, "Bouldering")
    await act(actions.delete_message)(message, bob)

    received = await events(alice_api)
    assert [event["event"] for event in received] == [
        "message.created",
        "message.edited",
        "read",
        "member.added",  # chat.created went to carol alone: alice had the chat
        "message.created",  # "Alice added Carol"
        "message.created",  # "Alice renamed the group to ..."
        "chat.updated",
        "message.deleted",
    ]
    created = received[0]
    assert created["chat"] == group.pk
    assert created["data"]["id"] == message.pk and created["data"]["text"] == "On my way"
    assert created["data"]["author"]["username"] == "bob"
    assert received[2]["data"] == {"chat": group.pk, "user": alice.pk, "message": message.pk}
    assert received[3]["data"]["user"]["username"] == "carol"
    assert received[6]["data"]["title"] == "Bouldering"
    assert received[7]["data"]["deleted_at"] is not None and received[7]["data"]["text"] == ""
    await alice_api.disconnect()


async def test_a_script_catches_up_after_a_message_id(alice, bob, chat, group):
    first, _ = await act(actions.send_message)(chat, bob, "one")
    await act(actions.send_message)(chat, bob, "two")
    await act(actions.send_message)(group, bob, "three")

    alice_api = await script(alice, f"?after={first.pk}")
    assert (await alice_api.connect())[0]

    received = [event for event in await events(alice_api) if event["event"] != "presence"]
    assert [e["data"]["text"] for e in received[:-1]] == ["two", "three"]
    assert received[-1] == {"event": "caught_up", "chat": None, "data": {"more": False}}
    await alice_api.disconnect()


async def test_a_bad_after_is_refused_with_a_close_code(alice):
    socket = await script(alice, "?after=yesterday")
    assert (await socket.connect())[0]
    assert check_event(json.loads(await socket.receive_from()))["data"]["detail"] == "after must be a message id."
    assert (await socket.receive_output())["code"] == 4400


async def test_an_outsider_script_hears_nothing_of_the_chat(bob, carol, chat):
    carol_api = await script(carol)
    assert (await carol_api.connect())[0]
    await events(carol_api)

    await act(actions.send_message)(chat, bob, "private")

    assert await carol_api.receive_nothing(timeout=0.5)
    assert not await Message.objects.filter(chat__memberships__user=carol).aexists()
    await carol_api.disconnect()


# Ending a session or a token ----------------------------------------------------------------------


async def test_logging_out_closes_that_sessions_tabs_and_no_others(alice):
    browser = Client()
    await act(browser.force_login)(alice)
    cookie = f"sessionid={browser.cookies['sessionid'].value}".encode()
    same_session = WebsocketCommunicator(application, "/ws/?lang=en", headers=[HOST, ORIGIN, (b"cookie", cookie)])
    assert (await same_session.connect())[0]
    other_session = await open_tab(alice)
    await pushed(same_session), await pushed(other_session)

    await act(browser.post)("/accounts/logout/")

    assert (await same_session.receive_output())["code"] == 4401
    assert await other_session.receive_nothing(timeout=0.3)
    await other_session.disconnect()


async def test_revoking_a_token_closes_the_sockets_it_opened(alice):
    key = await act(token_for)(alice)
    alice_api = WebsocketCommunicator(application, "/ws/api/", headers=[(b"authorization", f"Token {key}".encode())])
    assert (await alice_api.connect())[0]
    other_api = await script(alice)
    assert (await other_api.connect())[0]
    await events(alice_api), await events(other_api)

    response = await act(Client().post)("/api/logout/", headers={"Authorization": f"Token {key}"})
    assert response.status_code in (200, 204)

    assert (await alice_api.receive_output())["code"] == 4401
    assert await other_api.receive_nothing(timeout=0.3)
    await other_api.disconnect()


async def test_deactivating_a_person_closes_their_tabs_and_scripts_and_no_one_elses(alice, bob, chat):
    def deactivate_in_admin() -> int:
        operator = Client()
        operator.force_login(User.objects.create_superuser("operator", password="operator-password-1"))
        return operator.post(
            "/admin/accounts/user/",
            {"action": "deactivate", "_selected_action": [bob.pk]},
        ).status_code

    bob_tab, bob_script, alice_tab = await open_tab(bob, chat), await script(bob), await open_tab(alice, chat)
    assert (await bob_script.connect())[0]
    await pushed(bob_tab), await events(bob_script), await pushed(alice_tab)

    assert await act(deactivate_in_admin)() == 302

    assert (await bob_tab.receive_output())["code"] == 4401
    assert (await bob_script.receive_output())["code"] == 4401
    # Even a session made for them after this (force_login ignores is_active) gets no socket.
    assert await (await tab(bob, chat)).connect() == (False, 4401)
    await pushed(alice_tab)  # she may hear bob go offline; her tab stays open
    assert await alice_tab.receive_nothing(timeout=0.1)
    await alice_tab.disconnect()


async def test_a_new_password_makes_every_tab_reconnect_and_only_this_sessions_get_back_in(alice):
    def logged_in() -> tuple[Client, str]:
        browser = Client()
        browser.post("/accounts/login/", {"login": "alice", "password": PASSWORD})
        return browser, f"sessionid={browser.cookies['sessionid'].value}"

    def tab_with(cookie: str) -> WebsocketCommunicator:
        return WebsocketCommunicator(application, "/ws/?lang=en", headers=[HOST, ORIGIN, (b"cookie", cookie.encode())])

    here, here_cookie = await act(logged_in)()
    _elsewhere, elsewhere_cookie = await act(logged_in)()
    this_tab, other_tab = tab_with(here_cookie), tab_with(elsewhere_cookie)
    assert (await this_tab.connect())[0] and (await other_tab.connect())[0]
    await pushed(this_tab), await pushed(other_tab)

    new = "a-brand-new-passphrase-42"
    response = await act(here.post)(
        "/accounts/password/change/", {"oldpassword": PASSWORD, "password1": new, "password2": new}
    )
    assert response.status_code == 302

    assert (await this_tab.receive_output())["code"] == 1012
    assert (await other_tab.receive_output())["code"] == 1012
    # Reconnecting: this browser has its session's new cookie; the other session is over.
    back = tab_with(f"sessionid={here.cookies['sessionid'].value}")
    assert (await back.connect())[0]
    await back.disconnect()
    assert (await tab_with(elsewhere_cookie).connect()) == (False, 4401)


async def test_a_message_in_another_chat_leaves_the_open_chats_typing_note_alone(alice, bob, chat, group):
    bob_in_group = await open_tab(bob, group)
    alice_tab = await open_tab(alice, chat)
    await pushed(bob_in_group), await pushed(alice_tab)
    await alice_tab.send_json_to({"type": "typing", "chat": chat.pk})
    assert "<bdi>Alice Archer</bdi> is typing…" in await pushed(bob_in_group)  # in the direct chat's row

    await act(actions.send_message)(chat, alice, "Are you there?")

    html = await pushed(bob_in_group)
    assert f'<div hx-swap-oob="innerHTML:#chat-{chat.pk}-typing"></div>' in html  # its row's note ends
    assert 'innerHTML:#typing"' not in html  # the group on screen is not that chat
    await bob_in_group.disconnect()
    await alice_tab.disconnect()


async def test_a_message_ends_a_typing_note_only_where_one_was_shown(alice, bob, chat):
    alice_tab, bob_tab = await open_tab(alice, chat), await open_tab(bob, chat)
    await pushed(alice_tab), await pushed(bob_tab)
    await alice_tab.send_json_to({"type": "typing", "chat": chat.pk})
    assert "<bdi>Alice Archer</bdi> is typing…" in await pushed(bob_tab)

    await act(actions.send_message)(chat, alice, "Here I am")
    assert '<div hx-swap-oob="innerHTML:#typing"></div>' in await pushed(bob_tab)
    await act(actions.send_message)(chat, alice, "And again")  # nobody was typing since
    assert "-typing" not in await pushed(bob_tab)
    await alice_tab.disconnect()
    await bob_tab.disconnect()


async def test_a_handshake_takes_two_trips_to_the_database_thread(alice, bob, chat, group, monkeypatch):
    """Every trip waits its turn behind every other socket's: who it is with their chats, then their state."""
    trips = []
    real = DatabaseSyncToAsync.thread_handler

    def counted(self, *args, **kwargs):
        # Not presence's write: one for every socket that opened meanwhile (conversations.presence).
        if self.func.__name__ != "sockets_changed":
            trips.append(self.func.__name__)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(DatabaseSyncToAsync, "thread_handler", counted)
    alice_tab = await open_tab(alice, chat)
    assert trips == ["signed_in", "load_chats"]
    trips.clear()
    alice_script = await script(alice)
    assert (await alice_script.connect())[0]
    assert trips == ["token_with_chats", "load_chats"]

    # Both still hear their chats.
    await act(actions.send_message)(group, bob, "Two trips")
    assert "Two trips" in await pushed(alice_tab)
    assert "Two trips" in json.dumps(await events(alice_script))
    await alice_tab.disconnect()
    await alice_script.disconnect()


async def test_joining_an_open_group_brings_it_to_the_joiners_tabs_and_tells_the_members(alice, carol, group):
    await act(actions.set_group_open)(group, alice, True)
    alice_tab = await open_tab(alice, group)
    carol_tab = await open_tab(carol)
    await pushed(alice_tab)

    await act(actions.join_group)(group, carol)

    assert f'id="chat-{group.pk}"' in await pushed(carol_tab)  # the group's row arrives in her list
    assert "<bdi>Carol Cole</bdi> joined" in await pushed(alice_tab)
    await act(actions.send_message)(group, alice, "Welcome, Carol")
    assert "Welcome, Carol" in await pushed(carol_tab)  # her socket listens to the group at once
    await alice_tab.disconnect()
    await carol_tab.disconnect()


async def test_a_short_message_reaches_the_tab_showing_its_chat_in_one_kilobyte(alice, bob, chat):
    alice_tab = await open_tab(alice, chat)
    await pushed(alice_tab)

    await act(actions.send_message)(chat, bob, "Rope at 9?")

    frame = await pushed(alice_tab)
    assert "Rope at 9?" in frame and f'id="chat-{chat.pk}-time"' in frame and "1 unread message" in frame
    # The Reply link, the reaction picker and the empty places of the receipt and the reactions
    # are the page's to add (flowchat.js, #message-controls).
    assert "data-reply" not in frame and "reaction-picker" not in frame
    assert 'class="receipt"' not in frame and 'class="reactions"' not in frame
    # Measured as if every id had one digit (the frame names the message, chat and author some
    # ten times: each further digit of theirs costs about ten bytes). docs/performance-notes.md
    one_digit_ids = re.sub(r'(message-|/messages/|chat-|/chats/|/people/|data-author="|dot=")\d+', r"\g<1>1", frame)
    assert len(one_digit_ids.encode()) <= 1024
    await alice_tab.disconnect()


async def test_the_benchmarks_marked_text_reaches_a_group_members_tab_in_one_kilobyte(alice, bob, group):
    """benchmarks/realtime.py's message: 35 characters, in a group, ids of up to five digits."""
    alice_tab = await open_tab(alice, group)
    await pushed(alice_tab)

    await act(actions.send_message)(group, bob, "bench:123456:1764790000123456789:end")

    frame = await pushed(alice_tab)
    five_digit_ids = re.sub(
        r'(message-|/messages/|chat-|/chats/|/people/|data-author="|dot=")\d+', r"\g<1>12345", frame
    )
    assert len(five_digit_ids.encode()) <= 1024 - 4  # the WebSocket frame's own header: 4 bytes
    await alice_tab.disconnect()


async def test_a_pushed_reply_carries_its_quote_to_tabs_and_reply_to_to_scripts(alice, bob, chat):
    question, _ = await act(actions.send_message)(chat, bob, "Rope at 9?")
    alice_tab, alices_script = await open_tab(alice, chat), await script(alice)
    assert (await alices_script.connect())[0]
    await pushed(alice_tab), await events(alices_script)

    answer, _ = await act(actions.send_message)(chat, bob, "Or at 10?", reply_to=question.pk)

    frame = await pushed(alice_tab)
    assert (
        f'<a class="reply-quote" href="/chats/{chat.pk}/messages/{question.pk}/" data-quote-of="{question.pk}">'
        in frame
    )
    assert "Rope at 9?" in frame
    # A short reply stays a small frame for every member's tab.
    assert len(frame.encode()) <= 1300  # the quote and its link (docs/performance-notes.md)
    (event,) = [e for e in await events(alices_script) if e["event"] == "message.created"]
    assert (event["data"]["id"], event["data"]["reply_to"]) == (answer.pk, question.pk)
    await alice_tab.disconnect()
    await alices_script.disconnect()
