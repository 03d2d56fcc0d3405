"""Liveness, readiness and metrics endpoints."""

from __future__ import annotations

import logging

import redis
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from broker.dependencies import ContainerDep
from broker.errors import ServiceUnavailable
from broker.problems import PROBLEM_JSON

router = APIRouter(tags=["operations"])
logger = logging.getLogger("broker.ops")


@router.get("/health")
def health() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/ready", responses={503: {"description": "A backing service is unreachable"}})
def ready(container: ContainerDep) -> JSONResponse:
    """The database and, when configured, Redis answer."""
    checks: dict[str, str] = {}
    try:
        with container.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except SQLAlchemyError:
        checks["database"] = "unreachable"
    if container.redis is not None:
        try:
            container.redis.ping()
            checks["redis"] = "ok"
        except redis.RedisError:
            checks["redis"] = "unreachable"
    healthy = all(value == "ok" for value in checks.values())
    if not healthy:
        logger.warning("not ready", extra={"checks": checks})
    if healthy:
        return JSONResponse({"status": "ready", "checks": checks})
    return JSONResponse(
        {
            "type": ServiceUnavailable().type_uri,
            "title": ServiceUnavailable.title,
            "status": 503,
            "detail": "A backing service is unreachable.",
            "checks": checks,
        },
        status_code=503,
        media_type=PROBLEM_JSON,
    )


@router.get("/metrics", response_class=Response)
def metrics(container: ContainerDep) -> Response:
    """Prometheus metrics."""
    return Response(container.metrics.render(), media_type="text/plain; version=0.0.4")
