"""The sockets: one per browser tab at /ws/, one per script at /ws/api/.

Both join the person's group `user.<id>`, where conversations.broadcast sends every event
they should see, and both count for presence. Writes still go over HTTP; the one thing a
socket sends is "I am typing". A tab gets HTML (htmx out-of-band swaps, in its language, the
parts that fit the page it shows); a script gets JSON events.

Forwarding an event does no database work, so it skips the connection clean-up that
channels runs before every handler (a thread hop per delivered event; see `dispatch`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.core.exceptions import PermissionDenied

from accounts.models import User
from flowchat.api import token_from_header

from . import actions
from .broadcast import LANGUAGES, group_for
from .models import Chat, Message
from .receipts import ReadPositions

logger = logging.getLogger(__name__)

# Close codes (4000-4999 are the application's): the handshake or a frame was not acceptable.
BAD_REQUEST = 4400
UNAUTHORIZED = 4401
SERVICE_RESTART = 1012  # "come back": a tab's htmx reconnects after it
# A tab or script says "typing" at most this often per chat; more is dropped.
TYPING_INTERVAL = 2.0
# /ws/api/?after=<id> replays at most this many messages; a script pages further over HTTP.
CATCH_UP_LIMIT = 500
MAX_ID_DIGITS = 18


class Heartbeat:
    """One task per server process renews the presence of all its open sockets (conversations.actions.heartbeat)."""

    def __init__(self) -> None:
        self.sockets: set[str] = set()
        self.task: asyncio.Task | None = None

    def add(self, channel_name: str) -> None:
        self.sockets.add(channel_name)
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.task = loop.create_task(self.run())

    def discard(self, channel_name: str) -> None:
        self.sockets.discard(channel_name)
        if not self.sockets and self.task is not None:
            self.task.cancel()
            self.task = None

    async def run(self) -> None:
        while self.sockets:
            await asyncio.sleep(settings.PRESENCE_HEARTBEAT_SECONDS)
            try:
                await database_sync_to_async(actions.heartbeat)(set(self.sockets))
            except Exception:
                logger.exception("Presence heartbeat failed; the next one will try again")


heartbeat = Heartbeat()


def _id(value: str | None) -> int | None:
    if value and value.isdigit() and len(value) <= MAX_ID_DIGITS:
        return int(value)
    return None


class PersonSocket(AsyncWebsocketConsumer):
    """What both sockets share: the person's group, presence, typing, and forwarding without the database."""

    user: User

    async def join(self) -> None:
        self.typed_at: dict[int, float] = {}
        await self.channel_layer.group_add(group_for(self.user.pk), self.channel_name)
        await database_sync_to_async(actions.connect)(self.user, self.channel_name)
        heartbeat.add(self.channel_name)

    async def disconnect(self, code: int) -> None:
        if getattr(self, "typed_at", None) is None:
            return  # refused before it joined
        heartbeat.discard(self.channel_name)
        await self.channel_layer.group_discard(group_for(self.user.pk), self.channel_name)
        await database_sync_to_async(actions.disconnect)(self.user, self.channel_name)

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message["type"] == "deliver":
            await self.deliver(message)
        elif message["type"] == "close_sockets":
            await self.close_if_ended(message)
        else:
            await super().dispatch(message)

    async def close_if_ended(self, ended: dict[str, Any]) -> None:
        """Close if the session or token that opened this socket just ended."""
        raise NotImplementedError

    async def deliver(self, event: dict[str, Any]) -> None:
        raise NotImplementedError

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            content = json.loads(text_data or "")
        except ValueError:
            await self.close(code=BAD_REQUEST, reason="Send JSON text frames.")
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
        else:
            await self.refuse('Unknown type; the socket takes {"type": "typing", "chat": <id>}.')

    async def typing(self, chat_id: int) -> None:
        now = time.monotonic()
        if now - self.typed_at.get(chat_id, -TYPING_INTERVAL) < TYPING_INTERVAL:
            return
        self.typed_at[chat_id] = now
        if not await database_sync_to_async(self.tell_typing)(chat_id):
            await self.refuse("No such chat.")

    def tell_typing(self, chat_id: int) -> bool:
        chat = Chat.objects.for_user(self.user).filter(pk=chat_id).first()
        if chat is None:
            return False
        try:
            actions.typing(chat, self.user)
        except PermissionDenied:
            return False
        return True

    async def refuse(self, detail: str) -> None:
        """A request the socket cannot act on; the connection stays open."""


class BrowserSocket(PersonSocket):
    """/ws/?lang=<code>&chat=<id>: a tab of a signed-in person (session cookie, checked Origin)."""

    async def connect(self) -> None:
        self.user = self.scope["user"]
        if not self.user.is_authenticated:
            await self.close(code=UNAUTHORIZED)
            return
        params = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        language = params.get("lang", [""])[0]
        self.language = language if language in LANGUAGES else (self.user.language or settings.LANGUAGE_CODE)
        if self.language not in LANGUAGES:
            self.language = LANGUAGES[0]
        self.open_chat = _id(params.get("chat", [""])[0])
        self.session_key = self.scope["session"].session_key
        await self.accept()
        await self.join()

    async def close_if_ended(self, ended: dict[str, Any]) -> None:
        if ended["all_sessions"]:
            # A new password: htmx reconnects after this code, and the handshake checks the session again.
            await self.close(code=SERVICE_RESTART)
        elif ended["session"] is not None and ended["session"] == self.session_key:
            await self.close(code=UNAUTHORIZED)

    async def deliver(self, event: dict[str, Any]) -> None:
        html = event["html"][self.language]
        here = event["chat"] is not None and event["chat"] == self.open_chat
        text = html["any"] + html["list"] + (html["open"] if here else html["elsewhere"])
        if text:
            await self.send(text_data=text)


class ApiSocket(PersonSocket):
    """/ws/api/?after=<message id>: a script, with `Authorization: Token <key>`; JSON events."""

    async def connect(self) -> None:
        headers = dict(self.scope.get("headers", []))
        token = await database_sync_to_async(token_from_header)(headers.get(b"authorization", b"").decode("latin-1"))
        await self.accept()
        if token is None:
            await self.refuse("Send Authorization: Token <key>.")
            await self.close(code=UNAUTHORIZED)
            return
        self.user = token.user
        self.token_id = token.pk
        params = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        after = params.get("after", [None])[0]
        if after is not None and _id(after) is None:
            await self.refuse("after must be a message id.")
            await self.close(code=BAD_REQUEST)
            return
        # Join first, then catch up: a message sent in between may come twice (same id), never not at all.
        await self.join()
        if after is not None:
            missed, more = await database_sync_to_async(self.missed)(_id(after))
            for data in missed:
                await self.send_json({"event": "message.created", "chat": data["chat"], "data": data})
            await self.send_json({"event": "caught_up", "chat": None, "data": {"more": more}})

    def missed(self, after: int) -> tuple[list[dict[str, Any]], bool]:
        from .api import message_to_dict

        messages = list(
            Message.objects.with_people()
            .filter(chat__in=Chat.objects.for_user(self.user), id__gt=after)
            .order_by("id")[: CATCH_UP_LIMIT + 1]
        )
        positions = {chat_id: ReadPositions.of(chat_id) for chat_id in {m.chat_id for m in messages}}
        return [message_to_dict(m, positions[m.chat_id]) for m in messages[:CATCH_UP_LIMIT]], len(
            messages
        ) > CATCH_UP_LIMIT

    async def deliver(self, event: dict[str, Any]) -> None:
        await self.send_json({"event": event["event"], "chat": event["chat"], "data": event["data"]})

    async def close_if_ended(self, ended: dict[str, Any]) -> None:
        if ended["token"] is not None and ended["token"] == self.token_id:
            await self.close(code=UNAUTHORIZED)

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content, ensure_ascii=False))

    async def refuse(self, detail: str) -> None:
        await self.send_json({"event": "error", "chat": None, "data": {"detail": detail}})
