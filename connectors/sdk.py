"""Client SDK for the broker's HTTP API, synchronous and asynchronous.

Both clients sign a fresh token per request with the organisation's own key, take the
blind path by default (the broker never sees a BSN or a name), split bulk registrations
into requests of at most 10,000 items, carry idempotency keys, and retry with exponential
backoff on 429, 503 and connection errors (never on another 4xx)::

    with BrokerClient(url, org_id="politie-rr", private_key=key) as client:
        client.register_signals(drafts, idempotency_key=client.idempotency_key(drafts))
        answer = client.find_hits("acute_safety", [parse_bsn("111222333")])
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from connectors._core import BulkRequest, ClientCore, answer, encode, registered
from connectors.blinding import Blinded
from connectors.credentials import DEFAULT_AUDIENCE, Credentials
from connectors.errors import BrokerUnavailable, ConnectorError
from connectors.models import Registered, SignalDraft
from connectors.retry import RETRY_ERRORS, RetryPolicy, retry_after
from connectors.webhooks import verify_webhook
from keys import InvalidElement, PersonIdentifier

__all__ = ["AsyncBrokerClient", "BrokerClient", "verify_webhook"]

DEFAULT_TIMEOUT = httpx.Timeout(300.0, connect=10.0)


def _identifiers(items: Iterable[SignalDraft]) -> list[PersonIdentifier]:
    return [person.identifier for item in items for person in item.persons]


class BrokerClient:
    """Synchronous client (httpx); safe to share with one helper thread."""

    def __init__(
        self,
        base_url: str,
        *,
        org_id: str,
        private_key: Ed25519PrivateKey,
        kid: str | None = None,
        user: str = "broker-connect",
        roles: Sequence[str] = ("professional",),
        audience: str = DEFAULT_AUDIENCE,
        http: httpx.Client | None = None,
        blind: bool = True,
        max_batch: int = 10_000,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        credentials = Credentials(
            org_id, private_key, kid=kid, user=user, roles=tuple(roles), audience=audience
        )
        self.core = ClientCore(base_url, credentials, blind=blind, max_batch=max_batch)
        self._http = http or httpx.Client(timeout=DEFAULT_TIMEOUT)
        self._owns_http = http is None
        self._retry = retry or RetryPolicy()
        self._sleep = sleep

    def __enter__(self) -> BrokerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections if this client opened them."""
        if self._owns_http:
            self._http.close()

    def idempotency_key(self, items: Sequence[SignalDraft], *, scope: str = "") -> str:
        """A content-derived key: sending the same items again registers nothing new."""
        return self.core.idempotency_key(items, scope=scope)

    def pseudonymise(self, identifiers: Iterable[PersonIdentifier]) -> None:
        """Evaluate (blind path) every identifier not yet cached; a no-op on the plain path."""
        if not self.core.blind:
            return
        for blinded in self.core.cache.missing(identifiers):
            self.complete(blinded, self.evaluate(blinded))

    def evaluate(self, blinded: Blinded) -> Any:
        """The broker's answer for one chunk of blinded elements, still to be unblinded.

        With ``complete`` this is ``pseudonymise`` in two steps, so that an importer can
        unblind one chunk while the broker evaluates the next.
        """
        return self._request("POST", "/v1/pseudonyms/evaluate", {"elements": blinded.elements()})

    def complete(self, blinded: Blinded, answer: Any) -> None:
        """Unblind and finalise an ``evaluate`` answer and cache the OPRF outputs."""
        _complete(self.core, blinded, answer)

    def register_signals(self, items: Sequence[SignalDraft], *, idempotency_key: str) -> Registered:
        """Register signals in bulk requests of at most ``max_batch`` items each.

        Each request is all or nothing; ``RowsRejected`` names the offending rows by their
        position in ``items``. Requests before the failing one stay registered, and sending
        them again with the same key is a no-op.
        """
        self.pseudonymise(_identifiers(items))
        return self.send_bulk(self.core.bulk_requests(items, idempotency_key))

    def send_bulk(self, requests: Sequence[BulkRequest]) -> Registered:
        """Send bulk requests built ahead with ``core.bulk_requests``, one after the other.

        ``register_signals`` in two steps, so an importer can build the next batch's body
        while the broker registers this one.
        """
        answers = [
            self._request("POST", "/v1/signals/bulk", key=r.key, offset=r.offset, content=r.content)
            for r in requests
        ]
        return registered(answers)

    def find_hits(self, purpose: str, persons: Sequence[PersonIdentifier]) -> dict[str, Any]:
        """Is this family known elsewhere, and whom to call? Never content."""
        self.pseudonymise(persons)
        body = {"purpose": purpose, "persons": [self.core.person_ref(p) for p in persons]}
        result: dict[str, Any] = self._request("POST", "/v1/hits", body)
        return result

    def list_signals(self, *, offset: int = 0, limit: int = 50) -> dict[str, Any]:
        """A page of the organisation's own signals."""
        result: dict[str, Any] = self._request(
            "GET", "/v1/signals", params={"offset": offset, "limit": limit}
        )
        return result

    def inbox(self, *, unread: bool = True, limit: int = 100) -> list[dict[str, Any]]:
        """The organisation's notifications, newest first."""
        params = {"unread": str(unread).lower(), "limit": limit}
        items: list[dict[str, Any]] = self._request("GET", "/v1/notifications", params=params)[
            "items"
        ]
        return items

    def mark_read(self, notification_id: str) -> dict[str, Any]:
        """Mark one notification as read."""
        result: dict[str, Any] = self._request("POST", f"/v1/notifications/{notification_id}/read")
        return result

    def release_requests(self) -> list[dict[str, Any]]:
        """Releases of the organisation's signals awaiting its decision."""
        result: list[dict[str, Any]] = self._request("GET", "/v1/release-requests")
        return result

    def decide_release(self, item_id: str, *, approve: bool, reason: str) -> dict[str, Any]:
        """Approve or refuse one pending release, with a reason."""
        body = {"decision": "approve" if approve else "refuse", "reason": reason}
        result: dict[str, Any] = self._request(
            "POST", f"/v1/release-requests/{item_id}/decision", body
        )
        return result

    def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, Any] | None = None,
        key: str | None = None,
        offset: int = 0,
        content: bytes | None = None,
    ) -> Any:
        if content is None and body is not None:
            content = encode(body)
        attempt = 0
        while True:
            attempt += 1
            headers = self.core.headers(idempotency_key=key, body=content is not None)
            try:
                response = self._http.request(
                    method, self.core.url(path), content=content, params=params, headers=headers
                )
            except RETRY_ERRORS as exc:
                if not self._retry.should_retry(attempt, status=None):
                    raise BrokerUnavailable(f"{method} {path}: {type(exc).__name__}") from exc
                self._sleep(self._retry.delay(attempt))
                continue
            if self._retry.should_retry(attempt, status=response.status_code):
                self._sleep(self._retry.delay(attempt, retry_after=retry_after(response)))
                continue
            return answer(response, offset=offset)


class AsyncBrokerClient:
    """Asynchronous client (httpx); blinding runs in a worker thread, off the event loop."""

    def __init__(
        self,
        base_url: str,
        *,
        org_id: str,
        private_key: Ed25519PrivateKey,
        kid: str | None = None,
        user: str = "broker-connect",
        roles: Sequence[str] = ("professional",),
        audience: str = DEFAULT_AUDIENCE,
        http: httpx.AsyncClient | None = None,
        blind: bool = True,
        max_batch: int = 10_000,
        retry: RetryPolicy | None = None,
    ) -> None:
        credentials = Credentials(
            org_id, private_key, kid=kid, user=user, roles=tuple(roles), audience=audience
        )
        self.core = ClientCore(base_url, credentials, blind=blind, max_batch=max_batch)
        self._http = http or httpx.AsyncClient(timeout=DEFAULT_TIMEOUT)
        self._owns_http = http is None
        self._retry = retry or RetryPolicy()

    async def __aenter__(self) -> AsyncBrokerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections if this client opened them."""
        if self._owns_http:
            await self._http.aclose()

    def idempotency_key(self, items: Sequence[SignalDraft], *, scope: str = "") -> str:
        """A content-derived key: sending the same items again registers nothing new."""
        return self.core.idempotency_key(items, scope=scope)

    async def pseudonymise(self, identifiers: Iterable[PersonIdentifier]) -> None:
        """Evaluate (blind path) every identifier not yet cached; a no-op on the plain path."""
        if not self.core.blind:
            return
        wanted = list(identifiers)
        for blinded in await asyncio.to_thread(self.core.cache.missing, wanted):
            body = await self._request(
                "POST", "/v1/pseudonyms/evaluate", {"elements": blinded.elements()}
            )
            await asyncio.to_thread(_complete, self.core, blinded, body)

    async def register_signals(
        self, items: Sequence[SignalDraft], *, idempotency_key: str
    ) -> Registered:
        """Register signals in bulk requests; see ``BrokerClient.register_signals``."""
        await self.pseudonymise(_identifiers(items))
        answers = []
        for offset, chunk, key in self.core.chunks(items, idempotency_key):
            body = {"items": [self.core.signal_body(item) for item in chunk]}
            answers.append(
                await self._request("POST", "/v1/signals/bulk", body, key=key, offset=offset)
            )
        return registered(answers)

    async def find_hits(self, purpose: str, persons: Sequence[PersonIdentifier]) -> dict[str, Any]:
        """Is this family known elsewhere, and whom to call? Never content."""
        await self.pseudonymise(persons)
        body = {"purpose": purpose, "persons": [self.core.person_ref(p) for p in persons]}
        result: dict[str, Any] = await self._request("POST", "/v1/hits", body)
        return result

    async def list_signals(self, *, offset: int = 0, limit: int = 50) -> dict[str, Any]:
        """A page of the organisation's own signals."""
        result: dict[str, Any] = await self._request(
            "GET", "/v1/signals", params={"offset": offset, "limit": limit}
        )
        return result

    async def inbox(self, *, unread: bool = True, limit: int = 100) -> list[dict[str, Any]]:
        """The organisation's notifications, newest first."""
        params = {"unread": str(unread).lower(), "limit": limit}
        body = await self._request("GET", "/v1/notifications", params=params)
        items: list[dict[str, Any]] = body["items"]
        return items

    async def mark_read(self, notification_id: str) -> dict[str, Any]:
        """Mark one notification as read."""
        result: dict[str, Any] = await self._request(
            "POST", f"/v1/notifications/{notification_id}/read"
        )
        return result

    async def release_requests(self) -> list[dict[str, Any]]:
        """Releases of the organisation's signals awaiting its decision."""
        result: list[dict[str, Any]] = await self._request("GET", "/v1/release-requests")
        return result

    async def decide_release(self, item_id: str, *, approve: bool, reason: str) -> dict[str, Any]:
        """Approve or refuse one pending release, with a reason."""
        body = {"decision": "approve" if approve else "refuse", "reason": reason}
        result: dict[str, Any] = await self._request(
            "POST", f"/v1/release-requests/{item_id}/decision", body
        )
        return result

    async def _request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict[str, Any] | None = None,
        key: str | None = None,
        offset: int = 0,
    ) -> Any:
        content = encode(body) if body is not None else None
        attempt = 0
        while True:
            attempt += 1
            headers = self.core.headers(idempotency_key=key, body=content is not None)
            try:
                response = await self._http.request(
                    method, self.core.url(path), content=content, params=params, headers=headers
                )
            except RETRY_ERRORS as exc:
                if not self._retry.should_retry(attempt, status=None):
                    raise BrokerUnavailable(f"{method} {path}: {type(exc).__name__}") from exc
                await asyncio.sleep(self._retry.delay(attempt))
                continue
            if self._retry.should_retry(attempt, status=response.status_code):
                await asyncio.sleep(self._retry.delay(attempt, retry_after=retry_after(response)))
                continue
            return answer(response, offset=offset)


def _complete(core: ClientCore, blinded: Blinded, body: Any) -> None:
    try:
        core.cache.complete(blinded, body["evaluated"])
    except (InvalidElement, ValueError, KeyError, TypeError) as exc:
        raise ConnectorError("the broker's OPRF evaluation is not usable") from exc
