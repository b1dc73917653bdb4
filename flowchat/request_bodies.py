"""A request body over MAX_REQUEST_BYTES is refused with 413 before it is read.

Django's ASGI handler reads the whole body (into memory, then a temporary file) before any
view or middleware can look at it, whoever sends it: an anonymous 50 MB POST was read to the
end only to be answered 401 or 403. This guard sits in front of it. A declared Content-Length
over the limit is answered at once, without reading a byte (a client that sent
`Expect: 100-continue` never sends the body); a body without one (chunked) is counted as it
arrives and refused as soon as it passes the limit, and Django is told the client left, so it
stops reading and answers nothing itself. The answer closes the connection: the rest of the
body is never read. A front proxy should refuse the same bodies first (README, docs/hardening.md).
"""

from __future__ import annotations

import json
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest
from django.http.cookie import parse_cookie
from django.template.loader import render_to_string
from django.utils import translation

Scope = dict[str, Any]
Message = dict[str, Any]


class BodyLimit:
    """ASGI middleware: `BodyLimit(app)` refuses HTTP bodies over `settings.MAX_REQUEST_BYTES` (0: no limit)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        limit = settings.MAX_REQUEST_BYTES
        if scope["type"] != "http" or limit <= 0:
            await self.app(scope, receive, send)
            return
        declared = declared_length(scope)
        if declared is not None and declared > limit:
            await refuse(scope, send, limit)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    await refuse(scope, send, limit)
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counted, send)


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses those itself; count what arrives
    return None


def header(scope: Scope, wanted: bytes) -> str:
    for name, value in scope.get("headers", []):
        if name.lower() == wanted:
            return value.decode("latin-1")
    return ""


def is_api(scope: Scope) -> bool:
    path = scope.get("path", "")
    return path == "/api" or path.startswith("/api/")


async def refuse(scope: Scope, send: Any, limit: int) -> None:
    if is_api(scope):
        content_type = "application/json"
        body = json.dumps({"detail": f"The request body is too large: at most {limit} bytes are accepted."}).encode()
    else:
        content_type = "text/html; charset=utf-8"
        body = await sync_to_async(too_large_page, thread_sensitive=False)(scope, limit)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", content_type.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def too_large_page(scope: Scope, limit: int) -> bytes:
    """templates/413.html in the language the browser asks for (the session is not read for this)."""
    request = HttpRequest()
    request.META["HTTP_ACCEPT_LANGUAGE"] = header(scope, b"accept-language")
    request.COOKIES = parse_cookie(header(scope, b"cookie"))
    with translation.override(translation.get_language_from_request(request)):
        return render_to_string("413.html", {"limit_mb": max(1, round(limit / (1024 * 1024)))}).encode()
