"""The application factory: ``create_app(settings)``; nothing is created at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
import redis.asyncio as redis_asyncio
from fastapi import FastAPI

from broker.alerts.endpoints import router as alerts_router
from broker.auth.replay import (
    AsyncRedisReplayGuard,
    AsyncReplayGuard,
    InLoopReplayGuard,
    InProcessReplayGuard,
    RedisReplayGuard,
)
from broker.clock import Clock
from broker.consents.endpoints import router as consents_router
from broker.console.endpoints import router as console_router
from broker.container import Container, build_container
from broker.disclosure_log.endpoints import router as log_router
from broker.disclosures.endpoints import router as disclosures_router
from broker.hits.endpoints import router as hits_router
from broker.logs import configure_logging
from broker.matches.endpoints import router as matches_router
from broker.matches.webhook_endpoints import router as webhook_router
from broker.middleware import BrokerMiddleware
from broker.ops.endpoints import router as ops_router
from broker.ops.metrics import Metrics
from broker.organisations.endpoints import router as organisations_router
from broker.policy_admin.endpoints import router as policy_router
from broker.problems import PROBLEM_RESPONSES, install_problem_handlers
from broker.settings import Settings
from broker.signals.endpoints import router as signals_router
from broker.subject_access.endpoints import router as subject_access_router
from broker.tasks import TaskRunner, default_tasks

DESCRIPTION = """
Match-only referral index and lawful-release broker for the domestic-violence chain.
Organisations ask whether a family is known elsewhere and whom to call; anything beyond a
hit is released only on a recorded legal basis, pseudonymised per recipient, and every
step is written to a tamper-evident disclosure log.
"""


def async_replay_guard(container: Container) -> AsyncReplayGuard:
    """The token-id memory for the event loop, over the container's (same keys and memory).

    Made in the lifespan: an asyncio Redis client belongs to the loop that runs the app.
    """
    guard = container.replay
    if isinstance(guard, RedisReplayGuard) and container.settings.redis_url:
        client = redis_asyncio.Redis.from_url(
            container.settings.redis_url, socket_timeout=2, socket_connect_timeout=2
        )
        return AsyncRedisReplayGuard(client, guard)
    if isinstance(guard, InProcessReplayGuard):
        return InLoopReplayGuard(guard)
    raise TypeError(f"no event-loop form of {type(guard).__name__}")


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    container: Container | None = None,
    run_tasks: bool = True,
) -> FastAPI:
    """Build the broker application; resources are opened in the lifespan."""
    metrics = container.metrics if container is not None else Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_dir, level=logging.getLevelName(settings.log_level))
        wiring = container or build_container(settings, clock=clock)
        wiring.metrics = metrics
        app.state.container = wiring
        # Request handlers run in a thread pool; more threads than database connections
        # would only wait for the pool (and fail after its timeout) while contending for
        # the interpreter. Requests beyond this wait in the event loop instead; the pool's
        # overflow is left to the integrator, the periodic tasks and cache loads.
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = settings.database_pool_size
        app.state.replay = async_replay_guard(wiring)
        runner = TaskRunner(wiring, default_tasks(wiring)) if run_tasks else None
        if runner is not None:
            wiring.log.integrator.start()
            runner.start()
        try:
            yield
        finally:
            if isinstance(app.state.replay, AsyncRedisReplayGuard):
                await app.state.replay.aclose()
            if runner is not None:
                runner.stop()
                wiring.log.integrator.stop()
            if container is None:
                wiring.close()

    app = FastAPI(
        title="DV chain information broker",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.add_middleware(
        BrokerMiddleware,
        max_body_bytes=settings.max_body_bytes,
        metrics=metrics,
        max_inflight=settings.max_inflight_requests,
    )
    app.include_router(ops_router)
    app.include_router(organisations_router, responses=PROBLEM_RESPONSES)
    app.include_router(signals_router, responses=PROBLEM_RESPONSES)
    app.include_router(hits_router, responses=PROBLEM_RESPONSES)
    app.include_router(matches_router, responses=PROBLEM_RESPONSES)
    app.include_router(webhook_router, responses=PROBLEM_RESPONSES)
    app.include_router(consents_router, responses=PROBLEM_RESPONSES)
    app.include_router(disclosures_router, responses=PROBLEM_RESPONSES)
    app.include_router(log_router, responses=PROBLEM_RESPONSES)
    app.include_router(alerts_router, responses=PROBLEM_RESPONSES)
    app.include_router(subject_access_router, responses=PROBLEM_RESPONSES)
    app.include_router(policy_router, responses=PROBLEM_RESPONSES)
    app.include_router(console_router)
    return app
