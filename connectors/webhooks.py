"""Standard Webhooks signatures: verify what the broker sends (and sign, for tests).

The broker signs ``{webhook-id}.{webhook-timestamp}.{body}`` with HMAC-SHA256 under a
secret shown as ``whsec_<base64>``; ``webhook-signature`` holds one or more space-separated
``v1,<base64>`` values (several while a secret is rotated). A receiver must check the
signature in constant time, refuse stale timestamps (replays) and deduplicate on the id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from connectors.errors import WebhookVerificationError

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
DEFAULT_TOLERANCE = 300


def decode_secret(secret: str | bytes) -> bytes:
    """The raw HMAC key from ``whsec_<base64>`` (or raw bytes as they are)."""
    if isinstance(secret, bytes):
        return secret
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookVerificationError("the webhook secret is not whsec_<base64>") from exc


def sign_webhook(secret: str | bytes, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one message."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(decode_secret(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify_webhook(
    secret: str | bytes,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> Any:
    """Check a webhook's signature and timestamp; return its JSON body or raise."""
    lower = {name.lower(): value for name, value in headers.items()}
    msg_id = lower.get("webhook-id", "")
    stamp = lower.get("webhook-timestamp", "")
    signatures = lower.get("webhook-signature", "")
    if not (msg_id and stamp and signatures):
        raise WebhookVerificationError("missing webhook-id, -timestamp or -signature header")
    try:
        timestamp = int(stamp)
    except ValueError as exc:
        raise WebhookVerificationError("webhook-timestamp is not a whole number") from exc
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError("webhook-timestamp is outside the tolerance")
    expected = sign_webhook(secret, msg_id=msg_id, timestamp=timestamp, body=body)
    if not any(_matches(expected, candidate) for candidate in signatures.split()):
        raise WebhookVerificationError("no matching webhook signature")
    try:
        return json.loads(body)
    except ValueError as exc:
        raise WebhookVerificationError("the webhook body is not JSON") from exc


def _matches(expected: str, candidate: str) -> bool:
    # Other schemes (v1a: asymmetric) are skipped; only v1 is HMAC.
    if not candidate.startswith("v1,"):
        return False
    return hmac.compare_digest(expected.encode(), candidate.encode())
