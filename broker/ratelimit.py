"""Rate limits per user and per organisation: Redis when configured, else per process.

When Redis is unreachable the limits fall back to per-process counters, so queries keep
working; the limit then holds per broker process instead of across them.

Several limits of one request (per user and per organisation) are checked in one Redis
round trip by a small script that does what checking them one after the other would: count
the first, stop at the first limit exceeded, and leave the later counters untouched (a user
over their own limit does not eat into the organisation's budget).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import redis

from broker.errors import RateLimited

logger = logging.getLogger("broker.ratelimit")

# KEYS: window buckets in checking order. ARGV: per key its amount, limit and expiry.
# Returns 0 when every limit holds, else the 1-based position of the first one exceeded.
_HIT_ALL = """
for i, bucket in ipairs(KEYS) do
  local base = 3 * (i - 1)
  local count = redis.call('INCRBY', bucket, ARGV[base + 1])
  redis.call('EXPIRE', bucket, ARGV[base + 3])
  if count > tonumber(ARGV[base + 2]) then
    return i
  end
end
return 0
"""


# KEYS: counter buckets, then set buckets. ARGV: the number of counters, then per counter
# its amount and expiry, per set the member and expiry. Returns the counters' totals, then
# the sets' sizes: one command and one reply instead of a pipeline of a dozen.
_OBSERVE = """
local counters = tonumber(ARGV[1])
local out = {}
for i, bucket in ipairs(KEYS) do
  local value, ttl = ARGV[2 * i], ARGV[2 * i + 1]
  if i <= counters then
    out[i] = redis.call('INCRBY', bucket, value)
  else
    redis.call('SADD', bucket, value)
    out[i] = redis.call('SCARD', bucket)
  end
  redis.call('EXPIRE', bucket, ttl)
end
return out
"""


@dataclass(frozen=True)
class Limit:
    """At most ``limit`` events per ``window_seconds`` under ``key``; this event counts
    ``amount``."""

    key: str
    limit: int
    window_seconds: int
    amount: int = 1


class RateLimiter:
    """Fixed-window counters keyed by a name and the current window."""

    def __init__(self, client: redis.Redis | None, *, now: Callable[[], float] = time.time) -> None:
        self._client = client
        self._now = now
        self._local: dict[str, int] = {}
        self._sets: dict[str, set[str]] = {}
        self._lock = threading.Lock()
        self._script = client.register_script(_HIT_ALL) if client is not None else None
        self._observe_script = client.register_script(_OBSERVE) if client is not None else None

    def hit(self, key: str, *, limit: int, window_seconds: int, amount: int = 1) -> int:
        """Count ``amount`` events; raise ``RateLimited`` when the window exceeds ``limit``."""
        count = self._count(self._bucket(key, window_seconds), window_seconds, amount=amount)
        if count > limit:
            raise RateLimited(
                "Too many requests; slow down and try again shortly.", retry_after=window_seconds
            )
        return count

    def hit_all(self, limits: Sequence[Limit]) -> None:
        """Count one event against each of ``limits`` in order, in one Redis round trip.

        Same outcome as calling ``hit`` for each in turn: the counters up to and including
        the first limit exceeded are counted, the later ones are not, and ``RateLimited``
        names that limit's window.
        """
        buckets = [self._bucket(limit.key, limit.window_seconds) for limit in limits]
        exceeded = self._first_exceeded(limits, buckets)
        if exceeded is not None:
            raise RateLimited(
                "Too many requests; slow down and try again shortly.",
                retry_after=exceeded.window_seconds,
            )

    def _first_exceeded(self, limits: Sequence[Limit], buckets: list[str]) -> Limit | None:
        one_by_one_in_redis = False
        if self._script is not None and limits:
            args: list[int] = []
            for limit in limits:
                args += [limit.amount, limit.limit, limit.window_seconds + 1]
            try:
                position = int(self._script(keys=buckets, args=args))
                return limits[position - 1] if position else None
            except redis.ResponseError:
                # Reachable but refusing scripts: count in Redis one limit at a time.
                logger.warning("redis refused the rate-limit script, counting limits one by one")
                one_by_one_in_redis = True
            except redis.RedisError:
                logger.warning("redis unavailable for rate limits, using process counters")
        for limit, bucket in zip(limits, buckets, strict=True):
            count = (
                self._count(bucket, limit.window_seconds, amount=limit.amount)
                if one_by_one_in_redis
                else self._count_local(bucket, limit.amount)
            )
            if count > limit.limit:
                return limit
        return None

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
        if self._client is not None and self._observe_script is not None:
            keys = [bucket for bucket, _, _ in counter_buckets + set_buckets]
            args: list[int | str] = [len(counter_buckets)]
            for _, amount_or_member, window in counter_buckets + set_buckets:
                args += [amount_or_member, window + 1]
            try:
                try:
                    results = [int(n) for n in self._observe_script(keys=keys, args=args)]
                except redis.ResponseError:
                    logger.warning("redis refused the counter script, sending the commands")
                    results = self._observe_commands(self._client, counter_buckets, set_buckets)
                return results[: len(counter_buckets)], results[len(counter_buckets) :]
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

    @staticmethod
    def _observe_commands(
        client: redis.Redis,
        counters: list[tuple[str, int, int]],
        sets: list[tuple[str, str, int]],
    ) -> list[int]:
        """What the counter script does, as plain commands in one pipeline."""
        pipe = client.pipeline(transaction=False)
        for bucket, amount, window in counters:
            pipe.incrby(bucket, amount)
            pipe.expire(bucket, window + 1)
        for bucket, member, window in sets:
            pipe.sadd(bucket, member)
            pipe.scard(bucket)
            pipe.expire(bucket, window + 1)
        results = pipe.execute()
        totals = [int(results[2 * i]) for i in range(len(counters))]
        base = 2 * len(counters)
        return totals + [int(results[base + 3 * i + 1]) for i in range(len(sets))]

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
        return self._count_local(bucket, amount)

    def _count_local(self, bucket: str, amount: int) -> int:
        with self._lock:
            if len(self._local) > 50_000 or len(self._sets) > 50_000:
                self._local.clear()
                self._sets.clear()
            self._local[bucket] = self._local.get(bucket, 0) + amount
            return self._local[bucket]
