"""Replay protection for token ids: each ``jti`` is accepted once until it expires."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Protocol

import redis
import redis.asyncio as redis_asyncio

from broker.clock import Clock
from broker.errors import ServiceUnavailable

logger = logging.getLogger("broker.auth")


class ReplayGuard(Protocol):
    """Remembers used token ids until they expire."""

    def first_use(self, key: str, *, expires_at: datetime, strict: bool = False) -> bool:
        """Record ``key``; False when it was seen before."""
        ...


class InProcessReplayGuard:
    """Per-process memory of used ids; the embedded default and Redis fallback."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._seen: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def first_use(self, key: str, *, expires_at: datetime, strict: bool = False) -> bool:
        """Record ``key``; False when it was seen before and has not expired."""
        now = self._clock.now()
        with self._lock:
            if len(self._seen) > 100_000:
                self._seen = {k: exp for k, exp in self._seen.items() if exp > now}
            previous = self._seen.get(key)
            if previous is not None and previous > now:
                return False
            self._seen[key] = expires_at
            return True


class RedisReplayGuard:
    """Shared memory of used ids across broker processes.

    When Redis is unreachable ordinary requests fall back to per-process memory, so the
    chain keeps working; ``strict`` checks (serious-danger overrides) fail closed instead.
    """

    def __init__(
        self, client: redis.Redis, clock: Clock, *, prefix: str = "dv-broker:jti:"
    ) -> None:
        self._client = client
        self._clock = clock
        self._prefix = prefix
        self._fallback = InProcessReplayGuard(clock)

    @property
    def prefix(self) -> str:
        """What every key in Redis starts with."""
        return self._prefix

    @property
    def fallback(self) -> InProcessReplayGuard:
        """The process memory used while Redis is unreachable."""
        return self._fallback

    def ttl(self, expires_at: datetime) -> int:
        """Seconds to remember a token id: until its token expires, and a second."""
        return max(1, int((expires_at - self._clock.now()).total_seconds()) + 1)

    def first_use(self, key: str, *, expires_at: datetime, strict: bool = False) -> bool:
        """Record ``key`` in Redis with its expiry; False when it was seen before."""
        try:
            stored = self._client.set(self._prefix + key, b"1", nx=True, ex=self.ttl(expires_at))
        except redis.RedisError as exc:
            if strict:
                raise ServiceUnavailable(
                    "Replay protection is unavailable; retry shortly."
                ) from exc
            logger.warning("redis unavailable for replay protection, using process memory")
            return self._fallback.first_use(key, expires_at=expires_at)
        return bool(stored)


class AsyncReplayGuard(Protocol):
    """``ReplayGuard`` for the event loop: remembers a token id without blocking it."""

    async def first_use(self, key: str, *, expires_at: datetime) -> bool:
        """Record ``key``; False when it was seen before."""
        ...


class InLoopReplayGuard:
    """The embedded default's process memory, used from the event loop (it does no I/O)."""

    def __init__(self, guard: InProcessReplayGuard) -> None:
        self._guard = guard

    async def first_use(self, key: str, *, expires_at: datetime) -> bool:
        """Record ``key`` in process memory; False when it was seen before."""
        return self._guard.first_use(key, expires_at=expires_at)


class AsyncRedisReplayGuard:
    """``RedisReplayGuard`` over an asyncio client: the same keys, the same fallback memory.

    Ordinary bearer tokens are checked here, in the event loop, before any worker thread is
    taken; a Redis outage falls back to the synchronous guard's process memory, so a token
    id seen on either path is refused on both.
    """

    def __init__(self, client: redis_asyncio.Redis, sync_guard: RedisReplayGuard) -> None:
        self._client = client
        self._sync = sync_guard

    async def first_use(self, key: str, *, expires_at: datetime) -> bool:
        """Record ``key`` in Redis with its expiry; False when it was seen before."""
        try:
            stored = await self._client.set(
                self._sync.prefix + key, b"1", nx=True, ex=self._sync.ttl(expires_at)
            )
        except redis.RedisError:
            logger.warning("redis unavailable for replay protection, using process memory")
            return self._sync.fallback.first_use(key, expires_at=expires_at)
        return bool(stored)

    async def aclose(self) -> None:
        """Close the client's connections (in the loop that used them)."""
        await self._client.aclose()
