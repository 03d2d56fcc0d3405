"""The SDK's retry and error rules against scripted broker answers (no network)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors import (
    AsyncBrokerClient,
    BrokerAPIError,
    BrokerClient,
    BrokerUnavailable,
    RetryPolicy,
    RowsRejected,
)

pytestmark = pytest.mark.e2e

KEY = Ed25519PrivateKey.generate()
INBOX: dict[str, list[object]] = {"items": []}


def scripted(
    *answers: httpx.Response | Exception,
) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.MockTransport(handle), seen


def client(transport: httpx.MockTransport, sleeps: list[float]) -> BrokerClient:
    return BrokerClient(
        "http://broker.test",
        org_id="politie-rr",
        private_key=KEY,
        http=httpx.Client(transport=transport),
        retry=RetryPolicy(attempts=3, jitter=lambda: 1.0),
        sleep=sleeps.append,
    )


def problem(status: int, **extra: object) -> httpx.Response:
    return httpx.Response(status, json={"status": status, "detail": "no", **extra})


def test_429_is_retried_after_the_brokers_retry_after_with_a_fresh_token() -> None:
    transport, seen = scripted(
        httpx.Response(429, headers={"Retry-After": "7"}, json={}), httpx.Response(200, json=INBOX)
    )
    sleeps: list[float] = []

    assert client(transport, sleeps).inbox() == []
    assert sleeps == [7.0]
    tokens = {r.headers["Authorization"] for r in seen}
    assert len(tokens) == 2  # each jti is accepted once


def test_503_and_connection_errors_back_off_exponentially_then_give_up() -> None:
    transport, seen = scripted(
        httpx.ConnectError("down"), problem(503), httpx.ConnectError("still down")
    )
    sleeps: list[float] = []

    with pytest.raises(BrokerUnavailable):
        client(transport, sleeps).inbox()
    assert sleeps == [0.5, 1.0] and len(seen) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409])
def test_other_client_errors_are_never_retried(status: int) -> None:
    transport, seen = scripted(problem(status))

    with pytest.raises(BrokerAPIError) as raised:
        client(transport, []).inbox()
    assert raised.value.status == status and len(seen) == 1


def test_a_422_names_rows_by_their_position_in_the_call() -> None:
    transport, _ = scripted(problem(422, errors=[{"row": 1, "detail": "bad desk"}]))

    with pytest.raises(RowsRejected) as raised:
        client(transport, [])._request("POST", "/v1/signals/bulk", {"items": []}, offset=100)
    assert [(r.row, r.detail) for r in raised.value.rows] == [(101, "bad desk")]


def test_the_async_client_retries_too() -> None:
    calls: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return problem(503) if len(calls) == 1 else httpx.Response(200, json=INBOX)

    async def run() -> list[dict[str, Any]]:
        async with AsyncBrokerClient(
            "http://broker.test",
            org_id="politie-rr",
            private_key=KEY,
            http=httpx.AsyncClient(transport=httpx.MockTransport(handle)),
            retry=RetryPolicy(base=0.001),
        ) as async_client:
            return await async_client.inbox()

    assert asyncio.run(run()) == [] and len(calls) == 2
