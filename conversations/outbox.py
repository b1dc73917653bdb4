"""Events on their way to the channel layer: one ordered, bounded queue per server process.

conversations.broadcast renders an event where the change was committed (a request's thread)
and hands it here; the server's event loop publishes it, so the request answers without
waiting for Redis. The queue keeps commit order, and when it is full the thread that hands
it an event waits for room (backpressure, never a silent drop). Outside a server (tests,
management commands) there is no loop to hand it to, and the event is published at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger(__name__)

# Far more than a burst needs: at a few thousand publishes a second it drains in seconds.
MAX_WAITING = 10_000
# A thread waits at most this long for room before it says so in the log; the event still goes.
PATIENCE_SECONDS = 30


# Events a request's actions hand in wait here until its answer has gone (AfterTheAnswer).
held: ContextVar[list[tuple[str, dict[str, Any]]] | None] = ContextVar("held_events", default=None)


class Outbox:
    def __init__(self, size: int = MAX_WAITING) -> None:
        self.size = size
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]]] | None = None
        self.task: asyncio.Task | None = None
        self.thread: int | None = None

    def start(self) -> None:
        """Publish from the running loop from now on (flowchat.asgi calls this on every connection)."""
        loop = asyncio.get_running_loop()
        if self.loop is loop and self.task is not None and not self.task.done():
            return
        self.loop = loop
        self.thread = threading.get_ident()
        self.queue = asyncio.Queue(self.size)
        self.task = loop.create_task(self.run(self.queue))

    def put(self, group: str, event: dict[str, Any]) -> None:
        """Publish `event` to `group` after everything handed in before it (in a request, after its answer)."""
        waiting = held.get()
        if waiting is not None:
            waiting.append((group, event))
            return
        self._hand_in(group, event)

    def release(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        for group, event in events:
            self._hand_in(group, event)

    def _hand_in(self, group: str, event: dict[str, Any]) -> None:
        loop, queue = self.loop, self.queue
        if loop is None or queue is None or loop.is_closed() or not loop.is_running():
            async_to_sync(publish)(group, event)
        elif threading.get_ident() == self.thread:
            # On the loop itself it cannot wait for room without stalling the loop; the puts
            # wait in line in the order they were made.
            loop.create_task(queue.put((group, event)))
        else:
            handed = asyncio.run_coroutine_threadsafe(queue.put((group, event)), loop)
            try:
                handed.result(PATIENCE_SECONDS)
            except TimeoutError:
                logger.error("The outbox has been full for %s s; events wait in line", PATIENCE_SECONDS)

    async def run(self, queue: asyncio.Queue[tuple[str, dict[str, Any]]]) -> None:
        while True:
            group, event = await queue.get()
            try:
                await publish(group, event)
            except Exception:
                # Redis is down or refused it: the tabs catch up over HTTP when their sockets reconnect.
                logger.exception("Could not publish %s to %s", event.get("event", event["type"]), group)
            finally:
                queue.task_done()

    async def drain(self) -> None:
        """Wait until everything handed in so far is published (tests, shutdown)."""
        if self.queue is not None:
            await self.queue.join()


async def publish(group: str, event: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(group, event)


outbox = Outbox()


class AfterTheAnswer:
    """Middleware: what a request's actions publish leaves once its answer has been sent.

    On one core, the fan-out of a message to a large chat would otherwise run before the
    sender's own response gets its turn, and the send would take as long as the fan-out.
    Django closes every response after sending it (the ASGI handler, and WSGI servers); the
    events go then, in the order they were committed.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        events: list[tuple[str, dict[str, Any]]] = []
        token = held.set(events)
        try:
            response = self.get_response(request)
        finally:
            held.reset(token)
        if events:
            close = response.close

            def close_then_publish() -> None:
                try:
                    close()
                finally:
                    outbox.release(events)

            response.close = close_then_publish
        return response
