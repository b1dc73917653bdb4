"""How fast a person may send messages: the one rule every way of sending goes through.

A token bucket per person (flowchat.cache.take_token), in the default cache, so it counts across
server processes when that is Redis: SEND_RATE_BURST messages at once (pasting a few lines,
a quick exchange), then SEND_RATE_PER_MINUTE, which no person typing reaches. A refused send
stores nothing and says how long to wait.
"""

from __future__ import annotations

import math
import time

from django.conf import settings
from django.core.cache import caches
from django.utils.translation import ngettext

from accounts.models import User
from flowchat.cache import take_token

# The limiter's clock (tests move it instead of waiting).
clock = time.time


class SendingTooFast(Exception):
    """Over the send rate: nothing was sent; `retry_after` whole seconds until the next one may go."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after

    def __str__(self) -> str:
        return ngettext(
            "You are sending messages too fast. Wait %(seconds)d second and send again.",
            "You are sending messages too fast. Wait %(seconds)d seconds and send again.",
            self.retry_after,
        ) % {"seconds": self.retry_after}


def count_send(author: User) -> None:
    """Count one send by `author`, or raise SendingTooFast (counting nothing) when over the rate."""
    _count(f"send-rate:{author.pk}", settings.SEND_RATE_BURST, settings.SEND_RATE_PER_MINUTE, SendingTooFast)


def _count(key: str, burst: int, per_minute: int, too_fast: type[SendingTooFast]) -> None:
    """Take a token from the bucket `key`, or raise `too_fast` (counting nothing); a rate of 0 is no limit."""
    if burst <= 0 or per_minute <= 0:
        return
    # The cache itself, not django.core.cache.cache (a proxy, which take_token could not tell for Redis).
    wait = take_token(caches["default"], key, burst=burst, interval=60 / per_minute, now=clock())
    if wait > 0:
        raise too_fast(max(1, math.ceil(wait)))


# Reactions: a burst of taps (trying a few, changing one's mind), then one a second on average.
# Settings REACTION_RATE_BURST and REACTION_RATE_PER_MINUTE, where set, take their place.
REACTION_RATE_BURST = 30
REACTION_RATE_PER_MINUTE = 60
# Distinct emoji on one message: a bar people can still read.
MAX_REACTIONS_PER_MESSAGE = 20


class ReactingTooFast(SendingTooFast):
    """Over the reaction rate: nothing changed; `retry_after` whole seconds until the next may."""

    def __str__(self) -> str:
        return ngettext(
            "You are reacting too fast. Wait %(seconds)d second and try again.",
            "You are reacting too fast. Wait %(seconds)d seconds and try again.",
            self.retry_after,
        ) % {"seconds": self.retry_after}


def count_reaction(person: User) -> None:
    """Count one reaction added or removed by `person`, or raise ReactingTooFast (counting nothing)."""
    burst = getattr(settings, "REACTION_RATE_BURST", REACTION_RATE_BURST)
    per_minute = getattr(settings, "REACTION_RATE_PER_MINUTE", REACTION_RATE_PER_MINUTE)
    _count(f"reaction-rate:{person.pk}", burst, per_minute, ReactingTooFast)
