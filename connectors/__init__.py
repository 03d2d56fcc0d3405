"""Connectors: a client SDK for the broker and one export mapping per organisation type."""

from connectors.errors import (
    BrokerAPIError,
    BrokerUnavailable,
    ConnectorError,
    IdempotencyConflict,
    RowError,
    RowInvalid,
    RowsRejected,
    WebhookVerificationError,
)
from connectors.models import Person, Registered, Role, Severity, SignalDraft
from connectors.retry import RetryPolicy
from connectors.sdk import AsyncBrokerClient, BrokerClient
from connectors.webhooks import sign_webhook, verify_webhook

__all__ = [
    "AsyncBrokerClient",
    "BrokerAPIError",
    "BrokerClient",
    "BrokerUnavailable",
    "ConnectorError",
    "IdempotencyConflict",
    "Person",
    "Registered",
    "RetryPolicy",
    "Role",
    "RowError",
    "RowInvalid",
    "RowsRejected",
    "Severity",
    "SignalDraft",
    "WebhookVerificationError",
    "sign_webhook",
    "verify_webhook",
]
