"""The production server as bin/serve starts it (uvicorn): a graceful stop.

At SIGTERM every open socket is closed with 1012, so that each tab's htmx reconnects (to
another process, behind a proxy), and before the process ends its people are written offline:
nobody waits for their heartbeat to expire (PRESENCE_TTL_SECONDS stays at its 60 s here).
"""

from __future__ import annotations

import signal

import pytest
from websockets.exceptions import ConnectionClosed

from accounts.models import Connection, User
from conftest import make_person
from conversations import actions
from flowchat.testing import token_for

from .conftest import start_server, stop_server
from .test_scale_out import script_socket

pytestmark = pytest.mark.browser  # a real server process, like the browser tests


def test_a_graceful_stop_closes_every_socket_to_be_reopened_and_says_who_went_offline(transactional_db, tmp_path):
    server = start_server(tmp_path, production=True)
    alice, bob = make_person("alice", "Alice"), make_person("bob", "Bob")
    actions.get_or_create_direct_chat(alice, bob)
    try:
        with script_socket(server, token_for(alice)) as alice_socket:
            assert User.objects.get(pk=alice.pk).is_online  # written before the handshake completed

            server.process.send_signal(signal.SIGTERM)

            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    alice_socket.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1012
        # It ends by itself, and says it ended on SIGTERM (uvicorn raises the signal again once done).
        assert server.process.wait(timeout=20) in (0, -signal.SIGTERM)
        assert not User.objects.get(pk=alice.pk).is_online
        assert not Connection.objects.exists()
    finally:
        stop_server(server)
