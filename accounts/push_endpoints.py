"""Which push endpoints the server will send to: https on a public host, nothing else.

A subscription's endpoint is a URL the browser (or a script) hands us and the server later
POSTs to, so a crafted one must not make it reach its own network (loopback, private,
link-local, cloud metadata). The name is resolved and every address it resolves to checked.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings

from flowchat.public_address import ForbiddenAddress, public_addresses

MAX_LENGTH = 2000


def _origin(scheme: str, host: str, port: int | None) -> str:
    default = {"https": 443, "http": 80}.get(scheme)
    return f"{scheme}://{host}:{port or default}"


def endpoint_problem(endpoint: str) -> str | None:
    """Why this endpoint is refused, or None when the server may send to it."""
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > MAX_LENGTH:
        return f"Must be a URL of at most {MAX_LENGTH} characters."
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return "Must be a URL."
    host = parts.hostname or ""
    if not host or parts.username or parts.password:
        return "Must be a URL."
    if _origin(parts.scheme, host, port) in {
        _origin(*_split(origin)) for origin in settings.WEBPUSH_TEST_ORIGINS if _split(origin)
    }:
        return None
    if parts.scheme != "https":
        return "A push endpoint must be an https URL."
    try:
        public_addresses(host, port or 443)  # the same check as link previews make (flowchat.public_address)
    except ForbiddenAddress:
        return "A push endpoint must be on a public host."
    return None


def _split(origin: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(origin)
        return (parts.scheme, parts.hostname or "", parts.port) if parts.hostname else None
    except ValueError:
        return None
