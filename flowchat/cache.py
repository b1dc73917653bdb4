"""The cache the rate limits count in: Redis, and a per-process count while Redis is down.

Every rate limit (the wrong-password counts in accounts/login_throttle.py, django_ratelimit in
flowchat/api.py, allauth's ACCOUNT_RATE_LIMITS, the send rate in conversations/limits.py) keeps
its counters in the default cache. With plain RedisCache a Redis outage makes each of those
calls raise, so nobody could log in or sign up. Here a call that cannot reach Redis is answered
by a process-local LocMemCache instead: the limits keep counting (per process, so a little
looser), a warning says so, and after RETRY_SECONDS the next call tries Redis again. Nothing
else is kept in this cache (sessions are in the database).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any

import redis
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

REDIS_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
# While Redis is down, calls go straight to the local cache for this long before one tries
# Redis again: a dead Redis then costs one timeout per process every few seconds, not per call.
RETRY_SECONDS = 5.0
# An outage that comes and goes is not one warning per flap.
WARN_EVERY_SECONDS = 60.0
FALLBACK_MAX_ENTRIES = 100_000


class _Outage:
    """Whether this process last found Redis down (shared by every thread's cache object)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.retry_at = 0.0
        self.down = False
        self.warned_at = -math.inf

    def ongoing(self) -> bool:
        return self.down and time.monotonic() < self.retry_at

    def began(self, location: str, exc: Exception) -> None:
        now = time.monotonic()
        with self.lock:
            self.down = True
            self.retry_at = now + RETRY_SECONDS
            warn = now - self.warned_at >= WARN_EVERY_SECONDS
            if warn:
                self.warned_at = now
        if warn:
            logger.warning(
                "Redis at %s does not answer (%s): rate limits count in this process alone until it does.",
                location,
                exc,
            )

    def ended(self, location: str) -> None:
        with self.lock:
            was_down, self.down = self.down, False
        if was_down:
            logger.info("Redis at %s answers again: rate limits count there again.", location)


_outages: dict[str, _Outage] = {}
_outages_lock = threading.Lock()


def _outage_of(location: str) -> _Outage:
    with _outages_lock:
        return _outages.setdefault(location, _Outage())


def _with_fallback(name: str):
    def method(self: RedisWithFallback, *args: Any, **kwargs: Any) -> Any:
        return self._either(lambda cache: getattr(cache, name)(*args, **kwargs))

    method.__name__ = name
    return method


class RedisWithFallback(RedisCache):
    """RedisCache that answers from a process-local cache while Redis cannot be reached.

    Set OPTIONS socket_connect_timeout and socket_timeout (flowchat/settings.py does), so that
    a Redis that hangs rather than refuses costs a fraction of a second, not a stuck request.
    """

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._location = server if isinstance(server, str) else ",".join(server)
        self._outage = _outage_of(self._location)
        # The same name in every thread: they share the counters, as they share Redis.
        local = {key: params[key] for key in ("TIMEOUT", "KEY_PREFIX", "VERSION", "KEY_FUNCTION") if key in params}
        # Room for every person's counters through an outage (LocMemCache culls past 300 by default).
        local["OPTIONS"] = {"MAX_ENTRIES": FALLBACK_MAX_ENTRIES}
        self.fallback = LocMemCache(f"flowchat-redis-fallback:{self._location}", local)

    def _either(self, call):
        if not self._outage.ongoing():
            try:
                result = call(super())
            except REDIS_DOWN as exc:
                self._outage.began(self._location, exc)
            else:
                if self._outage.down:
                    self._outage.ended(self._location)
                return result
        return call(self.fallback)

    add = _with_fallback("add")
    get = _with_fallback("get")
    set = _with_fallback("set")
    touch = _with_fallback("touch")
    delete = _with_fallback("delete")
    get_many = _with_fallback("get_many")
    has_key = _with_fallback("has_key")
    incr = _with_fallback("incr")
    set_many = _with_fallback("set_many")
    delete_many = _with_fallback("delete_many")
    clear = _with_fallback("clear")

    def take_token(self, key: str, *, burst: int, interval: float, now: float) -> float:
        return self._either(
            lambda cache: (
                _redis_take_token(self, key, burst, interval, now)
                if cache is not self.fallback
                else _local_take_token(cache, key, burst, interval, now)
            )
        )

    def token_wait(self, key: str, *, burst: int, interval: float, now: float) -> float:
        return self._either(
            lambda cache: (
                _wait(_redis_tat(self, key), burst, interval, now)
                if cache is not self.fallback
                else _wait(cache.get(key), burst, interval, now)
            )
        )


# Token buckets -------------------------------------------------------------------------------

# GCRA, the token bucket kept as one number: the time at which the bucket would be full again
# ("tat"). A take is allowed while tat - now stays within the burst; each take moves tat one
# interval on. One EVAL, so concurrent requests in any number of processes cannot both take
# the last token. It returns a string: Redis would truncate a Lua number to an integer.
_TAKE_SCRIPT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local tat = math.max(tonumber(redis.call('GET', KEYS[1]) or ARGV[1]), now)
local wait = tat - (burst - 1) * interval - now
if wait > 0 then
  return tostring(wait)
end
tat = tat + interval
redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil((tat - now) * 1000) + 1000)
return '0'
"""

_local_lock = threading.Lock()


def _wait(tat: float | None, burst: int, interval: float, now: float) -> float:
    return max(0.0, max(tat or now, now) - (burst - 1) * interval - now)


def _redis_tat(cache: RedisCache, key: str) -> float | None:
    # The script stores a bare number, not a pickled value, so it is read past the serializer.
    key = cache.make_and_validate_key(key)
    value = cache._cache.get_client(key).get(key)
    return float(value) if value is not None else None


def _redis_take_token(cache: RedisCache, key: str, burst: int, interval: float, now: float) -> float:
    key = cache.make_and_validate_key(key)
    client = cache._cache.get_client(key, write=True)
    return float(client.eval(_TAKE_SCRIPT, 1, key, repr(now), repr(interval), burst))


def _local_take_token(cache: BaseCache, key: str, burst: int, interval: float, now: float) -> float:
    # One lock for the whole process: the cache's get and set are not one step.
    with _local_lock:
        tat = max(cache.get(key) or now, now)
        wait = tat - (burst - 1) * interval - now
        if wait > 0:
            return wait
        tat += interval
        cache.set(key, tat, math.ceil(tat - now) + 1)
        return 0.0


def take_token(cache: BaseCache, key: str, *, burst: int, interval: float, now: float) -> float:
    """Take one token from the bucket `key` (holds `burst`, refills one per `interval` seconds).

    Returns 0 when a token was taken, else the seconds until one will be there (nothing is taken).
    Atomic across processes on RedisWithFallback; within this process on any other cache.
    """
    if isinstance(cache, RedisWithFallback):
        return cache.take_token(key, burst=burst, interval=interval, now=now)
    return _local_take_token(cache, key, burst, interval, now)


def token_wait(cache: BaseCache, key: str, *, burst: int, interval: float, now: float) -> float:
    """The seconds until the bucket `key` has a token (0 when it has one now); takes nothing."""
    if isinstance(cache, RedisWithFallback):
        return cache.token_wait(key, burst=burst, interval=interval, now=now)
    return _wait(cache.get(key), burst, interval, now)
