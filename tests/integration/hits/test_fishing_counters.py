"""The fishing detector's counters: one round trip, the same totals however they are kept."""

from __future__ import annotations

from broker.container import Container
from broker.ratelimit import RateLimiter


def observe_twice(container: Container) -> list[tuple[list[int], list[int]]]:
    counters = [("fish:test:a", 1, 600), ("fish:test:b", 0, 3600), ("fish:test:c", 2, 3600)]
    return [
        container.limiter.observe(counters, [("fish:test:set", "one", 3600)]),
        container.limiter.observe(
            counters, [("fish:test:set", "two", 3600), ("fish:test:other", "one", 3600)]
        ),
    ]


def test_counters_and_sets_add_up(clean: Container) -> None:
    first, second = observe_twice(clean)
    assert first == ([1, 0, 2], [1])
    assert second == ([2, 0, 4], [2, 1])


def test_the_script_and_the_plain_commands_agree(clean: Container) -> None:
    """Where Redis refuses scripts the limiter sends the commands: same totals."""
    if clean.redis is None:
        return  # process memory only: no script and no commands (the test above covers it)
    scripted = observe_twice(clean)
    clean.redis.flushdb()
    counters = [("b:a", 1, 600), ("b:b", 0, 3600), ("b:c", 2, 3600)]
    plain = [
        RateLimiter._observe_commands(clean.redis, counters, [("b:set", "one", 3600)]),
        RateLimiter._observe_commands(
            clean.redis, counters, [("b:set", "two", 3600), ("b:other", "one", 3600)]
        ),
    ]
    assert [(p[:3], p[3:]) for p in plain] == scripted
    assert 0 < clean.redis.ttl("b:a") <= 601
