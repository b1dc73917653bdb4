"""Redis is killed during a burst of sends, with sockets open on both processes, and started again.

Redis carries the live events between processes and the rate-limit counters; the messages are
in PostgreSQL. So while it is down sends go on being acknowledged (or clearly refused: 429 or
503 with Retry-After), people can still log in (the limits count per process meanwhile, issue
8 item 2), and a socket opened meanwhile is accepted or closed with a code a tab's htmx
retries (1012, 1013), never 1011. Once Redis is back — FlowChat itself not restarted — new
sockets connect and a message sent through either process reaches a socket on the other, and
a socket that stayed open hears it too, unless it was closed to be reopened.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI
from websockets.sync.client import ClientConnection

from conftest import PASSWORD

from .conftest import (
    Stack,
    Traffic,
    call,
    check_live_delivery,
    check_stored_exactly_once,
    message_created,
    open_socket,
    open_tab_socket,
    send,
    wait_for,
)

pytestmark = pytest.mark.faults

# htmx's ws extension reconnects after these close codes (and after a handshake that failed,
# which a browser reports as 1006); after any other it gives up for good.
RETRIED_CLOSE_CODES = {1012, 1013}
RECOVERY_SECONDS = 10


def socket_while_redis_is_down(opener: Callable[[], ClientConnection]) -> str | None:
    """What goes wrong with a socket opened now; None if it is accepted and stays open, or closed to be reopened."""
    try:
        with opener() as socket:
            deadline = time.monotonic() + 2
            try:
                # Whatever it says, for two seconds: does it stay open?
                while (left := deadline - time.monotonic()) > 0:
                    socket.recv(timeout=left)
                return None
            except TimeoutError:
                return None
            except ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd else None
                return None if code in RETRIED_CLOSE_CODES else f"closed with {code}, which htmx does not retry"
    except InvalidStatus as refused:
        status = refused.response.status_code
        return None if status in (503,) else f"handshake answered {status}"
    except (OSError, InvalidURI, TimeoutError) as error:
        return f"no socket: {error!r}"


def closed_to_reopen(socket) -> str | None:
    """A socket that was open while Redis was away missed what was published meanwhile: once Redis
    is back it must be closed with a code htmx retries (the tab then catches up over HTTP)."""
    deadline = time.monotonic() + RECOVERY_SECONDS
    try:
        while time.monotonic() < deadline:
            socket.recv(timeout=max(deadline - time.monotonic(), 0.01))
    except TimeoutError:
        pass
    except ConnectionClosed as closed:
        code = closed.rcvd.code if closed.rcvd else None
        return None if code in RETRIED_CLOSE_CODES else f"closed with {code}, which htmx does not retry"
    return "stayed open, never told that it missed what was sent while Redis was away"


def live_across(stack: Stack) -> bool:
    """A fresh socket on B hears a message sent through A within two seconds."""
    alice, bob = stack.people["alice"], stack.people["bob"]
    try:
        with open_socket(stack.b, bob) as listener:
            sent = send(stack, stack.a, alice, "anyone there?")
            if sent.answer.status != 201:
                return False
            deadline = time.monotonic() + 2
            while (left := deadline - time.monotonic()) > 0:
                if message_created(sent.answer.body["id"])(json.loads(listener.recv(timeout=left))):
                    return True
    except (OSError, InvalidStatus, ConnectionClosed, TimeoutError):
        pass
    return False


def test_redis_killed_during_a_burst_loses_no_send_locks_nobody_out_and_live_delivery_comes_back(stack: Stack):
    alice, bob = stack.people["alice"], stack.people["bob"]
    with open_socket(stack.a, alice) as alice_on_a, open_socket(stack.b, bob) as bob_on_b:
        with Traffic(stack, stack.servers) as traffic:
            traffic.wait_until(lambda sends: sum(s.acknowledged for s in sends) >= 20, 15, "20 sends acknowledged")
            stack.redis.kill()
            killed = time.monotonic()
            traffic.wait_until(lambda sends: len(traffic.since(killed)) >= 20, 20, "20 sends while Redis was down")

            login = call(stack.a, "POST", "/api/login/", body={"username": "alice", "password": PASSWORD})
            openers = {
                f"{kind} on {server.name}": partial(opener, server, alice)
                for server in stack.servers
                for kind, opener in (("script", open_socket), ("tab", open_tab_socket))
            }
            with ThreadPoolExecutor(len(openers)) as pool:
                sockets = dict(zip(openers, pool.map(socket_while_redis_is_down, openers.values()), strict=True))

            stack.redis.start()
        sends = traffic.sends
        during = [sent for sent in sends if sent.started >= killed]
        acknowledged = sum(sent.acknowledged for sent in during)
        print(f"{len(sends)} sends, {len(during)} while Redis was down, {acknowledged} of them acknowledged")

        problems = [
            f"{sent.server.name}: {sent.answer.refusal_problem}"
            for sent in sends
            if not sent.acknowledged and sent.answer.refusal_problem
        ]
        assert not problems, f"{len(problems)} sends were neither acknowledged nor clearly refused: {problems[:10]}"
        check_stored_exactly_once(stack, sends)
        assert login.status == 200, f"alice could not log in while Redis was down: {login.status} {login.body}"
        assert not any(sockets.values()), f"sockets opened while Redis was down: {sockets}"

        # Redis is back, FlowChat not restarted: live delivery across the processes comes back within seconds...
        wait_for(lambda: live_across(stack), RECOVERY_SECONDS, "live delivery across processes after Redis came back")
        # ...and the sockets that stayed open through it, which missed what was sent meanwhile,
        # are told to reconnect (conversations.layer_watch).
        left_open = {"bob on B": closed_to_reopen(bob_on_b), "alice on A": closed_to_reopen(alice_on_a)}
        assert not any(left_open.values()), f"sockets opened before Redis died: {left_open}"

    check_live_delivery(stack)
