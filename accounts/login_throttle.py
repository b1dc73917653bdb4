"""How many wrong passwords a login takes before it must wait: one policy for the login page
(accounts.adapters) and /api/login/ (accounts.api).

Only failures count, in three token buckets (flowchat.cache.take_token, in the default cache,
so across server processes when that is Redis, and per process while Redis is down):

- per login name and address (LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS): the person who keeps
  mistyping, or a guesser at one address, waits; everybody else on that address does not.
- per login name from anywhere (LOGIN_FAILURES_PER_ACCOUNT): a guesser spread over many addresses.
- per address for every name (LOGIN_FAILURES_PER_ADDRESS): one address trying many accounts.
  Much higher, since a whole office, school or mobile carrier may share one address.

Each bucket fills again over LOGIN_FAILURE_WINDOW_MINUTES, one attempt at a time. While any of a
login's buckets is empty, that login is refused before its password is checked (so the answer
says nothing about the password), with how long to wait. A login that succeeds forgets its
own failures at its address; the other counts stay, so that logging in to one's own account
between guesses at others resets nothing that holds the guesser back.
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from django.utils.translation import ngettext

from flowchat.addresses import client_address
from flowchat.cache import take_token, token_wait

# The throttle's clock (tests move it instead of waiting).
clock = time.time


class TooManyFailures(Exception):
    """Refused without checking the password; `retry_after` whole seconds until a try counts again."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.retry_after / 60))

    def __str__(self) -> str:
        return ngettext(
            "Too many failed login attempts. Try again in %(minutes)d minute.",
            "Too many failed login attempts. Try again in %(minutes)d minutes.",
            self.minutes,
        ) % {"minutes": self.minutes}


def _digest(value: str) -> str:
    # Cache keys of a fixed length and alphabet, whatever a login name or header holds.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _buckets(request: HttpRequest, login: str) -> list[tuple[str, int]]:
    """The (cache key, size) of each bucket this attempt counts in; a size of 0 is no limit."""
    name, address = _digest(login.strip().lower()), _digest(client_address(request))
    return [
        (f"login-failures:pair:{name}:{address}", settings.LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS),
        (f"login-failures:account:{name}", settings.LOGIN_FAILURES_PER_ACCOUNT),
        (f"login-failures:address:{address}", settings.LOGIN_FAILURES_PER_ADDRESS),
    ]


def _interval(size: int) -> float:
    return settings.LOGIN_FAILURE_WINDOW_MINUTES * 60 / size


def check(request: HttpRequest, login: str) -> None:
    """Raise TooManyFailures when `login` from this address must wait before its password is checked."""
    # The cache itself, not django.core.cache.cache (a proxy, which token_wait could not tell for Redis).
    cache, now = caches["default"], clock()
    wait = max(
        (
            token_wait(cache, key, burst=size, interval=_interval(size), now=now)
            for key, size in _buckets(request, login)
            if size > 0
        ),
        default=0.0,
    )
    if wait > 0:
        raise TooManyFailures(max(1, math.ceil(wait)))


def failed(request: HttpRequest, login: str) -> None:
    """Count one wrong password for `login` from this address."""
    cache, now = caches["default"], clock()
    for key, size in _buckets(request, login):
        if size > 0:
            take_token(cache, key, burst=size, interval=_interval(size), now=now)


def succeeded(request: HttpRequest, login: str) -> None:
    """Forget the failures of `login` at this address: the person got it right in the end."""
    pair_key = _buckets(request, login)[0][0]
    caches["default"].delete(pair_key)
