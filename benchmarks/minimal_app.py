"""The least a Channels app can do for the same job: one group_send per POST, forwarded as text.

    <asgi server> benchmarks.minimal_app:application     (with REDIS_URL set)

`POST /send` with the JSON body `{"chat": <id>, "text": "..."}` makes ONE group_send to the
group `chat.<id>`; every socket at `/ws/?chat=<id>` is in that group and sends the text on
as one frame. Any other HTTP request answers 200 (the benchmark polls it for readiness).
Like FlowChat's consumers, the consumer overrides `dispatch` so a delivered event does not
pay for channels' per-event `aclose_old_connections` (a hop to a thread and back).
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import parse_qs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.minimal_settings")

import django

django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.routing import ProtocolTypeRouter

Scope = dict[str, Any]


def group_for(chat: str) -> str:
    return f"chat.{chat}"


class Forward(AsyncWebsocketConsumer):
    """Joins `chat.<id>` and sends each event's text on."""

    async def connect(self) -> None:
        chat = parse_qs(self.scope.get("query_string", b"").decode("latin-1")).get("chat", [""])[0]
        if not chat.isdigit():
            await self.close()
            return
        self.group = group_for(chat)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message["type"] == "deliver":
            await self.send(text_data=message["text"])
        else:
            await super().dispatch(message)


async def respond(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def http(scope: Scope, receive: Any, send: Any) -> None:
    body = b""
    while True:
        event = await receive()
        body += event.get("body", b"")
        if not event.get("more_body"):
            break
    if scope["method"] != "POST" or scope["path"] != "/send":
        await respond(send, 200, b"ok")
        return
    try:
        data = json.loads(body)
        chat, text = int(data["chat"]), str(data["text"])
    except (ValueError, KeyError, TypeError):
        await respond(send, 400, b"send {chat, text}")
        return
    await get_channel_layer().group_send(group_for(str(chat)), {"type": "deliver", "text": text})
    await respond(send, 201, b"sent")


application = ProtocolTypeRouter({"http": http, "websocket": Forward.as_asgi()})
