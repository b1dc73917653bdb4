"""PostgreSQL restarts, or stays down a while, under sends through both processes.

While it is down a send is refused clearly — 503, Retry-After, a JSON detail — within the
pool's timeout, never a hang or a bare 500 (issue 8, item 3). Nothing acknowledged is lost or
doubled, and a refused send retried with its client_id is stored once. Once PostgreSQL is back
the same processes answer again within seconds, and no request fails on a connection that died
with the old server: the pools check a connection before they lend it (CONN_HEALTH_CHECKS).
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import (
    POOL_SIZE,
    POOL_TIMEOUT_SECONDS,
    Sent,
    Stack,
    Traffic,
    check_live_delivery,
    check_stored_exactly_once,
    retry_unacknowledged,
    send,
)

pytestmark = pytest.mark.faults

RECOVERY_SECONDS = 10


def burst(stack: Stack, size: int = 4 * POOL_SIZE) -> list[Sent]:
    """`size` sends at once, half through each process: wider than the pools, so every pooled connection is used."""
    crowd = stack.crowd

    def one(n: int) -> Sent:
        return send(stack, stack.servers[n % 2], crowd[n % len(crowd)], f"burst {n}", str(uuid.uuid4()))

    with ThreadPoolExecutor(size) as pool:
        return list(pool.map(one, range(size)))


def failures(sends: list[Sent]) -> list[str]:
    return [f"{sent.server.name}: {sent.answer.status} {sent.answer.body}" for sent in sends if not sent.acknowledged]


def test_after_a_postgresql_restart_no_request_fails_on_a_dead_connection(stack: Stack):
    # Both pools full of connections to the server that is about to go.
    assert not failures(burst(stack))
    stack.postgres.pg_ctl("-w", "-t", "30", "-m", "fast", "restart")

    after = burst(stack)
    assert not failures(after), f"{len(failures(after))} sends failed after the restart: {failures(after)[:5]}"
    check_stored_exactly_once(stack, after)


def test_while_postgresql_is_down_sends_are_refused_clearly_and_the_same_processes_recover(stack: Stack):
    with Traffic(stack, stack.servers) as traffic:
        traffic.wait_until(lambda sends: sum(s.acknowledged for s in sends) >= 20, 15, "20 sends acknowledged")

        stack.postgres.stop_server("fast")
        stopped = time.monotonic()
        traffic.wait_until(
            lambda sends: sum(not s.acknowledged for s in sends if s.started >= stopped) >= 6,
            # A send in flight at the stop may wait out the pool's timeout before it fails, and
            # the worker's next one (the first to count) its own: two timeouts, and some slack.
            2 * POOL_TIMEOUT_SECONDS + 10,
            "sends refused while PostgreSQL was down",
        )
        stack.postgres.start_server()
        back = time.monotonic()

        # Each process acknowledges sends again within seconds, without being restarted.
        for server in stack.servers:
            traffic.wait_until(
                lambda sends, server=server: any(s.acknowledged and s.server is server for s in traffic.since(back)),
                RECOVERY_SECONDS,
                f"FlowChat {server.name} acknowledging sends again",
            )
    sends = traffic.sends
    refused = [sent for sent in sends if not sent.acknowledged]
    print(f"{len(sends)} sends, {len(refused)} refused while PostgreSQL was down")

    problems = [
        f"{sent.server.name}: {sent.answer.refusal_problem or sent.answer.status}"
        for sent in refused
        if sent.answer.status != 503 or sent.answer.refusal_problem
    ]
    assert not problems, f"{len(problems)} of {len(refused)} refused sends were not a clear 503: {problems[:10]}"
    check_stored_exactly_once(stack, sends)

    # A refused send may have been stored: sent again with its client_id, each is there once.
    retry_unacknowledged(stack, stack.a, sends)
    stored = stack.postgres.stored([sent.client_id for sent in sends])
    assert all(stored.get(sent.client_id) == 1 for sent in sends), "a retried send is not stored exactly once"
    check_live_delivery(stack)
