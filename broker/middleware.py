"""ASGI middleware: load shedding, body-size limit, security headers, metrics and access logs."""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from broker.errors import PayloadTooLarge, ServiceUnavailable
from broker.ops.metrics import Metrics
from broker.problems import problem_response

logger = logging.getLogger("broker.access")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"x-frame-options", b"DENY"),
]


# Paths that are never shed: the orchestrator must see a busy process as alive and ready.
_UNSHED = ("/health", "/ready", "/metrics")


class BrokerMiddleware:
    """Sheds load, refuses oversized bodies, adds headers, counts and logs every request.

    At most ``max_inflight`` requests are in progress in this process; one more is answered
    503 at once. Without the bound an overloaded process queues requests until their
    callers have given up, and then spends all its time on answers nobody reads: its useful
    throughput collapses instead of levelling off at capacity (bench/bench_hits.py).
    """

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, metrics: Metrics, max_inflight: int = 32
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics
        self.max_inflight = max_inflight
        self.inflight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        declared = request.headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body_bytes):
            await problem_response(PayloadTooLarge(), request)(scope, receive, send)
            return
        state: dict[str, Any] = {"status": 500, "received": 0}
        started = time.perf_counter()
        request_id = uuid.uuid4().hex
        shed = self.inflight >= self.max_inflight and not scope["path"].startswith(_UNSHED)

        async def limited_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > self.max_body_bytes:
                    # FastAPI re-raises HTTPException from body parsing; the handler renders it.
                    raise HTTPException(413)
            return message

        async def tracking_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        if shed:
            busy = ServiceUnavailable(
                "The broker is at capacity; try again shortly.", retry_after=1
            )
            await problem_response(busy, request)(scope, receive, tracking_send)
            self._observe(scope, state["status"], time.perf_counter() - started, request_id)
            return
        self.inflight += 1  # one event loop per process: no lock needed
        try:
            await self.app(scope, limited_receive, tracking_send)
        finally:
            self.inflight -= 1
            self._observe(scope, state["status"], time.perf_counter() - started, request_id)

    def _observe(self, scope: Scope, status: int, seconds: float, request_id: str) -> None:
        route = scope.get("route")
        template = getattr(route, "path", "unmatched")
        method = scope["method"]
        self.metrics.requests.labels(method, template, str(status)).inc()
        self.metrics.latency.labels(method, template).observe(seconds)
        # The route template, never the concrete path: paths could carry ids.
        logger.info(
            "request",
            extra={
                "method": method,
                "route": template,
                "status": status,
                "ms": round(seconds * 1000, 2),
                "request_id": request_id,
            },
        )
