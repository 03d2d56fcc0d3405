"""Rate limits per user and per organisation: Redis when configured, else per process.

When Redis is unreachable the limits fall back to per-process counters, so queries keep
working; the limit then holds per broker process instead of across them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import redis

from broker.errors import RateLimited

logger = logging.getLogger("broker.ratelimit")


class RateLimiter:
    """Fixed-window counters keyed by a name and the current window."""

    def __init__(self, client: redis.Redis | None, *, now: Callable[[], float] = time.time) -> None:
        self._client = client
        self._now = now
        self._local: dict[str, int] = {}
        self._sets: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, *, limit: int, window_seconds: int, amount: int = 1) -> int:
        """Count ``amount`` events; raise ``RateLimited`` when the window exceeds ``limit``."""
        count = self._count(self._bucket(key, window_seconds), window_seconds, amount=amount)
        if count > limit:
            raise RateLimited(
                "Too many requests; slow down and try again shortly.", retry_after=window_seconds
            )
        return count

    def reset(self) -> None:
        """Forget process-local counters (Redis keys expire on their own)."""
        with self._lock:
            self._local.clear()
            self._sets.clear()

    def count(self, key: str, *, window_seconds: int) -> int:
        """Count one event in the current window and return the window's total."""
        return self._count(self._bucket(key, window_seconds), window_seconds)

    def peek(self, key: str, *, window_seconds: int) -> int:
        """The current window's total without counting."""
        bucket = self._bucket(key, window_seconds)
        if self._client is not None:
            try:
                return int(self._client.get(bucket) or 0)
            except redis.RedisError:
                pass
        with self._lock:
            return self._local.get(bucket, 0)

    def count_distinct(self, key: str, *, member: str, window_seconds: int) -> int:
        """Add ``member`` to the window's set and return how many distinct members it has."""
        bucket = self._bucket(key, window_seconds)
        if self._client is not None:
            try:
                pipe = self._client.pipeline()
                pipe.sadd(bucket, member)
                pipe.scard(bucket)
                pipe.expire(bucket, window_seconds + 1)
                return int(pipe.execute()[1])
            except redis.RedisError:
                logger.warning("redis unavailable for counters, using process memory")
        with self._lock:
            members = self._sets.setdefault(bucket, set())
            members.add(member)
            return len(members)

    def observe(
        self,
        counters: list[tuple[str, int, int]],
        sets: list[tuple[str, str, int]],
    ) -> tuple[list[int], list[int]]:
        """Add to several counters ``(key, amount, window)`` and sets ``(key, member, window)``
        in one round trip; return the counters' totals and the sets' sizes."""
        counter_buckets = [(self._bucket(k, w), a, w) for k, a, w in counters]
        set_buckets = [(self._bucket(k, w), m, w) for k, m, w in sets]
        if self._client is not None:
            try:
                pipe = self._client.pipeline(transaction=False)
                for bucket, amount, window in counter_buckets:
                    pipe.incrby(bucket, amount)
                    pipe.expire(bucket, window + 1)
                for bucket, member, window in set_buckets:
                    pipe.sadd(bucket, member)
                    pipe.scard(bucket)
                    pipe.expire(bucket, window + 1)
                results = pipe.execute()
                totals = [int(results[2 * i]) for i in range(len(counter_buckets))]
                base = 2 * len(counter_buckets)
                sizes = [int(results[base + 3 * i + 1]) for i in range(len(set_buckets))]
                return totals, sizes
            except redis.RedisError:
                logger.warning("redis unavailable for counters, using process memory")
        with self._lock:
            totals = []
            for bucket, amount, _ in counter_buckets:
                self._local[bucket] = self._local.get(bucket, 0) + amount
                totals.append(self._local[bucket])
            sizes = []
            for bucket, member, _ in set_buckets:
                members = self._sets.setdefault(bucket, set())
                members.add(member)
                sizes.append(len(members))
            return totals, sizes

    def _bucket(self, key: str, window_seconds: int) -> str:
        return f"dv-broker:rl:{key}:{int(self._now() // window_seconds)}"

    def _count(self, bucket: str, ttl: int, *, amount: int = 1) -> int:
        if self._client is not None:
            try:
                pipe = self._client.pipeline()
                pipe.incrby(bucket, amount)
                pipe.expire(bucket, ttl + 1)
                return int(pipe.execute()[0])
            except redis.RedisError:
                logger.warning("redis unavailable for rate limits, using process counters")
        with self._lock:
            if len(self._local) > 50_000 or len(self._sets) > 50_000:
                self._local.clear()
                self._sets.clear()
            self._local[bucket] = self._local.get(bucket, 0) + amount
            return self._local[bucket]
