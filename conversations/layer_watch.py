"""Sockets that may have missed events are told to come back.

Redis's publish/subscribe keeps nothing for a subscriber that is away: while this process's
subscription to Redis was lost (Redis restarted, or the connection dropped), every event
published meanwhile, by any process, never reached its sockets, and nothing says so. When
channels-redis's subscriber connects again, this process's open sockets are closed with 1012
(service restart): htmx reconnects and the tab catches up over HTTP, as after a server restart;
a script reconnects with `?after=` (README, "Real time").

The hook is redis-py's connect callback on the subscriber's connection (channels-redis keeps
it as `_pubsub` of each shard of its per-loop layer); the in-memory layer loses nothing and
is not watched.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from typing import Any, Protocol

logger = logging.getLogger(__name__)


class Socket(Protocol):
    async def come_back(self) -> None: ...


class Watcher:
    """Whom to tell, and which subscriber connections are watched, in this process."""

    def __init__(self) -> None:
        self.sockets: weakref.WeakSet[Any] = weakref.WeakSet()
        self.tasks: set[asyncio.Task] = set()

    def joined(self, socket: Socket, layer: Any) -> None:
        """A socket listens on the layer now: it is told if the subscription is ever made again."""
        self.sockets.add(socket)
        loop_layer = getattr(layer, "_get_layer", None)
        if loop_layer is None:
            return
        for shard in getattr(loop_layer(), "_shards", ()):
            connection = getattr(getattr(shard, "_pubsub", None), "connection", None)
            if connection is not None and not getattr(connection, "flowchat_watched", False):
                connection.flowchat_watched = True
                # Kept as a weak method by redis-py: this object lives as long as the process.
                connection.register_connect_callback(self.reconnected)

    def left(self, socket: Socket) -> None:
        self.sockets.discard(socket)

    async def reconnected(self, _connection: Any) -> None:
        sockets = list(self.sockets)
        if not sockets:
            return
        logger.warning("The layer's subscription was made again: %d sockets are asked to reconnect", len(sockets))
        for socket in sockets:
            self.sockets.discard(socket)
            task = asyncio.ensure_future(socket.come_back())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)


watcher = Watcher()
