"""The floor: a raw `websockets` broadcast server, with no Django, Channels or Redis.

    .venv/bin/python benchmarks/raw_server.py --port 9001 --http-port 9002

Sockets at `ws://127.0.0.1:<port>/ws/?chat=<id>` join the in-process set of that chat.
`POST /send` on the HTTP port (a minimal HTTP/1.1 server with keep-alive, in the same
process and event loop) with the JSON body `{"chat": <id>, "text": "..."}` sends the text to
every socket of the chat with one `websockets.broadcast`. Any other request answers 200.
SIGTERM closes every socket with 1001 (going away) and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, broadcast, serve

MAX_HEADER_BYTES = 16_384
MAX_BODY_BYTES = 65_536

chats: dict[str, set[ServerConnection]] = {}


async def listen(socket: ServerConnection) -> None:
    """Keep the socket in its chat until it closes (the server answers pings by itself)."""
    chat = parse_qs(urlsplit(socket.request.path if socket.request else "").query).get("chat", [""])[0]
    members = chats.setdefault(chat, set())
    members.add(socket)
    try:
        await socket.wait_closed()
    finally:
        members.discard(socket)


def answer(status: int, body: bytes) -> bytes:
    reason = {200: "OK", 201: "Created", 400: "Bad Request"}[status]
    return f"HTTP/1.1 {status} {reason}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body


def handle(method: str, path: str, body: bytes) -> bytes:
    if method != "POST" or urlsplit(path).path != "/send":
        return answer(200, b"ok")
    try:
        data = json.loads(body)
        chat, text = str(int(data["chat"])), str(data["text"])
    except (ValueError, KeyError, TypeError):
        return answer(400, b"send {chat, text}")
    broadcast(chats.get(chat, ()), text)
    return answer(201, b"sent")


async def http(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """HTTP/1.1 with keep-alive: request line, headers, a Content-Length body; nothing more."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if len(head) > MAX_HEADER_BYTES:
                break
            lines = head.decode("latin-1").split("\r\n")
            method, path, _version = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if length > MAX_BODY_BYTES:
                break
            body = await reader.readexactly(length) if length else b""
            writer.write(handle(method, path, body))
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    except asyncio.CancelledError:
        pass  # the server is stopping: an idle keep-alive connection just ends
    finally:
        writer.close()


async def main(port: int, http_port: int) -> None:
    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, lambda: stop.done() or stop.set_result(None))
    trigger = await asyncio.start_server(http, "127.0.0.1", http_port, backlog=1024)
    async with serve(listen, "127.0.0.1", port, backlog=1024, max_queue=None):
        await stop
        trigger.close()
    # Leaving `serve` closed every socket with 1001.


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="WebSocket port")
    parser.add_argument("--http-port", type=int, required=True, help="port of the HTTP trigger")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        asyncio.run(main(args.port, args.http_port))
    else:
        uvloop.run(main(args.port, args.http_port))
