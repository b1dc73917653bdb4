"""What one person and one socket may take from a server process: sockets, and frames.

Both are kept in memory, with no database work: a socket is counted in the process that
holds it (MAX_SOCKETS_PER_PERSON is per process, so behind N processes a person may hold up
to N times as many), and a socket's frames are counted by the socket itself.
"""

from __future__ import annotations

import time
from collections import Counter

from django.conf import settings


class SocketCount:
    """The open sockets of each person in this process."""

    def __init__(self) -> None:
        self.open: Counter[int] = Counter()

    def admit(self, person: int) -> bool:
        """Count one more socket of `person`, unless they already hold MAX_SOCKETS_PER_PERSON here."""
        if self.open[person] >= settings.MAX_SOCKETS_PER_PERSON:
            return False
        self.open[person] += 1
        return True

    def release(self, person: int) -> None:
        self.open[person] -= 1
        if self.open[person] <= 0:
            del self.open[person]


sockets = SocketCount()
clock = time.monotonic


class FrameBudget:
    """A token bucket: SOCKET_FRAME_BURST frames at once, refilled at SOCKET_FRAMES_PER_SECOND."""

    def __init__(self) -> None:
        self.burst = float(settings.SOCKET_FRAME_BURST)
        self.rate = float(settings.SOCKET_FRAMES_PER_SECOND)
        self.tokens = self.burst
        self.at = clock()

    def spend(self) -> bool:
        """Take one frame from the budget; False once it is spent."""
        now = clock()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
