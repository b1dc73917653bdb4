"""The sockets: one per browser tab at /ws/, one per script at /ws/api/.

Both listen on their person's group `user.<id>` and on the group `chat.<id>` of every chat
they are in (conversations.broadcast publishes each change once, to the chat's group). At
connect a socket loads its person's chats — the unread count and read position of each —
and from then on keeps them from the events it sees, so it can add what differs per person
(the badge, "You: ...", Edit and Delete on one's own messages) with no database work. It
joins a chat's group when its person is added and leaves it when they are removed; an event
with a newer membership version than it knows makes it check its membership first.

Writes still go over HTTP; what a socket sends is "I am typing" and whether its page is shown
(visibility: a person with no shown tab gets Web Push notifications). A tab gets HTML
(htmx out-of-band swaps, in its language, the parts that fit the page it shows); a script
gets JSON events. Forwarding skips the connection clean-up that channels runs before every
handler (a thread hop per delivered event; see `dispatch`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from redis.exceptions import RedisError

from accounts.models import ApiToken, User
from accounts.serializers import user_summary
from flowchat.api import token_from_header

from . import actions, rendering
from .broadcast import chat_group, person_group
from .layer_watch import watcher
from .models import Chat, Membership, Message
from .peers import PeerGone, quiet_sends
from .presence import presence
from .receipts import ReadPositions
from .serializers import message_to_dict
from .socket_limits import FrameBudget, sockets

logger = logging.getLogger(__name__)

# Close codes (4000-4999 are the application's): the handshake or a frame was not acceptable.
BAD_REQUEST = 4400
UNAUTHORIZED = 4401
TOO_MANY = 4429  # too many sockets for one person, or too many frames: htmx does not retry it
# "Come back": htmx's ws extension reconnects after 1006, 1011, 1012 and 1013 only, with a
# growing random pause (up to a minute), and every reconnect catches up over HTTP.
SERVICE_RESTART = 1012
TRY_AGAIN_LATER = 1013
# The channel layer (Redis) is away: what its calls raise.
LAYER_DOWN = (RedisError, OSError)
# A tab or script says "typing" at most this often per chat; more is dropped.
TYPING_INTERVAL = 2.0
# How long a tab shows a typing note (static/css/flowchat.css .typing-note), with a margin.
TYPING_SHOWN = 8.0
# /ws/api/?after=<id> replays at most this many messages; a script pages further over HTTP.
CATCH_UP_LIMIT = 500
MAX_ID_DIGITS = 18
CHAT_EVENTS_WITH_DATA = ("chat.created", "chat.updated")
# A socket remembers the version it last sent of this many messages (the most recently heard of).
VERSIONS_KEPT = 4096
MESSAGE_EVENTS = ("message.created", "message.edited", "message.deleted")


def _id(value: str | None) -> int | None:
    if value and value.isdigit() and len(value) <= MAX_ID_DIGITS:
        return int(value)
    return None


@dataclass(slots=True)
class ChatState:
    """What a socket knows of one of its person's chats, kept current from the events it sees."""

    unread: int
    read: int  # the person's read position
    newest: int  # the newest message it has counted
    version: int  # the chat's membership version
    muted: bool
    mentions: int = 0  # of the unread messages, how many mention the person (the list's "@")


def load_chats(user: User, chat_id: int | None = None) -> dict[int, ChatState]:
    """The person's chats (or one of them) with their unread counts: one query."""
    unread = (
        Message.objects.filter(chat=OuterRef("chat"))
        .unread_by(OuterRef("user"), Coalesce(OuterRef("last_read_message_id"), Value(0)))
        .order_by()
        .values("chat")
        .annotate(n=Count("id"))
        .values("n")
    )
    mentions = unread.filter(mentions__user=OuterRef("user"))
    memberships = Membership.objects.filter(user=user)
    if chat_id is not None:
        memberships = memberships.filter(chat_id=chat_id)
    rows = memberships.annotate(
        unread=Coalesce(Subquery(unread[:1], output_field=IntegerField()), 0),
        mentions=Coalesce(Subquery(mentions[:1], output_field=IntegerField()), 0),
    ).values_list(
        "chat_id",
        "unread",
        "last_read_message_id",
        "chat__last_message_id",
        "chat__members_version",
        "muted",
        "mentions",
    )
    return {
        chat: ChatState(
            unread=count, read=read or 0, newest=newest or 0, version=version, muted=muted, mentions=mentioned
        )
        for chat, count, read, newest, version, muted, mentioned in rows
    }


def chat_ids(user: User) -> list[int]:
    return list(Membership.objects.filter(user=user).values_list("chat_id", flat=True))


def token_with_chats(authorization: str) -> tuple[ApiToken | None, list[int]]:
    """The token of a script's handshake and its person's chats' ids, in one trip (as signed_in)."""
    token = token_from_header(authorization)
    return token, chat_ids(token.user) if token is not None else []


def signed_in(session: Any) -> tuple[User | AnonymousUser, list[int]]:
    """The session's person (checked as Django checks a request's) and their chats' ids.

    One trip to the database thread for the session, the person and the chats: every trip
    there waits its turn behind every other socket's, and borrows (and checks) a connection.
    """
    user = auth.get_user(SimpleNamespace(session=session))
    return user, chat_ids(user) if user.is_authenticated else []


class SentVersions:
    """The highest version of each message a socket has sent, for the last `kept` messages.

    An edit read on one server process before a delete committed on another can be published
    after the delete's event (conversations.broadcast.message_changed): it carries the older
    version, and is not sent. A message forgotten here (thousands of others since) is sent as
    it comes, as before versions were kept.
    """

    __slots__ = ("kept", "versions")

    def __init__(self, kept: int = VERSIONS_KEPT) -> None:
        self.kept = kept
        self.versions: dict[int, int] = {}  # in the order last heard of: the first is forgotten first

    def is_stale(self, event: dict[str, Any]) -> bool:
        """True for an edit or a deletion older than what was sent; otherwise remember this one."""
        if event["event"] not in MESSAGE_EVENTS:
            return False
        facts = event["message"]
        message_id, version = facts["id"], facts["version"]
        known = self.versions.pop(message_id, None)
        if known is not None and version < known and event["event"] != "message.created":
            self.versions[message_id] = known
            return True
        self.versions[message_id] = max(version, known or 0)
        if len(self.versions) > self.kept:
            del self.versions[next(iter(self.versions))]
        return False


class PersonSocket(AsyncWebsocketConsumer):
    """What both sockets share: the groups, the chats' state, presence, typing, forwarding without the database."""

    user: User
    chats: dict[int, ChatState]
    listening: list[str] | None = None  # the groups join() added this socket to, once it began
    counted: int | None = None  # the person this socket is counted for (socket_limits.sockets)
    joined = False
    forgotten = False
    ending = False  # closed for what it sent: what it sent after is ignored
    visible = True  # what the socket's Connection row says (accounts.models.Connection.visible)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        # A send to a tab that closed meanwhile ends this consumer like a disconnect (conversations.peers).
        send = quiet_sends(send, lambda: f"The socket at {scope.get('path')} of {scope.get('client')}")
        try:
            await super().__call__(scope, receive, send)
        except PeerGone:
            pass  # gone before channels' own loop began (it catches StopConsumer once inside)
        except Exception:
            if hasattr(self, "channel_name"):
                raise
            # The layer could not even name this socket's channel (channels-redis subscribes to
            # it), so connect() never ran: the handshake is still waiting. Refused before the
            # handshake, a browser would see 1006; said after it, the code reaches htmx. Only the
            # layer's code has run, and not every failure of it is a RedisError: redis-py writing
            # to a connection Redis just dropped can raise AttributeError from asyncio's transport.
            logger.warning("The channel layer is away: a new socket is asked to come back later", exc_info=True)
            with contextlib.suppress(PeerGone):
                await receive()
                await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": TRY_AGAIN_LATER})
        finally:
            # However it ended, it leaves no trace, neither presence nor groups: not only after a
            # disconnect, but when the server cancels a handshake that took too long (daphne) or a
            # send meets a tab that vanished (conversations.peers: no disconnect follows).
            await asyncio.shield(self.forget())
            self.uncount()

    def uncount(self) -> None:
        if self.counted is not None:
            sockets.release(self.counted)
            self.counted = None

    async def enter(self, listening: list[int]) -> bool:
        """Count, join and accept the socket of `self.user` in chats `listening`; False (and closed) if not."""
        if not sockets.admit(self.user.pk):
            await self.accept()
            await self.refuse("Too many sockets open; close some first.")
            await self.close(code=TOO_MANY, reason="Too many sockets")
            return False
        self.counted = self.user.pk
        try:
            await self.join(listening)
        except LAYER_DOWN:
            # Accepted to say so: htmx reconnects after 1013 (later, with a growing pause), and
            # the tab then catches up over HTTP. Staying open without the layer, it would hear
            # nothing and never know it should come back.
            logger.warning("The channel layer is away: a socket is asked to come back later", exc_info=True)
            self.uncount()
            await self.accept()
            await self.close(code=TRY_AGAIN_LATER, reason="Try again later")
            return False
        await self.accept()
        return True

    async def join(self, listening: list[int]) -> None:
        """Listen to the person's group and `listening`'s chats, then load their state."""
        self.typed_at: dict[int, float] = {}
        self.frames = FrameBudget()
        self.versions = SentVersions()
        self.chats = {}
        groups = self.listening = [person_group(self.user.pk)]
        try:
            await self.channel_layer.group_add(groups[0], self.channel_name)
            # Listen first, then load: an event in between is counted once (ChatState.newest), never missed.
            for chat_id in listening:
                groups.append(chat_group(chat_id))
                await self.channel_layer.group_add(groups[-1], self.channel_name)
            self.chats = await database_sync_to_async(load_chats)(self.user)
            for chat_id in set(self.chats) - set(listening):
                groups.append(chat_group(chat_id))
                await self.channel_layer.group_add(groups[-1], self.channel_name)
            for chat_id in set(listening) - set(self.chats):
                await self.channel_layer.group_discard(chat_group(chat_id), self.channel_name)
        except LAYER_DOWN:
            await self.discard(groups)
            raise
        await presence.open(self.channel_name, self.user.pk, visible=self.visible)
        self.joined = True
        watcher.joined(self, self.channel_layer)

    async def come_back(self) -> None:
        """The layer's subscription was lost and made again: events may have been missed
        (conversations.layer_watch). htmx reconnects after this code and the tab catches up."""
        if not self.forgotten:
            with contextlib.suppress(PeerGone):
                await self.close(code=SERVICE_RESTART)

    async def forget(self) -> None:
        """Out of presence and every group it joined; once, however the socket ended."""
        groups = self.listening
        if groups is None or self.forgotten:
            return  # refused before it joined (perhaps before it had a channel), or forgotten already
        self.forgotten = True
        watcher.left(self)
        presence.close(self.channel_name)
        chats = (chat_group(chat_id) for chat_id in self.chats)
        await self.discard(list(dict.fromkeys([*groups, *chats])))

    async def discard(self, groups: list[str]) -> None:
        """Stop listening on `groups`, as far as the layer can be told (it may be away)."""
        for group in groups:
            with contextlib.suppress(*LAYER_DOWN):
                await self.channel_layer.group_discard(group, self.channel_name)

    async def disconnect(self, code: int) -> None:
        await self.forget()

    async def dispatch(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "websocket.receive":
            # A frame from the client is answered from memory: no connection clean-up either.
            await self.websocket_receive(message)
        elif kind == "chat.event":
            await self.chat_event(message)
        elif kind == "person.event":
            await self.person_event(message)
        elif kind == "presence":
            await self.presence_event(message)
        elif kind == "close_sockets":
            await self.close_if_ended(message)
        else:
            await super().dispatch(message)

    # Events ------------------------------------------------------------------------------------

    async def chat_event(self, event: dict[str, Any]) -> None:
        chat_id, name = event["chat"], event["event"]
        state = self.chats.get(chat_id)
        if state is None:
            return  # not (or no longer) this person's chat
        fresh = False
        if name in ("member.added", "member.removed"):
            if name == "member.removed" and event["person"] == self.user.pk:
                await self.leave(chat_id)
                return
            state.version = max(state.version, event["version"])
        elif event["version"] is not None and event["version"] > state.version:
            # Members changed and this socket has not heard how yet: is its person still one?
            state = await self.reload(chat_id)
            if state is None:
                await self.leave(chat_id)
                return
            fresh = True
        if self.versions.is_stale(event):
            return  # an edit older than what this socket sent (the page drops it too: flowchat.js)
        badge = False if fresh else self.count(event, state)
        await self.forward(event, state, badge=badge)

    def count(self, event: dict[str, Any], state: ChatState) -> bool:
        """Keep the unread count, the unread mentions and the read position; True if a count changed."""
        name, me, before = event["event"], self.user.pk, (state.unread, state.mentions)
        if name == "message.created":
            facts = event["message"]
            if facts["id"] > state.newest:
                state.newest = facts["id"]
                if facts["author"] == me:
                    # Sending reads the chat up to one's own message (actions.send_message).
                    state.read, state.unread, state.mentions = facts["id"], 0, 0
                elif facts["counts"]:
                    state.unread += 1
                    state.mentions += me in facts.get("mentions", ())
        elif name == "message.deleted":
            facts = event["message"]
            if facts["counts"] and facts["author"] != me and facts["id"] > state.read and state.unread:
                state.unread -= 1
                if me in facts.get("mentions", ()) and state.mentions:
                    state.mentions -= 1
        elif name == "read" and event["reader"]["id"] == me:
            state.read = max(state.read, event["reader"]["position"])
            state.unread = event["reader"]["unread"]
            state.mentions = event["reader"].get("mentions", 0)
        return (state.unread, state.mentions) != before

    async def person_event(self, event: dict[str, Any]) -> None:
        chat_id, name = event["chat"], event["event"]
        if name == "chat.created":
            await self.channel_layer.group_add(chat_group(chat_id), self.channel_name)
            state = await self.reload(chat_id)
            if state is None:
                await self.channel_layer.group_discard(chat_group(chat_id), self.channel_name)
                return
            await self.forward(event, state, badge=state.unread > 0)
        elif name == "member.removed" and chat_id in self.chats:
            await self.leave(chat_id)

    async def reload(self, chat_id: int) -> ChatState | None:
        state = (await database_sync_to_async(load_chats)(self.user, chat_id)).get(chat_id)
        if state is not None:
            self.chats[chat_id] = state
        return state

    async def leave(self, chat_id: int) -> None:
        """The person is no longer a member: stop listening, and say so."""
        self.chats.pop(chat_id, None)
        await self.channel_layer.group_discard(chat_group(chat_id), self.channel_name)
        await self.removed(chat_id)

    async def presence_event(self, event: dict[str, Any]) -> None:
        # A change comes in every chat its person is in; a socket forwards it from the first of
        # them that it shares, so once.
        changes = [
            change
            for change in event["people"]
            if next((chat for chat in change["chats"] if chat in self.chats), None) == event["chat"]
        ]
        if changes:
            await self.presence_changed(changes)

    async def presence_changed(self, changes: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    async def forward(self, event: dict[str, Any], state: ChatState | None, *, badge: bool) -> None:
        raise NotImplementedError

    async def removed(self, chat_id: int) -> None:
        raise NotImplementedError

    async def close_if_ended(self, ended: dict[str, Any]) -> None:
        """Close if the session or token that opened this socket just ended."""
        raise NotImplementedError

    # What the socket sends ---------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        # Everything here is checked from the socket's own state, without the database, and a
        # socket that sends more than its budget is closed: a few bad frames are answered, a flood
        # ends. A frame too big never gets here: the server closes the socket with 1009 (bin/serve:
        # SOCKET_MAX_FRAME_BYTES; daphne, the development server: 1 MiB).
        if not self.joined or self.ending:
            return  # refused, or closing
        if not self.frames.spend():
            await self.refuse("Too many frames; this socket is closed.")
            await self.end(TOO_MANY, "Too many frames")
            return
        try:
            content = json.loads(text_data or "")
        except ValueError:
            await self.end(BAD_REQUEST, "Send JSON text frames.")
            return
        if not isinstance(content, dict):
            await self.refuse("Send a JSON object.")
            return
        kind = content.get("type")
        if kind == "typing":
            chat_id = content.get("chat")
            if isinstance(chat_id, str):
                chat_id = _id(chat_id)
            if not isinstance(chat_id, int) or isinstance(chat_id, bool) or chat_id <= 0:
                await self.refuse("typing needs a chat id.")
                return
            await self.typing(chat_id)
        elif kind == "visibility":
            visible = content.get("visible")
            if not isinstance(visible, bool):
                await self.refuse("visibility needs visible: true or false.")
                return
            await self.shown(visible)
        else:
            await self.refuse(
                'Unknown type; the socket takes {"type": "typing", "chat": <id>}'
                ' and {"type": "visibility", "visible": true | false}.'
            )

    async def shown(self, visible: bool) -> None:
        """The tab's page was shown or hidden: while none of a person's tabs is shown, they get pushes."""
        if visible == self.visible:
            return
        self.visible = visible
        await database_sync_to_async(actions.socket_visibility)(self.channel_name, visible)

    async def typing(self, chat_id: int) -> None:
        if chat_id not in self.chats:
            await self.refuse("No such chat.")
            return
        now = time.monotonic()
        if now - self.typed_at.get(chat_id, -TYPING_INTERVAL) < TYPING_INTERVAL:
            return
        self.typed_at[chat_id] = now
        await sync_to_async(actions.typing)(chat_id, self.user)

    async def refuse(self, detail: str) -> None:
        """A request the socket cannot act on; the connection stays open."""

    async def end(self, code: int, reason: str) -> None:
        self.ending = True
        await self.close(code=code, reason=reason)


class BrowserSocket(PersonSocket):
    """/ws/?lang=<code>&chat=<id>: a tab of a signed-in person (session cookie, checked Origin)."""

    async def connect(self) -> None:
        self.user, listening = await database_sync_to_async(signed_in)(self.scope["session"])
        self.scope["user"] = self.user
        if not self.user.is_authenticated:
            await self.close(code=UNAUTHORIZED)
            return
        params = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        language = params.get("lang", [""])[0]
        self.language = language if language in rendering.LANGUAGES else (self.user.language or settings.LANGUAGE_CODE)
        if self.language not in rendering.LANGUAGES:
            self.language = rendering.LANGUAGES[0]
        self.open_chat = _id(params.get("chat", [""])[0])
        self.session_key = self.scope["session"].session_key
        self.typing_shown: dict[int, float] = {}  # chat -> when this tab last showed someone typing there
        # Listening and counted as online before the handshake completes: a tab that is open is there.
        await self.enter(listening)

    async def close_if_ended(self, ended: dict[str, Any]) -> None:
        if ended.get("person"):
            # The account was closed: no reconnect will get back in.
            await self.close(code=UNAUTHORIZED)
        elif ended["all_sessions"]:
            # A new password: htmx reconnects after this code, and the handshake checks the session again.
            await self.close(code=SERVICE_RESTART)
        elif ended["session"] is not None and ended["session"] == self.session_key:
            await self.close(code=UNAUTHORIZED)

    async def forward(self, event: dict[str, Any], state: ChatState | None, *, badge: bool) -> None:
        html, name, me = event["html"].get(self.language, {}), event["event"], self.user.pk
        here = event["chat"] is not None and event["chat"] == self.open_chat
        pieces = [html.get("any", "")]
        if name == "typing" and event["person"] == me:
            return
        if name == "read" and me not in event["authors"]:
            html = {}  # receipts show on their authors' messages only
        if here:
            pieces.append(html.get("open", ""))
        mine = "message" in event and event["message"]["author"] == me
        if mine and here:
            pieces.append(html.get("mine", ""))
        if name == "message.created" and not here and not mine and state is not None and not state.muted:
            pieces.append(html.get("elsewhere", ""))
        pieces.append(html.get("list", ""))
        if name == "typing":
            self.typing_shown[event["chat"]] = time.monotonic()
        elif "typed" in html and time.monotonic() - self.typing_shown.pop(event["chat"], -TYPING_SHOWN) < TYPING_SHOWN:
            pieces.append(html["typed"]["list"] + (html["typed"]["open"] if here else ""))
        if "preview" in html:
            pieces.append(html["preview"]["author" if mine else "others"])
        if "row" in html:
            pieces.append(html["row"]["author" if event.get("last_author") == me else "others"])
            badge = state is not None
        if badge and state is not None:
            pieces.append(rendering.badge(event["chat"], state.unread, self.language, state.mentions))
        text = "".join(pieces)
        if here and "reactions" in event:
            reactors = event["reactions"]
            text = rendering.pressed(text, reactors["message"], reactors["people"], me)
        if text:
            await self.send(text_data=text)

    async def presence_changed(self, changes: list[dict[str, Any]]) -> None:
        html = (
            rendering.presence(self.language, change["id"], change["online_until"], change["last_active"])
            for change in changes
        )
        await self.send(text_data="".join(html))

    async def removed(self, chat_id: int) -> None:
        gone = rendering.gone_row(chat_id)[self.language]
        if chat_id == self.open_chat:
            gone += rendering.removed()[self.language]
        await self.send(text_data=gone)


class ApiSocket(PersonSocket):
    """/ws/api/?after=<message id>: a script, with `Authorization: Token <key>`; JSON events."""

    # A script is nobody looking at a page: its person still gets pushes, unless it says
    # {"type": "visibility", "visible": true} (a native wrapper in the foreground).
    visible = False

    async def connect(self) -> None:
        headers = dict(self.scope.get("headers", []))
        token, listening = await database_sync_to_async(token_with_chats)(
            headers.get(b"authorization", b"").decode("latin-1")
        )
        params = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        after = params.get("after", [None])[0]
        if token is None or (after is not None and _id(after) is None):
            # Said in a frame first, so that a script learns why.
            await self.accept()
            await self.refuse("Send Authorization: Token <key>." if token is None else "after must be a message id.")
            await self.close(code=UNAUTHORIZED if token is None else BAD_REQUEST)
            return
        self.user = token.user
        self.token_id = token.pk
        # Join first, then catch up: a message sent in between may come twice (same id), never not at all.
        if not await self.enter(listening):
            return
        if after is not None:
            missed, more = await database_sync_to_async(self.missed)(_id(after))
            for data in missed:
                await self.send_json({"event": "message.created", "chat": data["chat"], "data": data})
            await self.send_json({"event": "caught_up", "chat": None, "data": {"more": more}})

    def missed(self, after: int) -> tuple[list[dict[str, Any]], bool]:
        messages = list(
            Message.objects.with_people()
            .filter(chat__in=Chat.objects.for_user(self.user), id__gt=after)
            .order_by("id")[: CATCH_UP_LIMIT + 1]
        )
        positions = {chat_id: ReadPositions.of(chat_id) for chat_id in {m.chat_id for m in messages}}
        return [message_to_dict(m, positions[m.chat_id], self.user.pk) for m in messages[:CATCH_UP_LIMIT]], len(
            messages
        ) > CATCH_UP_LIMIT

    async def forward(self, event: dict[str, Any], state: ChatState | None, *, badge: bool) -> None:
        if event["event"] == "typing" and event["person"] == self.user.pk:
            return
        data = event["data"]
        if event["event"] in CHAT_EVENTS_WITH_DATA and state is not None:
            data = {**data, "unread_count": state.unread}
        if "reactions" in event and data.get("reactions"):
            # Rendered for nobody in particular: `mine` is this socket's person's.
            me, people = self.user.pk, event["reactions"]["people"]
            pairs = zip(data["reactions"], people, strict=True)
            mine = [{**reaction, "mine": me in reactors} for reaction, reactors in pairs]
            data = {**data, "reactions": mine}
        await self.send_json({"event": event["event"], "chat": event["chat"], "data": data})

    async def presence_changed(self, changes: list[dict[str, Any]]) -> None:
        for change in changes:
            data = {"user": change["user"], "is_online": change["is_online"], "last_active": change["last_active"]}
            await self.send_json({"event": "presence", "chat": None, "data": data})

    async def removed(self, chat_id: int) -> None:
        data = {"chat": chat_id, "user": user_summary(self.user)}
        await self.send_json({"event": "member.removed", "chat": chat_id, "data": data})

    async def close_if_ended(self, ended: dict[str, Any]) -> None:
        if ended.get("person") or (ended["token"] is not None and ended["token"] == self.token_id):
            await self.close(code=UNAUTHORIZED)

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content, ensure_ascii=False))

    async def refuse(self, detail: str) -> None:
        await self.send_json({"event": "error", "chat": None, "data": {"detail": detail}})
