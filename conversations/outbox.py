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
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger(__name__)

# Far more than a burst needs: at a few thousand publishes a second it drains in seconds.
MAX_WAITING = 10_000
# A thread waits at most this long for room before it says so in the log; the event still goes.
PATIENCE_SECONDS = 30


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
        """Publish `event` to `group` after everything handed in before it."""
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
