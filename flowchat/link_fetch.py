"""Fetching what a posted link points at, for its preview: the server's only outgoing requests
to addresses that people choose, so every one goes through the SSRF guard.

A fetch resolves the host once, refuses unless every address is public (flowchat.public_address),
and connects to the checked address itself, sending the name in the Host header and, for https,
in SNI and the certificate check: no second lookup happens that could rebind the name to an
inside address. Only http and https on ports 80 and 443; at most MAX_REDIRECTS redirects, each
checked the same way; a connect timeout, a deadline for the whole fetch (a watchdog closes the
socket of a server that dribbles), and a cap on the bytes read.

LINK_PREVIEW_TEST_ORIGINS (scheme://host:port, empty by default) lets the tests reach their
own local server; nothing else may pass the guard without being public.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from .public_address import ForbiddenAddress, public_addresses

CONNECT_TIMEOUT = 3.0  # seconds
TOTAL_TIMEOUT = 5.0  # seconds, for the whole fetch, redirects included
MAX_REDIRECTS = 3
PAGE_MAX_BYTES = 1024 * 1024
IMAGE_MAX_BYTES = 5 * 1024 * 1024
ALLOWED_PORTS = (80, 443)
DEFAULT_PORTS = {"http": 80, "https": 443}
REDIRECTS = (301, 302, 303, 307, 308)
USER_AGENT = "FlowChat-LinkPreview/1.0"
CHUNK = 64 * 1024


class FetchRefused(Exception):
    """The link was not fetched: forbidden, unreachable, too slow, too large, or not what was asked for."""


@dataclass(frozen=True)
class Fetched:
    url: str  # where the body came from, after redirects
    content_type: str  # lower case, without parameters
    charset: str  # from the Content-Type, "" when none
    body: bytes
    truncated: bool  # the body was cut at the cap


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent in the request line
    trusted: bool  # one of LINK_PREVIEW_TEST_ORIGINS


def test_origins() -> set[str]:
    return {origin.strip().lower().rstrip("/") for origin in settings.LINK_PREVIEW_TEST_ORIGINS if origin.strip()}


def target(url: str) -> Target:
    """What a URL asks to reach, or FetchRefused if it may not be fetched at all (before any lookup)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise FetchRefused("not a URL") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise FetchRefused("only http and https links are fetched")
    if parts.username is not None or parts.password is not None:
        raise FetchRefused("a link with a user name or password is not fetched")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FetchRefused("no host")
    try:
        host.encode("ascii")
    except UnicodeEncodeError:
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise FetchRefused("not a valid host name") from exc
    port = port if port is not None else DEFAULT_PORTS[scheme]
    shown_host = f"[{host}]" if ":" in host else host
    trusted = f"{scheme}://{shown_host}:{port}" in test_origins()
    if not trusted and port not in ALLOWED_PORTS:
        raise FetchRefused("only ports 80 and 443 are fetched")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    if any(ord(char) < 33 or ord(char) > 126 for char in path):
        raise FetchRefused("the path has characters that cannot be sent")
    return Target(scheme, host, port, path, trusted)


def addresses_of(where: Target) -> list[str]:
    """The checked addresses to connect to: every one public, unless the origin is a test origin."""
    if where.trusted:
        try:
            infos = socket.getaddrinfo(where.host, where.port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise FetchRefused(f"{where.host} does not resolve") from exc
        return list(dict.fromkeys(info[4][0] for info in infos))
    try:
        return public_addresses(where.host, where.port)
    except ForbiddenAddress as exc:
        raise FetchRefused(str(exc)) from exc


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to a checked address; the host name goes in the Host header only."""

    def __init__(self, host: str, port: int, address: str) -> None:
        super().__init__(host, port, timeout=CONNECT_TIMEOUT)
        self.address = address
        # Kept here: http.client lets go of `sock` once a response with "Connection: close" begins,
        # while the body is still read from it (the deadline and the watchdog need it).
        self.pinned: socket.socket | None = None

    def connect(self) -> None:
        self.sock = self.pinned = socket.create_connection((self.address, self.port), CONNECT_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """The same over TLS: SNI and the certificate check are for the host name, the socket for the address."""

    default_port = 443

    def __init__(self, host: str, port: int, address: str, context: ssl.SSLContext) -> None:
        super().__init__(host, port, address)
        self.context = context

    def connect(self) -> None:
        super().connect()
        self.sock = self.pinned = self.context.wrap_socket(self.sock, server_hostname=self.host)


def tls_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def _media_type(header: str) -> tuple[str, str]:
    kind, _sep, parameters = header.partition(";")
    charset = ""
    for parameter in parameters.split(";"):
        name, _eq, value = parameter.strip().partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return kind.strip().lower(), charset


def fetch(url: str, *, accept: Callable[[str], bool], max_bytes: int, truncate: bool = False) -> Fetched:
    """GET `url` through the guard; `accept` judges the media type; FetchRefused for anything wrong.

    A body past `max_bytes` is refused, or with `truncate` cut there (a page's head is at its top).
    """
    deadline = time.monotonic() + TOTAL_TIMEOUT
    for _hop in range(MAX_REDIRECTS + 1):
        where = target(url)
        response = _request(where, accept=accept, max_bytes=max_bytes, truncate=truncate, deadline=deadline)
        if isinstance(response, str):
            url = urljoin(url, response)
            continue
        return Fetched(url, *response)
    raise FetchRefused(f"more than {MAX_REDIRECTS} redirects")


def _request(
    where: Target, *, accept: Callable[[str], bool], max_bytes: int, truncate: bool, deadline: float
) -> str | tuple[str, str, bytes, bool]:
    """One request: the Location of a redirect, or (media type, charset, body, truncated)."""
    last_error: Exception | None = None
    for address in addresses_of(where):
        if time.monotonic() >= deadline:
            break
        if where.scheme == "https":
            connection: _PinnedHTTPConnection = _PinnedHTTPSConnection(where.host, where.port, address, tls_context())
        else:
            connection = _PinnedHTTPConnection(where.host, where.port, address)
        # Past the deadline the socket is shut, whatever read is waiting on it.
        watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _shut, [connection])
        watchdog.daemon = True
        watchdog.start()
        try:
            try:
                connection.connect()
            except OSError as exc:
                last_error = exc
                continue  # the next checked address, if the name has one
            return _exchange(
                connection, where, accept=accept, max_bytes=max_bytes, truncate=truncate, deadline=deadline
            )
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise FetchRefused(f"the fetch failed: {exc.__class__.__name__}") from exc
        finally:
            watchdog.cancel()
            connection.close()
            if connection.pinned is not None:
                connection.pinned.close()
    raise FetchRefused(f"could not connect to {where.host}") from last_error


def _shut(connection: _PinnedHTTPConnection) -> None:
    sock = connection.pinned
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _exchange(
    connection: _PinnedHTTPConnection,
    where: Target,
    *,
    accept: Callable[[str], bool],
    max_bytes: int,
    truncate: bool,
    deadline: float,
) -> str | tuple[str, str, bytes, bool]:
    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise FetchRefused("too slow")
        return left

    connection.pinned.settimeout(remaining())
    connection.putrequest("GET", where.path, skip_accept_encoding=True)
    connection.putheader("User-Agent", USER_AGENT)
    connection.putheader("Accept", "text/html,application/xhtml+xml,image/*;q=0.9")
    connection.putheader("Accept-Encoding", "identity")
    connection.putheader("Connection", "close")
    connection.endheaders()
    response = connection.getresponse()
    if response.status in REDIRECTS:
        location = response.getheader("Location", "")
        if not location:
            raise FetchRefused("a redirect without a Location")
        return location
    if response.status != 200:
        raise FetchRefused(f"status {response.status}")
    media_type, charset = _media_type(response.getheader("Content-Type", ""))
    if not accept(media_type):
        raise FetchRefused(f"not the kind of content asked for ({media_type or 'none'})")
    length = response.getheader("Content-Length", "")
    if length.isdigit() and int(length) > max_bytes and not truncate:
        raise FetchRefused("too large")
    body = bytearray()
    while len(body) <= max_bytes:
        connection.pinned.settimeout(remaining())
        chunk = response.read1(min(CHUNK, max_bytes + 1 - len(body)))
        if not chunk:
            break
        body += chunk
    remaining()  # a read cut short by the watchdog is a failure, not a short body
    truncated = len(body) > max_bytes
    if truncated and not truncate:
        raise FetchRefused("too large")
    return media_type, charset, bytes(body[:max_bytes]), truncated


def is_html(media_type: str) -> bool:
    return media_type in ("text/html", "application/xhtml+xml")


def is_image(media_type: str) -> bool:
    return media_type.startswith("image/")
