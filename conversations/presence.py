"""Who is online: the open sockets of this server process, written to the database in batches.

A person is online while any of their sockets is open (in any process). Each process keeps
its sockets here and writes what changed — sockets opened, sockets closed, and every
PRESENCE_HEARTBEAT_SECONDS a renewal of all of them — in one transaction for however many
sockets changed (conversations.actions.sockets_changed), so a wave of reconnecting tabs
costs a few writes, not one each. A socket that opens and closes between two writes leaves
no trace. The sockets of a process that died are not renewed and expire after
PRESENCE_TTL_SECONDS; any process's next heartbeat then says their people went offline.
"""

from __future__ import annotations

import asyncio
import logging
import time

from channels.db import database_sync_to_async
from django.conf import settings

from . import actions

logger = logging.getLogger(__name__)

# Changes that come within this long of each other are written together.
GATHER_SECONDS = 0.02


class Presence:
    def __init__(self) -> None:
        self.sockets: dict[str, int] = {}  # channel name -> person, every open socket of this process
        self.opened: dict[str, int] = {}  # not yet written
        self.hidden: set[str] = set()  # of those, the ones that open not shown (a script's: no page)
        self.closed: dict[str, int] = {}  # written as open, closed since
        self.written: asyncio.Future | None = None  # done when the next write is
        self.writing: asyncio.Future | None = None  # done when the write under way is
        self.wake: asyncio.Event | None = None
        self.task: asyncio.Task | None = None
        self.renewed_at = 0.0

    def _running(self) -> None:
        loop = asyncio.get_running_loop()
        if self.task is not None and self.task.get_loop() is not loop:
            # A new event loop (a test's): what the old one knew is gone with it.
            self.sockets, self.opened, self.closed, self.task = {}, {}, {}, None
            self.hidden = set()
        if self.task is None or self.task.done():
            self.wake = asyncio.Event()
            self.written = loop.create_future()
            self.renewed_at = time.monotonic()
            self.task = loop.create_task(self.run())

    async def open(self, channel_name: str, user_id: int, *, visible: bool = True) -> None:
        """A socket opened; returns once it is written, with everything else that opened meanwhile.

        `visible`: whether it counts as someone looking (Connection.visible), until it says otherwise.
        """
        self._running()
        self.sockets[channel_name] = user_id
        self.opened[channel_name] = user_id
        if not visible:
            self.hidden.add(channel_name)
        written = self.written
        self.wake.set()
        await asyncio.shield(written)

    def close(self, channel_name: str) -> None:
        user_id = self.sockets.pop(channel_name, None)
        self.hidden.discard(channel_name)
        if user_id is None:
            return
        if self.opened.pop(channel_name, None) is None:
            self.closed[channel_name] = user_id
        if self.wake is not None:
            self.wake.set()

    async def run(self) -> None:
        # Until a write leaves nothing to renew or write: a socket that came and went before the
        # first write still has its opener waiting for one.
        while True:
            renew_in = self.renewed_at + settings.PRESENCE_HEARTBEAT_SECONDS - time.monotonic()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=max(renew_in, 0))
                await asyncio.sleep(GATHER_SECONDS)
            except TimeoutError:
                pass
            self.wake.clear()
            await self.write(renew=time.monotonic() >= self.renewed_at + settings.PRESENCE_HEARTBEAT_SECONDS)
            if not (self.sockets or self.closed or self.opened):
                break
        self.task = None

    async def write(self, *, renew: bool) -> None:
        opened, closed, written, hidden = self.opened, self.closed, self.written, self.hidden
        self.opened, self.closed, self.writing, self.hidden = {}, {}, written, set()
        self.written = asyncio.get_running_loop().create_future()
        alive = list(self.sockets) if renew else None
        try:
            await database_sync_to_async(actions.sockets_changed)(opened, closed, alive, hidden=hidden & set(opened))
        except Exception:
            # The database is away: try again with the next change or heartbeat.
            logger.exception("Could not write who is online; trying again")
            self.opened.update((name, user) for name, user in opened.items() if name in self.sockets)
            self.hidden |= hidden & set(self.opened)
            self.closed.update(closed)
            await asyncio.sleep(1)
            self.wake.set()
        else:
            if renew:
                self.renewed_at = time.monotonic()
        finally:
            self.writing = None
            written.set_result(None)

    async def settled(self) -> None:
        """Wait until every change so far is written (a test's check, a server's shutdown)."""
        while True:
            if self.writing is not None:
                await asyncio.shield(self.writing)
            elif self.opened or self.closed:
                await asyncio.shield(self.written)
            else:
                return


presence = Presence()
