"""An overloaded process answers 503 at once instead of queueing requests without bound."""

from __future__ import annotations

import asyncio
import json

from starlette.types import Message, Receive, Scope, Send

from broker.middleware import BrokerMiddleware
from broker.ops.metrics import Metrics


def http_scope(path: str) -> Scope:
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"content-type", b"application/json")],
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "root_path": "",
    }


def test_requests_beyond_the_bound_get_503_problem_json_and_health_is_never_shed() -> None:
    release = asyncio.Event()
    started = 0

    async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal started
        started += 1
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    middleware = BrokerMiddleware(slow_app, max_body_bytes=1024, metrics=Metrics(), max_inflight=2)

    async def call(path: str) -> tuple[int, dict[str, str], bytes]:
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"{}", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        await middleware(http_scope(path), receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        headers = {k.decode(): v.decode() for k, v in start["headers"]}
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return start["status"], headers, body

    async def scenario() -> None:
        first = asyncio.create_task(call("/v1/hits"))
        second = asyncio.create_task(call("/v1/hits"))
        while started < 2:
            await asyncio.sleep(0)
        status, headers, body = await call("/v1/hits")
        assert status == 503
        assert headers["content-type"] == "application/problem+json"
        assert headers["retry-after"] == "1"
        assert json.loads(body)["status"] == 503
        health = asyncio.create_task(call("/health"))
        while started < 3:
            await asyncio.sleep(0)
        release.set()
        assert [r[0] for r in await asyncio.gather(first, second, health)] == [200, 200, 200]
        assert middleware.inflight == 0
        assert (await call("/v1/hits"))[0] == 200

    asyncio.run(scenario())
