"""When to try a request again, and how long to wait: exponential backoff with jitter."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

RETRY_STATUSES = frozenset({429, 503})
# Connection-level failures: nothing (or nothing complete) reached the broker's answer.
# Retrying a bulk registration is safe because it carries an idempotency key.
RETRY_ERRORS: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    httpx.PoolTimeout,
)


@dataclass(frozen=True)
class RetryPolicy:
    """Up to ``attempts`` tries; waits grow from ``base`` seconds, doubled, capped at ``cap``."""

    attempts: int = 6
    base: float = 0.5
    cap: float = 60.0
    jitter: Callable[[], float] = field(default=random.random, repr=False)

    def should_retry(self, attempt: int, *, status: int | None) -> bool:
        """Whether try number ``attempt`` (1-based) may be followed by another."""
        if attempt >= self.attempts:
            return False
        return status is None or status in RETRY_STATUSES

    def delay(self, attempt: int, *, retry_after: float | None = None) -> float:
        """Seconds to wait after try ``attempt``; the broker's Retry-After wins when given."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.cap)
        backoff: float = min(self.cap, self.base * 2.0 ** (attempt - 1))
        # Full jitter spreads out connectors that were all refused at the same moment.
        return backoff / 2 + self.jitter() * backoff / 2


def retry_after(response: httpx.Response, *, now: datetime | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta or HTTP date), or the problem body."""
    header = response.headers.get("retry-after")
    if header:
        header = header.strip()
        if header.isdigit():
            return float(header)
        try:
            when = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    # The broker names the wait in its problem+json body (``retry_after``) as well.
    body = _json_or_none(response)
    value = body.get("retry_after") if body else None
    return float(value) if isinstance(value, int | float) else None


def _json_or_none(response: httpx.Response) -> Mapping[str, Any] | None:
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
