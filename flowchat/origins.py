"""Whether a socket's handshake comes from one of the site's own pages: its full Origin.

A browser sends the session cookie with a WebSocket handshake whatever page opens it, so the
tab socket (/ws/) must know that the page is FlowChat's: its Origin — scheme, host and port —
must be the site's own, by the rule Django's CSRF check gives form posts
(`CsrfViewMiddleware`): the request's own scheme and Host (`ALLOWED_HOSTS`; https when
`is_secure()`, which honours `SECURE_PROXY_SSL_HEADER`), or one of `CSRF_TRUSTED_ORIGINS`,
`https://*.example.com` matching its subdomains. A page on another port or scheme of the same
host is another site. A handshake without an Origin is refused: every browser sends one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.utils.http import is_same_domain


class HandshakeRequest(HttpRequest):
    """Just enough of a request, from a socket's scope, for Django to say its Host and scheme."""

    def __init__(self, scope: dict[str, Any]) -> None:
        super().__init__()
        self.secure_socket = scope.get("scheme") in ("wss", "https")
        for name, value in scope.get("headers", []):
            key = "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
            # Repeated headers are joined, as the ASGI handler does for HTTP requests.
            self.META[key] = (
                f"{self.META[key]},{value.decode('latin-1')}" if key in self.META else value.decode("latin-1")
            )
        # Without a Host header (HTTP/1.0), Django takes the server's own name, as for HTTP.
        server = scope.get("server") or ("", "")
        self.META["SERVER_NAME"], self.META["SERVER_PORT"] = str(server[0]), str(server[1] or "")

    def _get_scheme(self) -> str:
        return "https" if self.secure_socket else "http"


def is_site_origin(scope: dict[str, Any]) -> bool:
    """True if the handshake's Origin is one of the site's own (see the module's docstring)."""
    request = HandshakeRequest(scope)
    origin = request.META.get("HTTP_ORIGIN")
    if not origin:
        return False
    try:
        host = request.get_host()
    except DisallowedHost:
        return False  # Django answers such a request 400 before any view; a socket gets no further
    if origin == f"{'https' if request.is_secure() else 'http'}://{host}":
        return True
    trusted = settings.CSRF_TRUSTED_ORIGINS
    if origin in (entry for entry in trusted if "*" not in entry):
        return True
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    return any(
        is_same_domain(parsed.netloc, urlsplit(entry).netloc.lstrip("*"))
        for entry in trusted
        if "*" in entry and urlsplit(entry).scheme == parsed.scheme
    )


class SiteOriginOnly:
    """ASGI middleware: a socket whose Origin is not the site's own is refused at the handshake (403)."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "websocket" and not is_site_origin(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
