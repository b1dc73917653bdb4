"""A frame too big for a socket closes it with 1009 ("message too big"), not a dropped connection,
on the production server (bin/serve: uvicorn's limit, SOCKET_MAX_FRAME_BYTES, 64 KiB).

The development server (daphne) refuses frames over 1 MiB too, but its WebSocket library
(autobahn, failByDrop) drops the connection instead of saying 1009.
"""

from __future__ import annotations

import pytest
from websockets.exceptions import ConnectionClosed

from conftest import make_person
from flowchat.testing import token_for

from .conftest import start_server, stop_server
from .test_scale_out import script_socket

pytestmark = pytest.mark.browser  # a real server process, like the browser tests

TEN_MB = 10 * 1024 * 1024


@pytest.fixture
def server(transactional_db, tmp_path):
    running = start_server(tmp_path, production=True)
    yield running
    stop_server(running)


def close_code_after(server, send) -> int:
    key = token_for(make_person("alice", "Alice"))
    with script_socket(server, key) as socket, pytest.raises(ConnectionClosed) as closed:
        send(socket)
        while True:
            socket.recv(timeout=10)
    assert closed.value.rcvd is not None, "the connection was dropped without a close frame"
    return closed.value.rcvd.code


def test_a_10_mb_frame_closes_the_socket_with_1009(server):
    def send(socket) -> None:
        # A text frame that says it carries 10 MB (client frames are masked; a zero key leaves the
        # bytes as they are) and its first 64 KiB. The server refuses it on its length, before the
        # rest; a client still pushing the other 10 MB could lose the close frame to the TCP reset
        # that closing a connection with unread data sends, whatever the server.
        head = bytes([0x81, 0x80 | 127]) + TEN_MB.to_bytes(8, "big") + bytes(4)
        socket.socket.sendall(head + b"x" * 65536)

    assert close_code_after(server, send) == 1009


def test_a_frame_just_over_the_limit_closes_the_socket_with_1009(server):
    assert close_code_after(server, lambda socket: socket.send("x" * (64 * 1024 + 1))) == 1009
