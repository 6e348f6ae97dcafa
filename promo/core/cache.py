"""The Redis cache, with a breaker: a Redis that failed is not asked again for a few seconds.

Everything promo keeps in Redis besides the broker — the API's request budget, the sign-in
lockout counters, the cockpit's and the league tables' snapshots — already works without it
(each caller catches the cache's errors and falls back, issue #18). What a *hung* Redis still
cost was time: every operation waited for its socket timeout (CACHES' ``socket_timeout``), so
each API request paid half a second and a sign-in several of them.

:class:`GuardedRedisCache` is Django's ``RedisCache`` with one rule added: when an operation
fails because Redis is unreachable (a ``RedisError`` or an ``OSError``, never a ``ValueError``
such as ``incr`` on a missing key), this process stops asking Redis for
``PROMO_CACHE_RETRY_SECONDS``; until then every operation raises :class:`CacheUnavailable`
at once — a ``redis.exceptions.ConnectionError``, which the callers already handle. The first
operation after the pause asks Redis again: one request per process and pause pays the
timeout, not every request. The state is per process (gunicorn's threads share it).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

log = logging.getLogger("promo.operations")


class CacheUnavailable(RedisConnectionError):
    """Redis failed moments ago; this process is not asking it again yet."""


class _Breaker:
    """When this process may next ask Redis (``time.monotonic()``); 0 while it answers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.open_until = 0.0

    def check(self) -> None:
        """Raise while paused. When a pause ends, one caller asks Redis again (the probe) and
        the others keep failing fast until it has answered."""
        if not self.open_until:
            return
        with self._lock:
            now = time.monotonic()
            if now < self.open_until:
                raise CacheUnavailable("Redis failed moments ago; not asked again yet")
            self.open_until = now + _pause()

    def trip(self, exc: BaseException) -> None:
        pause = _pause()
        with self._lock:
            first = not self.open_until
            self.open_until = time.monotonic() + pause
        if first:
            log.error("cache unreachable, not asked again for %.0f s: %s", pause, exc)

    def close(self) -> None:
        if self.open_until:
            with self._lock:
                self.open_until = 0.0
            log.warning("cache reachable again")


def _pause() -> float:
    return float(getattr(settings, "PROMO_CACHE_RETRY_SECONDS", 5))


# One breaker per Redis server list (a test's cache on a closed port has its own), shared by
# the threads of a process; Django builds a cache object per thread.
_breakers: dict[tuple[str, ...], _Breaker] = {}
_breakers_lock = threading.Lock()


def breaker_for(servers: list[str]) -> _Breaker:
    key = tuple(servers)
    with _breakers_lock:
        return _breakers.setdefault(key, _Breaker())


# The client operations Django's RedisCache calls; each goes through the breaker.
_OPERATIONS = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
)


def _guarded(operation: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(operation)
    def call(self: GuardedRedisCacheClient, *args: Any, **kwargs: Any) -> Any:
        breaker = self.breaker
        breaker.check()
        try:
            result = operation(self, *args, **kwargs)
        except CacheUnavailable:
            raise
        except (RedisError, OSError) as exc:
            breaker.trip(exc)
            raise
        breaker.close()
        return result

    return call


class GuardedRedisCacheClient(RedisCacheClient):
    """Django's Redis client with every operation behind its servers' breaker."""

    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self.breaker = breaker_for(servers)


for _name in _OPERATIONS:
    setattr(GuardedRedisCacheClient, _name, _guarded(getattr(RedisCacheClient, _name)))


class GuardedRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` behind a breaker (module docstring)."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = GuardedRedisCacheClient

    def keys_matching(self, pattern: str, *, limit: int = 500) -> list[str]:
        """The keys matching the glob ``pattern`` (keys as callers name them, without the
        prefix and version), at most ``limit``: for the page that lists what the cache holds
        (the security administrator's sign-in lockouts). SCAN, so Redis is never blocked."""
        wrapper: GuardedRedisCacheClient = self._cache  # type: ignore[attr-defined]
        client = wrapper.get_client(write=False)
        wrapper.breaker.check()
        head = self.make_key("")
        found: list[str] = []
        try:
            for key in client.scan_iter(match=self.make_key(pattern), count=200):
                text = key.decode() if isinstance(key, bytes) else str(key)
                found.append(text[len(head) :])
                if len(found) >= limit:
                    break
        except (RedisError, OSError) as exc:
            wrapper.breaker.trip(exc)
            raise
        return found
