"""The events of the script socket /ws/api/, as JSON Schemas for the OpenAPI document.

OpenAPI has no WebSocket operations, so the document describes the socket in its
`x-websocket` extension and each event as a component schema (`SocketEvent`), which the
tests check real events against (conversations/tests/test_consumers.py).
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _event(names: list[str], data: Schema, *, chat: Schema | None = None) -> Schema:
    return {
        "type": "object",
        "required": ["event", "chat", "data"],
        "additionalProperties": False,
        "properties": {
            "event": {"enum": names},
            "chat": chat or {"type": "integer"},
            "data": data,
        },
    }


def _object(**properties: Schema) -> Schema:
    return {
        "type": "object",
        "required": list(properties),
        "additionalProperties": False,
        "properties": properties,
    }


NO_CHAT: Schema = {"type": "null"}
ID: Schema = {"type": "integer"}

EVENT_SCHEMAS: dict[str, Schema] = {
    "SocketEvent": {
        "description": "One event on /ws/api/: what happened (`event`), in which chat, and its data.",
        "oneOf": [
            _event(["message.created", "message.edited", "message.deleted"], _ref("Message")),
            _event(["chat.created", "chat.updated"], _ref("Chat")),
            _event(["member.added", "member.removed", "typing"], _object(chat=ID, user=_ref("UserListItem"))),
            _event(["read"], _object(chat=ID, user=ID, message=ID)),
            _event(
                ["message.reactions"],
                _object(message=ID, chat=ID, reactions={"type": "array", "items": _ref("ReactionSummary")}),
            ),
            _event(
                ["message.link_preview"],
                _object(message=ID, chat=ID, link_preview={"oneOf": [_ref("LinkPreview"), {"type": "null"}]}),
            ),
            _event(
                ["presence"],
                _object(
                    user=_ref("UserListItem"),
                    is_online={"type": "boolean"},
                    last_active={"type": ["string", "null"], "format": "date-time"},
                ),
                chat=NO_CHAT,
            ),
            _event(["caught_up"], _object(more={"type": "boolean"}), chat=NO_CHAT),
            _event(["error"], _object(detail={"type": "string"}), chat=NO_CHAT),
        ],
    },
    "SocketRequest": {
        "description": "What a script may send on /ws/api/: that it is typing in a chat.",
        "type": "object",
        "required": ["type", "chat"],
        "properties": {"type": {"const": "typing"}, "chat": ID},
    },
}

WEBSOCKET = {
    "path": "/ws/api/",
    "authentication": "The `Authorization: Token <key>` header of the handshake (never in the URL).",
    "query": {"after": "A message id: first replay the messages after it (up to 500), then `caught_up`."},
    "receives": _ref("SocketEvent"),
    "sends": _ref("SocketRequest"),
    "close_codes": {
        "4400": "A bad `after`, or a frame that is not JSON text.",
        "4401": "No valid token, or the token was revoked.",
    },
}
