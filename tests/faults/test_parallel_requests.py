"""300 requests at once: the PostgreSQL connections stay bounded by the pools and the servers keep answering.

Persistent connections under an ASGI server once left one process holding every connection
PostgreSQL had, and every request answered 500 for minutes (issue 8, item 1). Each process
now borrows from a pool of DATABASE_POOL_SIZE connections: two processes hold at most twice that.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import POOL_SIZE, Answer, Sent, Stack, call, check_stored_exactly_once, send

pytestmark = pytest.mark.faults

REQUESTS = 300
# This test's own connection is not counted; the margin is for a backend that has been
# closed by its pool but not yet reaped by PostgreSQL.
MARGIN = 2


class BackendWatch:
    """The most client connections PostgreSQL had while it was watched (polled every 10 ms)."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.most = 0
        self.readings = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        # One connection throughout: a new one per reading would leave closing backends behind.
        with self.stack.postgres.connect("postgres") as connection:
            while not self.stopping.is_set():
                self.most = max(self.most, self.stack.postgres.backends(connection))
                self.readings += 1
                self.stopping.wait(0.01)

    def __enter__(self) -> BackendWatch:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)


def test_300_parallel_requests_leave_the_connections_bounded_and_the_servers_answering(stack: Stack):
    people = stack.crowd
    start = threading.Barrier(REQUESTS, timeout=30)

    def request(n: int) -> tuple[str, Sent | Answer]:
        server = stack.servers[n % 2]
        person = people[n % len(people)]
        start.wait()
        if n % 2 == 0:
            return "send", send(stack, server, person, f"parallel {n}", str(uuid.uuid4()))
        return "list", call(server, "GET", "/api/chats/", person.token)

    with BackendWatch(stack) as watch, ThreadPoolExecutor(REQUESTS) as pool:
        began = time.monotonic()
        results = list(pool.map(request, range(REQUESTS)))
        took = time.monotonic() - began
    sends = [result for kind, result in results if kind == "send"]
    lists = [result for kind, result in results if kind == "list"]
    slowest = max(answer.seconds for answer in [sent.answer for sent in sends] + lists)
    print(
        f"{REQUESTS} parallel requests in {took:.1f} s (slowest {slowest:.1f} s);"
        f" at most {watch.most} PostgreSQL connections"
    )
    # Each is answered: what it asked for, or a clear refusal (a rate limit), never a 500 or a hang.
    problems = [
        f"send: {sent.answer.refusal_problem}"
        for sent in sends
        if sent.answer.status != 201 and sent.answer.refusal_problem
    ] + [f"chat list: {answer.refusal_problem}" for answer in lists if answer.status != 200 and answer.refusal_problem]
    assert not problems, f"{len(problems)} of {REQUESTS} requests were not answered properly: {problems[:10]}"
    assert any(sent.answer.status == 201 for sent in sends)
    check_stored_exactly_once(stack, sends)

    assert watch.readings > 1
    assert watch.most <= 2 * POOL_SIZE + MARGIN, f"{watch.most} PostgreSQL connections for two pools of {POOL_SIZE}"

    # And straight after, both answer at once, as usual.
    alice = stack.people["alice"]
    for server in stack.servers:
        answer = call(server, "GET", "/api/chats/", alice.token, timeout=5)
        assert answer.status == 200, answer
    assert stack.postgres.backends() <= 2 * POOL_SIZE
