"""Rate limits: both of a hit query's limits in one Redis round trip, same outcome as before.

``hit_all`` must behave exactly like calling ``hit`` for each limit in turn (count up to and
including the first limit exceeded, then stop) in Redis, in process memory, and when Redis
goes away or refuses the script.
"""

from __future__ import annotations

import logging
import random
import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import redis.commands.core
import redis.connection
from redis.backoff import NoBackoff
from redis.retry import Retry

from broker.errors import RateLimited
from broker.ratelimit import Limit, RateLimiter
from tests.conftest import REDIS_URL

NOW = 1_700_000_000.0  # a fixed moment, so no window rolls over during a test


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        connection.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis at {REDIS_URL} is not reachable: {exc}")
    yield connection
    connection.close()


def limiter(client: redis.Redis | None) -> RateLimiter:
    return RateLimiter(client, now=lambda: NOW)


def limits(prefix: str, user: str, *, per_user: int, per_org: int) -> list[Limit]:
    return [
        Limit(f"{prefix}:user:{user}", limit=per_user, window_seconds=60),
        Limit(f"{prefix}:org", limit=per_org, window_seconds=60),
    ]


def outcome(action: Callable[[str], None], user: str) -> int | None:
    """None when admitted, else the Retry-After of the refusal."""
    try:
        action(user)
    except RateLimited as exc:
        return int(exc.extensions["retry_after"])
    return None


def counters(rl: RateLimiter, prefix: str, users: list[str]) -> list[int]:
    keys = [f"{prefix}:user:{user}" for user in users] + [f"{prefix}:org"]
    return [rl.peek(key, window_seconds=60) for key in keys]


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_hit_all_behaves_like_hits_one_after_the_other(
    backend: str, request: pytest.FixtureRequest
) -> None:
    connection = request.getfixturevalue("client") if backend == "redis" else None
    merged, separate = limiter(connection), limiter(connection)
    run = uuid.uuid4().hex
    users = ["u1", "u2", "u3"]
    rng = random.Random(7)

    def together(user: str) -> None:
        merged.hit_all(limits(f"m{run}", user, per_user=6, per_org=12))

    def in_turn(user: str) -> None:
        for limit in limits(f"s{run}", user, per_user=6, per_org=12):
            separate.hit(limit.key, limit=limit.limit, window_seconds=limit.window_seconds)

    for _ in range(60):
        user = rng.choice(users)
        assert outcome(together, user) == outcome(in_turn, user)
    assert counters(merged, f"m{run}", users) == counters(separate, f"s{run}", users)


def test_a_user_over_their_limit_does_not_use_up_the_organisation_budget(
    client: redis.Redis,
) -> None:
    rl, run = limiter(client), uuid.uuid4().hex
    for _ in range(2):
        rl.hit_all(limits(run, "busy", per_user=2, per_org=5))
    for _ in range(10):
        with pytest.raises(RateLimited) as refused:
            rl.hit_all(limits(run, "busy", per_user=2, per_org=5))
        assert refused.value.extensions["retry_after"] == 60
    assert counters(rl, run, ["busy"]) == [12, 2]
    # The refusals left the organisation's counter at 2: colleagues still have three.
    for user in ["colleague", "colleague", "third"]:
        rl.hit_all(limits(run, user, per_user=2, per_org=5))
    with pytest.raises(RateLimited):
        rl.hit_all(limits(run, "fourth", per_user=2, per_org=5))
    assert counters(rl, run, ["colleague", "third", "fourth"]) == [2, 1, 1, 6]


def test_both_limits_cost_one_redis_round_trip(
    client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    rl, run = limiter(client), uuid.uuid4().hex
    rl.hit_all(limits(run, "warm", per_user=10, per_org=10))  # loads the script if needed
    sent: list[object] = []
    real = redis.connection.AbstractConnection.send_packed_command

    def send(self: Any, command: Any, check_health: bool = True) -> None:
        sent.append(command)
        real(self, command, check_health)

    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", send)
    rl.hit_all(limits(run, "user", per_user=10, per_org=10))
    assert len(sent) == 1


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_redis_down_falls_back_to_process_counters_with_the_same_limits(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = redis.Redis(
        host="127.0.0.1",
        port=closed_port(),
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), 0),  # fail fast; the default retries only add waiting here
    )
    rl, run = limiter(down), uuid.uuid4().hex
    with caplog.at_level(logging.WARNING, logger="broker.ratelimit"):
        for _ in range(3):
            rl.hit_all(limits(run, "u", per_user=3, per_org=100))
        with pytest.raises(RateLimited):
            rl.hit_all(limits(run, "u", per_user=3, per_org=100))
    assert "using process counters" in caplog.text
    assert counters(rl, run, ["u"]) == [4, 3]


def test_a_refused_script_still_counts_in_redis_one_limit_at_a_time(
    client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise redis.ResponseError("scripts are disabled")

    monkeypatch.setattr(redis.commands.core.Script, "__call__", refuse)
    rl, run = limiter(client), uuid.uuid4().hex
    for _ in range(2):
        rl.hit_all(limits(run, "u", per_user=2, per_org=100))
    with pytest.raises(RateLimited):
        rl.hit_all(limits(run, "u", per_user=2, per_org=100))
    fresh = limiter(client)  # no process memory: the counts are in Redis
    assert counters(fresh, run, ["u"]) == [3, 2]
