"""One error hierarchy for the broker; the web layer renders it as RFC 9457 problem+json.

Messages are written for the caller and never contain identifiers (BSN, names) or
stack traces: the handler only ever shows ``title``, ``detail`` and named extras.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class BrokerError(Exception):
    """Base class of every error the broker reports to a caller."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str | None = None, **extensions: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extensions: Mapping[str, Any] = extensions

    @property
    def type_uri(self) -> str:
        """The problem type, a stable URN per kind of error."""
        return f"urn:dv-broker:problem:{self.slug}"


class NotAuthenticated(BrokerError):
    """No valid bearer token."""

    status = 401
    slug = "not-authenticated"
    title = "Authentication required"


class Forbidden(BrokerError):
    """Authenticated, but not allowed."""

    status = 403
    slug = "forbidden"
    title = "Not allowed"


class PolicyDenied(Forbidden):
    """Purpose binding or a legal-basis condition refused the request."""

    slug = "policy-denied"
    title = "Refused by policy"


class NotFound(BrokerError):
    """The resource does not exist or is not visible to the caller."""

    status = 404
    slug = "not-found"
    title = "Not found"


class MethodNotAllowed(BrokerError):
    """The resource exists, the method does not."""

    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"


class Conflict(BrokerError):
    """The request conflicts with the current state."""

    status = 409
    slug = "conflict"
    title = "Conflict"


class PayloadTooLarge(BrokerError):
    """The request body is over the configured limit."""

    status = 413
    slug = "payload-too-large"
    title = "Request body too large"


class InvalidRequest(BrokerError):
    """The request is well-formed JSON but its content is invalid."""

    status = 422
    slug = "invalid-request"
    title = "Invalid request"


class RateLimited(BrokerError):
    """Too many requests in the current window."""

    status = 429
    slug = "rate-limited"
    title = "Too many requests"


class ServiceUnavailable(BrokerError):
    """A backing service (database, Redis) is unreachable; retry later."""

    status = 503
    slug = "service-unavailable"
    title = "Service temporarily unavailable"
