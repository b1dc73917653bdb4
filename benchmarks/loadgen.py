"""The load generator of benchmarks/realtime.py: cheap WebSocket clients and an HTTP/1.1 sender.

Nothing here knows FlowChat: a socket is a path and a few headers, a send is a POST with
the JSON body `{"chat": <id>, "text": <marker>}`. Every message text is a marker,
`bench:<seq>:<send time in ns>:end`, so a receiver finds it in whatever HTML or text the
server wraps around it (the `:end` keeps a truncated preview of it from being read as a
marker).

Python cannot parse every frame of thousands of sockets, so a socket is one of two kinds,
both plain asyncio protocols that speak just enough RFC 6455 (handshake, frame headers,
pong, close; inflate for the few observers of a deflated socket):

- a *timing observer* keeps every frame whole, finds the markers in it and records, once
  per socket and seq, the latency (receive time − the send time in the marker, one clock)
  at the first frame that carries it; it also counts the frames that carry any marker;
- a *raw sink* only counts frames and bytes: it reads each frame header and skips the
  payload without copying it.

Each message is one event, so an observer should get exactly one frame with a marker per
message sent to its chat, and every sent seq. A FlowChat frame may also carry the marker of
*another* message (the chat list's preview of the newest message, when two sends race), so
seqs alone cannot tell a duplicate: lost = max(sent seqs never seen, messages − marked
frames), duplicated = marked frames − messages, per observer.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import cast

HOST = "127.0.0.1"
MARKER = re.compile(rb"bench:(\d+):(\d+):end")
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HANDSHAKE_BYTES = 65_536
DEFLATE_OFFER = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"


def marker(seq: int, sent_ns: int) -> str:
    return f"bench:{seq}:{sent_ns}:end"


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (p99 of 100 values is the 99th smallest); None without values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class SocketSpec:
    """One socket to open: the chat (or group) it listens to, its path and extra handshake headers."""

    chat: int
    path: str
    headers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Sender:
    """Who posts: the send URL's path and its extra headers (FlowChat: `Authorization: Token ...`)."""

    path: str
    headers: tuple[str, ...] = ()


# Counting -------------------------------------------------------------------------------------


@dataclass
class Tally:
    """What one measurement sent and what its observers saw."""

    sent: dict[int, int] = field(default_factory=dict)  # seq -> chat, of sends the server accepted
    warm: dict[int, int] = field(default_factory=dict)  # warm-up seqs -> chat
    got: Counter[int] = field(default_factory=Counter)  # seq -> observers that received it
    latencies_ns: list[int] = field(default_factory=list)
    frame_bytes: list[int] = field(default_factory=list)  # wire size of each frame that carried a marker
    repeats: int = 0  # a marker seen again in a later frame (FlowChat: the chat list's preview of it)
    http_ns: list[int] = field(default_factory=list)
    http_errors: Counter[str] = field(default_factory=Counter)
    lag_ns: list[int] = field(default_factory=list)  # how late each send left after its planned time
    first_send_ns: int = 0  # perf_counter_ns: the first planned send
    last_written_ns: int = 0  # perf_counter_ns: the last send written to a connection
    last_send_ns: int = 0  # perf_counter_ns: the last answer

    def observed(self, socket: WebSocket, seqs: dict[int, int], now_ns: int, wire: int) -> None:
        """One frame of an observer, with the markers found in it (seq -> send time)."""
        carried = False
        for seq, sent_ns in seqs.items():
            measured = seq in self.sent
            if not measured and seq not in self.warm:
                continue  # another run's marker, or a send the server refused
            carried |= measured
            if seq in socket.seen:
                self.repeats += 1
                continue
            socket.seen.add(seq)
            self.got[seq] += 1
            if measured:
                self.latencies_ns.append(now_ns - sent_ns)
                self.frame_bytes.append(wire)
                socket.got_own += self.sent[seq] == socket.spec.chat
        if carried:
            socket.marked_frames += 1


# WebSocket clients --------------------------------------------------------------------------------


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (only control frames are sent here: pong and close, <= 125 bytes)."""
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[n % 4] for n, byte in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


class WebSocket(asyncio.Protocol):
    """An observer (`observe=True`) or a raw sink; see the module docstring."""

    def __init__(self, spec: SocketSpec, port: int, *, observe: bool, deflate: bool) -> None:
        loop = asyncio.get_running_loop()
        self.spec = spec
        self.port = port
        self.observe = observe
        self.offer_deflate = deflate
        self.opened: asyncio.Future[bool] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.Transport | None = None
        self.key = base64.b64encode(os.urandom(16))
        self.pending = bytearray()  # handshake bytes, then frame bytes not yet parsed
        self.skip = 0  # a sink's payload bytes still to skip
        self.fragments: list[bytes] = []
        self.compressed = False
        self.deflated = False  # the server accepted permessage-deflate
        self.inflater: zlib._Decompress | None = None
        self.frames = 0
        self.wire_bytes = 0
        self.seen: set[int] = set()
        self.marked_frames = 0  # frames that carried a marker of the measurement
        self.got_own = 0  # measured seqs of its own chat seen
        self.tally: Tally | None = None
        self.close_code: int | None = None
        self.closed_ns: int | None = None
        self.error = ""

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        lines = [
            f"GET {self.spec.path} HTTP/1.1",
            f"Host: {HOST}:{self.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {self.key.decode()}",
            "Sec-WebSocket-Version: 13",
            f"Origin: http://{HOST}:{self.port}",
            *self.spec.headers,
        ]
        if self.offer_deflate:
            lines.append(DEFLATE_OFFER)
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def data_received(self, data: bytes) -> None:
        if self.opened.done():
            self.frames_received(data)
            return
        self.pending += data
        end = self.pending.find(b"\r\n\r\n")
        if end < 0:
            if len(self.pending) > MAX_HANDSHAKE_BYTES:
                self.fail("handshake response too long")
            return
        head = bytes(self.pending[:end]).decode("latin-1")
        rest = bytes(self.pending[end + 4 :])
        self.pending = bytearray()
        status, *header_lines = head.split("\r\n")
        if status.split(" ")[1:2] != ["101"]:
            self.fail(status.strip() or "no status line")
            return
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        expected = base64.b64encode(hashlib.sha1(self.key + WS_GUID, usedforsecurity=False).digest()).decode()
        if headers.get("sec-websocket-accept") != expected:
            self.fail("bad Sec-WebSocket-Accept")
            return
        self.deflated = "permessage-deflate" in headers.get("sec-websocket-extensions", "")
        if self.deflated and self.observe:
            self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        self.opened.set_result(True)
        if rest:
            self.frames_received(rest)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed_ns = time.monotonic_ns()
        if not self.opened.done():
            self.error = self.error or f"connection lost during handshake: {exc!r}"
            self.opened.set_result(False)
        if not self.closed.done():
            self.closed.set_result(None)

    # Frames

    def frames_received(self, data: bytes) -> None:
        now = time.time_ns()
        self.wire_bytes += len(data)
        if self.skip:
            if len(data) <= self.skip:
                self.skip -= len(data)
                return
            data = data[self.skip :]
            self.skip = 0
        buffer = self.pending
        buffer += data
        position, end = 0, len(buffer)
        while end - position >= 2:
            first, second = buffer[position], buffer[position + 1]
            length, header = second & 0x7F, 2
            if length == 126:
                if end - position < 4:
                    break
                length, header = int.from_bytes(buffer[position + 2 : position + 4]), 4
            elif length == 127:
                if end - position < 10:
                    break
                length, header = int.from_bytes(buffer[position + 2 : position + 10]), 10
            opcode = first & 0x0F
            start = position + header
            if opcode < 8 and not self.observe:
                if first & 0x80:
                    self.frames += 1
                if end - start < length:
                    self.skip = length - (end - start)
                    position = end
                    break
                position = start + length
                continue
            if end - start < length:
                break
            payload = bytes(buffer[start : start + length])
            position = start + length
            if opcode < 8:
                self.data_frame(first, payload, now, header + length)
            else:
                self.control_frame(opcode, payload)
        if position:
            del buffer[:position]

    def data_frame(self, first: int, payload: bytes, now_ns: int, wire: int) -> None:
        if not self.fragments:
            self.compressed = bool(first & 0x40)
        self.fragments.append(payload)
        if not first & 0x80:
            return
        message = b"".join(self.fragments)
        self.fragments = []
        self.frames += 1
        if self.compressed and self.inflater is not None:
            message = self.inflater.decompress(message + b"\x00\x00\xff\xff")
        if self.tally is not None:
            seqs = {int(match[1]): int(match[2]) for match in MARKER.finditer(message)}
            if seqs:
                self.tally.observed(self, seqs, now_ns, wire)

    def control_frame(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if opcode == 0x9:  # ping
            self.transport.write(client_frame(0xA, payload[:125]))
        elif opcode == 0x8:  # close: answer it; the server closes the connection
            self.close_code = int.from_bytes(payload[:2]) if len(payload) >= 2 else 1005
            self.transport.write(client_frame(0x8, payload[:2]))

    # Helpers

    def fail(self, error: str) -> None:
        self.error = error
        if not self.opened.done():
            self.opened.set_result(False)
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


@dataclass
class Opened:
    sockets: list[WebSocket]
    failures: int  # failed attempts, retried ones included
    errors: Counter[str]
    seconds: float
    handshakes: list[float] = field(default_factory=list)  # seconds from connect to open, of each opened socket


async def open_sockets(
    specs: Sequence[SocketSpec],
    port: int,
    *,
    observers: set[int] = frozenset(),  # type: ignore[assignment]
    deflate: bool = False,
    concurrency: int = 100,
    timeout: float = 15.0,
    attempts: int = 3,
    time_limit: float = 300.0,
    rate: float | None = None,
) -> Opened:
    """Open every socket, at most `concurrency` handshakes at a time; a retried attempt counts as a failure.

    `observers` are the indexes in `specs` of the timing observers; the rest are sinks. No
    attempt starts after `time_limit` seconds: each socket left then is one more failure.
    With `rate`, socket k starts its first attempt k / rate seconds after the first (arrivals
    at a steady rate, however slow the handshakes).
    """
    loop = asyncio.get_running_loop()
    deadline = time.monotonic() + time_limit
    started = time.perf_counter()
    slots = asyncio.Semaphore(concurrency)
    errors: Counter[str] = Counter()
    opened: list[WebSocket | None] = [None] * len(specs)
    handshakes: list[float] = []

    async def open_one(index: int) -> None:
        if rate:
            await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
        for _ in range(attempts):
            async with slots:
                if time.monotonic() > deadline:
                    errors["not tried: time limit"] += 1
                    return
                socket = WebSocket(specs[index], port, observe=index in observers, deflate=deflate)
                began = time.perf_counter()
                try:
                    await asyncio.wait_for(loop.create_connection(lambda s=socket: s, HOST, port), timeout)
                    ok = await asyncio.wait_for(socket.opened, timeout)
                except (TimeoutError, OSError) as error:
                    socket.error = socket.error or type(error).__name__
                    ok = False
            if ok:
                opened[index] = socket
                handshakes.append(time.perf_counter() - began)
                return
            errors[socket.error[:80]] += 1
            socket.abort()

    await asyncio.gather(*(open_one(index) for index in range(len(specs))))
    seconds = time.perf_counter() - started
    return Opened([s for s in opened if s is not None], sum(errors.values()), errors, seconds, handshakes)


def close_all(sockets: Iterable[WebSocket]) -> None:
    for socket in sockets:
        socket.abort()


# HTTP sender --------------------------------------------------------------------------------------


class HttpConnection:
    """One keep-alive HTTP/1.1 connection; a response is read by Content-Length or chunks."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            await self.connect()
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status_line, *lines = head.split("\r\n")
        status = int(status_line.split(" ")[1])
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                body += await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            body = await self.reader.read()
            headers["connection"] = "close"
        if headers.get("connection") == "close":
            self.close()
        return status, body


class HttpPool:
    """A few keep-alive connections; a request waits for a free one."""

    def __init__(self, port: int, size: int) -> None:
        self.port = port
        self.size = size
        self.idle: asyncio.Queue[HttpConnection] = asyncio.Queue()
        for _ in range(size):
            self.idle.put_nowait(HttpConnection(port))

    async def get(self, path: str) -> int:
        connection = await self.idle.get()
        try:
            status, _ = await connection.request(
                f"GET {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n\r\n".encode("latin-1")
            )
            return status
        except (OSError, asyncio.IncompleteReadError, ValueError):
            connection.close()
            raise
        finally:
            self.idle.put_nowait(connection)

    async def post(self, sender: Sender, body: bytes) -> tuple[int, int, int]:
        """POST `body` as JSON; returns (status, request time in ns, the time it was written in ns)."""
        connection = await self.idle.get()
        try:
            head = [
                f"POST {sender.path} HTTP/1.1",
                f"Host: {HOST}:{self.port}",
                "Content-Type: application/json",
                f"Content-Length: {len(body)}",
                *sender.headers,
            ]
            raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
            written = time.perf_counter_ns()
            reused = connection.writer is not None
            try:
                status, _ = await connection.request(raw)
            except (ConnectionError, asyncio.IncompleteReadError) as error:
                connection.close()
                # A kept-alive connection the server closed while it was idle (uvicorn after 5 s)
                # fails before any answer: the request never reached the application. Once more, anew.
                if not reused or (isinstance(error, asyncio.IncompleteReadError) and error.partial):
                    raise
                written = time.perf_counter_ns()
                try:
                    status, _ = await connection.request(raw)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    connection.close()
                    raise
            except (OSError, ValueError):
                connection.close()
                raise
            return status, time.perf_counter_ns() - written, written
        finally:
            self.idle.put_nowait(connection)

    def close(self) -> None:
        while not self.idle.empty():
            self.idle.get_nowait().close()


class SeqCounter:
    """One sequence for the whole run, so no marker is ever reused."""

    def __init__(self) -> None:
        self.last = 0

    def next(self) -> int:
        self.last += 1
        return self.last


async def send_one(
    pool: HttpPool, sender: Sender, chat: int, seq: int, tally: Tally, *, warm: bool = False, planned_ns: int = 0
) -> bool:
    """Post one marker; a send the server refuses is not expected anywhere."""
    sent_ns = time.time_ns()
    (tally.warm if warm else tally.sent)[seq] = chat
    body = b'{"chat": %d, "text": "%s"}' % (chat, marker(seq, sent_ns).encode())
    try:
        status, elapsed, written = await asyncio.wait_for(pool.post(sender, body), 30)
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as error:
        (tally.warm if warm else tally.sent).pop(seq, None)
        tally.http_errors[type(error).__name__] += 1
        return False
    if not 200 <= status < 300:
        (tally.warm if warm else tally.sent).pop(seq, None)
        tally.http_errors[f"HTTP {status}"] += 1
        return False
    if not warm:
        tally.last_written_ns = max(tally.last_written_ns, written)
        tally.http_ns.append(elapsed)
        if planned_ns:
            tally.lag_ns.append(max(0, written - planned_ns))
    return True


async def send_at_rate(
    pool: HttpPool, plan: Sequence[tuple[Sender, int]], rate: float, seqs: SeqCounter, tally: Tally
) -> float:
    """Send the plan's (sender, chat) posts open-loop at `rate` per second; returns the seconds it took.

    A post leaves at its planned time whether or not earlier ones were answered (up to the
    pool's connections; beyond that it waits, and its lag is recorded).
    """
    tasks = []
    started = time.perf_counter_ns()
    tally.first_send_ns = started
    for index, (sender, chat) in enumerate(plan):
        planned = started + round(index * 1e9 / rate)
        delay = (planned - time.perf_counter_ns()) / 1e9
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send_one(pool, sender, chat, seqs.next(), tally, planned_ns=planned)))
    await asyncio.gather(*tasks)
    tally.last_send_ns = time.perf_counter_ns()
    return (tally.last_send_ns - started) / 1e9
