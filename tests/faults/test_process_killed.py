"""One server process is killed with kill -9 while its sockets are open and sends are under way.

The other process keeps serving throughout. A send the dead process never answered may or may
not have been stored; sent again through the survivor with its client_id, each is stored once.
Nobody closes the dead process's sockets, so its people stay online until its heartbeat
lapses: the survivor says they went offline within PRESENCE_TTL_SECONDS and one heartbeat.
Started again, the process serves sockets and sends as before.
"""

from __future__ import annotations

import time

import pytest

from .conftest import (
    HEARTBEAT_SECONDS,
    TTL_SECONDS,
    Stack,
    Traffic,
    check_live_delivery,
    check_stored_exactly_once,
    message_created,
    next_event,
    open_socket,
    presence_of,
    retry_unacknowledged,
    send,
)

pytestmark = pytest.mark.faults

# The survivor's heartbeat runs every HEARTBEAT_SECONDS and counts sockets not renewed for
# TTL_SECONDS as gone; a second for the database write and the event.
OFFLINE_WITHIN = TTL_SECONDS + 2 * HEARTBEAT_SECONDS + 1


def test_a_killed_process_loses_no_acknowledged_send_its_people_go_offline_and_it_comes_back(stack: Stack):
    alice, bob = stack.people["alice"], stack.people["bob"]
    # bob is online through his socket on B (written before its handshake completed).
    with open_socket(stack.a, alice) as on_a, open_socket(stack.b, bob):
        with Traffic(stack, (stack.b,)) as traffic:
            traffic.wait_until(lambda sends: sum(s.acknowledged for s in sends) >= 10, 15, "10 sends through B")
            stack.b.kill()
            killed = time.monotonic()
            traffic.wait_until(
                lambda sends: any(s.started > killed and s.answer.status is None for s in sends),
                5,
                "B refusing connections",
            )
        sends = traffic.sends
        assert not [sent for sent in sends if sent.answer.hung], "a send to the killed process hung"
        check_stored_exactly_once(stack, sends)

        # A keeps serving: sends are acknowledged and reach its sockets.
        sent = send(stack, stack.a, alice, "still here")
        assert sent.answer.status == 201, sent.answer
        next_event(on_a, message_created(sent.answer.body["id"]))
        retry_unacknowledged(stack, stack.a, sends)
        stored = stack.postgres.stored([sent.client_id for sent in sends])
        assert all(stored.get(sent.client_id) == 1 for sent in sends), "a retried send is not stored exactly once"

        # bob's socket died with B without a goodbye: his heartbeat lapses and A says he went offline.
        next_event(on_a, presence_of(bob, online=False), seconds=OFFLINE_WITHIN + 5)
        offline_after = time.monotonic() - killed
        print(f"bob offline {offline_after:.1f} s after B was killed (bound {OFFLINE_WITHIN} s)")
        assert offline_after <= OFFLINE_WITHIN
        answer = send(stack, stack.a, alice, "are you there?").answer
        assert answer.status == 201

        # B, started again, serves: bob is back online, and live delivery works both ways.
        stack.b.start()
        with open_socket(stack.b, bob, f"?after={sent.answer.body['id']}") as bob_again:
            next_event(bob_again, message_created(answer.body["id"]))
            next_event(on_a, presence_of(bob, online=True))
    check_live_delivery(stack)
