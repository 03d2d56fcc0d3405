"""The application's wiring, built once per app in the lifespan (nothing at import)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import redis
from sqlalchemy.engine import Engine

from broker.auth.replay import InProcessReplayGuard, RedisReplayGuard, ReplayGuard
from broker.auth.tokens import TokenVerifier
from broker.clock import Clock, SystemClock
from broker.db import build_engine
from broker.ops.metrics import Metrics
from broker.organisations.service import DatabaseKeySource
from broker.settings import Settings


@dataclass
class Container:
    """Everything a request needs, created from settings."""

    settings: Settings
    clock: Clock
    engine: Engine
    redis: redis.Redis | None
    key_source: DatabaseKeySource
    verifier: TokenVerifier
    metrics: Metrics = field(default_factory=Metrics)

    def close(self) -> None:
        """Release pools and connections."""
        if self.redis is not None:
            self.redis.close()
        self.engine.dispose()


def build_container(settings: Settings, *, clock: Clock | None = None) -> Container:
    """Create the engine, the Redis client and the token verifier."""
    clock = clock or SystemClock()
    engine = build_engine(settings)
    client = (
        redis.Redis.from_url(settings.redis_url, socket_timeout=2, socket_connect_timeout=2)
        if settings.redis_url
        else None
    )
    replay: ReplayGuard = (
        RedisReplayGuard(client, clock) if client is not None else InProcessReplayGuard(clock)
    )
    key_source = DatabaseKeySource(engine)
    verifier = TokenVerifier(
        key_source,
        audience=settings.token_audience,
        max_lifetime=timedelta(seconds=settings.token_max_lifetime_seconds),
        replay=replay,
        clock=clock,
    )
    return Container(
        settings=settings,
        clock=clock,
        engine=engine,
        redis=client,
        key_source=key_source,
        verifier=verifier,
    )
