"""Webhook delivery of the notification outbox, signed as Standard Webhooks specifies.

The inbox stays the record; a webhook only tells an organisation sooner. Each
notification is tried with exponential backoff for 24 hours after it was written. Several
broker processes may deliver at once: rows are claimed with ``FOR UPDATE SKIP LOCKED`` in
a short transaction that pushes ``webhook_next_at`` forward as a lease, so no two
processes send the same notification at the same time. (SQLite ignores the locking
clause; it is the single-process mode.) A crash between sending and recording means the
notification is sent again once the lease ends: receivers deduplicate on ``webhook-id``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import bindparam, exists, update
from sqlmodel import col, select

from broker.clock import as_utc
from broker.container import Container
from broker.db import unit_of_work
from broker.disclosure_log.events import EventType, LogEvent
from broker.disclosure_log.repository import table_of
from broker.disclosure_log.service import record
from broker.matches.models import Notification
from broker.organisations.models import Organisation
from broker.transaction import transaction

logger = logging.getLogger("broker.webhooks")

FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
RETRY_WINDOW = timedelta(hours=24)
CHUNK = 20
LEASE = timedelta(minutes=5)
# No send starts this close to the end of its lease, so it cannot outlive the lease.
SEND_MARGIN = timedelta(seconds=30)
TIMEOUT = httpx.Timeout(5.0, connect=3.0)
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret


@dataclass(frozen=True)
class DeliveryReport:
    """What one delivery round did."""

    delivered: int = 0
    retried: int = 0
    given_up: int = 0
    inbox_only: int = 0


@dataclass(frozen=True)
class _Claimed:
    id: str
    org_id: str
    kind: str
    body: str
    created_at: datetime
    attempts: int
    url: str


@dataclass(frozen=True)
class _Attempt:
    item: _Claimed
    at: datetime
    sent: bool
    status: int | None = None
    error: str | None = None

    @property
    def is_delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _Timeline:
    """The injected ``now``, advanced by the real time this round has taken."""

    def __init__(self, start: datetime) -> None:
        self._start = start.astimezone(UTC)
        self._started = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._started)


def display_secret(secret: bytes) -> str:
    """The secret as Standard Webhooks libraries take it: ``whsec_`` + base64."""
    return SECRET_PREFIX + base64.b64encode(secret).decode("ascii")


def sign(secret: bytes, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,`` + base64 HMAC-SHA256 of id.timestamp.body."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def retry_delay(attempts: int) -> timedelta:
    """Wait after the given number of failed attempts: 30 s doubling, at most an hour."""
    doublings = min(max(attempts - 1, 0), 16)
    return min(FIRST_RETRY * (1 << doublings), MAX_RETRY)


def deliver_due(
    container: Container,
    *,
    now: datetime,
    client: httpx.Client | None = None,
    limit: int = 200,
) -> DeliveryReport:
    """Send up to ``limit`` due notifications to their organisations' webhooks."""
    http = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    timeline = _Timeline(now)
    tally: Counter[str] = Counter()
    handled = 0
    try:
        while handled < limit:
            claimed, inbox_only = _claim(
                container, now=timeline.now(), limit=min(CHUNK, limit - handled)
            )
            handled += len(claimed) + inbox_only
            tally["inbox_only"] += inbox_only
            if not claimed and not inbox_only:
                break
            lease_end = timeline.now() + LEASE - SEND_MARGIN
            attempts = [_attempt(container, http, item, timeline, lease_end) for item in claimed]
            tally.update(_settle(container, attempts))
    finally:
        if client is None:
            http.close()
    return DeliveryReport(
        delivered=tally["delivered"],
        retried=tally["retry"],
        given_up=tally["given_up"],
        inbox_only=tally["inbox_only"],
    )


def deliver_notifications(container: Container) -> DeliveryReport:
    """The periodic task: one small round at the container's time."""
    # One chunk per tick: a receiver that times out must not hold up the other tasks long.
    return deliver_due(container, now=container.clock.now(), limit=CHUNK)


_NOTIFICATION, _ORGANISATION = table_of(Notification), table_of(Organisation)
_INBOX_ONLY = (
    update(_NOTIFICATION)
    .where(
        _NOTIFICATION.c.webhook_next_at <= bindparam("now"),
        _NOTIFICATION.c.webhook_delivered_at.is_(None),
        _NOTIFICATION.c.webhook_given_up_at.is_(None),
        ~exists().where(
            _ORGANISATION.c.id == _NOTIFICATION.c.org_id,
            _ORGANISATION.c.webhook_url.is_not(None),
            _ORGANISATION.c.webhook_url != "",
        ),
    )
    .values(webhook_next_at=None)
)


def _claim(container: Container, *, now: datetime, limit: int) -> tuple[list[_Claimed], int]:
    """Lease due rows that have a webhook; take the others off the delivery queue."""
    query = (
        select(Notification, Organisation.webhook_url)
        .outerjoin(Organisation, col(Organisation.id) == col(Notification.org_id))
        .where(
            col(Notification.webhook_next_at) <= now,
            col(Notification.webhook_delivered_at).is_(None),
            col(Notification.webhook_given_up_at).is_(None),
        )
        .order_by(col(Notification.webhook_next_at), col(Notification.id))
        .limit(limit)
        .with_for_update(skip_locked=True, of=Notification)
    )
    claimed: list[_Claimed] = []
    with unit_of_work(container.engine) as session:
        # Rows of an organisation that has no webhook (any more: new rows for it never join
        # the queue) leave the queue in one statement, however many there are.
        inbox_only = session.connection().execute(_INBOX_ONLY, {"now": now}).rowcount
        for row, url in session.exec(query).all():
            if url:
                row.webhook_next_at = now + LEASE
                claimed.append(
                    _Claimed(
                        row.id,
                        row.org_id,
                        row.kind,
                        row.body,
                        row.created_at,
                        row.webhook_attempts,
                        url,
                    )
                )
            else:
                row.webhook_next_at = None
                inbox_only += 1
            session.add(row)
    return claimed, inbox_only


def _attempt(
    container: Container,
    http: httpx.Client,
    item: _Claimed,
    timeline: _Timeline,
    lease_end: datetime,
) -> _Attempt:
    at = timeline.now()
    if at >= lease_end:
        return _Attempt(item, at=at, sent=False)
    body = _payload(item)
    timestamp = int(at.timestamp())
    secret = container.keystore.webhook_secret(item.org_id)
    headers = {
        "content-type": "application/json",
        "webhook-id": item.id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, msg_id=item.id, timestamp=timestamp, body=body),
    }
    try:
        # Streamed and never read: a receiver's response body is of no interest.
        with http.stream("POST", item.url, content=body, headers=headers) as response:
            return _Attempt(item, at=at, sent=True, status=response.status_code)
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return _Attempt(item, at=at, sent=True, error=type(exc).__name__)


def _payload(item: _Claimed) -> bytes:
    envelope = {
        "type": f"notification.{item.kind}",
        "timestamp": as_utc(item.created_at).isoformat(),
        "data": json.loads(item.body),
    }
    return json.dumps(envelope, sort_keys=True, ensure_ascii=False).encode("utf-8")


def _settle(container: Container, attempts: Sequence[_Attempt]) -> Counter[str]:
    """Record every outcome, and its log entry, in one transaction."""
    outcomes: Counter[str] = Counter()
    with transaction(container.engine, container.log) as session:
        for attempt in attempts:
            row = session.get(Notification, attempt.item.id)
            if row is None or row.webhook_delivered_at is not None:
                continue
            if not attempt.sent:
                row.webhook_next_at = attempt.at  # lease nearly over: hand it back, still due
            else:
                outcome = _apply(row, attempt)
                outcomes[outcome] += 1
                record(session, _event(row, attempt, outcome))
            session.add(row)
    return outcomes


def _apply(row: Notification, attempt: _Attempt) -> str:
    row.webhook_attempts += 1
    if attempt.is_delivered:
        row.webhook_delivered_at, row.webhook_next_at = attempt.at, None
        return "delivered"
    deadline = as_utc(row.created_at) + RETRY_WINDOW
    if attempt.at >= deadline:
        row.webhook_given_up_at, row.webhook_next_at = attempt.at, None
        logger.warning(
            "webhook delivery given up",
            extra={
                "notification_id": row.id,
                "org_id": row.org_id,
                "attempts": row.webhook_attempts,
            },
        )
        return "given_up"
    row.webhook_next_at = min(attempt.at + retry_delay(row.webhook_attempts), deadline)
    return "retry"


def _event(row: Notification, attempt: _Attempt, outcome: str) -> LogEvent:
    details: dict[str, object] = {
        "notification_id": row.id,
        "kind": row.kind,
        "attempt": row.webhook_attempts,
        "status": attempt.status,
        "error": attempt.error,
    }
    if row.webhook_next_at is not None:
        details["next_at"] = as_utc(row.webhook_next_at).isoformat()
    return LogEvent.system(EventType.NOTIFICATION, outcome, parties=(row.org_id,), details=details)
